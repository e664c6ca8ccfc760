/* Unit tests for src/race/store.c: the history database. Opening (new, reopened,
 * too new, not a database), checkpoints and live state, finished races and
 * their merges, personal and per-second bests, the history queries and
 * their plans, and transactions. Each test works in its own temporary
 * directory under /tmp; a second connection, opened with the plain SQLite
 * API, looks at the file the way the stock sqlite3 shell would. */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "dbfiles.h"
#include "race/store.h"
#include "util/errtext.h"

#define ENDED_BASE 1700000000000ll
#define ROWS_MAX 512

/* ------------------------------------------------------------------ */
/* Fixture: a temporary directory and a store in it                    */
/* ------------------------------------------------------------------ */

struct fixture {
	char dir[64];
	char path[PATH_MAX];
	struct store *s;
};

/* The database goes in a directory that does not exist yet: opening
 * creates it. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (temp_dir_make(f->dir, sizeof(f->dir), "alleycat-store") < 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/sub/dir/history.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	store_close(f->s);
	rc = temp_dir_remove(f->dir);
	free(f);
	return rc;
}

static struct store *open_ok(const char *path)
{
	char err[ERR_TEXT_MAX] = "";
	struct store *s = store_open(path, err, sizeof(err));

	if (s == NULL)
		fail_msg("store_open(%s): %s", path, err);
	return s;
}

static struct store *open_fixture(void **state)
{
	struct fixture *f = *state;

	f->s = open_ok(f->path);
	return f->s;
}

/* Reopens the fixture's store, as a restarted consumer would. */
static struct store *reopen(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	f->s = NULL;
	return open_fixture(state);
}

/* ------------------------------------------------------------------ */
/* A second connection                                                 */
/* ------------------------------------------------------------------ */

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		fail_msg("sqlite3_open_v2(%s): %s", path, db ? sqlite3_errmsg(db) : "no memory");
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* The first column of the first row as an integer; -1 when no row. */
static int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t count_rows(const char *path, const char *table)
{
	char sql[128];
	sqlite3 *db = raw_open(path);
	int64_t n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	n = raw_int(db, sql);
	sqlite3_close(db);
	return n;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------ */
/* Races                                                               */
/* ------------------------------------------------------------------ */

static struct store_result result(int64_t racer_id, const char *name, int64_t score,
				  int second)
{
	struct store_result r = {
		.racer_id = racer_id, .name = name, .score = score, .output = score / 2,
		.cadence = 80.5, .resistance = 60.25, .second = second,
	};
	return r;
}

static struct store_race race_of(int64_t race_id, int class_id, int64_t ended_ms,
				 const struct store_result *results, size_t n)
{
	struct store_race race = {
		.race_id = race_id, .class_id = class_id, .duration = 300,
		.started_ms = ended_ms - 300000, .ended_ms = ended_ms,
		.results = results, .result_count = n,
	};
	return race;
}

static void finish(struct store *s, int64_t race_id, int class_id, int64_t ended_ms,
		   const struct store_result *results, size_t n)
{
	struct store_race race = race_of(race_id, class_id, ended_ms, results, n);

	if (store_finish_race(s, &race) != 0)
		fail_msg("store_finish_race(%lld): %s", (long long)race_id, store_error(s));
}

/* ------------------------------------------------------------------ */
/* Collecting what the queries return                                  */
/* ------------------------------------------------------------------ */

struct rows {
	size_t n;
	int found_race;
	struct store_race_row race;
	char class_name[64], winner_name[64];
	struct store_result_row results[ROWS_MAX];
	struct store_leader_row leaders[ROWS_MAX];
	struct store_racer_row racer_races[ROWS_MAX];
	struct store_race_row races[ROWS_MAX];
	int64_t ids[ROWS_MAX];
	char names[ROWS_MAX][80];
	char seqs[ROWS_MAX][64];
	uint64_t subs[ROWS_MAX];
	int64_t times[ROWS_MAX];
	unsigned char blobs[ROWS_MAX][32];
	size_t lens[ROWS_MAX];
};

static struct rows *rows_new(void)
{
	struct rows *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	return r;
}

static void keep_name(struct rows *r, const char *name)
{
	assert_non_null(name);
	snprintf(r->names[r->n], sizeof(r->names[r->n]), "%s", name);
}

static void on_race(void *user, const struct store_race_row *row)
{
	struct rows *r = user;

	r->found_race++;
	r->race = *row;
	snprintf(r->class_name, sizeof(r->class_name), "%s",
		 row->class_name ? row->class_name : "(null)");
	snprintf(r->winner_name, sizeof(r->winner_name), "%s",
		 row->winner_name ? row->winner_name : "(null)");
}

static void on_result(void *user, const struct store_result_row *row)
{
	struct rows *r = user;

	assert_true(r->n < ROWS_MAX);
	keep_name(r, row->name);
	r->results[r->n++] = *row;
}

static void on_leader(void *user, const struct store_leader_row *row)
{
	struct rows *r = user;

	assert_true(r->n < ROWS_MAX);
	keep_name(r, row->name);
	r->leaders[r->n++] = *row;
}

static void on_racer_race(void *user, const struct store_racer_row *row)
{
	struct rows *r = user;

	assert_true(r->n < ROWS_MAX);
	r->racer_races[r->n++] = *row;
}

static void on_races_row(void *user, const struct store_race_row *row)
{
	struct rows *r = user;

	assert_true(r->n < ROWS_MAX);
	r->races[r->n++] = *row;
}

static void on_name(void *user, int64_t racer_id, const char *name)
{
	struct rows *r = user;

	assert_true(r->n < ROWS_MAX);
	keep_name(r, name);
	r->ids[r->n++] = racer_id;
}

static void on_checkpoint(void *user, const char *shard_id, const char *seq, uint64_t sub,
			  int64_t updated_ms)
{
	struct rows *r = user;

	assert_true(r->n < ROWS_MAX);
	keep_name(r, shard_id);
	snprintf(r->seqs[r->n], sizeof(r->seqs[r->n]), "%s", seq);
	r->subs[r->n] = sub;
	r->times[r->n++] = updated_ms;
}

static void on_live(void *user, int64_t race_id, const void *state, size_t len)
{
	struct rows *r = user;

	assert_true(r->n < ROWS_MAX);
	assert_true(len <= sizeof(r->blobs[0]));
	if (len > 0)
		memcpy(r->blobs[r->n], state, len);
	r->lens[r->n] = len;
	r->ids[r->n++] = race_id;
}

static void on_race_id(void *user, int64_t race_id)
{
	struct rows *r = user;

	assert_true(r->n < ROWS_MAX);
	r->ids[r->n++] = race_id;
}

static void on_second_best(void *user, int class_id, int second, int64_t output)
{
	struct rows *r = user;

	assert_true(r->n < ROWS_MAX);
	r->ids[r->n] = class_id * 100000 + second;
	r->times[r->n++] = output;
}

static struct rows *read_race(struct store *s, int64_t race_id)
{
	struct rows *r = rows_new();
	int rc = store_race(s, race_id, on_race, on_result, r);

	if (rc < 0)
		fail_msg("store_race: %s", store_error(s));
	assert_int_equal(rc, r->found_race ? 0 : 1);
	return r;
}

static struct rows *read_leaders(struct store *s, int class_id, size_t limit, size_t offset)
{
	struct rows *r = rows_new();

	if (store_class_leaders(s, class_id, limit, offset, on_leader, r) != 0)
		fail_msg("store_class_leaders: %s", store_error(s));
	return r;
}

/* The personal best of one racer in one class; -1 when none. */
static int64_t best_of(struct store *s, int class_id, int64_t racer_id, int64_t *race_id)
{
	struct rows *r = read_leaders(s, class_id, 100000, 0);
	int64_t score = -1;

	for (size_t i = 0; i < r->n; i++) {
		if (r->leaders[i].racer_id != racer_id)
			continue;
		score = r->leaders[i].score;
		if (race_id)
			*race_id = r->leaders[i].race_id;
	}
	free(r);
	return score;
}

static struct rows *read_second_bests(struct store *s)
{
	struct rows *r = rows_new();

	if (store_second_bests(s, on_second_best, r) != 0)
		fail_msg("store_second_bests: %s", store_error(s));
	return r;
}

static int64_t second_best(const struct rows *r, int class_id, int second)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->ids[i] == class_id * 100000 + second)
			return r->times[i];
	return -1;
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

