/* Unit tests for ui/widgets.c: column layout, text widths, text cut and
 * aligned into a field, and the short number formats. Drawing goes to an
 * ncurses screen on /dev/null and is read back from the screen's cells. */
#include "config.h"

#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "ui/widgets.h"

#define SCREEN_LINES 5
#define SCREEN_COLS 30

static const struct term_glyphs glyphs = { .ellipsis = "~" };

/* ---- layout ------------------------------------------------------------- */

/* rank, name (flexible, 10 to 20), class (dropped second), gap (dropped first) */
static void columns(struct widget_column c[4])
{
	c[0] = (struct widget_column){ .title = "#", .width = 4, .right = true };
	c[1] = (struct widget_column){ .title = "name", .width = 10, .max = 20, .flex = true };
	c[2] = (struct widget_column){ .title = "class", .width = 8, .drop = 1 };
	c[3] = (struct widget_column){ .title = "gap", .width = 6, .drop = 2, .right = true };
}

static void test_layout_all_fit(void **state __attribute__((unused)))
{
	struct widget_column c[4];

	columns(c);
	widget_columns_layout(c, 4, 4 + 10 + 8 + 6 + 3);
	assert_int_equal(c[0].x, 0);
	assert_int_equal(c[1].x, 5);                          /* one space between columns */
	assert_int_equal(c[1].w, 10);
	assert_int_equal(c[2].x, 16);
	assert_int_equal(c[3].x, 25);
	assert_int_equal(c[3].w, 6);
	assert_int_equal(widget_columns_width(c, 4), 31);
}

static void test_layout_flex_takes_the_rest_up_to_its_max(void **state __attribute__((unused)))
{
	struct widget_column c[4];

	columns(c);
	widget_columns_layout(c, 4, 36);
	assert_int_equal(c[1].w, 15);
	assert_int_equal(c[2].x, 21);
	widget_columns_layout(c, 4, 100);
	assert_int_equal(c[1].w, 20);
	assert_int_equal(widget_columns_width(c, 4), 41);
}

/* Two flexible columns share the room evenly; one at its most leaves the
 * rest to the other. */
static void test_layout_flex_share(void **state __attribute__((unused)))
{
	struct widget_column c[3] = {
		{ .title = "name", .width = 10, .max = 20, .flex = true },
		{ .title = "#", .width = 4 },
		{ .title = "spark", .width = 8, .max = 60, .flex = true },
	};

	widget_columns_layout(c, 3, 10 + 4 + 8 + 2 + 10);
	assert_int_equal(c[0].w, 15);
	assert_int_equal(c[2].w, 13);
	widget_columns_layout(c, 3, 10 + 4 + 8 + 2 + 60);
	assert_int_equal(c[0].w, 20);
	assert_int_equal(c[2].w, 58);
	assert_int_equal(c[2].x, 26);
}

static void test_layout_drops_the_highest_first(void **state __attribute__((unused)))
{
	struct widget_column c[4];

	columns(c);
	widget_columns_layout(c, 4, 30);
	assert_int_equal(c[3].w, 0);                          /* gap goes first */
	assert_int_equal(c[2].w, 8);
	assert_int_equal(c[1].w, 10 + 30 - 24);               /* and name takes its room */
	widget_columns_layout(c, 4, 20);
	assert_int_equal(c[3].w, 0);
	assert_int_equal(c[2].w, 0);
	assert_int_equal(c[1].w, 15);
	assert_int_equal(widget_columns_width(c, 4), 20);
	/* Columns that are never dropped stay, even when they do not fit. */
	widget_columns_layout(c, 4, 8);
	assert_int_equal(c[0].w, 4);
	assert_int_equal(c[1].w, 10);
}

/* ---- text --------------------------------------------------------------- */

static void test_width_in_columns(void **state __attribute__((unused)))
{
	assert_int_equal(widget_width(""), 0);
	assert_int_equal(widget_width("Hayden"), 6);
	assert_int_equal(widget_width("Zo\xc3\xab"), 3);      /* two bytes, one column */
	assert_int_equal(widget_width("\xe6\x9d\xb1\xe4\xba\xac"), 4); /* wide characters */
	assert_int_equal(widget_width("e\xcc\x81"), 1);       /* a combining accent */
	assert_int_equal(widget_width("a\xff" "b"), 3);       /* an invalid byte takes one */
}

/* The n characters of row y from x on, as UTF-8 (a wide one takes two
 * columns). */
static const char *row(int y, int x, int n)
{
	static char text[4 * SCREEN_COLS + 1];
	wchar_t wide[SCREEN_COLS + 1];

	assert_true(n <= SCREEN_COLS);
	assert_int_not_equal(mvinnwstr(y, x, wide, n), ERR);
	assert_true(wcstombs(text, wide, sizeof(text)) != (size_t)-1);
	return text;
}

static void test_text_cut_with_the_ellipsis(void **state)
{
	const struct terminal *term = *state;

	assert_int_equal(widget_text(term, 0, 0, 5, A_NORMAL, WIDGET_LEFT, "Alexandra"), 5);
	assert_string_equal(row(0, 0, 6), "Alex~ ");
	assert_int_equal(widget_text(term, 1, 0, 4, A_NORMAL, WIDGET_LEFT, "\xe6\x9d\xb1\xe4\xba\xac"
				     "\xe9\x83\xbd"), 3);
	/* Never half a wide character: three characters in the four columns. */
	assert_string_equal(row(1, 0, 3), "\xe6\x9d\xb1~ ");
}

