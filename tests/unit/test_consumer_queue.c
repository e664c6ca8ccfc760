/* The batch queue (src/client/consumer_queue.c): batches come out oldest
 * first and all at once, the queue is empty after a take, and it reports
 * full at CONSUMER_QUEUE_MAX, when a reader stops reading. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "client/consumer_queue.h"

static struct consumer_batch *batch(int n)
{
	struct consumer_batch *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	snprintf(b->continuation, sizeof(b->continuation), "%d", n);
	return b;
}

static void test_oldest_first_and_all_at_once(void **state __attribute__((unused)))
{
	struct consumer_queue q = { 0 };
	struct consumer_batch *taken;
	int n = 0;

	assert_null(consumer_queue_take(&q));
	for (int i = 0; i < 5; i++)
		consumer_queue_append(&q, batch(i));
	assert_int_equal(consumer_queue_length(&q), 5);
	taken = consumer_queue_take(&q);
	for (struct consumer_batch *b = taken; b; b = b->next)
		assert_int_equal(atoi(b->continuation), n++);
	assert_int_equal(n, 5);
	assert_int_equal(consumer_queue_length(&q), 0);
	assert_null(consumer_queue_take(&q));
	consumer_batch_free(taken);

	/* After a take the queue starts afresh. */
	consumer_queue_append(&q, batch(7));
	taken = consumer_queue_take(&q);
	assert_int_equal(atoi(taken->continuation), 7);
	assert_null(taken->next);
	consumer_batch_free(taken);
}

static void test_full_at_the_limit(void **state __attribute__((unused)))
{
	struct consumer_queue q = { 0 };

	for (int i = 0; i < CONSUMER_QUEUE_MAX - 1; i++)
		consumer_queue_append(&q, batch(i));
	assert_false(consumer_queue_full(&q));
	consumer_queue_append(&q, batch(CONSUMER_QUEUE_MAX - 1));
	assert_true(consumer_queue_full(&q));
	consumer_queue_free(&q);
	assert_false(consumer_queue_full(&q));
	assert_int_equal(consumer_queue_length(&q), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oldest_first_and_all_at_once),
		cmocka_unit_test(test_full_at_the_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
