/* SubscribeToShard sessions without a network: every message is a valid
 * event-stream message; an initial-response comes first, then events with
 * the records in order and a continuation to resume from; a stream ends
 * after the subscription's lifetime or at a closed shard's end (with its
 * child shards); takeovers, over this transport or the WebSocket push, end
 * the older subscription with ResourceInUseException; requests that open
 * nothing are refused as AWS refuses them; and a backlog is never read
 * faster than the client pulls, one bounded message at a time. */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/hub.h"
#include "hub/push.h"
#include "hub/subscribe.h"
#include "util/base64.h"
#include "util/errtext.h"
#include "wire/eventstream.h"
#include "wire/protocol.h"

#define NOW 1795659501000LL
#define LIFETIME_S 30

struct fixture {
	struct hub *hub;
	struct push push;
	struct stream *stream;
	size_t shard;                   /* where the key "k" of every record goes */
	struct subscribe_session a, b;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hub_config config;
	char err[ERR_TEXT_MAX];

	hub_config_defaults(&config);
	config.subscription_seconds = LIFETIME_S;
	config.limits.shard_records_per_sec = 0;
	config.limits.shard_bytes_per_sec = 0;
	f->hub = hub_open(&config, NOW, err, sizeof(err));
	assert_non_null(f->hub);
	f->stream = hub_create_stream(f->hub, "alleycat", 2, NOW);
	hub_register_consumer(f->hub, f->stream, "board", NOW);
	hub_register_consumer(f->hub, f->stream, "watch", NOW);
	f->shard = stream_shard_for(f->stream, hashkey_of_partition_key("k", 1));
	push_init(&f->push, f->hub);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	subscribe_close(&f->push, &f->a);
	subscribe_close(&f->push, &f->b);
	hub_close(f->hub);
	free(f);
	return 0;
}

static int start(struct fixture *f, struct subscribe_session *s, int consumer, const char *position,
		 int64_t now, struct subscribe_refusal *refusal)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "{\"ConsumerARN\":\"%s\",\"ShardId\":\"shardId-%012zu\","
		 "\"StartingPosition\":%s}",
		 f->stream->consumers[consumer].arn, f->shard, position);
	return subscribe_start(&f->push, s, NULL, body, strlen(body), now, refusal);
}

static void put(struct fixture *f, const char *data, size_t len, int64_t now)
{
	struct put_entry e = { .key = "k", .key_len = 1, .hash = hashkey_of_partition_key("k", 1),
			       .data = data, .data_len = len };
	struct put_result r;

	hub_put(f->hub, f->stream, &e, 1, &r, now);
	assert_int_equal(r.status, PUT_OK);
}

/* One pulled message. */
struct message {
	enum subscribe_step step;
	char message_type[16], type[64];
	json_t *payload;
	size_t size;
};

static void header_text(const struct eventstream_message *m, const char *name, char *out,
			size_t size)
{
	const struct eventstream_header *h = eventstream_find(m, name);

	out[0] = '\0';
	if (h && h->type == EVENTSTREAM_STRING && h->bytes_len < size) {
		memcpy(out, h->bytes, h->bytes_len);
		out[h->bytes_len] = '\0';
	}
}

/* Pulls the next message and decodes it: it must be exactly one valid
 * message with JSON content. */
static struct message pull(struct fixture *f, struct subscribe_session *s, int64_t now)
{
	struct message msg = { 0 };
	struct eventstream_message m;
	struct eventstream_error err;
	struct strbuf out;

	strbuf_init(&out);
	msg.step = subscribe_next(&f->push, s, now, &out);
	if (msg.step != SUBSCRIBE_MESSAGE) {
		assert_int_equal(out.len, 0);
		strbuf_free(&out);
		return msg;
	}
	assert_false(out.failed);
	assert_int_equal(eventstream_decode((uint8_t *)out.data, out.len, &m, &err), (long)out.len);
	assert_true(eventstream_header_is(&m, ":content-type", "application/json"));
	header_text(&m, ":message-type", msg.message_type, sizeof(msg.message_type));
	header_text(&m, strcmp(msg.message_type, "exception") == 0 ? ":exception-type" : ":event-type",
		    msg.type, sizeof(msg.type));
	msg.payload = json_loadb((const char *)m.payload, m.payload_len, 0, NULL);
	assert_non_null(msg.payload);
	msg.size = out.len;
	strbuf_free(&out);
	return msg;
}

