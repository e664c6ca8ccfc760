#include "config.h"
#include "client/consumer.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/api_call.h"
#include "client/failure.h"
#include "client/httpc.h"
#include "client/parallel.h"
#include "client/push_event.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/sockopt.h"
#include "util/strbuf.h"
#include "wire/protocol.h"
#include "wire/sigv4.h"

#define TICK_MS 50
/* libcurl's sockets are not in the lws loop: while an API call is in
 * flight, a timer hands libcurl a turn every millisecond for the first
 * HTTP_DRIVE_FAST turns (a near hub answers within them), then less often
 * the longer the answer takes, up to every 20 ms, so that a slow server
 * costs few wake-ups. */
#define HTTP_DRIVE_MIN_MS 1
#define HTTP_DRIVE_MAX_MS 20
#define HTTP_DRIVE_FAST 16
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 8000
#define RETRY_IN_USE_MS 5000
#define QUEUE_MAX 256                   /* batches waiting before reading pauses */
#define MESSAGE_MAX (64u * 1024 * 1024)

enum step {
	STEP_IDLE,                      /* waiting for the backoff, or for the timer */
	STEP_DESCRIBE,                  /* DescribeStreamSummary: the stream ARN */
	STEP_REGISTER,                  /* RegisterStreamConsumer */
	STEP_DESCRIBE_CONSUMER,         /* it was registered already: its ARN */
	STEP_LIST_SHARDS,
	STEP_CONNECT,                   /* WebSocket upgrade in progress */
	STEP_STREAMING,
};

struct subscription {
	char id[CONSUMER_SHARD_ID_MAX];
	char position[CONSUMER_SEQ_MAX]; /* resume after this; "" = starting position */
	char parents[2][CONSUMER_SHARD_ID_MAX]; /* read to their end first */
	bool subscribed;                /* SubscribeToShard sent on this connection */
	bool want_subscribe;
	bool finished;                  /* a closed shard read to its end */
	bool caught_up;                 /* reported 0 behind since the start (under the lock;
					 * consumer_stats reports it) */
	int64_t retry_at_ms;            /* resubscribe after ResourceInUse */
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
	struct consumer_batch *head, *tail;
	size_t queued;
	struct consumer_stats stats;
	struct failure failure;         /* the last since it last streamed */
	int64_t failing_since_ms;       /* the first of them (0: none) */
};

static void set_status(struct consumer *c, enum consumer_state state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_status(struct consumer *c, enum consumer_state state, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->lock);
	c->stats.state = state;
	va_start(ap, fmt);
	vsnprintf(c->stats.status, sizeof(c->stats.status), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&c->lock);
}

static struct consumer_shard_stats *shard_stats(struct consumer *c, const char *id)
{
	for (size_t i = 0; i < c->stats.shard_count; i++)
		if (strcmp(c->stats.shards[i].shard_id, id) == 0)
			return &c->stats.shards[i];
	if (c->stats.shard_count == CONSUMER_SHARDS_MAX)
		return NULL;
	struct consumer_shard_stats *s = &c->stats.shards[c->stats.shard_count++];
	memset(s, 0, sizeof(*s));
	snprintf(s->shard_id, sizeof(s->shard_id), "%s", id);
	return s;
}

