#include "config.h"
#include "wire/seqno.h"

#include <stdio.h>
#include <string.h>

/* The longest sequence number the protocol allows. */
#define SEQNO_WIRE_DIGITS_MAX 129

enum seqno_parse_result seqno_parse(const char *text, seqno_t *out)
{
	size_t len = strlen(text);
	seqno_t value = 0;
	int too_large = 0;

	if (len == 0 || len > SEQNO_WIRE_DIGITS_MAX || (len > 1 && text[0] == '0'))
		return SEQNO_MALFORMED;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return SEQNO_MALFORMED;
		unsigned digit = (unsigned)(text[i] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			too_large = 1;
		else
			value = value * 10 + digit;
	}
	if (too_large)
		return SEQNO_TOO_LARGE;
	*out = value;
	return SEQNO_OK;
}

void seqno_format(seqno_t seq, char buf[SEQNO_TEXT_MAX])
{
	snprintf(buf, SEQNO_TEXT_MAX, "%llu", (unsigned long long)seq);
}

int seqno_compare_text(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	int c = strcmp(a, b);
	return (c > 0) - (c < 0);
}

void seqno_gen_init(struct seqno_gen *gen, seqno_t persisted_last, int64_t now_us)
{
	seqno_t clock_seed = now_us > 0 ? (seqno_t)now_us * 1000u : 0;

	gen->last = persisted_last > clock_seed ? persisted_last : clock_seed;
}

seqno_t seqno_gen_next(struct seqno_gen *gen)
{
	return ++gen->last;
}
