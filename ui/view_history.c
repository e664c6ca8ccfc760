#include "config.h"
#include "ui/view_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "race/finish.h"
#include "race/live.h"
#include "race/store.h"
#include "ui/prompt.h"
#include "ui/terminal.h"
#include "ui/widgets.h"
#include "util/numfmt.h"
#include "util/sanitize.h"
#include "wire/telemetry.h"

#define HIST_DEPTH 16                   /* places kept for going back */
#define SEARCH_LIMIT 500                /* racers a search lists */
#define CLASS_NAME_MAX 128

enum hist_mode {
	HIST_LEADERS,                   /* a class leaderboard of personal bests */
	HIST_RACES,                     /* past races, newest first */
	HIST_RACE,                      /* one race's results */
	HIST_RACER,                     /* a racer's bests and races */
	HIST_SEARCH,                    /* racers found by name */
};

/* One screen of the browser. */
struct hist_place {
	enum hist_mode mode;
	int class_id;                   /* LEADERS: 1..6; RACES: 0 for every class */
	int64_t id;                     /* RACE: the raceId; RACER: the racerId */
	size_t first;                   /* the row at the top of the screen */
	size_t cursor;                  /* the selected row */
};

/* A row of any of the tables; strings are copies, untrusted. */
struct hist_row {
	int rank;
	int64_t racer_id, race_id;
	int class_id;
	int64_t score, output, gap;
	double cadence, resistance;
	int second, racers;
	int64_t ended_ms;
	char name[TELEMETRY_NAME_MAX + 1];
};

struct view_history {
	struct hist_place stack[HIST_DEPTH];
	size_t depth;                   /* stack[depth - 1] is shown */

	/* What was read for the place shown. Paged places hold one page
	 * (rows_first is its first row); the others hold every row. */
	struct hist_row *rows;
	size_t count, capacity;
	size_t rows_first;
	bool more;                      /* a paged place has rows past this page */
	bool stale;                     /* read again before drawing */
	bool chosen;                    /* a class was picked: no longer opened on the latest */
	int loaded_page;

	struct store_race_row race;     /* HIST_RACE: the race itself */
	bool race_found;
	struct store_best_row bests[TELEMETRY_CLASS_COUNT];
	size_t best_count;
	char racer_name[TELEMETRY_NAME_MAX + 1];

	struct prompt search;
	char search_text[PROMPT_MAX * 4 + 1];

	char error[256];                /* the store's last failure, "" when fine */
	char class_names[TELEMETRY_CLASS_COUNT + 1][CLASS_NAME_MAX];
	bool class_names_read;
	uint64_t windows;               /* live commits seen: new results may be in */
	int page;                       /* table lines at the last draw */

	/* Where the last draw put what a click can pick: the classes in the
	 * title line (x from, x to; both 0 when not drawn) and the rows. */
	int title_y, class_x[TELEMETRY_CLASS_COUNT + 1], class_end[TELEMETRY_CLASS_COUNT + 1];
	int rows_y;
	int bests_y, bests_shown;       /* a racer's bests: first line, lines drawn */
};

/* ---- places ------------------------------------------------------------- */

static struct hist_place *place(struct view_history *v)
{
	return &v->stack[v->depth - 1];
}

static bool paged(enum hist_mode mode)
{
	return mode == HIST_LEADERS || mode == HIST_RACES || mode == HIST_RACER;
}

static void place_push(struct view_history *v, enum hist_mode mode, int class_id, int64_t id)
{
	if (v->depth == HIST_DEPTH) {
		memmove(v->stack, v->stack + 1, (HIST_DEPTH - 1) * sizeof(v->stack[0]));
		v->depth--;
	}
	v->stack[v->depth++] = (struct hist_place){ .mode = mode, .class_id = class_id, .id = id };
	v->stale = true;
}

static void place_reset(struct view_history *v, enum hist_mode mode, int class_id)
{
	v->depth = 0;
	place_push(v, mode, class_id, 0);
}

static void place_pop(struct view_history *v)
{
	if (v->depth > 1) {
		v->depth--;
		v->stale = true;
	}
}

struct view_history *view_history_new(void)
{
	struct view_history *v = calloc(1, sizeof(*v));

	if (v)
		place_reset(v, HIST_LEADERS, 1);
	return v;
}

void view_history_free(struct view_history *v)
{
	if (v == NULL)
		return;
	free(v->rows);
	free(v);
}

/* ---- reading ------------------------------------------------------------ */

