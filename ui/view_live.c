#include "config.h"
#include "ui/view_live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "race/engine.h"
#include "race/finish.h"
#include "race/live.h"
#include "race/store.h"
#include "ui/dashboard.h"
#include "ui/prompt.h"
#include "ui/terminal.h"
#include "ui/view_finish.h"
#include "ui/widgets.h"
#include "util/numfmt.h"
#include "util/sanitize.h"
#include "wire/telemetry.h"

#define CHANGE_HIGHLIGHT_MS 2000        /* a row that changed rank lights up this long */
#define CHANGE_ARROW_MS 5000            /* and shows its arrow this long */
#define CLASS_NAME_MAX 128

/* When a racer last changed rank, and by how much over the last moments. */
struct rank_mark {
	bool used;
	int64_t racer_id;
	int64_t at_ms;
	int delta;
};

enum live_col {
	COL_RANK, COL_CHANGE, COL_NAME, COL_ID, COL_SCORE, COL_NOW, COL_CADENCE,
	COL_RESISTANCE, COL_GAP, COL_MARK, COL_SPARK, COL_COUNT,
};

static const struct widget_column columns[COL_COUNT] = {
	[COL_RANK] = { .title = "#", .width = 4, .right = true },
	[COL_CHANGE] = { .title = "chg", .width = 4, .drop = 5 },
	[COL_NAME] = { .title = "name", .width = 10, .max = 32, .flex = true },
	[COL_ID] = { .title = "id", .width = 7, .right = true, .drop = 8 },
	[COL_SCORE] = { .title = "score W", .width = 8, .right = true },
	[COL_NOW] = { .title = "last W", .width = 8, .right = true, .drop = 3 },
	[COL_CADENCE] = { .title = "rpm", .width = 5, .right = true, .drop = 7 },
	[COL_RESISTANCE] = { .title = "res %", .width = 6, .right = true, .drop = 6 },
	[COL_GAP] = { .title = "gap W", .width = 9, .right = true, .drop = 4 },
	[COL_MARK] = { .title = "", .width = 1, .drop = 2 },
	[COL_SPARK] = { .title = "output W", .width = 8, .max = ENGINE_SPARK_SECONDS, .flex = true,
			.drop = 1 },
};

/* Sorting by a column: the order it starts in (largest first where a big
 * number is what a person looks for) and the words the heading says. */
static const bool largest_first[COL_COUNT] = {
	[COL_CHANGE] = true, [COL_SCORE] = true, [COL_NOW] = true, [COL_CADENCE] = true,
	[COL_RESISTANCE] = true, [COL_MARK] = true, [COL_SPARK] = true,
};

static const char *const sort_names[COL_COUNT] = {
	[COL_RANK] = "rank", [COL_CHANGE] = "change", [COL_NAME] = "name", [COL_ID] = "id",
	[COL_SCORE] = "score", [COL_NOW] = "last", [COL_CADENCE] = "rpm", [COL_RESISTANCE] = "res",
	[COL_GAP] = "gap", [COL_MARK] = "beats best", [COL_SPARK] = "recent output",
};

struct view_live {
	/* The race shown. */
	int64_t race_id;                /* 0: none yet */
	bool pinned;                    /* chosen, not the busiest: kept until it ends */
	bool live;                      /* race_id is live in the engine */
	struct finish finish;           /* the last race shown to its end */
	bool finishing;                 /* its finish is held on screen */
	bool class_history;             /* the class has bests to beat: the mark can show */
	struct finish_latest last;      /* with no live race: the one that ended last */
	struct engine_race_info info;
	int duration;
	char class_name[CLASS_NAME_MAX];        /* as stored: untrusted */
	int class_name_of;              /* the class it was read for, 0 none */

	/* Its standings at the last reading, in rank order. Names are
	 * copied: the engine's are valid only until the next record. */
	struct engine_standing *rows;
	char (*names)[TELEMETRY_NAME_MAX + 1];
	size_t count, capacity;

	/* What the table shows: indexes into rows, filtered and sorted. */
	size_t *order;
	size_t shown;
	enum live_col sort;             /* the column sorted by */
	bool sort_reversed;             /* against its natural order */
	struct prompt filter;

	size_t cursor, top;             /* into order */
	int page;                       /* table lines at the last draw */
	int first_y, first_x;           /* where the first row was drawn */
	struct widget_column cols[COL_COUNT];   /* as laid out at the last draw */
	int64_t follow_id;              /* 0: none */

