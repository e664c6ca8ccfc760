/* Unit tests for src/util/nearest.c: the suggestion for a misspelled
 * option, setting or command. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "util/nearest.h"

static const char *suggest(const char *word, const char *const *candidates)
{
	struct nearest n;

	nearest_init(&n, word);
	for (; *candidates; candidates++)
		nearest_consider(&n, *candidates);
	return nearest_suggestion(&n);
}

static const char *const board_options[] = { "endpoint", "stream", "race", "racer", "format",
					     "once", "interval", "until-finished", NULL };

static void test_distance_counts_one_edit_each(void **state __attribute__((unused)))
{
	assert_int_equal(nearest_distance("once", "once"), 0);
	assert_int_equal(nearest_distance("onec", "once"), 1);     /* a swap */
	assert_int_equal(nearest_distance("formt", "format"), 1);  /* a letter left out */
	assert_int_equal(nearest_distance("formatt", "format"), 1);
	assert_int_equal(nearest_distance("furmat", "format"), 1);
	assert_int_equal(nearest_distance("", "abc"), 3);
	assert_int_equal(nearest_distance("kitten", "sitting"), 3);
}

static void test_suggests_the_nearest(void **state __attribute__((unused)))
{
	assert_string_equal(suggest("onec", board_options), "once");
	assert_string_equal(suggest("formt", board_options), "format");
	assert_string_equal(suggest("strem", board_options), "stream");
	assert_string_equal(suggest("until-finshed", board_options), "until-finished");
}

static void test_nothing_like_any_candidate_gets_nothing(void **state __attribute__((unused)))
{
	assert_null(suggest("speed", board_options));
	assert_null(suggest("x", board_options));
	assert_null(suggest("once", board_options)); /* an exact match is no misspelling */
}

static void test_ties_go_to_the_first(void **state __attribute__((unused)))
{
	/* "rac" is one edit from both race and racer's first four letters:
	 * race is nearer (1) than racer (2). */
	assert_string_equal(suggest("rac", board_options), "race");
}

static void test_long_words_are_near_nothing(void **state __attribute__((unused)))
{
	char word[NEAREST_WORD_MAX + 2];

	memset(word, 'a', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	assert_int_equal(nearest_distance(word, "a"), NEAREST_WORD_MAX + 1);
	assert_null(suggest(word, board_options));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance_counts_one_edit_each),
		cmocka_unit_test(test_suggests_the_nearest),
		cmocka_unit_test(test_nothing_like_any_candidate_gets_nothing),
		cmocka_unit_test(test_ties_go_to_the_first),
		cmocka_unit_test(test_long_words_are_near_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
