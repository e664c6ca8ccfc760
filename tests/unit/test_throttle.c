/* Unit tests for src/hub/throttle.c: the sliding one-second window behind the
 * per-shard write limits and the push rate. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hub/throttle.h"

#define T0 1700000000000LL      /* a wall-clock instant on a 100 ms tick */

/* How many of n records of `bytes` each are admitted at now_ms. */
static int admit_many(struct throttle *t, int64_t now_ms, int n, uint64_t max_records,
		      uint64_t max_bytes, uint64_t bytes)
{
	int admitted = 0;

	for (int i = 0; i < n; i++)
		admitted += throttle_admit(t, now_ms, max_records, max_bytes, bytes);
	return admitted;
}

static void test_records_up_to_the_limit(void **state __attribute__((unused)))
{
	struct throttle t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(admit_many(&t, T0, 8, 5, 0, 10), 5);
	assert_int_equal(throttle_bytes(&t, T0), 50);        /* refused ones do not count */
}

/* A burst fills the window for ten 100 ms ticks, its own included, not
 * until the next second of the clock begins. */
static void test_a_burst_leaves_after_one_second(void **state __attribute__((unused)))
{
	struct throttle t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(admit_many(&t, T0 + 50, 5, 5, 0, 1), 5);
	assert_false(throttle_admit(&t, T0 + 950, 5, 0, 1));
	assert_false(throttle_admit(&t, T0 + 999, 5, 0, 1));
	assert_true(throttle_admit(&t, T0 + 1000, 5, 0, 1));
}

/* One record every 100 ms at a limit of ten a second: each new one fits
 * as soon as the oldest slides out. */
static void test_the_window_slides(void **state __attribute__((unused)))
{
	struct throttle t;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 10; i++)
		assert_true(throttle_admit(&t, T0 + i * 100, 10, 0, 1));
	assert_false(throttle_admit(&t, T0 + 950, 10, 0, 1));
	for (int i = 10; i < 30; i++) {
		assert_true(throttle_admit(&t, T0 + i * 100, 10, 0, 1));
		assert_false(throttle_admit(&t, T0 + i * 100 + 50, 10, 0, 1));
	}
}

static void test_bytes_up_to_the_limit(void **state __attribute__((unused)))
{
	struct throttle t;

	memset(&t, 0, sizeof(t));
	assert_true(throttle_admit(&t, T0, 0, 1000, 600));
	assert_false(throttle_admit(&t, T0, 0, 1000, 401));
	assert_true(throttle_admit(&t, T0, 0, 1000, 400));
	assert_false(throttle_admit(&t, T0, 0, 1000, 1));
	assert_int_equal(throttle_bytes(&t, T0), 1000);
	assert_int_equal(throttle_bytes(&t, T0 + 999), 1000);
	assert_int_equal(throttle_bytes(&t, T0 + 1000), 0);
}

/* A record larger than the whole budget passes alone, or it never could. */
static void test_an_oversized_record_passes_alone(void **state __attribute__((unused)))
{
	struct throttle t;

	memset(&t, 0, sizeof(t));
	assert_true(throttle_admit(&t, T0, 0, 1000, 5000));
	assert_false(throttle_admit(&t, T0 + 500, 0, 1000, 1));
	assert_true(throttle_admit(&t, T0 + 1000, 0, 1000, 1));
	memset(&t, 0, sizeof(t));
	assert_true(throttle_admit(&t, T0, 0, 1000, 1));
	assert_false(throttle_admit(&t, T0, 0, 1000, 5000));
}

static void test_zero_is_unlimited(void **state __attribute__((unused)))
{
	struct throttle t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(admit_many(&t, T0, 100000, 0, 0, 1 << 20), 100000);
	assert_int_equal(throttle_bytes(&t, T0), 100000ull << 20);
}

/* After a long quiet spell the buckets hold old ticks; none of them counts. */
static void test_old_buckets_are_forgotten(void **state __attribute__((unused)))
{
	struct throttle t;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 10; i++)
		assert_int_equal(admit_many(&t, T0 + i * 100, 3, 30, 0, 7), 3);
	assert_int_equal(throttle_bytes(&t, T0 + 3600 * 1000), 0);
	assert_int_equal(admit_many(&t, T0 + 3600 * 1000, 40, 30, 0, 7), 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_up_to_the_limit),
		cmocka_unit_test(test_a_burst_leaves_after_one_second),
		cmocka_unit_test(test_the_window_slides),
		cmocka_unit_test(test_bytes_up_to_the_limit),
		cmocka_unit_test(test_an_oversized_record_passes_alone),
		cmocka_unit_test(test_zero_is_unlimited),
		cmocka_unit_test(test_old_buckets_are_forgotten),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