	int64_t spark_lo, spark_hi;     /* one scale for every row: they compare */

	struct rank_mark *marks;        /* open addressing by racer id */
	size_t mark_capacity, mark_count;
};

/* ---- rank marks --------------------------------------------------------- */

static size_t mark_slot(const struct view_live *v, int64_t racer_id)
{
	uint64_t h = (uint64_t)racer_id * 0x9e3779b97f4a7c15ULL;
	size_t mask = v->mark_capacity - 1, i = (size_t)(h >> 32) & mask;

	while (v->marks[i].used && v->marks[i].racer_id != racer_id)
		i = (i + 1) & mask;
	return i;
}

static int marks_grow(struct view_live *v)
{
	size_t old_capacity = v->mark_capacity, capacity = old_capacity ? old_capacity * 2 : 256;
	struct rank_mark *old = v->marks, *fresh = calloc(capacity, sizeof(*fresh));

	if (fresh == NULL)
		return -1;
	v->marks = fresh;
	v->mark_capacity = capacity;
	for (size_t i = 0; i < old_capacity; i++)
		if (old[i].used)
			v->marks[mark_slot(v, old[i].racer_id)] = old[i];
	free(old);
	return 0;
}

static void marks_clear(struct view_live *v)
{
	if (v->marks)
		memset(v->marks, 0, v->mark_capacity * sizeof(*v->marks));
	v->mark_count = 0;
}

static void mark_note(struct view_live *v, int64_t racer_id, int change, int64_t now_ms)
{
	struct rank_mark *m;

	if ((v->mark_count + 1) * 2 > v->mark_capacity && marks_grow(v) < 0)
		return;
	m = &v->marks[mark_slot(v, racer_id)];
	if (!m->used) {
		*m = (struct rank_mark){ .used = true, .racer_id = racer_id };
		v->mark_count++;
	}
	/* Changes close together add up: a racer who gained two places in
	 * two ticks shows +2. */
	if (now_ms - m->at_ms > CHANGE_ARROW_MS)
		m->delta = 0;
	m->delta += change;
	m->at_ms = now_ms;
}

static const struct rank_mark *mark_find(const struct view_live *v, int64_t racer_id)
{
	const struct rank_mark *m;

	if (v->mark_count == 0)
		return NULL;
	m = &v->marks[mark_slot(v, racer_id)];
	return m->used ? m : NULL;
}

/* ---- choosing the race -------------------------------------------------- */

/* The race with the most racers; one whose racers have all finished (it
 * ends at the next commit) only when no other is running. */
static struct engine_race *busiest_race(struct engine *e)
{
	struct engine_race *best = NULL;
	struct engine_race_info best_info = { 0 };

	for (size_t i = 0; i < engine_race_count(e); i++) {
		struct engine_race *r = engine_race_at(e, i);
		struct engine_race_info info;
		engine_race_info(r, &info);
		if (best == NULL || (best_info.all_final && !info.all_final) ||
		    (best_info.all_final == info.all_final && info.racers >= best_info.racers)) {
			best = r;
			best_info = info;
		}
	}
	return best;
}

static void race_switch(struct view_live *v, int64_t race_id, bool pinned)
{
	if (race_id != v->race_id) {
		marks_clear(v);
		v->cursor = v->top = 0;
		v->count = v->shown = 0;
		v->class_name_of = 0;
	}
	v->race_id = race_id;
	v->pinned = pinned;
}

/* The live race the followed racer rides in, or NULL. */
static struct engine_race *race_of_racer(struct engine *e, int64_t racer_id)
{
	for (size_t i = 0; racer_id && i < engine_race_count(e); i++)
		if (engine_rank_of(engine_race_at(e, i), racer_id) > 0)
			return engine_race_at(e, i);
	return NULL;
}

/* The race to read: the chosen one while it is live or still to come;
 * else the one the followed racer rides in (also after a chosen race
 * ends: following outlasts a race); else the busiest, picked again only
 * when the one shown has ended. */
static struct engine_race *race_pick(struct view_live *v, struct engine *e)
{
	struct engine_race *r = v->race_id ? engine_find_race(e, v->race_id) : NULL;
	struct engine_race *followed;
	struct engine_race_info info;

	if (r && v->pinned)
		return r;
	if (r == NULL && v->race_id && v->pinned && !engine_race_ended(e, v->race_id))
		return NULL;
	followed = race_of_racer(e, v->follow_id);
	if (r && (followed == NULL || followed == r))
		return r;
	r = followed ? followed : busiest_race(e);
	if (r) {
		engine_race_info(r, &info);
		race_switch(v, info.race_id, false);
	}
	return r;
}

