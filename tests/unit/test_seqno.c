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

static void expect_parse(const char *text, uint64_t want)
{
	seqno_t got = SEQNO_ZERO;
	enum seqno_parse_result rc = seqno_parse(text, &got);

	if (rc != SEQNO_OK)
		fail_msg("\"%s\": result %d, expected SEQNO_OK", text, (int)rc);
	assert_true(seqno_eq(got, seqno_from_u64(want)));
}

static void expect_result(const char *text, enum seqno_parse_result want)
{
	seqno_t got = seqno_from_u64(777);
	enum seqno_parse_result rc = seqno_parse(text, &got);

	if (rc != want)
		fail_msg("\"%.40s%s\" (%zu chars): result %d, expected %d", text,
			 strlen(text) > 40 ? "..." : "", strlen(text), (int)rc, (int)want);
	/* The output is not touched unless the number is returned. */
	assert_true(seqno_eq(got, seqno_from_u64(777)));
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

	/* 2^256 and beyond. */
	expect_result("115792089237316195423570985008687907853269984665640564039457584007913129639936",
		      SEQNO_TOO_LARGE);
	expect_result("999999999999999999999999999999999999999999999999999999999999999999999999999999",
		      SEQNO_TOO_LARGE);
	/* A well-formed overflow with junk later is still malformed. */
	expect_result("999999999999999999999999999999999999999999999999999999999999999999999999999999x",
		      SEQNO_MALFORMED);
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
	/* 1555...5 fits up to 77 digits; from 78 to 129 it is too large,
	 * from 130 on malformed. */
	for (size_t n = 21; n <= 140; n++) {
		seqno_t got;

		digits(buf, n, '5');
		if (n <= 77)
			assert_int_equal(seqno_parse(buf, &got), SEQNO_OK);
		else
			expect_result(buf, n <= 129 ? SEQNO_TOO_LARGE : SEQNO_MALFORMED);
	}
}

static void round_trip(uint64_t value)
{
	char buf[SEQNO_TEXT_MAX], check[32];
	seqno_t back = SEQNO_ZERO;

	size_t len;

	memset(buf, '#', sizeof(buf));
	len = seqno_format(seqno_from_u64(value), buf);
	assert_int_equal(len, strlen(buf));
	snprintf(check, sizeof(check), "%llu", (unsigned long long)value);
	assert_string_equal(buf, check);
	assert_int_equal(seqno_parse(buf, &back), SEQNO_OK);
	assert_true(seqno_eq(back, seqno_from_u64(value)));
}

/* Parsing text and formatting it back gives the same text. */
static void text_round_trip(const char *text)
{
	char buf[SEQNO_TEXT_MAX];
	seqno_t seq;

	assert_int_equal(seqno_parse(text, &seq), SEQNO_OK);
	assert_int_equal(seqno_format(seq, buf), strlen(text));
	assert_string_equal(buf, text);
}

static void test_format_round_trip(void **state)
{
	char buf[SEQNO_TEXT_MAX];
	uint64_t p = 1;

	seqno_format(SEQNO_ZERO, buf);
	assert_string_equal(buf, "0");
	seqno_format(seqno_from_u64(UINT64_MAX), buf);
	assert_string_equal(buf, "18446744073709551615");
	seqno_format(SEQNO_MAX, buf);
	assert_string_equal(buf, "1157920892373161954235709850086879078532699846656405640394575840"
				 "07913129639935");
	assert_int_equal(strlen(buf), SEQNO_TEXT_MAX - 1);

	round_trip(0);
	round_trip(UINT64_MAX);
	for (int i = 0; i < 64; i++) {
		round_trip((uint64_t)1 << i);
		round_trip(((uint64_t)1 << i) - 1);
	}
	for (int i = 0; i < 20; i++) {
		round_trip(p - 1);
		round_trip(p);
		round_trip(p + 1);
		p *= 10;
	}
	/* Wider than 64 bits: Amazon Kinesis's numbers, powers of ten and
	 * numbers either side of each word's end. */
	text_round_trip("18446744073709551616");
	text_round_trip("49590338271490256608559692538361571095921575989136588898");
	text_round_trip("49654183049498290934127734893407271634858925398213394434");
	text_round_trip("340282366920938463463374607431768211455");       /* 2^128 - 1 */
	text_round_trip("340282366920938463463374607431768211456");       /* 2^128 */
	text_round_trip("6277101735386680763835789423207666416102355444464034512896"); /* 2^192 */
	for (int n = 20; n <= 77; n++) {
		char ten[80];

		digits(ten, (size_t)n, '0');
		text_round_trip(ten);
		digits(ten, (size_t)n, '9');
		text_round_trip(ten);
	}
}