static void test_open_creates_schema(void **state)
{
	struct fixture *f = *state;
	const char *tables[] = { "classes", "racers", "races", "results", "personal_bests",
				 "second_bests", "live_races", "races_seen", "checkpoints" };
	sqlite3 *db;

	open_fixture(state);
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 2);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[128];

		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
			 tables[i]);
		if (raw_int(db, sql) != 1)
			fail_msg("table %s missing", tables[i]);
	}
	/* WAL is a property of the file: any connection sees it. */
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	assert_string_equal(store_error(f->s), "");
}

static void test_reopen_keeps_data(void **state)
{
	struct store *s = open_fixture(state);
	struct store_result res[] = { result(1, "Ann", 1500000, 300),
				      result(2, "Bob", 1400000, 300) };
	struct rows *r;
	char *name;

	assert_int_equal(store_put_class_name(s, 3, "Expert"), 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-000000000000", "49", 0),
			 0);
	finish(s, 5400802, 3, ENDED_BASE, res, 2);

	s = reopen(state);
	assert_string_equal(store_class_name(s, 3), "Expert");
	assert_null(store_class_name(s, 4));
	name = store_racer_name(s, 2);
	assert_non_null(name);
	assert_string_equal(name, "Bob");
	free(name);
	assert_null(store_racer_name(s, 99));

	r = read_race(s, 5400802);
	assert_int_equal(r->found_race, 1);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->class_name, "Expert");
	assert_int_equal(r->race.racers, 2);
	free(r);

	r = rows_new();
	assert_int_equal(store_checkpoints(s, "races", "board", on_checkpoint, r), 0);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->seqs[0], "49");
	free(r);
}

static void test_newer_version_fails(void **state)
{
	struct fixture *f = *state;
	char err[ERR_TEXT_MAX] = "";
	sqlite3 *db;

	open_fixture(state);
	store_close(f->s);
	f->s = NULL;
	db = raw_open(f->path);
	raw_exec(db, "PRAGMA user_version = 3");
	sqlite3_close(db);

	assert_null(store_open(f->path, err, sizeof(err)));
	if (strstr(err, "newer") == NULL || strstr(err, f->path) == NULL)
		fail_msg("unclear message: %s", err);

	/* Nor one no version of Alleycat wrote. */
	db = raw_open(f->path);
	raw_exec(db, "PRAGMA user_version = -1");
	sqlite3_close(db);
	assert_null(store_open(f->path, err, sizeof(err)));
	if (strstr(err, "not an Alleycat database") == NULL)
		fail_msg("unclear message: %s", err);
}

static void test_garbage_file_fails(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], err[ERR_TEXT_MAX] = "", garbage[8192];

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)("racers and races\n"[i % 17]);
	snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
	write_file(path, garbage, sizeof(garbage));
	assert_null(store_open(path, err, sizeof(err)));
	if (strstr(err, "not an SQLite database") == NULL || strstr(err, path) == NULL)
		fail_msg("unclear message: %s", err);

	/* Nor is the file touched: it is someone else's. */
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, sizeof(garbage));
	}
}

static void test_foreign_database_fails(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], err[ERR_TEXT_MAX] = "";
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/other.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	raw_exec(db, "CREATE TABLE notes (text TEXT)");
	sqlite3_close(db);
	assert_null(store_open(path, err, sizeof(err)));
	if (strstr(err, "not an Alleycat database") == NULL)
		fail_msg("unclear message: %s", err);
	assert_int_equal(count_rows(path, "notes"), 0);
}

/* ------------------------------------------------------------------ */
/* Checkpoints and live state                                          */
/* ------------------------------------------------------------------ */

