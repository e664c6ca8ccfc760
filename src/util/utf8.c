#include "config.h"
#include "util/utf8.h"

/* The first byte fixes the length and the range of the second byte; that
 * range is what rules out overlong forms, surrogates and code points above
 * U+10FFFF, so the later bytes need only be continuation bytes. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, *cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, *cp = s[0] & 0x07;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;              /* overlong below U+0800 */
	else if (s[0] == 0xed)
		hi = 0x9f;              /* surrogates U+D800..U+DFFF */
	else if (s[0] == 0xf0)
		lo = 0x90;              /* overlong below U+10000 */
	else if (s[0] == 0xf4)
		hi = 0x8f;              /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0, len; i < n; i += len)
		if ((len = utf8_decode(u + i, n - i, &cp)) == 0)
			return false;
	return true;
}