static seqno_t seq_of(const char *text)
{
	seqno_t seq;

	assert_int_equal(seqno_parse(text, &seq), SEQNO_OK);
	return seq;
}

static void expect_text(seqno_t seq, const char *want)
{
	char buf[SEQNO_TEXT_MAX];

	seqno_format(seq, buf);
	assert_string_equal(buf, want);
}

/* +1 and -1 carry across the words; comparing follows the numbers. */
static void test_arithmetic(void **state)
{
	seqno_t kinesis = seq_of("49654183049498290934127734893407271634858925398213394434");
	unsigned char bytes[SEQNO_BYTES];

	expect_text(seqno_next(seq_of("18446744073709551615")), "18446744073709551616");
	expect_text(seqno_prev(seq_of("18446744073709551616")), "18446744073709551615");
	expect_text(seqno_next(seq_of("340282366920938463463374607431768211455")),
		    "340282366920938463463374607431768211456");
	expect_text(seqno_next(kinesis), "49654183049498290934127734893407271634858925398213394435");
	expect_text(seqno_prev(kinesis), "49654183049498290934127734893407271634858925398213394433");
	/* The ends stay where they are. */
	assert_true(seqno_eq(seqno_next(SEQNO_MAX), SEQNO_MAX));
	assert_true(seqno_eq(seqno_prev(SEQNO_ZERO), SEQNO_ZERO));
	assert_true(seqno_is_zero(seqno_prev(seqno_from_u64(1))));

	assert_int_equal(seqno_cmp(kinesis, kinesis), 0);
	assert_int_equal(seqno_cmp(kinesis, seqno_next(kinesis)), -1);
	assert_int_equal(seqno_cmp(seqno_next(kinesis), kinesis), 1);
	/* A high word outweighs every lower one. */
	assert_true(seqno_lt(seqno_from_u64(UINT64_MAX), seq_of("18446744073709551616")));
	assert_true(seqno_lt(seq_of("340282366920938463463374607431768211455"),
			     seq_of("340282366920938463463374607431768211456")));
	assert_true(seqno_eq(seqno_max(kinesis, seqno_from_u64(5)), kinesis));
	assert_false(seqno_fits_u64(kinesis));

	/* The journal's 32 bytes, little-endian. */
	seqno_put(bytes, seqno_from_u64(0x0102));
	assert_int_equal(bytes[0], 2);
	assert_int_equal(bytes[1], 1);
	assert_int_equal(bytes[31], 0);
	seqno_put(bytes, kinesis);
	assert_true(seqno_eq(seqno_get(bytes), kinesis));
	seqno_put(bytes, SEQNO_MAX);
	assert_true(seqno_eq(seqno_get(bytes), SEQNO_MAX));
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
	static const char *const texts[] = {
		"0", "1", "9", "10", "11", "99", "100", "1000", "12345", "54321",
		"1620240672076000000", "1620240672076000001", "18446744073709551614",
		"18446744073709551615", "18446744073709551616",
		"49590338271490256608559692538361571095921575989136588898",
		"49590338271490256608559692540925702759324208523137515618",
		"340282366920938463463374607431768211456",
	};
	size_t n = sizeof(texts) / sizeof(texts[0]);

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			char a[SEQNO_TEXT_MAX], b[SEQNO_TEXT_MAX];
			int want = seqno_cmp(seq_of(texts[i]), seq_of(texts[j]));

			seqno_format(seq_of(texts[i]), a);
			seqno_format(seq_of(texts[j]), b);
			assert_int_equal(sign(seqno_compare_text(a, b)), want);
		}
	}
}

