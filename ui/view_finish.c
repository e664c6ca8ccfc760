#include "config.h"
#include "ui/view_finish.h"

#include <stdio.h>
#include <string.h>

#include "race/finish.h"
#include "ui/terminal.h"
#include "ui/widgets.h"
#include "util/numfmt.h"
#include "util/sanitize.h"

#define PODIUM_PLACES 3

enum finish_col { COL_RANK, COL_NAME, COL_ID, COL_SCORE, COL_GAP, COL_COUNT };

static const struct widget_column columns[COL_COUNT] = {
	[COL_RANK] = { .title = "#", .width = 4, .right = true },
	[COL_NAME] = { .title = "name", .width = 10, .max = 24, .flex = true },
	[COL_ID] = { .title = "id", .width = 7, .right = true, .drop = 1 },
	[COL_SCORE] = { .title = "score W", .width = 8, .right = true },
	[COL_GAP] = { .title = "gap W", .width = 9, .right = true, .drop = 2 },
};

static const char *const places[PODIUM_PLACES] = { "1st", "2nd", "3rd" };

static void draw_heading(const struct finish *f, const struct view_ctx *ctx, struct view_rect a)
{
	const struct terminal *term = ctx->term;
	int64_t left = f->shown_ms + FINISH_HOLD_MS - ctx->now_ms;
	int x = a.x;

	widget_fill(a.y, a.x, a.w, term_attr(term, TERM_NORMAL));
	x += widget_printf(term, a.y, x, a.w, term_attr(term, TERM_HEADING), WIDGET_LEFT,
			   "Race %lld ", (long long)f->race_id);
	x += widget_untrusted(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_HEADING), WIDGET_LEFT,
			      f->class_name[0] ? f->class_name : "class");
	x += widget_printf(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_LABEL), WIDGET_LEFT,
			   " (class %d)  %zu racers  ", f->class_id, f->count);
	widget_text(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_OK), WIDGET_LEFT, "FINISHED");
	/* On a line of its own: a narrow screen must not cut the countdown. */
	widget_printf(term, a.y + 1, a.x, a.w, term_attr(term, TERM_DIM), WIDGET_LEFT,
		      "final standings; the live races in %lld s",
		      (long long)(left > 0 ? (left + 999) / 1000 : 0));
}

#define PODIUM_NAME_MAX 26               /* columns a podium name may take */

/* One podium line: the place, the name (in a column name_w wide, so the
 * scores line up) and the score. */
static void draw_place(const struct finish *f, const struct view_ctx *ctx, int y, int x, int w,
		       size_t k, int name_w)
{
	const struct terminal *term = ctx->term;
	const struct finish_row *row = &f->rows[k];
	char score[NUMFMT_TEXT_MAX];
	attr_t attr = term_attr(term, k == 0 ? TERM_BEATS_BEST : TERM_HEADING);
	int at = x;

	at += widget_printf(term, y, at, w, attr, WIDGET_LEFT, "  %s  ", places[k]);
	widget_untrusted(term, y, at, name_w, attr, WIDGET_LEFT, row->name);
	at += name_w;
	widget_printf(term, y, at, x + w - at, term_attr(term, TERM_NORMAL), WIDGET_LEFT,
		      "  %8s W  (id %lld)", numfmt_output(row->score, score), (long long)row->racer_id);
}

/* The widest podium name as drawn, at most PODIUM_NAME_MAX. */
static int podium_name_width(const struct finish *f, const struct terminal *term, size_t podium)
{
	char name[PODIUM_NAME_MAX * 4 + 1];
	int w = 1;

	for (size_t k = 0; k < podium; k++) {
		sanitize_text(f->rows[k].name, name, sizeof(name), PODIUM_NAME_MAX, term->unicode);
		if (widget_width(name) > w)
			w = widget_width(name);
	}
	return w;
}

static size_t followed_index(const struct finish *f, int64_t follow_id)
{
	const struct finish_row *row = follow_id ? finish_row_of(f, follow_id) : NULL;

	return row ? (size_t)(row - f->rows) : 0;
}

static void draw_row(const struct finish *f, const struct view_ctx *ctx, int y, int x,
		     const struct widget_column *cols, size_t k, int64_t follow_id)
{
	const struct terminal *term = ctx->term;
	const struct finish_row *row = &f->rows[k];
	attr_t attr = term_attr(term, follow_id && row->racer_id == follow_id ? TERM_FOLLOWED
									    : TERM_NORMAL);
	char text[32], out[NUMFMT_TEXT_MAX];

	widget_fill(y, x, widget_columns_width(cols, COL_COUNT), attr);
	snprintf(text, sizeof(text), "%d", row->rank);
	widget_cell(term, y, x, &cols[COL_RANK], attr, text);
	widget_cell_untrusted(term, y, x, &cols[COL_NAME], attr, row->name);
	snprintf(text, sizeof(text), "%lld", (long long)row->racer_id);
	widget_cell(term, y, x, &cols[COL_ID], attr, text);
	widget_cell(term, y, x, &cols[COL_SCORE], attr, numfmt_output(row->score, out));
	widget_cell(term, y, x, &cols[COL_GAP], attr,
		    numfmt_gap(row->rank, row->score, row->gap, term->glyphs->dash, out));
}

/* The standings below the podium, scrolled so the followed racer shows. */
static void draw_standings(const struct finish *f, const struct view_ctx *ctx, struct view_rect a,
			   int64_t follow_id)
{
	struct widget_column cols[COL_COUNT];
	size_t page, top = 0, at = followed_index(f, follow_id);

	if (a.h < 2)
		return;
	memcpy(cols, columns, sizeof(cols));
	widget_columns_layout(cols, COL_COUNT, a.w);
	widget_columns_head(ctx->term, a.y, a.x, a.w, cols, COL_COUNT);
	page = (size_t)(a.h - 1);
	if (at >= page)
		top = at - page + 1;
	for (size_t line = 0; line < page && top + line < f->count; line++)
		draw_row(f, ctx, a.y + 1 + (int)line, a.x, cols, top + line, follow_id);
}

void view_finish_draw(const struct finish *f, const struct view_ctx *ctx, struct view_rect a,
		      int64_t follow_id)
{
	size_t podium = f->count < PODIUM_PLACES ? f->count : PODIUM_PLACES;
	int y = a.y + 3, name_w = podium_name_width(f, ctx->term, podium);

	draw_heading(f, ctx, (struct view_rect){ a.y, a.x, 2, a.w });
	for (size_t k = 0; k < podium && y < a.y + a.h; k++, y++)
		draw_place(f, ctx, y, a.x, a.w, k, name_w);
	y++;
	draw_standings(f, ctx, (struct view_rect){ y, a.x, a.y + a.h - y, a.w }, follow_id);
}
