#include "config.h"
#include "client/consumer_queue.h"

void consumer_queue_append(struct consumer_queue *q, struct consumer_batch *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->length++;
}

struct consumer_batch *consumer_queue_take(struct consumer_queue *q)
{
	struct consumer_batch *b = q->head;

	*q = (struct consumer_queue){ 0 };
	return b;
}

size_t consumer_queue_length(const struct consumer_queue *q)
{
	return q->length;
}

bool consumer_queue_full(const struct consumer_queue *q)
{
	return q->length >= CONSUMER_QUEUE_MAX;
}

void consumer_queue_free(struct consumer_queue *q)
{
	consumer_batch_free(consumer_queue_take(q));
}
