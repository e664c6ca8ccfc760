/* Unit tests for src/hub/connlimit.c: who gets a place at the connection cap,
 * whose place is taken, and who is refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hub/connlimit.h"

#define MAX 3

/* Admits and opens a connection into slot; returns the one it evicted. */
static struct conn_slot *connect_one(struct conn_limit *cl, struct conn_slot *slot)
{
	struct conn_slot *evict;

	assert_true(connlimit_admit(cl, &evict));
	connlimit_open(cl, slot, slot);
	return evict;
}

static void test_admits_up_to_the_cap(void **state __attribute__((unused)))
{
	struct conn_limit cl;
	struct conn_slot s[MAX];

	connlimit_init(&cl, MAX);
	for (int i = 0; i < MAX; i++)
		assert_null(connect_one(&cl, &s[i]));
	assert_int_equal(cl.open, MAX);
	assert_int_equal(cl.evicted, 0);
	assert_int_equal(cl.refused, 0);
}

static void test_newcomer_takes_the_longest_waiting_place(void **state __attribute__((unused)))
{
	struct conn_limit cl;
	struct conn_slot s[MAX + 2];

	connlimit_init(&cl, MAX);
	for (int i = 0; i < MAX; i++)
		connect_one(&cl, &s[i]);
	connlimit_asked(&cl, &s[0]);
	/* s[0] asked: s[1] has waited longest, then s[2]. */
	assert_ptr_equal(connect_one(&cl, &s[MAX]), &s[1]);
	assert_ptr_equal(connect_one(&cl, &s[MAX + 1]), &s[2]);
	assert_int_equal(cl.evicted, 2);
	/* Evicted connections count until they close, but hold no place. */
	assert_int_equal(cl.open, MAX + 2);
	connlimit_close(&cl, &s[1]);
	connlimit_close(&cl, &s[2]);
	assert_int_equal(cl.open, MAX);
	assert_int_equal(cl.evicting, 0);
}

static void test_refused_when_every_place_has_asked(void **state __attribute__((unused)))
{
	struct conn_limit cl;
	struct conn_slot s[MAX], *evict;

	connlimit_init(&cl, MAX);
	for (int i = 0; i < MAX; i++) {
		connect_one(&cl, &s[i]);
		connlimit_asked(&cl, &s[i]);
	}
	assert_false(connlimit_admit(&cl, &evict));
	assert_null(evict);
	assert_int_equal(cl.refused, 1);
	/* A place that closes is free again. */
	connlimit_close(&cl, &s[1]);
	assert_null(connect_one(&cl, &s[1]));
	assert_int_equal(cl.open, MAX);
}

static void test_idle_connection_waits_again(void **state __attribute__((unused)))
{
	struct conn_limit cl;
	struct conn_slot s[MAX + 1], *evict;

	connlimit_init(&cl, MAX);
	for (int i = 0; i < MAX; i++) {
		connect_one(&cl, &s[i]);
		connlimit_asked(&cl, &s[i]);
	}
	/* s[2], then s[0], were answered and wait for their next request. */
	connlimit_idle(&cl, &s[2]);
	connlimit_idle(&cl, &s[0]);
	connlimit_idle(&cl, &s[0]);
	assert_ptr_equal(connect_one(&cl, &s[MAX]), &s[2]);
	connlimit_asked(&cl, &s[MAX]);
	/* s[0] asks again before the next newcomer: nothing is left to evict. */
	connlimit_asked(&cl, &s[0]);
	assert_false(connlimit_admit(&cl, &evict));
	/* An evicted connection does not wait again. */
	connlimit_idle(&cl, &s[2]);
	assert_null(cl.oldest);
}

static void test_waiting_list_survives_closes(void **state __attribute__((unused)))
{
	struct conn_limit cl;
	struct conn_slot s[MAX + 1];

	connlimit_init(&cl, MAX);
	for (int i = 0; i < MAX; i++)
		connect_one(&cl, &s[i]);
	/* The oldest and the newest leave while waiting; the middle one
	 * asks twice. Then nothing waits: the next one is refused. */
	connlimit_close(&cl, &s[0]);
	connlimit_close(&cl, &s[2]);
	connlimit_asked(&cl, &s[1]);
	connlimit_asked(&cl, &s[1]);
	assert_null(cl.oldest);
	assert_null(cl.newest);
	assert_null(connect_one(&cl, &s[0]));
	assert_null(connect_one(&cl, &s[2]));
	connlimit_asked(&cl, &s[0]);
	connlimit_asked(&cl, &s[2]);
	struct conn_slot *evict;
	assert_false(connlimit_admit(&cl, &evict));
	assert_int_equal(cl.open, MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admits_up_to_the_cap),
		cmocka_unit_test(test_newcomer_takes_the_longest_waiting_place),
		cmocka_unit_test(test_refused_when_every_place_has_asked),
		cmocka_unit_test(test_idle_connection_waits_again),
		cmocka_unit_test(test_waiting_list_survives_closes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
