/* The producer's batching and retry rules, without a network: batches stay
 * within 500 records and 5 MiB, a key's records never overtake each other
 * (even across retries), records are retried until they land or the retry
 * budget is spent (or the run gives up), and every record sent is landed,
 * failed or unanswered. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/httpc.h"
#include "client/producer.h"
#include "util/errtext.h"

#define NOW 1000000

static struct producer *new_producer(int max_retries)
{
	struct producer_config config = {
		.stream = "alleycat", .batch = 500, .max_in_flight = 4, .max_retries = max_retries,
		.seed = 1,
	};
	struct producer *p = producer_new(NULL, &config);

	assert_non_null(p);
	return p;
}

static void add(struct producer *p, const char *key, size_t len)
{
	char *data = calloc(1, len + 1);

	assert_non_null(data);
	assert_int_equal(producer_add(p, key, data, len, false), 0);
	free(data);
}

static void settle_all(struct producer *p, struct producer_record **batch, size_t n,
		       enum producer_outcome outcome, int64_t now)
{
	enum producer_outcome *outcomes = calloc(n, sizeof(*outcomes));

	for (size_t i = 0; i < n; i++)
		outcomes[i] = outcome;
	producer_settle(p, batch, n, outcomes, now);
	free(outcomes);
}

static void test_batches_hold_at_most_500_records(void **state __attribute__((unused)))
{
	struct producer *p = new_producer(0);
	struct producer_record *batch[500];
	char key[32];

	for (int i = 0; i < 1200; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		add(p, key, 100);
	}
	assert_int_equal(producer_take(p, NOW, batch, 500), 500);
	assert_int_equal(producer_take(p, NOW, batch, 500), 500);
	assert_int_equal(producer_take(p, NOW, batch, 500), 200);
	assert_int_equal(producer_take(p, NOW, batch, 500), 0);
	producer_free(p);
}

static void test_batches_hold_at_most_5_mib(void **state __attribute__((unused)))
{
	struct producer *p = new_producer(0);
	struct producer_record *batch[500];
	char key[32];

	for (int i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		add(p, key, 1000000);
	}
	/* Five records of 1,000,000 bytes plus keys fit in 5 MiB; six do not. */
	assert_int_equal(producer_take(p, NOW, batch, 500), 5);
	assert_int_equal(producer_take(p, NOW, batch, 500), 5);
	assert_int_equal(producer_take(p, NOW, batch, 500), 2);
	producer_free(p);
}

static void test_a_key_never_overtakes_itself(void **state __attribute__((unused)))
{
	struct producer *p = new_producer(0);
	struct producer_record *first[4], *second[4], *third[4];

	add(p, "a", 10); /* a1 */
	add(p, "a", 10); /* a2 */
	add(p, "b", 10); /* b1 */
	assert_int_equal(producer_take(p, NOW, first, 1), 1);
	assert_string_equal(producer_record_key(first[0]), "a");
	/* a2 waits behind a1 in flight; b1 goes. */
	assert_int_equal(producer_take(p, NOW, second, 4), 1);
	assert_string_equal(producer_record_key(second[0]), "b");
	settle_all(p, second, 1, PRODUCER_LANDED, NOW);

	/* a1 is throttled: it waits for its backoff, and a2 behind it. */
	settle_all(p, first, 1, PRODUCER_THROTTLED, NOW);
	assert_int_equal(producer_take(p, NOW, third, 4), 0);
	assert_int_equal(producer_take(p, NOW + 5000, third, 4), 2);
	assert_ptr_equal(third[0], first[0]);
	settle_all(p, third, 2, PRODUCER_LANDED, NOW + 5000);

	const struct producer_stats *st = producer_stats(p);
	assert_int_equal(st->sent, 3);
	assert_int_equal(st->landed, 3);
	assert_int_equal(st->throttled, 1);
	assert_int_equal(st->retried, 1);
	assert_int_equal(producer_pending(p), 0);
	producer_free(p);
}

static void test_retry_budget(void **state __attribute__((unused)))
{
	struct producer *p = new_producer(2);
	struct producer_record *batch[4];
	int64_t now = NOW;

	add(p, "k", 10);
	for (int attempt = 0; attempt < 3; attempt++) {
		now += 10000;
		assert_int_equal(producer_take(p, now, batch, 4), 1);
		settle_all(p, batch, 1, PRODUCER_RETRY, now);
	}
	assert_int_equal(producer_stats(p)->failed, 1);
	assert_int_equal(producer_stats(p)->retried, 2);
	assert_int_equal(producer_pending(p), 0);
	producer_free(p);
}

static void test_rejected_records_fail_at_once(void **state __attribute__((unused)))
{
	struct producer *p = new_producer(0);
	struct producer_record *batch[4];

	add(p, "k", 10);
	assert_int_equal(producer_take(p, NOW, batch, 4), 1);
	settle_all(p, batch, 1, PRODUCER_REJECTED, NOW);
	assert_int_equal(producer_stats(p)->failed, 1);
	assert_int_equal(producer_stats(p)->retried, 0);
	assert_int_equal(producer_pending(p), 0);
	producer_free(p);
}

