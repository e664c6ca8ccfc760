#include "config.h"
#include "race/store.h"

#include "util/clock.h"
#include "util/datadir.h"
#include "util/errtext.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define STORE_BUSY_TIMEOUT_MS 5000
/* A 1,000-racer race dirties some 2,000 pages scattered over the indexes
 * (results_by_racer, personal bests); the default 2 MiB cache spills them
 * to the WAL before the commit. 16 MiB holds them: 9 ms a race, not 15.
 * (A negative cache_size counts KiB.) */
#define STORE_CACHE_KIB "-16384"

/* ------------------------------------------------------------------ */
/* Schema versions                                                     */
/* ------------------------------------------------------------------ */

/* migrations[v] takes a database from user_version v to v + 1: a file in
 * the data directory, run in one transaction, that ends by setting
 * PRAGMA user_version to v + 1. A new database runs them all in turn, so
 * version 2 is one more entry here (say "migrate-2.sql") and that file. */
static const char *const migrations[] = {
	"schema.sql",
	"migrate-1.sql",        /* checkpoints.sub_sequence */
};

#define STORE_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ------------------------------------------------------------------ */
/* Statements: prepared once at open, reset after every use            */
/* ------------------------------------------------------------------ */

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PUT_CHECKPOINT,
	ST_FORGET_CHECKPOINT,
	ST_CHECKPOINTS,
	ST_PUT_LIVE,
	ST_DELETE_LIVE,
	ST_LIVE_RACES,
	ST_NOTE_SEEN,
	ST_RACES_SEEN,
	ST_ENSURE_CLASS,
	ST_PUT_CLASS_NAME,
	ST_CLASS_NAME,
	ST_FINISH_RACE,
	ST_LATE_RACE,
	ST_RACE_KEY,
	ST_RESULTS_ENDED,
	ST_PUT_RACER,
	ST_INSERT_RESULT,
	ST_MERGE_RESULT,
	ST_ADD_RACERS,
	ST_PUT_BEST,
	ST_PUT_SECOND_BEST,
	ST_SECOND_BESTS,
	ST_RACE,
	ST_RACE_RESULTS,
	ST_RACES_ALL,
	ST_RACES_CLASS,
	ST_CLASS_LEADERS,
	ST_RACER_NAME,
	ST_RACER_RACES,
	ST_RACER_BESTS,
	ST_SEARCH,
	ST_COUNT
};

/* A record replaces a result's last-second fields when it is from a later
 * second; at the same second the greater output wins, so the outcome does
 * not depend on the order duplicates arrive in. ?4 is output, ?7 second. */
#define LATER_SECOND "(?7 > second OR (?7 = second AND ?4 > output))"

/* A race with its class name, result count and winner. The winner is the
 * first row of results_by_rank; a LEFT JOIN keeps races as the outer loop,
 * so paging walks races_by_end or races_by_class. */
#define RACE_ROW_SELECT \
	"SELECT r.race_id, r.class_id, c.name, r.duration, r.started_ms, r.ended_ms," \
	" r.racers, w.racer_id, wn.name, w.score" \
	" FROM races r" \
	" LEFT JOIN classes c ON c.class_id = r.class_id" \
	" LEFT JOIN results w ON w.race_id = r.race_id AND w.racer_id =" \
	"  (SELECT racer_id FROM results WHERE race_id = r.race_id" \
	"   ORDER BY score DESC, racer_id LIMIT 1)" \
	" LEFT JOIN racers wn ON wn.racer_id = w.racer_id"

