#include "config.h"
#include "ui/view_races.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race/engine.h"
#include "race/live.h"
#include "race/store.h"
#include "ui/terminal.h"
#include "ui/widgets.h"
#include "util/numfmt.h"
#include "wire/telemetry.h"

#define RATE_PERIOD_MS 1000             /* records/s measured over at least this */
#define CLASS_NAME_MAX 128

/* One live race as last read. Names are copies: untrusted, sanitized when drawn. */
struct race_line {
	int64_t race_id;
	int class_id;
	size_t racers;
	int second;
	bool all_final;                 /* every racer has finished: it ends at the next commit */
	char leader[TELEMETRY_NAME_MAX + 1];
	int64_t leader_id, leader_score;
	double rate;
};

/* Records seen in a race at a moment, to measure its rate against. */
struct race_rate {
	int64_t race_id;
	uint64_t records;
	int64_t at_ms;
	double rate;
};

enum races_col {
	COL_RACE, COL_CLASS, COL_RACERS, COL_SECOND, COL_PROGRESS, COL_LEADER, COL_SCORE,
	COL_RATE, COL_COUNT,
};

static const struct widget_column columns[COL_COUNT] = {
	[COL_RACE] = { .title = "race", .width = WIDGET_RACE_ID_WIDTH, .right = true },
	[COL_CLASS] = { .title = "class", .width = 8, .max = 16, .flex = true, .drop = 3 },
	[COL_RACERS] = { .title = "racers", .width = 6, .right = true },
	[COL_SECOND] = { .title = "second", .width = 9, .right = true },
	[COL_PROGRESS] = { .title = "", .width = 6, .max = 20, .flex = true, .drop = 2 },
	[COL_LEADER] = { .title = "leader", .width = 10, .max = 24, .flex = true },
	[COL_SCORE] = { .title = "score W", .width = 8, .right = true, .drop = 4 },
	[COL_RATE] = { .title = "rec/s", .width = 7, .right = true, .drop = 1 },
};

struct view_races {
	struct race_line *lines;
	size_t count, capacity;
	struct race_rate *rates, *rates_next;   /* count entries each, swapped per reading */
	size_t rate_count;
	int duration;
	char class_names[TELEMETRY_CLASS_COUNT + 1][CLASS_NAME_MAX];
	bool class_names_read;
	size_t cursor, top;
	int first_y;                    /* the screen line of the first row drawn */
	int page;
};

struct view_races *view_races_new(void)
{
	return calloc(1, sizeof(struct view_races));
}

void view_races_free(struct view_races *v)
{
	if (v == NULL)
		return;
	free(v->lines);
	free(v->rates);
	free(v->rates_next);
	free(v);
}

static int lines_reserve(struct view_races *v, size_t want)
{
	struct race_line *lines;
	struct race_rate *rates, *next;

	if (want <= v->capacity)
		return 0;
	want = want < 8 ? 8 : want * 2;
	lines = realloc(v->lines, want * sizeof(*lines));
	if (lines)
		v->lines = lines;
	rates = realloc(v->rates, want * sizeof(*rates));
	if (rates)
		v->rates = rates;
	next = realloc(v->rates_next, want * sizeof(*next));
	if (next)
		v->rates_next = next;
	if (!lines || !rates || !next)
		return -1;
	v->capacity = want;
	return 0;
}

/* Class names do not change while the program runs: read them once. */
static void class_names_read(struct view_races *v, struct store *store)
{
	if (v->class_names_read)
		return;
	for (int c = 1; c <= TELEMETRY_CLASS_COUNT; c++) {
		const char *name = store_class_name(store, c);
		snprintf(v->class_names[c], sizeof(v->class_names[c]), "%s", name ? name : "");
	}
	v->class_names_read = true;
}

/* The race's records a second, measured against the reading at least a
 * period old so the number does not jitter between redraws. */
static double rate_of(struct view_races *v, const struct engine_race_info *info, int64_t now_ms,
		      size_t slot)
{
	struct race_rate *next = &v->rates_next[slot];

	*next = (struct race_rate){ .race_id = info->race_id, .records = info->records,
				    .at_ms = now_ms };
	for (size_t i = 0; i < v->rate_count; i++) {
		const struct race_rate *old = &v->rates[i];
		if (old->race_id != info->race_id)
			continue;
		if (now_ms - old->at_ms < RATE_PERIOD_MS) {
			*next = *old;
		} else {
			next->rate = (double)(info->records - old->records) * 1000.0 /
				     (double)(now_ms - old->at_ms);
		}
		break;
	}
	return next->rate;
}

