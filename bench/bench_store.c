/* The history store: the end of a race, and history queries over a
 * history of 1,000,000 results.
 *
 * End of race: store_finish_race of a 1,000-racer race (results, racer
 * names, personal bests, per-second class bests) inside a window
 * transaction, timed from store_begin to store_commit, as the consumer
 * does it. The history is built by exactly that, 1,000 races of 1,000
 * racers drawn from 20,000 racers (each rides about 50 races), so the
 * end-of-race figures cover a history growing from empty to 1,000,000
 * results.
 *
 * Queries, on the full history, each run many times over different
 * classes and racers (the first run of each, on a freshly opened
 * database, reported apart as "cold"):
 *   class top 100     store_class_leaders(class, 100, 0)
 *   racer's races     store_racer_races(racer, 100, 0): all of them
 *   race results      store_race(race): 1,000 rows in rank order
 *
 * The store turns SQLite's automatic checkpoint off; consumers checkpoint
 * after each window, outside its transaction, and so does this benchmark
 * (untimed, reported apart). --checkpoint-apart checkpoints every ten races
 * instead. (An auto extension hands the connection over as it opens.)
 *
 * Usage: bench_store [--quick] [--checkpoint-apart]
 *        (--quick: 100 races: 100,000 results) */
#include "config.h"

#include <sqlite3.h>
#include <unistd.h>

#include "bench.h"
#include "race/store.h"
#include "util/errtext.h"

#define RACERS 1000
#define POOL 20000
#define DURATION 300
#define QUERY_RUNS 200

struct history {
	struct store *store;
	char dir[64], path[96];
	struct roster roster;
	struct store_result results[RACERS];
	int64_t second_best[DURATION], second_racer[DURATION];
	double *finish_ms;              /* per race: begin to commit */
	double *commit_ms;              /* of which the commit (and any checkpoint) */
	uint64_t written;               /* bytes written by the races' windows */
	double checkpoint_ms;           /* --checkpoint-apart: all checkpoints */
	int races;
	uint64_t state;
};

static sqlite3 *last_db;                /* the connection store_open made */
static bool checkpoint_apart;

static int on_open(sqlite3 *db, char **err, const void *api)
{
	last_db = db;
	return SQLITE_OK;
}

/* A checkpoint of the WAL as a background thread would run it; ms. */
static double checkpoint(void)
{
	int64_t start = bench_ns();
	int log = 0, done = 0;

	if (sqlite3_wal_checkpoint_v2(last_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) !=
	    SQLITE_OK)
		bench_note("bench_store: checkpoint: %s", sqlite3_errmsg(last_db));
	return (double)(bench_ns() - start) / 1e6;
}

static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/* Racer k of race n: 1,000 distinct racers of the pool (7919 is prime to
 * 20,000, so consecutive k never meet). */
static int64_t racer_of(int n, int k)
{
	return ROSTER_FIRST_RACER_ID + ((int64_t)(n * RACERS + k) * 7919) % POOL;
}

static void make_race(struct history *h, int n, struct store_race *race)
{
	for (int k = 0; k < RACERS; k++) {
		struct store_result *r = &h->results[k];
		int64_t id = racer_of(n, k);

		r->racer_id = id;
		r->name = roster_racer_name(&h->roster, (size_t)(id - ROSTER_FIRST_RACER_ID));
		r->score = 1000000 + (int64_t)(next_random(&h->state) % 1500000);
		r->output = r->score - (int64_t)(next_random(&h->state) % 400000);
		r->cadence = 60.0 + (double)(k % 300) / 10.0;
		r->resistance = 40.0 + (double)(k % 400) / 10.0;
		r->second = DURATION;
	}
	for (int s = 0; s < DURATION; s++) {
		h->second_best[s] = 1500000 + (int64_t)(next_random(&h->state) % 1000000);
		h->second_racer[s] = racer_of(n, s);
	}
	*race = (struct store_race){
		.race_id = 5400000 + n,
		.class_id = n % 6 + 1,
		.duration = DURATION,
		.started_ms = BENCH_START_MS + (int64_t)n * 300000,
		.ended_ms = BENCH_START_MS + (int64_t)n * 300000 + 330000,
		.results = h->results,
		.result_count = RACERS,
		.second_best_output = h->second_best,
		.second_best_racer = h->second_racer,
	};
}