static const char *const stmt_sql[ST_COUNT] = {
	/* IMMEDIATE takes the write lock now, where the busy timeout applies,
	 * rather than at the first write, where a lock upgrade can fail at
	 * once. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",

	[ST_PUT_CHECKPOINT] =
		"INSERT INTO checkpoints (stream, consumer, shard_id, sequence_number, updated_ms,"
		" sub_sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (stream, consumer, shard_id) DO UPDATE SET"
		" sequence_number = excluded.sequence_number, updated_ms = excluded.updated_ms,"
		" sub_sequence = excluded.sub_sequence",
	[ST_FORGET_CHECKPOINT] =
		"DELETE FROM checkpoints WHERE stream = ?1 AND consumer = ?2 AND shard_id = ?3",
	[ST_CHECKPOINTS] =
		"SELECT shard_id, sequence_number, updated_ms, sub_sequence FROM checkpoints"
		" WHERE stream = ?1 AND consumer = ?2 ORDER BY shard_id",
	[ST_PUT_LIVE] =
		"INSERT INTO live_races (consumer, race_id, state) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (consumer, race_id) DO UPDATE SET state = excluded.state",
	[ST_DELETE_LIVE] = "DELETE FROM live_races WHERE consumer = ?1 AND race_id = ?2",
	[ST_LIVE_RACES] =
		"SELECT race_id, state FROM live_races WHERE consumer = ?1 ORDER BY race_id",
	[ST_NOTE_SEEN] =
		"INSERT INTO races_seen (consumer, race_id) VALUES (?1, ?2)"
		" ON CONFLICT (consumer, race_id) DO NOTHING",
	[ST_RACES_SEEN] =
		"SELECT race_id FROM races_seen WHERE consumer = ?1 ORDER BY race_id",

	[ST_ENSURE_CLASS] =
		"INSERT INTO classes (class_id) VALUES (?1) ON CONFLICT (class_id) DO NOTHING",
	[ST_PUT_CLASS_NAME] =
		"INSERT INTO classes (class_id, name) VALUES (?1, ?2)"
		" ON CONFLICT (class_id) DO UPDATE SET name = excluded.name",
	[ST_CLASS_NAME] = "SELECT name FROM classes WHERE class_id = ?1",

	/* A race finished twice (by two consumers, say) spans both. */
	[ST_FINISH_RACE] =
		"INSERT INTO races (race_id, class_id, duration, started_ms, ended_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (race_id) DO UPDATE SET"
		" duration = max(coalesce(duration, excluded.duration),"
		"                coalesce(excluded.duration, duration)),"
		" started_ms = min(coalesce(started_ms, excluded.started_ms),"
		"                  coalesce(excluded.started_ms, started_ms)),"
		" ended_ms = max(ended_ms, excluded.ended_ms)",
	[ST_LATE_RACE] =
		"INSERT INTO races (race_id, class_id, ended_ms) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (race_id) DO NOTHING",
	[ST_RACE_KEY] = "SELECT class_id, ended_ms FROM races WHERE race_id = ?1",
	[ST_RESULTS_ENDED] =
		"UPDATE results SET ended_ms = ?2 WHERE race_id = ?1 AND ended_ms <> ?2",
	[ST_PUT_RACER] =
		"INSERT INTO racers (racer_id, name) VALUES (?1, coalesce(?2, ''))"
		" ON CONFLICT (racer_id) DO UPDATE SET name = excluded.name"
		" WHERE ?2 IS NOT NULL AND name <> ?2",
	[ST_INSERT_RESULT] =
		"INSERT INTO results (race_id, racer_id, score, output, cadence, resistance,"
		" second, ended_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		" ON CONFLICT (race_id, racer_id) DO NOTHING",
	/* Every right-hand side sees the row as it was before the update. The
	 * WHERE makes a duplicate cost no write. */
	[ST_MERGE_RESULT] =
		"UPDATE results SET score = max(score, ?3),"
		" output = CASE WHEN " LATER_SECOND " THEN ?4 ELSE output END,"
		" cadence = CASE WHEN " LATER_SECOND " THEN ?5 ELSE cadence END,"
		" resistance = CASE WHEN " LATER_SECOND " THEN ?6 ELSE resistance END,"
		" second = CASE WHEN " LATER_SECOND " THEN ?7 ELSE second END"
		" WHERE race_id = ?1 AND racer_id = ?2 AND (score < ?3 OR " LATER_SECOND ")",
	[ST_ADD_RACERS] = "UPDATE races SET racers = racers + ?2 WHERE race_id = ?1",
	[ST_PUT_BEST] =
		"INSERT INTO personal_bests (class_id, racer_id, score, race_id, achieved_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (class_id, racer_id) DO UPDATE SET score = excluded.score,"
		" race_id = excluded.race_id, achieved_ms = excluded.achieved_ms"
		" WHERE excluded.score > score",
	[ST_PUT_SECOND_BEST] =
		"INSERT INTO second_bests (class_id, second, output, racer_id, race_id)"
		" VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (class_id, second) DO UPDATE SET output = excluded.output,"
		" racer_id = excluded.racer_id, race_id = excluded.race_id"
		" WHERE excluded.output > output",
	[ST_SECOND_BESTS] =
		"SELECT class_id, second, output FROM second_bests ORDER BY class_id, second",

	[ST_RACE] = RACE_ROW_SELECT " WHERE r.race_id = ?1",
	[ST_RACE_RESULTS] =
		"SELECT x.racer_id, n.name, x.score, x.output, x.cadence, x.resistance, x.second"
		" FROM results x LEFT JOIN racers n ON n.racer_id = x.racer_id"
		" WHERE x.race_id = ?1 ORDER BY x.score DESC, x.racer_id",
	[ST_RACES_ALL] =
		RACE_ROW_SELECT " ORDER BY r.ended_ms DESC, r.race_id DESC LIMIT ?1 OFFSET ?2",
	[ST_RACES_CLASS] =
		RACE_ROW_SELECT " WHERE r.class_id = ?3"
		" ORDER BY r.ended_ms DESC, r.race_id DESC LIMIT ?1 OFFSET ?2",
	[ST_CLASS_LEADERS] =
		"SELECT p.racer_id, n.name, p.score, p.race_id"
		" FROM personal_bests p LEFT JOIN racers n ON n.racer_id = p.racer_id"
		" WHERE p.class_id = ?1 ORDER BY p.score DESC, p.racer_id LIMIT ?2 OFFSET ?3",
	[ST_RACER_NAME] = "SELECT name FROM racers WHERE racer_id = ?1",
	/* A racer's place in each class leaderboard, counted as in the
	 * leaderboard itself: better scores, then equal ones of lower ids. */
	[ST_RACER_BESTS] =
		"SELECT x.class_id, x.score, x.race_id,"
		" 1 + (SELECT count(*) FROM personal_bests b"
		"      WHERE b.class_id = x.class_id AND b.score > x.score)"
		"   + (SELECT count(*) FROM personal_bests b"
		"      WHERE b.class_id = x.class_id AND b.score = x.score"
		"      AND b.racer_id < x.racer_id)"
		" FROM personal_bests x WHERE x.racer_id = ?1 ORDER BY x.class_id",
	/* The rank is counted, not stored: the racers ahead, by score and then
	 * by racer_id, are two ranges of results_by_rank. */
	[ST_RACER_RACES] =
		"SELECT x.race_id, r.class_id, x.score,"
		" 1 + (SELECT count(*) FROM results b"
		"      WHERE b.race_id = x.race_id AND b.score > x.score)"
		"   + (SELECT count(*) FROM results b"
		"      WHERE b.race_id = x.race_id AND b.score = x.score"
		"      AND b.racer_id < x.racer_id),"
		" r.racers, x.ended_ms"
		" FROM results x LEFT JOIN races r ON r.race_id = x.race_id"
		" WHERE x.racer_id = ?1 ORDER BY x.ended_ms DESC, x.race_id DESC"
		" LIMIT ?2 OFFSET ?3",
	/* A substring cannot seek an index; walking racers_by_name at least
	 * gives name order without a sort and stops at the limit. */
	[ST_SEARCH] =
		"SELECT racer_id, name FROM racers WHERE name LIKE ?1 ESCAPE '\\'"
		" ORDER BY name COLLATE NOCASE, racer_id LIMIT ?2",
};