static void test_checkpoints(void **state)
{
	struct store *s = open_fixture(state);
	struct rows *r = rows_new();
	const char *big = "49654789012345678901234567890123456789012345678901234567";

	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-000000000001", "200", 0),
			 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-000000000000", "100", 0),
			 0);
	assert_int_equal(store_put_checkpoint(s, "races", "other", "shardId-000000000000", "7", 0), 0);
	assert_int_equal(store_put_checkpoint(s, "laps", "board", "shardId-000000000000", "8", 0), 0);
	assert_int_equal(store_checkpoints(s, "races", "board", on_checkpoint, r), 0);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->names[0], "shardId-000000000000");
	assert_string_equal(r->seqs[0], "100");
	assert_string_equal(r->names[1], "shardId-000000000001");
	assert_string_equal(r->seqs[1], "200");
	assert_true(r->times[0] > ENDED_BASE);

	/* Overwrite: still one row per shard, the new number kept exactly. */
	memset(r, 0, sizeof(*r));
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-000000000000", big, 0),
			 0);
	assert_int_equal(store_checkpoints(s, "races", "board", on_checkpoint, r), 0);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->seqs[0], big);
	assert_string_equal(r->seqs[1], "200");

	memset(r, 0, sizeof(*r));
	assert_int_equal(store_checkpoints(s, "races", "nobody", on_checkpoint, r), 0);
	assert_int_equal(r->n, 0);

	/* Inside a KPL aggregate: the sub-sequence comes back, and a whole
	 * record written over it clears it. */
	memset(r, 0, sizeof(*r));
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-000000000001", "300", 17),
			 0);
	assert_int_equal(store_checkpoints(s, "races", "board", on_checkpoint, r), 0);
	assert_string_equal(r->seqs[1], "300");
	assert_int_equal(r->subs[1], 17);
	assert_int_equal(r->subs[0], 0);
	memset(r, 0, sizeof(*r));
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-000000000001", "300", 0),
			 0);
	assert_int_equal(store_checkpoints(s, "races", "board", on_checkpoint, r), 0);
	assert_int_equal(r->subs[1], 0);
	free(r);
}

/* A database of schema version 1 (checkpoints without sub_sequence) opens:
 * its checkpoints are read as whole records, and new ones keep theirs. */
static void test_version_1_opens(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_fixture(state);
	struct rows *r = rows_new();
	sqlite3 *db;

	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-000000000000", "42", 0),
			 0);
	store_close(f->s);
	f->s = NULL;
	db = raw_open(f->path);
	raw_exec(db, "ALTER TABLE checkpoints DROP COLUMN sub_sequence; PRAGMA user_version = 1");
	sqlite3_close(db);

	s = open_fixture(state);
	assert_int_equal(store_checkpoints(s, "races", "board", on_checkpoint, r), 0);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->seqs[0], "42");
	assert_int_equal(r->subs[0], 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-000000000000", "43", 5),
			 0);
	memset(r, 0, sizeof(*r));
	assert_int_equal(store_checkpoints(s, "races", "board", on_checkpoint, r), 0);
	assert_int_equal(r->subs[0], 5);
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 2);
	sqlite3_close(db);
	free(r);
}

static void test_live_races(void **state)
{
	struct store *s = open_fixture(state);
	struct rows *r = rows_new();
	const unsigned char a[] = { 0, 1, 2, 0, 255 }, b[] = "second", c[] = "new state";

	assert_int_equal(store_put_live_race(s, "board", 20, b, sizeof(b)), 0);
	assert_int_equal(store_put_live_race(s, "board", 10, a, sizeof(a)), 0);
	assert_int_equal(store_put_live_race(s, "board", 30, NULL, 0), 0);
	assert_int_equal(store_put_live_race(s, "other", 40, a, sizeof(a)), 0);

	s = reopen(state);
	assert_int_equal(store_live_races(s, "board", on_live, r), 0);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->ids[0], 10);
	assert_int_equal(r->lens[0], sizeof(a));
	assert_memory_equal(r->blobs[0], a, sizeof(a));
	assert_int_equal(r->ids[1], 20);
	assert_memory_equal(r->blobs[1], b, sizeof(b));
	assert_int_equal(r->ids[2], 30);
	assert_int_equal(r->lens[2], 0);

	/* Replace one, delete another (and one that is not there). */
	assert_int_equal(store_put_live_race(s, "board", 20, c, sizeof(c)), 0);
	assert_int_equal(store_delete_live_race(s, "board", 10), 0);
	assert_int_equal(store_delete_live_race(s, "board", 999), 0);
	memset(r, 0, sizeof(*r));
	assert_int_equal(store_live_races(s, "board", on_live, r), 0);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->ids[0], 20);
	assert_int_equal(r->lens[0], sizeof(c));
	assert_memory_equal(r->blobs[0], c, sizeof(c));
	assert_int_equal(r->ids[1], 30);
	free(r);
}

static void test_races_seen(void **state)
{
	struct store *s = open_fixture(state);
	struct rows *r = rows_new();

	assert_int_equal(store_note_race_seen(s, "board", 7), 0);
	assert_int_equal(store_note_race_seen(s, "board", 3), 0);
	assert_int_equal(store_note_race_seen(s, "board", 7), 0);
	assert_int_equal(store_note_race_seen(s, "other", 5), 0);
	s = reopen(state);
	assert_int_equal(store_races_seen(s, "board", on_race_id, r), 0);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->ids[0], 3);
	assert_int_equal(r->ids[1], 7);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Finished races                                                      */
/* ------------------------------------------------------------------ */

