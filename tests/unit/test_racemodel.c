/* Unit tests for the simulator's racing side: the racer model
 * (src/race/racemodel.c), its random numbers (src/util/rng.c), the roster of names
 * (src/race/roster.c) and writing records (telemetry_encode). The real data
 * files are read from $top_srcdir/data. */
#include "config.h"

#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "race/racemodel.h"
#include "race/roster.h"
#include "race/sim.h"
#include "util/errtext.h"
#include "util/rng.h"
#include "wire/telemetry.h"

#define RECORD_MAX 1024    /* above the worst case: 64 escaped control characters */

/* Pinned outputs: see test_rng_reference and test_seeded_race_is_pinned. */
#define RNG_GOLDEN_0 0x15780b2e0c2ec716ULL
#define RNG_GOLDEN_1 0x6104d9866d113a7eULL
#define GOLDEN_FIRST_RECORD \
	"{\"event\":\"update\",\"deviceTimestamp\":1620240673076,\"second\":1,\"raceId\":5400802," \
	"\"name\":\"Hayden\",\"racerId\":100,\"classId\":3,\"cadence\":32.3,\"resistance\":37.1}"
#define GOLDEN_DIGEST 0xec6d8c65aaddeb71ULL

/* The example record of the original Alleycat bikes. */
static const char example[] =
	"{\"event\":\"update\",\"deviceTimestamp\":1620240672076,\"second\":1,\"raceId\":5400802,"
	"\"name\":\"Hayden\",\"racerId\":100,\"classId\":3,\"cadence\":81.0,\"resistance\":79.0}";

static void load_real_roster(struct roster *roster)
{
	const char *top = getenv("top_srcdir");
	char dir[1024], err[ERR_TEXT_MAX];

	snprintf(dir, sizeof(dir), "%s/data", top && *top ? top : ".");
	if (roster_load(roster, dir, err, sizeof(err)) != 0)
		fail_msg("cannot load the roster from %s (set top_srcdir to the source tree): %s",
			 dir, err);
}

/* A whole race ridden second by second: records[(second - 1) * count + i]. */
struct ride {
	int duration;
	size_t count;
	struct telemetry *records;
};

static void ride_race(struct ride *ride, const struct roster *roster, uint64_t seed,
		      int64_t race_id, int class_id, int duration, size_t first, size_t count,
		      int64_t start_ms)
{
	struct race_model m;

	ride->duration = duration;
	ride->count = count;
	ride->records = calloc((size_t)duration * count, sizeof(*ride->records));
	assert_non_null(ride->records);
	assert_int_equal(racemodel_init(&m, seed, race_id, class_id, duration, first, count,
					roster, start_ms), 0);
	for (int s = 1; s <= duration; s++)
		assert_int_equal(racemodel_second(&m, s, &ride->records[(size_t)(s - 1) * count]),
				 0);
	racemodel_free(&m);
}

static const struct telemetry *at(const struct ride *ride, int second, size_t i)
{
	return &ride->records[(size_t)(second - 1) * ride->count + i];
}

static void ride_free(struct ride *ride)
{
	free(ride->records);
	ride->records = NULL;
}

static size_t encode_ok(const struct telemetry *t, char buf[RECORD_MAX])
{
	size_t len = telemetry_encode(t, buf, RECORD_MAX);

	if (len == 0)
		fail_msg("cannot encode the record of racer %lld at second %d",
			 (long long)t->racer_id, t->second);
	assert_int_equal(strlen(buf), len);
	return len;
}

/* Two records are the same when they encode the same: every field that
 * goes on the wire, byte for byte. */
static void assert_same_record(const struct telemetry *a, const struct telemetry *b)
{
	char x[RECORD_MAX], y[RECORD_MAX];

	encode_ok(a, x);
	encode_ok(b, y);
	if (strcmp(x, y) != 0)
		fail_msg("records differ:\n  %s\n  %s", x, y);
	assert_int_equal(a->output, b->output);
}

static int max_score_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Each racer's score: the best output of the race, the original's rule. */
static int64_t *scores(const struct ride *ride)
{
	int64_t *best = calloc(ride->count, sizeof(*best));

	assert_non_null(best);
	for (int s = 1; s <= ride->duration; s++)
		for (size_t i = 0; i < ride->count; i++)
			if (at(ride, s, i)->output > best[i])
				best[i] = at(ride, s, i)->output;
	return best;
}

/* ------------------------------------------------------------------------
 * Random numbers
 * ------------------------------------------------------------------------ */

static void test_rng_reference(void **state)
{
	struct rng r;

	/* splitmix64's first output from state 0, as its reference code gives. */
	assert_true(rng_mix(0) == 0xe220a8397b1dcdafULL);
	/* xoshiro256** from the state {1, 2, 3, 4}, as the reference code gives. */
	r.s[0] = 1;
	r.s[1] = 2;
	r.s[2] = 3;
	r.s[3] = 4;
	assert_true(rng_next(&r) == 11520ULL);
	assert_true(rng_next(&r) == 0ULL);
	assert_true(rng_next(&r) == 1509978240ULL);
	assert_true(rng_next(&r) == 1215971899390074240ULL);

	/* A seed is a fixed sequence: these numbers are what every --seed run
	 * depends on. */
	rng_seed(&r, 42);
	assert_true(rng_next(&r) == RNG_GOLDEN_0);
	assert_true(rng_next(&r) == RNG_GOLDEN_1);
	rng_seed(&r, 0);
	assert_true(r.s[0] | r.s[1] | r.s[2] | r.s[3]);
	assert_true(rng_hash2(1, 2) != rng_hash2(2, 1));
}

static void test_rng_below_and_range(void **state)
{
	static const uint64_t limits[] = { 1, 2, 3, 7, 1000, (1ULL << 63) + 1, UINT64_MAX };
	struct rng r;
	int buckets[6] = { 0 }, seen[4] = { 0 };

	rng_seed(&r, 7);
	assert_true(rng_below(&r, 0) == 0);
	for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++)
		for (int i = 0; i < 2000; i++)
			assert_true(rng_below(&r, limits[k]) < limits[k]);
	for (int i = 0; i < 60000; i++)
		buckets[rng_below(&r, 6)]++;
	for (int b = 0; b < 6; b++)
		if (buckets[b] < 9500 || buckets[b] > 10500)
			fail_msg("rng_below(6) gave %d in bucket %d of 60000 draws", buckets[b], b);

	for (int i = 0; i < 1000; i++) {
		int64_t v = rng_range(&r, -1, 2);

		assert_true(v >= -1 && v <= 2);
		seen[v + 1]++;
	}
	for (int b = 0; b < 4; b++)
		assert_true(seen[b] > 150);     /* both ends included */
	assert_int_equal(rng_range(&r, 5, 5), 5);
	assert_int_equal(rng_range(&r, 5, 4), 5);
	for (int i = 0; i < 100; i++) {
		int64_t v = rng_range(&r, INT64_MIN, INT64_MAX);
		(void)v;                        /* any value; must not trap */
		v = rng_range(&r, INT64_MAX - 1, INT64_MAX);
		assert_true(v >= INT64_MAX - 1);
		v = rng_range(&r, INT64_MIN, INT64_MIN + 1);
		assert_true(v <= INT64_MIN + 1);
	}
}

