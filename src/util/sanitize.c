#include "config.h"
#include "util/sanitize.h"
#include "util/utf8.h"

#include <stdint.h>
#include <string.h>

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