static void test_finish_race_rank_order(void **state)
{
	struct store *s = open_fixture(state);
	/* Ties on 1500000 (racers 9 and 4) and on 1200000 (racers 8, 2, 5). */
	struct store_result res[] = {
		result(9, "Ivy", 1500000, 300), result(2, "Bo", 1200000, 299),
		result(4, "Dee", 1500000, 300), result(7, "Gus", 1600000, 300),
		result(8, "Hal", 1200000, 300), result(5, "Eve", 1200000, 300),
		result(1, "Al", 100, 12),
	};
	const int64_t order[] = { 7, 4, 9, 2, 5, 8, 1 };
	struct rows *r;

	assert_int_equal(store_put_class_name(s, 2, "Sport"), 0);
	finish(s, 42, 2, ENDED_BASE, res, sizeof(res) / sizeof(res[0]));
	r = read_race(s, 42);
	assert_int_equal(r->found_race, 1);
	assert_int_equal(r->race.race_id, 42);
	assert_int_equal(r->race.class_id, 2);
	assert_string_equal(r->class_name, "Sport");
	assert_int_equal(r->race.duration, 300);
	assert_int_equal(r->race.started_ms, ENDED_BASE - 300000);
	assert_int_equal(r->race.ended_ms, ENDED_BASE);
	assert_int_equal(r->race.racers, 7);
	assert_int_equal(r->race.winner_id, 7);
	assert_string_equal(r->winner_name, "Gus");
	assert_int_equal(r->race.winner_score, 1600000);
	assert_int_equal(r->n, 7);
	for (size_t i = 0; i < r->n; i++) {
		const struct store_result_row *row = &r->results[i];

		assert_int_equal(row->rank, (int)i + 1);
		assert_int_equal(row->racer_id, order[i]);
		assert_int_equal(row->gap, 1600000 - row->score);
	}
	assert_string_equal(r->names[0], "Gus");
	assert_int_equal(r->results[3].second, 299);
	assert_int_equal(r->results[3].output, 600000);
	assert_true(r->results[3].cadence == 80.5);
	assert_true(r->results[3].resistance == 60.25);
	assert_int_equal(r->results[6].gap, 1600000 - 100);
	free(r);

	r = read_race(s, 43);
	assert_int_equal(r->found_race, 0);
	assert_int_equal(r->n, 0);
	free(r);
}

/* A race stored twice (replayed, or finished by a second consumer) ends up
 * with the maximum of each result, never twice the racers. */
static void test_finish_twice_max_merges(void **state)
{
	struct store *s = open_fixture(state);
	struct store_result first[] = { result(1, "Al", 1000000, 200), result(2, "Bo", 900000, 300),
					result(3, "Cy", 800000, 300) };
	struct store_result second[] = { result(1, "Al", 950000, 250), result(2, "Bo", 990000, 250),
					 result(4, "Di", 100000, 5) };
	struct rows *r;

	finish(s, 42, 1, ENDED_BASE, first, 3);
	finish(s, 42, 1, ENDED_BASE + 5000, second, 3);
	finish(s, 42, 1, ENDED_BASE + 5000, second, 3);
	r = read_race(s, 42);
	assert_int_equal(r->race.racers, 4);
	assert_int_equal(r->race.ended_ms, ENDED_BASE + 5000);
	assert_int_equal(r->race.started_ms, ENDED_BASE - 300000);
	assert_int_equal(r->n, 4);
	/* Bo: the higher score, last-second fields of second 300 kept. */
	assert_int_equal(r->results[0].racer_id, 1);
	assert_int_equal(r->results[0].score, 1000000);
	assert_int_equal(r->results[0].second, 250);
	assert_int_equal(r->results[0].output, 950000 / 2);
	assert_int_equal(r->results[1].racer_id, 2);
	assert_int_equal(r->results[1].score, 990000);
	assert_int_equal(r->results[1].second, 300);
	assert_int_equal(r->results[1].output, 900000 / 2);
	assert_int_equal(r->results[2].racer_id, 3);
	assert_int_equal(r->results[3].racer_id, 4);
	free(r);
	assert_int_equal(best_of(s, 1, 2, NULL), 990000);
	assert_int_equal(best_of(s, 1, 1, NULL), 1000000);

	/* The racer's races follow the race's new end. */
	r = rows_new();
	assert_int_equal(store_racer_races(s, 3, 10, 0, on_racer_race, r), 0);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->racer_races[0].ended_ms, ENDED_BASE + 5000);
	assert_int_equal(r->racer_races[0].racers, 4);
	free(r);
}

static void test_personal_bests_only_raised(void **state)
{
	struct store *s = open_fixture(state);
	struct store_result a[] = { result(1, "Al", 1000000, 300) };
	struct store_result b[] = { result(1, "Al", 900000, 300) };
	struct store_result c[] = { result(1, "Al", 1000000, 300) };
	struct store_result d[] = { result(1, "Al", 1100000, 300) };
	struct store_result other_class[] = { result(1, "Al", 500000, 300) };
	int64_t race_id = 0;

	finish(s, 1, 4, ENDED_BASE, a, 1);
	finish(s, 2, 4, ENDED_BASE + 1000, b, 1);
	assert_int_equal(best_of(s, 4, 1, &race_id), 1000000);
	assert_int_equal(race_id, 1);
	/* Equal is not greater: the first race keeps the record. */
	finish(s, 3, 4, ENDED_BASE + 2000, c, 1);
	assert_int_equal(best_of(s, 4, 1, &race_id), 1000000);
	assert_int_equal(race_id, 1);
	finish(s, 4, 4, ENDED_BASE + 3000, d, 1);
	assert_int_equal(best_of(s, 4, 1, &race_id), 1100000);
	assert_int_equal(race_id, 4);
	/* Classes keep separate bests. */
	finish(s, 5, 5, ENDED_BASE + 4000, other_class, 1);
	assert_int_equal(best_of(s, 5, 1, &race_id), 500000);
	assert_int_equal(race_id, 5);
	assert_int_equal(best_of(s, 4, 1, NULL), 1100000);
}

static void finish_with_seconds(struct store *s, int64_t race_id, int class_id,
				const int64_t *outputs, const int64_t *racers, int duration)
{
	struct store_result res[] = { result(racers[0], "X", 1, 1) };
	struct store_race race = race_of(race_id, class_id, ENDED_BASE + race_id, res, 1);

	race.duration = duration;
	race.second_best_output = outputs;
	race.second_best_racer = racers;
	if (store_finish_race(s, &race) != 0)
		fail_msg("store_finish_race: %s", store_error(s));
}

