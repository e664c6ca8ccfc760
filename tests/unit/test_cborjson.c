/* Unit tests for src/wire/cborjson.c: bodies as the AWS SDK for Java writes
 * them (indefinite-length maps, byte strings, tag 1 with milliseconds),
 * round trips of answers, and every way a request body can be malformed. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/cborjson.h"
#include "wire/protocol.h"

/* Bytes from hex digits; spaces are for the reader. */
static size_t unhex(const char *hex, unsigned char *out, size_t size)
{
	size_t n = 0;
	unsigned byte;

	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_true(n < size);
		assert_int_equal(sscanf(hex, "%2x", &byte), 1);
		out[n++] = (unsigned char)byte;
		hex += 2;
	}
	return n;
}

/* Decodes a body: the JSON its text means, or NULL with why filled. The
 * text must be JSON, of the length said. */
static json_t *decode(const void *body, size_t len, char *why, size_t why_size)
{
	size_t text_len;
	char *text = cborjson_decode(body, len, &text_len, why, why_size);

	if (text == NULL)
		return NULL;
	assert_int_equal(strlen(text), text_len);
	free(text);
	json_t *j = cborjson_load(body, len, why, why_size);
	if (j == NULL)
		fail_msg("%s", why);
	return j;
}

/* Decodes hex CBOR; the JSON it means as compact text with sorted keys
 * (malloc'd), or NULL with why filled. */
static char *decode_hex(const char *hex, char *why, size_t why_size)
{
	unsigned char body[4096];
	size_t len = unhex(hex, body, sizeof(body));
	json_t *j = decode(body, len, why, why_size);
	char *text;

	if (j == NULL)
		return NULL;
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	json_decref(j);
	return text;
}

static void expect_json(const char *hex, const char *expected)
{
	char why[160];
	char *text = decode_hex(hex, why, sizeof(why));

	if (text == NULL)
		fail_msg("%s: refused: %s", hex, why);
	assert_string_equal(text, expected);
	free(text);
}

static void expect_refused(const char *hex, const char *reason)
{
	char why[160];
	char *text = decode_hex(hex, why, sizeof(why));

	if (text != NULL)
		fail_msg("%s: accepted as %s", hex, text);
	if (strstr(why, reason) == NULL)
		fail_msg("%s: refused for \"%s\", not \"%s\"", hex, why, reason);
}

/* "StreamName" and "alleycat", as CBOR text strings. */
#define STREAM_NAME "6a 53747265616d4e616d65 68 616c6c6579636174"

static void test_content_type(void **state)
{
	(void)state;
	assert_true(cborjson_is_cbor("application/x-amz-cbor-1.1"));
	assert_true(cborjson_is_cbor("Application/X-Amz-CBOR-1.1"));
	assert_true(cborjson_is_cbor("application/x-amz-cbor-1.1; charset=utf-8"));
	assert_true(cborjson_is_cbor(" application/x-amz-cbor-1.1 "));
	assert_false(cborjson_is_cbor("application/x-amz-cbor-1.10"));
	assert_false(cborjson_is_cbor("application/x-amz-json-1.1"));
	assert_false(cborjson_is_cbor("application/cbor"));
	assert_false(cborjson_is_cbor(""));
	assert_false(cborjson_is_cbor(NULL));
}

/* PutRecord as the SDK writes it: an indefinite-length map, Data a byte
 * string (here 00 ff 10). */
static void test_put_record(void **state)
{
	(void)state;
	expect_json("bf " STREAM_NAME " 64 44617461 43 00ff10"
		    " 6c 506172746974696f6e4b6579 61 6b ff",
		    "{\"Data\":\"AP8Q\",\"PartitionKey\":\"k\",\"StreamName\":\"alleycat\"}");
}

/* GetShardIterator AT_TIMESTAMP, as captured from the SDK: tag 1 and epoch
 * milliseconds 1787036486712 under Timestamp become epoch seconds. */
