/* Unit tests for src/wire/seqno.c: parsing, formatting, comparing and issuing
 * sequence numbers. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wire/seqno.h"

/* A plausible clock: 2021-05-05T18:51:12.076Z in microseconds. */
#define NOW_US INT64_C(1620240672076000)

static void expect_parse(const char *text, seqno_t want)
{
	seqno_t got = 0;
	enum seqno_parse_result rc = seqno_parse(text, &got);

	if (rc != SEQNO_OK)
		fail_msg("\"%s\": result %d, expected SEQNO_OK", text, (int)rc);
	assert_true(got == want);
}

static void expect_result(const char *text, enum seqno_parse_result want)
{
	seqno_t got = 777;
	enum seqno_parse_result rc = seqno_parse(text, &got);

	if (rc != want)
		fail_msg("\"%.40s%s\" (%zu chars): result %d, expected %d", text,
			 strlen(text) > 40 ? "..." : "", strlen(text), (int)rc, (int)want);
	/* The output is not touched unless the number is returned. */
	assert_true(got == 777);
}

/* A number of n digits: '1' then n - 1 times fill. */
static void digits(char *buf, size_t n, char fill)
{
	buf[0] = '1';
	memset(buf + 1, fill, n - 1);
	buf[n] = '\0';
}

static void test_parse(void **state)
{
	char buf[200];

	expect_parse("0", 0);
	expect_parse("1", 1);
	expect_parse("42", 42);
	expect_parse("1620240672076000000", UINT64_C(1620240672076000000));
	expect_parse("18446744073709551614", UINT64_MAX - 1);
	expect_parse("18446744073709551615", UINT64_MAX);

	expect_result("", SEQNO_MALFORMED);
	expect_result("01", SEQNO_MALFORMED);
	expect_result("00", SEQNO_MALFORMED);
	expect_result("abc", SEQNO_MALFORMED);
	expect_result("12a", SEQNO_MALFORMED);
	expect_result("-1", SEQNO_MALFORMED);
	expect_result("+1", SEQNO_MALFORMED);
	expect_result(" 1", SEQNO_MALFORMED);
	expect_result("1 ", SEQNO_MALFORMED);
	expect_result("1.5", SEQNO_MALFORMED);
	expect_result("/", SEQNO_MALFORMED);
	expect_result(":", SEQNO_MALFORMED);
	expect_result("1:", SEQNO_MALFORMED);
	expect_result("1/", SEQNO_MALFORMED);

	expect_result("18446744073709551616", SEQNO_TOO_LARGE);
	expect_result("18446744073709551620", SEQNO_TOO_LARGE);
	expect_result("99999999999999999999", SEQNO_TOO_LARGE);
	expect_result("100000000000000000000", SEQNO_TOO_LARGE);
	/* A well-formed overflow with junk later is still malformed. */
	expect_result("99999999999999999999x", SEQNO_MALFORMED);
	expect_result("0184467440737095516150", SEQNO_MALFORMED);

	/* 129 digits is the longest the protocol allows: too large for us. */
	digits(buf, 129, '0');
	expect_result(buf, SEQNO_TOO_LARGE);
	digits(buf, 129, '9');
	expect_result(buf, SEQNO_TOO_LARGE);
	/* 130 digits is not a sequence number at all. */
	digits(buf, 130, '0');
	expect_result(buf, SEQNO_MALFORMED);
	digits(buf, 199, '0');
	expect_result(buf, SEQNO_MALFORMED);
	/* Every length from 21 to 129 is too large, 130 and up malformed. */
	for (size_t n = 21; n <= 140; n++) {
		digits(buf, n, '5');
		expect_result(buf, n <= 129 ? SEQNO_TOO_LARGE : SEQNO_MALFORMED);
	}
}

static void round_trip(seqno_t seq)
{
	char buf[SEQNO_TEXT_MAX], check[32];
	seqno_t back = 0;

	memset(buf, '#', sizeof(buf));
	seqno_format(seq, buf);
	snprintf(check, sizeof(check), "%llu", (unsigned long long)seq);
	assert_string_equal(buf, check);
	assert_int_equal(seqno_parse(buf, &back), SEQNO_OK);
	assert_true(back == seq);
}

