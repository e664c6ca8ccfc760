#include "config.h"
#include "util/base64.h"

#include <stdint.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of each character, or BAD for characters outside the alphabet. */
#define BAD 0xff
static const uint8_t decode_table[256] = {
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,  62, BAD, BAD, BAD,  63,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, BAD, BAD, BAD, BAD, BAD,
	BAD,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};
#undef BAD

void base64_encode(const void *src, size_t n, char *dst)
{
	const unsigned char *s = src;
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*dst++ = alphabet[v >> 18];
		*dst++ = alphabet[(v >> 12) & 63];
		*dst++ = alphabet[(v >> 6) & 63];
		*dst++ = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		*dst++ = alphabet[v >> 18];
		*dst++ = alphabet[(v >> 12) & 63];
		*dst++ = '=';
		*dst++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		*dst++ = alphabet[v >> 18];
		*dst++ = alphabet[(v >> 12) & 63];
		*dst++ = alphabet[(v >> 6) & 63];
		*dst++ = '=';
	}
	*dst = '\0';
}

static int fail(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return -1;
}

int base64_decode(const char *src, size_t len, unsigned char *dst, size_t *out_len,
		  const char **reason)
{
	size_t out = 0;

	if (len % 4 != 0)
		return fail(reason, "length is not a multiple of 4");
	for (size_t i = 0; i < len; i += 4) {
		const unsigned char *q = (const unsigned char *)src + i;
		int last = i + 4 == len;
		int pad = 0;
		uint32_t v = 0;

		if (last && q[3] == '=')
			pad = q[2] == '=' ? 2 : 1;
		for (int k = 0; k < 4 - pad; k++) {
			uint8_t d = decode_table[q[k]];
			if (d == 0xff)
				return fail(reason, q[k] == '=' ? "padding in the middle"
								 : "character outside the base64 alphabet");
			v = v << 6 | d;
		}
		v <<= 6 * pad;
		if ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff)))
			return fail(reason, "non-zero bits after the last byte");
		dst[out++] = (unsigned char)(v >> 16);
		if (pad < 2)
			dst[out++] = (unsigned char)(v >> 8);
		if (pad < 1)
			dst[out++] = (unsigned char)v;
	}
	*out_len = out;
	return 0;
}