static void test_timestamp_milliseconds(void **state)
{
	(void)state;
	expect_json("a2 69 54696d657374616d70 c1 1b 000001a013accc38 " STREAM_NAME,
		    "{\"StreamName\":\"alleycat\",\"Timestamp\":1787036486.712}");
	/* Untagged, or as a float, it still means milliseconds. */
	expect_json("a1 69 54696d657374616d70 1b 000001a013accc38",
		    "{\"Timestamp\":1787036486.712}");
	expect_json("a1 69 54696d657374616d70 fb 427a013accc38000",
		    "{\"Timestamp\":1787036486.712}");
	/* Nested: ListShards' ShardFilter. */
	expect_json("a1 6b 536861726446696c746572 a1 69 54696d657374616d70 19 03e8",
		    "{\"ShardFilter\":{\"Timestamp\":1.0}}");
	/* A timestamp member that holds no number is left for the API to judge. */
	expect_json("a1 69 54696d657374616d70 61 78", "{\"Timestamp\":\"x\"}");
}

/* PutRecords: a definite map holding an array of maps. */
static void test_put_records(void **state)
{
	(void)state;
	expect_json("a2 67 5265636f726473 82"
		    " a2 64 44617461 41 61 6c 506172746974696f6e4b6579 61 31"
		    " a2 64 44617461 40 6c 506172746974696f6e4b6579 61 32 " STREAM_NAME,
		    "{\"Records\":[{\"Data\":\"YQ==\",\"PartitionKey\":\"1\"},"
		    "{\"Data\":\"\",\"PartitionKey\":\"2\"}],\"StreamName\":\"alleycat\"}");
}

static void test_scalars(void **state)
{
	(void)state;
	expect_json("a1 61 61 9f 00 17 18 18 19 0100 1a 00010000 1b 7fffffffffffffff ff",
		    "{\"a\":[0,23,24,256,65536,9223372036854775807]}");
	expect_json("a1 61 61 84 20 38 63 39 03e7 3b 7fffffffffffffff",
		    "{\"a\":[-1,-100,-1000,-9223372036854775808]}");
	expect_json("a1 61 61 83 f9 3e00 fa 3fc00000 fb 3ff8000000000000",
		    "{\"a\":[1.5,1.5,1.5]}");
	expect_json("a1 61 61 84 f4 f5 f6 f7", "{\"a\":[false,true,null,null]}");
	/* Tags other than 1 change nothing either. */
	expect_json("a1 61 61 d8 20 61 78", "{\"a\":\"x\"}");
	expect_json("a0", "{}");
	expect_json("bf ff", "{}");
	expect_json("a1 61 61 80", "{\"a\":[]}");
	expect_json("a1 61 61 a0", "{\"a\":{}}");
}

/* Indefinite-length strings, as a writer may cut a long one. */
static void test_chunked_strings(void **state)
{
	(void)state;
	expect_json("a1 7f 62 4461 62 7461 ff 5f 41 00 42 ff10 ff", "{\"Data\":\"AP8Q\"}");
	expect_json("a1 61 61 7f ff", "{\"a\":\"\"}");
	expect_json("a1 61 61 5f ff", "{\"a\":\"\"}");
}

static void test_refuse_framing(void **state)
{
	(void)state;
	expect_refused("", "an empty body");
	expect_refused("bf " STREAM_NAME, "ends inside an item");
	expect_refused("a2 " STREAM_NAME, "ends inside an item");
	expect_refused("a1 6a 53747265", "ends inside an item");
	expect_refused("a1 61 61 c1", "ends inside an item");
	expect_refused("a1 61 61 7f 61 78", "ends inside an item");
	expect_refused("a0 a0", "more than one item at the top level");
	expect_refused("a0 00", "more than one item at the top level");
	expect_refused("80", "not a map");
	expect_refused("61 78", "not a map");
	expect_refused("ff", "a break outside");
	expect_refused("a1 61 61 82 00 ff", "a break outside");
	expect_refused("bf 61 61 ff", "between a key and its value");
	expect_refused("a1 61 61 c1 ff", "a tag without its item");
}