struct store {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	bool reopen;                    /* a write found the connection read-only */
	char *class_name;               /* what store_class_name last returned */
	bool in_txn;                    /* between store_begin and commit or rollback */
	bool doomed;                    /* a write in it failed: it must not commit */
	char doom[ERR_TEXT_MAX];        /* why */
	char err[ERR_TEXT_MAX];
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static int fail(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Why path cannot be written (EROFS, EPERM, EACCES), or 0. */
static int write_denied(const char *path)
{
	if (access(path, W_OK) == 0)
		return 0;
	return errno == EROFS || errno == EPERM || errno == EACCES ? errno : 0;
}

/* Why the database or its write-ahead log cannot be written, or 0. SQLite
 * says only "disk I/O error" when the system refuses a write to a file it
 * holds open (made immutable, its file system remounted read-only), and
 * the errno it keeps is long gone by then: the files tell. */
static int files_read_only(const struct store *s)
{
	char wal[PATH_MAX];
	int e = write_denied(s->path);

	if (e == 0 && snprintf(wal, sizeof(wal), "%s-wal", s->path) < (int)sizeof(wal))
		e = write_denied(wal);
	return e;
}

/* Why the directory of the database cannot be written, or 0: SQLite
 * cannot create the database there, nor its -wal and -shm files, without
 * which it cannot even read it. */
static int dir_read_only(const struct store *s)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(s->path, '/');

	if (slash == NULL)
		return write_denied(".");
	snprintf(dir, sizeof(dir), "%.*s", slash == s->path ? 1 : (int)(slash - s->path), s->path);
	return write_denied(dir);
}

/* What failed, and SQLite's word on it; in plain words when the database
 * cannot be written, which an operator can mend. SQLite opens a file it
 * may not write read-only without a word, and such a connection stays
 * read-only when the file becomes writable: the next transaction starts
 * on a new one. */
static int fail_db(struct store *s, const char *what)
{
	int code = sqlite3_extended_errcode(s->db) & 0xff, e;

	if (code == SQLITE_READONLY) {
		s->reopen = true;
		return fail(s, "%s: the history database is read-only (%s)", what,
			    sqlite3_errmsg(s->db));
	}
	if (code == SQLITE_IOERR && (e = files_read_only(s)) != 0)
		return fail(s, "%s: the history database is read-only (%s)", what, strerror(e));
	if (code == SQLITE_CANTOPEN && (e = dir_read_only(s)) != 0)
		return fail(s, "%s: the directory of the history database is read-only (%s),"
			    " and SQLite keeps its -wal and -shm files there", what, strerror(e));
	return fail(s, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* ------------------------------------------------------------------ */
/* Running statements                                                  */
/* ------------------------------------------------------------------ */

/* A LIMIT: SQLite reads a negative one as no limit at all. */
static int64_t sql_limit(size_t n)
{
	return n > INT64_MAX ? -1 : (int64_t)n;
}

static int64_t sql_offset(size_t n)
{
	return n > INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* Marks the caller's transaction as one that must not commit: a window
 * whose writes failed half-way would commit its checkpoints without the
 * state they cover. */
static void doom(struct store *s)
{
	if (!s->in_txn || s->doomed)
		return;
	s->doomed = true;
	snprintf(s->doom, sizeof(s->doom), "%s", s->err);
}

/* Fails a statement: resets it and dooms the transaction if it wrote.
 * (BEGIN, COMMIT and ROLLBACK count as read-only here.) */
static int stmt_failed(struct store *s, sqlite3_stmt *st)
{
	sqlite3_reset(st);
	if (!sqlite3_stmt_readonly(st))
		doom(s);
	return -1;
}

/* Checks the result of a chain of binds (SQLITE_OK is 0, so `a || b`
 * is 0 only when every bind worked). */
static int bound(struct store *s, sqlite3_stmt *st, int failed, const char *what)
{
	if (!failed)
		return 0;
	fail_db(s, what);
	return stmt_failed(s, st);
}

/* Steps a statement that returns no rows, leaving it to be reset. Inside
 * a doomed transaction nothing more is written; nor after SQLite rolled
 * the transaction back on its own (a full disk, say), where each write
 * would otherwise commit by itself. */
static int step(struct store *s, sqlite3_stmt *st, const char *what)
{
	if (!sqlite3_stmt_readonly(st)) {
		if (s->doomed) {
			fail(s, "%s: an earlier write of this transaction failed (%s)", what,
			     s->doom);
			sqlite3_reset(st);
			return -1;
		}
		if (s->in_txn && sqlite3_get_autocommit(s->db)) {
			fail(s, "%s: the transaction was rolled back after an error", what);
			return stmt_failed(s, st);
		}
	}
	if (sqlite3_step(st) == SQLITE_DONE)
		return 0;
	fail_db(s, what);
	return stmt_failed(s, st);
}

/* Steps a statement that returns no rows, then resets it. */
static int run(struct store *s, sqlite3_stmt *st, const char *what)
{
	if (step(s, st, what) < 0)
		return -1;
	sqlite3_reset(st);
	return 0;
}

/* Ends a loop over rows: rc is the last sqlite3_step result. Resetting
 * ends the read transaction, which a WAL checkpoint would wait on. */
static int rows_done(struct store *s, sqlite3_stmt *st, int rc, const char *what)
{
	if (rc != SQLITE_DONE)
		fail_db(s, what);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *column_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* Names of racers are NOT NULL in the schema; this covers a row whose
 * racer is missing all the same. */
static const char *column_name(sqlite3_stmt *st, int col)
{
	const char *name = column_text(st, col);

	return name ? name : "";
}

static int bind_blob(sqlite3_stmt *st, int col, const void *data, size_t len)
{
	/* A NULL pointer would bind SQL NULL, not an empty state. */
	if (len == 0)
		return sqlite3_bind_zeroblob(st, col, 0);
	return sqlite3_bind_blob64(st, col, data, len, SQLITE_STATIC);
}

/* ------------------------------------------------------------------ */
/* Opening: pragmas, migrations, statements                            */
/* ------------------------------------------------------------------ */

/* mkdir -p of the directory that will hold path. */
static int make_parent_dirs(const char *path)
{
	char *copy = strdup(path);
	char *slash;

	if (copy == NULL)
		return -1;
	slash = strrchr(copy, '/');
	if (slash == NULL || slash == copy) {
		free(copy);
		return 0;
	}
	*slash = '\0';
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
			int e = errno;
			free(copy);
			errno = e;
			return -1;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return 0;
}

/* Runs one constant statement (a pragma, BEGIN, COMMIT) during open. When
 * text is given, the first column of the first row is copied into it. */
static int run_once(struct store *s, const char *sql, char *text, size_t textlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail_db(s, sql);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fail_db(s, sql);
		sqlite3_finalize(st);
		return -1;
	}
	if (text != NULL && textlen > 0) {
		const char *t = rc == SQLITE_ROW ? column_text(st, 0) : NULL;
		snprintf(text, textlen, "%s", t ? t : "");
	}
	sqlite3_finalize(st);
	return 0;
}

static int read_int(struct store *s, const char *sql, int *out)
{
	char text[32];

	if (run_once(s, sql, text, sizeof(text)) < 0)
		return -1;
	*out = atoi(text);
	return 0;
}

/* The whole of a data file, NUL-terminated; malloc'd. */
static char *read_data_file(struct store *s, const char *file)
{
	const char *dir = datadir_find(file);
	char path[4096];
	char *text = NULL;
	long size;
	FILE *f;

	if (dir == NULL) {
		fail(s, "cannot find %s in $ALLEYCAT_SHARE_DIR, %s or data/ beside the program's "
		     "directory", file, ALLEYCAT_DATADIR);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fail(s, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	text = malloc((size_t)size + 1);
	if (text == NULL) {
		fail(s, "cannot read %s: out of memory", path);
		goto out;
	}
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		fail(s, "cannot read %s: %s", path, ferror(f) ? strerror(errno) : "file shrank");
		free(text);
		text = NULL;
		goto out;
	}
	text[size] = '\0';
out:
	if (f != NULL)
		fclose(f);
	return text;
}

/* Version 0 must mean an empty file, not some other program's database. */
static int check_empty(struct store *s)
{
	int tables;

	if (read_int(s, "SELECT count(*) FROM sqlite_master", &tables) < 0)
		return -1;
	if (tables > 0)
		return fail(s, "it holds tables but no Alleycat schema version:"
			    " not an Alleycat database");
	return 0;
}

/* Runs migrations[from] in its own transaction, unless another process
 * got there first while this one waited for the write lock. */
static int migrate_step(struct store *s, int from)
{
	const char *file = migrations[from];
	char *sql = read_data_file(s, file);
	char *msg = NULL;
	int version = -1;

	if (sql == NULL)
		return -1;
	if (run_once(s, "BEGIN IMMEDIATE", NULL, 0) < 0)
		goto fail;
	if (read_int(s, "PRAGMA user_version", &version) < 0)
		goto rollback;
	if (version == from) {
		if (from == 0 && check_empty(s) < 0)
			goto rollback;
		if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
			fail(s, "%s: %s", file, msg ? msg : sqlite3_errmsg(s->db));
			sqlite3_free(msg);
			goto rollback;
		}
		if (read_int(s, "PRAGMA user_version", &version) < 0)
			goto rollback;
		if (version != from + 1) {
			fail(s, "%s left user_version at %d, not %d", file, version, from + 1);
			goto rollback;
		}
	}
	if (run_once(s, "COMMIT", NULL, 0) < 0)
		goto rollback;
	free(sql);
	return 0;
rollback:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
fail:
	free(sql);
	return -1;
}

static int migrate(struct store *s, int version)
{
	while (version < STORE_VERSION) {
		if (migrate_step(s, version) < 0)
			return -1;
		if (read_int(s, "PRAGMA user_version", &version) < 0)
			return -1;
	}
	return 0;
}

/* The first read of the file: it tells a database from anything else. */
static int check_version(struct store *s, int *version)
{
	if (read_int(s, "PRAGMA user_version", version) == 0) {
		if (*version < 0)
			return fail(s, "schema version %d: not an Alleycat database", *version);
		if (*version <= STORE_VERSION)
			return 0;
		return fail(s, "schema version %d is newer than this Alleycat knows (%d):"
			    " use a newer Alleycat", *version, STORE_VERSION);
	}
	if (sqlite3_errcode(s->db) == SQLITE_NOTADB)
		return fail(s, "not an SQLite database (%s)", sqlite3_errmsg(s->db));
	return -1;
}

/* WAL lets the history views read while the consumer writes. In WAL mode
 * synchronous=NORMAL syncs at checkpoints, not at every commit, so a
 * commit survives a crash of the process but the last ones may be lost to
 * a power cut or an OS crash. That never breaks the restart contract:
 * checkpoints and the live state they cover commit together, so a lost
 * commit takes both back to an earlier window, and the consumer replays
 * the stream (which keeps records far longer than a window) from there. */
static int set_pragmas(struct store *s)
{
	char mode[16];

	if (run_once(s, "PRAGMA journal_mode = WAL", mode, sizeof(mode)) < 0)
		return -1;
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
		return fail(s, "cannot use WAL mode (journal_mode is %s)", mode);
	if (run_once(s, "PRAGMA synchronous = NORMAL", NULL, 0) < 0 ||
	    run_once(s, "PRAGMA foreign_keys = ON", NULL, 0) < 0 ||
	    run_once(s, "PRAGMA cache_size = " STORE_CACHE_KIB, NULL, 0) < 0 ||
	    /* Checkpoints run in store_checkpoint, after a window commits,
	     * not inside the commit of whichever race happens to fill the WAL. */
	    run_once(s, "PRAGMA wal_autocheckpoint = 0", NULL, 0) < 0)
		return -1;
	return 0;
}

void store_checkpoint(struct store *s)
{
	/* Passive: copies what no reader still needs, never waits. */
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static int prepare_all(struct store *s)
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &s->stmt[i], NULL) != SQLITE_OK)
			return fail(s, "cannot prepare \"%.60s\": %s", stmt_sql[i],
				    sqlite3_errmsg(s->db));
	}
	return 0;
}

static int open_db(struct store *s, const char *path)
{
	int version = 0;

	if (make_parent_dirs(path) < 0)
		return fail(s, "cannot create the directory of %s: %s", path, strerror(errno));
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		return s->db ? fail_db(s, "cannot open") : fail(s, "cannot open: out of memory");
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	if (check_version(s, &version) < 0 || set_pragmas(s) < 0 || migrate(s, version) < 0 ||
	    prepare_all(s) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Opening, closing, transactions                                      */
/* ------------------------------------------------------------------ */

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->path = strdup(path)) == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", path);
		free(s);
		return NULL;
	}
	if (open_db(s, path) < 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, s->err);
		store_close(s);
		return NULL;
	}
	return s;
}