/* The race whose end is worth showing: the race shown; in the kiosk,
 * where no one chose a race, whichever ended last. */
static int64_t finish_candidate(const struct view_live *v, const struct view_ctx *ctx,
				struct engine *e)
{
	struct live_stats s;

	if (ctx->kiosk) {
		live_stats(ctx->live, &s);
		if (s.last_ended_race)
			return s.last_ended_race;
	}
	return v->race_id && !engine_find_race(e, v->race_id) && engine_race_ended(e, v->race_id)
	       ? v->race_id : 0;
}

/* A race has just ended: its finish is read from the history, once, and
 * held on screen before another race is picked. */
static void finish_notice(struct view_live *v, const struct view_ctx *ctx, struct engine *e)
{
	int64_t race_id = finish_candidate(v, ctx, e);

	if (race_id && race_id != v->finish.race_id)
		finish_read(&v->finish, live_store(ctx->live), race_id, ctx->now_ms);
	v->finishing = finish_holding(&v->finish, ctx->now_ms);
}

/* ---- reading ------------------------------------------------------------ */

static int rows_reserve(struct view_live *v, size_t want)
{
	struct engine_standing *rows;
	char (*names)[TELEMETRY_NAME_MAX + 1];
	size_t *order;

	if (want <= v->capacity)
		return 0;
	want = want < 64 ? 64 : want + want / 2;
	rows = realloc(v->rows, want * sizeof(*rows));
	if (rows)
		v->rows = rows;
	names = realloc(v->names, want * sizeof(*names));
	if (names)
		v->names = names;
	order = realloc(v->order, want * sizeof(*order));
	if (order)
		v->order = order;
	if (!rows || !names || !order)
		return -1;
	v->capacity = want;
	return 0;
}

static void class_name_read(struct view_live *v, struct store *store)
{
	const char *name;

	if (v->class_name_of == v->info.class_id)
		return;
	name = store_class_name(store, v->info.class_id);
	snprintf(v->class_name, sizeof(v->class_name), "%s", name ? name : "");
	v->class_name_of = v->info.class_id;
}

/* A row's number in the column sorted by (the name is compared apart). */
static double sort_value(const struct view_live *v, size_t i)
{
	const struct engine_standing *r = &v->rows[i];
	const struct rank_mark *m;
	double sum = 0;

	switch (v->sort) {
	case COL_CHANGE: return (m = mark_find(v, r->racer_id)) ? m->delta : 0;
	case COL_ID: return (double)r->racer_id;
	case COL_SCORE: return (double)r->score;
	case COL_NOW: return (double)r->output;
	case COL_CADENCE: return r->cadence;
	case COL_RESISTANCE: return r->resistance;
	case COL_GAP: return (double)r->gap;
	case COL_MARK: return r->beats_best;
	case COL_SPARK:
		for (int k = 0; k < ENGINE_SPARK_SECONDS; k++)
			sum += r->spark[k] > 0 ? (double)r->spark[k] : 0;
		return sum;
	default: return r->rank;
	}
}

/* Ties keep the rank order, whichever way the column goes. */
static int compare_rows(const void *a, const void *b, void *user)
{
	const struct view_live *v = user;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	double x, y;
	int c;

	if (v->sort == COL_NAME) {
		c = strcasecmp(v->names[i], v->names[j]);
	} else {
		x = sort_value(v, i);
		y = sort_value(v, j);
		c = (x > y) - (x < y);
	}
	if (largest_first[v->sort] != v->sort_reversed)
		c = -c;
	return c ? c : (i > j) - (i < j);
}

static void cursor_clamp(struct view_live *v)
{
	if (v->shown == 0)
		v->cursor = 0;
	else if (v->cursor >= v->shown)
		v->cursor = v->shown - 1;
}

/* The table's rows from the standings: filter, sort, and the cursor on
 * the followed racer. */
static void order_build(struct view_live *v)
{
	v->shown = 0;
	for (size_t i = 0; i < v->count; i++)
		if (prompt_matches(&v->filter, v->names[i]))
			v->order[v->shown++] = i;
	if (v->sort != COL_RANK || v->sort_reversed)
		qsort_r(v->order, v->shown, sizeof(*v->order), compare_rows, v);
	if (v->follow_id) {
		for (size_t k = 0; k < v->shown; k++)
			if (v->rows[v->order[k]].racer_id == v->follow_id) {
				v->cursor = k;
				break;
			}
	}
	cursor_clamp(v);
}