static void expect_event(struct message *msg, const char *type)
{
	assert_int_equal(msg->step, SUBSCRIBE_MESSAGE);
	assert_string_equal(msg->message_type, "event");
	assert_string_equal(msg->type, type);
}

/* Starts a session that must open, and reads its initial-response. */
static void open_session(struct fixture *f, struct subscribe_session *s, int consumer,
			 const char *position, int64_t now)
{
	struct subscribe_refusal why;
	struct message m;

	assert_int_equal(start(f, s, consumer, position, now, &why), 0);
	m = pull(f, s, now);
	expect_event(&m, "initial-response");
	json_decref(m.payload);
}

static json_t *records(struct message *msg)
{
	return json_object_get(msg->payload, "Records");
}

static const char *continuation(struct message *msg)
{
	return json_string_value(json_object_get(msg->payload, "ContinuationSequenceNumber"));
}

static void test_initial_response_then_records(void **state)
{
	struct fixture *f = *state;
	struct subscribe_refusal why;
	struct message m;
	json_t *r;
	char data[64];

	assert_int_equal(start(f, &f->a, 0, "{\"Type\":\"TRIM_HORIZON\"}", NOW, &why), 0);
	m = pull(f, &f->a, NOW);
	expect_event(&m, "initial-response");
	assert_int_equal(json_object_size(m.payload), 0);
	json_decref(m.payload);
	/* The subscription's first event goes out at once, records or not. */
	m = pull(f, &f->a, NOW);
	expect_event(&m, "SubscribeToShardEvent");
	assert_int_equal(json_array_size(records(&m)), 0);
	assert_non_null(continuation(&m));
	assert_true(json_is_array(json_object_get(m.payload, "ChildShards")));
	assert_null(json_object_get(m.payload, "Event"));
	json_decref(m.payload);
	assert_int_equal(pull(f, &f->a, NOW + 10).step, SUBSCRIBE_WAIT);

	put(f, "one", 3, NOW + 20);
	put(f, "two", 3, NOW + 21);
	m = pull(f, &f->a, NOW + 22);
	expect_event(&m, "SubscribeToShardEvent");
	assert_int_equal(json_array_size(records(&m)), 2);
	r = json_array_get(records(&m), 1);
	assert_string_equal(json_string_value(json_object_get(r, "PartitionKey")), "k");
	base64_encode("two", 3, data);
	assert_string_equal(json_string_value(json_object_get(r, "Data")), data);
	assert_true(json_is_real(json_object_get(r, "ApproximateArrivalTimestamp")));
	assert_true(json_number_value(json_object_get(r, "ApproximateArrivalTimestamp")) >
		    (NOW + 20) / 1000.0);
	assert_string_equal(continuation(&m),
			    json_string_value(json_object_get(r, "SequenceNumber")));
	assert_int_equal(json_integer_value(json_object_get(m.payload, "MillisBehindLatest")), 0);
	json_decref(m.payload);
	/* Idle, a heartbeat comes at least once a second. */
	assert_int_equal(pull(f, &f->a, NOW + 30).step, SUBSCRIBE_WAIT);
	m = pull(f, &f->a, NOW + 1030);
	expect_event(&m, "SubscribeToShardEvent");
	assert_int_equal(json_array_size(records(&m)), 0);
	json_decref(m.payload);
}

/* Reads the session until it ends, appending every record's data to got,
 * and keeps the last continuation. */
