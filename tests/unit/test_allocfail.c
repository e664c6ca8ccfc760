/* Allocation failure on the telemetry path: every allocation made while
 * decoding a telemetry record, or a push event full of them (or a CBOR
 * request body, or encoding an answer in CBOR), is failed in turn, and each time the decoder must not crash, must not leak (the ASan
 * build checks that; jansson's blocks are also counted here), and must
 * either give exactly the answer it gives with memory to spare or fail
 * saying it ran out of memory. A decoder that makes no allocation passes
 * every round at once.
 *
 * For a push event, an event refused or a record dropped while an
 * allocation failed must say it was for lack of memory (the consumer then
 * reads the event again rather than checkpointing past a good record it
 * dropped), and what is decoded must be right.
 *
 * Two ways in, both sending failures through failalloc's countdown:
 * jansson's allocator is swapped with json_set_alloc_funcs (restored after
 * each test), and this program is linked with -Wl,--wrap=malloc,
 * --wrap=calloc and --wrap=realloc, which catch the allocations of our own
 * code. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/base64.h"
#include "batchcheck.h"
#include "client/consumer.h"
#include "failalloc.h"
#include "wire/cborjson.h"
#include "wire/telemetry.h"

/* Far more allocations than any decode here makes: a loop that reaches it
 * means failures stopped being injected. */
#define ROUNDS_MAX 100000

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

/* calloc goes through the same countdown as malloc. */
void *__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	p = __wrap_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *__real_realloc(void *p, size_t size);
void *__wrap_realloc(void *p, size_t size);

/* realloc goes through the same countdown (growing buffers, strbuf's): the
 * call fails whenever a malloc in its place would. */
void *__wrap_realloc(void *p, size_t size)
{
	void *probe = __wrap_malloc(1);

	if (probe == NULL)
		return NULL;
	free(probe);
	return __real_realloc(p, size);
}

/* jansson's blocks: counted, so a leak inside jansson's own bookkeeping
 * shows without ASan too. */
static long json_live;

static void *json_alloc(size_t n)
{
	void *p = __wrap_malloc(n);

	json_live += p != NULL;
	return p;
}

static void json_release(void *p)
{
	json_live -= p != NULL;
	free(p);
}

static int swap_allocator(void **state)
{
	failalloc_reset();
	json_live = 0;
	json_set_alloc_funcs(json_alloc, json_release);
	return 0;
}

/* What a test leaves to free, even when it fails half way. */
static char *event;
static struct consumer_batch *want_batch;

static int restore_allocator(void **state)
{
	json_set_alloc_funcs(__real_malloc, free);
	failalloc_reset();
	free(event);
	event = NULL;
	consumer_batch_free(want_batch);
	want_batch = NULL;
	return 0;
}

static bool says_out_of_memory(const char *reason)
{
	return reason != NULL && strstr(reason, "out of memory") != NULL;
}

/* ------------------------------------------------------------------ */
/* telemetry_decode                                                    */
/* ------------------------------------------------------------------ */

/* Good records of every shape the decoder treats differently, and bad ones
 * (whose answer must not change either). */
static const char *const records[] = {
	"{\"event\":\"update\",\"deviceTimestamp\":1732586401076,\"second\":1,"
	"\"raceId\":5775288,\"name\":\"Hayden\",\"racerId\":100,\"classId\":3,"
	"\"cadence\":81.0,\"resistance\":79.0}",
	/* Long strings and numbers: jansson grows its buffers for them. */
	"{\"event\":\"final\",\"deviceTimestamp\":1732586401076123,\"second\":300,"
	"\"raceId\":5775288000000000,\"name\":\"Maximiliane von Oberschleissheim-Ost\","
	"\"racerId\":123456789012345678,\"classId\":6,\"cadence\":81.123456789012345,"
	"\"resistance\":79.987654321098765}",
	/* Escapes, and more members than a scanner keeps without allocating. */
	"{\"a1\":1,\"a2\":2,\"a3\":3,\"a4\":4,\"a5\":5,\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9,"
	"\"b1\":[1,{\"x\":\"y\"}],\"b2\":null,\"b3\":true,\"b4\":\"\\u00e9t\\u00e9\","
	"\"event\":\"update\",\"second\":17,\"raceId\":1,\"name\":\"Zo\\u00eb \\\"Z\\\"\","
	"\"racerId\":2,\"classId\":1,\"cadence\":0,\"resistance\":100}",
	"{\"event\":\"update\",\"second\":0,\"raceId\":1,\"name\":\"A\",\"racerId\":1,"
	"\"classId\":1,\"cadence\":1,\"resistance\":1}",
	"{\"event\":\"update\",\"event\":\"final\",\"second\":1,\"raceId\":1,\"name\":\"A\","
	"\"racerId\":1,\"classId\":1,\"cadence\":1,\"resistance\":1}",
	"{\"event\":\"update\",\"second\":1,\"raceId\":1,\"name\":\"",
	"[\"not\",\"an\",\"object\"]",
};

