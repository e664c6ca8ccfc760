#include "config.h"
#include "sanitize.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes) and its code
 * point, or 0 when the bytes there are not valid UTF-8. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, *cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, *cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, *cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

static bool printable(uint32_t cp)
{
	/* C0 controls, DEL, C1 controls (CSI among them), line and paragraph
	 * separators, and the bidirectional overrides that reorder text. */
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return false;
	if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return false;
	return true;
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

size_t sanitize_text(const char *text, char *out, size_t size, size_t max_chars, bool unicode)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), i = 0, o = 0, chars = 0;
	const char *repl = unicode ? "\xef\xbf\xbd" : "?";
	size_t repl_len = strlen(repl);

	if (size == 0)
		return 0;
	while (i < n && chars < max_chars) {
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);
		const char *piece = (const char *)s + i;
		size_t piece_len = len;

		if (len == 0 || !printable(cp) || (!unicode && cp >= 0x80)) {
			piece = repl;
			piece_len = repl_len;
			if (len == 0)
				len = 1;
		}
		if (o + piece_len + 1 > size)
			break;
		memcpy(out + o, piece, piece_len);
		o += piece_len;
		i += len;
		chars++;
	}
	out[o] = '\0';
	return chars;
}