static struct subscription *find_shard(struct consumer *c, const char *id)
{
	for (size_t i = 0; i < c->shard_count; i++)
		if (strcmp(c->shards[i].id, id) == 0)
			return &c->shards[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Decoding events                                                     */
/* ------------------------------------------------------------------ */

/* An arrival time in epoch seconds as milliseconds, rounded. A double
 * beyond int64_t makes the conversion undefined, so far-off times from a
 * broken hub are clamped (+-1e15 s is 30 million years). */
static int64_t arrival_ms(double seconds)
{
	if (!(seconds > -1e15))
		return (int64_t)-1e18;
	if (seconds > 1e15)
		return (int64_t)1e18;
	return (int64_t)(seconds * 1000.0 + 0.5);
}

/* Data as base64 text: a span of the event, or unescaped into *copy when
 * the hub escaped a character (JSON allows "\/" for "/"). */
static const char *data_text(const struct js_token *data, size_t *len, char **copy)
{
	*copy = NULL;
	*len = data->len;
	if (!data->escaped)
		return data->text;
	if ((*copy = malloc(data->len)) != NULL)
		*len = jsonscan_unescape(data, *copy, data->len);
	return *copy;
}

static int decode_record(const struct push_event_record *rec, struct consumer_record *out,
			 uint64_t *bytes, const char **reason)
{
	const struct js_token *ts = &rec->arrival;
	size_t len, n;
	unsigned char *raw;
	char *copy;
	const char *data;
	int rc;

	if (rec->data.type != JS_STRING || (ts->type != JS_INTEGER && ts->type != JS_REAL)) {
		*reason = "record without Data or ApproximateArrivalTimestamp";
		return -1;
	}
	/* Telemetry records are small: decode on the stack, not the heap. */
	unsigned char small[2048];
	data = data_text(&rec->data, &len, &copy);
	raw = data == NULL                            ? NULL
	      : base64_decoded_max(len) < sizeof(small) ? small
							: malloc(base64_decoded_max(len) + 1);
	if (raw == NULL) {
		free(copy);
		*reason = "out of memory";
		return -1;
	}
	rc = base64_decode(data, len, raw, &n, reason);
	if (rc == 0) {
		*bytes += n;
		rc = telemetry_decode(raw, n, &out->t, reason);
	}
	if (raw != small)
		free(raw);
	free(copy);
	out->arrival_ms = arrival_ms(jsonscan_double(ts));
	return rc;
}

/* The records of one event being decoded, each into its own slot of the
 * batch, on the lane its partition key picks. */
struct decoding {
	const struct push_event *ev;
	struct consumer_batch *b;
	const char **why;               /* per record: NULL when it is good */
	uint64_t bytes[PARALLEL_MAX];      /* per lane: no sharing between threads */
};

static void decode_one(void *ctx, unsigned lane, size_t i)
{
	struct decoding *d = ctx;

	if (decode_record(&d->ev->records[i], &d->b->records[i], &d->bytes[lane], &d->why[i]) == 0)
		d->why[i] = NULL;
}

static void decode_records(struct decoding *d, struct parallel *lanes, uint8_t *lane_of)
{
	size_t n = d->ev->count;

	if (lanes == NULL || parallel_count(lanes) == 1) {
		for (size_t i = 0; i < n; i++)
			decode_one(d, 0, i);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct js_token *key = &d->ev->records[i].key;
		lane_of[i] = key->type == JS_STRING ? parallel_pick(lanes, key->text, key->len) : 0;
	}
	parallel_run(lanes, lane_of, n, decode_one, d);
}

/* Copies a string field of the event: false when absent or too long. */
static bool take_string(const struct js_token *t, char *out, size_t size)
{
	size_t n;

	if (t->type != JS_STRING || (n = jsonscan_unescape(t, out, size)) >= size)
		return false;
	out[n] = '\0';
	return true;
}

static struct consumer_batch *new_batch(const struct push_event *ev, const char **reason)
{
	struct consumer_batch *b = calloc(1, sizeof(*b) + ev->count * sizeof(b->records[0]));

	if (b == NULL) {
		*reason = "out of memory";
		return NULL;
	}
	bool ok = ev->has_records && take_string(&ev->shard_id, b->shard_id, sizeof(b->shard_id));
	/* A null continuation ends a closed shard: that is what to checkpoint. */
	if (ok && ev->continuation.type == JS_NULL)
		snprintf(b->continuation, sizeof(b->continuation), "%s", CONSUMER_SHARD_END);
	else
		ok = ok && take_string(&ev->continuation, b->continuation, sizeof(b->continuation));
	if (!ok) {
		free(b);
		*reason = "malformed SubscribeToShardEvent";
		return NULL;
	}
	if (ev->millis_behind.type == JS_INTEGER)
		b->millis_behind = jsonscan_int(&ev->millis_behind);
	return b;
}

/* Decodes a scanned SubscribeToShardEvent into a batch: good records in
 * shard order, bad ones counted. */
static struct consumer_batch *decode_event(const struct push_event *ev, struct parallel *lanes,
					   size_t *bad, char *last_bad, size_t last_bad_size,
					   uint64_t *bytes, const char **reason)
{
	struct decoding d = { .ev = ev };
	uint8_t *lane_of;

	*bad = 0;
	if ((d.b = new_batch(ev, reason)) == NULL)
		return NULL;
	d.why = malloc(ev->count * (sizeof(*d.why) + 1) + 1);
	if (d.why == NULL) {
		free(d.b);
		*reason = "out of memory";
		return NULL;
	}
	lane_of = (uint8_t *)(d.why + ev->count);
	decode_records(&d, lanes, lane_of);
	for (size_t i = 0; i < ev->count; i++) {
		if (d.why[i] == NULL) {
			d.b->records[d.b->count++] = d.b->records[i];
		} else if (strcmp(d.why[i], "out of memory") == 0) {
			/* Not a bad record: the whole event waits to be read again. */
			*reason = d.why[i];
			free(d.why);
			free(d.b);
			return NULL;
		} else {
			(*bad)++;
			snprintf(last_bad, last_bad_size, "%s", d.why[i]);
		}
	}
	for (unsigned k = 0; k < PARALLEL_MAX; k++)
		*bytes += d.bytes[k];
	free(d.why);
	return d.b;
}

struct consumer_batch *consumer_decode_event(const char *json, size_t len, struct parallel *lanes,
					     size_t *bad, char *last_bad, size_t last_bad_size,
					     uint64_t *bytes, const char **reason)
{
	struct push_event ev;
	struct consumer_batch *b = NULL;

	*bad = 0;
	if (push_event_scan(json, len, &ev, reason) == 0) {
		if (push_event_is(&ev.event, "SubscribeToShardEvent"))
			b = decode_event(&ev, lanes, bad, last_bad, last_bad_size, bytes, reason);
		else
			*reason = "malformed SubscribeToShardEvent";
	}
	push_event_free(&ev);
	return b;
}

/* ------------------------------------------------------------------ */
/* Handing batches over                                                */
/* ------------------------------------------------------------------ */

/* Under the lock. */
static void append(struct consumer *c, struct consumer_batch *b)
{
	if (c->tail)
		c->tail->next = b;
	else
		c->head = b;
	c->tail = b;
	c->queued++;
}

static void enqueue(struct consumer *c, struct consumer_batch *b, size_t bad,
		    const char *last_bad, uint64_t bytes)
{
	struct consumer_shard_stats *st;
	struct subscription *s;

	pthread_mutex_lock(&c->lock);
	if (b->millis_behind == 0 && (s = find_shard(c, b->shard_id)) != NULL)
		s->caught_up = true;
	st = shard_stats(c, b->shard_id);
	if (st) {
		st->records += b->count;
		st->bytes += bytes;
		st->bad += bad;
		if (bad)
			snprintf(st->last_bad, sizeof(st->last_bad), "%s", last_bad);
		st->lag_ms = b->millis_behind;
	}
	c->stats.events++;
	append(c, b);
	pthread_mutex_unlock(&c->lock);
}

struct consumer_batch *consumer_take(struct consumer *c)
{
	struct consumer_batch *b;

	pthread_mutex_lock(&c->lock);
	b = c->head;
	c->head = c->tail = NULL;
	c->queued = 0;
	pthread_mutex_unlock(&c->lock);
	if (b)
		lws_cancel_service(c->context);        /* reading may resume */
	return b;
}

void consumer_batch_free(struct consumer_batch *b)
{
	while (b) {
		struct consumer_batch *next = b->next;
		free(b);
		b = next;
	}
}

bool consumer_caught_up(struct consumer *c)
{
	bool all;

	pthread_mutex_lock(&c->lock);
	all = c->queued == 0 && c->shard_count > 0;
	for (size_t i = 0; all && i < c->shard_count; i++)
		all = c->shards[i].finished || c->shards[i].caught_up;
	pthread_mutex_unlock(&c->lock);
	return all;
}

void consumer_stats(struct consumer *c, struct consumer_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	for (size_t i = 0; i < out->shard_count; i++) {
		const struct subscription *s = find_shard(c, out->shards[i].shard_id);
		out->shards[i].caught_up = s && (s->finished || s->caught_up);
	}
	pthread_mutex_unlock(&c->lock);
}

void consumer_failure(struct consumer *c, struct failure *out, int64_t *since_ms)
{
	pthread_mutex_lock(&c->lock);
	*out = c->failure;
	*since_ms = c->failing_since_ms;
	pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------------ */
/* Control-plane calls                                                 */
/* ------------------------------------------------------------------ */

/* Something failed: drop the connection and start over after a backoff.
 * The failure is kept for consumer_failure, and logged unless the caller
 * gives up on it and says why itself; the logger counts the repeats. */
static void retry_after(struct consumer *c, const struct failure *f)
{
	if (atomic_load(&c->stop))
		return;         /* closing down: nothing to retry */
	if (c->ws) {
		struct lws *ws = c->ws;
		c->ws = NULL;
		lws_set_opaque_user_data(ws, NULL);
		lws_set_timeout(ws, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
	}
	c->step = STEP_IDLE;
	c->next_attempt_ms = clock_wall_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
	pthread_mutex_lock(&c->lock);
	c->stats.reconnects++;
	c->failure = *f;
	if (c->failing_since_ms == 0)
		c->failing_since_ms = clock_wall_ms();
	pthread_mutex_unlock(&c->lock);
	set_status(c, CONSUMER_RECONNECTING, "%s; retrying", f->text);
	if (!c->config.one_shot || f->kind == FAILURE_BUSY)
		log_warn("consumer %s: %s; retrying", c->name, f->text);
}

static void fail_and_retry(struct consumer *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A failure in the consumer's own words, after the endpoint it concerns:
 * the connection is lost. */
static void fail_and_retry(struct consumer *c, const char *fmt, ...)
{
	struct failure f = { .kind = FAILURE_LOST };
	char url[320];
	va_list ap;
	int n;

	endpoint_url(&c->config.endpoint, url, sizeof(url));
	n = snprintf(f.text, sizeof(f.text), "%s: ", url);
	va_start(ap, fmt);
	vsnprintf(f.text + n, sizeof(f.text) - (size_t)n, fmt, ap);
	va_end(ap);
	retry_after(c, &f);
}

/* A call that did not answer as it should, worded by client/failure. An
 * answer of 200 that lacks what it must hold counts as a broken one. */
static void call_failed(struct consumer *c, const char *op, int status, const char *body,
			size_t len, const char *error)
{
	struct failure f;
	struct failure_call call = { .endpoint = &c->config.endpoint, .op = op,
				     .stream = c->stream };
	char why[128];

	snprintf(why, sizeof(why), "the answer to %s lacks what it must hold", op);
	if (status == 200)
		failure_classify(&f, &call, 0, NULL, 0, why);
	else
		failure_classify(&f, &call, status, body, len, error);
	retry_after(c, &f);
}

static void call(struct consumer *c, const char *op, json_t *body, httpc_done_fn done);

static const char *error_type(json_t *j)
{
	const char *t = json_string_value(json_object_get(j, "__type"));
	return t ? t : "";
}

/* A new entry in the list of shards, which consumer_caught_up reads from
 * the caller's thread. NULL when memory runs out: the consumer then starts
 * over, since a shard left out could be a parent its children would not
 * wait for. */
static struct subscription *add_shard(struct consumer *c, const char *id)
{
	struct subscription *s = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->shard_count == c->shard_capacity) {
		size_t cap = c->shard_capacity ? 2 * c->shard_capacity : 16;
		struct subscription *grown = realloc(c->shards, cap * sizeof(*grown));
		if (grown) {
			c->shards = grown;
			c->shard_capacity = cap;
		}
	}
	if (c->shard_count < c->shard_capacity) {
		s = &c->shards[c->shard_count++];
		memset(s, 0, sizeof(*s));
		snprintf(s->id, sizeof(s->id), "%s", id);
	}
	pthread_mutex_unlock(&c->lock);
	if (s == NULL)
		fail_and_retry(c, "out of memory for the list of shards");
	return s;
}

/* Adds a shard (or completes what a checkpoint told of it) with its
 * parents: strings in a JSON array, nulls ignored. */
static struct subscription *learn_shard(struct consumer *c, const char *id, json_t *parents)
{
	struct subscription *s;
	json_t *p;
	size_t i, k = 0;

	if (id == NULL || strlen(id) >= CONSUMER_SHARD_ID_MAX)
		return NULL;
	s = find_shard(c, id);
	if (s == NULL && (s = add_shard(c, id)) == NULL)
		return NULL;
	json_array_foreach(parents, i, p) {
		const char *parent = json_string_value(p);
		if (parent && strlen(parent) < CONSUMER_SHARD_ID_MAX && k < 2)
			snprintf(s->parents[k++], CONSUMER_SHARD_ID_MAX, "%s", parent);
	}
	return s;
}

/* A shard is read once every parent the consumer knows is read to its
 * end: records of a key then arrive in order across a reshard. */
static bool ready(struct consumer *c, const struct subscription *s)
{
	for (int k = 0; k < 2; k++) {
		const struct subscription *p = s->parents[k][0] ? find_shard(c, s->parents[k]) : NULL;
		if (p && !p->finished)
			return false;
	}
	return !s->finished;
}

static bool listed(json_t *shards, const char *id)
{
	json_t *sh;
	size_t i;

	json_array_foreach(shards, i, sh) {
		const char *listed_id = json_string_value(json_object_get(sh, "ShardId"));
		if (listed_id && strcmp(listed_id, id) == 0)
			return true;
	}
	return false;
}

/* Drops the stats of shards no longer in the list. Under the lock. */
static void forget_stats(struct consumer *c)
{
	size_t keep = 0;

	for (size_t i = 0; i < c->stats.shard_count; i++)
		if (find_shard(c, c->stats.shards[i].shard_id))
			c->stats.shards[keep++] = c->stats.shards[i];
	c->stats.shard_count = keep;
}

/* The hub forgets a closed shard once its records are past retention, as
 * Kinesis does. So does the consumer, checkpoint included (by an empty
 * batch marked gone), so that its lists stay as short as the stream's. */
static void forget_unlisted(struct consumer *c, json_t *shards)
{
	size_t keep = 0;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->shard_count; i++) {
		struct subscription *s = &c->shards[i];
		struct consumer_batch *gone;
		if (listed(shards, s->id)) {
			c->shards[keep++] = *s;
			continue;
		}
		if (!s->finished)
			log_warn("consumer %s: %s is gone from the stream before it was read to its "
				 "end (past retention)", c->name, s->id);
		if ((gone = calloc(1, sizeof(*gone))) != NULL) {
			snprintf(gone->shard_id, sizeof(gone->shard_id), "%s", s->id);
			gone->gone = true;
			append(c, gone);
		}
	}
	c->shard_count = keep;
	forget_stats(c);
	pthread_mutex_unlock(&c->lock);
}

/* A shard checkpointed as read to its end that the stream lists as open
 * is not the shard that was read (an in-memory hub started afresh, a
 * stream made again under its name): it is read whole, from its start. */
static void reopen_if_open(struct consumer *c, struct subscription *s, json_t *range)
{
	const char *start = json_string_value(json_object_get(range, "StartingSequenceNumber"));

	if (s == NULL || !s->finished || json_object_get(range, "EndingSequenceNumber") ||
	    start == NULL || strlen(start) >= sizeof(s->position))
		return;
	log_warn("consumer %s: %s was checkpointed as read to its end but is open: reading it "
		 "from its start", c->name, s->id);
	snprintf(s->position, sizeof(s->position), "%s", start);
	pthread_mutex_lock(&c->lock);
	s->finished = false;
	s->caught_up = false;
	pthread_mutex_unlock(&c->lock);
}

static void on_list_shards(void *user, int status, const char *body, size_t len,
			   const char *error)
{
	struct consumer *c = user;
	json_t *j = json_loadb(body, len, 0, NULL), *shards = json_object_get(j, "Shards"), *sh;
	size_t i;

	if (status != 200 || !json_is_array(shards)) {
		call_failed(c, "ListShards", status, body, len, error);
		json_decref(j);
		return;
	}
	json_array_foreach(shards, i, sh) {
		json_t *parents = json_array();
		json_array_append_new(parents, json_copy(json_object_get(sh, "ParentShardId")));
		json_array_append_new(parents,
				      json_copy(json_object_get(sh, "AdjacentParentShardId")));
		reopen_if_open(c, learn_shard(c, json_string_value(json_object_get(sh, "ShardId")),
					      parents),
			       json_object_get(sh, "SequenceNumberRange"));
		json_decref(parents);
	}
	if (c->step != STEP_LIST_SHARDS) {       /* it failed while learning them */
		json_decref(j);
		return;
	}
	if (json_object_get(j, "NextToken") == NULL)
		forget_unlisted(c, shards);
	json_decref(j);
	c->step = STEP_CONNECT;
	c->next_attempt_ms = 0;
}

static void list_shards(struct consumer *c)
{
	c->step = STEP_LIST_SHARDS;
	/* One page of every shard: only a whole list tells which are gone. */
	call(c, "ListShards", json_pack("{s:s, s:i}", "StreamName", c->stream, "MaxResults", 10000),
	     on_list_shards);
}

static void take_arn(struct consumer *c, json_t *consumer)
{
	const char *arn = json_string_value(json_object_get(consumer, "ConsumerARN"));

	snprintf(c->consumer_arn, sizeof(c->consumer_arn), "%s", arn ? arn : "");
}

static void on_describe_consumer(void *user, int status, const char *body, size_t len,
				 const char *error)
{
	struct consumer *c = user;
	json_t *j = json_loadb(body, len, 0, NULL);

	if (status != 200) {
		call_failed(c, "DescribeStreamConsumer", status, body, len, error);
	} else {
		take_arn(c, json_object_get(j, "ConsumerDescription"));
		list_shards(c);
	}
	json_decref(j);
}

static void on_register(void *user, int status, const char *body, size_t len, const char *error)
{
	struct consumer *c = user;
	json_t *j = json_loadb(body, len, 0, NULL);

	if (status == 200) {
		take_arn(c, json_object_get(j, "Consumer"));
		log_info("registered consumer %s", c->name);
		list_shards(c);
	} else if (status == 400 && strcmp(error_type(j), "ResourceInUseException") == 0) {
		c->step = STEP_DESCRIBE_CONSUMER;
		call(c, "DescribeStreamConsumer",
		     json_pack("{s:s, s:s}", "StreamARN", c->stream_arn, "ConsumerName", c->name),
		     on_describe_consumer);
	} else {
		call_failed(c, "RegisterStreamConsumer", status, body, len, error);
	}
	json_decref(j);
}

static void on_describe(void *user, int status, const char *body, size_t len, const char *error)
{
	struct consumer *c = user;
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *arn = json_string_value(
		json_object_get(json_object_get(j, "StreamDescriptionSummary"), "StreamARN"));

	if (status != 200 || arn == NULL) {
		call_failed(c, "DescribeStreamSummary", status, body, len, error);
	} else {
		snprintf(c->stream_arn, sizeof(c->stream_arn), "%s", arn);
		c->step = STEP_REGISTER;
		call(c, "RegisterStreamConsumer",
		     json_pack("{s:s, s:s}", "StreamARN", arn, "ConsumerName", c->name), on_register);
	}
	json_decref(j);
}

/* Gives libcurl a turn while calls are in flight. */
static void on_http_tick(lws_sorted_usec_list_t *sul)
{
	struct consumer *c = lws_container_of(sul, struct consumer, http_tick);

	if (httpc_perform(c->http) == 0 || atomic_load(&c->stop))
		return;
	lws_sul_schedule(c->context, 0, &c->http_tick, on_http_tick,
			 c->http_drive_ms * LWS_US_PER_MS);
	if (++c->http_turns >= HTTP_DRIVE_FAST && c->http_drive_ms * 2 <= HTTP_DRIVE_MAX_MS)
		c->http_drive_ms *= 2;
}

/* A call just started: it goes out now, and is looked after from here. */
static void drive_http(struct consumer *c)
{
	c->http_drive_ms = HTTP_DRIVE_MIN_MS;
	c->http_turns = 0;
	httpc_perform(c->http);
	lws_sul_schedule(c->context, 0, &c->http_tick, on_http_tick,
			 HTTP_DRIVE_MIN_MS * LWS_US_PER_MS);
}

static void call(struct consumer *c, const char *op, json_t *body, httpc_done_fn done)
{
	if (api_call_start(c->http, &c->config.endpoint, op, body, done, c) < 0)
		fail_and_retry(c, "%s: cannot start a request", op);
	else
		drive_http(c);
}

/* ------------------------------------------------------------------ */
/* The push connection                                                 */
/* ------------------------------------------------------------------ */

static void queue_subscribe(struct consumer *c, struct subscription *s)
{
	json_t *pos;

	if (s->position[0])
		pos = json_pack("{s:s, s:s}", "Type", "AFTER_SEQUENCE_NUMBER", "SequenceNumber",
				s->position);
	else
		pos = json_pack("{s:s}", "Type",
				c->config.from == CONSUMER_FROM_LATEST ? "LATEST" : "TRIM_HORIZON");
	json_t *msg = json_pack("{s:s, s:s, s:s, s:o}", "Action", "SubscribeToShard", "ConsumerARN",
				c->consumer_arn, "ShardId", s->id, "StartingPosition", pos);
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

	json_decref(msg);
	if (text) {
		/* Messages wait in `out`, NUL-separated, for the writable callback. */
		strbuf_puts(&c->out, text);
		strbuf_append(&c->out, "", 1);
		free(text);
	}
	s->subscribed = true;
	s->want_subscribe = false;
	if (c->ws)
		lws_callback_on_writable(c->ws);
}

static void connect_push(struct consumer *c)
{
	struct lws_client_connect_info info;
	char host[300];

	endpoint_host_header(&c->config.endpoint, host, sizeof(host));
	memset(&info, 0, sizeof(info));
	info.context = c->context;
	info.address = c->config.endpoint.host;
	info.port = c->config.endpoint.port;
	info.path = PUSH_PATH;
	info.host = host;
	info.origin = host;
	info.protocol = PUSH_SUBPROTOCOL;
	info.ssl_connection = endpoint_ssl_flags(&c->config.endpoint);
	info.opaque_user_data = c;
	info.pwsi = &c->ws;
	c->step = STEP_CONNECT;
	c->next_attempt_ms = INT64_MAX;
	strbuf_reset(&c->in);
	strbuf_reset(&c->out);
	c->ws_auth[0] = '\0';
	if (c->config.endpoint.credentials &&
	    sigv4_sign(c->config.endpoint.credentials, "GET", PUSH_PATH, host, NULL, 0, "", 0,
		       c->ws_date, c->ws_auth) < 0)
		c->ws_auth[0] = '\0';
	if (lws_client_connect_via_info(&info) == NULL) {
		c->ws = NULL;
		fail_and_retry(c, "cannot open the push connection");
	}
}

static void on_established(struct consumer *c)
{
	pthread_mutex_lock(&c->lock);
	c->failing_since_ms = 0;
	c->failure = (struct failure){ .kind = FAILURE_NONE };
	pthread_mutex_unlock(&c->lock);
	c->step = STEP_STREAMING;
	c->backoff_ms = BACKOFF_MIN_MS;
	for (size_t i = 0; i < c->shard_count; i++)
		if (ready(c, &c->shards[i]))
			queue_subscribe(c, &c->shards[i]);
	set_status(c, CONSUMER_STREAMING, "streaming %zu shards of %s", c->shard_count, c->stream);
}

/* A closed shard was read to its end: its children may now be read. */
static void shard_ended(struct consumer *c, struct subscription *s, json_t *children)
{
	json_t *child;
	size_t i;

	pthread_mutex_lock(&c->lock);      /* consumer_caught_up reads it */
	s->finished = true;
	pthread_mutex_unlock(&c->lock);
	s->subscribed = false;
	json_array_foreach(children, i, child)
		learn_shard(c, json_string_value(json_object_get(child, "ShardId")),
			    json_object_get(child, "ParentShards"));
	for (size_t k = 0; k < c->shard_count; k++)
		if (!c->shards[k].subscribed && ready(c, &c->shards[k]))
			queue_subscribe(c, &c->shards[k]);
}

static void handle_records_event(struct consumer *c, const struct push_event *ev,
				 const char *text, size_t len)
{
	char last_bad[128] = "";
	size_t bad = 0;
	uint64_t bytes = 0;
	const char *reason;
	struct consumer_batch *b = decode_event(ev, c->lanes, &bad, last_bad, sizeof(last_bad),
						&bytes, &reason);
	struct subscription *s;
	json_t *whole = NULL;
	bool end;

	if (b == NULL && strcmp(reason, "out of memory") == 0) {
		/* Resubscribing after the last batch handed over reads the event
		 * again: nothing is checkpointed past records not yet applied. */
		fail_and_retry(c, "out of memory while decoding an event");
		return;
	}
	if (b == NULL) {
		log_warn("consumer %s: %s", c->name, reason);
		return;
	}
	/* The last event of a closed shard names its children: that rare
	 * message is parsed whole for them. */
	end = strcmp(b->continuation, CONSUMER_SHARD_END) == 0;
	if (end && (whole = json_loadb(text, len, 0, NULL)) == NULL) {
		consumer_batch_free(b);
		fail_and_retry(c, "out of memory while reading the end of a shard");
		return;
	}
	s = find_shard(c, b->shard_id);
	if (s && !end)
		snprintf(s->position, sizeof(s->position), "%s", b->continuation);
	enqueue(c, b, bad, last_bad, bytes);
	if (s && end)
		shard_ended(c, s, json_object_get(whole, "ChildShards"));
	json_decref(whole);
}

/* Messages other than records: expiries and exceptions. */
static void handle_control_message(struct consumer *c, const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	const char *event = json_string_value(json_object_get(j, "Event"));
	const char *shard_id = json_string_value(json_object_get(j, "ShardId"));
	struct subscription *s = shard_id ? find_shard(c, shard_id) : NULL;

	if (event == NULL) {
		log_warn("consumer %s: a message that is not an event", c->name);
	} else if (strcmp(event, "SubscriptionExpired") == 0 && s) {
		const char *cont = json_string_value(json_object_get(j, "ContinuationSequenceNumber"));
		if (cont && strlen(cont) < sizeof(s->position))
			snprintf(s->position, sizeof(s->position), "%s", cont);
		queue_subscribe(c, s);
	} else if (strcmp(event, "Exception") == 0) {
		const char *type = error_type(j);
		if (s && strcmp(type, "ResourceInUseException") == 0) {
			/* Another subscription holds the shard: try again later. */
			s->subscribed = false;
			s->want_subscribe = true;
			s->retry_at_ms = clock_wall_ms() + RETRY_IN_USE_MS;
		} else {
			call_failed(c, "SubscribeToShard", 400, text, len, NULL);
		}
	}
	json_decref(j);
}

static void handle_message(struct consumer *c, const char *text, size_t len)
{
	struct push_event ev;
	const char *reason;

	if (push_event_scan(text, len, &ev, &reason) < 0) {
		if (strcmp(reason, "out of memory") == 0)
			fail_and_retry(c, "out of memory while reading an event");
		else
			log_warn("consumer %s: %s", c->name, reason);
	} else if (push_event_is(&ev.event, "SubscribeToShardEvent")) {
		handle_records_event(c, &ev, text, len);
	} else {
		handle_control_message(c, text, len);
	}
	push_event_free(&ev);
}

static int write_pending(struct consumer *c, struct lws *wsi)
{
	size_t n;
	unsigned char *buf;

	if (c->out.len == 0)
		return 0;
	n = strlen(c->out.data);
	buf = malloc(LWS_PRE + n);
	if (buf == NULL)
		return -1;
	memcpy(buf + LWS_PRE, c->out.data, n);
	if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n) {
		free(buf);
		return -1;
	}
	free(buf);
	memmove(c->out.data, c->out.data + n + 1, c->out.len - n - 1);
	c->out.len -= n + 1;
	if (c->out.len)
		lws_callback_on_writable(wsi);
	return 0;
}

/* The upgrade request carries a SigV4 signature, as the API calls do. */
static int sign_upgrade(struct consumer *c, struct lws *wsi, void *in, size_t len)
{
	unsigned char **p = in, *end = *p + len;
	const struct sigv4_credentials *cred = c->config.endpoint.credentials;

	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-amz-date:",
					(const unsigned char *)c->ws_date, (int)strlen(c->ws_date),
					p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"authorization:",
					(const unsigned char *)c->ws_auth, (int)strlen(c->ws_auth),
					p, end))
		return -1;
	if (cred->session_token &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-amz-security-token:",
					(const unsigned char *)cred->session_token,
					(int)strlen(cred->session_token), p, end))
		return -1;
	return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	struct consumer *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return c && c->ws_auth[0] ? sign_upgrade(c, wsi, in, len) : 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (c == NULL)
			return -1;
		sockopt_no_delay(lws_get_socket_fd(wsi));
		on_established(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c == NULL)
			return -1;
		if (c->in.len + len > MESSAGE_MAX)
			return -1;
		strbuf_append(&c->in, in, len);
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			handle_message(c, c->in.data ? c->in.data : "", c->in.len);
			strbuf_reset(&c->in);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return c ? write_pending(c, wsi) : 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c) {
			c->ws = NULL;
			fail_and_retry(c, "cannot subscribe: %s", in ? (char *)in : "connection error");
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c) {
			c->ws = NULL;
			fail_and_retry(c, "the hub closed the connection");
		}
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{ PUSH_SUBPROTOCOL, ws_callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* ------------------------------------------------------------------ */
/* The thread                                                          */
/* ------------------------------------------------------------------ */

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct consumer *c = lws_container_of(sul, struct consumer, tick);
	int64_t now = clock_wall_ms();
	size_t queued;

	if (c->step == STEP_IDLE && now >= c->next_attempt_ms) {
		c->step = STEP_DESCRIBE;
		set_status(c, CONSUMER_CONNECTING, "connecting to %s:%d", c->config.endpoint.host,
			   c->config.endpoint.port);
		call(c, "DescribeStreamSummary", json_pack("{s:s}", "StreamName", c->stream),
		     on_describe);
	} else if (c->step == STEP_CONNECT && c->ws == NULL && now >= c->next_attempt_ms) {
		connect_push(c);
	}
	for (size_t i = 0; c->step == STEP_STREAMING && i < c->shard_count; i++)
		if (c->shards[i].want_subscribe && now >= c->shards[i].retry_at_ms)
			queue_subscribe(c, &c->shards[i]);

	/* Stop reading while the caller has not taken what is queued. */
	pthread_mutex_lock(&c->lock);
	queued = c->queued;
	pthread_mutex_unlock(&c->lock);
	if (c->ws && (queued >= QUEUE_MAX) != c->paused) {
		c->paused = queued >= QUEUE_MAX;
		lws_rx_flow_control(c->ws, c->paused ? 0 : 1);
	}
	if (!atomic_load(&c->stop))
		lws_sul_schedule(c->context, 0, &c->tick, on_tick, TICK_MS * LWS_US_PER_MS);
}

