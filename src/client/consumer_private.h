/* The consumer's state, shared by the files that make it up and by
 * nothing else:
 *
 *   consumer.c        the shard list, failures and retries, handing
 *                     batches over, the network thread and its timer
 *   consumer_calls.c  the control-plane calls: the stream's ARN, the
 *                     registration, the list of shards
 *   consumer_push.c   the WebSocket connection: subscriptions and events
 *   consumer_poll.c   the polling reader: GetShardIterator and GetRecords
 *   consumer_efo.c    the enhanced fan-out reader: SubscribeToShard event
 *                     streams over HTTP
 *
 * Everything here runs on the network thread, but for what the comments
 * mark as under the lock, which the caller's thread reads too. */
#ifndef ALLEYCAT_CONSUMER_PRIVATE_H
#define ALLEYCAT_CONSUMER_PRIVATE_H

#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>

#include "client/consumer.h"
#include "client/consumer_queue.h"
#include "client/push_event.h"
#include "client/failure.h"
#include "util/strbuf.h"
#include "wire/sigv4.h"

#include "client/httpc.h"
struct parallel;

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 8000
#define CONSUMER_ITERATOR_MAX 1024     /* Kinesis shard iterators run to 512 characters */

enum step {
	STEP_IDLE,                      /* waiting for the backoff, or for the timer */
	STEP_DESCRIBE,                  /* DescribeStreamSummary: the stream ARN */
	STEP_REGISTER,                  /* RegisterStreamConsumer */
	STEP_DESCRIBE_CONSUMER,         /* it was registered already: its ARN */
	STEP_AWAIT_ACTIVE,              /* efo: registered, not ACTIVE yet */
	STEP_LIST_SHARDS,
	STEP_CONNECT,                   /* WebSocket upgrade in progress */
	STEP_STREAMING,
};

struct subscription {
	char id[CONSUMER_SHARD_ID_MAX];
	char position[CONSUMER_SEQ_MAX]; /* resume after this; "" = starting position */
	bool position_partial;          /* resume at it instead: a checkpoint inside
					 * a KPL aggregate (consumer_checkpoint) */
	char parents[2][CONSUMER_SHARD_ID_MAX]; /* read to their end first */
	bool subscribed;                /* SubscribeToShard sent on this connection (efo:
					 * its request is in flight) */
	bool want_subscribe;
	bool finished;                  /* a closed shard read to its end */
	bool caught_up;                 /* reported 0 behind since the start (under the lock;
					 * consumer_stats reports it) */
	int64_t retry_at_ms;            /* resubscribe after ResourceInUse; polling: the
					 * next call (Kinesis allows 5 a second a shard) */
	char iterator[CONSUMER_ITERATOR_MAX]; /* polling: for the next GetRecords ("": get one) */
	bool in_flight;                 /* polling: a call for this shard is out */
	int throttle_ms;                /* polling, efo: the wait after the last refusal */
};

struct consumer {
	struct consumer_config config;
	char stream[129], name[129];
	pthread_t thread;
	struct lws_context *context;   /* the push connection and the timers */
	struct httpc *http;             /* the API calls */
	struct lws *ws;
	lws_sorted_usec_list_t tick;
	lws_sorted_usec_list_t http_tick;
	int http_drive_ms;              /* the next turn of http_tick */
	int http_turns;                 /* turns since the last call started */
	unsigned generation;            /* polling: answers to calls of an older one are stale */
	atomic_bool stop;               /* set by consumer_stop, read by the network thread */
	struct parallel *lanes;            /* decode the records of an event */

	/* Network state: only the network thread touches it. */
	enum step step;
	int64_t next_attempt_ms;
	int backoff_ms;
	char stream_arn[512], consumer_arn[768];
	struct subscription *shards;    /* every shard known: grows under the lock */
	size_t shard_count, shard_capacity;
	struct strbuf in, out;
	bool paused;
	char ws_date[SIGV4_DATE_LEN], ws_auth[SIGV4_AUTH_MAX]; /* the upgrade's signature */

	/* Shared with the caller, under the lock. */
	pthread_mutex_t lock;
	struct consumer_queue queue;
	struct consumer_stats stats;
	struct failure failure;         /* the last since it last streamed */
	int64_t failing_since_ms;       /* the first of them (0: none) */
};

/* ---- consumer.c ------------------------------------------------------ */

