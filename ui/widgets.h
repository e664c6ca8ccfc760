/* Widgets: the pieces views are drawn from, on stdscr. Text is cut to a
 * width in terminal columns on a character boundary; text that came from a
 * bike or the database goes through the *_untrusted variants, which
 * sanitize it first. */
#ifndef ALLEYCAT_WIDGETS_H
#define ALLEYCAT_WIDGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/terminal.h"

enum widget_align {
	WIDGET_LEFT,
	WIDGET_RIGHT,
	WIDGET_CENTER,
};

/* The columns text takes on screen (text printable: ours, or sanitized). */
int widget_width(const char *text);

/* Draws text at (y, x) in width columns: cut with the ellipsis glyph when
 * it is wider, and padded with spaces in attr when it is narrower. Nothing
 * outside the screen is touched. Returns the columns the text took. */
int widget_text(const struct terminal *term, int y, int x, int width, attr_t attr,
		enum widget_align align, const char *text);

/* The same for untrusted text: control characters and escape sequences
 * become replacement characters before anything reaches the screen. */
int widget_untrusted(const struct terminal *term, int y, int x, int width, attr_t attr,
		     enum widget_align align, const char *text);

int widget_printf(const struct terminal *term, int y, int x, int width, attr_t attr,
		  enum widget_align align, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* Spaces in attr. */
void widget_fill(int y, int x, int width, attr_t attr);

/* A sparkline of values (oldest first; negative: no value), the newest at
 * the right edge, scaled from lo to hi; hi <= lo scales from 0 to the
 * largest value shown. */
void widget_sparkline(const struct terminal *term, int y, int x, int width, attr_t attr,
		      const double *values, size_t n, double lo, double hi);

/* A progress bar of fraction 0..1. */
void widget_bar(const struct terminal *term, int y, int x, int width, double fraction);

/* The footer: keys and what they do, as many as fit. */
struct widget_key {
	const char *key, *text;
};

void widget_footer(const struct terminal *term, int y, int width, const struct widget_key *keys,
		   size_t n);

/* Table columns. Layout drops the optional columns (highest drop first)
 * until the rest fit, then gives what is left to the flexible ones. */
/* A raceId column: the simulator's ids have 15 digits (the original's
 * five-minute number times 10^8 plus a per-run slot), seeded ones 11. */
#define WIDGET_RACE_ID_WIDTH 15

struct widget_column {
	const char *title;
	int width;                      /* columns wanted; a flexible column's least */
	int max;                        /* flexible: most it takes, 0 no limit */
	int drop;                       /* 0: always shown; else dropped narrowest first by value */
	bool right;                     /* right-aligned */
	bool flex;
	int x, w;                       /* placed by layout; w is 0 when dropped */
};

void widget_columns_layout(struct widget_column *cols, size_t n, int width);
int widget_columns_width(const struct widget_column *cols, size_t n);
void widget_columns_head(const struct terminal *term, int y, int x, int width,
			 const struct widget_column *cols, size_t n);
/* The head with column `sorted` marked (mark: a glyph, before a
 * right-aligned title so it stays over its numbers, else after). */
void widget_columns_head_sorted(const struct terminal *term, int y, int x, int width,
				const struct widget_column *cols, size_t n, size_t sorted,
				const char *mark);
/* The column shown x columns from the table's left edge; n when none. */
size_t widget_column_at(const struct widget_column *cols, size_t n, int x);
void widget_cell(const struct terminal *term, int y, int x, const struct widget_column *col,
		 attr_t attr, const char *text);
void widget_cell_untrusted(const struct terminal *term, int y, int x, const struct widget_column *col,
			   attr_t attr, const char *text);

/* Short texts for numbers: rates "0.5", "12", "1.2k"; counts "12", "3.4M";
 * ages "12 s", "3 min", "2 h". */
void widget_fmt_rate(double value, char *buf, size_t size);
void widget_fmt_count(uint64_t value, char *buf, size_t size);
void widget_fmt_age(int64_t ms, char *buf, size_t size);

/* The row of a table a click on screen line y falls on: the table's
 * first row is drawn on line first_y, `page` lines of rows from row `top`
 * of `count`. False when the click is not on a row. */
bool widget_row_at(int y, int first_y, int page, size_t top, size_t count, size_t *row);

/* Moves a scrolled text of `lines` lines shown `page` at a time by the
 * scrolling keys (arrows, j/k, PgUp/PgDn, space, Home/g), kept in range.
 * Returns false for any other key. */
bool widget_scroll_key(int *scroll, int lines, int page, int key);

#endif