static void test_text_aligned_and_padded(void **state)
{
	const struct terminal *term = *state;

	widget_text(term, 0, 0, 8, A_NORMAL, WIDGET_LEFT, "xxxxxxxx");
	assert_int_equal(widget_text(term, 0, 0, 8, A_NORMAL, WIDGET_RIGHT, "42"), 2);
	assert_string_equal(row(0, 0, 8), "      42");
	widget_text(term, 1, 0, 8, A_NORMAL, WIDGET_CENTER, "ab");
	assert_string_equal(row(1, 0, 8), "   ab   ");
	widget_text(term, 2, 0, 8, A_NORMAL, WIDGET_LEFT, "ab");
	assert_string_equal(row(2, 0, 8), "ab      ");
}

static void test_text_stays_on_the_screen(void **state)
{
	const struct terminal *term = *state;

	assert_int_equal(widget_text(term, 0, SCREEN_COLS - 3, 10, A_NORMAL, WIDGET_LEFT, "abcdef"),
			 3);
	assert_string_equal(row(0, SCREEN_COLS - 3, 3), "ab~");
	assert_int_equal(widget_text(term, SCREEN_LINES, 0, 10, A_NORMAL, WIDGET_LEFT, "x"), 0);
	assert_int_equal(widget_text(term, 0, -1, 10, A_NORMAL, WIDGET_LEFT, "x"), 0);
}

static void test_untrusted_text_is_sanitized(void **state)
{
	const struct terminal *term = *state;

	widget_untrusted(term, 0, 0, 10, A_NORMAL, WIDGET_LEFT, "\x1b[31mEvil\x07");
	assert_string_equal(row(0, 0, 10), "\xef\xbf\xbd[31mEvil\xef\xbf\xbd");
}

/* ---- numbers ------------------------------------------------------------ */

static void test_short_numbers(void **state __attribute__((unused)))
{
	static const struct { double rate; const char *want; } rates[] = {
		{ -1, "-" }, { 0.5, "0.5" }, { 1234, "1234" }, { 12345, "12.3k" }, { 2.5e6, "2.5M" },
	};
	static const struct { uint64_t count; const char *want; } counts[] = {
		{ 9999, "9999" }, { 3400000, "3.4M" },
	};
	static const struct { int64_t ms; const char *want; } ages[] = {
		{ -5, "0.0 s" }, { 2500, "2.5 s" }, { 90000, "90 s" }, { 180000, "3 min" },
		{ 7200000, "2 h" },
	};
	char buf[16];

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		widget_fmt_rate(rates[i].rate, buf, sizeof(buf));
		assert_string_equal(buf, rates[i].want);
	}
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		widget_fmt_count(counts[i].count, buf, sizeof(buf));
		assert_string_equal(buf, counts[i].want);
	}
	for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
		widget_fmt_age(ages[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, ages[i].want);
	}
}

static void test_scroll_keys_stay_in_range(void **state __attribute__((unused)))
{
	int scroll = 0;

	assert_true(widget_scroll_key(&scroll, 100, 20, 'k'));
	assert_int_equal(scroll, 0);
	assert_true(widget_scroll_key(&scroll, 100, 20, ' '));
	assert_int_equal(scroll, 20);
	assert_true(widget_scroll_key(&scroll, 100, 20, TERM_FN(KEY_NPAGE)));
	assert_true(widget_scroll_key(&scroll, 100, 20, TERM_FN(KEY_NPAGE)));
	assert_true(widget_scroll_key(&scroll, 100, 20, TERM_FN(KEY_NPAGE)));
	assert_true(widget_scroll_key(&scroll, 100, 20, TERM_FN(KEY_NPAGE)));
	assert_int_equal(scroll, 80);
	assert_true(widget_scroll_key(&scroll, 100, 20, 'g'));
	assert_int_equal(scroll, 0);
	assert_false(widget_scroll_key(&scroll, 100, 20, 'q'));
}

/* ---- a screen on /dev/null ---------------------------------------------- */

static int screen_up(void **state)
{
	static struct terminal term = { .unicode = true, .glyphs = &glyphs };
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");

	if (out == NULL || in == NULL || setlocale(LC_ALL, "C.UTF-8") == NULL)
		return -1;
	setenv("LINES", "5", 1);
	setenv("COLUMNS", "30", 1);
	term.screen = newterm("xterm", out, in);
	if (term.screen == NULL || LINES != SCREEN_LINES || COLS != SCREEN_COLS)
		return -1;
	*state = &term;
	return 0;
}

static int screen_down(void **state)
{
	struct terminal *term = *state;

	endwin();
	delscreen(term->screen);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_all_fit),
		cmocka_unit_test(test_layout_flex_takes_the_rest_up_to_its_max),
		cmocka_unit_test(test_layout_flex_share),
		cmocka_unit_test(test_layout_drops_the_highest_first),
		cmocka_unit_test(test_width_in_columns),
		cmocka_unit_test(test_text_cut_with_the_ellipsis),
		cmocka_unit_test(test_text_aligned_and_padded),
		cmocka_unit_test(test_text_stays_on_the_screen),
		cmocka_unit_test(test_untrusted_text_is_sanitized),
		cmocka_unit_test(test_short_numbers),
		cmocka_unit_test(test_scroll_keys_stay_in_range),
	};

	return cmocka_run_group_tests(tests, screen_up, screen_down);
}
