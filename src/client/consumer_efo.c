/* The enhanced fan-out reader (consumer_private.h, --read efo): one
 * SubscribeToShard request per shard that is ready, its answer an AWS
 * event stream (wire/eventstream) read as it arrives through libcurl
 * (HTTP/2 where TLS offers it, HTTP/1.1 otherwise). Each
 * SubscribeToShardEvent is decoded as a push event is (consumer_take_event),
 * so checkpoints and lineage work as they do for push.
 *
 * A subscription ends after five minutes on AWS (the hub's
 * --subscription-seconds): the shard is subscribed again at once from its
 * position, the last ContinuationSequenceNumber. ResourceInUseException
 * (the last subscription still holds the shard) and LimitExceededException
 * (more than one subscribe a second a shard) make that shard alone wait,
 * doubling up to BACKOFF_MAX_MS, as the KCL does. A broken event stream (a
 * bad prelude or CRC, an exception message, an end inside a message or
 * before the answer was complete, or silence: Kinesis sends an event at
 * least every 5 s, so one silent for config.efo_idle_s is dropped rather
 * than waited on until TCP gives up) is counted in the shard's stats,
 * logged, and the shard subscribed again from its position: nothing past
 * the last event handed over is checkpointed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/consumer_private.h"
#include "util/clock.h"
#include "util/log.h"
#include "wire/eventstream.h"

/* One subscription in flight. */
struct efo_call {
	struct consumer *c;
	unsigned generation;
	char shard_id[CONSUMER_SHARD_ID_MAX];
	struct eventstream_decoder decoder;
	bool broken;                    /* the stream broke: already handled */
};

/* The shard of a call whose answer is still wanted, or NULL. */
static struct subscription *shard_of(struct efo_call *ec)
{
	if (ec->generation != ec->c->generation || atomic_load(&ec->c->stop))
		return NULL;
	return consumer_find_shard(ec->c, ec->shard_id);
}

/* An error of type for the shard: waiting for it is the shard's own
 * business; anything else starts the consumer over. */
static void refused(struct efo_call *ec, struct subscription *s, const char *type, int status,
		    const char *body, size_t len, const char *error)
{
	if (strcmp(type, "ResourceInUseException") == 0 ||
	    strcmp(type, "LimitExceededException") == 0 ||
	    strcmp(type, "ProvisionedThroughputExceededException") == 0)
		consumer_shard_wait_longer(s);
	else
		consumer_call_failed(ec->c, "SubscribeToShard", status, body, len, error);
}

/* An exception message: its type is in a header, not in the payload, so
 * the payload is worded as an error answer that names it. */
static void refused_by_message(struct efo_call *ec, struct subscription *s, const char *type,
			       const struct eventstream_message *m)
{
	json_t *j = json_loadb((const char *)m->payload, m->payload_len, 0, NULL);
	char *body;

	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	json_object_set_new(j, "__type", json_string(type));
	body = json_dumps(j, JSON_COMPACT);
	refused(ec, s, type, 400, body ? body : "", body ? strlen(body) : 0, NULL);
	free(body);
	json_decref(j);
}

/* A SubscribeToShardEvent: its payload is the event without the shard,
 * which the subscription names. */
static void take_event(struct efo_call *ec, const struct eventstream_message *m)
{
	const char *text = (const char *)m->payload, *reason;
	char shard[CONSUMER_SHARD_ID_MAX];
	struct push_event ev;

	if (push_event_scan(text, m->payload_len, &ev, &reason) < 0) {
		if (strcmp(reason, "out of memory") == 0)
			consumer_fail_and_retry(ec->c, "out of memory while reading an event");
		else
			log_warn("consumer %s: %s: %s", ec->c->name, ec->shard_id, reason);
	} else {
		ev.shard_id = (struct js_token){ .type = JS_STRING, .text = ec->shard_id,
						 .len = strlen(ec->shard_id) };
		consumer_take_event(ec->c, &ev, text, m->payload_len, shard);
	}
	push_event_free(&ev);
}

static void take_message(struct efo_call *ec, const struct eventstream_message *m)
{
	const struct eventstream_header *type = eventstream_find(m, ":exception-type");
	struct subscription *s = shard_of(ec);
	char name[128];

	if (s == NULL)
		return;
	if (eventstream_header_is(m, ":message-type", "event")) {
		if (eventstream_header_is(m, ":event-type", "SubscribeToShardEvent"))
			take_event(ec, m);
		return;         /* initial-response, and events a later API adds */
	}
	snprintf(name, sizeof(name), "%.*s", type ? (int)type->bytes_len : 0,
		 type ? (const char *)type->bytes : "");
	ec->broken = true;
	consumer_stream_broke(ec->c, ec->shard_id, name[0] ? name : "a message not an event");
	refused_by_message(ec, s, name, m);
}

