/* The consumer: a registered enhanced fan-out consumer of a stream.
 *
 * It runs its network loop on a thread of its own: registers the consumer
 * name, lists the shards, subscribes to every one over the push protocol,
 * renews subscriptions as they expire, and after a lost connection
 * reconnects with backoff and resumes after the last record it handed over.
 * Records arrive decoded, in batches per shard and in shard order, through
 * consumer_take; a batch (consumer_batch.h) carries the sequence number to
 * checkpoint once it has been applied. When batches are not taken, the
 * consumer stops reading (the hub lets it lag) instead of buffering without
 * bound (consumer_queue.h). */
#ifndef ALLEYCAT_CONSUMER_H
#define ALLEYCAT_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/consumer_batch.h"
#include "client/endpoint.h"
#include "client/failure.h"

#define CONSUMER_SHARDS_MAX 256        /* shards described in consumer_stats */
/* Kinesis sends a SubscribeToShardEvent at least every 5 s, records or
 * not: three times that without a byte is a stream that will not go on. */
#define CONSUMER_EFO_IDLE_S 15

/* Where a shard with no checkpoint is read from (--from). */
enum consumer_from {
	CONSUMER_FROM_TRIM_HORIZON,     /* the oldest record retained */
	CONSUMER_FROM_LATEST,           /* records written from now on */
	CONSUMER_FROM_TIMESTAMP,        /* records that arrived at or after from_ms */
};

/* How records arrive (DESIGN.md section 8, --read). */
enum consumer_read {
	CONSUMER_READ_PUSH,             /* the hub's WebSocket push */
	CONSUMER_READ_EFO,              /* SubscribeToShard event streams, a registered consumer */
	CONSUMER_READ_POLLING,          /* GetShardIterator and GetRecords, no registration */
};

/* "push", "efo" or "polling". */
const char *consumer_read_name(enum consumer_read read);

/* Where a shard was left: every record up to sequence_number applied; or,
 * when sub_sequence is not 0, every record before it and the first
 * sub_sequence user records of the KPL aggregate it is (read from it again,
 * the caller passes over those: consumer_record.sub). */
struct consumer_checkpoint {
	char shard_id[CONSUMER_SHARD_ID_MAX];
	char sequence_number[CONSUMER_SEQ_MAX];
	uint64_t sub_sequence;
};

struct consumer_config {
	struct endpoint endpoint;
	const char *stream;             /* a stream name, or a stream ARN ("arn:...") */
	const char *name;               /* the registered consumer name */
	enum consumer_read read;
	enum consumer_from from;
	int64_t from_ms;                /* with CONSUMER_FROM_TIMESTAMP: epoch milliseconds */
	const struct consumer_checkpoint *checkpoints;
	size_t checkpoint_count;
	unsigned parallel;              /* lanes decoding each event, 1..PARALLEL_MAX (0: 1) */
	int timeout_s;                  /* an API call's wait for its answer (0: the default) */
	bool raw;                       /* batches keep records whole (consumer_raw):
					 * for a relay such as the hub's mirror */
	bool one_shot;                  /* the caller stops when failure_give_up says so and
					 * says why: only busy failures are logged */
	int efo_idle_s;                 /* efo: a stream silent this long is dropped and
					 * subscribed again (0: CONSUMER_EFO_IDLE_S) */
	/* Called on the consumer's thread after each batch is queued, so a
	 * caller that sleeps in a loop of its own takes it at once (NULL:
	 * none). It must be cheap and safe from any thread. */
	void (*on_batch)(void *user);
	void *batch_user;
};

enum consumer_state {
	CONSUMER_CONNECTING,
	CONSUMER_STREAMING,
	CONSUMER_RECONNECTING,          /* waiting for the backoff to pass */
	CONSUMER_STOPPED,
};

struct consumer_shard_stats {
	char shard_id[CONSUMER_SHARD_ID_MAX];
	uint64_t records, bytes, bad;
	char last_bad[128];             /* why the last bad record was dropped */
	uint64_t broken;                /* efo: event streams that broke (a bad message,
					 * an exception, an early end, silence) */
	char last_broken[128];          /* how the last one broke */
	int64_t lag_ms;                 /* MillisBehindLatest of the last event */
	bool caught_up;                 /* read to its end, or reported 0 behind since the start */
};

struct consumer_stats {
	enum consumer_state state;
	char status[FAILURE_TEXT_MAX + 16]; /* what it is doing, or the last error */
	uint64_t reconnects;
	uint64_t events;
	size_t shard_count;
	struct consumer_shard_stats shards[CONSUMER_SHARDS_MAX];
};

struct consumer;

/* Starts the network thread. NULL with a message in err on failure. */
struct consumer *consumer_start(const struct consumer_config *config, char *err, size_t errlen);

/* Stops the thread and frees everything, batches not taken included. */
void consumer_stop(struct consumer *c);

/* Every batch waiting, oldest first (a list through ->next, the caller's:
 * consumer_batch_free), or NULL. */
struct consumer_batch *consumer_take(struct consumer *c);

/* True when every shard has reported being 0 ms behind since the start
 * and every batch has been taken. */
bool consumer_caught_up(struct consumer *c);

void consumer_stats(struct consumer *c, struct consumer_stats *out);

/* The last failure since the consumer last streamed (client/failure words
 * it), and the time of the first of them; kind FAILURE_NONE and 0 while it
 * streams or before anything failed. For a caller that gives up. */
void consumer_failure(struct consumer *c, struct failure *out, int64_t *since_ms);

#endif