static struct hist_row *row_add(struct view_history *v)
{
	if (v->count == v->capacity) {
		size_t cap = v->capacity ? v->capacity * 2 : 64;
		struct hist_row *grown = realloc(v->rows, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		v->rows = grown;
		v->capacity = cap;
	}
	memset(&v->rows[v->count], 0, sizeof(v->rows[0]));
	return &v->rows[v->count++];
}

static void copy_name(char *out, const char *name)
{
	snprintf(out, TELEMETRY_NAME_MAX + 1, "%s", name ? name : "");
}

static void on_leader(void *user, const struct store_leader_row *row)
{
	struct hist_row *r = row_add(user);

	if (r == NULL)
		return;
	*r = (struct hist_row){ .rank = row->rank, .racer_id = row->racer_id,
				.score = row->score, .race_id = row->race_id };
	copy_name(r->name, row->name);
}

static void on_race_row(void *user, const struct store_race_row *row)
{
	struct hist_row *r = row_add(user);

	if (r == NULL)
		return;
	*r = (struct hist_row){ .race_id = row->race_id, .class_id = row->class_id,
				.racers = row->racers, .ended_ms = row->ended_ms,
				.racer_id = row->winner_id, .score = row->winner_score };
	copy_name(r->name, row->winner_name);
}

static void on_race(void *user, const struct store_race_row *row)
{
	struct view_history *v = user;

	v->race = *row;
	v->race.class_name = NULL;      /* borrowed for the callback only */
	v->race.winner_name = NULL;
	v->race_found = true;
}

static void on_result(void *user, const struct store_result_row *row)
{
	struct hist_row *r = row_add(user);

	if (r == NULL)
		return;
	*r = (struct hist_row){ .rank = row->rank, .racer_id = row->racer_id, .score = row->score,
				.output = row->output, .cadence = row->cadence,
				.resistance = row->resistance, .second = row->second,
				.gap = row->gap };
	copy_name(r->name, row->name);
}

static void on_best(void *user, const struct store_best_row *row)
{
	struct view_history *v = user;

	if (v->best_count < TELEMETRY_CLASS_COUNT)
		v->bests[v->best_count++] = *row;
}

static void on_racer_race(void *user, const struct store_racer_row *row)
{
	struct hist_row *r = row_add(user);

	if (r == NULL)
		return;
	*r = (struct hist_row){ .race_id = row->race_id, .class_id = row->class_id,
				.score = row->score, .rank = row->rank, .racers = row->racers,
				.ended_ms = row->ended_ms };
}

static void on_found(void *user, int64_t racer_id, const char *name)
{
	struct hist_row *r = row_add(user);

	if (r == NULL)
		return;
	r->racer_id = racer_id;
	copy_name(r->name, name);
}

static int load_racer(struct view_history *v, struct store *s, const struct hist_place *p,
		      size_t limit)
{
	char *name = store_racer_name(s, p->id);

	copy_name(v->racer_name, name);
	free(name);
	v->best_count = 0;
	if (store_racer_bests(s, p->id, on_best, v) < 0)
		return -1;
	return store_racer_races(s, p->id, limit, p->first, on_racer_race, v);
}

static int load_place(struct view_history *v, struct store *s, const struct hist_place *p,
		      size_t limit)
{
	switch (p->mode) {
	case HIST_LEADERS:
		return store_class_leaders(s, p->class_id, limit, p->first, on_leader, v);
	case HIST_RACES:
		return store_races(s, p->class_id, limit, p->first, on_race_row, v);
	case HIST_RACE:
		v->race_found = false;
		return store_race(s, p->id, on_race, on_result, v) < 0 ? -1 : 0;
	case HIST_RACER:
		return load_racer(v, s, p, limit);
	case HIST_SEARCH:
		if (v->search_text[0] == '\0')
			return 0;
		return store_search_racers(s, v->search_text, SEARCH_LIMIT, on_found, v);
	}
	return 0;
}

static void class_names_read(struct view_history *v, struct store *store)
{
	if (v->class_names_read)
		return;
	for (int c = 1; c <= TELEMETRY_CLASS_COUNT; c++) {
		const char *name = store_class_name(store, c);
		snprintf(v->class_names[c], sizeof(v->class_names[c]), "%s", name ? name : "");
	}
	v->class_names_read = true;
}

/* Reads the place shown: a page of page + 1 rows for paged places (the
 * extra one tells whether there is a next page). */
static void load(struct view_history *v, const struct view_ctx *ctx)
{
	struct store *s = live_store(ctx->live);
	struct hist_place *p = place(v);
	size_t page = v->page > 0 ? (size_t)v->page : 1;

	class_names_read(v, s);
	v->count = 0;
	v->error[0] = '\0';
	if (load_place(v, s, p, page + 1) < 0) {
		snprintf(v->error, sizeof(v->error), "cannot read the history: %s", store_error(s));
		v->count = 0;
	}
	v->rows_first = paged(p->mode) ? p->first : 0;
	v->more = paged(p->mode) && v->count > page;
	if (v->more)
		v->count = page;
	v->stale = false;
	v->loaded_page = v->page;
	/* A page that came back empty (the history changed): the last one with rows. */
	if (paged(p->mode) && v->count == 0 && p->first > 0 && v->error[0] == '\0') {
		p->first = p->first > page ? p->first - page : 0;
		p->cursor = p->first;
		v->stale = true;
	}
}

/* Until someone picks a class, the history opens on the class of the
 * race that ended last: the one people just watched. */
static void open_on_latest(struct view_history *v, const struct view_ctx *ctx)
{
	struct finish_latest latest;

	if (v->chosen || finish_latest(live_store(ctx->live), &latest) != 0 ||
	    latest.class_id == place(v)->class_id || v->depth != 1 ||
	    place(v)->mode != HIST_LEADERS)
		return;
	place_reset(v, HIST_LEADERS, latest.class_id);
	v->stale = true;
}

void view_history_refresh(struct view_history *v, const struct view_ctx *ctx)
{
	struct live_stats stats;

	open_on_latest(v, ctx);

	live_stats(ctx->live, &stats);
	if (stats.windows != v->windows) {
		v->windows = stats.windows;
		v->stale = true;
	}
}

/* ---- moving ------------------------------------------------------------- */

/* The last row the cursor may reach: on a paged place, the first row of
 * the next page when there is one. */
static size_t cursor_limit(const struct view_history *v, const struct hist_place *p)
{
	size_t end = v->rows_first + v->count;

	if (paged(p->mode) && v->more)
		return end;
	return end > 0 ? end - 1 : 0;
}

/* Brings the cursor's row on screen: a paged place turns the page. */
static void place_fit(struct view_history *v, struct hist_place *p)
{
	size_t page = v->page > 0 ? (size_t)v->page : 1, first = p->first;

	while (p->cursor < first)
		first = first >= page ? first - page : 0;
	while (p->cursor >= first + page)
		first += paged(p->mode) ? page : 1;
	if (first != p->first) {
		p->first = first;
		if (paged(p->mode))
			v->stale = true;
	}
}

static void cursor_move(struct view_history *v, long delta)
{
	struct hist_place *p = place(v);
	long c = (long)p->cursor + delta;
	size_t limit = cursor_limit(v, p);

	p->cursor = c < 0 ? 0 : (size_t)c > limit ? limit : (size_t)c;
	place_fit(v, p);
}

static const struct hist_row *row_at_cursor(const struct view_history *v)
{
	const struct hist_place *p = &v->stack[v->depth - 1];

	if (p->cursor < v->rows_first || p->cursor >= v->rows_first + v->count)
		return NULL;
	return &v->rows[p->cursor - v->rows_first];
}

static void open_row(struct view_history *v)
{
	const struct hist_row *r = row_at_cursor(v);

	if (r == NULL)
		return;
	switch (place(v)->mode) {
	case HIST_LEADERS:
	case HIST_RACE:
	case HIST_SEARCH:
		place_push(v, HIST_RACER, 0, r->racer_id);
		break;
	case HIST_RACES:
	case HIST_RACER:
		place_push(v, HIST_RACE, 0, r->race_id);
		break;
	}
}

static void class_step(struct view_history *v, int step)
{
	struct hist_place *p = place(v);
	int lowest = p->mode == HIST_RACES ? 0 : 1, span = TELEMETRY_CLASS_COUNT + 1 - lowest;

	if (p->mode != HIST_LEADERS && p->mode != HIST_RACES)
		return;
	p->class_id = lowest + ((p->class_id - lowest + step) % span + span) % span;
	p->first = p->cursor = 0;
	v->stale = true;
}

bool view_history_next_class(struct view_history *v, const struct view_ctx *ctx)
{
	int from = place(v)->mode == HIST_LEADERS ? place(v)->class_id : 0;
	int next = finish_next_board(live_store(ctx->live), from);

	v->chosen = true;
	if (next <= 0)
		return false;
	place_reset(v, HIST_LEADERS, next);
	return true;
}

/* ---- drawing ------------------------------------------------------------ */

static const char *class_name(const struct view_history *v, int class_id)
{
	if (class_id < 1 || class_id > TELEMETRY_CLASS_COUNT || !v->class_names[class_id][0])
		return NULL;
	return v->class_names[class_id];
}

static void class_cell(const struct view_history *v, const struct terminal *term, int y, int x,
		       const struct widget_column *col, attr_t attr, int class_id)
{
	const char *name = class_name(v, class_id);
	char text[32];

	if (name) {
		widget_cell_untrusted(term, y, x, col, attr, name);
	} else {
		snprintf(text, sizeof(text), "class %d", class_id);
		widget_cell(term, y, x, col, attr, text);
	}
}

static void format_time(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%m-%d %H:%M", &tm);
}

enum { LEAD_RANK, LEAD_NAME, LEAD_ID, LEAD_SCORE, LEAD_RACE, LEAD_COUNT };
static const struct widget_column leader_columns[LEAD_COUNT] = {
	[LEAD_RANK] = { .title = "#", .width = 6, .right = true },
	[LEAD_NAME] = { .title = "name", .width = 10, .max = 32, .flex = true },
	[LEAD_ID] = { .title = "id", .width = 7, .right = true, .drop = 2 },
	[LEAD_SCORE] = { .title = "score W", .width = 9, .right = true },
	[LEAD_RACE] = { .title = "race", .width = WIDGET_RACE_ID_WIDTH, .right = true, .drop = 1 },
};

enum { RACES_RACE, RACES_ENDED, RACES_CLASS, RACES_RACERS, RACES_WINNER, RACES_SCORE,
       RACES_COUNT };
static const struct widget_column races_columns[RACES_COUNT] = {
	[RACES_RACE] = { .title = "race", .width = WIDGET_RACE_ID_WIDTH, .right = true },
	[RACES_ENDED] = { .title = "ended", .width = 11, .drop = 2 },
	[RACES_CLASS] = { .title = "class", .width = 8, .max = 16, .flex = true, .drop = 1 },
	[RACES_RACERS] = { .title = "racers", .width = 6, .right = true },
	[RACES_WINNER] = { .title = "winner", .width = 10, .max = 32, .flex = true },
	[RACES_SCORE] = { .title = "score W", .width = 9, .right = true },
};

enum { RES_RANK, RES_NAME, RES_ID, RES_SCORE, RES_LAST, RES_CADENCE, RES_RESISTANCE,
       RES_SECOND, RES_GAP, RES_COUNT };
static const struct widget_column result_columns[RES_COUNT] = {
	[RES_RANK] = { .title = "#", .width = 5, .right = true },
	[RES_NAME] = { .title = "name", .width = 10, .max = 28, .flex = true },
	[RES_ID] = { .title = "id", .width = 7, .right = true, .drop = 6 },
	[RES_SCORE] = { .title = "score W", .width = 9, .right = true },
	[RES_LAST] = { .title = "last W", .width = 8, .right = true, .drop = 3 },
	[RES_CADENCE] = { .title = "rpm", .width = 5, .right = true, .drop = 5 },
	[RES_RESISTANCE] = { .title = "res %", .width = 6, .right = true, .drop = 4 },
	[RES_SECOND] = { .title = "second", .width = 6, .right = true, .drop = 2 },
	[RES_GAP] = { .title = "gap W", .width = 9, .right = true, .drop = 1 },
};

enum { BEST_CLASS, BEST_SCORE, BEST_RANK, BEST_RACE, BEST_COUNT };
static const struct widget_column best_columns[BEST_COUNT] = {
	[BEST_CLASS] = { .title = "class", .width = 10, .max = 24, .flex = true },
	[BEST_SCORE] = { .title = "score W", .width = 9, .right = true },
	[BEST_RANK] = { .title = "rank", .width = 7, .right = true },
	[BEST_RACE] = { .title = "in race", .width = WIDGET_RACE_ID_WIDTH, .right = true },
};

enum { RR_RACE, RR_ENDED, RR_CLASS, RR_SCORE, RR_PLACE, RR_COUNT };
static const struct widget_column racer_race_columns[RR_COUNT] = {
	[RR_RACE] = { .title = "race", .width = WIDGET_RACE_ID_WIDTH, .right = true },
	[RR_ENDED] = { .title = "ended", .width = 11, .drop = 1 },
	[RR_CLASS] = { .title = "class", .width = 8, .max = 24, .flex = true },
	[RR_SCORE] = { .title = "score W", .width = 9, .right = true },
	[RR_PLACE] = { .title = "place", .width = 11, .right = true },
};

enum { FOUND_NAME, FOUND_ID, FOUND_COUNT };
static const struct widget_column found_columns[FOUND_COUNT] = {
	[FOUND_NAME] = { .title = "name", .width = 10, .max = 40, .flex = true },
	[FOUND_ID] = { .title = "id", .width = 8, .right = true },
};

static void draw_leader(const struct view_history *v, const struct terminal *term, int y, int x,
			const struct widget_column *c, const struct hist_row *r, attr_t attr)
{
	char text[32], out[NUMFMT_TEXT_MAX];

	(void)v;
	snprintf(text, sizeof(text), "%d", r->rank);
	widget_cell(term, y, x, &c[LEAD_RANK], attr, text);
	widget_cell_untrusted(term, y, x, &c[LEAD_NAME], attr, r->name);
	snprintf(text, sizeof(text), "%lld", (long long)r->racer_id);
	widget_cell(term, y, x, &c[LEAD_ID], attr, text);
	widget_cell(term, y, x, &c[LEAD_SCORE], attr, numfmt_output(r->score, out));
	snprintf(text, sizeof(text), "%lld", (long long)r->race_id);
	widget_cell(term, y, x, &c[LEAD_RACE], attr, text);
}

static void draw_race_row(const struct view_history *v, const struct terminal *term, int y, int x,
			  const struct widget_column *c, const struct hist_row *r, attr_t attr)
{
	char text[32], out[NUMFMT_TEXT_MAX];

	snprintf(text, sizeof(text), "%lld", (long long)r->race_id);
	widget_cell(term, y, x, &c[RACES_RACE], attr, text);
	format_time(r->ended_ms, text, sizeof(text));
	widget_cell(term, y, x, &c[RACES_ENDED], attr, text);
	class_cell(v, term, y, x, &c[RACES_CLASS], attr, r->class_id);
	snprintf(text, sizeof(text), "%d", r->racers);
	widget_cell(term, y, x, &c[RACES_RACERS], attr, text);
	widget_cell_untrusted(term, y, x, &c[RACES_WINNER], attr, r->name);
	widget_cell(term, y, x, &c[RACES_SCORE], attr,
		    r->racer_id ? numfmt_output(r->score, out) : term->glyphs->dash);
}

static void draw_result(const struct view_history *v, const struct terminal *term, int y, int x,
			const struct widget_column *c, const struct hist_row *r, attr_t attr)
{
	char text[48], out[NUMFMT_TEXT_MAX];

	(void)v;
	snprintf(text, sizeof(text), "%d", r->rank);
	widget_cell(term, y, x, &c[RES_RANK], attr, text);
	widget_cell_untrusted(term, y, x, &c[RES_NAME], attr, r->name);
	snprintf(text, sizeof(text), "%lld", (long long)r->racer_id);
	widget_cell(term, y, x, &c[RES_ID], attr, text);
	widget_cell(term, y, x, &c[RES_SCORE], attr, numfmt_output(r->score, out));
	widget_cell(term, y, x, &c[RES_LAST], attr, numfmt_output(r->output, out));
	widget_cell(term, y, x, &c[RES_CADENCE], attr, numfmt_tenths(r->cadence, out));
	widget_cell(term, y, x, &c[RES_RESISTANCE], attr, numfmt_tenths(r->resistance, out));
	snprintf(text, sizeof(text), "%d", r->second);
	widget_cell(term, y, x, &c[RES_SECOND], attr, text);
	widget_cell(term, y, x, &c[RES_GAP], attr,
		    numfmt_gap(r->rank, r->score, r->gap, term->glyphs->dash, out));
}

static void draw_racer_race(const struct view_history *v, const struct terminal *term, int y, int x,
			    const struct widget_column *c, const struct hist_row *r, attr_t attr)
{
	char text[48], out[NUMFMT_TEXT_MAX];

	snprintf(text, sizeof(text), "%lld", (long long)r->race_id);
	widget_cell(term, y, x, &c[RR_RACE], attr, text);
	format_time(r->ended_ms, text, sizeof(text));
	widget_cell(term, y, x, &c[RR_ENDED], attr, text);
	class_cell(v, term, y, x, &c[RR_CLASS], attr, r->class_id);
	widget_cell(term, y, x, &c[RR_SCORE], attr, numfmt_output(r->score, out));
	snprintf(text, sizeof(text), "%d of %d", r->rank, r->racers);
	widget_cell(term, y, x, &c[RR_PLACE], attr, text);
}

static void draw_found(const struct view_history *v, const struct terminal *term, int y, int x,
		       const struct widget_column *c, const struct hist_row *r, attr_t attr)
{
	char text[32];

	(void)v;
	widget_cell_untrusted(term, y, x, &c[FOUND_NAME], attr, r->name);
	snprintf(text, sizeof(text), "%lld", (long long)r->racer_id);
	widget_cell(term, y, x, &c[FOUND_ID], attr, text);
}

typedef void (*row_draw_fn)(const struct view_history *v, const struct terminal *term, int y, int x,
			    const struct widget_column *c, const struct hist_row *r, attr_t attr);

/* A table of the rows from the place's first, the cursor's row selected. */
static void draw_table(struct view_history *v, const struct view_ctx *ctx, struct view_rect a,
		       const struct widget_column *template, size_t ncols, row_draw_fn draw)
{
	const struct terminal *term = ctx->term;
	const struct hist_place *p = place(v);
	struct widget_column cols[16];

	memcpy(cols, template, ncols * sizeof(cols[0]));
	widget_columns_layout(cols, ncols, a.w);
	widget_columns_head(term, a.y, a.x, a.w, cols, ncols);
	v->rows_y = a.y + 1;
	for (int line = 0; line < a.h - 1; line++) {
		size_t at = p->first + (size_t)line;
		attr_t attr;
		if (at < v->rows_first || at >= v->rows_first + v->count)
			break;
		attr = !ctx->kiosk && at == p->cursor ? term_attr(term, TERM_SELECTED)
						      : term_attr(term, TERM_NORMAL);
		widget_fill(a.y + 1 + line, a.x, widget_columns_width(cols, ncols), attr);
		draw(v, term, a.y + 1 + line, a.x, cols, &v->rows[at - v->rows_first], attr);
	}
	if (v->count == 0 && v->error[0] == '\0' && a.h > 1)
		widget_text(term, a.y + 1, a.x, a.w, term_attr(term, TERM_DIM), WIDGET_CENTER,
			    p->mode == HIST_SEARCH && v->search_text[0] == '\0'
				    ? "type a name to search for"
				    : "nothing here yet");
}

/* A class's name in the strip: its name, or its number when short (0:
 * every class, in the list of past races). */
static void class_label(const struct view_history *v, const struct terminal *term, int class_id,
			bool short_form, char *text, size_t size)
{
	char name[CLASS_NAME_MAX];
	const char *given = class_name(v, class_id);

	if (class_id == 0)
		snprintf(text, size, " %s ", short_form ? "all" : "every class");
	else if (short_form || given == NULL)
		snprintf(text, size, " %d ", class_id);
	else {
		sanitize_text(given, name, sizeof(name), 24, term->unicode);
		snprintf(text, size, " %s ", name);
	}
}

static int class_strip_width(const struct view_history *v, const struct terminal *term, int lowest,
			     bool short_form)
{
	char text[CLASS_NAME_MAX + 8];
	int w = 0;

	for (int c = lowest; c <= TELEMETRY_CLASS_COUNT; c++) {
		class_label(v, term, c, short_form, text, sizeof(text));
		w += widget_width(text);
	}
	return w;
}

/* The classes a leaderboard or the list of races can show, at the right
 * of the title line, the one shown marked: a click picks one. Names
 * when they fit, else numbers, else none. */
static void draw_class_strip(struct view_history *v, const struct view_ctx *ctx, struct view_rect a,
			     int from_x)
{
	const struct terminal *term = ctx->term;
	const struct hist_place *p = place(v);
	int lowest = p->mode == HIST_RACES ? 0 : 1, x;
	bool short_form = false;
	char text[CLASS_NAME_MAX + 8];

	if (ctx->kiosk || (p->mode != HIST_LEADERS && p->mode != HIST_RACES))
		return;
	if (class_strip_width(v, term, lowest, false) + 2 > a.x + a.w - from_x)
		short_form = true;
	if (class_strip_width(v, term, lowest, true) + 2 > a.x + a.w - from_x)
		return;
	x = a.x + a.w - class_strip_width(v, term, lowest, short_form);
	for (int c = lowest; c <= TELEMETRY_CLASS_COUNT; c++) {
		class_label(v, term, c, short_form, text, sizeof(text));
		v->class_x[c] = x;
		v->class_end[c] = x + widget_width(text);
		x += widget_text(term, a.y, x, widget_width(text),
				 term_attr(term, c == p->class_id ? TERM_TAB_ACTIVE : TERM_TAB), WIDGET_LEFT,
				 text);
	}
}

static void draw_title(struct view_history *v, const struct view_ctx *ctx, struct view_rect a)
{
	const struct terminal *term = ctx->term;
	const struct hist_place *p = place(v);
	attr_t head = term_attr(term, TERM_HEADING), label = term_attr(term, TERM_LABEL);
	const char *name;
	int x = a.x;

	widget_fill(a.y, a.x, a.w, term_attr(term, TERM_NORMAL));
	v->title_y = a.y;
	memset(v->class_x, 0, sizeof(v->class_x));
	memset(v->class_end, 0, sizeof(v->class_end));
	switch (p->mode) {
	case HIST_LEADERS:
		x += widget_text(term, a.y, x, a.w, head, WIDGET_LEFT, "Personal bests: ");
		name = class_name(v, p->class_id);
		if (name)
			x += widget_untrusted(term, a.y, x, a.x + a.w - x, head, WIDGET_LEFT, name);
		x += widget_printf(term, a.y, x, a.x + a.w - x, label, WIDGET_LEFT, " (class %d of %d)",
				   p->class_id, TELEMETRY_CLASS_COUNT);
		draw_class_strip(v, ctx, a, x);
		break;
	case HIST_RACES:
		x += widget_text(term, a.y, x, a.w, head, WIDGET_LEFT, "Past races: ");
		name = class_name(v, p->class_id);
		if (p->class_id == 0)
			x += widget_text(term, a.y, x, a.x + a.w - x, head, WIDGET_LEFT, "every class");
		else if (name)
			x += widget_untrusted(term, a.y, x, a.x + a.w - x, head, WIDGET_LEFT, name);
		else
			x += widget_printf(term, a.y, x, a.x + a.w - x, head, WIDGET_LEFT, "class %d",
					   p->class_id);
		draw_class_strip(v, ctx, a, x);
		break;
	case HIST_RACE:
		x += widget_printf(term, a.y, x, a.w, head, WIDGET_LEFT, "Race %lld ",
				   (long long)p->id);
		if (!v->race_found) {
			widget_text(term, a.y, x, a.x + a.w - x, label, WIDGET_LEFT, "(not in the history)");
			break;
		}
		name = class_name(v, v->race.class_id);
		if (name)
			x += widget_untrusted(term, a.y, x, a.x + a.w - x, head, WIDGET_LEFT, name);
		widget_printf(term, a.y, x, a.x + a.w - x, label, WIDGET_LEFT,
			      " (class %d)  %d racers", v->race.class_id, v->race.racers);
		break;
	case HIST_RACER:
		x += widget_text(term, a.y, x, a.w, head, WIDGET_LEFT, "Racer ");
		x += widget_untrusted(term, a.y, x, a.x + a.w - x, head, WIDGET_LEFT,
				      v->racer_name[0] ? v->racer_name : "(unknown)");
		widget_printf(term, a.y, x, a.x + a.w - x, label, WIDGET_LEFT, "  id %lld",
			      (long long)p->id);
		break;
	case HIST_SEARCH:
		x += widget_text(term, a.y, x, a.w, head, WIDGET_LEFT, "Racers named like '");
		x += widget_untrusted(term, a.y, x, a.x + a.w - x, head, WIDGET_LEFT, v->search_text);
		widget_printf(term, a.y, x, a.x + a.w - x, head, WIDGET_LEFT, "': %zu%s", v->count,
			      v->count == SEARCH_LIMIT ? " (the first)" : "");
		break;
	}
}

/* Where the rows are: "rows 21-40, more below". */
static void draw_position(struct view_history *v, const struct view_ctx *ctx, struct view_rect a)
{
	const struct hist_place *p = place(v);
	size_t shown = v->count, first = p->first + 1;

	if (v->error[0]) {
		widget_untrusted(ctx->term, a.y, a.x, a.w, term_attr(ctx->term, TERM_ERROR), WIDGET_LEFT,
				 v->error);
		return;
	}
	if (!paged(p->mode))
		shown = v->count > p->first ? v->count - p->first : 0;
	if ((size_t)v->page < shown)
		shown = (size_t)v->page;
	if (shown == 0) {
		widget_fill(a.y, a.x, a.w, term_attr(ctx->term, TERM_NORMAL));
		return;
	}
	widget_printf(ctx->term, a.y, a.x, a.w, term_attr(ctx->term, TERM_DIM), WIDGET_LEFT,
		      "%s %zu-%zu%s", p->mode == HIST_RACER ? "races" : "rows", first,
		      first + shown - 1,
		      (paged(p->mode) ? v->more : p->first + shown < v->count) ? ", more below" : "");
}

static void draw_bests(struct view_history *v, const struct view_ctx *ctx, struct view_rect a)
{
	const struct terminal *term = ctx->term;
	struct widget_column cols[BEST_COUNT];
	attr_t attr = term_attr(term, TERM_NORMAL);
	char text[48], out[NUMFMT_TEXT_MAX];

	memcpy(cols, best_columns, sizeof(cols));
	widget_columns_layout(cols, BEST_COUNT, a.w);
	widget_columns_head(term, a.y, a.x, a.w, cols, BEST_COUNT);
	if (v->best_count == 0)
		widget_text(term, a.y + 1, a.x, a.w, term_attr(term, TERM_DIM), WIDGET_LEFT,
			    "no finished race yet");
	v->bests_y = a.y + 1;
	v->bests_shown = 0;
	for (size_t i = 0; i < v->best_count && (int)i + 1 < a.h; i++, v->bests_shown++) {
		const struct store_best_row *b = &v->bests[i];
		int y = a.y + 1 + (int)i;
		class_cell(v, term, y, a.x, &cols[BEST_CLASS], attr, b->class_id);
		widget_cell(term, y, a.x, &cols[BEST_SCORE], attr, numfmt_output(b->score, out));
		snprintf(text, sizeof(text), "%d", b->rank);
		widget_cell(term, y, a.x, &cols[BEST_RANK], attr, text);
		snprintf(text, sizeof(text), "%lld", (long long)b->race_id);
		widget_cell(term, y, a.x, &cols[BEST_RACE], attr, text);
	}
}

/* The lines the racer profile's bests take, heading included. */
static int bests_height(const struct view_history *v)
{
	return 1 + (v->best_count ? (int)v->best_count : 1) + 1;
}

/* Table lines for the place: what is left under the title, the position
 * line, the table head and (for a racer) the bests. */
static int page_for(struct view_history *v, struct view_rect a)
{
	int page = a.h - 3;

	if (place(v)->mode == HIST_RACER)
		page -= bests_height(v);
	return page < 1 ? 1 : page;
}

/* Reads what the screen shows when it is not what was read: the place
 * changed, the page turned (place_fit) or came back empty, or the screen
 * holds another number of lines. */
static void sync(struct view_history *v, const struct view_ctx *ctx)
{
	struct hist_place *p = place(v);

	for (int tries = 0; tries < 3 && (v->stale || v->page != v->loaded_page); tries++) {
		place_fit(v, p);
		load(v, ctx);
	}
}

void view_history_draw(struct view_history *v, const struct view_ctx *ctx, struct view_rect a)
{
	struct hist_place *p = place(v);
	struct view_rect table = { a.y + 2, a.x, a.h - 2, a.w };

	v->page = page_for(v, a);
	sync(v, ctx);
	/* A racer's bests, just read, decide how many races fit. */
	if (page_for(v, a) != v->page) {
		v->page = page_for(v, a);
		sync(v, ctx);
	}
	draw_title(v, ctx, a);
	draw_position(v, ctx, (struct view_rect){ a.y + 1, a.x, 1, a.w });
	switch (p->mode) {
	case HIST_LEADERS:
		draw_table(v, ctx, table, leader_columns, LEAD_COUNT, draw_leader);
		break;
	case HIST_RACES:
		draw_table(v, ctx, table, races_columns, RACES_COUNT, draw_race_row);
		break;
	case HIST_RACE:
		draw_table(v, ctx, table, result_columns, RES_COUNT, draw_result);
		break;
	case HIST_RACER:
		draw_bests(v, ctx, (struct view_rect){ table.y, a.x, bests_height(v), a.w });
		table.y += bests_height(v);
		table.h -= bests_height(v);
		draw_table(v, ctx, table, racer_race_columns, RR_COUNT, draw_racer_race);
		break;
	case HIST_SEARCH:
		draw_table(v, ctx, table, found_columns, FOUND_COUNT, draw_found);
		break;
	}
}

/* ---- keys --------------------------------------------------------------- */

static void search_run(struct view_history *v)
{
	struct hist_place *p = place(v);

	prompt_text(&v->search, v->search_text, sizeof(v->search_text));
	if (p->mode != HIST_SEARCH)
		place_push(v, HIST_SEARCH, 0, 0);
	p = place(v);
	p->first = p->cursor = 0;
	v->stale = true;
}

static bool search_key(struct view_history *v, int key)
{
	switch (prompt_key(&v->search, key)) {
	case PROMPT_EDITED:
		search_run(v);
		break;
	case PROMPT_CANCELLED:
		if (place(v)->mode == HIST_SEARCH)
			place_pop(v);
		break;
	case PROMPT_DONE:
	case PROMPT_IGNORED:
		break;
	}
	return true;    /* while typing, every key is the prompt's */
}

static bool history_key(struct view_history *v, int key)
{
	long page = v->page > 1 ? v->page : 1;

	switch (key) {
	case TERM_FN(KEY_UP): case 'k': cursor_move(v, -1); return true;
	case TERM_FN(KEY_DOWN): case 'j': cursor_move(v, 1); return true;
	case TERM_FN(KEY_PPAGE): cursor_move(v, -page); return true;
	case TERM_FN(KEY_NPAGE): case ' ': cursor_move(v, page); return true;
	case TERM_FN(KEY_HOME): case 'g':
		place(v)->cursor = 0;
		place_fit(v, place(v));
		return true;
	case TERM_FN(KEY_LEFT): class_step(v, -1); return true;
	case TERM_FN(KEY_RIGHT): class_step(v, 1); return true;
	case 'l': place_reset(v, HIST_LEADERS, 1); return true;
	case 'r': place_reset(v, HIST_RACES, 0); return true;
	case '/':
		prompt_clear(&v->search);
		prompt_start(&v->search);
		return true;
	case TERM_KEY_ESC: place_pop(v); return true;
	default:
		if (TERM_KEY_BACKSPACE(key)) {
			place_pop(v);
			return true;
		}
		if (TERM_KEY_ENTER(key)) {
			open_row(v);
			return true;
		}
	}
	return false;
}

bool view_history_key(struct view_history *v, const struct view_ctx *ctx, int key)
{
	bool handled;

	v->chosen = true;
	if (v->search.active)
		handled = search_key(v, key);
	else
		handled = history_key(v, key);
	/* Keys come in bursts between redraws: each must see the page the
	 * one before turned to. */
	if (handled && v->page > 0)
		sync(v, ctx);
	return handled;
}

/* A click on a racer's best opens the race it was set in. */
static bool click_best(struct view_history *v, int y)
{
	if (place(v)->mode != HIST_RACER || y < v->bests_y || y >= v->bests_y + v->bests_shown)
		return false;
	place_push(v, HIST_RACE, 0, v->bests[y - v->bests_y].race_id);
	return true;
}

/* A click on a class in the title line shows it; on a row, opens it as
 * Enter does, and on a racer's best, its race. */
bool view_history_click(struct view_history *v, const struct view_ctx *ctx, int y, int x)
{
	struct hist_place *p = place(v);
	size_t k;

	if (v->search.active)
		return false;
	v->chosen = true;
	if (y == v->title_y) {
		for (int c = 0; c <= TELEMETRY_CLASS_COUNT; c++)
			if (x >= v->class_x[c] && x < v->class_end[c]) {
				class_step(v, c - p->class_id);
				sync(v, ctx);
				return true;
			}
		return false;
	}
	if (click_best(v, y)) {
		sync(v, ctx);
		return true;
	}
	if (!widget_row_at(y, v->rows_y, v->page, p->first, v->rows_first + v->count, &k) ||
	    k < v->rows_first)
		return false;
	p->cursor = k;
	open_row(v);
	sync(v, ctx);
	return true;
}

const struct prompt *view_history_prompt(const struct view_history *v)
{
	return v->search.active ? &v->search : NULL;
}

size_t view_history_footer(const struct view_history *v, const struct widget_key **keys)
{
	static const struct widget_key history_keys[] = {
		{ "q", "Quit" }, { "?", "Help" }, { "Tab", "View" }, { "Enter", "Open" },
		{ "Bksp", "Back" }, { "Left/Right", "Class" }, { "l", "Bests" }, { "r", "Races" },
		{ "/", "Search" }, { "PgUp/PgDn", "Page" },
	};
	static const struct widget_key search_keys[] = {
		{ "Enter", "Done" }, { "Esc", "Cancel" },
	};

	if (v->search.active) {
		*keys = search_keys;
		return sizeof(search_keys) / sizeof(search_keys[0]);
	}
	*keys = history_keys;
	return sizeof(history_keys) / sizeof(history_keys[0]);
}