static int64_t drain(struct fixture *f, struct subscribe_session *s, int64_t now, char *got,
		     size_t size, char *cont, size_t cont_size)
{
	struct message m;
	size_t len;

	for (;; now += 100) {
		m = pull(f, s, now);
		if (m.step == SUBSCRIBE_END)
			return now;
		if (m.step == SUBSCRIBE_WAIT)
			continue;
		expect_event(&m, "SubscribeToShardEvent");
		for (size_t i = 0; i < json_array_size(records(&m)); i++) {
			const char *d = json_string_value(
				json_object_get(json_array_get(records(&m), i), "Data"));
			unsigned char raw[64];
			const char *reason;
			assert_int_equal(base64_decode(d, strlen(d), raw, &len, &reason), 0);
			assert_true(strlen(got) + len < size);
			strncat(got, (const char *)raw, len);
		}
		if (continuation(&m))
			snprintf(cont, cont_size, "%s", continuation(&m));
		json_decref(m.payload);
	}
}

/* At its lifetime's end the stream just ends; a new subscription from the
 * continuation reads on, nothing lost or repeated. */
static void test_expiry_and_resubscribe(void **state)
{
	struct fixture *f = *state;
	char got[256] = "", cont[64] = "", position[160];
	int64_t now;

	put(f, "a", 1, NOW);
	put(f, "b", 1, NOW + 1);
	open_session(f, &f->a, 0, "{\"Type\":\"TRIM_HORIZON\"}", NOW + 2);
	put(f, "c", 1, NOW + 5000);
	now = drain(f, &f->a, NOW + 3, got, sizeof(got), cont, sizeof(cont));
	assert_true(now >= NOW + 2 + LIFETIME_S * 1000);
	assert_true(now < NOW + 2 + LIFETIME_S * 1000 + 200);
	assert_string_equal(got, "abc");
	put(f, "d", 1, now + 1);
	put(f, "e", 1, now + 2);
	snprintf(position, sizeof(position),
		 "{\"Type\":\"AFTER_SEQUENCE_NUMBER\",\"SequenceNumber\":\"%s\"}", cont);
	subscribe_close(&f->push, &f->a);
	open_session(f, &f->a, 0, position, now + 3);
	got[0] = '\0';
	drain(f, &f->a, now + 3, got, sizeof(got), cont, sizeof(cont));
	assert_string_equal(got, "de");
}

static void expect_exception_then_end(struct fixture *f, struct subscribe_session *s,
				      int64_t now, const char *type)
{
	struct message m = pull(f, s, now);

	assert_int_equal(m.step, SUBSCRIBE_MESSAGE);
	assert_string_equal(m.message_type, "exception");
	assert_string_equal(m.type, type);
	assert_non_null(json_string_value(json_object_get(m.payload, "message")));
	json_decref(m.payload);
	assert_int_equal(pull(f, s, now).step, SUBSCRIBE_END);
}

static void test_takeover(void **state)
{
	struct fixture *f = *state;
	struct subscribe_refusal why;

	open_session(f, &f->a, 0, "{\"Type\":\"LATEST\"}", NOW);
	/* Within 5 s of the first, a second is refused before any stream. */
	assert_int_equal(start(f, &f->b, 0, "{\"Type\":\"LATEST\"}", NOW + 1000, &why), -1);
	assert_int_equal(why.status, 400);
	assert_string_equal(why.type, "ResourceInUseException");
	/* Another consumer has a shard of its own. */
	assert_int_equal(start(f, &f->b, 1, "{\"Type\":\"LATEST\"}", NOW + 1000, &why), 0);
	subscribe_close(&f->push, &f->b);
	/* Later it takes over: the first ends with the exception. */
	open_session(f, &f->b, 0, "{\"Type\":\"LATEST\"}", NOW + 6000);
	expect_exception_then_end(f, &f->a, NOW + 6000, "ResourceInUseException");
}

