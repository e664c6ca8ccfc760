/* The consumer (src/client/consumer.c) beyond its decoder: against a hub
 * served in-process it registers, subscribes to every shard and hands the
 * records over through its batch queue, in order per partition key; it
 * resumes after the checkpoints it is given, without replaying; it counts
 * bad records and passes the good ones; it retries a hub it cannot reach,
 * saying why. */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/api_call.h"
#include "client/consumer.h"
#include "client/failure.h"
#include "client/httpc.h"
#include "hubserver.h"
#include "util/base64.h"
#include "util/errtext.h"

#define RACERS 10
#define RACE_ID 5400802
#define WAIT_TURNS 500                  /* of 20 ms: 10 s */

static struct hubserver hs;

struct taken {
	size_t records;
	int32_t last_second[RACERS + 1];        /* per racerId */
	bool out_of_order;
	struct consumer_checkpoint checkpoints[8];      /* per shard, the last continuation */
	size_t checkpoint_count;
};

/* ---- producing ---------------------------------------------------------- */

static json_t *record(const char *data, const char *key)
{
	size_t n = strlen(data);
	char *b64 = malloc(base64_encoded_len(n) + 1);
	json_t *r;

	assert_non_null(b64);
	base64_encode(data, n, b64);
	r = json_pack("{s:s, s:s}", "Data", b64, "PartitionKey", key);
	free(b64);
	return r;
}

/* One record a racer sends, keyed by racerId as the simulator keys them. */
static json_t *telemetry_record(int racer, int second)
{
	char data[256], key[16];

	snprintf(data, sizeof(data),
		 "{\"event\":\"update\",\"second\":%d,\"raceId\":%d,\"name\":\"R%d\","
		 "\"racerId\":%d,\"classId\":3,\"cadence\":81.0,\"resistance\":79.0}",
		 second, RACE_ID, racer, racer);
	snprintf(key, sizeof(key), "%d", racer);
	return record(data, key);
}

/* PutRecords of records (stolen) to stream alleycat; every one lands. */
static void put(json_t *records)
{
	struct httpc *http = httpc_new(5);
	struct endpoint ep;
	struct api_call_result r;
	char err[ERR_TEXT_MAX];

	assert_int_equal(endpoint_parse(hs.url, &ep, err, sizeof(err)), 0);
	assert_int_equal(api_call(http, &ep, "PutRecords",
				  json_pack("{s:s, s:o}", "StreamName", "alleycat", "Records", records),
				  NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"FailedRecordCount\":0"));
	api_call_free(&r);
	httpc_free(http);
}

/* Every racer's seconds from..to, racer by racer within a second. */
static void put_seconds(int from, int to)
{
	json_t *records = json_array();

	for (int s = from; s <= to; s++)
		for (int racer = 1; racer <= RACERS; racer++)
			json_array_append_new(records, telemetry_record(racer, s));
	put(records);
}

/* ---- consuming ---------------------------------------------------------- */

/* A consumer of the hub at url, resuming after resume's checkpoints
 * (NULL: from the start of every shard). */
static struct consumer *start(const char *url, const char *name, const struct taken *resume)
{
	struct consumer_config config = { .stream = "alleycat", .name = name,
					  .from = CONSUMER_FROM_TRIM_HORIZON, .timeout_s = 5 };
	char err[ERR_TEXT_MAX];
	struct consumer *c;

	assert_int_equal(endpoint_parse(url, &config.endpoint, err, sizeof(err)), 0);
	if (resume) {
		config.checkpoints = resume->checkpoints;
		config.checkpoint_count = resume->checkpoint_count;
	}
	c = consumer_start(&config, err, sizeof(err));
	if (c == NULL)
		fail_msg("consumer_start: %s", err);
	return c;
}

static void remember_checkpoint(struct taken *t, const struct consumer_batch *b)
{
	size_t i = 0;

	while (i < t->checkpoint_count && strcmp(t->checkpoints[i].shard_id, b->shard_id) != 0)
		i++;
	assert_true(i < sizeof(t->checkpoints) / sizeof(t->checkpoints[0]));
	if (i == t->checkpoint_count)
		t->checkpoint_count++;
	snprintf(t->checkpoints[i].shard_id, sizeof(t->checkpoints[i].shard_id), "%s", b->shard_id);
	snprintf(t->checkpoints[i].sequence_number, sizeof(t->checkpoints[i].sequence_number), "%s",
		 b->continuation);
}