/* Fails allocation k of one decode, for k = 0, 1, ... until a decode runs
 * with no failure; returns how many allocations the decode makes. */
static long fail_each_telemetry(const char *text)
{
	struct telemetry want, got;
	const char *want_reason = NULL, *reason;
	int want_rc = telemetry_decode(text, strlen(text), &want, &want_reason);
	long k;

	for (k = 0; k < ROUNDS_MAX; k++) {
		int rc;

		failalloc_reset();
		failalloc_after(k);
		reason = NULL;
		memset(&got, 0, sizeof(got));
		rc = telemetry_decode(text, strlen(text), &got, &reason);
		failalloc_after(-1);
		assert_int_equal(json_live, 0);
		if (failalloc_failures() == 0) {
			assert_int_equal(rc, want_rc);
			return failalloc_calls();
		}
		if (rc < 0 && says_out_of_memory(reason))
			continue;
		/* Not out of memory: then the answer of a decode with memory. */
		if (rc != want_rc || (rc < 0 && strcmp(reason, want_reason) != 0))
			fail_msg("allocation %ld failed: got %d (%s), expected %d (%s) or out of "
				 "memory, for %s",
				 k, rc, reason ? reason : "no reason", want_rc,
				 want_reason ? want_reason : "accepted", text);
		if (rc == 0)
			same_telemetry(&got, &want);
	}
	fail_msg("still failing allocations after %d rounds", ROUNDS_MAX);
	return -1;
}

static void test_telemetry_each_allocation_fails(void **state)
{
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		long n = fail_each_telemetry(records[i]);
		print_message("telemetry record %zu: %ld allocation%s, each failed in turn\n", i,
			      n, n == 1 ? "" : "s");
	}
}

/* ------------------------------------------------------------------ */
/* consumer_batch_decode_event                                        */
/* ------------------------------------------------------------------ */

/* An event of a good record, a bad one, and one whose Data is larger than
 * the decoder's stack buffer (padded with an unknown member). */
static char *event_text(void)
{
	const char *texts[3] = { records[1], records[3], NULL };
	char pad[3000], big[3600];
	json_t *ev, *recs;
	char *out;

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	snprintf(big, sizeof(big),
		 "{\"pad\":\"%s\",\"event\":\"update\",\"second\":2,\"raceId\":5775288,"
		 "\"name\":\"Big\",\"racerId\":7,\"classId\":2,\"cadence\":90,"
		 "\"resistance\":50}",
		 pad);
	texts[2] = big;
	/* Built with the real allocator: only the decode is under test. */
	json_set_alloc_funcs(__real_malloc, free);
	recs = json_array();
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(texts[i]);
		char *b64 = malloc(base64_encoded_len(n) + 1);
		assert_non_null(b64);
		base64_encode(texts[i], n, b64);
		b64[base64_encoded_len(n)] = '\0';
		json_array_append_new(recs, json_pack("{s:s, s:f, s:s, s:s}", "SequenceNumber",
						      i == 0 ? "1795659501000000006"
							     : "1795659501000000007",
						      "ApproximateArrivalTimestamp", 1795659501.076,
						      "Data", b64, "PartitionKey", "5775288"));
		free(b64);
	}
	ev = json_pack("{s:s, s:s, s:s, s:o, s:s, s:i, s:[]}", "Event", "SubscribeToShardEvent",
		       "ConsumerARN",
		       "arn:aws:kinesis:us-east-1:000000000000:stream/alleycat/consumer/board:1",
		       "ShardId", "shardId-000000000002", "Records", recs,
		       "ContinuationSequenceNumber", "1795659501000000008", "MillisBehindLatest",
		       0, "ChildShards");
	assert_non_null(ev);
	out = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	assert_non_null(out);
	json_set_alloc_funcs(json_alloc, json_release);
	return out;
}