static void close_db(struct store *s)
{
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(s->stmt[i]);
		s->stmt[i] = NULL;
	}
	sqlite3_close(s->db);
	s->db = NULL;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	close_db(s);
	free(s->class_name);
	free(s->path);
	free(s);
}

/* A new connection in place of one SQLite opened read-only (see fail_db).
 * The old one stays when no new one opens: reads go on working. */
static int reopen(struct store *s)
{
	struct store fresh = { .path = s->path };

	if (open_db(&fresh, s->path) < 0) {
		fail(s, "cannot reopen the database: %s", fresh.err);
		close_db(&fresh);
		return -1;
	}
	close_db(s);
	s->db = fresh.db;
	memcpy(s->stmt, fresh.stmt, sizeof(s->stmt));
	s->reopen = false;
	return 0;
}

const char *store_error(const struct store *s)
{
	return s->err;
}

/* Rolls back whatever transaction is open, keeping the message of the
 * failure that led here. After some errors SQLite has already done it. */
static void abandon(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(s->stmt[ST_ROLLBACK]);
		sqlite3_reset(s->stmt[ST_ROLLBACK]);
	}
	s->in_txn = false;
	s->doomed = false;
}

int store_begin(struct store *s)
{
	if (s->reopen && sqlite3_get_autocommit(s->db) && reopen(s) < 0)
		return -1;
	if (run(s, s->stmt[ST_BEGIN], "cannot begin a transaction") < 0)
		return -1;
	s->in_txn = true;
	s->doomed = false;
	return 0;
}

/* A transaction that cannot commit whole is rolled back: so is one whose
 * COMMIT fails (SQLITE_BUSY, a full disk), which SQLite may leave open.
 * The caller has one state to think about: nothing of it was written. */
int store_commit(struct store *s)
{
	if (s->doomed) {
		fail(s, "cannot commit: a write of this transaction failed (%s)", s->doom);
		abandon(s);
		return -1;
	}
	if (s->in_txn && sqlite3_get_autocommit(s->db)) {
		fail(s, "cannot commit: the transaction was rolled back after an error");
		abandon(s);
		return -1;
	}
	if (run(s, s->stmt[ST_COMMIT], "cannot commit") < 0) {
		abandon(s);
		return -1;
	}
	s->in_txn = false;
	return 0;
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		run(s, s->stmt[ST_ROLLBACK], "cannot roll back");
	s->in_txn = false;
	s->doomed = false;
}

