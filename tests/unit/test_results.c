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

#include "race/results.h"
#include "util/sanitize.h"

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

static char *render(enum results_format format, const struct results_race *races, size_t n,
		    bool unicode)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	results_races(f, format, races, n, unicode);
	return read_back(f);
}

static const struct results_racer racers[] = {
	{ .rank = 1, .racer_id = 100, .name = "Hayden", .score = 1670400, .output = 1502000,
	  .gap = 0, .cadence = 81.0, .resistance = 79.0, .second = 120 },
	{ .rank = 2, .racer_id = 101, .name = "Bad\x1b[2J\"name\", ok", .score = 1670399,
	  .output = 5000, .gap = 1, .cadence = 30.5, .resistance = 33.0, .second = 119 },
};

static const struct results_race race = {
	.race_id = 5400802, .class_id = 3, .class_name = "Expert", .finished = false,
	.second = 120, .duration = 300, .racers = racers, .racer_count = 2,
};

static void test_json_shape_and_decimals(void **state __attribute__((unused)))
{
	char *out = render(RESULTS_JSON, &race, 1, true);

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
	char *out = render(RESULTS_CSV, &race, 1, false);

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
	char *out = render(RESULTS_TEXT, &race, 1, true);
	char *line1 = strstr(out, "    1 "), *line2 = strstr(out, "    2 ");

	assert_non_null(line1);
	assert_non_null(line2);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(line2, "Bad\xef\xbf\xbd[2J"));
	/* 167.0399 rounds to 167.04; both end in the same column whatever
	 * the name. */
	assert_null(strstr(out, "167.0399"));
	assert_int_equal(column(line1, strstr(line1, "167.04") + 6),
			 column(line2, strstr(line2, "167.04") + 6));
	free(out);
}

/* One cell of a text table: its text, and the column just past its end. */
struct cell {
	char text[64];
	size_t end;
};

/* The last n space-separated cells of the line at `line` (names may hold
 * spaces, the numbers after them do not), last cell first. In a head a
 * unit ("Score W", "Res %") ends its title: the word before it is skipped. */
static void last_cells(const char *line, struct cell *cells, int n)
{
	const char *end = strchr(line, '\n'), *start;

	assert_non_null(end);
	for (int i = 0; i < n; i++) {
		while (end > line && end[-1] == ' ')
			end--;
		for (start = end; start > line && start[-1] != ' '; start--)
			;
		assert_true(end > start && (size_t)(end - start) < sizeof(cells[i].text));
		memcpy(cells[i].text, start, (size_t)(end - start));
		cells[i].text[end - start] = '\0';
		cells[i].end = column(line, end);
		end = start;
		if (strcmp(cells[i].text, "W") == 0 || strcmp(cells[i].text, "%") == 0) {
			for (end--; end > line && end[-1] != ' '; end--)
				;
		}
	}
}

/* Decimals of a number cell; -1 when it has no point. */
static int decimals(const char *text)
{
	const char *dot = strchr(text, '.');

	return dot ? (int)strlen(dot + 1) : -1;
}

/* Every racer line of a table whose head starts at `head` has its last
 * n cells ending where the heading's do, with want[k] decimals (the
 * leader's gap, a dash, excepted). */
static void expect_columns(const char *head, size_t lines, int n, const int *want)
{
	struct cell titles[8], cells[8];
	const char *line = head;

	last_cells(head, titles, n);
	for (size_t i = 0; i < lines; i++) {
		line = strchr(line, '\n') + 1;
		last_cells(line, cells, n);
		for (int k = 0; k < n; k++) {
			bool dash = strcmp(cells[k].text, "-") == 0 ||
				    strcmp(cells[k].text, "\u2014") == 0;
			assert_int_equal(cells[k].end, titles[k].end);
			if (!dash || want[k] < 0)
				assert_int_equal(decimals(cells[k].text), want[k]);
		}
	}
}

static const struct results_racer spread[] = {
	{ .rank = 1, .racer_id = 198, .name = "Margarett", .score = 1860000, .output = 1860000,
	  .gap = 0, .cadence = 89, .resistance = 85, .second = 300 },
	{ .rank = 2, .racer_id = 7, .name = "Zo\xc3\xab", .score = 1835248, .output = 45,
	  .gap = 24752, .cadence = 89.25, .resistance = 83, .second = 300 },
	{ .rank = 3, .racer_id = 258, .name = "Pat", .score = 1835200, .output = 0,
	  .gap = 24800, .cadence = 0, .resistance = 0, .second = 300 },
	{ .rank = 4, .racer_id = 99999999, .name = "A name far longer than the column",
	  .score = 5, .output = 4702500, .gap = 1859995, .cadence = 250, .resistance = 100,
	  .second = 1 },
};

static const struct results_race spread_race = {
	.race_id = 5987848000, .class_id = 6, .class_name = "Pro", .finished = true,
	.second = 300, .duration = 300, .racers = spread, .racer_count = 4,
};

/* Score, now and gap with two decimals, cadence and resistance with one,
 * each column ending (so each point standing) in one place, in Unicode
 * and in ASCII: the "186" above "183.52" cannot come back. */