static void test_second_bests_only_raised(void **state)
{
	struct store *s = open_fixture(state);
	const int64_t out1[] = { 100, 200, -1, 400 }, who1[] = { 1, 1, 0, 1 };
	const int64_t out2[] = { 150, 150, 300, 400 }, who2[] = { 2, 2, 2, 2 };
	struct rows *r;

	finish_with_seconds(s, 1, 3, out1, who1, 4);
	r = read_second_bests(s);
	assert_int_equal(r->n, 3);
	assert_int_equal(second_best(r, 3, 1), 100);
	assert_int_equal(second_best(r, 3, 3), -1);
	free(r);

	finish_with_seconds(s, 2, 3, out2, who2, 4);
	finish_with_seconds(s, 3, 6, out1, who1, 4);
	r = read_second_bests(s);
	assert_int_equal(r->n, 7);
	assert_int_equal(second_best(r, 3, 1), 150);      /* raised */
	assert_int_equal(second_best(r, 3, 2), 200);      /* kept: 150 is lower */
	assert_int_equal(second_best(r, 3, 3), 300);      /* new */
	assert_int_equal(second_best(r, 3, 4), 400);      /* kept: equal */
	assert_int_equal(second_best(r, 6, 1), 100);      /* another class */
	free(r);

	/* The holder of an unbeaten record stays the first racer. */
	{
		sqlite3 *db = raw_open(((struct fixture *)*state)->path);

		assert_int_equal(raw_int(db, "SELECT racer_id FROM second_bests"
					     " WHERE class_id = 3 AND second = 4"), 1);
		assert_int_equal(raw_int(db, "SELECT racer_id FROM second_bests"
					     " WHERE class_id = 3 AND second = 1"), 2);
		sqlite3_close(db);
	}
}

static void test_merge_late(void **state)
{
	struct store *s = open_fixture(state);
	struct store_result res[] = { result(1, "Al", 1000000, 300), result(2, "Bo", 900000, 300) };
	struct rows *r;

	finish(s, 42, 2, ENDED_BASE, res, 2);
	/* Bo's late second 120 beats his score and Al's: ranks change. */
	assert_int_equal(store_merge_late(s, 42, 2, 2, "Bo", 120, 1100000, 90.0, 70.0), 0);
	/* A duplicate, and an earlier, lower second: nothing changes. */
	assert_int_equal(store_merge_late(s, 42, 2, 2, "Bo", 120, 1100000, 90.0, 70.0), 0);
	assert_int_equal(store_merge_late(s, 42, 2, 1, "Al", 100, 10, 1.0, 1.0), 0);
	/* A racer the race never had. */
	assert_int_equal(store_merge_late(s, 42, 2, 3, "Cy", 299, 50, 1.0, 1.0), 0);

	r = read_race(s, 42);
	assert_int_equal(r->race.racers, 3);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->results[0].racer_id, 2);
	assert_int_equal(r->results[0].rank, 1);
	assert_int_equal(r->results[0].score, 1100000);
	assert_int_equal(r->results[0].second, 300);     /* 120 is not later */
	assert_int_equal(r->results[0].output, 450000);
	assert_int_equal(r->results[1].racer_id, 1);
	assert_int_equal(r->results[1].gap, 100000);
	assert_int_equal(r->results[1].second, 300);
	assert_int_equal(r->results[1].output, 500000);
	assert_int_equal(r->results[2].racer_id, 3);
	assert_int_equal(r->race.winner_id, 2);
	free(r);
	assert_int_equal(best_of(s, 2, 2, NULL), 1100000);
	assert_int_equal(best_of(s, 2, 1, NULL), 1000000);
	assert_int_equal(best_of(s, 2, 3, NULL), 50);
	r = read_second_bests(s);
	assert_int_equal(second_best(r, 2, 120), 1100000);
	free(r);

	/* A record of a later second replaces the last-second fields. */
	assert_int_equal(store_merge_late(s, 42, 2, 3, "Cy", 300, 40, 2.0, 3.0), 0);
	r = read_race(s, 42);
	assert_int_equal(r->results[2].score, 50);
	assert_int_equal(r->results[2].second, 300);
	assert_int_equal(r->results[2].output, 40);
	assert_true(r->results[2].cadence == 2.0);
	free(r);

	/* A race never stored is recorded from its late record. */
	assert_int_equal(store_merge_late(s, 77, 5, 9, "Zed", 10, 700, 1.0, 1.0), 0);
	r = read_race(s, 77);
	assert_int_equal(r->found_race, 1);
	assert_int_equal(r->race.class_id, 5);
	assert_int_equal(r->race.duration, 0);
	assert_int_equal(r->race.started_ms, 0);
	assert_true(r->race.ended_ms > ENDED_BASE);
	assert_int_equal(r->race.racers, 1);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->names[0], "Zed");
	free(r);
	assert_int_equal(best_of(s, 5, 9, NULL), 700);

	/* A late record of another class than its race's (another producer
	 * with the same raceId) is bad: nothing of it is written. */
	assert_int_equal(store_merge_late(s, 42, 4, 2, "Bo", 200, 9900000, 90.0, 86.0), 1);
	assert_int_equal(store_merge_late(s, 42, 4, 8, "New", 200, 9900000, 90.0, 86.0), 1);
	r = read_race(s, 42);
	assert_int_equal(r->race.class_id, 2);
	assert_int_equal(r->race.racers, 3);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->results[0].score, 1100000);
	free(r);
	assert_int_equal(best_of(s, 4, 2, NULL), -1);
	r = read_second_bests(s);
	assert_int_equal(second_best(r, 4, 200), -1);
	free(r);
}

/* Names are the devices' bytes: stored as given, cleaned only on screen. */
static void test_names_stored_as_given(void **state)
{
	struct store *s = open_fixture(state);
	const char *evil = "\x1b[31mEvil\x07\xff\xfe \xe2\x80\xae";
	struct store_result res[] = { result(1, evil, 10, 1), result(2, NULL, 5, 1) };
	char *name;

	finish(s, 1, 1, ENDED_BASE, res, 2);
	name = store_racer_name(s, 1);
	assert_non_null(name);
	assert_string_equal(name, evil);
	free(name);
	/* No name: '' for a new racer, and a known name is not erased. */
	name = store_racer_name(s, 2);
	assert_string_equal(name, "");
	free(name);
	res[0].name = NULL;
	finish(s, 2, 1, ENDED_BASE + 1, res, 1);
	name = store_racer_name(s, 1);
	assert_string_equal(name, evil);
	free(name);
}

