/* What every benchmark shares: a clock, figures printed as one Markdown
 * table, percentiles, memory readings and record data made by the racer
 * model. Benchmarks report; they never assert a time. Header only: each
 * benchmark is one program, and bench/run stitches their tables together. */
#ifndef ALLEYCAT_BENCH_H
#define ALLEYCAT_BENCH_H

#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "race/racemodel.h"
#include "race/roster.h"
#include "util/datadir.h"
#include "util/errtext.h"
#include "wire/telemetry.h"

#define BENCH_SEED 7
#define BENCH_START_MS 1620240600000LL

static inline int64_t bench_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline double bench_seconds(int64_t from_ns)
{
	return (double)(bench_ns() - from_ns) / 1e9;
}

/* Progress goes to stderr: stdout carries the table only. */
static inline void bench_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static inline void *bench_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

/* ---- the table ---------------------------------------------------- */

static inline void bench_table_head(void)
{
	printf("| benchmark | figure | measured | target |\n");
	printf("| --- | --- | ---: | --- |\n");
	fflush(stdout);
}

static inline void bench_row(const char *bench, const char *figure, const char *target,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline void bench_row(const char *bench, const char *figure, const char *target,
			     const char *fmt, ...)
{
	char measured[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(measured, sizeof(measured), fmt, ap);
	va_end(ap);
	printf("| %s | %s | %s | %s |\n", bench, figure, measured, target ? target : "");
	fflush(stdout);
}

/* 1234567.8 -> "1,234,568": big rates read at a glance. */
static inline const char *bench_count(double v, char buf[32])
{
	char digits[32];
	size_t n, out = 0;

	snprintf(digits, sizeof(digits), "%.0f", v < 0 ? 0 : v);
	n = strlen(digits);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	buf[out] = '\0';
	return buf;
}

/* ---- percentiles -------------------------------------------------- */

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v; the q-quantile (0..1) by nearest rank. */
static inline double bench_quantile(double *v, size_t n, double q, bool sorted)
{
	size_t k;

	if (n == 0)
		return 0;
	if (!sorted)
		qsort(v, n, sizeof(*v), bench_cmp_double);
	k = (size_t)(q * (double)n + 0.5);
	if (k >= 1)
		k--;
	return v[k < n ? k : n - 1];
}

/* ---- memory -------------------------------------------------------- */

/* Bytes the allocator handed out and not yet got back. */
static inline size_t bench_heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* VmRSS of a process (0 for this one), bytes; 0 when unreadable. */
static inline uint64_t bench_rss(int pid)
{
	char path[64], line[256];
	uint64_t kib = 0;
	FILE *f;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %" SCNu64, &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

/* ---- record data ---------------------------------------------------- */

static inline void bench_roster(struct roster *roster)
{
	const char *dir = datadir_find(ROSTER_RACERS_FILE);
	char err[ERR_TEXT_MAX];

	if (dir == NULL || roster_load(roster, dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench: cannot load the roster: %s\n",
			dir ? err : "no data directory (set ALLEYCAT_SHARE_DIR)");
		exit(1);
	}
}

/* A race model of `racers` racers starting at roster index `first`. */
static inline void bench_model(struct race_model *m, const struct roster *roster, int index,
			       size_t first, size_t racers, int duration)
{
	int64_t race_id = racemodel_race_id(BENCH_SEED, 1, 0, 0, (unsigned)index);

	if (racemodel_init(m, BENCH_SEED, race_id, index % TELEMETRY_CLASS_COUNT + 1, duration,
			   first, racers, roster, BENCH_START_MS) < 0) {
		fprintf(stderr, "bench: cannot set up a race model\n");
		exit(1);
	}
}

#endif