static void test_rng_distributions(void **state)
{
	struct rng r;
	const int n = 200000;
	double sum = 0, sq = 0, usum = 0;
	int beyond2 = 0;

	rng_seed(&r, 12345);
	for (int i = 0; i < n; i++) {
		double u = rng_uniform(&r), z = rng_normal(&r);

		assert_true(u >= 0.0 && u < 1.0);
		assert_true(z >= -6.0 && z <= 6.0);
		usum += u;
		sum += z;
		sq += z * z;
		beyond2 += fabs(z) > 2.0;
	}
	if (fabs(usum / n - 0.5) > 0.005)
		fail_msg("uniform mean %f", usum / n);
	if (fabs(sum / n) > 0.01)
		fail_msg("normal mean %f", sum / n);
	if (fabs(sqrt(sq / n) - 1.0) > 0.01)
		fail_msg("normal standard deviation %f", sqrt(sq / n));
	/* A normal has 4.55% beyond two standard deviations. */
	if (beyond2 < n * 0.040 || beyond2 > n * 0.051)
		fail_msg("%d of %d normal draws beyond 2 sd", beyond2, n);

	sq = 0;
	for (int i = 0; i < n; i++) {
		int64_t v = rng_normal_scaled(&r, 700);

		assert_true(v >= -6 * 700 && v <= 6 * 700);
		sq += (double)v * (double)v;
	}
	if (fabs(sqrt(sq / n) - 700.0) > 10.0)
		fail_msg("scaled normal standard deviation %f, expected 700", sqrt(sq / n));
	for (int i = 0; i < 1000; i++) {
		double v = rng_uniform_range(&r, -2.5, 4.0);
		assert_true(v >= -2.5 && v <= 4.0);
	}
}

/* ------------------------------------------------------------------------
 * The roster
 * ------------------------------------------------------------------------ */

