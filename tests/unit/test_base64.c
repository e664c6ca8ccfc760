/* Unit tests for src/util/base64.c: round trips, the RFC 4648 vectors and the
 * strict rejection of anything that is not canonical base64. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/base64.h"

/* xorshift64: a fixed pseudo-random sequence, the same on every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static unsigned char rng_byte(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned char)(rng_state >> 32);
}

static int is_alphabet(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static void test_lengths(void **state)
{
	assert_int_equal(base64_encoded_len(0), 0);
	assert_int_equal(base64_encoded_len(1), 4);
	assert_int_equal(base64_encoded_len(2), 4);
	assert_int_equal(base64_encoded_len(3), 4);
	assert_int_equal(base64_encoded_len(4), 8);
	assert_int_equal(base64_decoded_max(0), 0);
	assert_int_equal(base64_decoded_max(4), 3);
	assert_int_equal(base64_decoded_max(8), 6);
}

static void test_round_trip(void **state)
{
	enum { MAX = 300 };
	unsigned char src[MAX], out[MAX + 3];
	char text[(MAX + 2) / 3 * 4 + 1];

	for (size_t n = 0; n <= MAX; n++) {
		size_t enc_len = base64_encoded_len(n), out_len = (size_t)-1;
		const char *reason = NULL;

		for (size_t i = 0; i < n; i++)
			src[i] = rng_byte();
		/* A guard byte after the terminator catches overruns. */
		memset(text, '#', sizeof(text));
		base64_encode(src, n, text);
		assert_int_equal(strlen(text), enc_len);
		if (enc_len + 1 < sizeof(text))
			assert_int_equal(text[enc_len + 1], '#');
		for (size_t i = 0; i < enc_len; i++) {
			/* '=' only as the padding of the last quartet. */
			if (text[i] == '=')
				assert_true(i >= enc_len - 2 && n % 3 != 0);
			else
				assert_true(is_alphabet(text[i]));
		}
		assert_true(base64_decoded_max(enc_len) >= n);
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(base64_decode(text, enc_len, out, &out_len, &reason), 0);
		assert_int_equal(out_len, n);
		assert_memory_equal(out, src, n);
		/* Nothing written past the decoded bytes' room. */
		for (size_t i = base64_decoded_max(enc_len); i < sizeof(out); i++)
			assert_int_equal(out[i], 0xa5);
	}
}

static void test_all_byte_values(void **state)
{
	unsigned char src[256], out[258];
	char text[345];
	size_t out_len = 0;
	const char *reason = NULL;

	for (int i = 0; i < 256; i++)
		src[i] = (unsigned char)i;
	base64_encode(src, sizeof(src), text);
	assert_int_equal(base64_decode(text, strlen(text), out, &out_len, &reason), 0);
	assert_int_equal(out_len, 256);
	assert_memory_equal(out, src, 256);
	/* '+' and '/' are the last two letters of the standard alphabet. */
	base64_encode("\xfb\xff", 2, text);
	assert_string_equal(text, "+/8=");
}

static const struct {
	const char *plain;
	const char *encoded;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void test_rfc4648_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *plain = rfc4648[i].plain, *encoded = rfc4648[i].encoded;
		char text[16];
		unsigned char out[16];
		size_t out_len = (size_t)-1;
		const char *reason = NULL;

		base64_encode(plain, strlen(plain), text);
		assert_string_equal(text, encoded);
		assert_int_equal(base64_decode(encoded, strlen(encoded), out, &out_len, &reason), 0);
		assert_int_equal(out_len, strlen(plain));
		assert_memory_equal(out, plain, out_len);
	}
}

/* Decoding bad must fail and say why; reason must be a non-empty text. */
static void expect_reject_n(const char *bad, size_t len)
{
	unsigned char out[64];
	size_t out_len = 12345;
	const char *reason = NULL;

	assert_true(len <= 80);
	if (base64_decode(bad, len, out, &out_len, &reason) != -1)
		fail_msg("\"%.*s\" was accepted", (int)len, bad);
	assert_non_null(reason);
	assert_true(strlen(reason) > 0);
}

