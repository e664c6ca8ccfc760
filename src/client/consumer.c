/* The consumer (consumer.h): the state the caller shares with the network
 * thread, failures and the backoff before the next try, the batch queue as
 * the caller sees it, and the thread with its timer. The control-plane
 * calls are in consumer_calls.c, the push connection in consumer_push.c. */
#include "config.h"
#include "client/consumer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/consumer_private.h"
#include "client/httpc.h"
#include "client/parallel.h"
#include "util/clock.h"
#include "util/log.h"

#define TICK_MS 50

/* ------------------------------------------------------------------ */
/* The shard list and the stats                                       */
/* ------------------------------------------------------------------ */

void consumer_set_status(struct consumer *c, enum consumer_state state, const char *fmt, ...)
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

struct subscription *consumer_find_shard(struct consumer *c, const char *id)
{
	for (size_t i = 0; i < c->shard_count; i++)
		if (strcmp(c->shards[i].id, id) == 0)
			return &c->shards[i];
	return NULL;
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
		consumer_fail_and_retry(c, "out of memory for the list of shards");
	return s;
}

/* Adds a shard (or completes what a checkpoint told of it) with its
 * parents: strings in a JSON array, nulls ignored. */
struct subscription *consumer_learn_shard(struct consumer *c, const char *id, json_t *parents)
{
	struct subscription *s;
	json_t *p;
	size_t i, k = 0;

	if (id == NULL || strlen(id) >= CONSUMER_SHARD_ID_MAX)
		return NULL;
	s = consumer_find_shard(c, id);
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
bool consumer_shard_ready(struct consumer *c, const struct subscription *s)
{
	for (int k = 0; k < 2; k++) {
		const struct subscription *p =
			s->parents[k][0] ? consumer_find_shard(c, s->parents[k]) : NULL;

		if (p && !p->finished)
			return false;
	}
	return !s->finished;
}

void consumer_shard_ended(struct consumer *c, struct subscription *s, json_t *children)
{
	json_t *child;
	size_t i;

	pthread_mutex_lock(&c->lock);      /* consumer_caught_up reads it */
	s->finished = true;
	pthread_mutex_unlock(&c->lock);
	/* Learning a child may move the list: s is not used after this. */
	json_array_foreach(children, i, child)
		consumer_learn_shard(c, json_string_value(json_object_get(child, "ShardId")),
				     json_object_get(child, "ParentShards"));
}

const char *consumer_read_name(enum consumer_read read)
{
	switch (read) {
	case CONSUMER_READ_EFO: return "efo";
	case CONSUMER_READ_POLLING: return "polling";
	default: return "push";
	}
}

void consumer_begin_reading(struct consumer *c)
{
	c->generation++;
	for (size_t i = 0; i < c->shard_count; i++) {
		struct subscription *s = &c->shards[i];
		s->iterator[0] = '\0';
		s->in_flight = false;
		s->subscribed = false;
		s->retry_at_ms = 0;
		s->throttle_ms = 0;
	}
	consumer_now_streaming(c);
}

void consumer_shard_wait_longer(struct subscription *s)
{
	s->throttle_ms = s->throttle_ms ? s->throttle_ms * 2 : BACKOFF_MIN_MS * 2;
	if (s->throttle_ms > BACKOFF_MAX_MS)
		s->throttle_ms = BACKOFF_MAX_MS;
	s->retry_at_ms = clock_wall_ms() + s->throttle_ms;
}

bool consumer_queue_waits(struct consumer *c)
{
	bool full;

	pthread_mutex_lock(&c->lock);
	full = consumer_queue_full(&c->queue);
	pthread_mutex_unlock(&c->lock);
	return full;
}

const char *consumer_from_type(const struct consumer *c)
{
	switch (c->config.from) {
	case CONSUMER_FROM_LATEST: return "LATEST";
	case CONSUMER_FROM_TIMESTAMP: return "AT_TIMESTAMP";
	default: return "TRIM_HORIZON";
	}
}

json_t *consumer_from_seconds(const struct consumer *c)
{
	return json_real((double)c->config.from_ms / 1000.0);
}

const char *consumer_position_type(const struct subscription *s)
{
	return s->position_partial ? "AT_SEQUENCE_NUMBER" : "AFTER_SEQUENCE_NUMBER";
}

void consumer_shard_moved(struct subscription *s, const char *seq)
{
	snprintf(s->position, sizeof(s->position), "%s", seq);
	s->position_partial = false;
}

json_t *consumer_starting_position(const struct consumer *c, const struct subscription *s)
{
	if (s->position[0])
		return json_pack("{s:s, s:s}", "Type", consumer_position_type(s), "SequenceNumber",
				 s->position);
	if (c->config.from == CONSUMER_FROM_TIMESTAMP)
		return json_pack("{s:s, s:o}", "Type", consumer_from_type(c), "Timestamp",
				 consumer_from_seconds(c));
	return json_pack("{s:s}", "Type", consumer_from_type(c));
}

void consumer_now_streaming(struct consumer *c)
{
	pthread_mutex_lock(&c->lock);
	c->failing_since_ms = 0;
	c->failure = (struct failure){ .kind = FAILURE_NONE };
	pthread_mutex_unlock(&c->lock);
	c->step = STEP_STREAMING;
	c->backoff_ms = BACKOFF_MIN_MS;
	consumer_set_status(c, CONSUMER_STREAMING, "reading %zu shards of %s (%s)", c->shard_count,
			    c->stream, consumer_read_name(c->config.read));
}

/* ------------------------------------------------------------------ */
/* Failures                                                           */
/* ------------------------------------------------------------------ */

/* Something failed: drop the connection and start over after a backoff.
 * The failure is kept for consumer_failure, and logged unless the caller
 * gives up on it and says why itself; the logger counts the repeats. */
void consumer_retry_after(struct consumer *c, const struct failure *f)
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
	c->generation++;        /* polling answers still on their way are stale */
	c->next_attempt_ms = clock_wall_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
	pthread_mutex_lock(&c->lock);
	c->stats.reconnects++;
	c->failure = *f;
	if (c->failing_since_ms == 0)
		c->failing_since_ms = clock_wall_ms();
	pthread_mutex_unlock(&c->lock);
	consumer_set_status(c, CONSUMER_RECONNECTING, "%s; retrying", f->text);
	if (!c->config.one_shot || f->kind == FAILURE_BUSY)
		log_warn("consumer %s: %s; retrying", c->name, f->text);
}

