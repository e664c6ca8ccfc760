/* Unit tests for src/util/numfmt.c: numbers rendered from integers with a fixed
 * number of decimals, rounded half away from zero, so that right-aligned
 * columns line up on the decimal point. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/numfmt.h"
#include "wire/telemetry.h"

static void expect_fixed(int64_t value, int scale, int decimals, const char *want)
{
	char buf[NUMFMT_TEXT_MAX];

	assert_string_equal(numfmt_fixed(value, scale, decimals, buf), want);
}

static void test_fixed_keeps_trailing_zeros(void **state __attribute__((unused)))
{
	expect_fixed(1860000, 4, 2, "186.00");
	expect_fixed(1835200, 4, 2, "183.52");
	expect_fixed(1670400, 4, 4, "167.0400");
	expect_fixed(5000, 4, 2, "0.50");
	expect_fixed(7, 0, 0, "7");
	expect_fixed(810, 1, 1, "81.0");
}

static void test_fixed_rounds_half_away_from_zero(void **state __attribute__((unused)))
{
	expect_fixed(1670399, 4, 2, "167.04");     /* never 167.03999 */
	expect_fixed(1485855, 4, 2, "148.59");
	expect_fixed(1450770, 4, 2, "145.08");
	expect_fixed(1234549, 4, 2, "123.45");     /* just below half */
	expect_fixed(1234550, 4, 2, "123.46");     /* half: up */
	expect_fixed(99950, 4, 2, "10.00");        /* the carry reaches the whole part */
	expect_fixed(99999, 4, 0, "10");
	expect_fixed(-1234550, 4, 2, "-123.46");   /* half away from zero below zero too */
	expect_fixed(-1234549, 4, 2, "-123.45");
}

static void test_fixed_zero_has_no_sign(void **state __attribute__((unused)))
{
	expect_fixed(0, 4, 2, "0.00");
	expect_fixed(-49, 4, 2, "0.00");           /* rounds to zero: not "-0.00" */
	expect_fixed(-50, 4, 2, "-0.01");
	expect_fixed(-1, 1, 1, "-0.1");
}

static void test_fixed_extremes(void **state __attribute__((unused)))
{
	expect_fixed(INT64_MAX, 4, 4, "922337203685477.5807");
	expect_fixed(INT64_MAX, 4, 2, "922337203685477.58");
	expect_fixed(INT64_MIN, 4, 2, "-922337203685477.58");
	expect_fixed(INT64_MIN, 0, 0, "-9223372036854775808");
	expect_fixed(INT64_MIN, 18, 18, "-9.223372036854775808");
	expect_fixed(INT64_MAX, 18, 0, "9");
}

/* Every output a bike can produce, at the largest cadence and resistance,
 * fits the narrowest screen column (8) and keeps two decimals. */
static void test_output_width_and_decimals(void **state __attribute__((unused)))
{
	char buf[NUMFMT_TEXT_MAX];
	int64_t most = telemetry_output(TELEMETRY_CADENCE_MAX, TELEMETRY_RESISTANCE_MAX);

	assert_string_equal(numfmt_output(most, buf), "470.25");
	for (int64_t v = 0; v <= most; v += 997) {
		const char *dot = strchr(numfmt_output(v, buf), '.');
		assert_non_null(dot);
		assert_int_equal(strlen(dot + 1), NUMFMT_OUTPUT_DECIMALS);
		assert_true(strlen(buf) <= 8);
	}
}

static void test_tenths(void **state __attribute__((unused)))
{
	char buf[NUMFMT_TEXT_MAX];

	assert_string_equal(numfmt_tenths(74, buf), "74.0");
	assert_string_equal(numfmt_tenths(81.25, buf), "81.3");
	assert_string_equal(numfmt_tenths(30.5, buf), "30.5");
	assert_string_equal(numfmt_tenths(0, buf), "0.0");
	assert_string_equal(numfmt_tenths(TELEMETRY_CADENCE_MAX, buf), "250.0");
	assert_string_equal(numfmt_tenths(-0.04, buf), "0.0");
	assert_string_equal(numfmt_tenths(NAN, buf), "?");
	assert_string_equal(numfmt_tenths(INFINITY, buf), "?");
	assert_string_equal(numfmt_tenths(1e300, buf), "?");
}

static void test_gap(void **state __attribute__((unused)))
{
	char buf[NUMFMT_TEXT_MAX];

	assert_string_equal(numfmt_gap(1, 1860000, 0, "\u2014", buf), "\u2014");
	assert_string_equal(numfmt_gap(2, 1835200, 24800, "-", buf), "+2.48");
	assert_string_equal(numfmt_gap(2, 1860000, 0, "-", buf), "+0.00");   /* a tie */
	assert_string_equal(numfmt_gap(9, 0, 4702500, "-", buf), "+470.25");
}

/* 128.9555 shows as 128.96 and 111.5406 as 111.54: the gap shown is
 * 17.42, what a reader subtracts, not 17.4149 rounded to 17.41. */
static void test_gap_is_the_difference_shown(void **state __attribute__((unused)))
{
	char buf[NUMFMT_TEXT_MAX], leader[NUMFMT_TEXT_MAX], score[NUMFMT_TEXT_MAX];

	assert_string_equal(numfmt_gap(11, 1115406, 174149, "-", buf), "+17.42");
	assert_string_equal(numfmt_gap(2, 1670399, 1, "-", buf), "+0.00");
	assert_string_equal(numfmt_gap(2, 1670349, 51, "-", buf), "+0.01");  /* 167.04 - 167.03 */
	/* Over a sweep of scores and gaps, shown gap = shown leader - shown score. */
	for (int64_t s = 0; s < 20000; s += 37) {
		for (int64_t g = 1; g < 3000; g += 113) {
			double want = atof(numfmt_output(s + g, leader)) - atof(numfmt_output(s, score));
			assert_true(fabs(atof(numfmt_gap(2, s, g, "-", buf) + 1) - want) < 0.001);
		}
	}
	/* Beyond any race, the gap is still printed, rounded alone. */
	assert_string_equal(numfmt_gap(2, INT64_MAX, 24800, "-", buf), "+2.48");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_keeps_trailing_zeros),
		cmocka_unit_test(test_fixed_rounds_half_away_from_zero),
		cmocka_unit_test(test_fixed_zero_has_no_sign),
		cmocka_unit_test(test_fixed_extremes),
		cmocka_unit_test(test_output_width_and_decimals),
		cmocka_unit_test(test_tenths),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_gap_is_the_difference_shown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
