/* Live standings kept by a consumer: records from the stream go into the
 * ranking engine, and at the end of every tumbling window the live races,
 * the races that ended and the checkpoints that cover them are committed
 * to the history store in one transaction. A consumer killed at any moment
 * restarts from that commit: nothing lost, nothing counted twice. */
#ifndef ALLEYCAT_LIVE_H
#define ALLEYCAT_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "client/consumer.h"

struct engine;
struct store;
struct roster;

struct live_config {
	struct endpoint endpoint;
	const char *stream;
	const char *consumer;           /* registered consumer name */
	enum consumer_read read;        /* how records arrive */
	enum consumer_from from;        /* where a shard with no checkpoint starts */
	int64_t from_ms;                /* with CONSUMER_FROM_TIMESTAMP */
	const char *db_path;
	int window_s;                   /* tumbling window, default 15 */
	uint64_t window_records;        /* a window also ends after this many records
					 * (0: no limit), inside a KPL aggregate too */
	int grace_s;                    /* a race with no records this long ends */
	int duration;                   /* race length */
	const struct roster *roster;    /* class names; may be NULL */
	unsigned parallel;              /* threads decoding a shard's records (0: 1) */
	int timeout_s;                  /* an API call's wait for its answer (0: the default) */
	bool one_shot;                  /* the caller gives up on failures (consumer.h) */
};

struct live_stats {
	uint64_t applied, duplicates, late, rejected;
	/* Records decoded but not applied as bad: so far those of another class
	 * than their race's (other_class), which means two producers took one
	 * raceId; last_bad says what the last one was. */
	uint64_t bad, other_class;
	char last_bad[160];
	uint64_t windows, commit_failures;
	int64_t last_ended_race;        /* stored and dropped from live state last, 0 none */
	int64_t last_commit_ms;         /* wall time of the last good commit */
	double last_commit_latency_ms;
	char store_error[256];          /* the last failure, "" when healthy */
};

struct live;

/* Opens the history, restores live races and checkpoints, and starts the
 * consumer. NULL with a message in err on failure. */
struct live *live_open(const struct live_config *config, char *err, size_t errlen);

/* Applies what has arrived and, when a window has passed, commits. */
void live_poll(struct live *l, int64_t now_ms);

/* Applies a list of batches (through ->next, still the caller's) as if
 * they had arrived: live_poll's first half, for tests. */
void live_apply(struct live *l, const struct consumer_batch *batches, int64_t now_ms);

/* Commits now (on exit: what was applied is not applied again). */
void live_commit(struct live *l, int64_t now_ms);

/* Caught up with the stream, everything taken applied. */
bool live_caught_up(struct live *l);

struct engine *live_engine(struct live *l);
struct store *live_store(struct live *l);
struct consumer *live_consumer(struct live *l);
void live_stats(const struct live *l, struct live_stats *out);

/* Commits and stops. */
void live_close(struct live *l, int64_t now_ms);

#endif