static void die_store(struct history *h, const char *what)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, store_error(h->store));
	exit(1);
}

static void open_store(struct history *h)
{
	char err[ERR_TEXT_MAX];

	h->store = store_open(h->path, err, sizeof(err));
	if (h->store == NULL) {
		fprintf(stderr, "bench_store: %s\n", err);
		exit(1);
	}
	if (checkpoint_apart)
		sqlite3_wal_autocheckpoint(last_db, 0);
}

/* Bytes this process has handed to write(2) and friends. */
static uint64_t bytes_written(void)
{
	char line[128];
	uint64_t n = 0;
	FILE *f = fopen("/proc/self/io", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "wchar: %" SCNu64, &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* The window of the race's end: begin, finish, commit. */
static void finish_races(struct history *h)
{
	struct store_race race;
	uint64_t written = bytes_written();

	for (int n = 0; n < h->races; n++) {
		int64_t start, commit;

		make_race(h, n, &race);
		start = bench_ns();
		if (store_begin(h->store) < 0 || store_finish_race(h->store, &race) < 0)
			die_store(h, "store_finish_race");
		commit = bench_ns();
		if (store_commit(h->store) < 0)
			die_store(h, "store_commit");
		h->finish_ms[n] = (double)(bench_ns() - start) / 1e6;
		h->commit_ms[n] = (double)(bench_ns() - commit) / 1e6;
		/* Consumers checkpoint after every window (live.c), outside
		 * the window's transaction; --checkpoint-apart every ten. */
		if (!checkpoint_apart || n % 10 == 9)
			h->checkpoint_ms += checkpoint();
		if (n % 100 == 99)
			bench_note("bench_store: %d races stored", n + 1);
	}
	h->written = bytes_written() - written;
}

static void results_finish(struct history *h)
{
	int first = h->races < 50 ? h->races : 50, last = h->races / 10;
	double *v = bench_alloc(h->races * sizeof(*v));

	double p50, p99;

	/* The quantile sorts v: read the maximum only after it. */
	memcpy(v, h->finish_ms, first * sizeof(*v));
	p50 = bench_quantile(v, first, 0.5, false);
	bench_row("store", checkpoint_apart
		  ? "end of race, checkpoints every 10 races, first 50 races: p50 / max"
		  : "end of race, 1,000 racers, first 50 races (empty history): p50 / max",
		  "<= 20 ms", "%.1f / %.1f ms", p50, v[first - 1]);
	memcpy(v, h->finish_ms + h->races - last, last * sizeof(*v));
	p50 = bench_quantile(v, last, 0.5, false);
	p99 = bench_quantile(v, last, 0.99, true);
	bench_row("store", checkpoint_apart
		  ? "end of race, checkpoints every 10 races, last 10%: p50 / p99 / max"
		  : "end of race, 1,000 racers, last 10% of races (full history): p50 / p99 / max",
		  "<= 20 ms", "%.1f / %.1f / %.1f ms", p50, p99, v[last - 1]);
	memcpy(v, h->commit_ms + h->races - last, last * sizeof(*v));
	bench_row("store", "  of which the commit (the WAL write): p50", "", "%.1f ms",
		  bench_quantile(v, last, 0.5, false));
	bench_row("store", "  bytes written per race's window, mean of all races", "", "%.1f MiB",
		  (double)h->written / h->races / 1048576.0);
	bench_row("store", checkpoint_apart ? "  checkpoints every 10 races: mean per race"
					    : "  the checkpoint after each window: mean per race",
		  "", "%.1f ms", h->checkpoint_ms / h->races);
	free(v);
}

static size_t rows;

static void count_leader(void *user, const struct store_leader_row *row)
{
	rows++;
}

static void count_racer(void *user, const struct store_racer_row *row)
{
	rows++;
}

static void count_race(void *user, const struct store_race_row *row)
{
	rows++;
}

static void count_result(void *user, const struct store_result_row *row)
{
	rows++;
}

enum query { Q_LEADERS, Q_RACER, Q_RACE };

static void run_query(struct history *h, enum query q, int i)
{
	int rc = 0;

	switch (q) {
	case Q_LEADERS:
		rc = store_class_leaders(h->store, i % 6 + 1, 100, 0, count_leader, NULL);
		break;
	case Q_RACER:
		rc = store_racer_races(h->store, racer_of(i, i % RACERS), 100, 0, count_racer,
				       NULL);
		break;
	case Q_RACE:
		rc = store_race(h->store, 5400000 + (i * 37) % h->races, count_race, count_result,
				NULL);
		break;
	}
	if (rc < 0)
		die_store(h, "query");
}

/* Times QUERY_RUNS runs of a query; the first is the cold one. */
static void time_query(struct history *h, enum query q, const char *figure)
{
	double v[QUERY_RUNS], cold, p50, p99;
	size_t per_run = 0;

	for (int i = 0; i < QUERY_RUNS; i++) {
		int64_t start = bench_ns();

		rows = 0;
		run_query(h, q, i);
		v[i] = (double)(bench_ns() - start) / 1e6;
		per_run = rows;
	}
	cold = v[0];
	p50 = bench_quantile(v, QUERY_RUNS, 0.5, false);
	p99 = bench_quantile(v, QUERY_RUNS, 0.99, true);
	bench_row("store", figure, "<= 5 ms", "%.2f / %.2f / %.2f ms (%zu rows)", p50, p99, cold,
		  per_run);
}

static void results_queries(struct history *h)
{
	char figure[160], count[32];
	const char *what[] = { "class top 100", "one racer's races (all of them)",
			       "one race's results (1,000 rows)" };

	store_close(h->store);
	open_store(h);          /* cold: a fresh connection, an empty page cache */
	for (int q = Q_LEADERS; q <= Q_RACE; q++) {
		snprintf(figure, sizeof(figure), "%s over %s results: p50 / p99 / cold", what[q],
			 bench_count((double)h->races * RACERS, count));
		time_query(h, (enum query)q, figure);
	}
}

int main(int argc, char **argv)
{
	bool quick = false;
	struct history h = { .state = 0x9e3779b97f4a7c15ULL };
	char cmd[160];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "--checkpoint-apart") == 0) {
			checkpoint_apart = true;
		} else {
			fprintf(stderr, "usage: bench_store [--quick] [--checkpoint-apart]\n");
			return 2;
		}
	}
	h.races = quick ? 100 : 1000;
	sqlite3_auto_extension((void (*)(void))on_open);
	bench_roster(&h.roster);
	snprintf(h.dir, sizeof(h.dir), "/tmp/alleycat-bench-XXXXXX");
	if (mkdtemp(h.dir) == NULL) {
		perror("bench_store: mkdtemp");
		return 1;
	}
	snprintf(h.path, sizeof(h.path), "%s/history.db", h.dir);
	h.finish_ms = bench_alloc(h.races * sizeof(*h.finish_ms));
	h.commit_ms = bench_alloc(h.races * sizeof(*h.commit_ms));
	open_store(&h);
	bench_table_head();
	finish_races(&h);
	results_finish(&h);
	if (!checkpoint_apart)
		results_queries(&h);
	store_close(h.store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h.dir);
	if (system(cmd) != 0)
		bench_note("bench_store: could not remove %s", h.dir);
	roster_free(&h.roster);
	return 0;
}
