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

/* Letters of the Latin-1 Supplement (from U+00C0) and Latin Extended-A
 * (U+0100 to U+017F) without their accents, one ASCII letter each; '?'
 * where it takes two (those are in two_letters). */
static const char latin_base[] =
	"AAAAAA?CEEEEIIIIDNOOOOOxOUUUUY??aaaaaa?ceeeeiiiidnooooo/ouuuuy?y"
	"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi??JjKkkLlLlLlL"
	"lLlNnNnNnnNnOoOoOo??RrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

static const struct {
	uint32_t cp;
	const char *ascii;
} two_letters[] = {
	{ 0xc6, "AE" }, { 0xde, "Th" }, { 0xdf, "ss" }, { 0xe6, "ae" }, { 0xfe, "th" },
	{ 0x132, "IJ" }, { 0x133, "ij" }, { 0x152, "OE" }, { 0x153, "oe" },
	{ 0x218, "S" }, { 0x219, "s" }, { 0x21a, "T" }, { 0x21b, "t" },
	{ 0x2018, "'" }, { 0x2019, "'" }, { 0x201c, "\"" }, { 0x201d, "\"" },
	{ 0x2013, "-" }, { 0x2014, "-" }, { 0x2026, "..." },
};

/* An ASCII spelling of a character a terminal without UTF-8 cannot show:
 * "Tuğba" reads "Tugba", not "Tu?ba". NULL when there is none. */
static const char *ascii_of(uint32_t cp, char letter[2])
{
	for (size_t i = 0; i < sizeof(two_letters) / sizeof(two_letters[0]); i++)
		if (two_letters[i].cp == cp)
			return two_letters[i].ascii;
	if (cp < 0xc0 || cp >= 0xc0 + sizeof(latin_base) - 1 || latin_base[cp - 0xc0] == '?')
		return NULL;
	letter[0] = latin_base[cp - 0xc0];
	letter[1] = '\0';
	return letter;
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
		const char *piece = (const char *)s + i, *ascii;
		size_t piece_len = len, piece_chars = 1;
		char letter[2];

		if (len == 0 || !printable(cp)) {
			piece = repl;
			piece_len = repl_len;
			if (len == 0)
				len = 1;
		} else if (!unicode && cp >= 0x80) {
			ascii = ascii_of(cp, letter);
			piece = ascii ? ascii : repl;
			piece_len = piece_chars = strlen(piece);
		}
		if (o + piece_len + 1 > size || chars + piece_chars > max_chars)
			break;
		memcpy(out + o, piece, piece_len);
		o += piece_len;
		i += len;
		chars += piece_chars;
	}
	out[o] = '\0';
	return chars;
}