static int strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_roster_real_data(void **state)
{
	struct roster roster;
	char **sorted;
	size_t n;
	int found = 0;

	load_real_roster(&roster);
	n = roster_racer_count(&roster);
	if (n < 1100 || n > 1300)
		fail_msg("%zu racer names, expected about 1200", n);
	/* Racer 100 is the Hayden of the original's example record. */
	assert_string_equal(roster_racer_name(&roster, 0), "Hayden");
	assert_int_equal(roster_racer_id(0), 100);
	assert_int_equal(roster_racer_id(n), 100 + (int64_t)n);
	/* Names repeat past the end of the list; ids do not. */
	assert_ptr_equal(roster_racer_name(&roster, n), roster_racer_name(&roster, 0));
	assert_ptr_equal(roster_racer_name(&roster, 2 * n + 5), roster_racer_name(&roster, 5));

	sorted = malloc(n * sizeof(*sorted));
	assert_non_null(sorted);
	for (size_t i = 0; i < n; i++) {
		const char *name = roster_racer_name(&roster, i);
		size_t len = strlen(name);

		assert_true(len > 0 && len <= TELEMETRY_NAME_MAX);
		assert_true(name[0] != ' ' && name[len - 1] != ' ');
		found += strcmp(name, "Zo\xc3\xab") == 0 || strcmp(name, "Jos\xc3\xa9") == 0 ||
			 strcmp(name, "Ana\xc3\xafs") == 0;
		sorted[i] = (char *)name;
	}
	assert_int_equal(found, 3);
	qsort(sorted, n, sizeof(*sorted), strptr_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			fail_msg("racer name \"%s\" appears twice", sorted[i]);
	free(sorted);

	assert_string_equal(roster_class_name(&roster, 1), "Rookie");
	assert_string_equal(roster_class_name(&roster, 6), "Legend");
	for (int c = 1; c <= TELEMETRY_CLASS_COUNT; c++) {
		assert_non_null(roster_class_name(&roster, c));
		for (int d = 1; d < c; d++)
			assert_string_not_equal(roster_class_name(&roster, c),
						roster_class_name(&roster, d));
	}
	assert_null(roster_class_name(&roster, 0));
	assert_null(roster_class_name(&roster, 7));
	assert_null(roster_class_name(&roster, -1));

	roster_free(&roster);
	assert_int_equal(roster_racer_count(&roster), 0);
	assert_null(roster_racer_name(&roster, 0));
	roster_free(&roster);                   /* twice is fine */
}

/* A temporary data directory with the given files (NULL: leave it out). */
struct tmpdata {
	char dir[256];
	char racers[300], classes[300];
};

static const char six_classes[] = "A\nB\nC\nD\nE\nF\n";

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void tmpdata_make(struct tmpdata *d, const char *racers, const char *classes)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(d->dir, sizeof(d->dir), "%s/alleycat-roster-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->racers, sizeof(d->racers), "%s/racers.txt", d->dir);
	snprintf(d->classes, sizeof(d->classes), "%s/classes.txt", d->dir);
	if (racers)
		write_file(d->racers, racers, strlen(racers));
	if (classes)
		write_file(d->classes, classes, strlen(classes));
}

static void tmpdata_remove(struct tmpdata *d)
{
	unlink(d->racers);
	unlink(d->classes);
	assert_int_equal(rmdir(d->dir), 0);
}

/* Loading must fail with an error that contains every one of the words
 * given (NULL-terminated), and leave the roster empty. */
static void load_fails(const char *racers, const char *classes, ...)
{
	struct tmpdata d;
	struct roster roster;
	char err[ERR_TEXT_MAX];
	const char *word;
	va_list ap;

	tmpdata_make(&d, racers, classes);
	memset(&roster, 0x5a, sizeof(roster));
	err[0] = '\0';
	if (roster_load(&roster, d.dir, err, sizeof(err)) != -1)
		fail_msg("loaded racers \"%s\"", racers ? racers : "(none)");
	assert_int_equal(roster_racer_count(&roster), 0);
	assert_null(roster.racers);
	assert_null(roster_class_name(&roster, 1));
	va_start(ap, classes);
	while ((word = va_arg(ap, const char *)) != NULL)
		if (strstr(err, word) == NULL)
			fail_msg("error \"%s\" does not mention \"%s\"", err, word);
	va_end(ap);
	/* The error names the file with its directory. */
	if (strstr(err, d.dir) == NULL)
		fail_msg("error \"%s\" does not name the directory %s", err, d.dir);
	roster_free(&roster);
	tmpdata_remove(&d);
}

static void test_roster_rejects_bad_files(void **state)
{
	char racers[512], name[80];

	/* 65 bytes on line 3. */
	memset(name, 'x', 65);
	name[65] = '\0';
	snprintf(racers, sizeof(racers), "Ann\nBob\n%s\nCid\n", name);
	load_fails(racers, six_classes, "racers.txt:3:", "64 bytes", NULL);
	/* 33 two-byte characters: 66 bytes. */
	racers[0] = '\0';
	strcat(racers, "Ann\n");
	for (int i = 0; i < 33; i++)
		strcat(racers, "\xc3\xa9");
	strcat(racers, "\n");
	load_fails(racers, six_classes, "racers.txt:2:", "64 bytes", NULL);

	/* Invalid UTF-8 of every kind, on line 2. */
	load_fails("Ann\nJos\xe9\n", six_classes, "racers.txt:2:", "UTF-8", NULL); /* Latin-1 */
	load_fails("Ann\n\xc3\x28x\n", six_classes, "racers.txt:2:", "UTF-8", NULL);
	load_fails("Ann\n\xc0\xafx\n", six_classes, "racers.txt:2:", "UTF-8", NULL); /* overlong */
	load_fails("Ann\n\xe0\x80\xafx\n", six_classes, "racers.txt:2:", "UTF-8", NULL);
	load_fails("Ann\n\xed\xa0\x80x\n", six_classes, "racers.txt:2:", "UTF-8", NULL); /* surrogate */
	load_fails("Ann\n\xf4\x90\x80\x80\n", six_classes, "racers.txt:2:", "UTF-8", NULL);
	load_fails("Ann\nx\xe2\x82\n", six_classes, "racers.txt:2:", "UTF-8", NULL); /* cut short */
	load_fails("Ann\n\xff\n", six_classes, "racers.txt:2:", "UTF-8", NULL);
	load_fails("Ann\n\x80\n", six_classes, "racers.txt:2:", "UTF-8", NULL);

	/* Control characters: an escape sequence, a C1 control, DEL, a NUL. */
	load_fails("Ann\nBo\x1b[31mb\n", six_classes, "racers.txt:2:", "control", NULL);
	load_fails("Ann\nBo\xc2\x9b\n", six_classes, "racers.txt:2:", "control", NULL);
	load_fails("Ann\nBo\x7f\n", six_classes, "racers.txt:2:", "control", NULL);
	{
		struct tmpdata d;
		struct roster roster;
		char err[ERR_TEXT_MAX];

		tmpdata_make(&d, NULL, six_classes);
		write_file(d.racers, "Ann\nB\0b\n", 8);
		assert_int_equal(roster_load(&roster, d.dir, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "racers.txt:2:"));
		assert_non_null(strstr(err, "NUL"));
		tmpdata_remove(&d);
	}

	/* Missing or empty files, and a class list that is not six long. */
	load_fails(NULL, six_classes, "racers.txt", "No such file", NULL);
	load_fails("Ann\n", NULL, "classes.txt", "No such file", NULL);
	load_fails("", six_classes, "racers.txt", "no racer names", NULL);
	load_fails("\n  \n\t\n", six_classes, "racers.txt", "no racer names", NULL);
	load_fails("Ann\n", "A\nB\nC\nD\nE\n", "classes.txt", "5 class names", NULL);
	load_fails("Ann\n", "A\nB\nC\nD\nE\nF\nG\n", "classes.txt:7:", "more than 6", NULL);
	memset(name, 'c', 65);
	name[65] = '\0';
	snprintf(racers, sizeof(racers), "A\nB\nC\nD\n%s\nF\n", name);
	load_fails("Ann\n", racers, "classes.txt:5:", "64 bytes", NULL);
}

static void test_roster_lenient_where_safe(void **state)
{
	struct tmpdata d;
	struct roster roster;
	char racers[512], err[ERR_TEXT_MAX], name64[65];

	/* A byte order mark, CRLF line ends, blank lines, spaces and tabs
	 * around names, no newline at the end; 64 bytes fit exactly, and 32
	 * two-byte characters do too. */
	memset(name64, 'y', 64);
	name64[64] = '\0';
	snprintf(racers, sizeof(racers),
		 "\xef\xbb\xbf" "Ann\r\n\r\n  Bob \t\r\n\n%s\n"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\n"
		 "Zo\xc3\xab \xf0\x9f\x9a\xb2\nO'Brien \"Q\" \\o/", name64);
	tmpdata_make(&d, racers, "\nRookie\r\nSport\nExpert\n\nElite\nPro\nLegend");
	if (roster_load(&roster, d.dir, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(roster_racer_count(&roster), 6);
	assert_string_equal(roster_racer_name(&roster, 0), "Ann");
	assert_string_equal(roster_racer_name(&roster, 1), "Bob");
	assert_string_equal(roster_racer_name(&roster, 2), name64);
	assert_int_equal(strlen(roster_racer_name(&roster, 3)), 64);
	assert_string_equal(roster_racer_name(&roster, 4), "Zo\xc3\xab \xf0\x9f\x9a\xb2");
	assert_string_equal(roster_racer_name(&roster, 5), "O'Brien \"Q\" \\o/");
	assert_string_equal(roster_class_name(&roster, 1), "Rookie");
	assert_string_equal(roster_class_name(&roster, 4), "Elite");
	assert_string_equal(roster_class_name(&roster, 6), "Legend");
	roster_free(&roster);

	/* A missing directory, and errors in buffers too small for them. */
	assert_int_equal(roster_load(&roster, "/nonexistent/alleycat", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/alleycat/racers.txt"));
	memset(err, '#', sizeof(err));
	assert_int_equal(roster_load(&roster, "/nonexistent/alleycat", err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(roster_load(&roster, "/nonexistent/alleycat", NULL, 0), -1);
	tmpdata_remove(&d);
}

/* ------------------------------------------------------------------------
 * The racer model
 * ------------------------------------------------------------------------ */

/* Every field of every record of a race, against the contract. */
static void check_race(const struct roster *roster, uint64_t seed, int64_t race_id,
		       int class_id, int duration, size_t first, size_t count)
{
	const int64_t start = 1620240672076;
	struct ride ride;

	ride_race(&ride, roster, seed, race_id, class_id, duration, first, count, start);
	for (int s = 1; s <= duration; s++) {
		for (size_t i = 0; i < count; i++) {
			const struct telemetry *t = at(&ride, s, i);

			if (!(t->cadence >= RACEMODEL_CADENCE_MIN &&
			      t->cadence <= RACEMODEL_CADENCE_MAX &&
			      t->resistance >= RACEMODEL_RESISTANCE_MIN &&
			      t->resistance <= RACEMODEL_RESISTANCE_MAX))
				fail_msg("seed %llu racer %lld second %d: cadence %f resistance %f",
					 (unsigned long long)seed, (long long)t->racer_id, s,
					 t->cadence, t->resistance);
			/* One decimal. */
			assert_true(t->cadence == (double)llround(t->cadence * 10) / 10.0);
			assert_true(t->resistance == (double)llround(t->resistance * 10) / 10.0);
			assert_int_equal(t->second, s);
			assert_int_equal(t->final, s == duration);
			assert_int_equal(t->device_ts, start + (int64_t)s * 1000);
			assert_int_equal(t->race_id, race_id);
			assert_int_equal(t->class_id, class_id);
			assert_int_equal(t->racer_id, 100 + (int64_t)(first + i));
			assert_string_equal(t->name, roster_racer_name(roster, first + i));
			assert_int_equal(t->output, telemetry_output(t->cadence, t->resistance));
		}
	}
	ride_free(&ride);
}

static void test_bounds(void **state)
{
	struct roster roster;

	load_real_roster(&roster);
	for (uint64_t seed = 0; seed < 100; seed++)
		check_race(&roster, seed * 0x9e3779b97f4a7c15ULL, 5400802 + (int64_t)seed,
			   1 + (int)(seed % 6), 300, (size_t)seed * 7, 30);
	/* Every class at full size, short races, a long one, and racers
	 * past the end of the name list. */
	for (int c = 1; c <= 6; c++)
		check_race(&roster, 99, 1000 + c, c, 300, 0, 1000);
	for (int d = 1; d <= 12; d++)
		check_race(&roster, 5, 77, 3, d, 0, 50);
	check_race(&roster, 5, 78, 6, 3600, 0, 20);
	check_race(&roster, 5, 79, 1, 300, roster_racer_count(&roster) - 3, 10);
	roster_free(&roster);
}

static void test_final_exactly_once(void **state)
{
	static const int durations[] = { 1, 2, 3, 60, 300 };
	struct roster roster;

	load_real_roster(&roster);
	for (size_t k = 0; k < sizeof(durations) / sizeof(durations[0]); k++) {
		struct ride ride;

		ride_race(&ride, &roster, 11, 42, 2, durations[k], 0, 25, 0);
		for (size_t i = 0; i < ride.count; i++) {
			int finals = 0;

			for (int s = 1; s <= ride.duration; s++) {
				char buf[RECORD_MAX];
				const struct telemetry *t = at(&ride, s, i);

				encode_ok(t, buf);
				if (t->final) {
					finals++;
					assert_int_equal(s, ride.duration);
					assert_non_null(strstr(buf, "\"event\":\"final\""));
				} else {
					assert_non_null(strstr(buf, "\"event\":\"update\""));
				}
			}
			assert_int_equal(finals, 1);
		}
		ride_free(&ride);
	}
	roster_free(&roster);
}

static void test_arguments_checked(void **state)
{
	struct roster roster, empty = { 0 };
	struct race_model m;
	struct telemetry t[2];

	load_real_roster(&roster);
	assert_int_equal(racemodel_init(&m, 1, 1, 0, 300, 0, 2, &roster, 0), -1);
	assert_int_equal(racemodel_init(&m, 1, 1, 7, 300, 0, 2, &roster, 0), -1);
	assert_int_equal(racemodel_init(&m, 1, 1, 3, 0, 0, 2, &roster, 0), -1);
	assert_int_equal(racemodel_init(&m, 1, 1, 3, 300, 0, 0, &roster, 0), -1);
	assert_int_equal(racemodel_init(&m, 1, 1, 3, 300, 0, 2, &empty, 0), -1);
	assert_int_equal(racemodel_init(&m, 1, 1, 3, 300, 0, 2, NULL, 0), -1);
	assert_null(m.riders);
	racemodel_free(&m);

	assert_int_equal(racemodel_init(&m, 1, 1, 3, 10, 0, 2, &roster, 0), 0);
	assert_int_equal(racemodel_second(&m, 0, t), -1);
	assert_int_equal(racemodel_second(&m, 11, t), -1);
	assert_int_equal(racemodel_second(&m, -1, t), -1);
	assert_int_equal(racemodel_second(&m, 10, t), 0);
	assert_true(t[0].final && t[1].final);
	racemodel_free(&m);
	racemodel_free(&m);
	roster_free(&roster);
}

static void test_same_seed_same_records(void **state)
{
	struct roster roster;
	struct ride a, b, other_seed, other_race, other_start;
	size_t differ_seed = 0, differ_race = 0, total;

	load_real_roster(&roster);
	ride_race(&a, &roster, 42, 5400802, 3, 300, 0, 50, 1620240672076);
	ride_race(&b, &roster, 42, 5400802, 3, 300, 0, 50, 1620240672076);
	ride_race(&other_seed, &roster, 43, 5400802, 3, 300, 0, 50, 1620240672076);
	ride_race(&other_race, &roster, 42, 5400803, 3, 300, 0, 50, 1620240672076);
	ride_race(&other_start, &roster, 42, 5400802, 3, 300, 0, 50, 1000);
	total = 300 * 50;
	for (int s = 1; s <= 300; s++) {
		for (size_t i = 0; i < 50; i++) {
			const struct telemetry *t = at(&a, s, i), *u = at(&other_start, s, i);

			assert_same_record(t, at(&b, s, i));
			differ_seed += t->cadence != at(&other_seed, s, i)->cadence;
			differ_race += t->cadence != at(&other_race, s, i)->cadence;
			/* The start moves the timestamps and nothing else. */
			assert_int_equal(u->device_ts, 1000 + (int64_t)s * 1000);
			assert_true(u->cadence == t->cadence && u->resistance == t->resistance);
		}
	}
	/* Another seed or another race is another ride, for nearly every
	 * record. */
	if (differ_seed < total * 8 / 10 || differ_race < total * 8 / 10)
		fail_msg("only %zu (seed) and %zu (race) of %zu records differ", differ_seed,
			 differ_race, total);
	ride_free(&a);
	ride_free(&b);
	ride_free(&other_seed);
	ride_free(&other_race);
	ride_free(&other_start);

	/* Profiles follow the racer from race to race, and the seed. */
	{
		struct racemodel_profile p, q;
		int same = 0;

		racemodel_profile(42, 100, &p);
		racemodel_profile(42, 100, &q);
		assert_memory_equal(&p, &q, sizeof(p));
		for (int64_t id = 100; id < 200; id++) {
			racemodel_profile(42, id, &p);
			racemodel_profile(43, id, &q);
			same += p.ability == q.ability;
			assert_true(p.ability >= 0 && p.ability <= 1000);
			assert_true(p.stamina >= 0 && p.stamina <= 1000);
			assert_true(p.aggression >= 0 && p.aggression <= 1000);
			assert_true(p.style >= -1000 && p.style <= 1000);
		}
		assert_true(same < 10);
	}
	roster_free(&roster);
}

/* A racer's ride must not depend on who else rides, in this race or in
 * others, nor on the order or spacing of the calls. */
static void test_racer_independent_of_others(void **state)
{
	struct roster roster;
	struct race_model wide, narrow, alone, other, sparse;
	struct telemetry tw[30], tn[5], ta[1], to[40], ts[30], replay[30];
	struct ride reference;

	load_real_roster(&roster);
	ride_race(&reference, &roster, 9, 777, 4, 300, 0, 30, 5000);
	assert_int_equal(racemodel_init(&wide, 9, 777, 4, 300, 0, 30, &roster, 5000), 0);
	assert_int_equal(racemodel_init(&narrow, 9, 777, 4, 300, 10, 5, &roster, 5000), 0);
	assert_int_equal(racemodel_init(&alone, 9, 777, 4, 300, 12, 1, &roster, 5000), 0);
	assert_int_equal(racemodel_init(&other, 9, 778, 4, 300, 0, 40, &roster, 5000), 0);
	assert_int_equal(racemodel_init(&sparse, 9, 777, 4, 300, 0, 30, &roster, 5000), 0);

	for (int s = 1; s <= 300; s++) {
		/* Interleaved with another race, in varying order. */
		if (s % 2)
			assert_int_equal(racemodel_second(&other, s, to), 0);
		assert_int_equal(racemodel_second(&alone, s, ta), 0);
		assert_int_equal(racemodel_second(&narrow, s, tn), 0);
		if (s % 2 == 0)
			assert_int_equal(racemodel_second(&other, s, to), 0);
		assert_int_equal(racemodel_second(&wide, s, tw), 0);

		for (size_t i = 0; i < 30; i++)
			assert_same_record(&tw[i], at(&reference, s, i));
		for (size_t i = 0; i < 5; i++)
			assert_same_record(&tn[i], &tw[10 + i]);
		assert_same_record(&ta[0], &tw[12]);

		/* Seconds asked for every 7 (an --interval), skipped ones
		 * ridden all the same. */
		if (s % 7 == 0 || s == 300) {
			assert_int_equal(racemodel_second(&sparse, s, ts), 0);
			for (size_t i = 0; i < 30; i++)
				assert_same_record(&ts[i], &tw[i]);
		}
	}
	/* Going back replays the race from its start. */
	assert_int_equal(racemodel_second(&sparse, 13, replay), 0);
	for (size_t i = 0; i < 30; i++)
		assert_same_record(&replay[i], at(&reference, 13, i));
	assert_int_equal(racemodel_second(&sparse, 13, replay), 0);
	for (size_t i = 0; i < 30; i++)
		assert_same_record(&replay[i], at(&reference, 13, i));
	assert_int_equal(racemodel_second(&sparse, 300, replay), 0);
	for (size_t i = 0; i < 30; i++)
		assert_same_record(&replay[i], at(&reference, 300, i));

	racemodel_free(&wide);
	racemodel_free(&narrow);
	racemodel_free(&alone);
	racemodel_free(&other);
	racemodel_free(&sparse);
	ride_free(&reference);
	roster_free(&roster);
}

/* FNV-1a over every record of a race, one per line. */
static uint64_t race_digest(const struct ride *ride, char first[RECORD_MAX])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int s = 1; s <= ride->duration; s++) {
		for (size_t i = 0; i < ride->count; i++) {
			char buf[RECORD_MAX];
			size_t len = encode_ok(at(ride, s, i), buf);

			if (s == 1 && i == 0)
				memcpy(first, buf, len + 1);
			buf[len++] = '\n';
			for (size_t k = 0; k < len; k++) {
				h ^= (unsigned char)buf[k];
				h *= 0x100000001b3ULL;
			}
		}
	}
	return h;
}

/* What a seed rides is pinned: the same --seed must give the same records
 * from one version to the next, and on every platform (the model is
 * integer arithmetic). Change these values only when changing the model on
 * purpose. */
static void test_seeded_race_is_pinned(void **state)
{
	struct roster roster;
	struct ride ride;
	char first[RECORD_MAX];
	uint64_t digest;

	load_real_roster(&roster);
	ride_race(&ride, &roster, 42, 5400802, 3, 300, 0, 20, 1620240672076);
	digest = race_digest(&ride, first);
	assert_string_equal(first, GOLDEN_FIRST_RECORD);
	if (digest != GOLDEN_DIGEST)
		fail_msg("seed 42 now rides differently: digest 0x%016llx",
			 (unsigned long long)digest);
	ride_free(&ride);
	roster_free(&roster);
}

/* A race is a race, not a ramp: warm-up, sprints, fatigue, all within a
 * racer's own series. */
static void test_ride_has_shape(void **state)
{
	const size_t n = 400;
	struct roster roster;
	struct ride ride;
	size_t sprinted = 0, non_monotone = 0, tired = 0;
	double start = 0, settled = 0, early = 0, late = 0;

	load_real_roster(&roster);
	ride_race(&ride, &roster, 2024, 31337, 3, 300, 0, n, 0);
	for (size_t i = 0; i < n; i++) {
		struct racemodel_profile p;
		int ups = 0, downs = 0, jump = 0;

		racemodel_profile(2024, 100 + (int64_t)i, &p);
		for (int s = 2; s <= 300; s++) {
			double d = at(&ride, s, i)->cadence - at(&ride, s - 1, i)->cadence;

			ups += d > 0;
			downs += d < 0;
		}
		non_monotone += ups > 20 && downs > 20;
		/* A sprint: cadence up by 5 rpm within 6 seconds, mid-race. */
		for (int s = 40; s <= 250 && !jump; s++)
			jump = at(&ride, s + 6, i)->cadence - at(&ride, s, i)->cadence >= 5.0;
		sprinted += jump;
		start += at(&ride, 1, i)->cadence;
		settled += at(&ride, 40, i)->cadence;
		if (p.stamina < 350) {
			double e = 0, l = 0;

			for (int s = 40; s < 110; s++)
				e += at(&ride, s, i)->cadence;
			for (int s = 200; s < 270; s++)
				l += at(&ride, s, i)->cadence;
			early += e / 70;
			late += l / 70;
			tired++;
		}
	}
	assert_int_equal(non_monotone, n);
	if (sprinted < n / 3)
		fail_msg("only %zu of %zu racers sprinted", sprinted, n);
	/* Warm-up: from near the original's start (30) to a racing pace. */
	if (start / n > 40.0 || settled / n < start / n + 15.0)
		fail_msg("mean cadence %.1f at second 1, %.1f at second 40", start / n,
			 settled / n);
	/* Fatigue: racers of little stamina slow down. */
	assert_true(tired > 20);
	if (late / tired > early / tired - 2.0)
		fail_msg("low-stamina racers: %.1f rpm early, %.1f late", early / tired,
			 late / tired);
	ride_free(&ride);
	roster_free(&roster);
}

/* The score (best output) must rank racers by ability, not tie them all. */
static void test_scores_vary(void **state)
{
	const size_t n = 1000;
	struct roster roster;
	struct ride ride, rookie, legend;
	int64_t *best, *sorted, *best_rookie, *best_legend;
	size_t distinct = 1, at_top = 0, strong = 0, weak = 0;
	double strong_sum = 0, weak_sum = 0, rookie_sum = 0, legend_sum = 0;

	load_real_roster(&roster);
	ride_race(&ride, &roster, 7, 123, 3, 300, 0, n, 0);
	best = scores(&ride);
	sorted = malloc(n * sizeof(*sorted));
	assert_non_null(sorted);
	memcpy(sorted, best, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), max_score_cmp);
	for (size_t i = 1; i < n; i++)
		distinct += sorted[i] != sorted[i - 1];
	for (size_t i = 0; i < n; i++)
		at_top += best[i] == sorted[n - 1];
	if (distinct < n * 8 / 10 || at_top > 3)
		fail_msg("%zu distinct scores of %zu, %zu racers share the top", distinct, n,
			 at_top);
	/* At least 40 points between the last and the winner. */
	assert_true(sorted[n - 1] - sorted[0] >= 400000);

	for (size_t i = 0; i < n; i++) {
		struct racemodel_profile p;

		racemodel_profile(7, 100 + (int64_t)i, &p);
		if (p.ability >= 650) {
			strong_sum += (double)best[i];
			strong++;
		} else if (p.ability <= 350) {
			weak_sum += (double)best[i];
			weak++;
		}
	}
	assert_true(strong > 50 && weak > 50);
	if (strong_sum / strong < weak_sum / weak + 200000)
		fail_msg("strong racers score %.2f on average, weak ones %.2f",
			 strong_sum / strong / 10000, weak_sum / weak / 10000);

	/* The same racers ride harder in a Legend race than in a Rookie one. */
	ride_race(&rookie, &roster, 7, 124, 1, 300, 0, 200, 0);
	ride_race(&legend, &roster, 7, 124, 6, 300, 0, 200, 0);
	best_rookie = scores(&rookie);
	best_legend = scores(&legend);
	for (size_t i = 0; i < 200; i++) {
		rookie_sum += (double)best_rookie[i];
		legend_sum += (double)best_legend[i];
	}
	if (legend_sum < rookie_sum * 1.05)
		fail_msg("mean score %.2f in Legend, %.2f in Rookie", legend_sum / 200 / 10000,
			 rookie_sum / 200 / 10000);

	free(best);
	free(sorted);
	free(best_rookie);
	free(best_legend);
	ride_free(&ride);
	ride_free(&rookie);
	ride_free(&legend);
	roster_free(&roster);
}

/* ------------------------------------------------------------------------
 * Race ids
 * ------------------------------------------------------------------------ */

static void test_race_ids(void **state)
{
	const int64_t now = 1620240672076;      /* floor(now / 300000) = 5400802 */
	const int64_t window = 540080200000000LL; /* its ids start here: 5400802 * 10^8 */
	int64_t ids[1002];

	(void)state;
	/* Without a seed: the original's id times 10^8, the run's slot times
	 * 1000, plus the index. */
	assert_int_equal(racemodel_race_id(42, 0, now, 0, 0), window);
	assert_int_equal(racemodel_race_id(42, 0, now, 17, 7), window + 17007);
	assert_int_equal(racemodel_race_id(42, 0, now, RACEMODEL_RUN_SLOTS + 17, 7), window + 17007);
	assert_int_equal(racemodel_race_id(42, 0, now + 299999 - 72076, 3, 0), window + 3000);
	assert_int_equal(racemodel_race_id(42, 0, 5400803LL * 300000, 3, 0),
			 540080300000000LL + 3000);
	for (unsigned i = 0; i < 1002; i++) {
		ids[i] = racemodel_race_id(0, 0, now, 99999, i);
		/* The last slot's 1001st race spills into the next window. */
		assert_int_equal(ids[i] / 100000000 - (i >= 1000), 5400802);
		if (i > 0)
			assert_true(ids[i] > ids[i - 1]);       /* so all distinct */
		assert_int_equal(racemodel_race_id(0, 0, now, 99999, i), ids[i]);
	}
	/* Until the year 2800, below 2^53: JSON numbers carry them exactly. */
	assert_true(racemodel_race_id(0, 0, 26000000000000LL, RACEMODEL_RUN_SLOTS - 1, 999) <
		    (1LL << 53));

	/* With a seed: the same ids again, whatever the clock or the run. */
	for (unsigned i = 0; i < 1002; i++) {
		ids[i] = racemodel_race_id(42, 1, now, 5, i);
		assert_int_equal(racemodel_race_id(42, 1, now + 987654321, 6, i), ids[i]);
		assert_int_equal(racemodel_race_id(42, 1, 0, 7, i), ids[i]);
		assert_true(ids[i] >= 10000000000LL && ids[i] < 100000000000LL);
		if (i > 0)
			assert_true(ids[i] > ids[i - 1]);
	}
	/* Other seeds, other ids; and never a clock id, even from a clock
	 * stuck in 1970. */
	assert_true(racemodel_race_id(43, 1, now, 0, 0) != ids[0]);
	assert_true(racemodel_race_id(0, 0, 0, 0, 0) >= 100000000000LL);
	assert_true(racemodel_race_id(0, 0, -5, 0, 0) >= 100000000000LL);
	{
		int clashes = 0;

		for (uint64_t seed = 0; seed < 200; seed++) {
			int64_t id = racemodel_race_id(seed, 1, now, 0, 0);

			clashes += seed != 42 && id >= ids[0] && id <= ids[999];
		}
		assert_true(clashes <= 1);
	}
}

/* The bug: two unseeded runs a few seconds apart rode the same raceIds.
 * Runs draw their slot from rng_entropy; runs of the same five minutes
 * with different slots never share an id within their first 1000 races. */
static void test_race_ids_of_two_runs(void **state)
{
	const int64_t now = 1796400000000;      /* a few seconds apart, one window */
	uint64_t runs[64];
	int same = 0;

	(void)state;
	for (int i = 0; i < 64; i++) {
		runs[i] = rng_entropy();
		for (int k = 0; k < i; k++)
			same += runs[i] == runs[k];
	}
	assert_int_equal(same, 0);
	for (uint64_t a = 0; a < 4; a++)
		for (uint64_t b = a + 1; b < 5; b++)
			for (unsigned i = 0; i < 1000; i++)
				for (unsigned k = 0; k < 1000; k += 37)
					assert_true(racemodel_race_id(0, 0, now, a * 9973, i) !=
						    racemodel_race_id(0, 0, now + 4000, b * 9973, k));
}

/* What a simulator rides: its own ids, race after race (--loop), the same
 * again for a seed, and one race it was told to join with --race-id. */
static void test_sim_race_ids(void **state)
{
	struct sim_options o, seeded, join;
	const int64_t started = 1796400000000;
	/* Neighbouring slots: the closest two runs' ids can be. */
	const uint64_t run_a = 7 * RACEMODEL_RUN_SLOTS + 12345, run_b = 12346;

	(void)state;
	sim_options_defaults(&o);
	seeded = o;
	seeded.have_seed = true;
	seeded.seed = 42;
	join = o;
	join.have_race_id = true;
	join.race_id = 28813000000;
	for (unsigned i = 0; i < 2000; i++) {
		int64_t a = sim_race_id(&o, run_a, started, i);

		if (i > 0)
			assert_true(a > sim_race_id(&o, run_a, started, i - 1));
		if (i < 1000)
			assert_true(a != sim_race_id(&o, run_b, started + 3000, i));
		assert_int_equal(sim_race_id(&seeded, run_a, started, i),
				 sim_race_id(&seeded, run_b, started + 3000, i));
		assert_int_equal(sim_race_id(&join, run_a, started, i), 28813000000);
		join.have_seed = i % 2;
		assert_int_equal(sim_race_id(&join, run_b, started + 3000, i), 28813000000);
	}
}

/* A race's class follows from its id: sims joining it agree on it, and the
 * classes of a run's races still spread over all six. */
static void test_race_class(void **state)
{
	int seen[TELEMETRY_CLASS_COUNT + 1] = { 0 };

	(void)state;
	for (int64_t id = 540080200000000LL; id < 540080200000600LL; id++) {
		int c = racemodel_race_class(id);

		assert_true(c >= 1 && c <= TELEMETRY_CLASS_COUNT);
		assert_int_equal(racemodel_race_class(id), c);
		seen[c]++;
	}
	for (int c = 1; c <= TELEMETRY_CLASS_COUNT; c++)
		assert_true(seen[c] > 60 && seen[c] < 140);
}

/* ------------------------------------------------------------------------
 * Writing records
 * ------------------------------------------------------------------------ */

static void fill_example(struct telemetry *t)
{
	memset(t, 0, sizeof(*t));
	t->device_ts = 1620240672076;
	t->second = 1;
	t->race_id = 5400802;
	strcpy(t->name, "Hayden");
	t->racer_id = 100;
	t->class_id = 3;
	t->cadence = 81.0;
	t->resistance = 79.0;
	t->output = telemetry_output(81.0, 79.0);
}

static void test_encode_design_example(void **state)
{
	struct telemetry t;
	char buf[RECORD_MAX], small[RECORD_MAX];
	size_t len;

	fill_example(&t);
	len = encode_ok(&t, buf);
	assert_string_equal(buf, example);
	assert_int_equal(len, strlen(example));

	t.final = true;
	encode_ok(&t, buf);
	assert_memory_equal(buf, "{\"event\":\"final\",\"deviceTimestamp\":", 35);

	/* The record and its NUL must fit; anything smaller gives 0 and an
	 * empty string. */
	t.final = false;
	for (size_t size = 0; size <= len; size++) {
		memset(small, '#', sizeof(small));
		assert_int_equal(telemetry_encode(&t, small, size), 0);
		if (size > 0)
			assert_int_equal(small[0], '\0');
		assert_int_equal(small[size], '#');
	}
	memset(small, '#', sizeof(small));
	assert_int_equal(telemetry_encode(&t, small, len + 1), len);
	assert_string_equal(small, example);
}

static void test_encode_numbers(void **state)
{
	static const struct {
		double value;
		const char *text;
	} cases[] = {
		{ 81.0, "81.0" }, { 30.0, "30.0" }, { 90.0, "90.0" }, { 0.0, "0.0" },
		{ 81.3, "81.3" }, { 33.7, "33.7" }, { 85.9, "85.9" }, { 0.1, "0.1" },
		{ 81.04, "81.0" }, { 81.06, "81.1" }, { 89.96, "90.0" }, { 250.0, "250.0" },
		{ -0.5, "-0.5" }, { -0.04, "0.0" }, { 12345.67, "12345.7" },
	};
	struct telemetry t;
	char buf[RECORD_MAX], want[64];

	fill_example(&t);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		t.cadence = cases[k].value;
		t.resistance = cases[k].value;
		encode_ok(&t, buf);
		snprintf(want, sizeof(want), "\"cadence\":%s,\"resistance\":%s}", cases[k].text,
			 cases[k].text);
		if (strstr(buf, want) == NULL)
			fail_msg("%g encodes as %s", cases[k].value, buf);
	}
	t.cadence = NAN;
	assert_int_equal(telemetry_encode(&t, buf, sizeof(buf)), 0);
	t.cadence = INFINITY;
	assert_int_equal(telemetry_encode(&t, buf, sizeof(buf)), 0);
	t.cadence = 81.0;
	t.resistance = 1e300;
	assert_int_equal(telemetry_encode(&t, buf, sizeof(buf)), 0);

	/* Big integers stay integers. */
	fill_example(&t);
	t.race_id = INT64_MAX;
	t.device_ts = -1;
	encode_ok(&t, buf);
	assert_non_null(strstr(buf, "\"deviceTimestamp\":-1,"));
	assert_non_null(strstr(buf, "\"raceId\":9223372036854775807,"));
}

/* In a locale with a decimal comma, printf would write "81,0": the record
 * must not change. Tried with whichever such locale the machine has. */
static void test_encode_ignores_locale(void **state)
{
	static const char *const locales[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
					       "fr_FR.utf8", "nl_NL.UTF-8", "de_DE", NULL };
	struct telemetry t;
	char buf[RECORD_MAX];
	const char *used = NULL;

	for (size_t i = 0; locales[i] && used == NULL; i++)
		if (setlocale(LC_NUMERIC, locales[i]) != NULL)
			used = locales[i];
	if (used == NULL)
		skip();                 /* no decimal-comma locale installed */
	assert_string_equal(localeconv()->decimal_point, ",");
	fill_example(&t);
	t.cadence = 81.3;
	encode_ok(&t, buf);
	setlocale(LC_NUMERIC, "C");
	assert_non_null(strstr(buf, "\"cadence\":81.3,\"resistance\":79.0}"));
}

static void round_trip(const struct telemetry *t)
{
	struct telemetry back;
	char buf[RECORD_MAX];
	const char *reason = NULL;
	size_t len = encode_ok(t, buf);

	memset(&back, 0x5a, sizeof(back));
	if (telemetry_decode(buf, len, &back, &reason) != 0)
		fail_msg("our own record is refused (%s): %s", reason, buf);
	assert_int_equal(back.final, t->final);
	assert_int_equal(back.device_ts, t->device_ts);
	assert_int_equal(back.second, t->second);
	assert_int_equal(back.race_id, t->race_id);
	assert_int_equal(back.racer_id, t->racer_id);
	assert_int_equal(back.class_id, t->class_id);
	assert_string_equal(back.name, t->name);
	if (back.cadence != t->cadence || back.resistance != t->resistance)
		fail_msg("%.17g/%.17g came back as %.17g/%.17g: %s", t->cadence, t->resistance,
			 back.cadence, back.resistance, buf);
	assert_int_equal(back.output, t->output);
}

static void test_encode_round_trip(void **state)
{
	static const char *const names[] = {
		"Hayden", "", "Zo\xc3\xab", "Jos\xc3\xa9", "Ana\xc3\xafs",
		"O'Brien \"Speedy\"", "back\\slash", "\\\"\\", "\"", "\\",
		"tab\there", "line\nbreak\r", "ctl\x01\x1f\x7f end", "\x1b[31mred\x1b[0m",
		"\xf0\x9f\x9a\xb2 bike", "\xe6\x97\xa5\xe6\x9c\xac", "</script>", "a/b",
		"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\""
		"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",
		"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
		"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
		"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
		"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01",
	};
	struct telemetry t;
	struct rng r;
	char buf[RECORD_MAX];

	rng_seed(&r, 99);
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		fill_example(&t);
		assert_true(strlen(names[k]) <= TELEMETRY_NAME_MAX);
		strcpy(t.name, names[k]);
		for (int i = 0; i < 50; i++) {
			t.final = i % 2;
			t.second = (int32_t)rng_range(&r, 1, TELEMETRY_SECOND_MAX);
			t.race_id = rng_range(&r, 0, INT64_MAX);
			t.racer_id = rng_range(&r, 0, INT64_MAX);
			t.class_id = (int32_t)rng_range(&r, 1, 6);
			t.device_ts = rng_range(&r, 0, INT64_MAX);
			t.cadence = (double)rng_range(&r, 0, 2500) / 10.0;
			t.resistance = (double)rng_range(&r, 0, 1000) / 10.0;
			t.output = telemetry_output(t.cadence, t.resistance);
			round_trip(&t);
		}
	}
	/* Escapes as JSON says, control characters as \u00XX. */
	fill_example(&t);
	strcpy(t.name, "a\"b\\c\x01\x1f\x7f\xc3\xab");
	encode_ok(&t, buf);
	assert_non_null(strstr(buf, "\"name\":\"a\\\"b\\\\c\\u0001\\u001f\\u007f\xc3\xab\","));

	/* Every tenth either number can take. */
	fill_example(&t);
	for (int k = 0; k <= 2500; k++) {
		t.cadence = k / 10.0;
		t.resistance = (k % 1001) / 10.0;
		t.output = telemetry_output(t.cadence, t.resistance);
		round_trip(&t);
	}
}

/* The model's own records, every one, through the wire format and back. */
static void test_model_records_round_trip(void **state)
{
	struct roster roster;
	struct ride ride;

	load_real_roster(&roster);
	/* Start past the end of the list so accented names are in the mix. */
	ride_race(&ride, &roster, 3, 5400802, 5, 60, 300, 500, 1620240672076);
	for (int s = 1; s <= 60; s++)
		for (size_t i = 0; i < 500; i++)
			round_trip(at(&ride, s, i));
	ride_free(&ride);
	roster_free(&roster);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_reference),
		cmocka_unit_test(test_rng_below_and_range),
		cmocka_unit_test(test_rng_distributions),
		cmocka_unit_test(test_roster_real_data),
		cmocka_unit_test(test_roster_rejects_bad_files),
		cmocka_unit_test(test_roster_lenient_where_safe),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_final_exactly_once),
		cmocka_unit_test(test_arguments_checked),
		cmocka_unit_test(test_same_seed_same_records),
		cmocka_unit_test(test_racer_independent_of_others),
		cmocka_unit_test(test_seeded_race_is_pinned),
		cmocka_unit_test(test_ride_has_shape),
		cmocka_unit_test(test_scores_vary),
		cmocka_unit_test(test_race_ids),
		cmocka_unit_test(test_race_ids_of_two_runs),
		cmocka_unit_test(test_sim_race_ids),
		cmocka_unit_test(test_race_class),
		cmocka_unit_test(test_encode_design_example),
		cmocka_unit_test(test_encode_numbers),
		cmocka_unit_test(test_encode_ignores_locale),
		cmocka_unit_test(test_encode_round_trip),
		cmocka_unit_test(test_model_records_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