/* The sparklines' scale: from the lowest output any of them shows to the
 * leader's score, so differences between racers show. */
static void spark_scale(struct view_live *v)
{
	int64_t lo = -1;

	for (size_t i = 0; i < v->count; i++)
		for (int k = 0; k < ENGINE_SPARK_SECONDS; k++)
			if (v->rows[i].spark[k] >= 0 && (lo < 0 || v->rows[i].spark[k] < lo))
				lo = v->rows[i].spark[k];
	v->spark_hi = v->count > 0 ? v->rows[0].score : 0;
	v->spark_lo = lo < 0 || lo >= v->spark_hi ? 0 : lo;
}

static void marks_take(struct view_live *v, int64_t now_ms)
{
	for (size_t i = 0; i < v->count; i++)
		if (v->rows[i].rank_change != 0)
			mark_note(v, v->rows[i].racer_id, v->rows[i].rank_change, now_ms);
}

void view_live_refresh(struct view_live *v, const struct view_ctx *ctx, bool tick)
{
	struct engine *e = live_engine(ctx->live);
	struct engine_race *r;
	size_t n;

	finish_notice(v, ctx, e);
	r = v->finishing ? NULL : race_pick(v, e);
	v->duration = engine_duration(e);
	v->live = r != NULL;
	if (r == NULL) {
		v->count = v->shown = 0;
		finish_latest(live_store(ctx->live), &v->last);
		return;
	}
	engine_race_info(r, &v->info);
	class_name_read(v, live_store(ctx->live));
	v->class_history = engine_class_has_history(e, v->info.class_id);
	if (rows_reserve(v, v->info.racers) < 0)
		return;         /* out of memory: keep the last reading */
	n = engine_standings(r, 0, v->info.racers, v->rows);
	for (size_t i = 0; i < n; i++) {
		snprintf(v->names[i], sizeof(v->names[i]), "%s", v->rows[i].name ? v->rows[i].name : "");
		v->rows[i].name = NULL;
	}
	v->count = n;
	if (tick)
		marks_take(v, ctx->now_ms);
	spark_scale(v);
	order_build(v);
}

/* ---- drawing ------------------------------------------------------------ */

/* The last row on screen, 1-based. */
static size_t rows_last(const struct view_live *v)
{
	size_t page = v->page > 0 ? (size_t)v->page : 1;

	return v->top + page < v->shown ? v->top + page : v->shown;
}

/* The end of the heading, in room columns: the sort ("sort: rank") into
 * sort, and the note to show after it when the class has no history yet
 * (else ""). When room is short the note is shortened, then the sort
 * dropped if it is the usual one (the column head marks it anyway). */
static const char *history_note(const struct view_live *v, int room, char *sort, size_t size)
{
	static const char long_note[] = "  no history yet in this class";
	static const char short_note[] = "  no history yet";
	int sort_w;

	snprintf(sort, size, "sort: %s%s", sort_names[v->sort], v->sort_reversed ? ", reversed" : "");
	if (v->class_history)
		return "";
	sort_w = widget_width(sort);
	if (sort_w + (int)strlen(long_note) <= room)
		return long_note;
	if (sort_w + (int)strlen(short_note) <= room || v->sort != COL_RANK || v->sort_reversed)
		return short_note;
	sort[0] = '\0';
	return (int)strlen(long_note) - 2 <= room ? long_note + 2 : short_note + 2;
}