static void test_refuse_bytes(void **state)
{
	(void)state;
	expect_refused("a1 61 61 1c", "reserved or unassigned initial byte 0x1c at byte 3");
	expect_refused("a1 61 61 f8 20", "reserved or unassigned initial byte 0xf8");
	expect_refused("a1 61 61 e0", "reserved or unassigned initial byte 0xe0");
	expect_refused("a1 61 61 fc", "reserved or unassigned initial byte 0xfc");
	expect_refused("a1 61 61 1b ffffffffffffffff", "an integer out of range");
	expect_refused("a1 61 61 3b 8000000000000000", "an integer out of range");
	expect_refused("a1 61 61 fb 7ff8000000000000", "not finite");
	expect_refused("a1 61 61 f9 7c00", "not finite");
}

static void test_refuse_keys_and_text(void **state)
{
	(void)state;
	expect_refused("a1 01 02", "a map key is not a text string");
	expect_refused("a1 41 61 02", "a map key is not a text string");
	expect_refused("a1 a0 02", "a map key is not a text string");
	expect_refused("a1 62 6100 02", "a map key holds a NUL byte");
	expect_refused("a1 61 61 62 6100", "a text string holds a NUL byte");
	expect_refused("a1 61 ff 02", "a map key is not valid UTF-8");
	expect_refused("a1 61 61 62 c328", "a text string is not valid UTF-8");
	expect_refused("a1 61 61 7f 61 c3 61 28 ff", "a text string is not valid UTF-8");
	expect_refused("a1 61 61 7f 41 78 ff", "a chunk of another type");
	expect_refused("a1 61 61 5f 61 78 ff", "a chunk of another type");
	expect_refused("a1 61 61 7f 7f ff ff", "holds an item of another type");
	expect_refused("a1 61 61 7f 00 ff", "holds an item of another type");
	expect_refused("a1 61 61 7f c1 61 78 ff", "holds a tag");
}

/* Lengths the body cannot hold are refused before anything is allocated
 * for them; a body nested deeper or holding more items than any request is
 * refused too. */
static void test_refuse_sizes(void **state)
{
	unsigned char body[KINESIS_REQUEST_ITEMS_MAX + 64];
	char why[160];
	size_t n = 0;

	(void)state;
	expect_refused("a1 61 61 9b ffffffffffffffff", "declares");
	expect_refused("a1 61 61 9b 0000000100000000", "declares");
	expect_refused("a1 61 61 bb 4000000000000000", "declares");
	expect_refused("a1 61 61 bb ffffffffffffffff", "declares");
	expect_refused("a1 61 61 83 00 00", "ends inside an item");
	expect_refused("a1 61 61 7b 0000000100000000 78", "ends inside an item");
	expect_refused("a1 61 61 5b ffffffffffffffff", "ends inside an item");
	expect_refused("a1 61 61 9f 9f 9f 9f 9f 9f 9f 9f ff ff ff ff ff ff ff ff",
		       "nested deeper than 8");
	expect_json("a1 61 61 9f 9f 9f 9f 9f 9f 9f ff ff ff ff ff ff ff",
		    "{\"a\":[[[[[[[]]]]]]]}");

	body[n++] = 0xa1;
	body[n++] = 0x61;
	body[n++] = 'a';
	body[n++] = 0x9f;
	memset(body + n, 0xf6, KINESIS_REQUEST_ITEMS_MAX);
	n += KINESIS_REQUEST_ITEMS_MAX;
	body[n++] = 0xff;
	assert_null(decode(body, n, why, sizeof(why)));
	assert_non_null(strstr(why, "more than 8000 items"));
	/* The map, its key and the array count too: with them, exactly the
	 * bound fits. */
	n = 4 + KINESIS_REQUEST_ITEMS_MAX - 3;
	body[n++] = 0xff;
	json_t *j = decode(body, n, why, sizeof(why));
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "a")), KINESIS_REQUEST_ITEMS_MAX - 3);
	json_decref(j);
}

/* Every strict prefix of a good body is refused, and never crashes. */
static void test_every_prefix(void **state)
{
	unsigned char body[256];
	size_t len = unhex("bf " STREAM_NAME " 67 5265636f726473 9f a2 64 44617461 43 00ff10"
			   " 69 54696d657374616d70 c1 1b 000001a013accc38 ff ff",
			   body, sizeof(body));
	char why[160];
	json_t *j;

	(void)state;
	for (size_t n = 0; n < len; n++) {
		j = decode(body, n, why, sizeof(why));
		if (j != NULL)
			fail_msg("a prefix of %zu bytes was accepted", n);
		assert_true(why[0] != '\0');
	}
	j = decode(body, len, why, sizeof(why));
	assert_non_null(j);
	json_decref(j);
}

