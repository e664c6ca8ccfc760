#include "config.h"
#include "ui/view_help.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/terminal.h"
#include "ui/widgets.h"

struct view_help {
	int scroll;
	int lines, page;
};

/* A line of help: a key (or a heading when text is NULL) and what it does. */
struct help_line {
	const char *key, *text;
};

static const struct help_line help_lines[] = {
	{ "Views", NULL },
	{ "1", "the live race" },
	{ "2", "every live race; Enter watches the one selected" },
	{ "3", "history: personal bests, past races, racers" },
	{ "4", "monitor: the hub's shards, this consumer, the log" },
	{ "5  ?  F1", "this help (Esc or ? again closes it)" },
	{ "Tab  Shift-Tab", "the next or the previous view" },
	{ "Ctrl-L", "repaint the screen" },
	{ "q", "quit" },
	{ "", "" },
	{ "Live race", NULL },
	{ "Up Down j k", "move the selection (stops following)" },
	{ "PgUp PgDn", "a page up or down" },
	{ "Home End", "the top or bottom of the table" },
	{ "Enter", "follow the selected racer (again: stop following)" },
	{ "s  S", "sort by the next column; the other way (marked in the head)" },
	{ "/", "show only racers whose name contains a text (any case)" },
	{ "Esc", "clear the filter" },
	{ "[  ]", "the previous or next live race" },
	{ "", "" },
	{ "History", NULL },
	{ "Left Right", "the previous or next class" },
	{ "l  r", "class leaderboards, past races" },
	{ "Enter", "open: a racer's profile, a race's results" },
	{ "Bksp  Esc", "back to where you were" },
	{ "/", "find racers by name" },
	{ "PgUp PgDn", "the previous or next page" },
	{ "", "" },
	{ "Mouse", NULL },
	{ "click a tab", "show that view" },
	{ "click a row", "live race: follow that racer; races: select, again: watch" },
	{ "", "history: open it, as Enter does; a racer's best: its race" },
	{ "click a class", "history: show that class's board or races" },
	{ "click a title", "live race: sort by that column, again: the other way" },
	{ "wheel", "move as the arrow keys do (--no-mouse: off)" },
	{ "", "" },
	{ "Columns", NULL },
	{ "chg", "places gained or lost in the last seconds" },
	{ "score W", "the racer's best output in this race, in watts" },
	{ "last W", "output at the racer's latest second" },
	{ "rpm  res %", "cadence (rpm) and resistance (percent) at that second" },
	{ "gap W", "the leader's score minus this racer's (the leader: a dash)" },
	{ "output W", "a sparkline of the last seconds of output" },
};

struct view_help *view_help_new(void)
{
	return calloc(1, sizeof(struct view_help));
}

void view_help_free(struct view_help *v)
{
	free(v);
}

static void draw_line(const struct terminal *term, int y, struct view_rect a, const char *key,
		      const char *text)
{
	if (text == NULL) {
		widget_text(term, y, a.x, a.w, term_attr(term, TERM_HEADING), WIDGET_LEFT, key);
		return;
	}
	widget_text(term, y, a.x, 16, term_attr(term, TERM_KEY_TEXT) | A_BOLD, WIDGET_LEFT, key);
	widget_text(term, y, a.x + 16, a.w - 16, term_attr(term, TERM_NORMAL), WIDGET_LEFT, text);
}

/* The marks, drawn with the glyphs in use. */
static void draw_marks(const struct terminal *term, int *line, int skip, struct view_rect a)
{
	const struct term_glyphs *g = term->glyphs;
	char spark[64] = "";
	int y;

	for (int i = 0; i < g->spark_levels; i++)
		snprintf(spark + strlen(spark), sizeof(spark) - strlen(spark), "%s", g->spark[i]);
	if ((y = *line - skip) >= 0 && y < a.h) {
		widget_text(term, a.y + y, a.x, 16, term_attr(term, TERM_RANK_UP), WIDGET_LEFT, g->up);
		widget_text(term, a.y + y, a.x + 16, a.w - 16, term_attr(term, TERM_NORMAL), WIDGET_LEFT,
			    "up places; the other way, down");
	}
	(*line)++;
	if ((y = *line - skip) >= 0 && y < a.h) {
		widget_text(term, a.y + y, a.x, 16, term_attr(term, TERM_BEATS_BEST), WIDGET_LEFT, g->best);
		widget_text(term, a.y + y, a.x + 16, a.w - 16, term_attr(term, TERM_NORMAL), WIDGET_LEFT,
			    "beats the best output ever ridden in this class at this second");
	}
	(*line)++;
	if ((y = *line - skip) >= 0 && y < a.h) {
		widget_text(term, a.y + y, a.x, 16, term_attr(term, TERM_SPARK), WIDGET_LEFT, spark);
		widget_text(term, a.y + y, a.x + 16, a.w - 16, term_attr(term, TERM_NORMAL), WIDGET_LEFT,
			    "sparkline levels, low to high");
	}
	(*line)++;
}

#define HELP_MARK_LINES 3          /* the lines draw_marks adds */

/* The help's text, from line `scroll` on, in the rect given. */
static void draw_body(struct view_help *v, const struct terminal *term, struct view_rect a)
{
	size_t n = sizeof(help_lines) / sizeof(help_lines[0]);
	int line = 0;

	for (size_t i = 0; i < n; i++, line++) {
		int y = line - v->scroll;
		if (y >= 0 && y < a.h)
			draw_line(term, a.y + y, a, help_lines[i].key, help_lines[i].text);
	}
	draw_marks(term, &line, v->scroll, a);
	v->lines = line;
	v->page = a.h;
}

void view_help_draw(struct view_help *v, const struct view_ctx *ctx, struct view_rect a)
{
	const struct terminal *term = ctx->term;
	int lines = (int)(sizeof(help_lines) / sizeof(help_lines[0])) + HELP_MARK_LINES;

	if (lines - v->scroll <= a.h) {
		draw_body(v, term, a);
		return;
	}
	/* More than fits: the last line says so, or a small terminal would
	 * hide the rest of the keys without a hint. */
	a.h--;
	draw_body(v, term, a);
	widget_printf(term, a.y + a.h, a.x, a.w, term_attr(term, TERM_DIM), WIDGET_LEFT,
		      "%s more below: Down or PgDn (%d lines)", term->glyphs->down,
		      lines - v->scroll - a.h);
}

bool view_help_key(struct view_help *v, int key)
{
	return widget_scroll_key(&v->scroll, v->lines, v->page, key);
}

size_t view_help_footer(const struct view_help *v, const struct widget_key **keys)
{
	static const struct widget_key help_keys[] = {
		{ "Esc", "Close help" }, { "q", "Quit" }, { "Up/Down", "Scroll" },
	};

	(void)v;
	*keys = help_keys;
	return sizeof(help_keys) / sizeof(help_keys[0]);
}