/* The record of the reference batch that got is, or NULL. */
static const struct consumer_record *find_record(const struct decoded *want,
						 const struct consumer_record *got)
{
	for (size_t i = 0; i < want->b->count; i++)
		if (want->b->records[i].t.racer_id == got->t.racer_id &&
		    want->b->records[i].t.second == got->t.second)
			return &want->b->records[i];
	return NULL;
}

/* A batch decoded while an allocation failed: what it holds must be right,
 * and what it lost must be counted as bad, with a reason. */
static void check_partial(long k, const struct decoded *got, const struct decoded *want)
{
	if (got->bad == want->bad) {
		same_batch(got, want);
		return;
	}
	assert_string_equal(got->b->shard_id, want->b->shard_id);
	assert_string_equal(got->b->continuation, want->b->continuation);
	assert_int_equal(got->b->count + got->bad, want->b->count + want->bad);
	for (size_t i = 0; i < got->b->count; i++) {
		const struct consumer_record *w = find_record(want, &got->b->records[i]);
		if (w == NULL)
			fail_msg("allocation %ld failed: a record that is not in the event", k);
		same_telemetry(&got->b->records[i].t, &w->t);
	}
	if (got->last_bad[0] == '\0')
		fail_msg("allocation %ld failed: records dropped without a reason", k);
	/* A good record dropped for lack of memory is lost for good once the
	 * consumer checkpoints the event: it must at least say why. */
	if (!says_out_of_memory(got->last_bad))
		fail_msg("allocation %ld failed: a good record dropped as bad (%s), not for lack "
			 "of memory", k, got->last_bad);
}

/* An event refused while an allocation failed must say why. */
static void check_refused(long k, const struct decoded *got)
{
	if (got->reason == NULL || got->reason[0] == '\0')
		fail_msg("allocation %ld failed: the event was refused without a reason", k);
	if (!says_out_of_memory(got->reason))
		fail_msg("allocation %ld failed: the event was refused as \"%s\", not for lack "
			 "of memory", k, got->reason);
}

static void test_event_each_allocation_fails(void **state)
{
	char *text = event = event_text();
	struct decoded want, got;
	long k;

	decode_text(text, NULL, &want);
	want_batch = want.b;
	assert_non_null(want.b);
	assert_int_equal(want.b->count, 2);
	assert_int_equal(want.bad, 1);
	for (k = 0; k < ROUNDS_MAX; k++) {
		failalloc_reset();
		failalloc_after(k);
		decode_text(text, NULL, &got);
		failalloc_after(-1);
		if (failalloc_failures() == 0) {
			assert_non_null(got.b);
			same_batch(&got, &want);
			consumer_batch_free(got.b);
			break;
		}
		if (got.b == NULL) {
			check_refused(k, &got);
		} else {
			check_partial(k, &got, &want);
			consumer_batch_free(got.b);
		}
		assert_int_equal(json_live, 0);
	}
	assert_true(k < ROUNDS_MAX);
	print_message("push event: %ld allocations, each failed in turn\n", k);
}

/* The harness itself: the swapped allocator sees jansson's allocations and
 * the countdown fails the one asked for. */
static void test_injection_reaches_jansson(void **state)
{
	json_error_t err;
	json_t *j;

	failalloc_reset();
	failalloc_after(0);
	j = json_loads("{\"a\":[1,2,3]}", 0, &err);
	assert_int_equal(failalloc_failures(), 1);
	json_decref(j);
	failalloc_reset();
	j = json_loads("{\"a\":[1,2,3]}", 0, &err);
	assert_non_null(j);
	assert_true(failalloc_calls() > 0);
	assert_true(json_live > 0);
	json_decref(j);
	assert_int_equal(json_live, 0);
}