void view_races_refresh(struct view_races *v, const struct view_ctx *ctx)
{
	struct engine *e = live_engine(ctx->live);
	size_t n = engine_race_count(e);
	struct race_rate *swap;

	v->duration = engine_duration(e);
	class_names_read(v, live_store(ctx->live));
	if (lines_reserve(v, n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct engine_race *r = engine_race_at(e, i);
		struct engine_race_info info;
		struct engine_standing top;
		struct race_line *line = &v->lines[i];

		engine_race_info(r, &info);
		*line = (struct race_line){ .race_id = info.race_id, .class_id = info.class_id,
					    .racers = info.racers, .second = info.second,
					    .all_final = info.all_final };
		if (engine_standings(r, 0, 1, &top) == 1) {
			snprintf(line->leader, sizeof(line->leader), "%s", top.name ? top.name : "");
			line->leader_id = top.racer_id;
			line->leader_score = top.score;
		}
		line->rate = rate_of(v, &info, ctx->now_ms, i);
	}
	swap = v->rates;
	v->rates = v->rates_next;
	v->rates_next = swap;
	v->rate_count = n;
	v->count = n;
	if (v->cursor >= n)
		v->cursor = n ? n - 1 : 0;
}

/* ---- drawing ------------------------------------------------------------ */

static void draw_line(struct view_races *v, const struct view_ctx *ctx, int y, int x,
		      const struct widget_column *cols, size_t k)
{
	const struct terminal *term = ctx->term;
	const struct race_line *line = &v->lines[k];
	attr_t row = !ctx->kiosk && k == v->cursor ? term_attr(term, TERM_SELECTED) : 0;
	attr_t plain = row ? row : term_attr(term, TERM_NORMAL);
	char text[64], out[NUMFMT_TEXT_MAX];
	int duration = v->duration > 0 ? v->duration : 1;
	const char *class_name = line->class_id >= 1 && line->class_id <= TELEMETRY_CLASS_COUNT ?
					 v->class_names[line->class_id] : "";

	widget_fill(y, x, widget_columns_width(cols, COL_COUNT), plain);
	snprintf(text, sizeof(text), "%lld", (long long)line->race_id);
	widget_cell(term, y, x, &cols[COL_RACE], plain, text);
	if (class_name[0])
		widget_cell_untrusted(term, y, x, &cols[COL_CLASS], plain, class_name);
	else {
		snprintf(text, sizeof(text), "class %d", line->class_id);
		widget_cell(term, y, x, &cols[COL_CLASS], plain, text);
	}
	snprintf(text, sizeof(text), "%zu", line->racers);
	widget_cell(term, y, x, &cols[COL_RACERS], plain, text);
	if (line->all_final)
		snprintf(text, sizeof(text), "finished");
	else
		snprintf(text, sizeof(text), "%d/%d", line->second, v->duration);
	widget_cell(term, y, x, &cols[COL_SECOND], plain, text);
	if (cols[COL_PROGRESS].w > 0)
		widget_bar(term, y, x + cols[COL_PROGRESS].x, cols[COL_PROGRESS].w,
			   (double)line->second / duration);
	widget_cell_untrusted(term, y, x, &cols[COL_LEADER], plain, line->leader);
	widget_cell(term, y, x, &cols[COL_SCORE], plain, numfmt_output(line->leader_score, out));
	widget_fmt_rate(line->rate, text, sizeof(text));
	widget_cell(term, y, x, &cols[COL_RATE], plain, text);
}

void view_races_draw(struct view_races *v, const struct view_ctx *ctx, struct view_rect a)
{
	const struct terminal *term = ctx->term;
	struct widget_column cols[COL_COUNT];
	size_t racers = 0;
	double rate = 0;

	for (size_t i = 0; i < v->count; i++) {
		racers += v->lines[i].racers;
		rate += v->lines[i].rate;
	}
	widget_printf(term, a.y, a.x, a.w, term_attr(term, TERM_HEADING), WIDGET_LEFT,
		      "Live races: %zu, %zu racers, %.0f records/s", v->count, racers, rate);
	memcpy(cols, columns, sizeof(cols));
	widget_columns_layout(cols, COL_COUNT, a.w);
	widget_columns_head(term, a.y + 2, a.x, a.w, cols, COL_COUNT);
	v->page = a.h - 3;
	v->first_y = a.y + 3;
	if (v->count == 0) {
		widget_text(term, a.y + a.h / 2, a.x, a.w, term_attr(term, TERM_DIM), WIDGET_CENTER,
			    ctx->caught_up ? "no live race" : "catching up with the stream");
		return;
	}
	if (v->page < 1)
		return;
	if (v->cursor < v->top)
		v->top = v->cursor;
	if (v->cursor >= v->top + (size_t)v->page)
		v->top = v->cursor - (size_t)v->page + 1;
	for (int i = 0; i < v->page && v->top + (size_t)i < v->count; i++)
		draw_line(v, ctx, a.y + 3 + i, a.x, cols, v->top + (size_t)i);
}

/* ---- keys --------------------------------------------------------------- */

bool view_races_key(struct view_races *v, const struct view_ctx *ctx, int key, int64_t *open)
{
	(void)ctx;
	switch (key) {
	case TERM_FN(KEY_UP): case 'k':
		if (v->cursor > 0)
			v->cursor--;
		return true;
	case TERM_FN(KEY_DOWN): case 'j':
		if (v->cursor + 1 < v->count)
			v->cursor++;
		return true;
	case TERM_FN(KEY_HOME): case 'g':
		v->cursor = 0;
		return true;
	case TERM_FN(KEY_END): case 'G':
		v->cursor = v->count ? v->count - 1 : 0;
		return true;
	default:
		if (TERM_KEY_ENTER(key) && v->cursor < v->count) {
			*open = v->lines[v->cursor].race_id;
			return true;
		}
	}
	return false;
}

bool view_races_click(struct view_races *v, int y, int64_t *open)
{
	size_t k;

	if (!widget_row_at(y, v->first_y, v->page, v->top, v->count, &k))
		return false;
	if (k == v->cursor)
		*open = v->lines[k].race_id;
	v->cursor = k;
	return true;
}

size_t view_races_footer(const struct view_races *v, const struct widget_key **keys)
{
	static const struct widget_key races_keys[] = {
		{ "q", "Quit" }, { "?", "Help" }, { "Tab", "View" }, { "Enter", "Watch race" },
		{ "Up/Down", "Select" },
	};

	(void)v;
	*keys = races_keys;
	return sizeof(races_keys) / sizeof(races_keys[0]);
}
