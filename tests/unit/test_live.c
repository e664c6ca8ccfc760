/* Unit tests for src/race/live.c: a window that ends inside a KPL aggregate
 * (--window-records), checkpointed there and resumed with nothing applied
 * twice; and when the history database cannot be written:
 * the live standings go on, the failure shows in the statistics the
 * monitor view reads, each window tries again, and once the database is
 * writable the next window saves everything, once. The consumer points at
 * a port where no hub listens, so records go straight into the engine and
 * races end by the grace period. */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "dbfiles.h"
#include "race/engine.h"
#include "race/live.h"
#include "race/roster.h"
#include "race/store.h"
#include "util/errtext.h"

#define RACE 7
#define GRACE_S 5
#define T0 1700000000000ll             /* arrival time of the records */

static char sprint[] = "Sprint";
static const struct roster roster = { .classes = { sprint } };   /* class 1 only */

struct fixture {
	char dir[64];
	char path[PATH_MAX];
	struct live *l;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (temp_dir_make(f->dir, sizeof(f->dir), "alleycat-live") < 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/history.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	live_close(f->l, 0);
	rc = temp_dir_remove(f->dir);
	free(f);
	return rc;
}

static struct live *open_live(struct fixture *f, uint64_t window_records)
{
	struct live_config config = {
		/* Port 1: nothing listens, the consumer only retries. */
		.endpoint = { .host = "127.0.0.1", .port = 1 },
		.stream = "races", .consumer = "board", .from = CONSUMER_FROM_TRIM_HORIZON,
		.db_path = f->path, .window_s = 1, .grace_s = GRACE_S, .duration = 10,
		.roster = &roster, .window_records = window_records,
	};
	char err[ERR_TEXT_MAX] = "";

	f->l = live_open(&config, err, sizeof(err));
	if (f->l == NULL)
		fail_msg("live_open: %s", err);
	return f->l;
}

/* Two racers over three seconds of race RACE, every record twice (as at
 * least once delivery may bring them). */
static void ride(struct live *l)
{
	for (int copy = 0; copy < 2; copy++)
		for (int64_t racer = 1; racer <= 2; racer++)
			for (int second = 1; second <= 3; second++) {
				struct telemetry t = {
					.second = second, .race_id = RACE, .racer_id = racer,
					.class_id = 1, .cadence = 80, .resistance = 60,
					.output = 10000 * (racer * 10 + second),
				};
				snprintf(t.name, sizeof(t.name), "Racer %lld", (long long)racer);
				engine_apply(live_engine(l), &t, T0);
			}
}

static struct live_stats stats_of(struct live *l)
{
	struct live_stats s;