/* Bytes of the event stream: every message they complete is taken. */
static int on_bytes(void *user, const char *bytes, size_t len)
{
	struct efo_call *ec = user;
	const uint8_t *p = (const uint8_t *)bytes;
	struct eventstream_message m;
	size_t used;

	/* The caller has not taken what is queued: the stream waits (it
	 * lasts minutes; the shard is not read past what can be held). */
	if (shard_of(ec) && consumer_queue_waits(ec->c))
		return 1;
	while (len > 0 && !ec->broken && shard_of(ec)) {
		switch (eventstream_decoder_step(&ec->decoder, p, len, &used, &m)) {
		case EVENTSTREAM_STEP_MESSAGE:
			take_message(ec, &m);
			break;
		case EVENTSTREAM_STEP_ERROR:
			ec->broken = true;
			consumer_stream_broke(ec->c, ec->shard_id, ec->decoder.error.text);
			return -1;
		case EVENTSTREAM_STEP_MORE:
			break;
		}
		p += used;
		len -= used;
	}
	return ec->broken || shard_of(ec) == NULL ? -1 : 0;
}

/* How a stream that ended broke: NULL when it ended as subscriptions do
 * (or broke in a way already counted), else why. */
static const char *early_end(const struct efo_call *ec, int status, const char *error)
{
	if (ec->broken)
		return NULL;
	if (status == 200 && !eventstream_decoder_idle(&ec->decoder))
		return "it ended inside a message";
	if (status == 0 && error &&
	    (strncmp(error, HTTPC_ERROR_IDLE, strlen(HTTPC_ERROR_IDLE)) == 0 ||
	     strcmp(error, HTTPC_ERROR_CLOSED) == 0))
		return error;
	return NULL;
}

static void on_end(void *user, int status, const char *body, size_t len, const char *error)
{
	struct efo_call *ec = user;
	struct subscription *s = status == HTTPC_CANCELLED ? NULL : shard_of(ec);
	const char *broke = s ? early_end(ec, status, error) : NULL;

	if (s) {
		s->subscribed = false;
		if (broke) {
			consumer_stream_broke(ec->c, ec->shard_id, broke);
		} else if (status == 200 ||
			   (status == 0 && error && strcmp(error, HTTPC_ENDED_BY_READER) == 0)) {
			if (!ec->broken)
				s->throttle_ms = 0;     /* ended as subscriptions do */
		} else if (status == 400 || status == 429 || status == 503) {
			json_t *j = json_loadb(body, len, 0, NULL);
			refused(ec, s, consumer_error_type(j), status, body, len, error);
			json_decref(j);
		} else {
			consumer_call_failed(ec->c, "SubscribeToShard", status, body, len, error);
		}
	}
	eventstream_decoder_free(&ec->decoder);
	free(ec);
}

static void subscribe(struct consumer *c, struct subscription *s)
{
	struct efo_call *ec = calloc(1, sizeof(*ec));
	json_t *body = json_pack("{s:s, s:s, s:o}", "ConsumerARN", c->consumer_arn, "ShardId",
				 s->id, "StartingPosition", consumer_starting_position(c, s));

	if (ec == NULL) {
		json_decref(body);
		consumer_fail_and_retry(c, "out of memory for a subscription");
		return;
	}
	ec->c = c;
	ec->generation = c->generation;
	snprintf(ec->shard_id, sizeof(ec->shard_id), "%s", s->id);
	eventstream_decoder_init(&ec->decoder, 0);
	s->subscribed = true;
	s->retry_at_ms = clock_wall_ms() + 1000;        /* one subscribe a second a shard */
	if (consumer_call_stream(c, "SubscribeToShard", body, on_bytes, on_end, ec) < 0) {
		eventstream_decoder_free(&ec->decoder);
		free(ec);
	}
}

void consumer_efo_tick(struct consumer *c, int64_t now_ms)
{
	bool full = consumer_queue_waits(c);

	if (!full)
		httpc_resume(c->http);
	for (size_t i = 0; !full && c->step == STEP_STREAMING && i < c->shard_count; i++) {
		struct subscription *s = &c->shards[i];

		if (!s->subscribed && now_ms >= s->retry_at_ms && consumer_shard_ready(c, s))
			subscribe(c, s);
	}
}