/* One registry: an event stream takes over a WebSocket subscription. */
static void test_takeover_across_transports(void **state)
{
	struct fixture *f = *state;
	struct subscribe_refusal why;
	struct push_conn ws = { 0 };
	struct strbuf out;
	char msg[1024];
	json_t *e;

	snprintf(msg, sizeof(msg),
		 "{\"Action\":\"SubscribeToShard\",\"ConsumerARN\":\"%s\","
		 "\"ShardId\":\"shardId-%012zu\",\"StartingPosition\":{\"Type\":\"LATEST\"}}",
		 f->stream->consumers[0].arn, f->shard);
	push_receive(&f->push, &ws, msg, strlen(msg), NOW);
	assert_int_equal(ws.sub_count, 1);
	assert_int_equal(start(f, &f->a, 0, "{\"Type\":\"LATEST\"}", NOW + 6000, &why), 0);
	assert_int_equal(ws.sub_count, 0);
	strbuf_init(&out);
	assert_true(push_next_event(&f->push, &ws, NOW + 6000, &out));
	e = json_loads(out.data, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(e, "Event")), "Exception");
	assert_string_equal(json_string_value(json_object_get(e, "__type")),
			    "ResourceInUseException");
	json_decref(e);
	strbuf_free(&out);
	push_conn_close(&f->push, &ws);
}

static void expect_refused(struct fixture *f, const char *body, int status, const char *type)
{
	struct subscribe_refusal why;

	assert_int_equal(subscribe_start(&f->push, &f->a, NULL, body, strlen(body), NOW, &why), -1);
	assert_int_equal(why.status, status);
	assert_string_equal(why.type, type);
	assert_true(strlen(why.message) > 10);
	subscribe_close(&f->push, &f->a);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	char body[1024];

	expect_refused(f, "not json", 400, "SerializationException");
	expect_refused(f, "[1]", 400, "SerializationException");
	expect_refused(f, "{\"ShardId\":\"shardId-000000000000\"}", 400, "ValidationException");
	expect_refused(f,
		       "{\"ConsumerARN\":\"arn:nothing\",\"ShardId\":\"shardId-000000000000\","
		       "\"StartingPosition\":{\"Type\":\"LATEST\"}}",
		       400, "ResourceNotFoundException");
	snprintf(body, sizeof(body),
		 "{\"ConsumerARN\":\"%s\",\"ShardId\":\"shardId-000000000009\","
		 "\"StartingPosition\":{\"Type\":\"LATEST\"}}",
		 f->stream->consumers[0].arn);
	expect_refused(f, body, 400, "ResourceNotFoundException");
	snprintf(body, sizeof(body),
		 "{\"ConsumerARN\":\"%s\",\"ShardId\":\"shardId-000000000000\","
		 "\"StartingPosition\":{\"Type\":\"AT_SEQUENCE_NUMBER\"}}",
		 f->stream->consumers[0].arn);
	expect_refused(f, body, 400, "InvalidArgumentException");
}

/* At a closed shard's end: the last event names the children, has no
 * continuation, and the stream ends. */
static void test_shard_end(void **state)
{
	struct fixture *f = *state;
	const char *error = NULL;
	struct message m;
	json_t *children;
	const struct shard *sh = &f->stream->shards[f->shard];

	put(f, "x", 1, NOW);
	assert_int_equal(hub_split_shard(f->hub, f->stream, f->shard,
					 sh->start + (sh->end - sh->start) / 2, NOW + 1, &error),
			 0);
	open_session(f, &f->a, 0, "{\"Type\":\"TRIM_HORIZON\"}", NOW + 2);
	m = pull(f, &f->a, NOW + 2);
	expect_event(&m, "SubscribeToShardEvent");
	assert_int_equal(json_array_size(records(&m)), 1);
	assert_true(json_is_null(json_object_get(m.payload, "ContinuationSequenceNumber")));
	children = json_object_get(m.payload, "ChildShards");
	assert_int_equal(json_array_size(children), 2);
	assert_non_null(json_object_get(json_array_get(children, 0), "ShardId"));
	json_decref(m.payload);
	assert_int_equal(pull(f, &f->a, NOW + 3).step, SUBSCRIBE_END);
}