/* The generator's next number, which fits 64 bits. */
static uint64_t next_u64(struct seqno_gen *gen)
{
	seqno_t seq = seqno_gen_next(gen);

	assert_true(seqno_fits_u64(seq));
	return seq.w[0];
}

static void test_gen_strictly_increasing(void **state)
{
	struct seqno_gen gen;
	uint64_t prev;

	seqno_gen_init(&gen, 0, NOW_US);
	prev = next_u64(&gen);
	for (int i = 0; i < 100000; i++) {
		uint64_t next = next_u64(&gen);

		if (next <= prev)
			fail_msg("number %d: %llu after %llu", i, (unsigned long long)next,
				 (unsigned long long)prev);
		prev = next;
	}
}

static void test_gen_seed(void **state)
{
	struct seqno_gen gen;
	uint64_t clock_seed = (uint64_t)NOW_US * 1000u;
	uint64_t first;

	/* Above the clock when nothing was persisted. */
	seqno_gen_init(&gen, 0, NOW_US);
	first = next_u64(&gen);
	assert_true(first > clock_seed);

	/* Above the clock when the persisted number is below it. */
	seqno_gen_init(&gen, clock_seed - 5000, NOW_US);
	assert_true(next_u64(&gen) > clock_seed);

	/* Above the persisted number when it is ahead of the clock. */
	seqno_gen_init(&gen, clock_seed + 123456789, NOW_US);
	assert_true(next_u64(&gen) > clock_seed + 123456789);
	seqno_gen_init(&gen, clock_seed, NOW_US);
	assert_true(next_u64(&gen) > clock_seed);

	/* No usable clock: still above what was persisted. */
	seqno_gen_init(&gen, 41, 0);
	assert_true(next_u64(&gen) > 41);
	seqno_gen_init(&gen, 41, -1);
	assert_true(next_u64(&gen) > 41);
	seqno_gen_init(&gen, 0, 0);
	assert_true(next_u64(&gen) > 0);
}

/* What a hub issued before a restart is never issued again after it. */
static void test_gen_restart(void **state)
{
	enum { ISSUED = 5000 };
	struct seqno_gen before, after;
	uint64_t last = 0;

	/* An in-memory hub: the next run seeds from the clock, 1 ms later
	 * (the first run issued far fewer than 1000 numbers a microsecond). */
	seqno_gen_init(&before, 0, NOW_US);
	for (int i = 0; i < ISSUED; i++)
		last = next_u64(&before);
	seqno_gen_init(&after, 0, NOW_US + 1000);
	assert_true(next_u64(&after) > last);

	/* A durable hub: the clock stepped back, the persisted number wins. */
	seqno_gen_init(&before, 0, NOW_US);
	for (int i = 0; i < ISSUED; i++)
		last = next_u64(&before);
	seqno_gen_init(&after, last, NOW_US - 60000000);
	assert_true(next_u64(&after) > last);

	/* The same clock reading again, with the persisted last number. */
	seqno_gen_init(&after, last, NOW_US);
	assert_true(next_u64(&after) == last + 1);

	/* Numbers from the clock fit a uint64 and format within the limit. */
	{
		char buf[SEQNO_TEXT_MAX];
		seqno_t back = SEQNO_ZERO;

		seqno_format(seqno_from_u64(last), buf);
		assert_int_equal(seqno_parse(buf, &back), SEQNO_OK);
		assert_true(seqno_eq(back, seqno_from_u64(last)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_compare_text),
		cmocka_unit_test(test_compare_matches_numbers),
		cmocka_unit_test(test_arithmetic),
		cmocka_unit_test(test_gen_strictly_increasing),
		cmocka_unit_test(test_gen_seed),
		cmocka_unit_test(test_gen_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