static void draw_heading(struct view_live *v, const struct view_ctx *ctx, struct view_rect a)
{
	const struct terminal *term = ctx->term;
	char filter[PROMPT_MAX * 4 + 1], sort[64];
	const char *note;
	int x = a.x;

	widget_fill(a.y, a.x, a.w, term_attr(term, TERM_NORMAL));
	x += widget_printf(term, a.y, x, a.w, term_attr(term, TERM_HEADING), WIDGET_LEFT, "Race %lld ",
			   (long long)v->info.race_id);
	x += widget_untrusted(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_HEADING), WIDGET_LEFT,
			      v->class_name[0] ? v->class_name : "class");
	x += widget_printf(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_LABEL), WIDGET_LEFT,
			   " (class %d)  ", v->info.class_id);
	/* Where am I first, as in the history: it matters most at 80x24. */
	if (v->shown > 0)
		x += widget_printf(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_LABEL),
				   WIDGET_LEFT, "rows %zu-%zu of %zu  ", v->top + 1, rows_last(v),
				   v->shown);
	note = history_note(v, a.x + a.w - x, sort, sizeof(sort));
	x += widget_text(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_LABEL), WIDGET_LEFT, sort);
	if (v->filter.len > 0) {
		prompt_text(&v->filter, filter, sizeof(filter));
		x += widget_text(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_LABEL), WIDGET_LEFT,
				 "  filter: ");
		x += widget_untrusted(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_WARN),
				      WIDGET_LEFT, filter);
		x += widget_printf(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_LABEL),
				   WIDGET_LEFT, " of %zu racers", v->info.racers);
	}
	widget_text(term, a.y, x, a.x + a.w - x, term_attr(term, TERM_DIM), WIDGET_LEFT, note);
}

static void draw_clock(struct view_live *v, const struct view_ctx *ctx, struct view_rect a)
{
	const struct terminal *term = ctx->term;
	int second = v->info.second, duration = v->duration > 0 ? v->duration : 1;
	double fraction = (double)second / duration;
	char label[64];
	int lw, bar;

	snprintf(label, sizeof(label), "second %d of %d ", second, v->duration);
	lw = widget_text(term, a.y, a.x, a.w, term_attr(term, TERM_NORMAL), WIDGET_LEFT, label);
	bar = a.w - lw - 6;
	if (bar > 60)
		bar = 60;
	if (bar < 4)
		return;
	widget_bar(term, a.y, a.x + lw, bar, fraction);
	widget_printf(term, a.y, a.x + lw + bar, 6, term_attr(term, TERM_NORMAL), WIDGET_RIGHT,
		      "%3.0f%%", fraction > 1 ? 100.0 : fraction * 100);
}

static attr_t row_attr(const struct view_live *v, const struct view_ctx *ctx,
		       const struct engine_standing *s, size_t k)
{
	const struct rank_mark *m = mark_find(v, s->racer_id);

	if (v->follow_id && s->racer_id == v->follow_id)
		return term_attr(ctx->term, TERM_FOLLOWED);
	if (!ctx->kiosk && k == v->cursor)
		return term_attr(ctx->term, TERM_SELECTED);
	if (m && m->delta != 0 && ctx->now_ms - m->at_ms < CHANGE_HIGHLIGHT_MS)
		return term_attr(ctx->term, TERM_CHANGED);
	return 0;
}

static void draw_change(const struct view_live *v, const struct view_ctx *ctx, int y, int x,
			const struct widget_column *col, const struct engine_standing *s,
			attr_t row)
{
	const struct rank_mark *m = mark_find(v, s->racer_id);
	const struct terminal *term = ctx->term;
	char text[16] = "";
	attr_t attr = row;

	if (m && m->delta != 0 && ctx->now_ms - m->at_ms < CHANGE_ARROW_MS) {
		int d = m->delta > 0 ? m->delta : -m->delta;
		/* The real number, however big: a race has at most 1000 racers, so
		 * it fits the column. */
		snprintf(text, sizeof(text), "%s%d",
			 m->delta > 0 ? term->glyphs->up : term->glyphs->down, d);
		if (!row)
			attr = term_attr(term, m->delta > 0 ? TERM_RANK_UP : TERM_RANK_DOWN);
	}
	widget_cell(term, y, x, col, attr ? attr : term_attr(term, TERM_NORMAL), text);
}

static void draw_spark(const struct view_live *v, const struct view_ctx *ctx, int y, int x,
		       const struct widget_column *col, const struct engine_standing *s,
		       attr_t row)
{
	double values[ENGINE_SPARK_SECONDS];

	for (int i = 0; i < ENGINE_SPARK_SECONDS; i++)
		values[i] = (double)s->spark[i];
	widget_sparkline(ctx->term, y, x + col->x, col->w, row ? row : term_attr(ctx->term, TERM_SPARK),
			 values, ENGINE_SPARK_SECONDS, (double)v->spark_lo, (double)v->spark_hi);
}