/* A failure in the consumer's own words, after the endpoint it concerns:
 * the connection is lost. */
void consumer_fail_and_retry(struct consumer *c, const char *fmt, ...)
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
	consumer_retry_after(c, &f);
}

/* ------------------------------------------------------------------ */
/* Handing batches over                                               */
/* ------------------------------------------------------------------ */

void consumer_stream_broke(struct consumer *c, const char *shard_id, const char *why)
{
	struct consumer_shard_stats *st;

	log_warn("consumer %s: %s: the event stream broke (%s); subscribing again", c->name,
		 shard_id, why);
	pthread_mutex_lock(&c->lock);
	if ((st = shard_stats(c, shard_id)) != NULL) {
		st->broken++;
		snprintf(st->last_broken, sizeof(st->last_broken), "%s", why);
	}
	pthread_mutex_unlock(&c->lock);
}

void consumer_hand_over(struct consumer *c, struct consumer_batch *b, size_t bad,
			const char *last_bad, uint64_t bytes)
{
	struct consumer_shard_stats *st;
	struct subscription *s;

	pthread_mutex_lock(&c->lock);
	if (b->millis_behind == 0 && (s = consumer_find_shard(c, b->shard_id)) != NULL)
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
	consumer_queue_append(&c->queue, b);
	pthread_mutex_unlock(&c->lock);
	if (c->config.on_batch)
		c->config.on_batch(c->config.batch_user);
}