/* Takes what the consumer queued, as a caller that applies it would. */
static void take(struct consumer *c, struct taken *t)
{
	struct consumer_batch *head = consumer_take(c);

	for (struct consumer_batch *b = head; b; b = b->next) {
		for (size_t i = 0; i < b->count; i++) {
			const struct telemetry *r = &b->records[i].t;
			assert_true(r->racer_id >= 1 && r->racer_id <= RACERS);
			if (r->second <= t->last_second[r->racer_id])
				t->out_of_order = true;
			t->last_second[r->racer_id] = r->second;
			t->records++;
		}
		remember_checkpoint(t, b);
	}
	consumer_batch_free(head);
}

/* Takes until `records` have come and the consumer is caught up. */
static void take_all(struct consumer *c, struct taken *t, size_t records)
{
	for (int i = 0; i < WAIT_TURNS && !(t->records >= records && consumer_caught_up(c)); i++) {
		take(c, t);
		usleep(20000);
	}
	take(c, t);
	assert_int_equal(t->records, records);
	assert_true(consumer_caught_up(c));
	assert_false(t->out_of_order);
}

/* ---- tests -------------------------------------------------------------- */

static void test_every_record_in_key_order(void **state __attribute__((unused)))
{
	struct taken t = { 0 };
	struct consumer_stats *st = calloc(1, sizeof(*st));
	struct consumer *c;
	uint64_t counted = 0;

	put_seconds(1, 5);
	c = start(hs.url, "order", NULL);
	take_all(c, &t, 5 * RACERS);
	for (int racer = 1; racer <= RACERS; racer++)
		assert_int_equal(t.last_second[racer], 5);
	consumer_stats(c, st);
	assert_int_equal(st->state, CONSUMER_STREAMING);
	assert_int_equal(st->shard_count, 4);
	for (size_t i = 0; i < st->shard_count; i++)
		counted += st->shards[i].records;
	assert_int_equal(counted, 5 * RACERS);
	assert_int_equal(t.checkpoint_count, 4);
	consumer_stop(c);
	free(st);
}

static void test_resumes_after_its_checkpoints(void **state __attribute__((unused)))
{
	struct taken first = { 0 }, second = { 0 };
	struct consumer *c;

	put_seconds(1, 3);
	c = start(hs.url, "resume", NULL);
	take_all(c, &first, 3 * RACERS);
	consumer_stop(c);

	put_seconds(4, 5);
	c = start(hs.url, "resume", &first);
	take_all(c, &second, 2 * RACERS);
	for (int racer = 1; racer <= RACERS; racer++)
		assert_int_equal(second.last_second[racer], 5);
	consumer_stop(c);
}

static void test_bad_records_counted_good_ones_passed(void **state __attribute__((unused)))
{
	struct taken t = { 0 };
	struct consumer_stats *st = calloc(1, sizeof(*st));
	json_t *records = json_array();
	struct consumer *c;
	uint64_t bad = 0;

	json_array_append_new(records, telemetry_record(1, 1));
	json_array_append_new(records, record("not telemetry", "1"));
	json_array_append_new(records, telemetry_record(1, 2));
	put(records);
	c = start(hs.url, "bad", NULL);
	take_all(c, &t, 2);
	consumer_stats(c, st);
	for (size_t i = 0; i < st->shard_count; i++)
		if (st->shards[i].bad) {
			bad += st->shards[i].bad;
			assert_true(st->shards[i].last_bad[0] != '\0');
		}
	assert_int_equal(bad, 1);
	consumer_stop(c);
	free(st);
}

static void test_unreachable_hub_is_retried(void **state __attribute__((unused)))
{
	struct consumer_stats *st = calloc(1, sizeof(*st));
	struct consumer *c;
	struct failure f;
	int64_t since;
	char url[64];

	/* A hub that was there and is gone: its port refuses connections. */
	hubserver_start(&hs, "alleycat", NULL);
	snprintf(url, sizeof(url), "%s", hs.url);
	hubserver_stop(&hs);
	c = start(url, "retry", NULL);
	for (int i = 0; i < WAIT_TURNS && st->reconnects == 0; i++) {
		usleep(20000);
		consumer_stats(c, st);
	}
	assert_int_equal(st->state, CONSUMER_RECONNECTING);
	assert_non_null(strstr(st->status, "connection refused"));
	assert_non_null(strstr(st->status, "retrying"));
	consumer_failure(c, &f, &since);
	assert_int_equal(f.kind, FAILURE_UNREACHABLE);
	assert_false(consumer_caught_up(c));
	consumer_stop(c);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		HUBSERVER_TEST(test_every_record_in_key_order, &hs),
		HUBSERVER_TEST(test_resumes_after_its_checkpoints, &hs),
		HUBSERVER_TEST(test_bad_records_counted_good_ones_passed, &hs),
		cmocka_unit_test(test_unreachable_hub_is_retried),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