static void draw_row(const struct view_live *v, const struct view_ctx *ctx, int y, int x,
		     const struct widget_column *cols, size_t k)
{
	const struct terminal *term = ctx->term;
	size_t i = v->order[k];
	const struct engine_standing *s = &v->rows[i];
	attr_t row = row_attr(v, ctx, s, k), plain = row ? row : term_attr(term, TERM_NORMAL);
	char text[32], out[NUMFMT_TEXT_MAX];

	widget_fill(y, x, widget_columns_width(cols, COL_COUNT), plain);
	snprintf(text, sizeof(text), "%d", s->rank);
	widget_cell(term, y, x, &cols[COL_RANK], plain, text);
	draw_change(v, ctx, y, x, &cols[COL_CHANGE], s, row);
	widget_cell_untrusted(term, y, x, &cols[COL_NAME], plain, v->names[i]);
	snprintf(text, sizeof(text), "%lld", (long long)s->racer_id);
	widget_cell(term, y, x, &cols[COL_ID], row ? row : term_attr(term, TERM_DIM), text);
	widget_cell(term, y, x, &cols[COL_SCORE], plain, numfmt_output(s->score, out));
	widget_cell(term, y, x, &cols[COL_NOW], plain, numfmt_output(s->output, out));
	widget_cell(term, y, x, &cols[COL_CADENCE], plain, numfmt_tenths(s->cadence, out));
	widget_cell(term, y, x, &cols[COL_RESISTANCE], plain, numfmt_tenths(s->resistance, out));
	widget_cell(term, y, x, &cols[COL_GAP], plain,
		    numfmt_gap(s->rank, s->score, s->gap, term->glyphs->dash, out));
	widget_cell(term, y, x, &cols[COL_MARK], row ? row : term_attr(term, TERM_BEATS_BEST),
		    s->beats_best ? term->glyphs->best : "");
	if (cols[COL_SPARK].w > 0)
		draw_spark(v, ctx, y, x, &cols[COL_SPARK], s, row);
}

/* Scrolls so the cursor (the followed racer when there is one) is in sight. */
static void scroll_to_cursor(struct view_live *v)
{
	size_t page = v->page > 0 ? (size_t)v->page : 1;

	if (v->cursor < v->top)
		v->top = v->cursor;
	else if (v->cursor >= v->top + page)
		v->top = v->cursor - page + 1;
	if (v->shown <= page)
		v->top = 0;
	else if (v->top > v->shown - page)
		v->top = v->shown - page;
}

/* With no live race: when the last one ended, so a quiet screen is not
 * taken for a stuck one, and what comes next. */
static void draw_last_race(struct view_live *v, const struct view_ctx *ctx, int y,
			   struct view_rect a)
{
	const struct terminal *term = ctx->term;
	const char *stored = store_class_name(live_store(ctx->live), v->last.class_id);
	char age[32], name[CLASS_NAME_MAX];

	/* The name is the history's: sanitized before it joins our text. */
	sanitize_text(stored ? stored : "class", name, sizeof(name), 24, term->unicode);
	widget_fmt_age(ctx->now_ms - v->last.ended_ms, age, sizeof(age));
	widget_printf(term, y, a.x, a.w, term_attr(term, TERM_HEADING), WIDGET_CENTER,
		      "no live race now: race %lld, %s (class %d), ended %s ago",
		      (long long)v->last.race_id, name, v->last.class_id, age);
}

static void draw_waiting(struct view_live *v, const struct view_ctx *ctx, struct view_rect a)
{
	const struct terminal *term = ctx->term;
	int y = a.y + a.h / 2 - 1;

	if (v->race_id && v->pinned && !engine_race_ended(live_engine(ctx->live), v->race_id))
		widget_printf(term, y, a.x, a.w, term_attr(term, TERM_HEADING), WIDGET_CENTER,
			      "waiting for race %lld", (long long)v->race_id);
	else if (v->last.race_id)
		draw_last_race(v, ctx, y, a);
	else
		widget_text(term, y, a.x, a.w, term_attr(term, TERM_HEADING), WIDGET_CENTER,
			    "no live race yet");
	widget_text(term, y + 1, a.x, a.w, term_attr(term, TERM_DIM), WIDGET_CENTER,
		    ctx->caught_up ? "the next race shows here as soon as its first "
						"records arrive"
					      : "catching up with the stream");
}

/* The mark on the sorted column: up when the smallest is on top. */
static const char *sort_mark(const struct view_live *v, const struct terminal *term)
{
	return largest_first[v->sort] != v->sort_reversed ? term->glyphs->down : term->glyphs->up;
}

/* What the sparklines draw, as much as the column's width holds: the
 * unit, the seconds shown (one a character) and the scale, "output W,
 * 28 s: 92 to 158" (watts, whole), or "28 s: 92 to 158 W". */