/* ------------------------------------------------------------------ */
/* History queries                                                     */
/* ------------------------------------------------------------------ */

static void test_class_leaders_paging(void **state)
{
	struct store *s = open_fixture(state);
	struct store_result res[250];
	char names[250][16];
	struct rows *r;
	size_t seen = 0;
	int64_t prev_score = INT64_MAX, prev_id = 0;

	/* Scores repeat every 50 racers: ties everywhere, broken by racer_id. */
	for (int i = 0; i < 250; i++) {
		snprintf(names[i], sizeof(names[i]), "R%d", i + 1);
		res[i] = result(i + 1, names[i], 1000 * (1 + i % 50), 300);
	}
	finish(s, 1, 6, ENDED_BASE, res, 250);
	finish(s, 2, 1, ENDED_BASE, res, 10);   /* another class: not on the board */
	for (size_t offset = 0; offset < 300; offset += 100) {
		r = read_leaders(s, 6, 100, offset);
		assert_int_equal(r->n, offset < 200 ? 100 : 50);
		for (size_t i = 0; i < r->n; i++) {
			const struct store_leader_row *row = &r->leaders[i];

			assert_int_equal(row->rank, (int)(offset + i + 1));
			assert_true(row->score < prev_score ||
				    (row->score == prev_score && row->racer_id > prev_id));
			assert_int_equal(row->race_id, 1);
			prev_score = row->score;
			prev_id = row->racer_id;
		}
		seen += r->n;
		free(r);
	}
	assert_int_equal(seen, 250);
	r = read_leaders(s, 6, 3, 0);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->leaders[0].racer_id, 50);  /* 50000: racers 50, 100, ... */
	assert_int_equal(r->leaders[1].racer_id, 100);
	assert_int_equal(r->leaders[2].racer_id, 150);
	assert_string_equal(r->names[0], "R50");
	free(r);
	r = read_leaders(s, 6, 10, 1000);
	assert_int_equal(r->n, 0);
	free(r);
}

static void test_racer_races(void **state)
{
	struct store *s = open_fixture(state);
	struct rows *r;

	/* Racer 7 rides races 100..104; race ids do not follow time. */
	for (int i = 0; i < 5; i++) {
		struct store_result res[] = { result(7, "Sev", 500 + i, 300),
					      result(8, "Ate", 500, 300),
					      result(9, "Nin", 600, 300) };
		finish(s, 104 - i, 1 + i % 2, ENDED_BASE + i * 1000, res, 3);
	}
	r = rows_new();
	assert_int_equal(store_racer_races(s, 7, 10, 0, on_racer_race, r), 0);
	assert_int_equal(r->n, 5);
	for (int i = 0; i < 5; i++) {
		const struct store_racer_row *row = &r->racer_races[i];
		int k = 4 - i;                  /* newest first */

		assert_int_equal(row->race_id, 104 - k);
		assert_int_equal(row->ended_ms, ENDED_BASE + k * 1000);
		assert_int_equal(row->class_id, 1 + k % 2);
		assert_int_equal(row->score, 500 + k);
		assert_int_equal(row->racers, 3);
		/* 500 ties with racer 8 and wins on racer_id; more beats 8. */
		assert_int_equal(row->rank, 2);
	}
	free(r);

	r = rows_new();
	assert_int_equal(store_racer_races(s, 8, 2, 1, on_racer_race, r), 0);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->racer_races[0].race_id, 101);
	assert_int_equal(r->racer_races[0].rank, 3);
	assert_int_equal(r->racer_races[1].race_id, 102);
	free(r);

	/* In race 104 racer 8 ties racer 7 and loses on racer_id. */
	r = rows_new();
	assert_int_equal(store_racer_races(s, 8, 10, 0, on_racer_race, r), 0);
	assert_int_equal(r->n, 5);
	assert_int_equal(r->racer_races[4].race_id, 104);
	assert_int_equal(r->racer_races[4].rank, 3);
	free(r);

	r = rows_new();
	assert_int_equal(store_racer_races(s, 9, 1, 0, on_racer_race, r), 0);
	assert_int_equal(r->racer_races[0].rank, 1);
	free(r);
}

static void test_races_paging(void **state)
{
	struct store *s = open_fixture(state);
	struct store_result res[] = { result(1, "Al", 10, 1) };
	struct rows *r;

	for (int i = 0; i < 10; i++)
		finish(s, 1000 - i, 1 + i % 3, ENDED_BASE + i, res, 1);
	r = rows_new();
	assert_int_equal(store_races(s, 0, 4, 2, on_races_row, r), 0);
	assert_int_equal(r->n, 4);
	for (size_t i = 0; i < r->n; i++)
		assert_int_equal(r->races[i].race_id, 1000 - (9 - 2 - (int)i));
	free(r);
	r = rows_new();
	assert_int_equal(store_races(s, 2, 100, 0, on_races_row, r), 0);
	assert_int_equal(r->n, 3);                      /* i = 1, 4, 7 */
	assert_int_equal(r->races[0].race_id, 993);
	assert_int_equal(r->races[2].race_id, 999);
	assert_int_equal(r->races[0].winner_id, 1);
	assert_null(r->races[0].class_name);
	free(r);
}

static struct rows *search(struct store *s, const char *text, size_t limit)
{
	struct rows *r = rows_new();

	if (store_search_racers(s, text, limit, on_name, r) != 0)
		fail_msg("store_search_racers: %s", store_error(s));
	return r;
}