/* ------------------------------------------------------------------ */
/* cborjson_decode and cborjson_encode                                 */
/* ------------------------------------------------------------------ */

/* PutRecords as the Java SDK writes it, with what makes the decoder
 * allocate: keys, byte strings, chunked strings, a timestamp, nesting. */
static const unsigned char cbor_request[] = {
	0xbf, 0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x68, 'a', 'l', 'l', 'e',
	'y', 'c', 'a', 't', 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x9f, 0xbf, 0x64, 'D', 'a',
	't', 'a', 0x43, 0x00, 0xff, 0x10, 0x7f, 0x62, 'P', 'a', 0x62, 'r', 't', 0x66, 'i', 't',
	'i', 'o', 'n', 'K', 0x62, 'e', 'y', 0xff, 0x5f, 0x41, 'k', 0x41, '1', 0xff, 0xff, 0xa1,
	0x64, 'D', 'a', 't', 'a', 0x40, 0xff, 0x69, 'T', 'i', 'm', 'e', 's', 't', 'a', 'm', 'p',
	0xc1, 0x1b, 0x00, 0x00, 0x01, 0xa0, 0x13, 0xac, 0xcc, 0x38, 0xff,
};

/* Fails allocation k of one CBOR decode, for k = 0, 1, ... until a decode
 * runs with no failure; returns how many allocations it makes. */
static long fail_each_cbor_decode(void)
{
	char why[160];
	size_t want_len, len;
	char *want = cborjson_decode(cbor_request, sizeof(cbor_request), &want_len, why, sizeof(why));
	char *got;
	long k;

	if (want == NULL)
		fail_msg("the request is refused: %s", why);
	for (k = 0; k < ROUNDS_MAX; k++) {
		failalloc_reset();
		failalloc_after(k);
		got = cborjson_decode(cbor_request, sizeof(cbor_request), &len, why, sizeof(why));
		failalloc_after(-1);
		if (got == NULL && !says_out_of_memory(why))
			fail_msg("allocation %ld failed: refused for \"%s\"", k, why);
		if (got != NULL && (len != want_len || strcmp(got, want) != 0))
			fail_msg("allocation %ld failed: %s, not %s", k, got, want);
		free(got);
		if (failalloc_failures() == 0)
			break;
	}
	free(want);
	assert_true(k < ROUNDS_MAX);
	return failalloc_calls();
}

static void test_cbor_decode_each_allocation_fails(void **state)
{
	long n = fail_each_cbor_decode();

	print_message("CBOR request: %ld allocations, each failed in turn\n", n);
}

/* Encoding an answer: NULL, or exactly the bytes encoded with memory. */
static void test_cbor_encode_each_allocation_fails(void **state)
{
	const char *answer = "{\"Records\":[{\"Data\":\"AP8Q\",\"ApproximateArrivalTimestamp\":"
			     "1787036486.712,\"SequenceNumber\":\"49\",\"Key\":\"\\u00e9\"}],"
			     "\"MillisBehindLatest\":0,\"NextShardIterator\":null}";
	size_t want_len, len;
	unsigned char *want = cborjson_encode(answer, strlen(answer), &want_len), *got;
	long k;

	assert_non_null(want);
	for (k = 0; k < ROUNDS_MAX; k++) {
		failalloc_reset();
		failalloc_after(k);
		got = cborjson_encode(answer, strlen(answer), &len);
		failalloc_after(-1);
		if (got != NULL && (len != want_len || memcmp(got, want, len) != 0))
			fail_msg("allocation %ld failed: different bytes", k);
		free(got);
		if (failalloc_failures() == 0)
			break;
	}
	free(want);
	assert_true(k < ROUNDS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_injection_reaches_jansson, swap_allocator,
						restore_allocator),
		cmocka_unit_test_setup_teardown(test_telemetry_each_allocation_fails,
						swap_allocator, restore_allocator),
		cmocka_unit_test_setup_teardown(test_event_each_allocation_fails, swap_allocator,
						restore_allocator),
		cmocka_unit_test_setup_teardown(test_cbor_decode_each_allocation_fails,
						swap_allocator, restore_allocator),
		cmocka_unit_test_setup_teardown(test_cbor_encode_each_allocation_fails,
						swap_allocator, restore_allocator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