static void *run(void *arg)
{
	struct consumer *c = arg;

	lws_sul_schedule(c->context, 0, &c->tick, on_tick, 1);
	while (!atomic_load(&c->stop))
		if (lws_service(c->context, 0) < 0)
			break;
	return NULL;
}

/* Everything consumer_start made, whatever it got to; the thread is not
 * running. The push connection closes and the calls in flight are
 * cancelled first: their callbacks still see the consumer (stopped, so
 * they retry nothing). */
static void consumer_free(struct consumer *c)
{
	if (c->context)
		lws_context_destroy(c->context);
	httpc_free(c->http);
	parallel_free(c->lanes);
	consumer_batch_free(c->head);
	strbuf_free(&c->in);
	strbuf_free(&c->out);
	free(c->shards);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* A client-only lws context for the push connection, trusting ca_file
 * (NULL: the system's CAs), with libwebsockets' log routed into ours. */
static struct lws_context *client_context_new(const struct lws_protocols *list,
					      const char *ca_file, unsigned fd_limit)
{
	struct lws_context_creation_info info;

	log_capture_lws();
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = list;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.client_ssl_ca_filepath = ca_file;
	info.fd_limit_per_thread = fd_limit;
	return lws_create_context(&info);
}

struct consumer *consumer_start(const struct consumer_config *config, char *err, size_t errlen)
{
	struct consumer *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->config = *config;
	snprintf(c->stream, sizeof(c->stream), "%s", config->stream);
	snprintf(c->name, sizeof(c->name), "%s", config->name);
	c->config.stream = c->stream;
	c->config.name = c->name;
	c->config.checkpoints = NULL;
	c->backoff_ms = BACKOFF_MIN_MS;
	pthread_mutex_init(&c->lock, NULL);
	for (size_t i = 0; i < config->checkpoint_count; i++) {
		struct subscription *s = add_shard(c, config->checkpoints[i].shard_id);
		if (s == NULL) {
			snprintf(err, errlen, "out of memory");
			consumer_free(c);
			return NULL;
		}
		snprintf(s->position, sizeof(s->position), "%s",
			 config->checkpoints[i].sequence_number);
		/* Read to its end before: only its children are left to read. */
		if (strcmp(s->position, CONSUMER_SHARD_END) == 0) {
			s->finished = true;
			s->position[0] = '\0';
		}
	}
	set_status(c, CONSUMER_CONNECTING, "starting");

	c->lanes = parallel_new(config->parallel ? config->parallel : 1);
	c->http = c->lanes ? httpc_new(config->timeout_s) : NULL;
	c->context = c->http ? client_context_new(protocols, config->endpoint.ca_file, 64) : NULL;
	if (c->context == NULL) {
		snprintf(err, errlen, "cannot start the %s",
			 c->lanes ? "network client" : "decoding threads");
		consumer_free(c);
		return NULL;
	}
	if (pthread_create(&c->thread, NULL, run, c) != 0) {
		snprintf(err, errlen, "cannot start the consumer thread");
		consumer_free(c);
		return NULL;
	}
	return c;
}

void consumer_stop(struct consumer *c)
{
	if (c == NULL)
		return;
	atomic_store(&c->stop, true);
	lws_cancel_service(c->context);
	pthread_join(c->thread, NULL);
	consumer_free(c);
}