static void test_search(void **state)
{
	struct store *s = open_fixture(state);
	struct store_result res[] = {
		result(1, "hayden", 1, 1), result(2, "HAYDEN Jr", 1, 1), result(3, "Mo", 1, 1),
		result(4, "100% Effort", 1, 1), result(5, "snake_case", 1, 1),
		result(6, "back\\slash", 1, 1), result(7, "Hay Den", 1, 1),
	};
	struct rows *r;

	finish(s, 1, 1, ENDED_BASE, res, sizeof(res) / sizeof(res[0]));
	r = search(s, "hAyD", 10);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->names[0], "hayden");
	assert_string_equal(r->names[1], "HAYDEN Jr");
	free(r);

	r = search(s, "%", 10);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->ids[0], 4);
	free(r);
	r = search(s, "_", 10);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->ids[0], 5);
	free(r);
	r = search(s, "\\", 10);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->ids[0], 6);
	free(r);
	r = search(s, "y_D", 10);
	assert_int_equal(r->n, 0);
	free(r);

	r = search(s, "", 3);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->names[0], "100% Effort");
	free(r);
}

/* ------------------------------------------------------------------ */
/* Transactions                                                        */
/* ------------------------------------------------------------------ */

static void test_rollback_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_fixture(state);
	struct store_result res[] = { result(1, "Al", 10, 1), result(2, "Bo", 20, 1) };
	const int64_t out[] = { 5 }, who[] = { 1 };
	struct store_race race = race_of(42, 1, ENDED_BASE, res, 2);
	const char *tables[] = { "racers", "races", "results", "personal_bests", "second_bests",
				 "live_races", "races_seen", "checkpoints", "classes" };

	race.duration = 1;
	race.second_best_output = out;
	race.second_best_racer = who;
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-0", "5", 0), 0);
	assert_int_equal(store_put_live_race(s, "board", 43, "x", 1), 0);
	assert_int_equal(store_note_race_seen(s, "board", 42), 0);
	assert_int_equal(store_finish_race(s, &race), 0);
	assert_int_equal(store_merge_late(s, 42, 1, 3, "Cy", 1, 30, 1.0, 1.0), 0);
	store_rollback(s);
	store_rollback(s);                      /* harmless when none is open */
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (count_rows(f->path, tables[i]) != 0)
			fail_msg("%s holds rows after a rollback", tables[i]);

	/* The same, committed, is all there, even after a reopen. */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-0", "5", 0), 0);
	assert_int_equal(store_finish_race(s, &race), 0);
	assert_int_equal(store_commit(s), 0);
	reopen(state);
	assert_int_equal(count_rows(f->path, "results"), 2);
	assert_int_equal(count_rows(f->path, "checkpoints"), 1);
}

/* A race that fails half-way takes its window down with it: the window's
 * checkpoint must not commit without the race it dropped from live state. */
static void test_failed_race_fails_window(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_fixture(state);
	struct store_result res[] = { result(1, "Al", 10, 1), result(666, "Bad", 20, 1) };
	struct store_race race = race_of(42, 1, ENDED_BASE, res, 2);
	sqlite3 *db = raw_open(f->path);

	raw_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON results WHEN NEW.racer_id = 666"
		     " BEGIN SELECT RAISE(ABORT, 'racer 666 refused'); END");
	sqlite3_close(db);

	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-0", "5", 0), 0);
	assert_int_equal(store_delete_live_race(s, "board", 42), 0);
	assert_int_equal(store_finish_race(s, &race), -1);
	if (strstr(store_error(s), "racer 666 refused") == NULL)
		fail_msg("unclear message: %s", store_error(s));
	/* Later writes of the window fail too, rather than commit alone. */
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-1", "9", 0), -1);
	assert_int_equal(store_commit(s), -1);
	if (strstr(store_error(s), "racer 666 refused") == NULL)
		fail_msg("unclear message: %s", store_error(s));
	store_rollback(s);
	assert_int_equal(count_rows(f->path, "checkpoints"), 0);
	assert_int_equal(count_rows(f->path, "races"), 0);
	assert_int_equal(count_rows(f->path, "results"), 0);
	assert_int_equal(count_rows(f->path, "racers"), 0);
	assert_int_equal(count_rows(f->path, "personal_bests"), 0);

	/* Outside a transaction the call is one of its own, all or nothing. */
	assert_int_equal(store_finish_race(s, &race), -1);
	assert_int_equal(count_rows(f->path, "racers"), 0);
	race.result_count = 1;
	assert_int_equal(store_finish_race(s, &race), 0);
	assert_int_equal(count_rows(f->path, "results"), 1);
	assert_int_equal(store_merge_late(s, 42, 1, 666, "Bad", 1, 5, 1.0, 1.0), -1);
	assert_int_equal(count_rows(f->path, "racers"), 1);

	/* Nor when SQLite itself rolled the transaction back (as after a full
	 * disk): writes that follow must not each commit on their own. */
	db = raw_open(f->path);
	raw_exec(db, "CREATE TRIGGER crash BEFORE INSERT ON results WHEN NEW.racer_id = 667"
		     " BEGIN SELECT RAISE(ROLLBACK, 'racer 667 rolled back'); END");
	sqlite3_close(db);
	res[1].racer_id = 667;
	race.result_count = 2;
	race.race_id = 43;
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-0", "7", 0), 0);
	assert_int_equal(store_finish_race(s, &race), -1);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-1", "8", 0), -1);
	assert_int_equal(store_put_live_race(s, "board", 44, "x", 1), -1);
	assert_int_equal(store_commit(s), -1);
	assert_int_equal(count_rows(f->path, "checkpoints"), 0);
	assert_int_equal(count_rows(f->path, "live_races"), 0);
	assert_int_equal(count_rows(f->path, "races"), 1);

	/* A race refused before any SQL runs fails the window all the same. */
	race.results = NULL;
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-0", "7", 0), 0);
	assert_int_equal(store_finish_race(s, &race), -1);
	assert_int_equal(store_commit(s), -1);
	assert_int_equal(count_rows(f->path, "checkpoints"), 0);

	/* And the store goes on working after the failures. */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-0", "6", 0), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(count_rows(f->path, "checkpoints"), 1);
}

/* ------------------------------------------------------------------ */
/* A read-only database                                                */
/* ------------------------------------------------------------------ */

/* A window as a consumer writes it: the checkpoint, and race 42 moved
 * from live state to history. */
