/* The history store: SQLite in WAL mode, prepared statements only.
 *
 * It keeps what outlives a race (its results, the per-class personal bests,
 * the per-second class bests, racer and class names) and what a consumer
 * needs to restart exactly where it was (checkpoints and live races, written
 * in one transaction per tumbling window). Scores are integers in 1/10000
 * units, as the engine keeps them. */
#ifndef ALLEYCAT_STORE_H
#define ALLEYCAT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* Opens (creating it, its directory and its schema when needed) the
 * database at path; migrates older schemas by PRAGMA user_version. NULL
 * with a message in err on failure. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *s);

/* The message of the last failure (borrowed). One that a read-only file,
 * directory or file system caused says "the history database is read-only"
 * (or "the directory of the history database is read-only"). */
const char *store_error(const struct store *s);

/* Transactions: the consumer writes a window's checkpoints and live races,
 * and the races that end in it, between begin and commit. A window commits
 * whole or not at all: once a write in it has failed, later writes in it
 * fail too, and store_commit rolls it back and returns -1 (as it does when
 * the COMMIT itself fails). Rollback is harmless without a transaction.
 * SQLite opens a file it may not write read-only, and keeps it so: after a
 * write found the database read-only, store_begin first opens a new
 * connection, so that writes resume once the file is writable again. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* Moves committed pages from the write-ahead log into the database; call
 * it after a commit (commits themselves never do it, so they stay short). */
void store_checkpoint(struct store *s);

/* ---- checkpoints and live state --------------------------------- */

/* A shard's checkpoint: every record up to sequence_number applied, or,
 * when sub_sequence is not 0, every record before it and the first
 * sub_sequence user records of the KPL aggregate it is. */
int store_put_checkpoint(struct store *s, const char *stream, const char *consumer,
			 const char *shard_id, const char *sequence_number, uint64_t sub_sequence);
/* For a shard the stream no longer has. */
int store_forget_checkpoint(struct store *s, const char *stream, const char *consumer,
			    const char *shard_id);
typedef void (*store_checkpoint_fn)(void *user, const char *shard_id, const char *sequence_number,
				    uint64_t sub_sequence, int64_t updated_ms);
int store_checkpoints(struct store *s, const char *stream, const char *consumer,
		      store_checkpoint_fn fn, void *user);

int store_put_live_race(struct store *s, const char *consumer, int64_t race_id,
			const void *state, size_t len);
int store_delete_live_race(struct store *s, const char *consumer, int64_t race_id);
typedef void (*store_live_fn)(void *user, int64_t race_id, const void *state, size_t len);
int store_live_races(struct store *s, const char *consumer, store_live_fn fn, void *user);

/* Races a consumer has seen (live or finished) since it first ran with
 * this database: what `board --until-finished` prints. */
int store_note_race_seen(struct store *s, const char *consumer, int64_t race_id);
typedef void (*store_race_id_fn)(void *user, int64_t race_id);
int store_races_seen(struct store *s, const char *consumer, store_race_id_fn fn, void *user);

/* ---- finished races ---------------------------------------------- */

struct store_result {
	int64_t racer_id;
	const char *name;
	int64_t score;                  /* best output */
	int64_t output;                 /* at the last second */
	double cadence, resistance;     /* at the last second */
	int second;                     /* the last second */
};

struct store_race {
	int64_t race_id;
	int class_id;
	int duration;
	int64_t started_ms, ended_ms;
	const struct store_result *results;
	size_t result_count;
	const int64_t *second_best_output;      /* duration entries, index s-1 for second s,
						 * -1 where none; may be NULL */
	const int64_t *second_best_racer;
};

/* Records a finished race: its results (max-merged with any already
 * stored for it), racer names, personal bests per class (raised only when
 * greater) and per-second class bests (raised only when greater). It
 * writes inside the caller's transaction when there is one (a failure
 * there fails the whole window, as above: a window that dropped the race
 * from live state must not commit without it), and in a transaction of its
 * own otherwise. A race stored before keeps its class; its times widen to
 * cover both. */
int store_finish_race(struct store *s, const struct store_race *race);

/* A record that arrived after its race ended: max-merged into the stored
 * results, personal best and per-second best. Unknown races are recorded
 * (duration and start unknown, ended now). Returns 0, -1 on failure, or 1
 * when the race is stored with another class than the record's: a bad
 * record, nothing written. Transactions as for store_finish_race. */