/* ------------------------------------------------------------------ */
/* Checkpoints and live state                                          */
/* ------------------------------------------------------------------ */

int store_put_checkpoint(struct store *s, const char *stream, const char *consumer,
			 const char *shard_id, const char *sequence_number, uint64_t sub_sequence)
{
	sqlite3_stmt *st = s->stmt[ST_PUT_CHECKPOINT];

	if (bound(s, st,
		  sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC) ||
		  sqlite3_bind_text(st, 2, consumer, -1, SQLITE_STATIC) ||
		  sqlite3_bind_text(st, 3, shard_id, -1, SQLITE_STATIC) ||
		  sqlite3_bind_text(st, 4, sequence_number, -1, SQLITE_STATIC) ||
		  sqlite3_bind_int64(st, 5, clock_wall_ms()) ||
		  sqlite3_bind_int64(st, 6, (sqlite3_int64)sub_sequence),
		  "cannot write a checkpoint") < 0)
		return -1;
	return run(s, st, "cannot write a checkpoint");
}

int store_forget_checkpoint(struct store *s, const char *stream, const char *consumer,
			    const char *shard_id)
{
	sqlite3_stmt *st = s->stmt[ST_FORGET_CHECKPOINT];

	if (bound(s, st,
		  sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC) ||
		  sqlite3_bind_text(st, 2, consumer, -1, SQLITE_STATIC) ||
		  sqlite3_bind_text(st, 3, shard_id, -1, SQLITE_STATIC),
		  "cannot forget a checkpoint") < 0)
		return -1;
	return run(s, st, "cannot forget a checkpoint");
}

int store_checkpoints(struct store *s, const char *stream, const char *consumer,
		      store_checkpoint_fn fn, void *user)
{
	sqlite3_stmt *st = s->stmt[ST_CHECKPOINTS];
	int rc;

	if (bound(s, st,
		  sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC) ||
		  sqlite3_bind_text(st, 2, consumer, -1, SQLITE_STATIC),
		  "cannot read checkpoints") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(user, column_name(st, 0), column_name(st, 1),
		   (uint64_t)sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 2));
	return rows_done(s, st, rc, "cannot read checkpoints");
}

int store_put_live_race(struct store *s, const char *consumer, int64_t race_id,
			const void *state, size_t len)
{
	sqlite3_stmt *st = s->stmt[ST_PUT_LIVE];

	if (bound(s, st,
		  sqlite3_bind_text(st, 1, consumer, -1, SQLITE_STATIC) ||
		  sqlite3_bind_int64(st, 2, race_id) ||
		  bind_blob(st, 3, state, len), "cannot write a live race") < 0)
		return -1;
	return run(s, st, "cannot write a live race");
}

int store_delete_live_race(struct store *s, const char *consumer, int64_t race_id)
{
	sqlite3_stmt *st = s->stmt[ST_DELETE_LIVE];

	if (bound(s, st,
		  sqlite3_bind_text(st, 1, consumer, -1, SQLITE_STATIC) ||
		  sqlite3_bind_int64(st, 2, race_id), "cannot delete a live race") < 0)
		return -1;
	return run(s, st, "cannot delete a live race");
}

