/* A finished race as the dashboard shows it: read back from the history
 * in rank order, held FINISH_HOLD_MS, and the latest finished race found. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "race/finish.h"
#include "race/store.h"
#include "dbfiles.h"

static char dir[256];

static struct store *store_fresh(void)
{
	char path[300], err[256];
	struct store *s;

	assert_int_equal(temp_dir_make(dir, sizeof(dir), "alleycat-finish"), 0);
	snprintf(path, sizeof(path), "%s/h.db", dir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	return s;
}

static void store_done(struct store *s)
{
	store_close(s);
	temp_dir_remove(dir);
}

static void race_put(struct store *s, int64_t race_id, int class_id, int64_t ended_ms)
{
	const struct store_result results[] = {
		{ .racer_id = 7, .name = "Slow", .score = 1000000, .second = 5 },
		{ .racer_id = 9, .name = "Fast", .score = 3000000, .second = 5 },
		{ .racer_id = 8, .name = "Mid", .score = 2000000, .second = 5 },
	};
	const struct store_race race = { .race_id = race_id, .class_id = class_id, .duration = 5,
					 .started_ms = ended_ms - 5000, .ended_ms = ended_ms,
					 .results = results, .result_count = 3 };

	assert_int_equal(store_finish_race(s, &race), 0);
}

static void test_reads_the_final_standings_in_rank_order(void **state __attribute__((unused)))
{
	struct store *s = store_fresh();
	struct finish f = { 0 };

	race_put(s, 42, 3, 100000);
	assert_int_equal(finish_read(&f, s, 42, 200000), 0);
	assert_int_equal(f.race_id, 42);
	assert_int_equal(f.class_id, 3);
	assert_int_equal(f.count, 3);
	assert_string_equal(f.rows[0].name, "Fast");
	assert_int_equal(f.rows[0].rank, 1);
	assert_int_equal(f.rows[2].racer_id, 7);
	assert_int_equal(f.rows[2].gap, 2000000);
	assert_ptr_equal(finish_row_of(&f, 8), &f.rows[1]);
	assert_null(finish_row_of(&f, 99999));
	finish_clear(&f);
	store_done(s);
}

static void test_an_unknown_race_has_no_finish(void **state __attribute__((unused)))
{
	struct store *s = store_fresh();
	struct finish f = { 0 };

	assert_int_equal(finish_read(&f, s, 5, 1000), 1);
	assert_int_equal(f.race_id, 0);
	assert_false(finish_holding(&f, 1000));
	store_done(s);
}

static void test_the_finish_is_held_for_its_time(void **state __attribute__((unused)))
{
	struct store *s = store_fresh();
	struct finish f = { 0 };

	race_put(s, 42, 3, 100000);
	assert_int_equal(finish_read(&f, s, 42, 200000), 0);
	assert_true(finish_holding(&f, 200000));
	assert_true(finish_holding(&f, 200000 + FINISH_HOLD_MS - 1));
	assert_false(finish_holding(&f, 200000 + FINISH_HOLD_MS));
	finish_clear(&f);
	assert_false(finish_holding(&f, 200000));
	store_done(s);
}

static void test_the_latest_finished_race(void **state __attribute__((unused)))
{
	struct store *s = store_fresh();
	struct finish_latest latest;

	assert_int_equal(finish_latest(s, &latest), 1);
	race_put(s, 41, 3, 100000);
	race_put(s, 43, 1, 300000);
	race_put(s, 42, 5, 200000);
	assert_int_equal(finish_latest(s, &latest), 0);
	assert_int_equal(latest.race_id, 43);
	assert_int_equal(latest.class_id, 1);
	assert_int_equal(latest.ended_ms, 300000);
	store_done(s);
}

static void test_the_next_board_skips_empty_classes(void **state __attribute__((unused)))
{
	struct store *s = store_fresh();

	assert_int_equal(finish_next_board(s, 0), 0);
	race_put(s, 41, 3, 100000);
	assert_int_equal(finish_next_board(s, 3), 3);   /* the only board: itself again */
	race_put(s, 42, 5, 200000);
	assert_int_equal(finish_next_board(s, 0), 3);
	assert_int_equal(finish_next_board(s, 3), 5);
	assert_int_equal(finish_next_board(s, 4), 5);
	assert_int_equal(finish_next_board(s, 5), 3);
	assert_int_equal(finish_next_board(s, 6), 3);
	store_done(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_the_final_standings_in_rank_order),
		cmocka_unit_test(test_an_unknown_race_has_no_finish),
		cmocka_unit_test(test_the_finish_is_held_for_its_time),
		cmocka_unit_test(test_the_latest_finished_race),
		cmocka_unit_test(test_the_next_board_skips_empty_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