static int save_window(struct store *s, const char *seq, const struct store_race *race)
{
	if (store_begin(s) < 0 ||
	    store_put_checkpoint(s, "races", "board", "shardId-0", seq, 0) < 0 ||
	    store_finish_race(s, race) < 0 ||
	    store_delete_live_race(s, "board", race->race_id) < 0 ||
	    store_commit(s) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

/* The window before: checkpoint 5, race 42 live. */
static void save_first_window(struct store *s)
{
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put_checkpoint(s, "races", "board", "shardId-0", "5", 0), 0);
	assert_int_equal(store_put_live_race(s, "board", 42, "x", 1), 0);
	assert_int_equal(store_commit(s), 0);
}

static void assert_read_only_failure(struct store *s)
{
	if (strstr(store_error(s), "the history database is read-only") == NULL)
		fail_msg("the message does not say the database is read-only: %s",
			 store_error(s));
}

/* Still as the first window left it: the failed ones wrote nothing. */
static void assert_first_window_only(const char *path)
{
	sqlite3 *db = raw_open(path);

	assert_int_equal(raw_int(db, "SELECT sequence_number FROM checkpoints"), 5);
	assert_int_equal(raw_int(db, "SELECT race_id FROM live_races"), 42);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM results"), 0);
	sqlite3_close(db);
}

/* The retried window is all there, once: its checkpoint, the race out of
 * live state, two results and a racer count of two (not four). */
static void assert_window_saved_once(const char *path)
{
	sqlite3 *db = raw_open(path);

	assert_int_equal(raw_int(db, "SELECT sequence_number FROM checkpoints"), 9);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM live_races"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM results"), 2);
	assert_int_equal(raw_int(db, "SELECT racers FROM races WHERE race_id = 42"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM personal_bests"), 2);
	sqlite3_close(db);
}

/* While the database is read-only every window fails whole, with a
 * message that says so; once it is writable the same window, retried,
 * commits. */
static void fail_then_save(const char *path, struct store *s)
{
	struct store_result res[] = { result(1, "Al", 10, 1), result(2, "Bo", 20, 1) };
	struct store_race race = race_of(42, 1, ENDED_BASE, res, 2);

	for (int window = 0; window < 2; window++) {
		assert_int_equal(save_window(s, "9", &race), -1);
		assert_read_only_failure(s);
	}
	assert_first_window_only(path);
	assert_true(read_only_files(path, false));
	if (save_window(s, "9", &race) < 0)
		fail_msg("the window after the database became writable: %s", store_error(s));
	assert_window_saved_once(path);
}

/* A consumer started on a database it may not write: SQLite opens it
 * read-only without a word and would keep the connection so. This proves
 * that the store reads it, names the failure, and reopens its connection
 * so that writes resume once the file is writable. */
static void test_opened_read_only_reopens(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_fixture(state);

	save_first_window(s);
	store_close(s);
	f->s = NULL;
	if (!read_only_files(f->path, true))
		skip();         /* no immutable attribute on this file system */
	s = open_fixture(state);
	assert_int_equal(count_rows(f->path, "checkpoints"), 1);
	fail_then_save(f->path, s);
}

/* The database made read-only under a running consumer. chmod cannot do
 * that (it stops new descriptors, not open ones), so the test needs the
 * immutable attribute and root. It proves that the refused writes, which
 * SQLite reports as a disk I/O error, are named read-only, that nothing
 * of the failed windows is written, and that the retried window commits
 * whole and once. */
static void test_made_read_only_while_open(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_fixture(state);

	save_first_window(s);
	if (!read_only_stops_open_files() || !read_only_files(f->path, true))
		skip();         /* only root can make an open file read-only */
	fail_then_save(f->path, s);
}

/* ------------------------------------------------------------------ */
/* Query plans                                                         */
/* ------------------------------------------------------------------ */

/* Paging stays instant when every step seeks or walks an index in the
 * order asked for: no full table scan and no sort. */
static void check_plan(struct store *s, enum store_query q, bool scan_ok, const char *index)
{
	char *plan = store_explain(s, q);

	if (plan == NULL)
		fail_msg("store_explain(%d): %s", (int)q, store_error(s));
	if (strstr(plan, "USING INDEX") == NULL && strstr(plan, "USING COVERING INDEX") == NULL)
		fail_msg("query %d uses no index:\n%s", (int)q, plan);
	if (strstr(plan, index) == NULL)
		fail_msg("query %d does not use %s:\n%s", (int)q, index, plan);
	if (!scan_ok && strstr(plan, "SCAN") != NULL)
		fail_msg("query %d scans:\n%s", (int)q, plan);
	if (strstr(plan, "TEMP B-TREE") != NULL)
		fail_msg("query %d sorts:\n%s", (int)q, plan);
	free(plan);
}

static void test_query_plans(void **state)
{
	struct store *s = open_fixture(state);
	struct store_result res[] = { result(1, "Al", 10, 1), result(2, "Bo", 20, 1) };

	finish(s, 1, 1, ENDED_BASE, res, 2);
	check_plan(s, STORE_QUERY_CLASS_LEADERS, false, "personal_bests_by_score");
	check_plan(s, STORE_QUERY_RACER_RACES, false, "results_by_racer");
	check_plan(s, STORE_QUERY_RACE_RESULTS, false, "results_by_rank");
	check_plan(s, STORE_QUERY_CLASS_RACES, false, "races_by_class");
	check_plan(s, STORE_QUERY_RACE, false, "results_by_rank");
	/* All races, and a substring search, walk their index in order. */
	check_plan(s, STORE_QUERY_RACES, true, "races_by_end");
	check_plan(s, STORE_QUERY_SEARCH, true, "racers_by_name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_version_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_file_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_database_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_1_opens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_races, setup, teardown),
		cmocka_unit_test_setup_teardown(test_races_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_race_rank_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_twice_max_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_personal_bests_only_raised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_bests_only_raised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_stored_as_given, setup, teardown),
		cmocka_unit_test_setup_teardown(test_class_leaders_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_racer_races, setup, teardown),
		cmocka_unit_test_setup_teardown(test_races_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_race_fails_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opened_read_only_reopens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_made_read_only_while_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_plans, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
