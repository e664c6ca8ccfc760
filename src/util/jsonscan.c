#include "config.h"
#include "util/jsonscan.h"
#include "util/utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Significant digits kept when a real goes through strtod: the halfway
 * points between doubles have at most 767, so digits beyond 800 can only
 * matter by being nonzero, which one sticky digit stands for. */
#define SIGNIFICANT_MAX 800

/* An exponent beyond this overflows or underflows whatever the digits. */
#define EXPONENT_CLAMP 100000

static int fail(struct jsonscan *s, const char *why)
{
	if (s->error == NULL)
		s->error = why;
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void skip_space(struct jsonscan *s)
{
	while (s->p < s->end &&
	       (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r'))
		s->p++;
}

void jsonscan_init(struct jsonscan *s, const void *text, size_t len, bool reject_duplicates)
{
	/* Not a memset: the stack of open containers is 8 KB and mostly unused. */
	s->p = text;
	s->end = s->p + len;
	s->error = NULL;
	s->out_of_memory = false;
	s->reject_duplicates = reject_duplicates;
	s->opened = false;
	s->depth = 0;
	s->objects = 0;
	s->keys = NULL;
	s->key_count = 0;
	s->key_cap = 0;
}

void jsonscan_free(struct jsonscan *s)
{
	if (s->keys != s->inline_keys)
		free(s->keys);
	s->keys = NULL;
	s->key_count = s->key_cap = 0;
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits after "\u" at p, or -1. */
static long hex4(const char *p, const char *end)
{
	long v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hex_value(p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* A \u escape at p (the backslash): its code point and length, or -1 when
 * jansson would refuse it (a lone surrogate; U+0000, which it refuses in
 * strings and keys alike unless told otherwise). */
static long unicode_escape(const char *p, const char *end, size_t *len)
{
	long v = hex4(p + 2, end), lo;

	if (v < 0 || v == 0 || (v >= 0xdc00 && v <= 0xdfff))
		return -1;
	*len = 6;
	if (v < 0xd800 || v > 0xdbff)
		return v;
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
		return -1;
	lo = hex4(p + 8, end);
	if (lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*len = 12;
	return 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
}

/* Bytes of the escape at p (the backslash) if it is valid, else 0. */
static size_t escape_length(const char *p, const char *end)
{
	size_t len;

	if (end - p < 2)
		return 0;
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return 2;
	case 'u':
		return unicode_escape(p, end, &len) < 0 ? 0 : len;
	default:
		return 0;
	}
}

/* Bytes that end a run of plain string characters: the quote, the
 * backslash, control characters and the start of multibyte sequences. */
static bool special(unsigned char c)
{
	return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

/* Skips plain string bytes, eight at a time while a whole word is plain
 * (base64 Data runs to hundreds of bytes): a byte below 0x20, a quote, a
 * backslash or a high bit shows in the word's high bits, exactly, as the
 * "has a zero byte" trick tells. */
static const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t w, quote, backslash;

	while (end - p >= 8) {
		memcpy(&w, p, 8);
		quote = w ^ (ones * '"');
		backslash = w ^ (ones * '\\');
		if ((((w - ones * 0x20) | (quote - ones) | (backslash - ones)) & ~w & highs) |
		    (w & highs))
			break;
		p += 8;
	}
	while (p < end && !special(*p))
		p++;
	return p;
}

/* A string from its opening quote at s->p. */
static int scan_string(struct jsonscan *s, struct js_token *t)
{
	const unsigned char *p = (const unsigned char *)s->p + 1;
	const unsigned char *end = (const unsigned char *)s->end;
	uint32_t cp;
	size_t n;

	t->type = JS_STRING;
	t->escaped = false;
	t->text = (const char *)p;
	for (;;) {
		p = skip_plain(p, end);
		if (p == end)
			return fail(s, "premature end of input");
		if (*p == '"')
			break;
		if (*p == '\\') {
			t->escaped = true;
			n = escape_length((const char *)p, s->end);
		} else if (*p >= 0x80) {
			n = utf8_decode(p, (size_t)(end - p), &cp);
		} else {
			return fail(s, "control character in a string");
		}
		if (n == 0)
			return fail(s, *p == '\\' ? "invalid escape" : "invalid UTF-8");
		p += n;
	}
	t->len = (size_t)((const char *)p - t->text);
	s->p = (const char *)p + 1;
	return 0;
}

/* The next decoded byte(s) of a string: up to 4 into buf, from *pp on. */
static size_t next_bytes(const char **pp, char buf[4])
{
	const char *p = *pp;
	size_t len;
	long cp;

	if (*p != '\\') {
		buf[0] = *p;
		*pp = p + 1;
		return 1;
	}
	switch (p[1]) {
	case 'b': buf[0] = '\b'; break;
	case 'f': buf[0] = '\f'; break;
	case 'n': buf[0] = '\n'; break;
	case 'r': buf[0] = '\r'; break;
	case 't': buf[0] = '\t'; break;
	case 'u':
		/* Validated by scan_string, so the end does not matter here. */
		cp = unicode_escape(p, p + 12, &len);
		*pp = p + len;
		if (cp < 0x80) {
			buf[0] = (char)cp;
			return 1;
		}
		if (cp < 0x800) {
			buf[0] = (char)(0xc0 | cp >> 6);
			buf[1] = (char)(0x80 | (cp & 0x3f));
			return 2;
		}
		if (cp < 0x10000) {
			buf[0] = (char)(0xe0 | cp >> 12);
			buf[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			buf[2] = (char)(0x80 | (cp & 0x3f));
			return 3;
		}
		buf[0] = (char)(0xf0 | cp >> 18);
		buf[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		buf[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		buf[3] = (char)(0x80 | (cp & 0x3f));
		return 4;
	default: buf[0] = p[1]; break;     /* " \ / */
	}
	*pp = p + 2;
	return 1;
}

size_t jsonscan_unescape(const struct js_token *t, char *out, size_t size)
{
	const char *p = t->text, *end = t->text + t->len;
	size_t n = 0;
	char buf[4];

	if (!t->escaped) {
		memcpy(out, t->text, t->len < size ? t->len : size);
		return t->len;
	}
	while (p < end) {
		size_t k = next_bytes(&p, buf);
		for (size_t i = 0; i < k; i++, n++)
			if (n < size)
				out[n] = buf[i];
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

/* The exponent after 'e' at p, saturated far beyond any that matters. */
static int64_t exponent_of(const char *p, const char *end)
{
	bool negative = *p == '-';
	int64_t e = 0;

	if (*p == '-' || *p == '+')
		p++;
	for (; p < end; p++)
		if (e < 1000000000)
			e = e * 10 + (*p - '0');
	return negative ? -e : e;
}

static const char *skip_digits(const char *p, const char *end)
{
	while (p < end && is_digit(*p))
		p++;
	return p;
}

/* The power of ten of the first nonzero digit, exponent included: the
 * value lies in [10^power, 10^(power + 1)). false when it is zero. */
static bool leading_power(const char *p, const char *end, int64_t *power)
{
	const char *digits = p + (*p == '-');

	p = skip_digits(digits, end);
	if (*digits != '0') {
		*power = p - digits - 1;
	} else {
		/* "0.": the first nonzero digit of the fraction. */
		*power = 0;
		if (p == end || *p != '.')
			return false;
		for (p++; p < end && *p == '0'; p++)
			(*power)--;
		if (p == end || !is_digit(*p))
			return false;
		(*power)--;
	}
	while (p < end && *p != 'e' && *p != 'E')
		p++;
	if (p < end)
		*power += exponent_of(p + 1, end);
	return true;
}

/* Clinger's fast path: up to 15 digits and a power of ten up to 22 are
 * both exact doubles, so one multiplication or division rounds exactly as
 * strtod does. */
static bool fast_double(const char *p, const char *end, double *out)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
	};
	bool negative = *p == '-', frac = false;
	uint64_t m = 0;
	int digits = 0;
	int64_t e10 = 0;
	double v;

	p += negative;
	for (; p < end && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			frac = true;
			continue;
		}
		if (m == 0 && *p == '0') {
			e10 -= frac;
			continue;
		}
		if (++digits > 15)
			return false;
		m = m * 10 + (uint64_t)(*p - '0');
		e10 -= frac;
	}
	if (p < end)
		e10 += exponent_of(p + 1, end);
	if (m == 0)
		e10 = 0;
	if (e10 < -22 || e10 > 22)
		return false;
	v = e10 < 0 ? (double)m / pow10[-e10] : (double)m * pow10[e10];
	*out = negative ? -v : v;
	return true;
}

/* strtod on a bounded copy: DIGITSeEXP, no decimal point (so LC_NUMERIC
 * cannot matter), at most SIGNIFICANT_MAX digits and a sticky one, the
 * exponent clamped where it no longer changes the result. */
static double slow_double(const char *p, const char *end)
{
	char buf[SIGNIFICANT_MAX + 32], *q = buf;
	bool frac = false, dropped = false;
	size_t kept = 0;
	int64_t e10 = 0;

	if (*p == '-')
		*q++ = *p++;
	for (; p < end && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			frac = true;
		} else if (kept == 0 && *p == '0') {
			e10 -= frac;
		} else if (kept < SIGNIFICANT_MAX) {
			*q++ = *p;
			kept++;
			e10 -= frac;
		} else {
			dropped |= *p != '0';
			e10 += !frac;
		}
	}
	if (kept == 0)
		*q++ = '0';
	if (dropped) {
		*q++ = '1';
		e10--;
	}
	if (p < end)
		e10 += exponent_of(p + 1, end);
	if (e10 > EXPONENT_CLAMP)
		e10 = EXPONENT_CLAMP;
	if (e10 < -EXPONENT_CLAMP)
		e10 = -EXPONENT_CLAMP;
	*q++ = 'e';
	if (e10 < 0) {
		*q++ = '-';
		e10 = -e10;
	}
	{
		char digits[24];
		int n = 0;

		do
			digits[n++] = (char)('0' + e10 % 10);
		while ((e10 /= 10) > 0);
		while (n > 0)
			*q++ = digits[--n];
	}
	*q = '\0';
	return strtod(buf, NULL);
}

int64_t jsonscan_int(const struct js_token *t)
{
	const char *p = t->text, *end = t->text + t->len;
	bool negative = *p == '-';
	uint64_t v = 0;

	for (p += negative; p < end; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return negative ? (int64_t)(0 - v) : (int64_t)v;
}

double jsonscan_double(const struct js_token *t)
{
	double v;

	if (t->type == JS_INTEGER)
		return (double)jsonscan_int(t);
	if (fast_double(t->text, t->text + t->len, &v))
		return v;
	return slow_double(t->text, t->text + t->len);
}

/* jansson refuses what strtoll cannot hold: more than 19 digits, or 19
 * beyond INT64_MAX (INT64_MIN for a negative one). */
static bool int_fits(const char *digits, size_t n, bool negative)
{
	if (n != 19)
		return n < 19;
	return memcmp(digits, negative ? "9223372036854775808" : "9223372036854775807", 19) <= 0;
}

/* jansson refuses reals that strtod rounds to infinity. */
static bool real_fits(const struct js_token *t)
{
	int64_t power;

	if (!leading_power(t->text, t->text + t->len, &power) || power < 308)
		return true;
	return power == 308 && !isinf(jsonscan_double(t));
}

/* jansson's lexer reads one character past a number or a word and pushes
 * it back; when that character is a NUL byte the push-back loses it, so a
 * single NUL right after them is ignored ("[1\0]" is accepted). Agreeing
 * with jansson matters more here than being stricter than it. */
static void skip_lost_nul(struct jsonscan *s)
{
	if (s->p < s->end && *s->p == '\0')
		s->p++;
}

/* A number from its first character at s->p, by the JSON grammar. */
static int scan_number(struct jsonscan *s, struct js_token *t)
{
	const char *p = s->p, *end = s->end, *digits, *int_end;
	bool negative = *p == '-';

	p += negative;
	digits = p;
	if (p == end || !is_digit(*p))
		return fail(s, "invalid number");
	p = *p == '0' ? p + 1 : skip_digits(p, end);
	if (p < end && is_digit(*p))
		return fail(s, "leading zero");
	int_end = p;
	t->type = JS_INTEGER;
	t->escaped = false;
	t->text = s->p;
	if (p < end && *p == '.') {
		if (++p == end || !is_digit(*p))
			return fail(s, "invalid number");
		p = skip_digits(p, end);
		t->type = JS_REAL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return fail(s, "invalid number");
		p = skip_digits(p, end);
		t->type = JS_REAL;
	}
	t->len = (size_t)(p - s->p);
	s->p = p;
	skip_lost_nul(s);
	if (t->type == JS_INTEGER && !int_fits(digits, (size_t)(int_end - digits), negative))
		return fail(s, "too big integer");
	if (t->type == JS_REAL && !real_fits(t))
		return fail(s, "real number overflow");
	return 0;
}

static int scan_literal(struct jsonscan *s, struct js_token *t, const char *word, size_t len,
			enum js_type type)
{
	if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len) != 0)
		return fail(s, "invalid token");
	t->type = type;
	t->escaped = false;
	t->text = s->p;
	t->len = len;
	s->p += len;
	skip_lost_nul(s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Structure                                                           */
/* ------------------------------------------------------------------ */

static int open_container(struct jsonscan *s, struct js_token *t, enum js_type type)
{
	uint32_t serial = 0;

	if (type == JS_OBJECT) {
		/* Serial 0 marks arrays; wrapping would take 4 G objects (8 GB). */
		if (++s->objects == 0)
			s->objects = 1;
		serial = s->objects;
	}
	s->open[s->depth++] = serial;
	s->opened = true;
	t->type = type;
	t->escaped = false;
	t->text = s->p++;
	t->len = 1;
	return 0;
}

int jsonscan_value(struct jsonscan *s, struct js_token *t)
{
	skip_space(s);
	/* jansson counts the value itself: the top one is at depth 1. */
	if (s->depth >= JSONSCAN_DEPTH_MAX)
		return fail(s, "maximum parsing depth reached");
	if (s->p == s->end)
		return fail(s, "premature end of input");
	switch (*s->p) {
	case '{':
		return open_container(s, t, JS_OBJECT);
	case '[':
		return open_container(s, t, JS_ARRAY);
	case '"':
		return scan_string(s, t);
	case 't':
		return scan_literal(s, t, "true", 4, JS_TRUE);
	case 'f':
		return scan_literal(s, t, "false", 5, JS_FALSE);
	case 'n':
		return scan_literal(s, t, "null", 4, JS_NULL);
	default:
		if (*s->p == '-' || is_digit(*s->p))
			return scan_number(s, t);
		return fail(s, "invalid token");
	}
}

/* Reads what comes after an item: 1 when another item follows (its comma
 * read), 0 when the container closes with `close`. */
static int next_item(struct jsonscan *s, char close)
{
	bool first = s->opened;

	s->opened = false;
	skip_space(s);
	if (s->p == s->end)
		return fail(s, "premature end of input");
	if (*s->p == close) {
		s->p++;
		s->depth--;
		return 0;
	}
	if (first)
		return 1;
	if (*s->p != ',')
		return fail(s, close == '}' ? "'}' expected" : "']' expected");
	s->p++;
	return 1;
}

int jsonscan_member(struct jsonscan *s, struct js_token *key)
{
	int rc = next_item(s, '}');

	if (rc <= 0)
		return rc;
	skip_space(s);
	if (s->p == s->end || *s->p != '"')
		return fail(s, "string expected");
	if (scan_string(s, key) < 0)
		return -1;
	skip_space(s);
	if (s->p == s->end || *s->p != ':')
		return fail(s, "':' expected");
	s->p++;
	return 1;
}

int jsonscan_element(struct jsonscan *s)
{
	return next_item(s, ']');
}

int jsonscan_skip(struct jsonscan *s, const struct js_token *t)
{
	unsigned depth = s->depth;
	struct js_token key, v;
	int rc;

	if (t->type != JS_OBJECT && t->type != JS_ARRAY)
		return 0;
	/* t is the innermost open container: read until it closes. */
	while (s->depth >= depth) {
		if (s->open[s->depth - 1] != 0) {
			rc = jsonscan_member(s, &key);
			if (rc > 0 && s->reject_duplicates && jsonscan_duplicate(s, &key) < 0)
				return -1;
		} else {
			rc = jsonscan_element(s);
		}
		if (rc < 0 || (rc > 0 && jsonscan_value(s, &v) < 0))
			return -1;
	}
	return 0;
}

int jsonscan_end(struct jsonscan *s)
{
	skip_space(s);
	return s->p == s->end ? 0 : fail(s, "end of file expected");
}

/* ------------------------------------------------------------------ */
/* Duplicate keys                                                      */
/* ------------------------------------------------------------------ */

/* Reads a string's decoded bytes one at a time, escaped or not. */
struct byte_reader {
	const char *p, *end;
	char buf[4];
	size_t n, i;
};

static bool read_byte(struct byte_reader *r, char *c)
{
	if (r->i == r->n) {
		if (r->p == r->end)
			return false;
		r->n = next_bytes(&r->p, r->buf);
		r->i = 0;
	}
	*c = r->buf[r->i++];
	return true;
}

/* FNV-1a of the decoded key, seeded by its object so that equal keys of
 * different objects spread, and by where the scanner lives (ASLR) so that
 * a text cannot be written to collide. */
static uint32_t key_hash(const struct jsonscan *s, const char *text, size_t len, uint32_t object)
{
	struct byte_reader r = { .p = text, .end = text + len };
	uint32_t h = 2166136261u ^ (uint32_t)((uintptr_t)s >> 4) ^ object * 0x9e3779b9u;
	char c;

	while (read_byte(&r, &c))
		h = (h ^ (unsigned char)c) * 16777619u;
	return h;
}

static bool same_key(const struct js_key *k, const struct js_token *t)
{
	struct byte_reader a = { .p = k->text, .end = k->text + k->len };
	struct byte_reader b = { .p = t->text, .end = t->text + t->len };
	char x = 0, y = 0;
	bool more;

	if (!k->escaped && !t->escaped)
		return k->len == t->len && memcmp(k->text, t->text, t->len) == 0;
	do {
		more = read_byte(&a, &x);
		if (more != read_byte(&b, &y))
			return false;
	} while (more && x == y);
	return !more;
}

static void put_key(struct js_key *table, size_t cap, const struct js_key *k)
{
	size_t i = k->hash & (cap - 1);

	while (table[i].object != 0)
		i = (i + 1) & (cap - 1);
	table[i] = *k;
}

/* Keeps the table at most half full: inline at first, then on the heap. */
static int grow_keys(struct jsonscan *s)
{
	size_t cap = s->key_cap * 2;
	struct js_key *keys;

	if (s->key_cap == 0) {
		memset(s->inline_keys, 0, sizeof(s->inline_keys));
		s->keys = s->inline_keys;
		s->key_cap = sizeof(s->inline_keys) / sizeof(s->inline_keys[0]);
		return 0;
	}
	keys = calloc(cap, sizeof(*keys));
	if (keys == NULL) {
		s->out_of_memory = true;
		return fail(s, "out of memory");
	}
	for (size_t i = 0; i < s->key_cap; i++)
		if (s->keys[i].object != 0)
			put_key(keys, cap, &s->keys[i]);
	if (s->keys != s->inline_keys)
		free(s->keys);
	s->keys = keys;
	s->key_cap = cap;
	return 0;
}

int jsonscan_duplicate(struct jsonscan *s, const struct js_token *key)
{
	uint32_t object = s->open[s->depth - 1];
	struct js_key k = {
		.text = key->text,
		.len = key->len,
		.object = object,
		.hash = key_hash(s, key->text, key->len, object),
		.escaped = key->escaped,
	};
	size_t i;

	if (2 * (s->key_count + 1) > s->key_cap && grow_keys(s) < 0)
		return -1;
	for (i = k.hash & (s->key_cap - 1); s->keys[i].object != 0; i = (i + 1) & (s->key_cap - 1))
		if (s->keys[i].object == object && s->keys[i].hash == k.hash &&
		    same_key(&s->keys[i], key))
			return fail(s, "duplicate object key");
	s->keys[i] = k;
	s->key_count++;
	return 0;
}