static void test_format_round_trip(void **state)
{
	char buf[SEQNO_TEXT_MAX];
	seqno_t p = 1;

	seqno_format(0, buf);
	assert_string_equal(buf, "0");
	seqno_format(UINT64_MAX, buf);
	assert_string_equal(buf, "18446744073709551615");
	assert_int_equal(strlen(buf), SEQNO_TEXT_MAX - 1);

	round_trip(0);
	round_trip(UINT64_MAX);
	for (int i = 0; i < 64; i++) {
		round_trip((seqno_t)1 << i);
		round_trip(((seqno_t)1 << i) - 1);
	}
	for (int i = 0; i < 20; i++) {
		round_trip(p - 1);
		round_trip(p);
		round_trip(p + 1);
		p *= 10;
	}
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void expect_order(const char *a, const char *b, int want)
{
	int got = sign(seqno_compare_text(a, b));
	int back = sign(seqno_compare_text(b, a));

	if (got != want || back != -want)
		fail_msg("compare(%s, %s) = %d, reversed %d; expected %d", a, b, got, back, want);
}

static void test_compare_text(void **state)
{
	char big[130], bigger[130], longest[130];

	expect_order("0", "0", 0);
	expect_order("5", "5", 0);
	expect_order("0", "1", -1);
	expect_order("1", "2", -1);
	/* Longer is larger, whatever the digits. */
	expect_order("9", "10", -1);
	expect_order("99", "100", -1);
	expect_order("18446744073709551615", "18446744073709551616", -1);
	expect_order("99999999999999999999", "100000000000000000000", -1);
	/* Equal lengths compare as text. */
	expect_order("12", "21", -1);
	expect_order("123", "124", -1);
	expect_order("49590338271490256608559692538361571095921575989136588898",
		     "49590338271490256608559692540925702759324208523137515618", -1);
	expect_order("49590338271490256608559692538361571095921575989136588898",
		     "49590338271490256608559692538361571095921575989136588898", 0);

	digits(big, 129, '0');
	digits(bigger, 129, '0');
	bigger[128] = '1';
	digits(longest, 129, '9');
	expect_order(big, bigger, -1);
	expect_order(bigger, longest, -1);
	expect_order(longest, longest, 0);
	expect_order("18446744073709551615", big, -1);
}

/* Comparing text agrees with comparing numbers. */
static void test_compare_matches_numbers(void **state)
{
	static const seqno_t values[] = {
		0, 1, 9, 10, 11, 99, 100, 1000, 12345, 54321, 1620240672076000000ull,
		1620240672076000001ull, UINT64_MAX - 1, UINT64_MAX,
	};
	size_t n = sizeof(values) / sizeof(values[0]);

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			char a[SEQNO_TEXT_MAX], b[SEQNO_TEXT_MAX];
			int want = values[i] < values[j] ? -1 : values[i] > values[j];

			seqno_format(values[i], a);
			seqno_format(values[j], b);
			assert_int_equal(sign(seqno_compare_text(a, b)), want);
		}
	}
}

static void test_gen_strictly_increasing(void **state)
{
	struct seqno_gen gen;
	seqno_t prev;

	seqno_gen_init(&gen, 0, NOW_US);
	prev = seqno_gen_next(&gen);
	for (int i = 0; i < 100000; i++) {
		seqno_t next = seqno_gen_next(&gen);

		if (next <= prev)
			fail_msg("number %d: %llu after %llu", i, (unsigned long long)next,
				 (unsigned long long)prev);
		prev = next;
	}
}

static void test_gen_seed(void **state)
{
	struct seqno_gen gen;
	seqno_t clock_seed = (seqno_t)NOW_US * 1000u;
	seqno_t first;

	/* Above the clock when nothing was persisted. */
	seqno_gen_init(&gen, 0, NOW_US);
	first = seqno_gen_next(&gen);
	assert_true(first > clock_seed);

	/* Above the clock when the persisted number is below it. */
	seqno_gen_init(&gen, clock_seed - 5000, NOW_US);
	assert_true(seqno_gen_next(&gen) > clock_seed);

	/* Above the persisted number when it is ahead of the clock. */
	seqno_gen_init(&gen, clock_seed + 123456789, NOW_US);
	assert_true(seqno_gen_next(&gen) > clock_seed + 123456789);
	seqno_gen_init(&gen, clock_seed, NOW_US);
	assert_true(seqno_gen_next(&gen) > clock_seed);

	/* No usable clock: still above what was persisted. */
	seqno_gen_init(&gen, 41, 0);
	assert_true(seqno_gen_next(&gen) > 41);
	seqno_gen_init(&gen, 41, -1);
	assert_true(seqno_gen_next(&gen) > 41);
	seqno_gen_init(&gen, 0, 0);
	assert_true(seqno_gen_next(&gen) > 0);
}

/* What a hub issued before a restart is never issued again after it. */
static void test_gen_restart(void **state)
{
	enum { ISSUED = 5000 };
	struct seqno_gen before, after;
	seqno_t last = 0;

	/* An in-memory hub: the next run seeds from the clock, 1 ms later
	 * (the first run issued far fewer than 1000 numbers a microsecond). */
	seqno_gen_init(&before, 0, NOW_US);
	for (int i = 0; i < ISSUED; i++)
		last = seqno_gen_next(&before);
	seqno_gen_init(&after, 0, NOW_US + 1000);
	assert_true(seqno_gen_next(&after) > last);

	/* A durable hub: the clock stepped back, the persisted number wins. */
	seqno_gen_init(&before, 0, NOW_US);
	for (int i = 0; i < ISSUED; i++)
		last = seqno_gen_next(&before);
	seqno_gen_init(&after, last, NOW_US - 60000000);
	assert_true(seqno_gen_next(&after) > last);

	/* The same clock reading again, with the persisted last number. */
	seqno_gen_init(&after, last, NOW_US);
	assert_true(seqno_gen_next(&after) == last + 1);

	/* Numbers from the clock fit a uint64 and format within the limit. */
	{
		char buf[SEQNO_TEXT_MAX];
		seqno_t back = 0;

		seqno_format(last, buf);
		assert_int_equal(seqno_parse(buf, &back), SEQNO_OK);
		assert_true(back == last);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_compare_text),
		cmocka_unit_test(test_compare_matches_numbers),
		cmocka_unit_test(test_gen_strictly_increasing),
		cmocka_unit_test(test_gen_seed),
		cmocka_unit_test(test_gen_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
