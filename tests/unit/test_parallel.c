/* Lanes (--parallel N, Kinesis's ParallelizationFactor), as properties
 * over random key streams and every factor from 1 to 10:
 * - every record is processed exactly once, on the lane its partition key
 *   picks, so all the records of one key are on one lane, and each lane
 *   processes its records in stream order: per-key order is kept;
 * - the lanes are really N threads (each lane on a thread of its own);
 * - a push event decoded on N lanes gives exactly the batch decoded on
 *   one thread: the same records in shard order, the same bad count,
 *   reason and bytes, so standings cannot depend on N. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/base64.h"
#include "batchcheck.h"
#include "client/consumer.h"
#include "client/parallel.h"
#include "util/rng.h"
#include "util/strbuf.h"

#define RECORDS_MAX 4000

/* ------------------------------------------------------------------ */
/* Per-key order                                                       */
/* ------------------------------------------------------------------ */

struct stream {
	size_t count;
	char keys[RECORDS_MAX][24];
	uint8_t lane_of[RECORDS_MAX];
	/* What the lanes did: per lane, the indices in the order processed. */
	size_t done[PARALLEL_MAX][RECORDS_MAX];
	size_t done_count[PARALLEL_MAX];
	pthread_t thread_of[PARALLEL_MAX];
	unsigned spin;                  /* per-record work, to interleave lanes */
};

static void process(void *ctx, unsigned lane, size_t index)
{
	struct stream *s = ctx;
	volatile unsigned x = 0;

	for (unsigned i = 0; i < s->spin; i++)
		x += i;
	s->thread_of[lane] = pthread_self();
	s->done[lane][s->done_count[lane]++] = index;
}

/* Random keys from a pool of random size: a few hot keys or many cold. */
static void random_stream(struct stream *s, struct rng *r)
{
	size_t pool = 1 + rng_below(r, 200);

	s->count = rng_below(r, RECORDS_MAX + 1);
	for (size_t i = 0; i < s->count; i++)
		snprintf(s->keys[i], sizeof(s->keys[i]), "%llu",
			 (unsigned long long)(5400000 + rng_below(r, pool)));
	memset(s->done_count, 0, sizeof(s->done_count));
	memset(s->thread_of, 0, sizeof(s->thread_of));
	s->spin = (unsigned)rng_below(r, 300);
}

static void check_order(const struct stream *s, unsigned n)
{
	static int seen[RECORDS_MAX];
	size_t total = 0;

	memset(seen, 0, sizeof(seen));
	for (unsigned lane = 0; lane < n; lane++) {
		for (size_t k = 0; k < s->done_count[lane]; k++) {
			size_t i = s->done[lane][k];
			assert_true(i < s->count);
			assert_int_equal(s->lane_of[i], lane);
			/* Within a lane, stream order: so within a key too. */
			if (k > 0)
				assert_true(s->done[lane][k - 1] < i);
			seen[i]++;
		}
		total += s->done_count[lane];
	}
	assert_int_equal(total, s->count);
	for (size_t i = 0; i < s->count; i++)
		assert_int_equal(seen[i], 1);
}

/* The same key always picks the same lane: checked across the stream, not
 * only by calling parallel_pick twice. */
static void check_key_lanes(const struct stream *s)
{
	for (size_t i = 0; i < s->count; i++)
		for (size_t j = i + 1; j < s->count && j < i + 64; j++)
			if (strcmp(s->keys[i], s->keys[j]) == 0)
				assert_int_equal(s->lane_of[i], s->lane_of[j]);
}

static void test_per_key_order_every_factor(void **state)
{
	static struct stream s;
	struct rng r;

	(void)state;
	rng_seed(&r, 20261126);
	for (unsigned n = 1; n <= PARALLEL_MAX; n++) {
		struct parallel *l = parallel_new(n);
		assert_non_null(l);
		assert_int_equal(parallel_count(l), n);
		for (int round = 0; round < 12; round++) {
			random_stream(&s, &r);
			for (size_t i = 0; i < s.count; i++)
				s.lane_of[i] = (uint8_t)parallel_pick(l, s.keys[i], strlen(s.keys[i]));
			check_key_lanes(&s);
			parallel_run(l, s.lane_of, s.count, process, &s);
			check_order(&s, n);
		}
		parallel_free(l);
	}
}

/* Every lane gets records (a pool of 1,000 keys), and lanes other than 0
 * run on threads other than the caller's and each other's. */
static void test_parallel_are_threads(void **state)
{
	static struct stream s;

	(void)state;
	for (unsigned n = 2; n <= PARALLEL_MAX; n++) {
		struct parallel *l = parallel_new(n);
		assert_non_null(l);
		s.count = RECORDS_MAX;
		memset(s.done_count, 0, sizeof(s.done_count));
		s.spin = 0;
		for (size_t i = 0; i < s.count; i++) {
			snprintf(s.keys[i], sizeof(s.keys[i]), "racer-%zu", i % 1000);
			s.lane_of[i] = (uint8_t)parallel_pick(l, s.keys[i], strlen(s.keys[i]));
		}
		parallel_run(l, s.lane_of, s.count, process, &s);
		check_order(&s, n);
		for (unsigned a = 0; a < n; a++) {
			assert_true(s.done_count[a] > 0);
			for (unsigned b = a + 1; b < n; b++)
				assert_false(pthread_equal(s.thread_of[a], s.thread_of[b]));
		}
		assert_true(pthread_equal(s.thread_of[0], pthread_self()));
		parallel_free(l);
	}
}