static void spark_title(const struct view_live *v, const struct widget_column *col, char *title,
			size_t size)
{
	int seconds = col->w < ENGINE_SPARK_SECONDS ? col->w : ENGINE_SPARK_SECONDS;
	long long lo = (long long)(v->spark_lo / 10000), hi = (long long)((v->spark_hi + 9999) / 10000);

	snprintf(title, size, "output W, %d s: %lld to %lld", seconds, lo, hi);
	if (widget_width(title) + 1 > col->w)
		snprintf(title, size, "%d s: %lld to %lld W", seconds, lo, hi);
	if (widget_width(title) + 1 > col->w)
		snprintf(title, size, "output W");
}

void view_live_draw(struct view_live *v, const struct view_ctx *ctx, struct view_rect a)
{
	struct widget_column cols[COL_COUNT];
	char spark[64];

	if (v->finishing) {
		view_finish_draw(&v->finish, ctx, a, v->follow_id);
		return;
	}
	if (!v->live) {
		draw_waiting(v, ctx, a);
		return;
	}
	v->page = a.h - 3;
	scroll_to_cursor(v);
	draw_heading(v, ctx, (struct view_rect){ a.y, a.x, 1, a.w });
	draw_clock(v, ctx, (struct view_rect){ a.y + 1, a.x, 1, a.w });
	memcpy(cols, columns, sizeof(cols));
	widget_columns_layout(cols, COL_COUNT, a.w);
	spark_title(v, &cols[COL_SPARK], spark, sizeof(spark));
	cols[COL_SPARK].title = spark;
	widget_columns_head_sorted(ctx->term, a.y + 2, a.x, a.w, cols, COL_COUNT, v->sort,
				   sort_mark(v, ctx->term));
	memcpy(v->cols, cols, sizeof(cols));
	v->cols[COL_SPARK].title = columns[COL_SPARK].title;    /* spark lives on this stack */
	v->first_x = a.x;
	v->first_y = a.y + 3;
	if (v->page < 1)
		return;
	for (int line = 0; line < v->page && v->top + (size_t)line < v->shown; line++)
		draw_row(v, ctx, a.y + 3 + line, a.x, cols, v->top + (size_t)line);
	if (v->shown == 0 && v->filter.len > 0)
		widget_text(ctx->term, a.y + 3, a.x, a.w, term_attr(ctx->term, TERM_DIM), WIDGET_CENTER,
			    "no racer matches the filter");
}

/* ---- keys --------------------------------------------------------------- */

static void cursor_move(struct view_live *v, long delta)
{
	long c = (long)v->cursor + delta;

	/* Moving the cursor by hand lets go of the followed racer, as in htop. */
	v->follow_id = 0;
	v->cursor = c < 0 ? 0 : (size_t)c;
	cursor_clamp(v);
}

static void follow_toggle(struct view_live *v)
{
	int64_t id;

	if (v->shown == 0)
		return;
	id = v->rows[v->order[v->cursor]].racer_id;
	v->follow_id = v->follow_id == id ? 0 : id;
}

/* The next or previous live race, in raceId order. */
static void race_step(struct view_live *v, const struct view_ctx *ctx, int step)
{
	struct engine *e = live_engine(ctx->live);
	size_t n = engine_race_count(e), at = 0;
	struct engine_race_info info;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		engine_race_info(engine_race_at(e, i), &info);
		if (info.race_id == v->race_id)
			at = i;
	}
	at = (at + n + (size_t)(step > 0 ? 1 : n - 1)) % n;
	engine_race_info(engine_race_at(e, at), &info);
	view_live_show_race(v, ctx, info.race_id);
}

/* Sorts by a column; the column sorted by already goes the other way. */
static void sort_by(struct view_live *v, enum live_col col)
{
	v->sort_reversed = col == v->sort ? !v->sort_reversed : false;
	v->sort = col;
	order_build(v);
}

static bool filter_key(struct view_live *v, int key)
{
	switch (prompt_key(&v->filter, key)) {
	case PROMPT_EDITED:
	case PROMPT_CANCELLED:
		v->cursor = v->top = 0;
		order_build(v);
		return true;
	case PROMPT_DONE:
		return true;
	case PROMPT_IGNORED:
		break;
	}
	return true;     /* while typing, every key is the prompt's */
}

