/* Unit tests for src/wire/telemetry.c: decoding and validating telemetry records,
 * and the output formula of the original Alleycat. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wire/telemetry.h"

/* The example record of the original Alleycat bikes. */
static const char example[] =
	"{\"event\":\"update\",\"deviceTimestamp\":1620240672076,\"second\":1,\"raceId\":5400802,"
	"\"name\":\"Hayden\",\"racerId\":100,\"classId\":3,\"cadence\":81.0,\"resistance\":79.0}";

/* The fields of a valid record, to build variants from. */
struct field {
	const char *name;
	const char *value;
};

static const struct field base[] = {
	{ "event", "\"update\"" },
	{ "deviceTimestamp", "1620240672076" },
	{ "second", "1" },
	{ "raceId", "5400802" },
	{ "name", "\"Hayden\"" },
	{ "racerId", "100" },
	{ "classId", "3" },
	{ "cadence", "81.0" },
	{ "resistance", "79.0" },
};

#define BASE_COUNT (sizeof(base) / sizeof(base[0]))

/* The required fields, in the order the record is checked. */
static const char *const required[] = {
	"event", "second", "raceId", "racerId", "classId", "cadence", "resistance", "name",
};

/* Builds the base record with field `name` left out (value NULL) or given
 * `value` (appended when the base has no such field). */
static const char *build(char *buf, size_t size, const char *name, const char *value)
{
	size_t n = 0;
	int found = 0;

	n += (size_t)snprintf(buf + n, size - n, "{");
	for (size_t i = 0; i < BASE_COUNT; i++) {
		const char *v = base[i].value;

		if (name && strcmp(base[i].name, name) == 0) {
			found = 1;
			if (value == NULL)
				continue;
			v = value;
		}
		n += (size_t)snprintf(buf + n, size - n, "%s\"%s\":%s", n > 1 ? "," : "",
				      base[i].name, v);
	}
	if (name && !found && value)
		n += (size_t)snprintf(buf + n, size - n, ",\"%s\":%s", name, value);
	snprintf(buf + n, size - n, "}");
	assert_true(n + 1 < size);
	return buf;
}

static void decode_ok(const char *json, struct telemetry *t)
{
	const char *reason = NULL;

	memset(t, 0x5a, sizeof(*t));
	if (telemetry_decode(json, strlen(json), t, &reason) != 0)
		fail_msg("rejected (%s): %s", reason ? reason : "no reason", json);
}

/* The record must be rejected with a reason that names `mentions` (the
 * field at fault, or what is wrong with the whole record). */
static void decode_bad_len(const void *data, size_t len, const char *mentions)
{
	struct telemetry t;
	const char *reason = NULL;

	if (telemetry_decode(data, len, &t, &reason) != -1)
		fail_msg("accepted: %.*s", (int)len, (const char *)data);
	if (reason == NULL || *reason == '\0')
		fail_msg("rejected without a reason: %.*s", (int)len, (const char *)data);
	if (strstr(reason, mentions) == NULL)
		fail_msg("reason \"%s\" does not mention %s: %.*s", reason, mentions, (int)len,
			 (const char *)data);
}

static void decode_bad(const char *json, const char *mentions)
{
	decode_bad_len(json, strlen(json), mentions);
}

static void with_bad(const char *name, const char *value)
{
	char buf[1024];

	decode_bad(build(buf, sizeof(buf), name, value), name);
}

static void with_ok(const char *name, const char *value, struct telemetry *t)
{
	char buf[1024];

	decode_ok(build(buf, sizeof(buf), name, value), t);
}

/* ------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------ */

static void expect_format(int64_t output, const char *want)
{
	char buf[TELEMETRY_OUTPUT_TEXT_MAX];

	memset(buf, '#', sizeof(buf));
	telemetry_format_output(output, buf);
	if (strcmp(buf, want) != 0)
		fail_msg("%lld formats as \"%s\", expected \"%s\"", (long long)output, buf, want);
}

static void test_format_output(void **state)
{
	expect_format(1670400, "167.04");
	expect_format(1500000, "150");
	expect_format(5000, "0.5");
	expect_format(1, "0.0001");
	expect_format(1887500, "188.75");
	expect_format(0, "0");
	expect_format(10, "0.001");
	expect_format(100, "0.01");
	expect_format(12345, "1.2345");
	expect_format(10001, "1.0001");
	expect_format(10010, "1.001");
	expect_format(227500, "22.75");
	expect_format(4702500, "470.25");
	expect_format(99999, "9.9999");
	expect_format(-5000, "-0.5");
	expect_format(-1670400, "-167.04");
	expect_format(INT64_MAX, "922337203685477.5807");
	expect_format(INT64_MIN, "-922337203685477.5808");
}