	live_stats(l, &s);
	return s;
}

static int64_t query_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* A batch of one shard: user records of racer 1 and 2, record i of
 * Kinesis record origins[at[i]] with sub-sequence sub[i], the last of its
 * aggregate when last[i]. */
static struct consumer_batch *batch_of(const char *const *origins, size_t origin_count,
				       const int *at, const int *sub, const bool *last,
				       const int64_t *racer, const int *second, size_t n)
{
	struct consumer_batch *b = calloc(1, sizeof(*b) + n * sizeof(b->records[0]));

	assert_non_null(b);
	b->origins = calloc(origin_count, sizeof(*b->origins));
	assert_non_null(b->origins);
	for (size_t i = 0; i < origin_count; i++)
		snprintf(b->origins[i], sizeof(b->origins[i]), "%s", origins[i]);
	snprintf(b->shard_id, sizeof(b->shard_id), "shardId-000000000000");
	snprintf(b->continuation, sizeof(b->continuation), "%s", origins[origin_count - 1]);
	b->millis_behind = 1000;
	for (size_t i = 0; i < n; i++) {
		struct consumer_record *r = &b->records[b->count++];
		r->t = (struct telemetry){ .second = second[i], .race_id = RACE,
					   .racer_id = racer[i], .class_id = 1, .cadence = 80,
					   .resistance = 60, .output = 1000 * second[i] };
		snprintf(r->t.name, sizeof(r->t.name), "Racer %lld", (long long)racer[i]);
		r->arrival_ms = T0;
		r->origin = (uint32_t)at[i];
		r->sub = (uint32_t)sub[i];
		r->more = !last[i];
	}
	return b;
}

/* Two aggregates (records 100 and 101: three and two user records), a
 * window of four records: the commit falls inside 101, after its first
 * user record, and says so (sub_sequence 1). Killed before the next commit
 * and restarted, the consumer reads 101 again from its start: its first
 * user record is passed over, its second applied, nothing counted twice. */
static void test_window_ends_inside_an_aggregate(void **state)
{
	struct fixture *f = *state;
	static const char *const first[] = { "100", "101" }, *const again[] = { "101" };
	static const int at[] = { 0, 0, 0, 1, 1 }, sub[] = { 0, 1, 2, 0, 1 };
	static const bool last[] = { false, false, true, false, true };
	static const int64_t racer[] = { 1, 1, 1, 2, 2 };
	static const int second[] = { 1, 2, 3, 1, 2 };
	struct consumer_batch *b = batch_of(first, 2, at, sub, last, racer, second, 5);
	struct live *l = open_live(f, 4);

	live_apply(l, b, T0);
	consumer_batch_free(b);
	assert_int_equal(stats_of(l).applied, 5);
	assert_int_equal(stats_of(l).windows, 1);
	assert_int_equal(query_int(f->path, "SELECT sequence_number FROM checkpoints"), 101);
	assert_int_equal(query_int(f->path, "SELECT sub_sequence FROM checkpoints"), 1);
	live_close(l, 0);       /* as kill -9: nothing more committed */

	l = f->l = open_live(f, 4);
	b = batch_of(again, 1, (const int[]){ 0, 0 }, (const int[]){ 0, 1 },
		     (const bool[]){ false, true }, racer + 3, second + 3, 2);
	live_apply(l, b, T0);
	consumer_batch_free(b);
	assert_int_equal(stats_of(l).applied, 1);
	assert_int_equal(stats_of(l).duplicates, 0);
	live_commit(l, T0 + 1000);
	assert_int_equal(query_int(f->path, "SELECT sub_sequence FROM checkpoints"), 0);
}

/* A window while the database is read-only: nothing saved, the race kept
 * live, the failure counted and named for the monitor view. */
static void commit_fails(struct live *l, int64_t now_ms, uint64_t failures)
{
	struct live_stats s;

	live_commit(l, now_ms);
	s = stats_of(l);
	assert_int_equal(s.commit_failures, failures);
	if (strstr(s.store_error, "the history database is read-only") == NULL)
		fail_msg("the monitor's error does not say the database is read-only: '%s'",
			 s.store_error);
	assert_non_null(engine_find_race(live_engine(l), RACE));
}


/* The window after the database became writable saves the race that
 * ended meanwhile, once: two results, a racer count of two, the best
 * outputs (not doubled by the duplicates), no live state left, and the
 * class names the failed windows could not write. */
static void commit_saves_everything(struct fixture *f, int64_t now_ms)
{
	struct live_stats s;

	assert_true(read_only_files(f->path, false));
	live_commit(f->l, now_ms);
	s = stats_of(f->l);
	if (s.store_error[0] != '\0')
		fail_msg("the window after the database became writable: %s", s.store_error);
	assert_null(engine_find_race(live_engine(f->l), RACE));
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM results WHERE race_id = 7"), 2);
	assert_int_equal(query_int(f->path, "SELECT racers FROM races WHERE race_id = 7"), 2);
	assert_int_equal(query_int(f->path, "SELECT max(score) FROM results"), 230000);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM live_races"), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM classes WHERE name = 'Sprint'"),
			 1);
}

/* A board started on a database it may not write used to exit. This
 * proves it starts, shows why it cannot save from the start, keeps the
 * race live through windows that fail, and saves it once the file is
 * writable (which takes the store a new connection). */
static void test_started_read_only(void **state)
{
	struct fixture *f = *state;
	char err[ERR_TEXT_MAX];
	struct store *s = store_open(f->path, err, sizeof(err));

	if (s == NULL)
		fail_msg("store_open: %s", err);
	store_close(s);
	if (!read_only_files(f->path, true))
		skip();         /* no immutable attribute on this file system */
	open_live(f, 0);
	if (strstr(stats_of(f->l).store_error, "read-only") == NULL)
		fail_msg("no error shown at the start: '%s'", stats_of(f->l).store_error);
	ride(f->l);
	commit_fails(f->l, T0 + 1000, 1);
	commit_fails(f->l, T0 + (GRACE_S + 1) * 1000, 2);      /* the race has ended */
	commit_saves_everything(f, T0 + (GRACE_S + 2) * 1000);
	assert_int_equal(stats_of(f->l).windows, 1);
}

/* The database made read-only under a running board (root only: chmod
 * stops no open descriptor). This proves the live race committed before
 * stays, the windows that fail leave it live, and the first window after
 * saves it once. */
static void test_made_read_only(void **state)
{
	struct fixture *f = *state;
	struct live *l = open_live(f, 0);

	ride(l);
	live_commit(l, T0 + 1000);
	assert_int_equal(stats_of(l).windows, 1);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM live_races"), 1);
	if (!read_only_stops_open_files() || !read_only_files(f->path, true))
		skip();         /* only root can make an open file read-only */
	commit_fails(l, T0 + (GRACE_S + 1) * 1000, 1);
	commit_fails(l, T0 + (GRACE_S + 2) * 1000, 2);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM live_races"), 1);
	commit_saves_everything(f, T0 + (GRACE_S + 3) * 1000);
	assert_int_equal(stats_of(l).windows, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_window_ends_inside_an_aggregate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_started_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_made_read_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