int store_live_races(struct store *s, const char *consumer, store_live_fn fn, void *user)
{
	sqlite3_stmt *st = s->stmt[ST_LIVE_RACES];
	int rc;

	if (bound(s, st, sqlite3_bind_text(st, 1, consumer, -1, SQLITE_STATIC),
		  "cannot read live races") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *state = sqlite3_column_blob(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		fn(user, sqlite3_column_int64(st, 0), state, len);
	}
	return rows_done(s, st, rc, "cannot read live races");
}

int store_note_race_seen(struct store *s, const char *consumer, int64_t race_id)
{
	sqlite3_stmt *st = s->stmt[ST_NOTE_SEEN];

	if (bound(s, st,
		  sqlite3_bind_text(st, 1, consumer, -1, SQLITE_STATIC) ||
		  sqlite3_bind_int64(st, 2, race_id), "cannot note a race seen") < 0)
		return -1;
	return run(s, st, "cannot note a race seen");
}

int store_races_seen(struct store *s, const char *consumer, store_race_id_fn fn, void *user)
{
	sqlite3_stmt *st = s->stmt[ST_RACES_SEEN];
	int rc;

	if (bound(s, st, sqlite3_bind_text(st, 1, consumer, -1, SQLITE_STATIC),
		  "cannot read races seen") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(user, sqlite3_column_int64(st, 0));
	return rows_done(s, st, rc, "cannot read races seen");
}

/* ------------------------------------------------------------------ */
/* Finished races: the pieces                                          */
/* ------------------------------------------------------------------ */

/* A race refers to its class, so the class must exist, named or not. */
static int ensure_class(struct store *s, int class_id)
{
	sqlite3_stmt *st = s->stmt[ST_ENSURE_CLASS];

	if (bound(s, st, sqlite3_bind_int(st, 1, class_id), "cannot add a class") < 0)
		return -1;
	return run(s, st, "cannot add a class");
}

/* The class and end of a stored race: a race stored before keeps its
 * class, and a race finished again may have ended later. */
static int race_key(struct store *s, int64_t race_id, int *class_id, int64_t *ended_ms)
{
	sqlite3_stmt *st = s->stmt[ST_RACE_KEY];
	int rc;

	if (bound(s, st, sqlite3_bind_int64(st, 1, race_id), "cannot read a race") < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*class_id = sqlite3_column_int(st, 0);
		*ended_ms = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		return 0;
	}
	if (rc == SQLITE_DONE)
		fail(s, "race %lld vanished while being written", (long long)race_id);
	else
		fail_db(s, "cannot read a race");
	sqlite3_reset(st);
	return -1;
}

static int upsert_race(struct store *s, const struct store_race *race)
{
	sqlite3_stmt *st = s->stmt[ST_FINISH_RACE];

	if (bound(s, st,
		  sqlite3_bind_int64(st, 1, race->race_id) ||
		  sqlite3_bind_int(st, 2, race->class_id) ||
		  sqlite3_bind_int(st, 3, race->duration) ||
		  sqlite3_bind_int64(st, 4, race->started_ms) ||
		  sqlite3_bind_int64(st, 5, race->ended_ms), "cannot write a race") < 0)
		return -1;
	return run(s, st, "cannot write a race");
}

/* A late record for a race never stored: its start and length are
 * unknown, and it ended at the latest now. */
static int add_late_race(struct store *s, int64_t race_id, int class_id)
{
	sqlite3_stmt *st = s->stmt[ST_LATE_RACE];

	if (bound(s, st,
		  sqlite3_bind_int64(st, 1, race_id) ||
		  sqlite3_bind_int(st, 2, class_id) ||
		  sqlite3_bind_int64(st, 3, clock_wall_ms()), "cannot add a race") < 0)
		return -1;
	return run(s, st, "cannot add a race");
}

/* Keeps results.ended_ms, the sort key of a racer's races, equal to the
 * race's; only a race finished twice changes anything here. */
static int set_results_ended(struct store *s, int64_t race_id, int64_t ended_ms)
{
	sqlite3_stmt *st = s->stmt[ST_RESULTS_ENDED];

	if (bound(s, st,
		  sqlite3_bind_int64(st, 1, race_id) ||
		  sqlite3_bind_int64(st, 2, ended_ms), "cannot update results") < 0)
		return -1;
	return run(s, st, "cannot update results");
}

static int put_racer(struct store *s, int64_t racer_id, const char *name)
{
	sqlite3_stmt *st = s->stmt[ST_PUT_RACER];

	if (bound(s, st,
		  sqlite3_bind_int64(st, 1, racer_id) ||
		  sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC), "cannot write a racer") < 0)
		return -1;
	return run(s, st, "cannot write a racer");
}

/* Binds ?1..?7 the way ST_INSERT_RESULT and ST_MERGE_RESULT both use them. */
static int bind_result(sqlite3_stmt *st, int64_t race_id, const struct store_result *r)
{
	return sqlite3_bind_int64(st, 1, race_id) ||
	       sqlite3_bind_int64(st, 2, r->racer_id) ||
	       sqlite3_bind_int64(st, 3, r->score) ||
	       sqlite3_bind_int64(st, 4, r->output) ||
	       sqlite3_bind_double(st, 5, r->cadence) ||
	       sqlite3_bind_double(st, 6, r->resistance) ||
	       sqlite3_bind_int(st, 7, r->second);
}

/* Inserts a result, or max-merges it into the stored one; *added counts
 * the new rows (the race's racer count). */
static int merge_result(struct store *s, int64_t race_id, const struct store_result *r,
			int64_t ended_ms, int *added)
{
	sqlite3_stmt *st = s->stmt[ST_INSERT_RESULT];

	if (bound(s, st, bind_result(st, race_id, r) || sqlite3_bind_int64(st, 8, ended_ms),
		  "cannot write a result") < 0 ||
	    step(s, st, "cannot write a result") < 0)
		return -1;
	if (sqlite3_changes(s->db) > 0) {
		(*added)++;
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	st = s->stmt[ST_MERGE_RESULT];
	if (bound(s, st, bind_result(st, race_id, r), "cannot merge a result") < 0)
		return -1;
	return run(s, st, "cannot merge a result");
}

static int add_racers(struct store *s, int64_t race_id, int added)
{
	sqlite3_stmt *st = s->stmt[ST_ADD_RACERS];

	if (added == 0)
		return 0;
	if (bound(s, st,
		  sqlite3_bind_int64(st, 1, race_id) ||
		  sqlite3_bind_int(st, 2, added), "cannot count a race's racers") < 0)
		return -1;
	return run(s, st, "cannot count a race's racers");
}

static int raise_best(struct store *s, int class_id, int64_t racer_id, int64_t score,
		      int64_t race_id, int64_t achieved_ms)
{
	sqlite3_stmt *st = s->stmt[ST_PUT_BEST];

	if (bound(s, st,
		  sqlite3_bind_int(st, 1, class_id) ||
		  sqlite3_bind_int64(st, 2, racer_id) ||
		  sqlite3_bind_int64(st, 3, score) ||
		  sqlite3_bind_int64(st, 4, race_id) ||
		  sqlite3_bind_int64(st, 5, achieved_ms), "cannot write a personal best") < 0)
		return -1;
	return run(s, st, "cannot write a personal best");
}

static int raise_second_best(struct store *s, int class_id, int second, int64_t output,
			     int64_t racer_id, int64_t race_id)
{
	sqlite3_stmt *st = s->stmt[ST_PUT_SECOND_BEST];

	if (bound(s, st,
		  sqlite3_bind_int(st, 1, class_id) ||
		  sqlite3_bind_int(st, 2, second) ||
		  sqlite3_bind_int64(st, 3, output) ||
		  sqlite3_bind_int64(st, 4, racer_id) ||
		  sqlite3_bind_int64(st, 5, race_id), "cannot write a class best") < 0)
		return -1;
	return run(s, st, "cannot write a class best");
}

/* One racer's line of a race, with the racer's name and personal best. */
static int write_result(struct store *s, int64_t race_id, int class_id, int64_t ended_ms,
			const struct store_result *r, int *added)
{
	if (put_racer(s, r->racer_id, r->name) < 0 ||
	    merge_result(s, race_id, r, ended_ms, added) < 0 ||
	    raise_best(s, class_id, r->racer_id, r->score, race_id, ended_ms) < 0)
		return -1;
	return 0;
}

/* second_best_output[i] is second i + 1, as the engine fills it. */
static int write_second_bests(struct store *s, const struct store_race *race, int class_id)
{
	if (race->second_best_output == NULL || race->second_best_racer == NULL)
		return 0;
	for (int i = 0; i < race->duration; i++) {
		if (race->second_best_output[i] < 0)
			continue;
		if (raise_second_best(s, class_id, i + 1, race->second_best_output[i],
				      race->second_best_racer[i], race->race_id) < 0)
			return -1;
	}
	return 0;
}

static int write_race(struct store *s, const void *arg)
{
	const struct store_race *race = arg;
	int class_id, added = 0;
	int64_t ended_ms;

	if (race->result_count > 0 && race->results == NULL)
		return fail(s, "race %lld: results missing", (long long)race->race_id);
	if (ensure_class(s, race->class_id) < 0 || upsert_race(s, race) < 0 ||
	    race_key(s, race->race_id, &class_id, &ended_ms) < 0 ||
	    set_results_ended(s, race->race_id, ended_ms) < 0)
		return -1;
	for (size_t i = 0; i < race->result_count; i++)
		if (write_result(s, race->race_id, class_id, ended_ms, &race->results[i],
				 &added) < 0)
			return -1;
	if (write_second_bests(s, race, class_id) < 0)
		return -1;
	return add_racers(s, race->race_id, added);
}

struct late_record {
	int64_t race_id;
	int class_id;
	struct store_result r;
	bool *other_class;              /* out: the race is stored with another class */
};

static int write_late(struct store *s, const void *arg)
{
	const struct late_record *late = arg;
	const struct store_result *r = &late->r;
	int class_id = late->class_id, added = 0;
	int64_t ended_ms;

	if (ensure_class(s, class_id) < 0 || add_late_race(s, late->race_id, class_id) < 0 ||
	    race_key(s, late->race_id, &class_id, &ended_ms) < 0)
		return -1;
	/* Another producer's record under the same raceId: its racers are not
	 * of this race's class, so it is not merged (nor counted by a best). */
	if (class_id != late->class_id) {
		*late->other_class = true;
		return 0;
	}
	if (write_result(s, late->race_id, class_id, ended_ms, r, &added) < 0 ||
	    raise_second_best(s, class_id, r->second, r->output, r->racer_id, late->race_id) < 0)
		return -1;
	return add_racers(s, late->race_id, added);
}

/* ------------------------------------------------------------------ */
/* Finished races: the API                                             */
/* ------------------------------------------------------------------ */

/* A race's writes go into the caller's transaction, or into one of their
 * own when there is none (statement by statement they would be neither
 * atomic nor fast). A failure dooms the caller's transaction: the window
 * that drops a race from live state must not commit without it, or the
 * race would be lost. (A savepoint could undo the race alone, but it
 * journals every page the race touches a second time: it doubles the
 * cost of a 1,000-racer race.) */
static int in_transaction(struct store *s, int (*write)(struct store *, const void *),
			  const void *arg)
{
	bool own = !s->in_txn;

	if (own && store_begin(s) < 0)
		return -1;
	if (write(s, arg) < 0) {
		doom(s);
		if (own)
			abandon(s);
		return -1;
	}
	return own ? store_commit(s) : 0;
}

int store_finish_race(struct store *s, const struct store_race *race)
{
	return in_transaction(s, write_race, race);
}

int store_merge_late(struct store *s, int64_t race_id, int class_id, int64_t racer_id,
		     const char *name, int second, int64_t output, double cadence,
		     double resistance)
{
	bool other_class = false;
	const struct late_record late = {
		.race_id = race_id, .class_id = class_id,
		.r = { .racer_id = racer_id, .name = name, .score = output, .output = output,
		       .cadence = cadence, .resistance = resistance, .second = second },
		.other_class = &other_class,
	};

	if (in_transaction(s, write_late, &late) < 0)
		return -1;
	return other_class ? 1 : 0;
}

int store_second_bests(struct store *s, store_second_best_fn fn, void *user)
{
	sqlite3_stmt *st = s->stmt[ST_SECOND_BESTS];
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(user, sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
		   sqlite3_column_int64(st, 2));
	return rows_done(s, st, rc, "cannot read class bests");
}

int store_put_class_name(struct store *s, int class_id, const char *name)
{
	sqlite3_stmt *st = s->stmt[ST_PUT_CLASS_NAME];

	if (bound(s, st,
		  sqlite3_bind_int(st, 1, class_id) ||
		  sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC), "cannot name a class") < 0)
		return -1;
	return run(s, st, "cannot name a class");
}

/* ------------------------------------------------------------------ */
/* Queries for history views                                           */
/* ------------------------------------------------------------------ */

/* The columns of RACE_ROW_SELECT, borrowed until the next step. */
static void race_row(sqlite3_stmt *st, struct store_race_row *row)
{
	row->race_id = sqlite3_column_int64(st, 0);
	row->class_id = sqlite3_column_int(st, 1);
	row->class_name = column_text(st, 2);
	row->duration = sqlite3_column_int(st, 3);
	row->started_ms = sqlite3_column_int64(st, 4);
	row->ended_ms = sqlite3_column_int64(st, 5);
	row->racers = sqlite3_column_int(st, 6);
	row->winner_id = sqlite3_column_int64(st, 7);
	row->winner_name = column_text(st, 8);
	row->winner_score = sqlite3_column_int64(st, 9);
}

/* Calls fn for every race row the bound statement returns. */
static int race_rows(struct store *s, sqlite3_stmt *st, store_race_fn fn, void *user)
{
	struct store_race_row row;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		race_row(st, &row);
		if (fn != NULL)
			fn(user, &row);
	}
	return rows_done(s, st, rc, "cannot read races");
}