static void test_consumer_gone(void **state)
{
	struct fixture *f = *state;

	open_session(f, &f->a, 0, "{\"Type\":\"LATEST\"}", NOW);
	assert_int_equal(hub_deregister_consumer(f->hub, f->stream, &f->stream->consumers[0]), 0);
	expect_exception_then_end(f, &f->a, NOW + 600, "ResourceNotFoundException");
}

/* A backlog of 3 MiB goes out one message at a time, none past the bound
 * of one event, and only as fast as it is pulled: what is not pulled is
 * not read. */
static void test_backlog_is_pulled_not_buffered(void **state)
{
	struct fixture *f = *state;
	struct message m;
	static char data[64 * 1024];
	size_t total = 0, events = 0;

	memset(data, 'r', sizeof(data));
	for (int i = 0; i < 48; i++)
		put(f, data, sizeof(data), NOW);
	f->hub->config.push_bytes_per_sec = 0;
	open_session(f, &f->a, 0, "{\"Type\":\"TRIM_HORIZON\"}", NOW + 1);
	while (total < 48) {
		m = pull(f, &f->a, NOW + 1);
		expect_event(&m, "SubscribeToShardEvent");
		assert_true(m.size <= PUSH_EVENT_BYTES_MAX + 4096);
		assert_true(json_array_size(records(&m)) > 0);
		total += json_array_size(records(&m));
		events++;
		assert_true(f->a.conn.subs->records_out == total);
		json_decref(m.payload);
	}
	assert_true(events >= 4);
	assert_int_equal(pull(f, &f->a, NOW + 2).step, SUBSCRIBE_WAIT);
}

/* Ten records of 100 KiB that arrived at NOW, read from the start at a
 * rate of 300 KiB/s from now on: the first event. */
static struct message throttled_backlog(struct fixture *f, int64_t now)
{
	static char data[100 * 1024];

	for (int i = 0; i < 10; i++)
		put(f, data, sizeof(data), NOW);
	f->hub->config.push_bytes_per_sec = 300 * 1024;
	open_session(f, &f->a, 0, "{\"Type\":\"TRIM_HORIZON\"}", now);
	return pull(f, &f->a, now);
}

/* The per-consumer rate holds on this transport too. */
static void test_rate(void **state)
{
	struct fixture *f = *state;
	struct message m = throttled_backlog(f, NOW + 1);
	size_t first;

	first = json_array_size(records(&m));
	json_decref(m.payload);
	assert_true(first >= 1 && first <= 3);
	assert_int_equal(pull(f, &f->a, NOW + 2).step, SUBSCRIBE_WAIT);
}

/* On a mirrored shard an event's MillisBehindLatest is the upstream's
 * (as the mirror last read it) plus the subscriber's own lag on the copy. */
static void test_mirror_adds_upstream_behind(void **state)
{
	struct fixture *f = *state;
	struct message m;
	size_t total;

	f->stream->shards[f->shard].upstream_behind_ms = 7000;
	/* The rate holds the rest back: 5 s of its own, 7 s upstream. */
	m = throttled_backlog(f, NOW + 5000);
	expect_event(&m, "SubscribeToShardEvent");
	total = json_array_size(records(&m));
	assert_true(total < 10);
	assert_int_equal(json_integer_value(json_object_get(m.payload, "MillisBehindLatest")),
			 12000);
	json_decref(m.payload);
	/* Every record read: the upstream's part alone. */
	f->hub->config.push_bytes_per_sec = 0;
	while (total < 10) {
		m = pull(f, &f->a, NOW + 5001);
		expect_event(&m, "SubscribeToShardEvent");
		total += json_array_size(records(&m));
		if (total == 10)
			assert_int_equal(json_integer_value(json_object_get(m.payload,
									    "MillisBehindLatest")),
					 7000);
		json_decref(m.payload);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_response_then_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_resubscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_across_transports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shard_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consumer_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backlog_is_pulled_not_buffered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror_adds_upstream_behind, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