static void test_output_formula(void **state)
{
	/* ((cadence + 35) * (resistance + 65)) / 100, in 1/10000 units. */
	assert_int_equal(telemetry_output(81.0, 79.0), 1670400);
	assert_int_equal(telemetry_output(0, 0), 227500);
	assert_int_equal(telemetry_output(65, 85), 1500000);
	assert_int_equal(telemetry_output(90, 86), 1887500);
	assert_int_equal(telemetry_output(250, 100), 4702500);
	/* The floating-point product is not exactly 167.04; the integer is. */
	assert_int_equal(telemetry_output(81.0, 79.0) / 10000, 167);
	assert_int_equal(telemetry_output(81.0, 79.0) % 10000, 400);
}

static void test_output_rounding(void **state)
{
	/* Exact binary fractions, so the halves are exact halves:
	 * 35.125 * 65 = 2283.125, so 22.83125 rounds up to 22.8313. */
	assert_int_equal(telemetry_output(0.125, 0), 228313);
	/* 35.5 * 65.25 = 2316.375: 23.16375 rounds up to 23.1638. */
	assert_int_equal(telemetry_output(0.5, 0.25), 231638);
	/* Below a half rounds down, above rounds up. */
	assert_int_equal(telemetry_output(0.0625, 0), 227906);   /* 22.790625 */
	assert_int_equal(telemetry_output(0.1875, 0), 228719);   /* 22.871875 */
	/* 35.03125 * 65 = 2277.03125: 22.7703125 rounds to 22.7703. */
	assert_int_equal(telemetry_output(0.03125, 0), 227703);
	/* 35.0078125 * 65 = 2275.5078125: 22.755078125 rounds to 22.7551. */
	assert_int_equal(telemetry_output(0.0078125, 0), 227551);
	/* Decimal inputs: 81.5 and 79.25 give 116.5 * 144.25 / 100 = 168.05125. */
	assert_int_equal(telemetry_output(81.5, 79.25), 1680513);
	/* 80.1 * 100 / 100 = 80.1 exactly, despite 45.1 not being exact. */
	assert_int_equal(telemetry_output(45.1, 35), 801000);
}

/* ------------------------------------------------------------------------
 * Decoding valid records
 * ------------------------------------------------------------------------ */

static void test_design_example(void **state)
{
	struct telemetry t;
	char buf[TELEMETRY_OUTPUT_TEXT_MAX];

	decode_ok(example, &t);
	assert_false(t.final);
	assert_int_equal(t.device_ts, 1620240672076);
	assert_int_equal(t.second, 1);
	assert_int_equal(t.race_id, 5400802);
	assert_int_equal(t.racer_id, 100);
	assert_int_equal(t.class_id, 3);
	assert_true(t.cadence == 81.0);
	assert_true(t.resistance == 79.0);
	assert_string_equal(t.name, "Hayden");
	assert_int_equal(t.output, 1670400);
	telemetry_format_output(t.output, buf);
	assert_string_equal(buf, "167.04");

	/* The builder makes the same record. */
	with_ok(NULL, NULL, &t);
	assert_int_equal(t.output, 1670400);
	assert_string_equal(t.name, "Hayden");
}

static void test_length_is_respected(void **state)
{
	char buf[512];
	struct telemetry t;
	const char *reason = NULL;
	size_t len = strlen(example);

	/* Not NUL-terminated, with junk after the record. */
	memcpy(buf, example, len);
	memcpy(buf + len, "garbage", 7);
	assert_int_equal(telemetry_decode(buf, len, &t, &reason), 0);
	assert_int_equal(t.output, 1670400);
	/* The junk counts when it is inside the length. */
	decode_bad_len(buf, len + 7, "not valid JSON");
}

static void test_final_event(void **state)
{
	struct telemetry t;

	with_ok("event", "\"final\"", &t);
	assert_true(t.final);
	assert_int_equal(t.second, 1);
	with_ok("event", "\"update\"", &t);
	assert_false(t.final);
}

static void test_unknown_fields_ignored(void **state)
{
	struct telemetry t;

	with_ok("power", "123", &t);
	assert_int_equal(t.output, 1670400);
	with_ok("extra", "{\"a\":[1,2,{\"b\":null}],\"event\":\"bogus\"}", &t);
	assert_int_equal(t.output, 1670400);
	with_ok("Event", "\"bogus\"", &t);       /* names are case-sensitive */
	assert_false(t.final);
	with_ok("heartRate", "null", &t);
	assert_string_equal(t.name, "Hayden");
}