/* Ranks are positions in score order (ties by racer_id), so they are
 * counted here rather than stored. */
static int race_results(struct store *s, int64_t race_id, store_result_fn fn, void *user)
{
	sqlite3_stmt *st = s->stmt[ST_RACE_RESULTS];
	struct store_result_row row;
	int64_t leader = 0;
	int rc, rank = 0;

	if (bound(s, st, sqlite3_bind_int64(st, 1, race_id), "cannot read results") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.rank = ++rank;
		row.racer_id = sqlite3_column_int64(st, 0);
		row.name = column_name(st, 1);
		row.score = sqlite3_column_int64(st, 2);
		row.output = sqlite3_column_int64(st, 3);
		row.cadence = sqlite3_column_double(st, 4);
		row.resistance = sqlite3_column_double(st, 5);
		row.second = sqlite3_column_int(st, 6);
		if (rank == 1)
			leader = row.score;
		row.gap = leader - row.score;
		if (fn != NULL)
			fn(user, &row);
	}
	return rows_done(s, st, rc, "cannot read results");
}

int store_race(struct store *s, int64_t race_id, store_race_fn race_fn,
	       store_result_fn result_fn, void *user)
{
	sqlite3_stmt *st = s->stmt[ST_RACE];
	struct store_race_row row;
	int rc;

	if (bound(s, st, sqlite3_bind_int64(st, 1, race_id), "cannot read a race") < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 1;
	}
	if (rc != SQLITE_ROW)
		return rows_done(s, st, rc, "cannot read a race");
	race_row(st, &row);
	if (race_fn != NULL)
		race_fn(user, &row);
	sqlite3_reset(st);
	return race_results(s, race_id, result_fn, user);
}

int store_races(struct store *s, int class_id, size_t limit, size_t offset, store_race_fn fn,
		void *user)
{
	sqlite3_stmt *st = s->stmt[class_id == 0 ? ST_RACES_ALL : ST_RACES_CLASS];

	if (bound(s, st,
		  sqlite3_bind_int64(st, 1, sql_limit(limit)) ||
		  sqlite3_bind_int64(st, 2, sql_offset(offset)) ||
		  (class_id != 0 && sqlite3_bind_int(st, 3, class_id)), "cannot read races") < 0)
		return -1;
	return race_rows(s, st, fn, user);
}

int store_class_leaders(struct store *s, int class_id, size_t limit, size_t offset,
			store_leader_fn fn, void *user)
{
	sqlite3_stmt *st = s->stmt[ST_CLASS_LEADERS];
	struct store_leader_row row;
	int rc, rank = offset > INT32_MAX ? INT32_MAX : (int)offset;

	if (bound(s, st,
		  sqlite3_bind_int(st, 1, class_id) ||
		  sqlite3_bind_int64(st, 2, sql_limit(limit)) ||
		  sqlite3_bind_int64(st, 3, sql_offset(offset)), "cannot read a leaderboard") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.rank = ++rank;
		row.racer_id = sqlite3_column_int64(st, 0);
		row.name = column_name(st, 1);
		row.score = sqlite3_column_int64(st, 2);
		row.race_id = sqlite3_column_int64(st, 3);
		fn(user, &row);
	}
	return rows_done(s, st, rc, "cannot read a leaderboard");
}

