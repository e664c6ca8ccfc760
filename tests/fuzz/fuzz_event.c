/* Fuzz target: the consumer's decoder of push events (the text of one
 * SubscribeToShardEvent as it comes off the WebSocket).
 *
 * A refused event must come with a reason; an accepted one holds no more
 * records than the event carried, each of them a valid reading, and its
 * shard id and continuation fit their buffers. */
#include "config.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/consumer_batch.h"

static void check(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_event: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char last_bad[128] = "";
	const char *reason = NULL;
	size_t bad = 0;
	uint64_t bytes = 0;
	struct consumer_batch *b;

	b = consumer_batch_decode_event((const char *)data, size, NULL, &bad, last_bad,
					sizeof(last_bad), &bytes, &reason);
	if (b == NULL) {
		check(reason != NULL && reason[0] != '\0', "refused without a reason");
		return 0;
	}
	check(memchr(b->shard_id, '\0', sizeof(b->shard_id)) != NULL, "shard id not terminated");
	check(memchr(b->continuation, '\0', sizeof(b->continuation)) != NULL,
	      "continuation not terminated");
	check(bad == 0 || last_bad[0] != '\0', "bad records without a reason");
	check(bytes <= size, "more record bytes than the event holds");
	for (size_t i = 0; i < b->count; i++) {
		const struct telemetry *t = &b->records[i].t;
		check(t->class_id >= 1 && t->class_id <= TELEMETRY_CLASS_COUNT &&
			      t->second >= 1 && t->cadence >= 0 && t->resistance >= 0,
		      "a record out of range");
	}
	consumer_batch_free(b);
	return 0;
}
