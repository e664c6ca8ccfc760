/* Raw batches (consumer_batch_decode_raw), what a relay such as the hub's
 * mirror reads: every record kept whole with its sequence number, whatever
 * its Data holds; a record missing a member is counted bad, never fatal. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/consumer_batch.h"

/* The event's raw batch, which must hold count good records and have left
 * out bad ones (saying why when there are). */
static struct consumer_batch *decode(const char *json, size_t count, size_t bad)
{
	struct push_event ev;
	struct consumer_batch *b = NULL;
	const char *reason;
	char last_bad[128] = "";
	uint64_t bytes = 0;
	size_t left_out;

	assert_int_equal(push_event_scan(json, strlen(json), &ev, &reason), 0);
	b = consumer_batch_decode_raw(&ev, &left_out, last_bad, sizeof(last_bad), &bytes, &reason);
	push_event_free(&ev);
	assert_non_null(b);
	assert_int_equal(b->count, count);
	assert_int_equal(left_out, bad);
	assert_true((last_bad[0] != '\0') == (bad > 0));
	return b;
}

/* A SubscribeToShardEvent of shard 1 around the records' JSON. */
#define EVENT(records, behind)                                                          \
	"{\"Event\":\"SubscribeToShardEvent\",\"ShardId\":\"shardId-000000000001\","      \
	"\"Records\":[" records "],\"ContinuationSequenceNumber\":\"9\","                 \
	"\"MillisBehindLatest\":" behind "}"

static void test_records_kept_whole(void **state)
{
	struct consumer_batch *b = decode(EVENT("{\"SequenceNumber\":\"42\","
						"\"ApproximateArrivalTimestamp\":1.5,"
						"\"Data\":\"aGVsbG8=\",\"PartitionKey\":\"k\\/1\"}",
						"7"),
					  1, 0);

	(void)state;
	assert_string_equal(b->raw[0].seq, "42");
	assert_string_equal(b->raw[0].key, "k/1");
	assert_int_equal(b->raw[0].data_len, 5);
	assert_memory_equal(b->raw[0].data, "hello", 5);
	assert_int_equal(b->raw[0].arrival_ms, 1500);
	assert_int_equal(b->millis_behind, 7);
	consumer_batch_free(b);
}

static void test_bad_records_counted(void **state)
{
	/* No SequenceNumber; Data not base64; a good one. */
	struct consumer_batch *b = decode(
		EVENT("{\"ApproximateArrivalTimestamp\":1,\"Data\":\"eA==\",\"PartitionKey\":\"k\"},"
		      "{\"SequenceNumber\":\"5\",\"ApproximateArrivalTimestamp\":1,\"Data\":\"!!\","
		      "\"PartitionKey\":\"k\"},"
		      "{\"SequenceNumber\":\"6\",\"ApproximateArrivalTimestamp\":1,"
		      "\"Data\":\"eA==\",\"PartitionKey\":\"k\"}",
		      "0"),
		1, 2);

	(void)state;
	assert_string_equal(b->raw[0].seq, "6");
	consumer_batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_kept_whole),
		cmocka_unit_test(test_bad_records_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
