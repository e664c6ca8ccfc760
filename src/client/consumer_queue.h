/* The batch queue: batches on their way from a reader's network thread to
 * the caller, taken all at once, oldest first. When the caller does not
 * take them, the reader stops reading once the queue is full, and the
 * stream lets it lag, instead of buffering without bound.
 *
 * The queue does not lock: its owner holds one lock around every call, so
 * that the queue and what is counted beside it (the consumer's stats)
 * change together. A zeroed queue is empty. */
#ifndef ALLEYCAT_CONSUMER_QUEUE_H
#define ALLEYCAT_CONSUMER_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "client/consumer_batch.h"

#define CONSUMER_QUEUE_MAX 256          /* batches waiting before reading pauses */

struct consumer_queue {
	struct consumer_batch *head, *tail;
	size_t length;
};

/* Appends b (owned by the queue from now on). O(1). */
void consumer_queue_append(struct consumer_queue *q, struct consumer_batch *b);

/* Every batch waiting, oldest first (a list through ->next, now the
 * caller's), or NULL; the queue is empty afterwards. O(1). */
struct consumer_batch *consumer_queue_take(struct consumer_queue *q);

size_t consumer_queue_length(const struct consumer_queue *q);

/* Whether the reader should stop reading until batches are taken. */
bool consumer_queue_full(const struct consumer_queue *q);

/* Frees the batches waiting; the queue is empty afterwards. */
void consumer_queue_free(struct consumer_queue *q);

#endif