int store_merge_late(struct store *s, int64_t race_id, int class_id, int64_t racer_id,
		     const char *name, int second, int64_t output, double cadence,
		     double resistance);

typedef void (*store_second_best_fn)(void *user, int class_id, int second, int64_t output);
int store_second_bests(struct store *s, store_second_best_fn fn, void *user);

int store_put_class_name(struct store *s, int class_id, const char *name);

/* ---- queries for history views ----------------------------------- */

struct store_race_row {
	int64_t race_id;
	int class_id;
	const char *class_name;         /* borrowed for the callback; NULL when unnamed */
	int duration;                   /* 0 when unknown (known only from late records) */
	int64_t started_ms, ended_ms;   /* started_ms 0 when unknown */
	int racers;
	int64_t winner_id;              /* 0, NULL and 0 when the race has no results */
	const char *winner_name;
	int64_t winner_score;
};

struct store_result_row {
	int rank;
	int64_t racer_id;
	const char *name;
	int64_t score, output;
	double cadence, resistance;
	int second;
	int64_t gap;
};

struct store_leader_row {
	int rank;
	int64_t racer_id;
	const char *name;
	int64_t score;
	int64_t race_id;
};

struct store_racer_row {               /* one race of a racer */
	int64_t race_id;
	int class_id;
	int64_t score;
	int rank;
	int racers;
	int64_t ended_ms;
};

/* Rows and their strings are borrowed for the callback. A callback may
 * call other store functions, but not the query it is called from. */
typedef void (*store_race_fn)(void *user, const struct store_race_row *row);
typedef void (*store_result_fn)(void *user, const struct store_result_row *row);
typedef void (*store_leader_fn)(void *user, const struct store_leader_row *row);
typedef void (*store_racer_fn)(void *user, const struct store_racer_row *row);

/* One race (0 when found, 1 when not) and its results in rank order. */
int store_race(struct store *s, int64_t race_id, store_race_fn race_fn,
	       store_result_fn result_fn, void *user);

/* Past races, newest first; class_id 0 for every class. */
int store_races(struct store *s, int class_id, size_t limit, size_t offset, store_race_fn fn,
		void *user);

/* A class leaderboard of personal bests, ranks from offset+1. */
int store_class_leaders(struct store *s, int class_id, size_t limit, size_t offset,
			store_leader_fn fn, void *user);

/* A racer's name (NULL when unknown; malloc'd) and races, newest first. */
char *store_racer_name(struct store *s, int64_t racer_id);
int store_racer_races(struct store *s, int64_t racer_id, size_t limit, size_t offset,
		      store_racer_fn fn, void *user);

/* A racer's personal best in each class they rode, with its rank in the
 * class leaderboard. */
struct store_best_row {
	int class_id;
	int64_t score;
	int64_t race_id;
	int rank;
};

typedef void (*store_best_fn)(void *user, const struct store_best_row *row);
int store_racer_bests(struct store *s, int64_t racer_id, store_best_fn fn, void *user);

/* Racers whose name contains text, case-insensitively (ASCII and UTF-8 as
 * SQLite's LIKE folds them), by name. */
typedef void (*store_name_fn)(void *user, int64_t racer_id, const char *name);
int store_search_racers(struct store *s, const char *text, size_t limit, store_name_fn fn,
			void *user);

/* The class name stored for a class (borrowed until the next call), or NULL. */
const char *store_class_name(struct store *s, int class_id);

/* ---- diagnostics ------------------------------------------------- */

enum store_query {
	STORE_QUERY_RACE,
	STORE_QUERY_RACE_RESULTS,
	STORE_QUERY_RACES,
	STORE_QUERY_CLASS_RACES,
	STORE_QUERY_CLASS_LEADERS,
	STORE_QUERY_RACER_RACES,
	STORE_QUERY_SEARCH,
};

/* The plan SQLite chose for a history query: the detail lines of EXPLAIN
 * QUERY PLAN, one per line (malloc'd; NULL on failure). Tests check with
 * it that paging walks an index rather than scanning and sorting. */
char *store_explain(struct store *s, enum store_query query);

#endif
