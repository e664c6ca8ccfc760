/* Sequence numbers: the order of records in a stream.
 *
 * On the wire they are decimal strings matching 0|[1-9][0-9]{0,128} and are
 * compared numerically. The hub issues them from one generator per process,
 * so they rise strictly within a shard and never repeat across shards; the
 * generator is seeded from the clock and from persisted state, so they are
 * never reused after a restart. */
#ifndef ALLEYCAT_SEQNO_H
#define ALLEYCAT_SEQNO_H

#include <stdint.h>

typedef uint64_t seqno_t;

/* A uint64 has at most 20 decimal digits. */
#define SEQNO_TEXT_MAX 21

enum seqno_parse_result {
	SEQNO_OK = 0,
	SEQNO_MALFORMED = -1,   /* not a sequence number at all */
	SEQNO_TOO_LARGE = 1,    /* well formed, but beyond any number we issue */
};

/* Parses a sequence number. */
enum seqno_parse_result seqno_parse(const char *text, seqno_t *out);

/* Writes the decimal form of a sequence number into buf. */
void seqno_format(seqno_t seq, char buf[SEQNO_TEXT_MAX]);

/* Compares two well-formed decimal sequence numbers of any length:
 * a longer one is larger, equal lengths compare as text. */
int seqno_compare_text(const char *a, const char *b);

struct seqno_gen {
	seqno_t last;
};

/* Seeds a generator: the next number is above both the last one persisted
 * (0 when none) and the clock in microseconds times 1000, so an in-memory
 * hub that restarts still never repeats a number it handed out before. */
void seqno_gen_init(struct seqno_gen *gen, seqno_t persisted_last, int64_t now_us);

seqno_t seqno_gen_next(struct seqno_gen *gen);

#endif