static void test_numbers_float_or_integer(void **state)
{
	struct telemetry t;

	with_ok("cadence", "81", &t);
	assert_true(t.cadence == 81.0);
	assert_int_equal(t.output, 1670400);
	with_ok("resistance", "79", &t);
	assert_true(t.resistance == 79.0);
	assert_int_equal(t.output, 1670400);
	with_ok("cadence", "81.5", &t);
	assert_true(t.cadence == 81.5);
	assert_int_equal(t.output, 1677600);    /* 116.5 * 144 = 16776 */
	with_ok("resistance", "7.925e1", &t);
	assert_true(t.resistance == 79.25);
	assert_int_equal(t.output, 1673300);    /* 116 * 144.25 = 16733 */

	/* Both ends of both ranges. */
	with_ok("cadence", "0", &t);
	assert_true(t.cadence == 0.0);
	with_ok("cadence", "250", &t);
	with_ok("cadence", "250.0", &t);
	with_ok("resistance", "0.0", &t);
	with_ok("resistance", "100", &t);

	/* The integer fields at their limits. */
	with_ok("second", "300", &t);
	assert_int_equal(t.second, 300);
	with_ok("second", "86400", &t);
	assert_int_equal(t.second, 86400);
	with_ok("classId", "1", &t);
	assert_int_equal(t.class_id, 1);
	with_ok("classId", "6", &t);
	assert_int_equal(t.class_id, 6);
	with_ok("racerId", "0", &t);
	assert_int_equal(t.racer_id, 0);
	with_ok("raceId", "9223372036854775807", &t);
	assert_int_equal(t.race_id, INT64_MAX);

	/* Whitespace between tokens is fine. */
	decode_ok(" {\n\t\"event\" : \"final\" ,\"second\":2,\"raceId\":1,\"racerId\":2,"
		  "\"classId\":6,\"cadence\":0,\"resistance\":0,\"name\":\"\"}\n", &t);
	assert_true(t.final);
	assert_int_equal(t.second, 2);
	assert_int_equal(t.class_id, 6);
	assert_string_equal(t.name, "");
	assert_int_equal(t.output, 227500);
}

static void test_device_timestamp_optional(void **state)
{
	struct telemetry t;

	with_ok("deviceTimestamp", NULL, &t);
	assert_int_equal(t.device_ts, 0);
	assert_int_equal(t.output, 1670400);
	with_ok("deviceTimestamp", "0", &t);
	assert_int_equal(t.device_ts, 0);
	with_ok("deviceTimestamp", "1", &t);
	assert_int_equal(t.device_ts, 1);
	with_bad("deviceTimestamp", "\"1620240672076\"");
	with_bad("deviceTimestamp", "1.5");
}

static void test_names(void **state)
{
	struct telemetry t;
	char name[256], value[300];

	/* UTF-8 passes through byte for byte, escaped or not. */
	with_ok("name", "\"\xc3\xa9l\xc3\xa8ve \xf0\x9f\x9a\xb2\"", &t);
	assert_string_equal(t.name, "\xc3\xa9l\xc3\xa8ve \xf0\x9f\x9a\xb2");
	with_ok("name", "\"\\u00e9\\\"q\\\\\"", &t);
	assert_string_equal(t.name, "\xc3\xa9\"q\\");

	/* 64 bytes fit, 65 do not. */
	memset(name, 'a', 64);
	name[64] = '\0';
	snprintf(value, sizeof(value), "\"%s\"", name);
	with_ok("name", value, &t);
	assert_string_equal(t.name, name);
	snprintf(value, sizeof(value), "\"%sa\"", name);
	with_bad("name", value);
	/* Bytes, not characters: 32 two-byte characters fit, 33 do not. */
	name[0] = '\0';
	for (int i = 0; i < 32; i++)
		strcat(name, "\xc3\xa9");
	snprintf(value, sizeof(value), "\"%s\"", name);
	with_ok("name", value, &t);
	assert_int_equal(strlen(t.name), 64);
	snprintf(value, sizeof(value), "\"%s\xc3\xa9\"", name);
	with_bad("name", value);
	/* A NUL inside the name is refused, by the JSON layer already. */
	decode_bad("{\"event\":\"update\",\"second\":1,\"raceId\":1,\"racerId\":2,\"classId\":3,"
		   "\"cadence\":1,\"resistance\":1,\"name\":\"a\\u0000b\"}", "not valid JSON");
}

/* ------------------------------------------------------------------------
 * Rejections
 * ------------------------------------------------------------------------ */