/* A why too small for the reason is cut, still terminated. */
static void test_small_why(void **state)
{
	char why[8];

	(void)state;
	assert_null(decode("\x80", 1, why, sizeof(why)));
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_null(decode("\x80", 1, NULL, 0));
}

/* An answer: Data becomes a byte string, timestamps tag 1 with integer
 * milliseconds, and decoding gives the same JSON back. */
static void test_encode_answer(void **state)
{
	const char *text = "{\"Records\":[{\"SequenceNumber\":\"49\",\"ApproximateArrivalTimestamp\":"
			   "1787036486.712,\"Data\":\"AP8Q\",\"PartitionKey\":\"k\\u00e9\\n\"}],"
			   "\"MillisBehindLatest\":0,\"NextShardIterator\":null,\"ChildShards\":[],"
			   "\"Neg\":-5,\"Real\":1.5,\"Open\":true,\"Closed\":false}";
	unsigned char expected_ts[10], expected_data[4], expected_key[5];
	json_t *answer = json_loads(text, 0, NULL), *back;
	unsigned char *cbor;
	char why[160];
	size_t len;

	(void)state;
	assert_non_null(answer);
	cbor = cborjson_encode(text, strlen(text), &len);
	assert_non_null(cbor);
	unhex("c1 1b 000001a013accc38", expected_ts, sizeof(expected_ts));
	unhex("43 00ff10", expected_data, sizeof(expected_data));
	unhex("64 6bc3a90a", expected_key, sizeof(expected_key));
	assert_non_null(memmem(cbor, len, expected_ts, sizeof(expected_ts)));
	assert_non_null(memmem(cbor, len, expected_data, sizeof(expected_data)));
	assert_non_null(memmem(cbor, len, expected_key, sizeof(expected_key)));
	back = decode(cbor, len, why, sizeof(why));
	assert_non_null(back);
	assert_true(json_equal(answer, back));
	json_decref(back);
	json_decref(answer);
	free(cbor);
}

/* Error answers, as the SDK reads them: __type and message in a map. */
static void test_encode_error(void **state)
{
	const char *text = "{\"__type\":\"ResourceNotFoundException\","
			   "\"message\":\"Stream x under account 0 not found.\"}";
	unsigned char *cbor;
	size_t len;

	(void)state;
	cbor = cborjson_encode(text, strlen(text), &len);
	assert_non_null(cbor);
	assert_int_equal(cbor[0], 0xbf);
	assert_int_equal(cbor[1], 0x66);
	assert_memory_equal(cbor + 2, "__type", 6);
	assert_int_equal(cbor[8], 0x78);
	assert_int_equal(cbor[9], strlen("ResourceNotFoundException"));
	assert_int_equal(cbor[len - 1], 0xff);
	free(cbor);
}

/* What the encoder refuses: Data that is not base64, text not JSON. */
static void test_encode_refused(void **state)
{
	static const char *const texts[] = {
		"{\"Records\":[{\"Data\":\"not base64!\"}]}",
		"{\"a\":",
		"{} {}",
		"",
		"{\"a\":\"\\u0000\"}",
	};
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (cborjson_encode(texts[i], strlen(texts[i]), &len) != NULL)
			fail_msg("encoded: %s", texts[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_put_record),
		cmocka_unit_test(test_timestamp_milliseconds),
		cmocka_unit_test(test_put_records),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_chunked_strings),
		cmocka_unit_test(test_refuse_framing),
		cmocka_unit_test(test_refuse_bytes),
		cmocka_unit_test(test_refuse_keys_and_text),
		cmocka_unit_test(test_refuse_sizes),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_small_why),
		cmocka_unit_test(test_encode_answer),
		cmocka_unit_test(test_encode_error),
		cmocka_unit_test(test_encode_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
