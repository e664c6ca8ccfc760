/* A push event as the consumer reads it: one pass of jsonscan over the
 * text, no tree built. The event's own fields and each record's Data,
 * ApproximateArrivalTimestamp, PartitionKey and SequenceNumber come back as spans of the
 * text; everything else is validated and passed over. The consumer reads
 * every SubscribeToShardEvent this way; the rare messages that need more
 * (ChildShards, exceptions) it parses whole. A GetRecords answer has the
 * same shape, less the event's name, shard and continuation. */
#ifndef ALLEYCAT_PUSH_EVENT_H
#define ALLEYCAT_PUSH_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/jsonscan.h"

struct push_event_record {
	struct js_token data, arrival, key;     /* JS_NONE when absent or not an object */
	struct js_token seq;                    /* SequenceNumber (a GetRecords reader
						 * checkpoints the last; a relay keeps each) */
};

struct push_event {
	struct js_token event, shard_id, continuation, millis_behind;
	struct js_token next_iterator;          /* NextShardIterator of a GetRecords answer */
	bool has_records;                       /* "Records" was an array */
	struct push_event_record *records;
	size_t count, capacity;
};

/* Reads an event. 0, or -1 with *reason ("out of memory" when it is that,
 * else why the text is not a JSON object). Free with push_event_free in
 * both cases. */
int push_event_scan(const char *text, size_t len, struct push_event *ev, const char **reason);
void push_event_free(struct push_event *ev);

/* True when the token is a string equal to s (escapes decoded). */
bool push_event_is(const struct js_token *t, const char *s);

#endif