static void test_factor_out_of_range(void **state)
{
	(void)state;
	assert_null(parallel_new(0));
	assert_null(parallel_new(PARALLEL_MAX + 1));
}

/* ------------------------------------------------------------------ */
/* Decoding an event on N lanes                                         */
/* ------------------------------------------------------------------ */

/* One record: good telemetry most of the time, else one of several kinds
 * of bad record, so the compaction of dropped records is exercised. */
static void add_record(struct strbuf *ev, struct rng *r, size_t i)
{
	char json[512], b64[800];
	uint64_t racer = 100 + rng_below(r, 40);
	int kind = (int)rng_below(r, 10);
	size_t n;

	n = (size_t)snprintf(json, sizeof(json),
			     "{\"event\":\"update\",\"second\":%zu,\"raceId\":77,\"name\":\"R%llu\","
			     "\"racerId\":%llu,\"classId\":%d,\"cadence\":%.1f,"
			     "\"resistance\":%d}",
			     1 + i % 300, (unsigned long long)racer, (unsigned long long)racer,
			     kind == 9 ? 99 : 2, 60.0 + (double)rng_below(r, 600) / 10.0,
			     (int)rng_below(r, 101));
	base64_encode(json, n, b64);
	b64[base64_encoded_len(n)] = '\0';
	if (kind == 8)
		b64[3] = '*';                   /* not base64 */
	strbuf_printf(ev, "%s{\"SequenceNumber\":\"%zu\",\"ApproximateArrivalTimestamp\":%zu.5,"
			  "\"Data\":\"%s\",\"PartitionKey\":\"%llu\"}",
		      i ? "," : "", 1000 + i, 1795659501 + i, b64, (unsigned long long)racer);
}

static char *random_event(struct rng *r, size_t records)
{
	struct strbuf ev = { 0 };

	strbuf_puts(&ev, "{\"Event\":\"SubscribeToShardEvent\",\"ShardId\":\"shardId-000000000003\","
			 "\"Records\":[");
	for (size_t i = 0; i < records; i++)
		add_record(&ev, r, i);
	strbuf_puts(&ev, "],\"ContinuationSequenceNumber\":\"99999\",\"MillisBehindLatest\":7,"
			 "\"ChildShards\":[]}");
	return ev.data;
}

static void test_decode_same_on_every_factor(void **state)
{
	struct rng r;

	(void)state;
	rng_seed(&r, 7);
	for (unsigned n = 1; n <= PARALLEL_MAX; n++) {
		struct parallel *l = parallel_new(n);
		assert_non_null(l);
		for (int round = 0; round < 8; round++) {
			char *text = random_event(&r, rng_below(&r, 1200));
			struct decoded want, got;
			decode_text(text, NULL, &want);
			decode_text(text, l, &got);
			assert_non_null(want.b);
			assert_non_null(got.b);
			same_batch(&got, &want);
			assert_string_equal(got.last_bad, want.last_bad);
			consumer_batch_free(got.b);
			consumer_batch_free(want.b);
			free(text);
		}
		parallel_free(l);
	}
}

/* JSON may escape any character of a string: Data with "\/" for "/" and
 * member names spelled with \u escapes decode as their plain spelling. */
static void test_escaped_event_decodes_the_same(void **state)
{
	const char *json = "{\"event\":\"update\",\"second\":3,\"raceId\":9,\"name\":\"Zo?\","
			   "\"racerId\":4,\"classId\":1,\"cadence\":80,\"resistance\":50}";
	char b64[256], escaped[512], plain_ev[1024], escaped_ev[1024];
	size_t n = strlen(json), k = 0;
	struct decoded plain, esc;

	(void)state;
	base64_encode(json, n, b64);
	b64[base64_encoded_len(n)] = '\0';
	assert_non_null(strchr(b64, '/'));      /* "Zo?" makes sure of a slash */
	for (const char *p = b64; *p; p++) {
		if (*p == '/')
			escaped[k++] = '\\';
		escaped[k++] = *p;
	}
	escaped[k] = '\0';
	snprintf(plain_ev, sizeof(plain_ev),
		 "{\"Event\":\"SubscribeToShardEvent\",\"ShardId\":\"shardId-000000000001\","
		 "\"Records\":[{\"ApproximateArrivalTimestamp\":5,\"Data\":\"%s\"}],"
		 "\"ContinuationSequenceNumber\":\"12\"}", b64);
	snprintf(escaped_ev, sizeof(escaped_ev),
		 "{\"\\u0045vent\":\"SubscribeToShardEvent\",\"ShardId\":\"shardId-000000000001\","
		 "\"Records\":[{\"ApproximateArrivalTimestamp\":5,\"D\\u0061ta\":\"%s\"}],"
		 "\"ContinuationSequenceNumber\":\"12\"}", escaped);
	decode_text(plain_ev, NULL, &plain);
	decode_text(escaped_ev, NULL, &esc);
	assert_non_null(plain.b);
	assert_non_null(esc.b);
	assert_int_equal(plain.b->count, 1);
	assert_string_equal(plain.b->records[0].t.name, "Zo?");
	same_batch(&esc, &plain);
	assert_string_equal(esc.last_bad, plain.last_bad);
	consumer_batch_free(plain.b);
	consumer_batch_free(esc.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_key_order_every_factor),
		cmocka_unit_test(test_parallel_are_threads),
		cmocka_unit_test(test_factor_out_of_range),
		cmocka_unit_test(test_decode_same_on_every_factor),
		cmocka_unit_test(test_escaped_event_decodes_the_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