void consumer_set_status(struct consumer *c, enum consumer_state state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The shard's entry in the list, or NULL. */
struct subscription *consumer_find_shard(struct consumer *c, const char *id);

/* Adds a shard (or completes what a checkpoint told of it) with its
 * parents: strings in a JSON array, nulls ignored. NULL for a bad id, or
 * when memory runs out (the consumer then starts over). */
struct subscription *consumer_learn_shard(struct consumer *c, const char *id, json_t *parents);

/* Whether the shard may be read now: every parent the consumer knows is
 * read to its end. */
bool consumer_shard_ready(struct consumer *c, const struct subscription *s);

/* Drops the connection and starts over after a backoff, keeping f for
 * consumer_failure. Nothing happens while stopping. */
void consumer_retry_after(struct consumer *c, const struct failure *f);

/* The same for a failure in the consumer's own words (the connection is
 * lost), after the endpoint it concerns. */
void consumer_fail_and_retry(struct consumer *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reading has begun (the push connection is up, or polling starts): the
 * failures end and the status says how the shards are read. */
void consumer_now_streaming(struct consumer *c);

/* Polling and efo start reading every shard afresh from its position:
 * calls still on their way are stale from here on. */
void consumer_begin_reading(struct consumer *c);

/* The shard was refused (throttled, or still held): it alone waits, twice
 * as long as the last time, up to BACKOFF_MAX_MS, as the KCL backs off. */
void consumer_shard_wait_longer(struct subscription *s);

/* Whether reading waits for the caller to take what is queued. */
bool consumer_queue_waits(struct consumer *c);

/* The iterator type of the configured start: TRIM_HORIZON, LATEST or
 * AT_TIMESTAMP (with config.from_ms as consumer_from_seconds). */
const char *consumer_from_type(const struct consumer *c);

/* config.from_ms as Kinesis takes a Timestamp: epoch seconds (a new reference). */
json_t *consumer_from_seconds(const struct consumer *c);

/* SubscribeToShard's StartingPosition for s: after its position (at it,
 * when partly applied), else the configured start (a new reference). */
json_t *consumer_starting_position(const struct consumer *c, const struct subscription *s);

/* The type of that position when s has one: AFTER_SEQUENCE_NUMBER, or
 * AT_SEQUENCE_NUMBER for a record partly applied. */
const char *consumer_position_type(const struct subscription *s);

/* Records up to seq were handed over: reading resumes after it. */
void consumer_shard_moved(struct subscription *s, const char *seq);

/* A closed shard was read to its end: it is finished, and its children
 * (ChildShards: objects with ShardId and ParentShards) are learnt. */
void consumer_shard_ended(struct consumer *c, struct subscription *s, json_t *children);

/* Decodes a scanned SubscribeToShardEvent into a batch and hands it over,
 * the shard's position moving to its continuation; text is the whole
 * event, for the ChildShards of a closed shard's last; shard gets the
 * shard's id. Returns 1 when it ended a closed shard
 * (finished now, its children learnt), 0 when handed over, -1 when dropped:
 * a malformed event (logged) or out of memory (the consumer starts over). */
int consumer_take_event(struct consumer *c, const struct push_event *ev, const char *text,
			size_t len, char shard[CONSUMER_SHARD_ID_MAX]);

/* An event stream of the shard broke (why: how): counted in its stats and
 * logged; the shard is subscribed again from its position. */
void consumer_stream_broke(struct consumer *c, const char *shard_id, const char *why);

/* Queues b for the caller and counts it in the shard's stats: bad records
 * left out, bytes of Data. */
void consumer_hand_over(struct consumer *c, struct consumer_batch *b, size_t bad,
			const char *last_bad, uint64_t bytes);

/* ---- consumer_calls.c ------------------------------------------------ */

/* Starts over from the first call: the stream's ARN, then registration,
 * then the list of shards, after which the push connection is due. */
void consumer_calls_begin(struct consumer *c);

/* A call that did not answer as it should, worded by client/failure (an
 * answer of 200 that lacks what it must hold counts as a broken one);
 * then a retry. */
void consumer_call_failed(struct consumer *c, const char *op, int status, const char *body,
			  size_t len, const char *error);

/* Starts operation op (body stolen, as api_call_start takes it) with done
 * getting user; a call that cannot start is a failure, retried. */
void consumer_call(struct consumer *c, const char *op, json_t *body, httpc_done_fn done,
		   void *user);

/* The same for an event-stream answer (api_call_start_stream): -1 when it
 * cannot start (a failure, retried; done will not be called). */
int consumer_call_stream(struct consumer *c, const char *op, json_t *body, httpc_data_fn data,
			 httpc_done_fn done, void *user);

/* DescribeStreamConsumer: the registered consumer's ARN and status. */
void consumer_calls_describe_consumer(struct consumer *c);

/* body with the stream named in it: StreamARN for an ARN, else StreamName
 * (NULL when that fails, which fails the call). */
json_t *consumer_name_stream(const struct consumer *c, json_t *body);

/* Lists the shards again (new children of a reshard), after which reading
 * starts over from each shard's position. */
void consumer_calls_list_shards(struct consumer *c);

/* The __type of an error answer or message; "" for none. Borrowed from j. */
const char *consumer_error_type(json_t *j);

/* ---- consumer_push.c ------------------------------------------------- */

/* The lws protocol of the push connection, for the consumer's context. */
extern const struct lws_protocols consumer_push_protocols[];

/* Opens the push connection; its callbacks take it from there. */
void consumer_push_connect(struct consumer *c);

/* Queues SubscribeToShard for s, after its position (or at the starting
 * position when it has none). */
void consumer_push_subscribe(struct consumer *c, struct subscription *s);

/* ---- consumer_poll.c ------------------------------------------------- */

/* A turn of the timer: the calls that are due. */
void consumer_poll_tick(struct consumer *c, int64_t now_ms);

/* ---- consumer_efo.c -------------------------------------------------- */

/* A turn of the timer: the subscriptions that are due. */
void consumer_efo_tick(struct consumer *c, int64_t now_ms);

#endif