static void expect_reject(const char *bad)
{
	expect_reject_n(bad, strlen(bad));
}

static void test_reject_length(void **state)
{
	expect_reject("Z");
	expect_reject("Zg");
	expect_reject("Zg=");
	expect_reject("Zm9");
	expect_reject("Zm9vY");
	expect_reject("Zm9vYg=");
	expect_reject("Zm9vYg===");
	/* The length check comes first, whatever the characters. */
	expect_reject("!!!!!");
	/* Only len characters count: a valid text cut short is refused even
	 * though the characters after the cut would complete a quartet. */
	for (size_t n = 1; n < 12; n++) {
		if (n % 4 != 0)
			expect_reject_n("Zm9vYmFyYmF6", n);
	}
	expect_reject_n("Zg==", 2);
	expect_reject_n("Zg==", 3);
}

static void test_reject_bad_character(void **state)
{
	expect_reject("Zm9*");
	expect_reject("Zm9v!mFy");
	expect_reject("Zm-v");          /* base64url letters are not standard */
	expect_reject("Zm_v");
	expect_reject("Zm.v");
	/* The neighbours of the alphabet's ranges. */
	expect_reject("Zm9@");
	expect_reject("Zm9[");
	expect_reject("Zm9`");
	expect_reject("Zm9{");
	expect_reject("Zm9,");
	expect_reject("Zm9:");
	expect_reject("Zm9\x7f");
	expect_reject("Zm9\x01");
	expect_reject("\xc3\xa9" "AA");
	expect_reject_n("Zm\0v", 4);    /* an embedded NUL */
	expect_reject("\x80\x81\x82\x83");
}

static void test_reject_misplaced_padding(void **state)
{
	/* '=' in the middle of a quartet. */
	expect_reject("Z=9v");
	expect_reject("=m9v");
	expect_reject("Zm=v");
	/* '=' before a letter in the final quartet. */
	expect_reject("Zg=A");
	expect_reject("Z=g=");
	/* Only padding, or three padding characters. */
	expect_reject("====");
	expect_reject("Z===");
	expect_reject("Zm9v====");
	/* Padding in a quartet that is not the last. */
	expect_reject("Zg==Zg==");
	expect_reject("Zm8=Zm9v");
	expect_reject("Zg==AAAA");
}

static void test_reject_trailing_bits(void **state)
{
	unsigned char out[8];
	size_t out_len = 0;
	const char *reason = NULL;

	/* "Zg==" is "f"; "Zh==" through "Zv==" say the same with stray bits. */
	assert_int_equal(base64_decode("Zg==", 4, out, &out_len, &reason), 0);
	assert_int_equal(out_len, 1);
	assert_int_equal(out[0], 'f');
	expect_reject("Zh==");
	expect_reject("Zi==");
	expect_reject("Zv==");
	/* "Zm8=" is "fo"; "Zm9=" has a stray low bit. */
	assert_int_equal(base64_decode("Zm8=", 4, out, &out_len, &reason), 0);
	assert_int_equal(out_len, 2);
	assert_memory_equal(out, "fo", 2);
	expect_reject("Zm9=");
	expect_reject("Zm/=");
	expect_reject("Zm9vYh==");
}

static void test_reject_whitespace(void **state)
{
	expect_reject("Zm9v\n");
	expect_reject("Zm9v\nYmFy");
	expect_reject("Zm9vYmFy\r\n");
	expect_reject("Zm9\nYmFy");     /* length 8, a newline inside */
	expect_reject("Zm9 YmFy");
	expect_reject(" Zm9vYmF");
	expect_reject("Zm9vYmF\t");
	expect_reject("Zg= ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_all_byte_values),
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_reject_length),
		cmocka_unit_test(test_reject_bad_character),
		cmocka_unit_test(test_reject_misplaced_padding),
		cmocka_unit_test(test_reject_trailing_bits),
		cmocka_unit_test(test_reject_whitespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
