/* The one UTF-8 check behind JSON strings, roster names and screen text:
 * RFC 3629's shortest forms, with each way a sequence can be wrong. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/utf8.h"

/* utf8_decode on a string literal of n bytes. */
static size_t decode(const char *s, size_t n, uint32_t *cp)
{
	return utf8_decode((const unsigned char *)s, n, cp);
}

static void test_valid_sequences(void **state __attribute__((unused)))
{
	uint32_t cp;

	assert_int_equal(decode("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(decode("", 1, &cp), 1);             /* NUL is ASCII */
	assert_int_equal(cp, 0);
	assert_int_equal(decode("\xc2\x80", 2, &cp), 2);     /* the lowest of each length */
	assert_int_equal(cp, 0x80);
	assert_int_equal(decode("\xe0\xa0\x80", 3, &cp), 3);
	assert_int_equal(cp, 0x800);
	assert_int_equal(decode("\xf0\x90\x80\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x10000);
	assert_int_equal(decode("\xdf\xbf", 2, &cp), 2);     /* the highest of each length */
	assert_int_equal(cp, 0x7ff);
	assert_int_equal(decode("\xef\xbf\xbf", 3, &cp), 3);
	assert_int_equal(cp, 0xffff);
	assert_int_equal(decode("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(decode("\xed\x9f\xbf", 3, &cp), 3); /* just below the surrogates */
	assert_int_equal(cp, 0xd7ff);
	assert_int_equal(decode("\xee\x80\x80", 3, &cp), 3); /* just above them */
	assert_int_equal(cp, 0xe000);
	assert_int_equal(decode("\xc3\xab" "x", 3, &cp), 2); /* stops at the sequence's end */
	assert_int_equal(cp, 0xeb);
}

static void test_invalid_bytes(void **state __attribute__((unused)))
{
	uint32_t cp;

	assert_int_equal(decode("\x80", 1, &cp), 0);         /* a stray continuation byte */
	assert_int_equal(decode("\xbf", 1, &cp), 0);
	assert_int_equal(decode("\xf5\x80\x80\x80", 4, &cp), 0); /* leads never used */
	assert_int_equal(decode("\xfe", 1, &cp), 0);
	assert_int_equal(decode("\xff", 1, &cp), 0);
	assert_int_equal(decode("\xc3" "A", 2, &cp), 0);     /* a lead without continuation */
	assert_int_equal(decode("\xe2\x82" "A", 3, &cp), 0);
	assert_int_equal(decode("\xf0\x9f\x9a" "A", 4, &cp), 0);
	assert_int_equal(decode("\xe2\xc2\x82", 3, &cp), 0);
}

static void test_overlong_forms(void **state __attribute__((unused)))
{
	uint32_t cp;

	assert_int_equal(decode("\xc0\xaf", 2, &cp), 0);     /* '/' in two bytes */
	assert_int_equal(decode("\xc1\xbf", 2, &cp), 0);
	assert_int_equal(decode("\xc0\x80", 2, &cp), 0);     /* NUL in two bytes */
	assert_int_equal(decode("\xe0\x80\xaf", 3, &cp), 0); /* '/' in three */
	assert_int_equal(decode("\xe0\x9f\xbf", 3, &cp), 0); /* U+07FF in three */
	assert_int_equal(decode("\xf0\x80\x80\xaf", 4, &cp), 0); /* '/' in four */
	assert_int_equal(decode("\xf0\x8f\xbf\xbf", 4, &cp), 0); /* U+FFFF in four */
}

static void test_surrogates_and_beyond(void **state __attribute__((unused)))
{
	uint32_t cp;

	assert_int_equal(decode("\xed\xa0\x80", 3, &cp), 0); /* U+D800 */
	assert_int_equal(decode("\xed\xbf\xbf", 3, &cp), 0); /* U+DFFF */
	assert_int_equal(decode("\xed\xa0\xbd\xed\xb2\xa9", 6, &cp), 0); /* a CESU-8 pair */
	assert_int_equal(decode("\xf4\x90\x80\x80", 4, &cp), 0); /* U+110000 */
}

/* A sequence cut short by the length is invalid even when the bytes past
 * the end would complete it. */
static void test_truncated(void **state __attribute__((unused)))
{
	uint32_t cp;

	assert_int_equal(decode("\xc3\xab", 1, &cp), 0);
	assert_int_equal(decode("\xe2\x82\xac", 2, &cp), 0);
	assert_int_equal(decode("\xe2\x82\xac", 1, &cp), 0);
	assert_int_equal(decode("\xf0\x9f\x9a\xb2", 3, &cp), 0);
}

static void test_valid_strings(void **state __attribute__((unused)))
{
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("a\0b", 3));
	assert_true(utf8_valid("Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x9a\xb2", 13));
	assert_false(utf8_valid("\xff\xfe", 2));
	assert_false(utf8_valid("\xc0\xaf", 2));
	assert_false(utf8_valid("\xed\xa0\x80", 3));
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4));
	assert_false(utf8_valid("ok\xe2\x82", 4));           /* cut short at the end */
	assert_false(utf8_valid("a\x80", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_sequences),
		cmocka_unit_test(test_invalid_bytes),
		cmocka_unit_test(test_overlong_forms),
		cmocka_unit_test(test_surrogates_and_beyond),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_valid_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