static void test_reject_not_json(void **state)
{
	size_t len = strlen(example);

	decode_bad_len("", 0, "not valid JSON");
	decode_bad("hello", "not valid JSON");
	decode_bad("{event:\"update\"}", "not valid JSON");
	decode_bad("{'event':'update'}", "not valid JSON");
	decode_bad(",", "not valid JSON");
	decode_bad("\xff\xfe{}", "not valid JSON");
	/* Every truncation of a valid record. */
	for (size_t n = 0; n < len; n++)
		decode_bad_len(example, n, "not valid JSON");
	/* Two records in one. */
	{
		char two[512];

		snprintf(two, sizeof(two), "%s%s", example, example);
		decode_bad(two, "not valid JSON");
	}
}

static void test_reject_not_object(void **state)
{
	decode_bad("[]", "object");
	decode_bad("[{\"event\":\"update\"}]", "object");
	/* Valid JSON that is not an object. */
	decode_bad("\"update\"", "not a JSON object");
	decode_bad("42", "not a JSON object");
	decode_bad("null", "not a JSON object");
	decode_bad("true", "not a JSON object");
	decode_bad("{}", "missing field: event");
}

static void test_reject_missing_fields(void **state)
{
	char buf[1024];

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		decode_bad(build(buf, sizeof(buf), required[i], NULL), required[i]);
}

static void test_reject_wrong_types(void **state)
{
	with_bad("event", "1");
	with_bad("event", "null");
	with_bad("event", "[\"update\"]");
	with_bad("second", "\"1\"");
	with_bad("second", "1.0");
	with_bad("second", "1.5");
	with_bad("second", "true");
	with_bad("raceId", "\"5400802\"");
	with_bad("raceId", "5400802.5");
	with_bad("racerId", "\"100\"");
	with_bad("racerId", "null");
	with_bad("classId", "\"3\"");
	with_bad("classId", "3.0");
	with_bad("cadence", "\"81\"");
	with_bad("cadence", "null");
	with_bad("cadence", "[81]");
	with_bad("resistance", "\"79\"");
	with_bad("resistance", "false");
	with_bad("name", "123");
	with_bad("name", "null");
	with_bad("name", "[\"Hayden\"]");
	with_bad("name", "{\"first\":\"Hayden\"}");
}

static void test_reject_out_of_range(void **state)
{
	with_bad("second", "0");
	with_bad("second", "-1");
	with_bad("second", "86401");
	with_bad("classId", "0");
	with_bad("classId", "7");
	with_bad("classId", "-3");
	with_bad("cadence", "-1");
	with_bad("cadence", "-0.001");
	with_bad("cadence", "251");
	with_bad("cadence", "250.001");
	with_bad("cadence", "1e308");
	with_bad("resistance", "101");
	with_bad("resistance", "100.5");
	with_bad("resistance", "-1");
	with_bad("racerId", "-1");
	with_bad("raceId", "-1");
}

static void test_reject_bad_event(void **state)
{
	with_bad("event", "\"\"");
	with_bad("event", "\"Update\"");
	with_bad("event", "\"FINAL\"");
	with_bad("event", "\"finished\"");
	with_bad("event", "\"update \"");
	with_bad("event", "\"updat\"");
	with_bad("event", "\"updates\"");
	with_bad("event", "\"finals\"");
	with_bad("event", "\"final \"");
}

static void test_reject_duplicate_keys(void **state)
{
	char buf[1024];

	/* Even a duplicate with the same value: which one counts is unclear. */
	decode_bad(build(buf, sizeof(buf), "second", "1,\"second\":2"), "not valid JSON");
	decode_bad(build(buf, sizeof(buf), "classId", "3,\"classId\":3"), "not valid JSON");
	decode_bad(build(buf, sizeof(buf), "name", "\"A\",\"name\":\"B\""), "not valid JSON");
	/* Duplicates of unknown fields too: the record is not sound JSON. */
	decode_bad(build(buf, sizeof(buf), "x", "1,\"x\":2"), "not valid JSON");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_output),
		cmocka_unit_test(test_output_formula),
		cmocka_unit_test(test_output_rounding),
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_length_is_respected),
		cmocka_unit_test(test_final_event),
		cmocka_unit_test(test_unknown_fields_ignored),
		cmocka_unit_test(test_numbers_float_or_integer),
		cmocka_unit_test(test_device_timestamp_optional),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_reject_not_json),
		cmocka_unit_test(test_reject_not_object),
		cmocka_unit_test(test_reject_missing_fields),
		cmocka_unit_test(test_reject_wrong_types),
		cmocka_unit_test(test_reject_out_of_range),
		cmocka_unit_test(test_reject_bad_event),
		cmocka_unit_test(test_reject_duplicate_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