static void test_text_columns_line_up_on_the_point(void **state __attribute__((unused)))
{
	/* From the right: second, gap, resistance, cadence, now, score. */
	static const int want[] = { -1, 2, 1, 1, 2, 2 };

	for (int unicode = 0; unicode <= 1; unicode++) {
		char *out = render(RESULTS_TEXT, &spread_race, 1, unicode);

		expect_columns(strstr(out, " Rank "), 4, 6, want);
		assert_non_null(strstr(out, " 186.00 "));
		assert_non_null(strstr(out, " 183.52 "));     /* 183.5248 */
		assert_non_null(strstr(out, " 0.00 "));       /* 0.0005 */
		assert_non_null(strstr(out, " 470.25 "));
		assert_non_null(strstr(out, " 89.3 "));       /* 89.25 */
		assert_non_null(strstr(out, " +2.48 "));
		assert_non_null(strstr(out, " +186.00 "));
		assert_non_null(strstr(out, unicode ? "\u2014    300\n" : " -    300\n"));
		free(out);
	}
}

static void test_text_leaders_line_up(void **state __attribute__((unused)))
{
	const struct results_leader leaders[] = {
		{ .rank = 1, .racer_id = 198, .name = "Margarett", .score = 1860000, .race_id = 5 },
		{ .rank = 2, .racer_id = 258, .name = "Zo\xc3\xab", .score = 1835248,
		  .race_id = 5987848000 },
	};
	const struct results_class cls = { .class_id = 6, .class_name = "Pro",
					  .leaders = leaders, .leader_count = 2 };
	static const int want[] = { -1, 2 };
	FILE *f = tmpfile();
	char *out;

	assert_non_null(f);
	results_classes(f, RESULTS_TEXT, &cls, 1, true);
	out = read_back(f);
	expect_columns(strstr(out, " Rank "), 2, 2, want);
	assert_non_null(strstr(out, " 183.52 "));
	free(out);
}

static void test_text_empty_class_says_so(void **state __attribute__((unused)))
{
	const struct results_class cls = { .class_id = 1, .class_name = "Rookie" };
	FILE *f = tmpfile();
	char *out;

	assert_non_null(f);
	results_classes(f, RESULTS_TEXT, &cls, 1, true);
	out = read_back(f);
	assert_string_equal(out, "All-time results for class 1 Rookie\nNo race of this class yet.\n");
	free(out);
}

static void test_text_profile_scores(void **state __attribute__((unused)))
{
	const struct results_best bests[] = {
		{ .class_id = 6, .class_name = "Pro", .rank = 1, .score = 1860000, .race_id = 5 },
	};
	const struct results_racer_race races[] = {
		{ .race_id = 5987848000, .class_id = 6, .rank = 1, .racers = 12, .score = 1860000 },
		{ .race_id = 5, .class_id = 6, .rank = 10, .racers = 1000, .score = 1835248 },
	};
	const struct results_profile p = { .racer_id = 198, .name = "Margarett", .bests = bests,
					  .best_count = 1, .races = races, .race_count = 2 };
	static const int want[] = { 2 };
	FILE *f = tmpfile();
	char *out;

	assert_non_null(f);
	results_profile(f, RESULTS_TEXT, &p, true);
	out = read_back(f);
	expect_columns(strstr(out, "Races, newest first\n") + 20, 2, 1, want);
	assert_non_null(strstr(out, " 186.00 "));
	free(out);
}

static void test_sanitize(void **state __attribute__((unused)))
{
	char out[64];

	sanitize_text("Zo\xc3\xab", out, sizeof(out), 64, true);
	assert_string_equal(out, "Zo\xc3\xab");
	/* Without UTF-8: accents go, two-letter spellings count two. */
	sanitize_text("Zo\xc3\xab Tu\xc4\x9f" "ba \xc5\x81\xc3\xb3" "d\xc5\xba Stra\xc3\x9f" "e",
		      out, sizeof(out), 64, false);
	assert_string_equal(out, "Zoe Tugba Lodz Strasse");
	assert_int_equal(sanitize_text("Gro\xc3\x9f", out, sizeof(out), 4, false), 3);
	assert_string_equal(out, "Gro");
	sanitize_text("\xe4\xb8\xad", out, sizeof(out), 64, false);
	assert_string_equal(out, "?");
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

static void test_classes_json(void **state __attribute__((unused)))
{
	const struct results_leader leaders[] = {
		{ .rank = 1, .racer_id = 100, .name = "Hayden", .score = 1670400, .race_id = 5400802 },
	};
	const struct results_class cls = { .class_id = 1, .class_name = "Rookie",
					  .leaders = leaders, .leader_count = 1 };
	FILE *f = tmpfile();
	char *buf;

	assert_non_null(f);
	results_classes(f, RESULTS_JSON, &cls, 1, true);
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
		cmocka_unit_test(test_text_columns_line_up_on_the_point),
		cmocka_unit_test(test_text_leaders_line_up),
		cmocka_unit_test(test_text_empty_class_says_so),
		cmocka_unit_test(test_text_profile_scores),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_classes_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