bool view_live_key(struct view_live *v, const struct view_ctx *ctx, int key)
{
	long page = v->page > 1 ? v->page - 1 : 1;

	if (v->filter.active)
		return filter_key(v, key);
	switch (key) {
	case TERM_FN(KEY_UP): case 'k': cursor_move(v, -1); return true;
	case TERM_FN(KEY_DOWN): case 'j': cursor_move(v, 1); return true;
	case TERM_FN(KEY_PPAGE): cursor_move(v, -page); return true;
	case TERM_FN(KEY_NPAGE): case ' ': cursor_move(v, page); return true;
	case TERM_FN(KEY_HOME): case 'g': cursor_move(v, -(long)v->shown); return true;
	case TERM_FN(KEY_END): case 'G': cursor_move(v, (long)v->shown); return true;
	case '[': race_step(v, ctx, -1); return true;
	case ']': race_step(v, ctx, 1); return true;
	case 's':
		sort_by(v, (enum live_col)((v->sort + 1) % COL_COUNT));
		return true;
	case 'S':
		sort_by(v, v->sort);
		return true;
	case '/':
		prompt_start(&v->filter);
		return true;
	case TERM_KEY_ESC:
		prompt_clear(&v->filter);
		order_build(v);
		return true;
	default:
		if (TERM_KEY_ENTER(key)) {
			follow_toggle(v);
			return true;
		}
	}
	return false;
}

bool view_live_click(struct view_live *v, int y, int x)
{
	size_t k, col;

	if (v->live && y == v->first_y - 1) {
		col = widget_column_at(v->cols, COL_COUNT, x - v->first_x);
		if (col < COL_COUNT)
			sort_by(v, (enum live_col)col);
		return col < COL_COUNT;
	}
	if (!v->live || !widget_row_at(y, v->first_y, v->page, v->top, v->shown, &k))
		return false;
	v->cursor = k;
	v->follow_id = v->rows[v->order[k]].racer_id;
	return true;
}

/* ---- the rest of the interface ----------------------------------------- */

void view_live_show_race(struct view_live *v, const struct view_ctx *ctx, int64_t race_id)
{
	race_switch(v, race_id, race_id != 0);
	view_live_refresh(v, ctx, false);
}

bool view_live_status(const struct view_live *v, const struct terminal *term, char *text,
		      size_t size)
{
	char name[TELEMETRY_NAME_MAX * 4 + 1];

	if (v->follow_id == 0 || !v->live)
		return false;
	for (size_t i = 0; i < v->count; i++) {
		if (v->rows[i].racer_id != v->follow_id)
			continue;
		/* The name is the stream's: sanitized before it joins our text. */
		sanitize_text(v->names[i], name, sizeof(name), 24, term->unicode);
		snprintf(text, size, "following %s (%lld): rank %d of %zu", name,
			 (long long)v->follow_id, v->rows[i].rank, v->count);
		return true;
	}
	snprintf(text, size, "racer %lld is not in race %lld", (long long)v->follow_id,
		 (long long)v->info.race_id);
	return true;
}

int64_t view_live_finishing(const struct view_live *v)
{
	return v->finishing ? v->finish.race_id : 0;
}

const struct prompt *view_live_prompt(const struct view_live *v)
{
	return v->filter.active ? &v->filter : NULL;
}

size_t view_live_footer(const struct view_live *v, const struct widget_key **keys)
{
	static const struct widget_key watch_keys[] = {
		{ "q", "Quit" }, { "?", "Help" }, { "Tab", "View" }, { "Enter", "Follow" },
		{ "s/S", "Sort" }, { "/", "Filter" }, { "[ ]", "Race" }, { "PgUp/PgDn", "Scroll" },
	};
	static const struct widget_key filter_keys[] = {
		{ "Enter", "Keep filter" }, { "Esc", "Clear filter" },
	};

	if (v->filter.active) {
		*keys = filter_keys;
		return sizeof(filter_keys) / sizeof(filter_keys[0]);
	}
	*keys = watch_keys;
	return sizeof(watch_keys) / sizeof(watch_keys[0]);
}

struct view_live *view_live_new(const struct view_ctx *ctx)
{
	struct view_live *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	v->race_id = ctx->config->race_id;
	v->pinned = v->race_id != 0;
	v->follow_id = ctx->config->racer_id;
	return v;
}

void view_live_free(struct view_live *v)
{
	if (v == NULL)
		return;
	free(v->rows);
	free(v->names);
	free(v->order);
	free(v->marks);
	finish_clear(&v->finish);
	free(v);
}