static void test_duplicates_count_apart(void **state __attribute__((unused)))
{
	struct producer *p = new_producer(0);
	struct producer_record *batch[4];

	add(p, "k", 10);
	assert_int_equal(producer_add(p, "k", "0123456789", 10, true), 0);
	assert_int_equal(producer_take(p, NOW, batch, 4), 2);
	settle_all(p, batch, 2, PRODUCER_LANDED, NOW);
	assert_int_equal(producer_stats(p)->sent, 1);
	assert_int_equal(producer_stats(p)->duplicates, 1);
	assert_int_equal(producer_stats(p)->landed, 1);
	producer_free(p);
}

static void test_every_record_is_landed_failed_or_unanswered(void **state
							      __attribute__((unused)))
{
	struct producer *p = new_producer(0);
	struct producer_record *batch[4];
	const struct producer_stats *st = producer_stats(p);
	char key[8];

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		add(p, key, 10);
	}
	assert_int_equal(producer_add(p, "k0", "0123456789", 10, true), 0);
	assert_int_equal(producer_unanswered(p), 10);
	assert_int_equal(producer_take(p, NOW, batch, 4), 4);
	settle_all(p, batch, 4, PRODUCER_LANDED, NOW);
	assert_int_equal(producer_take(p, NOW, batch, 3), 3);
	settle_all(p, batch, 3, PRODUCER_REJECTED, NOW);
	/* The duplicate is not counted: it was never "sent". */
	assert_int_equal(producer_unanswered(p), 3);
	assert_int_equal(st->sent, st->landed + st->failed + producer_unanswered(p));
	producer_free(p);
}

/* A request cancelled while the program stops (httpc_cancel_all) gives its
 * records back unanswered: not retried, not failed, and free to go again. */
static void test_cancelled_requests_leave_records_unanswered(void **state
							      __attribute__((unused)))
{
	struct producer_config config = { .stream = "alleycat", .batch = 2, .max_in_flight = 2 };
	struct httpc *http = httpc_new(5);
	struct producer *p;
	char err[ERR_TEXT_MAX];

	assert_non_null(http);
	/* Nothing is sent before httpc_poll: the requests stay in flight. */
	assert_int_equal(endpoint_parse("http://127.0.0.1:1", &config.endpoint, err, sizeof(err)), 0);
	p = producer_new(http, &config);
	assert_non_null(p);
	add(p, "a", 10);
	add(p, "b", 10);
	add(p, "c", 10);
	add(p, "d", 10);
	add(p, "e", 10);
	producer_pump(p, NOW);
	assert_int_equal(httpc_in_flight(http), 2);
	httpc_cancel_all(http);
	assert_int_equal(httpc_in_flight(http), 0);
	assert_int_equal(producer_unanswered(p), 5);
	assert_int_equal(producer_stats(p)->retried, 0);
	assert_int_equal(producer_stats(p)->failed, 0);
	producer_pump(p, NOW);
	assert_int_equal(httpc_in_flight(http), 2);
	/* Freeing the client cancels the rest while the producer is alive. */
	httpc_free(http);
	assert_int_equal(producer_unanswered(p), 5);
	producer_free(p);
}

/* A run that gives up: records waiting to be sent, or sent again, fail
 * and are never sent; a retry only planned is not counted as made; a
 * record in flight stays unanswered. */
static void test_giving_up_fails_what_was_not_sent(void **state __attribute__((unused)))
{
	struct producer *p = new_producer(0);
	struct producer_record *batch[4], *in_flight[4];
	const struct producer_stats *st = producer_stats(p);

	add(p, "a", 10);
	add(p, "b", 10);
	add(p, "c", 10);
	add(p, "d", 10);
	assert_int_equal(producer_take(p, NOW, batch, 2), 2);
	settle_all(p, batch, 2, PRODUCER_RETRY, NOW);
	assert_int_equal(producer_take(p, NOW, in_flight, 1), 1);
	/* a and b wait for their retries, c is in flight, d waits. */
	producer_give_up(p);
	assert_int_equal(st->failed, 3);
	assert_int_equal(st->retried, 0);
	assert_int_equal(producer_unanswered(p), 1);
	assert_int_equal(producer_take(p, NOW + 60000, batch, 4), 0);
	assert_int_equal(st->sent, st->landed + st->failed + producer_unanswered(p));
	producer_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches_hold_at_most_500_records),
		cmocka_unit_test(test_batches_hold_at_most_5_mib),
		cmocka_unit_test(test_a_key_never_overtakes_itself),
		cmocka_unit_test(test_retry_budget),
		cmocka_unit_test(test_rejected_records_fail_at_once),
		cmocka_unit_test(test_duplicates_count_apart),
		cmocka_unit_test(test_every_record_is_landed_failed_or_unanswered),
		cmocka_unit_test(test_cancelled_requests_leave_records_unanswered),
		cmocka_unit_test(test_giving_up_fails_what_was_not_sent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