int consumer_take_event(struct consumer *c, const struct push_event *ev, const char *text,
			size_t len, char shard[CONSUMER_SHARD_ID_MAX])
{
	char last_bad[128] = "";
	size_t bad = 0;
	uint64_t bytes = 0;
	const char *reason;
	struct consumer_batch *b =
		c->config.raw ? consumer_batch_decode_raw(ev, &bad, last_bad, sizeof(last_bad),
							  &bytes, &reason)
			      : consumer_batch_decode(ev, c->lanes, &bad, last_bad, sizeof(last_bad),
						      &bytes, &reason);
	struct subscription *s;
	json_t *whole = NULL;
	bool end;

	if (b == NULL && strcmp(reason, "out of memory") == 0) {
		/* Resubscribing after the last batch handed over reads the event
		 * again: nothing is checkpointed past records not yet applied. */
		consumer_fail_and_retry(c, "out of memory while decoding an event");
		return -1;
	}
	if (b == NULL) {
		log_warn("consumer %s: %s", c->name, reason);
		return -1;
	}
	/* The last event of a closed shard names its children: that rare
	 * message is parsed whole for them. */
	end = strcmp(b->continuation, CONSUMER_SHARD_END) == 0;
	if (end && (whole = json_loadb(text, len, 0, NULL)) == NULL) {
		consumer_batch_free(b);
		consumer_fail_and_retry(c, "out of memory while reading the end of a shard");
		return -1;
	}
	s = consumer_find_shard(c, b->shard_id);
	if (s && !end)
		consumer_shard_moved(s, b->continuation);
	snprintf(shard, CONSUMER_SHARD_ID_MAX, "%s", b->shard_id);
	consumer_hand_over(c, b, bad, last_bad, bytes);
	if (s && end)
		consumer_shard_ended(c, s, json_object_get(whole, "ChildShards"));
	json_decref(whole);
	return s && end ? 1 : s ? 0 : -1;
}

struct consumer_batch *consumer_take(struct consumer *c)
{
	struct consumer_batch *b;

	pthread_mutex_lock(&c->lock);
	b = consumer_queue_take(&c->queue);
	pthread_mutex_unlock(&c->lock);
	if (b)
		lws_cancel_service(c->context);        /* reading may resume */
	return b;
}

bool consumer_caught_up(struct consumer *c)
{
	bool all;

	pthread_mutex_lock(&c->lock);
	all = consumer_queue_length(&c->queue) == 0 && c->shard_count > 0;
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
		const struct subscription *s = consumer_find_shard(c, out->shards[i].shard_id);
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
/* The thread                                                         */
/* ------------------------------------------------------------------ */

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct consumer *c = lws_container_of(sul, struct consumer, tick);
	int64_t now = clock_wall_ms();
	bool full;

	if (c->step == STEP_IDLE && now >= c->next_attempt_ms)
		consumer_calls_begin(c);
	else if (c->step == STEP_AWAIT_ACTIVE && now >= c->next_attempt_ms)
		consumer_calls_describe_consumer(c);
	else if (c->step == STEP_CONNECT && c->ws == NULL && now >= c->next_attempt_ms) {
		if (c->config.read == CONSUMER_READ_PUSH)
			consumer_push_connect(c);
		else
			consumer_begin_reading(c);
	}
	if (c->step == STEP_STREAMING && c->config.read == CONSUMER_READ_POLLING)
		consumer_poll_tick(c, now);
	if (c->step == STEP_STREAMING && c->config.read == CONSUMER_READ_EFO)
		consumer_efo_tick(c, now);
	for (size_t i = 0; c->step == STEP_STREAMING && c->config.read == CONSUMER_READ_PUSH && i < c->shard_count; i++)
		if (c->shards[i].want_subscribe && now >= c->shards[i].retry_at_ms)
			consumer_push_subscribe(c, &c->shards[i]);

	/* Stop reading while the caller has not taken what is queued. */
	full = consumer_queue_waits(c);
	if (c->ws && full != c->paused) {
		c->paused = full;
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
	consumer_queue_free(&c->queue);
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
		s->position_partial = config->checkpoints[i].sub_sequence > 0;
		/* Read to its end before: only its children are left to read. */
		if (strcmp(s->position, CONSUMER_SHARD_END) == 0) {
			s->finished = true;
			s->position[0] = '\0';
		}
	}
	consumer_set_status(c, CONSUMER_CONNECTING, "starting");

	c->lanes = parallel_new(config->parallel ? config->parallel : 1);
	c->http = c->lanes ? httpc_new(config->timeout_s) : NULL;
	if (c->http)
		httpc_set_stream_idle(c->http, config->efo_idle_s ? config->efo_idle_s
								  : CONSUMER_EFO_IDLE_S);
	c->context = c->http ? client_context_new(consumer_push_protocols,
						  config->endpoint.ca_file, 64)
			     : NULL;
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
