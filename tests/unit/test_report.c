/* What scripts read: JSON in the documented shape with exact decimals, CSV
 * quoted as RFC 4180 says, and names from devices made harmless in text. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "sanitize.h"

/* Reads back what was written to a temporary file (malloc'd text). */
static char *read_back(FILE *f)
{
	long len = ftell(f);
	char *text = malloc((size_t)len + 1);

	assert_non_null(text);
	rewind(f);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	return text;
}

static char *render(enum report_format format, const struct report_race *races, size_t n,
		    bool unicode)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	report_races(f, format, races, n, unicode);
	return read_back(f);
}

static const struct report_racer racers[] = {
	{ .rank = 1, .racer_id = 100, .name = "Hayden", .score = 1670400, .output = 1502000,
	  .gap = 0, .cadence = 81.0, .resistance = 79.0, .second = 120 },
	{ .rank = 2, .racer_id = 101, .name = "Bad\x1b[2J\"name\", ok", .score = 1670399,
	  .output = 5000, .gap = 1, .cadence = 30.5, .resistance = 33.0, .second = 119 },
};

static const struct report_race race = {
	.race_id = 5400802, .class_id = 3, .class_name = "Expert", .finished = false,
	.second = 120, .duration = 300, .racers = racers, .racer_count = 2,
};

static void test_json_shape_and_decimals(void **state __attribute__((unused)))
{
	char *out = render(REPORT_JSON, &race, 1, true);

	assert_string_equal(out,
		"{\"races\":[{\"raceId\":5400802,\"classId\":3,\"className\":\"Expert\","
		"\"status\":\"live\",\"second\":120,\"duration\":300,\"racers\":["
		"{\"rank\":1,\"racerId\":100,\"name\":\"Hayden\",\"score\":167.04,\"output\":150.2,"
		"\"cadence\":81.0,\"resistance\":79.0,\"second\":120,\"gap\":0},"
		"{\"rank\":2,\"racerId\":101,\"name\":\"Bad\\u001b[2J\\\"name\\\", ok\","
		"\"score\":167.0399,\"output\":0.5,\"cadence\":30.5,\"resistance\":33.0,"
		"\"second\":119,\"gap\":0.0001}]}]}\n");
	free(out);
}

static void test_csv_quotes_and_sanitizes(void **state __attribute__((unused)))
{
	char *out = render(REPORT_CSV, &race, 1, false);

	/* The escape character becomes '?', the quote and comma are quoted. */
	assert_non_null(strstr(out, "\r\n5400802,3,Expert,live,120,300,2,101,\"Bad?[2J\"\"name\"\", ok\","
				    "167.0399,0.5,30.5,33.0,119,0.0001\r\n"));
	assert_null(strchr(out, '\x1b'));
	assert_true(strncmp(out, "raceId,classId,className,", 25) == 0);
	free(out);
}

/* The terminal column where text at p ends, counting characters. */
static size_t column(const char *line, const char *p)
{
	size_t col = 0;

	for (; line < p; line++)
		col += ((unsigned char)*line & 0xc0) != 0x80;
	return col;
}

static void test_text_aligns_and_sanitizes(void **state __attribute__((unused)))
{
	char *out = render(REPORT_TEXT, &race, 1, true);
	char *line1 = strstr(out, "    1 "), *line2 = strstr(out, "    2 ");

	assert_non_null(line1);
	assert_non_null(line2);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(line2, "Bad\xef\xbf\xbd[2J"));
	/* Scores end in the same column whatever the name. */
	assert_int_equal(column(line1, strstr(line1, "167.04") + 6),
			 column(line2, strstr(line2, "167.0399") + 8));
	free(out);
}

static void test_sanitize(void **state __attribute__((unused)))
{
	char out[64];

	sanitize_text("Zo\xc3\xab", out, sizeof(out), 64, true);
	assert_string_equal(out, "Zo\xc3\xab");
	sanitize_text("Zo\xc3\xab", out, sizeof(out), 64, false);
	assert_string_equal(out, "Zo?");
	/* C0, DEL, C1 (CSI) and invalid UTF-8 are replaced. */
	sanitize_text("a\x1b" "b\x7f" "c\xc2\x9b" "d\xff", out, sizeof(out), 64, false);
	assert_string_equal(out, "a?b?c?d?");
	sanitize_text("a\xe2\x80\xae" "b", out, sizeof(out), 64, true);
	assert_string_equal(out, "a\xef\xbf\xbd" "b");
	/* Lengths are clamped by characters and by bytes. */
	assert_int_equal(sanitize_text("abcdef", out, sizeof(out), 3, true), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(sanitize_text("\xc3\xab\xc3\xab\xc3\xab", out, 5, 10, true), 2);
	assert_string_equal(out, "\xc3\xab\xc3\xab");
}

static void test_utf8_valid(void **state __attribute__((unused)))
{
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("a\0b", 3));
	assert_true(utf8_valid("Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x9a\xb2", 13));
	assert_false(utf8_valid("\xff\xfe", 2));
	assert_false(utf8_valid("\xc0\xaf", 2));             /* overlong '/' */
	assert_false(utf8_valid("\xed\xa0\x80", 3));         /* a UTF-16 surrogate */
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4));     /* above U+10FFFF */
	assert_false(utf8_valid("\xe2\x82", 2));             /* cut short */
	assert_false(utf8_valid("a\x80", 2));                /* a stray continuation byte */
}

static void test_classes_json(void **state __attribute__((unused)))
{
	const struct report_leader leaders[] = {
		{ .rank = 1, .racer_id = 100, .name = "Hayden", .score = 1670400, .race_id = 5400802 },
	};
	const struct report_class cls = { .class_id = 1, .class_name = "Rookie",
					  .leaders = leaders, .leader_count = 1 };
	FILE *f = tmpfile();
	char *buf;

	assert_non_null(f);
	report_classes(f, REPORT_JSON, &cls, 1, true);
	buf = read_back(f);
	assert_string_equal(buf, "{\"classes\":[{\"classId\":1,\"className\":\"Rookie\",\"leaders\":["
				 "{\"rank\":1,\"racerId\":100,\"name\":\"Hayden\",\"score\":167.04,"
				 "\"raceId\":5400802}]}]}\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shape_and_decimals),
		cmocka_unit_test(test_csv_quotes_and_sanitizes),
		cmocka_unit_test(test_text_aligns_and_sanitizes),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_classes_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
