/* Sequence numbers: the order of records in a stream.
 *
 * On the wire they are decimal strings matching 0|[1-9][0-9]{0,128} and are
 * compared numerically. The hub issues them from one generator per process,
 * so they rise strictly within a shard and never repeat across shards; the
 * generator is seeded from the clock and from persisted state, so they are
 * never reused after a restart.
 *
 * A mirror keeps the numbers of its upstream, and Amazon Kinesis's have 56
 * digits, so a number is a fixed 256-bit unsigned integer (every number of
 * up to 77 digits). The hub's own numbers stay below 2^64, so comparisons
 * mostly settle on the low word. A struct rather than an integer, so that C
 * refuses < and + on it and every comparison goes through seqno_cmp. */
#ifndef ALLEYCAT_SEQNO_H
#define ALLEYCAT_SEQNO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEQNO_WORDS 4

typedef struct {
	uint64_t w[SEQNO_WORDS];        /* w[0] the least significant */
} seqno_t;

/* 2^256 - 1 has 78 decimal digits. */
#define SEQNO_TEXT_MAX 79

#define SEQNO_ZERO ((seqno_t){ { 0, 0, 0, 0 } })
#define SEQNO_MAX ((seqno_t){ { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX } })

enum seqno_parse_result {
	SEQNO_OK = 0,
	SEQNO_MALFORMED = -1,   /* not a sequence number at all */
	SEQNO_TOO_LARGE = 1,    /* well formed, but beyond 256 bits */
};

static inline seqno_t seqno_from_u64(uint64_t v)
{
	return (seqno_t){ { v, 0, 0, 0 } };
}

/* Whether the number fits in 64 bits: every number the hub issues does. */
static inline bool seqno_fits_u64(seqno_t s)
{
	return (s.w[1] | s.w[2] | s.w[3]) == 0;
}

static inline bool seqno_is_zero(seqno_t s)
{
	return seqno_fits_u64(s) && s.w[0] == 0;
}

/* -1, 0 or 1 as a is below, equal to or above b. */
static inline int seqno_cmp(seqno_t a, seqno_t b)
{
	for (int i = SEQNO_WORDS - 1; i >= 0; i--)
		if (a.w[i] != b.w[i])
			return a.w[i] < b.w[i] ? -1 : 1;
	return 0;
}

static inline bool seqno_lt(seqno_t a, seqno_t b)
{
	return seqno_cmp(a, b) < 0;
}

static inline bool seqno_eq(seqno_t a, seqno_t b)
{
	return seqno_cmp(a, b) == 0;
}

static inline seqno_t seqno_max(seqno_t a, seqno_t b)
{
	return seqno_lt(a, b) ? b : a;
}

/* The next number, s + 1; the largest number stays itself. */
seqno_t seqno_next(seqno_t s);

/* The number before, s - 1; 0 stays 0. */
seqno_t seqno_prev(seqno_t s);

/* Parses a sequence number. */
enum seqno_parse_result seqno_parse(const char *text, seqno_t *out);

/* Writes the decimal form of a sequence number into buf; returns its
 * length. */
size_t seqno_format(seqno_t seq, char buf[SEQNO_TEXT_MAX]);

/* Compares two well-formed decimal sequence numbers of any length:
 * a longer one is larger, equal lengths compare as text. */
int seqno_compare_text(const char *a, const char *b);

/* The 32-byte little-endian form the journal stores, and back. */
#define SEQNO_BYTES (8 * SEQNO_WORDS)
void seqno_put(unsigned char out[SEQNO_BYTES], seqno_t s);
seqno_t seqno_get(const unsigned char in[SEQNO_BYTES]);

/* The hub's own numbers: below 2^64. */
struct seqno_gen {
	uint64_t last;
};

/* Seeds a generator: the next number is above both the last one persisted
 * (0 when none) and the clock in microseconds times 1000, so an in-memory
 * hub that restarts still never repeats a number it handed out before. */
void seqno_gen_init(struct seqno_gen *gen, uint64_t persisted_last, int64_t now_us);

seqno_t seqno_gen_next(struct seqno_gen *gen);

/* Makes the generator issue numbers above seq, a number already used. */
void seqno_gen_raise(struct seqno_gen *gen, seqno_t seq);

#endif