char *store_racer_name(struct store *s, int64_t racer_id)
{
	sqlite3_stmt *st = s->stmt[ST_RACER_NAME];
	char *name = NULL;
	int rc;

	if (bound(s, st, sqlite3_bind_int64(st, 1, racer_id), "cannot read a racer") < 0)
		return NULL;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		name = strdup(column_name(st, 0));
		if (name == NULL)
			fail(s, "cannot read a racer: out of memory");
	} else if (rc != SQLITE_DONE) {
		fail_db(s, "cannot read a racer");
	}
	sqlite3_reset(st);
	return name;
}

int store_racer_races(struct store *s, int64_t racer_id, size_t limit, size_t offset,
		      store_racer_fn fn, void *user)
{
	sqlite3_stmt *st = s->stmt[ST_RACER_RACES];
	struct store_racer_row row;
	int rc;

	if (bound(s, st,
		  sqlite3_bind_int64(st, 1, racer_id) ||
		  sqlite3_bind_int64(st, 2, sql_limit(limit)) ||
		  sqlite3_bind_int64(st, 3, sql_offset(offset)), "cannot read a racer's races") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.race_id = sqlite3_column_int64(st, 0);
		row.class_id = sqlite3_column_int(st, 1);
		row.score = sqlite3_column_int64(st, 2);
		row.rank = sqlite3_column_int(st, 3);
		row.racers = sqlite3_column_int(st, 4);
		row.ended_ms = sqlite3_column_int64(st, 5);
		fn(user, &row);
	}
	return rows_done(s, st, rc, "cannot read a racer's races");
}

int store_racer_bests(struct store *s, int64_t racer_id, store_best_fn fn, void *user)
{
	sqlite3_stmt *st = s->stmt[ST_RACER_BESTS];
	struct store_best_row row;
	int rc;

	if (bound(s, st, sqlite3_bind_int64(st, 1, racer_id), "cannot read a racer's bests") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.class_id = sqlite3_column_int(st, 0);
		row.score = sqlite3_column_int64(st, 1);
		row.race_id = sqlite3_column_int64(st, 2);
		row.rank = sqlite3_column_int(st, 3);
		fn(user, &row);
	}
	return rows_done(s, st, rc, "cannot read a racer's bests");
}

/* "%text%" with LIKE's own characters in text taken literally (ESCAPE
 * '\'): a search for "%" finds names holding a percent sign. */
static char *like_pattern(const char *text)
{
	char *pattern = malloc(2 * strlen(text) + 3), *p = pattern;

	if (pattern == NULL)
		return NULL;
	*p++ = '%';
	for (; *text != '\0'; text++) {
		if (*text == '%' || *text == '_' || *text == '\\')
			*p++ = '\\';
		*p++ = *text;
	}
	*p++ = '%';
	*p = '\0';
	return pattern;
}

int store_search_racers(struct store *s, const char *text, size_t limit, store_name_fn fn,
			void *user)
{
	sqlite3_stmt *st = s->stmt[ST_SEARCH];
	char *pattern = like_pattern(text);
	int rc;

	if (pattern == NULL)
		return fail(s, "cannot search racers: out of memory");
	if (bound(s, st,
		  sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC) ||
		  sqlite3_bind_int64(st, 2, sql_limit(limit)), "cannot search racers") < 0) {
		free(pattern);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(user, sqlite3_column_int64(st, 0), column_name(st, 1));
	rc = rows_done(s, st, rc, "cannot search racers");
	/* The statement keeps the pointer bound until its next use. */
	sqlite3_bind_null(st, 1);
	free(pattern);
	return rc;
}

const char *store_class_name(struct store *s, int class_id)
{
	sqlite3_stmt *st = s->stmt[ST_CLASS_NAME];
	const char *name;
	int rc;

	free(s->class_name);
	s->class_name = NULL;
	if (bound(s, st, sqlite3_bind_int(st, 1, class_id), "cannot read a class") < 0)
		return NULL;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		name = column_text(st, 0);
		if (name != NULL && (s->class_name = strdup(name)) == NULL)
			fail(s, "cannot read a class: out of memory");
	} else if (rc != SQLITE_DONE) {
		fail_db(s, "cannot read a class");
	}
	sqlite3_reset(st);
	return s->class_name;
}

/* ------------------------------------------------------------------ */
/* Query plans                                                         */
/* ------------------------------------------------------------------ */

static const enum stmt_id query_stmt[] = {
	[STORE_QUERY_RACE] = ST_RACE,
	[STORE_QUERY_RACE_RESULTS] = ST_RACE_RESULTS,
	[STORE_QUERY_RACES] = ST_RACES_ALL,
	[STORE_QUERY_CLASS_RACES] = ST_RACES_CLASS,
	[STORE_QUERY_CLASS_LEADERS] = ST_CLASS_LEADERS,
	[STORE_QUERY_RACER_RACES] = ST_RACER_RACES,
	[STORE_QUERY_SEARCH] = ST_SEARCH,
};

/* Appends a line to a growing malloc'd text. */
static int append_line(char **text, size_t *len, const char *line)
{
	size_t n = strlen(line);
	char *grown = realloc(*text, *len + n + 2);

	if (grown == NULL)
		return -1;
	memcpy(grown + *len, line, n);
	grown[*len + n] = '\n';
	grown[*len + n + 1] = '\0';
	*text = grown;
	*len += n + 1;
	return 0;
}

/* A diagnostic, not a hot path: the one statement prepared on demand. */
char *store_explain(struct store *s, enum store_query query)
{
	const char *sql;
	char *explain, *text = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	if ((unsigned)query >= sizeof(query_stmt) / sizeof(query_stmt[0])) {
		fail(s, "no such query: %d", (int)query);
		return NULL;
	}
	sql = stmt_sql[query_stmt[query]];
	explain = malloc(strlen(sql) + sizeof("EXPLAIN QUERY PLAN "));
	if (explain == NULL) {
		fail(s, "cannot explain a query: out of memory");
		return NULL;
	}
	strcpy(explain, "EXPLAIN QUERY PLAN ");
	strcat(explain, sql);
	rc = sqlite3_prepare_v2(s->db, explain, -1, &st, NULL);
	free(explain);
	if (rc != SQLITE_OK) {
		fail_db(s, "cannot explain a query");
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (append_line(&text, &len, column_name(st, 3)) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	if (rc == SQLITE_DONE && text == NULL && (text = strdup("")) == NULL)
		rc = SQLITE_NOMEM;
	if (rc != SQLITE_DONE) {
		fail(s, "cannot explain a query: %s", sqlite3_errstr(rc));
		free(text);
		text = NULL;
	}
	sqlite3_finalize(st);
	return text;
}
