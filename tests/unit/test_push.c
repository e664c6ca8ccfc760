/* Push subscriptions without a network: the first event goes out at once,
 * records follow in order, heartbeats come while idle, a subscription
 * expires with its continuation, and one connection cannot hold more than
 * its share of subscriptions. */
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
#include "util/errtext.h"

#define NOW 1795659501000LL

struct fixture {
	struct hub *hub;
	struct push push;
	struct push_conn conn;
	struct stream *stream;
};

/* 20 consumers x 64 shards: more pairs than a connection may subscribe. */
#define SHARDS 64

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hub_config config;
	char err[ERR_TEXT_MAX], name[32];

	hub_config_defaults(&config);
	config.subscription_seconds = 10;
	f->hub = hub_open(&config, NOW, err, sizeof(err));
	f->stream = hub_create_stream(f->hub, "alleycat", SHARDS, NOW);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		hub_register_consumer(f->hub, f->stream, name, NOW);
	}
	push_init(&f->push, f->hub);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	push_conn_close(&f->push, &f->conn);
	hub_close(f->hub);
	free(f);
	return 0;
}

static void subscribe(struct fixture *f, int consumer, int shard, const char *position,
		      int64_t now)
{
	char msg[1024];

	snprintf(msg, sizeof(msg),
		 "{\"Action\":\"SubscribeToShard\",\"ConsumerARN\":\"%s\","
		 "\"ShardId\":\"shardId-%012d\",\"StartingPosition\":%s}",
		 f->stream->consumers[consumer].arn, shard, position);
	push_receive(&f->push, &f->conn, msg, strlen(msg), now);
}

/* The next event due, parsed; NULL when none is due. */
static json_t *next_event(struct fixture *f, int64_t now)
{
	struct strbuf out;
	json_t *j = NULL;

	strbuf_init(&out);
	if (push_next_event(&f->push, &f->conn, now, &out)) {
		j = json_loads(out.data, 0, NULL);
		assert_non_null(j);
	}
	strbuf_free(&out);
	return j;
}

static const char *event_type(json_t *e)
{
	return json_string_value(json_object_get(e, "Event"));
}

static void put(struct fixture *f, const char *key, const char *data, int64_t now)
{
	struct put_entry e = { .key = key, .key_len = strlen(key),
			       .hash = hashkey_of_partition_key(key, strlen(key)),
			       .data = data, .data_len = strlen(data) };
	struct put_result r;

	hub_put(f->hub, f->stream, &e, 1, &r, now);
	assert_int_equal(r.status, PUT_OK);
}

static void test_first_event_records_heartbeat_expiry(void **state)
{
	struct fixture *f = *state;
	json_t *e;
	size_t shard = stream_shard_for(f->stream, hashkey_of_partition_key("k", 1));

	subscribe(f, 0, (int)shard, "{\"Type\":\"TRIM_HORIZON\"}", NOW);
	e = next_event(f, NOW);
	assert_string_equal(event_type(e), "SubscribeToShardEvent");
	assert_int_equal(json_array_size(json_object_get(e, "Records")), 0);
	json_decref(e);
	assert_null(next_event(f, NOW + 10));

	put(f, "k", "one", NOW + 20);
	put(f, "k", "two", NOW + 21);
	e = next_event(f, NOW + 22);
	assert_int_equal(json_array_size(json_object_get(e, "Records")), 2);
	const char *last = json_string_value(
		json_object_get(json_array_get(json_object_get(e, "Records"), 1), "SequenceNumber"));
	assert_string_equal(json_string_value(json_object_get(e, "ContinuationSequenceNumber")), last);
	json_decref(e);

	/* Idle: a heartbeat within a second. */
	assert_null(next_event(f, NOW + 100));
	e = next_event(f, NOW + 22 + 1000);
	assert_string_equal(event_type(e), "SubscribeToShardEvent");
	assert_int_equal(json_array_size(json_object_get(e, "Records")), 0);
	json_decref(e);

	/* After the subscription's lifetime: expired, with the continuation. */
	e = next_event(f, NOW + 10001);
	assert_string_equal(event_type(e), "SubscriptionExpired");
	assert_non_null(json_string_value(json_object_get(e, "ContinuationSequenceNumber")));
	json_decref(e);
	assert_null(f->conn.subs);
}

