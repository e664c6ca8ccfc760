/* Checks shared by the tests that decode push events: one event decoded
 * into a batch with everything consumer_batch_decode_event reports, and the
 * comparison of two such decodes (cmocka assertions). */
#ifndef ALLEYCAT_TESTS_BATCHCHECK_H
#define ALLEYCAT_TESTS_BATCHCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "client/consumer_batch.h"

struct decoded {
	struct consumer_batch *b;
	size_t bad;
	char last_bad[128];
	uint64_t bytes;
	const char *reason;
};

/* Decodes text on the given lanes (NULL: this thread). */
void decode_text(const char *text, struct parallel *lanes, struct decoded *d);

void same_telemetry(const struct telemetry *got, const struct telemetry *want);

/* The same batch: header, every record in order, bad count and bytes. */
void same_batch(const struct decoded *got, const struct decoded *want);

#endif
