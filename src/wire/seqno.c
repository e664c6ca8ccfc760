#include "config.h"
#include "wire/seqno.h"

#include <stdio.h>
#include <string.h>

/* The longest sequence number the protocol allows. */
#define SEQNO_WIRE_DIGITS_MAX 129

#define LOW32(x) ((x) & 0xffffffffu)

seqno_t seqno_next(seqno_t s)
{
	for (int i = 0; i < SEQNO_WORDS; i++)
		if (++s.w[i] != 0)
			return s;
	/* Every word wrapped: the number was the largest. */
	return SEQNO_MAX;
}

seqno_t seqno_prev(seqno_t s)
{
	if (seqno_is_zero(s))
		return s;
	for (int i = 0; i < SEQNO_WORDS; i++)
		if (s.w[i]-- != 0)
			break;
	return s;
}

/* s = s * 10 + digit; false when the result needs more than 256 bits. */
static bool times_ten_plus(seqno_t *s, unsigned digit)
{
	uint64_t carry = digit;

	for (int i = 0; i < SEQNO_WORDS; i++) {
		/* By 32-bit halves, so no product overflows 64 bits. */
		uint64_t lo = LOW32(s->w[i]) * 10 + carry;
		uint64_t hi = (s->w[i] >> 32) * 10 + (lo >> 32);

		s->w[i] = hi << 32 | LOW32(lo);
		carry = hi >> 32;
	}
	return carry == 0;
}

enum seqno_parse_result seqno_parse(const char *text, seqno_t *out)
{
	size_t len = strlen(text);
	seqno_t value = SEQNO_ZERO;
	bool too_large = false;

	if (len == 0 || len > SEQNO_WIRE_DIGITS_MAX || (len > 1 && text[0] == '0'))
		return SEQNO_MALFORMED;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return SEQNO_MALFORMED;
		if (!too_large && !times_ten_plus(&value, (unsigned)(text[i] - '0')))
			too_large = true;
	}
	if (too_large)
		return SEQNO_TOO_LARGE;
	*out = value;
	return SEQNO_OK;
}

/* s = s / 10; returns the remainder. */
static unsigned divide_by_ten(seqno_t *s)
{
	uint64_t rem = 0;

	for (int i = SEQNO_WORDS - 1; i >= 0; i--) {
		/* rem < 10, so rem:32 bits fits in 64 bits. */
		uint64_t hi = rem << 32 | s->w[i] >> 32;
		uint64_t lo = (hi % 10) << 32 | LOW32(s->w[i]);

		s->w[i] = (hi / 10) << 32 | lo / 10;
		rem = lo % 10;
	}
	return (unsigned)rem;
}

size_t seqno_format(seqno_t seq, char buf[SEQNO_TEXT_MAX])
{
	char digits[SEQNO_TEXT_MAX];
	size_t n = 0;

	/* Digits from the lowest; by 64-bit division once the number fits,
	 * as every number the hub issues does (this runs for every record a
	 * reader gets). */
	while (!seqno_fits_u64(seq))
		digits[n++] = (char)('0' + divide_by_ten(&seq));
	do
		digits[n++] = (char)('0' + seq.w[0] % 10);
	while ((seq.w[0] /= 10) > 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = digits[n - 1 - i];
	buf[n] = '\0';
	return n;
}

int seqno_compare_text(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	int c = strcmp(a, b);
	return (c > 0) - (c < 0);
}

void seqno_put(unsigned char out[SEQNO_BYTES], seqno_t s)
{
	for (int i = 0; i < SEQNO_WORDS; i++)
		for (int b = 0; b < 8; b++)
			out[8 * i + b] = (unsigned char)(s.w[i] >> (8 * b));
}

seqno_t seqno_get(const unsigned char in[SEQNO_BYTES])
{
	seqno_t s = SEQNO_ZERO;

	for (int i = 0; i < SEQNO_WORDS; i++)
		for (int b = 0; b < 8; b++)
			s.w[i] |= (uint64_t)in[8 * i + b] << (8 * b);
	return s;
}

void seqno_gen_init(struct seqno_gen *gen, uint64_t persisted_last, int64_t now_us)
{
	uint64_t clock_seed = now_us > 0 ? (uint64_t)now_us * 1000u : 0;

	gen->last = persisted_last > clock_seed ? persisted_last : clock_seed;
}

seqno_t seqno_gen_next(struct seqno_gen *gen)
{
	return seqno_from_u64(++gen->last);
}

void seqno_gen_raise(struct seqno_gen *gen, seqno_t seq)
{
	/* A wider number is an upstream's, copied by a mirror: the hub's own
	 * numbers never reach it. */
	if (seqno_fits_u64(seq) && seq.w[0] > gen->last)
		gen->last = seq.w[0];
}
