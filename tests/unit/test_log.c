/* Unit tests for src/util/log.c: a message repeated goes out once, and its
 * repeats are counted and reported when another message comes, at
 * log_flush, and after waits that double; what went to stderr before a
 * sink was set reaches the sink. The monotonic clock is wrapped
 * (-Wl,--wrap=clock_mono_ms) so that time passes when a test says so. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/clock.h"
#include "util/log.h"

#define LINES_MAX 32

static double now_ms;
static char lines[LINES_MAX][LOG_MESSAGE_MAX + 64];
static size_t line_count;

double __wrap_clock_mono_ms(void);

double __wrap_clock_mono_ms(void)
{
	return now_ms;
}

static void sink(enum log_level level, const char *message, void *user)
{
	(void)user;
	if (line_count < LINES_MAX)
		snprintf(lines[line_count++], sizeof(lines[0]), "%d %s", (int)level, message);
}

static int setup(void **state)
{
	(void)state;
	/* A new sink starts afresh: no repeats of the last test carry over. */
	log_set_sink(NULL, NULL);
	log_set_sink(sink, NULL);
	log_set_level(LOG_INFO);
	line_count = 0;
	now_ms = 1000;
	return 0;
}

static void expect_lines(size_t n, ...)
{
	va_list ap;

	assert_int_equal(line_count, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(lines[i], va_arg(ap, const char *));
	va_end(ap);
}

static void test_repeats_go_out_once(void **state)
{
	(void)state;
	for (int i = 0; i < 38; i++)
		log_warn("cannot reach http://127.0.0.1:1: connection refused");
	expect_lines(1, "1 cannot reach http://127.0.0.1:1: connection refused");
	log_flush();
	expect_lines(2, "1 cannot reach http://127.0.0.1:1: connection refused",
		     "1 cannot reach http://127.0.0.1:1: connection refused (repeated 37 times)");
	log_flush();
	assert_int_equal(line_count, 2);
}

static void test_another_message_reports_the_count(void **state)
{
	(void)state;
	log_warn("A");
	log_warn("A");
	log_warn("B");
	log_warn("A");
	expect_lines(4, "1 A", "1 A (repeated 1 time)", "1 B", "1 A");
}

static void test_level_is_part_of_the_message(void **state)
{
	(void)state;
	log_warn("same");
	log_error("same");
	log_flush();
	expect_lines(2, "1 same", "0 same");
}

static void test_filtered_messages_are_not_counted(void **state)
{
	(void)state;
	log_warn("A");
	log_debug("A");
	log_debug("B");
	log_flush();
	expect_lines(1, "1 A");
}

static void test_counts_go_out_while_repeats_go_on(void **state)
{
	(void)state;
	log_warn("X");
	for (int i = 0; i < 3; i++) {
		now_ms += LOG_REPEAT_FIRST_MS / 4;
		log_warn("X");
	}
	assert_int_equal(line_count, 1);
	now_ms += LOG_REPEAT_FIRST_MS / 4;
	log_warn("X");
	expect_lines(2, "1 X", "1 X (repeated 4 times)");
	/* The next report waits twice as long. */
	now_ms += LOG_REPEAT_FIRST_MS * 2 - 1;
	log_warn("X");
	assert_int_equal(line_count, 2);
	now_ms += 1;
	log_warn("X");
	expect_lines(3, "1 X", "1 X (repeated 4 times)", "1 X (repeated 2 times)");
}

static void test_reports_wait_at_most_the_maximum(void **state)
{
	size_t before;

	(void)state;
	log_warn("Y");
	for (double wait = LOG_REPEAT_FIRST_MS; wait < LOG_REPEAT_MAX_MS * 4; wait *= 2) {
		now_ms += wait > LOG_REPEAT_MAX_MS ? LOG_REPEAT_MAX_MS : wait;
		log_warn("Y");
	}
	before = line_count;
	now_ms += LOG_REPEAT_MAX_MS;
	log_warn("Y");
	assert_int_equal(line_count, before + 1);
}

static void test_new_sink_hears_the_count_first(void **state)
{
	(void)state;
	log_warn("Z");
	log_warn("Z");
	log_set_sink(sink, NULL);
	log_warn("Z");
	expect_lines(3, "1 Z", "1 Z (repeated 1 time)", "1 Z");
}

/* What went to stderr while there was no sink (a full-screen sink would
 * hide it) goes to the next sink: warnings and errors only, once. */
static void test_next_sink_hears_what_stderr_was_told(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	log_warn("early");
	log_info("chatty");
	log_keep(LOG_WARN, "told by the command line");
	log_error("bad");
	log_set_sink(sink, NULL);
	expect_lines(3, "1 early", "1 told by the command line", "0 bad");
	log_set_sink(NULL, NULL);
	log_set_sink(sink, NULL);
	assert_int_equal(line_count, 3);
}

static void test_only_the_first_are_held(void **state)
{
	char text[16];

	(void)state;
	log_set_sink(NULL, NULL);
	for (int i = 0; i < LOG_HELD_MAX + 3; i++) {
		snprintf(text, sizeof(text), "w%d", i);
		log_warn("%s", text);
	}
	log_set_sink(sink, NULL);
	assert_int_equal(line_count, LOG_HELD_MAX);
	assert_string_equal(lines[0], "1 w0");
	snprintf(text, sizeof(text), "1 w%d", LOG_HELD_MAX - 1);
	assert_string_equal(lines[LOG_HELD_MAX - 1], text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_repeats_go_out_once, setup),
		cmocka_unit_test_setup(test_another_message_reports_the_count, setup),
		cmocka_unit_test_setup(test_level_is_part_of_the_message, setup),
		cmocka_unit_test_setup(test_filtered_messages_are_not_counted, setup),
		cmocka_unit_test_setup(test_counts_go_out_while_repeats_go_on, setup),
		cmocka_unit_test_setup(test_reports_wait_at_most_the_maximum, setup),
		cmocka_unit_test_setup(test_new_sink_hears_the_count_first, setup),
		cmocka_unit_test_setup(test_next_sink_hears_what_stderr_was_told, setup),
		cmocka_unit_test_setup(test_only_the_first_are_held, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