static void test_subscriptions_per_connection(void **state)
{
	struct fixture *f = *state;
	int made = 0;
	json_t *e;

	for (int c = 0; c < 20 && made < PUSH_SUBS_PER_CONN_MAX; c++)
		for (int s = 0; s < SHARDS && made < PUSH_SUBS_PER_CONN_MAX; s++, made++)
			subscribe(f, c, s, "{\"Type\":\"LATEST\"}", NOW);
	assert_int_equal(f->conn.sub_count, PUSH_SUBS_PER_CONN_MAX);
	assert_int_equal(f->conn.pending_count, 0);
	subscribe(f, 19, SHARDS - 1, "{\"Type\":\"LATEST\"}", NOW);
	assert_int_equal(f->conn.sub_count, PUSH_SUBS_PER_CONN_MAX);
	e = next_event(f, NOW);
	assert_string_equal(event_type(e), "Exception");
	assert_string_equal(json_string_value(json_object_get(e, "__type")), "LimitExceededException");
	json_decref(e);
}

static void test_bad_messages_become_exceptions(void **state)
{
	struct fixture *f = *state;
	static const char *const messages[] = {
		"not json", "[]", "{}", "{\"Action\":\"Dance\"}",
		"{\"Action\":\"SubscribeToShard\",\"ConsumerARN\":\"arn:nope\",\"ShardId\":\"shardId-000000000000\","
		"\"StartingPosition\":{\"Type\":\"LATEST\"}}",
	};
	static const char *const types[] = {
		"SerializationException", "SerializationException", "ValidationException",
		"UnknownOperationException", "ResourceNotFoundException",
	};

	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		json_t *e;
		push_receive(&f->push, &f->conn, messages[i], strlen(messages[i]), NOW);
		e = next_event(f, NOW);
		assert_string_equal(event_type(e), "Exception");
		assert_string_equal(json_string_value(json_object_get(e, "__type")), types[i]);
		json_decref(e);
	}
	assert_null(f->conn.subs);
}

/* A shard forgotten past retention: a subscription still open on it ends
 * with ResourceNotFoundException, and a new one is refused so. */
static void test_forgotten_shard_ends_and_refuses_subscriptions(void **state)
{
	struct fixture *f = *state;
	int64_t closed = NOW + 1, forgotten = closed + 60000 + 1;
	const char *why;
	json_t *e;

	f->stream->retention_ms = 60000;
	subscribe(f, 0, 0, "{\"Type\":\"TRIM_HORIZON\"}", NOW);
	json_decref(next_event(f, NOW));
	assert_int_equal(hub_update_shard_count(f->hub, f->stream, SHARDS / 2, closed, &why), 0);
	hub_expire(f->hub, forgotten);
	assert_true(f->stream->shards[0].forgotten);

	e = next_event(f, forgotten);
	assert_string_equal(event_type(e), "Exception");
	assert_string_equal(json_string_value(json_object_get(e, "__type")),
			    "ResourceNotFoundException");
	json_decref(e);
	assert_null(f->conn.subs);

	subscribe(f, 1, 0, "{\"Type\":\"TRIM_HORIZON\"}", forgotten);
	e = next_event(f, forgotten);
	assert_string_equal(json_string_value(json_object_get(e, "__type")),
			    "ResourceNotFoundException");
	json_decref(e);
	assert_null(f->conn.subs);
	subscribe(f, 1, SHARDS, "{\"Type\":\"TRIM_HORIZON\"}", forgotten); /* its child */
	e = next_event(f, forgotten);
	assert_string_equal(event_type(e), "SubscribeToShardEvent");
	json_decref(e);
}

/* On a mirrored shard a push event's MillisBehindLatest is the upstream's
 * (as the mirror last read it) plus the subscriber's own lag on the copy. */
static void test_mirror_adds_upstream_behind(void **state)
{
	struct fixture *f = *state;
	size_t shard = stream_shard_for(f->stream, hashkey_of_partition_key("k", 1));
	json_t *e;

	f->stream->shards[shard].upstream_behind_ms = 7000;
	put(f, "k", "one", NOW);
	put(f, "k", "two", NOW);
	/* A rate that lets one record out holds the other back, 3 s old. */
	f->hub->config.push_bytes_per_sec = 1;
	subscribe(f, 0, (int)shard, "{\"Type\":\"TRIM_HORIZON\"}", NOW + 3000);
	e = next_event(f, NOW + 3000);
	assert_int_equal(json_array_size(json_object_get(e, "Records")), 1);
	assert_int_equal(json_integer_value(json_object_get(e, "MillisBehindLatest")), 10000);
	json_decref(e);
	/* Caught up: the upstream's part alone. */
	f->hub->config.push_bytes_per_sec = 0;
	e = next_event(f, NOW + 4000);
	assert_int_equal(json_array_size(json_object_get(e, "Records")), 1);
	assert_int_equal(json_integer_value(json_object_get(e, "MillisBehindLatest")), 7000);
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_event_records_heartbeat_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror_adds_upstream_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriptions_per_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_messages_become_exceptions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forgotten_shard_ends_and_refuses_subscriptions,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
