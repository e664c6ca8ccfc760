/* The dashboard's loop: poll the consumer, read keys, and redraw from
 * dirty flags at most once a pass, reading the model once a period. */
#include "config.h"
#include "ui/dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/consumer.h"
#include "race/engine.h"
#include "race/finish.h"
#include "race/live.h"
#include "ui/logring.h"
#include "ui/prompt.h"
#include "ui/terminal.h"
#include "ui/view.h"
#include "ui/view_help.h"
#include "ui/view_history.h"
#include "ui/view_live.h"
#include "ui/view_monitor.h"
#include "ui/view_races.h"
#include "ui/widgets.h"
#include "util/clock.h"
#include "util/errtext.h"
#include "util/sanitize.h"

#define POLL_MS 50                      /* the consumer is polled this often */
#define MIN_COLS 60
#define MIN_LINES 15
#define FULL_REDRAW_MS 60000            /* kiosk: repaint every cell this often */
#define STATUS_LOG_MS 30000             /* a log message stays in the status line this long */

enum dash_view {
	DASH_LIVE,
	DASH_RACES,
	DASH_HISTORY,
	DASH_MONITOR,
	DASH_HELP,
	DASH_VIEW_COUNT,
};

static const char *const view_names[DASH_VIEW_COUNT] = {
	"Live", "Races", "History", "Monitor", "Help",
};

/* What the kiosk shows in turn. */
static const enum dash_view kiosk_views[] = { DASH_RACES, DASH_LIVE, DASH_HISTORY, DASH_MONITOR };
#define KIOSK_VIEW_COUNT (sizeof(kiosk_views) / sizeof(kiosk_views[0]))

/* What the screen shows depends on: when none of it changed, a redraw
 * would draw the same screen. */
struct model_mark {
	uint64_t applied, duplicates, late, rejected, bad, windows, commit_failures;
	uint64_t reconnects, events, log_serial;
	int64_t second;                 /* the clock in the top bar */
	enum consumer_state state;
};

struct dashboard {
	struct view_ctx ctx;
	struct terminal term;
	struct logring *log;
	struct view_live *live_view;
	struct view_races *races_view;
	struct view_history *history_view;
	struct view_monitor *monitor_view;
	struct view_help *help_view;

	enum dash_view view, before_help;
	bool dirty;                     /* draw at the end of this pass */
	bool quit;
	int64_t period_ms;              /* the model is read this often */
	int64_t next_tick_ms;           /* monotonic */
	struct model_mark mark;         /* the model at the last reading */
	struct consumer_stats consumer; /* at the last reading: header and banner */

	int tab_x[DASH_VIEW_COUNT], tab_end[DASH_VIEW_COUNT];   /* the tabs at the last draw */

	size_t kiosk_step;
	int64_t kiosk_finish_id;        /* the last finish the kiosk stopped for */
	int64_t next_rotate_ms, next_full_ms;
};

/* ---- reading the model --------------------------------------------------- */

static void model_mark(struct dashboard *d, struct model_mark *m)
{
	struct live_stats s;

	live_stats(d->ctx.live, &s);
	memset(m, 0, sizeof(*m));      /* padding too: marks are compared with memcmp */
	m->applied = s.applied;
	m->duplicates = s.duplicates;
	m->late = s.late;
	m->rejected = s.rejected;
	m->bad = s.bad;
	m->windows = s.windows;
	m->commit_failures = s.commit_failures;
	m->reconnects = d->consumer.reconnects;
	m->events = d->consumer.events;
	m->log_serial = logring_serial(d->log);
	m->second = d->ctx.now_ms / 1000;
	m->state = d->consumer.state;
}

/* Reads what the view shown needs. tick: a period has passed (rank
 * changes are taken and the engine's tick marks the next ones). */
static void view_refresh(struct dashboard *d, bool tick)
{
	switch (d->view) {
	case DASH_LIVE: view_live_refresh(d->live_view, &d->ctx, tick); break;
	case DASH_RACES: view_races_refresh(d->races_view, &d->ctx); break;
	case DASH_HISTORY: view_history_refresh(d->history_view, &d->ctx); break;
	case DASH_MONITOR: view_monitor_refresh(d->monitor_view, &d->ctx); break;
	case DASH_HELP: break;
	case DASH_VIEW_COUNT: break;
	}
}

/* Caught up as a person means it: every shard has been 0 ms behind since
 * the start. (live_caught_up also wants no batch in flight, which a busy
 * stream hardly ever allows at the moment of asking.) */
static bool shards_caught_up(const struct consumer_stats *c)
{
	for (size_t i = 0; i < c->shard_count; i++)
		if (!c->shards[i].caught_up)
			return false;
	return c->shard_count > 0;
}

static void tick(struct dashboard *d)
{
	struct model_mark mark;

	consumer_stats(live_consumer(d->ctx.live), &d->consumer);
	d->ctx.caught_up = shards_caught_up(&d->consumer);
	model_mark(d, &mark);
	/* Work out if a redraw is actually needed (the monitor's numbers come
	 * from another thread: they always may have changed). */
	if (memcmp(&mark, &d->mark, sizeof(mark)) == 0 && d->view != DASH_MONITOR)
		return;
	d->mark = mark;
	view_refresh(d, true);
	engine_tick(live_engine(d->ctx.live));
	d->dirty = true;
}

static void view_show(struct dashboard *d, enum dash_view view)
{
	if (view != DASH_HELP)
		d->before_help = view;
	d->view = view;
	view_refresh(d, false);
	d->dirty = true;
}

/* ---- drawing ------------------------------------------------------------ */

static void draw_too_small(struct dashboard *d)
{
	const struct terminal *term = &d->term;
	int y = LINES / 2 - 1;

	widget_printf(term, y < 0 ? 0 : y, 0, COLS, term_attr(term, TERM_ERROR), WIDGET_CENTER,
		      "terminal too small: need %dx%d", MIN_COLS, MIN_LINES);
	widget_printf(term, y + 1, 0, COLS, term_attr(term, TERM_DIM), WIDGET_CENTER, "now %dx%d%s",
		      COLS, LINES, d->ctx.kiosk ? "" : ", q quits");
}

static bool connecting(const struct consumer_stats *c)
{
	return c->state == CONSUMER_CONNECTING || c->state == CONSUMER_RECONNECTING;
}

/* The right side of the top bar at a level of detail, richest (0) to
 * barest (TITLE_STATE_LEVELS - 1). While streaming the endpoint goes
 * first when room is short, then the clock; while not, the endpoint is
 * what a person needs to see, so the stream and the clock go first. */
#define TITLE_STATE_LEVELS 5
#define TITLE_STATE_WANTED 2            /* the level the tabs make room for */

static void title_state_text(const struct dashboard *d, int level, char *text, size_t size)
{
	const struct terminal *term = &d->term;
	const struct dashboard_config *cfg = d->ctx.config;
	char stream[96], endpoint[160], clock[16];
	bool streaming = d->consumer.state == CONSUMER_STREAMING;
	const char *state = streaming ? "streaming"
			    : d->consumer.state == CONSUMER_STOPPED ? "stopped" : "connecting";
	const char *mark = streaming ? term->glyphs->state_ok : term->glyphs->state_bad;
	const char *where = streaming ? stream : endpoint;
	time_t now = (time_t)(d->ctx.now_ms / 1000);
	struct tm tm;

	sanitize_text(cfg->stream ? cfg->stream : "", stream, sizeof(stream), 32, term->unicode);
	sanitize_text(cfg->endpoint ? cfg->endpoint : "", endpoint, sizeof(endpoint), 48,
		      term->unicode);
	clock[0] = '\0';
	if (localtime_r(&now, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	switch (level) {
	case 0: snprintf(text, size, "%s %s  %s @ %s  %s ", mark, state, stream, endpoint, clock); break;
	case 1: snprintf(text, size, "%s %s  %s  %s ", mark, state, where, clock); break;
	case 2: snprintf(text, size, "%s %s  %s ", mark, state, where); break;
	case 3: snprintf(text, size, "%s %s ", mark, state); break;
	default: snprintf(text, size, "%s ", mark); break;
	}
}

static int title_state_width(const struct dashboard *d, int level)
{
	char text[320];

	title_state_text(d, level, text, sizeof(text));
	return widget_width(text);
}

/* The right side of the top bar, as much of it as fits in room. */
static void draw_title_state(struct dashboard *d, int room)
{
	const struct terminal *term = &d->term;
	char text[320];

	for (int level = 0; level < TITLE_STATE_LEVELS; level++) {
		title_state_text(d, level, text, sizeof(text));
		if (widget_width(text) <= room) {
			widget_text(term, 0, COLS - widget_width(text), widget_width(text),
				    term_attr(term, d->consumer.state == CONSUMER_STREAMING ? TERM_TITLE
											: TERM_TAB),
				    WIDGET_LEFT, text);
			return;
		}
	}
}

/* A view's tab: " 1 Live ", or " 1 " when compact (only the view shown
 * keeps its name), or " Live " in the kiosk, which takes no keys. */
static void tab_text(const struct dashboard *d, int v, bool compact, char *tab, size_t size)
{
	if (d->ctx.kiosk)
		snprintf(tab, size, " %s ", view_names[v]);
	else if (compact && (enum dash_view)v != d->view)
		snprintf(tab, size, " %d ", v + 1);
	else
		snprintf(tab, size, " %d %s ", v + 1, view_names[v]);
}

static int tabs_width(const struct dashboard *d, bool compact)
{
	char tab[32];
	int w = 0;

	for (int v = 0; v < DASH_VIEW_COUNT; v++) {
		if (d->ctx.kiosk && v == DASH_HELP)
			continue;
		tab_text(d, v, compact, tab, sizeof(tab));
		w += widget_width(tab);
	}
	return w;
}

static int draw_tabs(struct dashboard *d, int x, bool compact)
{
	const struct terminal *term = &d->term;
	char tab[32];

	for (int v = 0; v < DASH_VIEW_COUNT; v++)
		d->tab_x[v] = d->tab_end[v] = 0;
	for (int v = 0; v < DASH_VIEW_COUNT; v++) {
		if (d->ctx.kiosk && v == DASH_HELP)
			continue;
		tab_text(d, v, compact, tab, sizeof(tab));
		if (x + widget_width(tab) > COLS)
			break;
		d->tab_x[v] = x;
		d->tab_end[v] = x + widget_width(tab);
		x += widget_text(term, 0, x, widget_width(tab),
				 term_attr(term, (enum dash_view)v == d->view ? TERM_TAB_ACTIVE : TERM_TAB),
				 WIDGET_LEFT, tab);
	}
	return x;
}

#define TITLE_BANNER_MIN 8              /* a banner narrower than this says nothing */

/* The top bar: the program, a banner in what room the tabs and the state
 * leave it, the views' tabs (compact when the full ones would crowd the
 * state out) and the state. */
static void draw_title(struct dashboard *d)
{
	const struct terminal *term = &d->term;
	const struct dashboard_config *cfg = d->ctx.config;
	char name[64];
	bool compact;
	int x = 0, banner_room, want;

	widget_fill(0, 0, COLS, term_attr(term, TERM_TITLE));
	snprintf(name, sizeof(name), " alleycat %s ",
		 cfg->banner ? "" : d->ctx.kiosk ? "kiosk" : "watch");
	x += widget_text(term, 0, x, COLS, term_attr(term, TERM_TITLE), WIDGET_LEFT, name);
	want = title_state_width(d, TITLE_STATE_WANTED) + 1;
	compact = x + tabs_width(d, false) + want > COLS;
	banner_room = COLS - x - tabs_width(d, compact) - want;
	if (cfg->banner && banner_room >= TITLE_BANNER_MIN) {
		char banner[256];
		sanitize_text(cfg->banner, banner, sizeof(banner), 120, term->unicode);
		if (widget_width(banner) < banner_room)
			banner_room = widget_width(banner);
		x += widget_text(term, 0, x, banner_room, term_attr(term, TERM_TITLE), WIDGET_LEFT,
				 banner);
		x += widget_text(term, 0, x, 1, term_attr(term, TERM_TITLE), WIDGET_LEFT, " ");
	}
	x = draw_tabs(d, x, compact);
	draw_title_state(d, COLS - x - 1);
}

static void draw_banner(struct dashboard *d, int y)
{
	const struct terminal *term = &d->term;
	attr_t attr = term_attr(term, TERM_BANNER);
	bool first = d->consumer.reconnects == 0 && d->consumer.state == CONSUMER_CONNECTING;
	int x;

	widget_fill(y, 0, COLS, attr);
	x = 1 + widget_printf(term, y, 1, COLS - 1, attr, WIDGET_LEFT, "%s to the hub%s",
			      first ? "connecting" : "reconnecting", term->glyphs->ellipsis);
	/* What went wrong, from the consumer: the hub's words, so untrusted. */
	if (d->consumer.status[0] && x + 4 < COLS) {
		x += widget_text(term, y, x, 2, attr, WIDGET_LEFT, " (");
		x += widget_untrusted(term, y, x, COLS - x - 1, attr, WIDGET_LEFT, d->consumer.status);
		widget_text(term, y, x, 1, attr, WIDGET_LEFT, ")");
	}
}

static const struct prompt *view_prompt(struct dashboard *d)
{
	if (d->view == DASH_LIVE)
		return view_live_prompt(d->live_view);
	if (d->view == DASH_HISTORY)
		return view_history_prompt(d->history_view);
	return NULL;
}

static void draw_prompt(struct dashboard *d, const struct prompt *p, int y)
{
	const struct terminal *term = &d->term;
	char text[PROMPT_MAX * 4 + 1];
	int x;

	prompt_text(p, text, sizeof(text));
	widget_fill(y, 0, COLS, term_attr(term, TERM_PROMPT));
	x = widget_text(term, y, 0, COLS, term_attr(term, TERM_PROMPT), WIDGET_LEFT,
			d->view == DASH_LIVE ? "filter: " : "search: ");
	x += widget_untrusted(term, y, x, COLS - x - 1, term_attr(term, TERM_PROMPT), WIDGET_LEFT, text);
	widget_text(term, y, x, 1, term_attr(term, TERM_PROMPT) | A_REVERSE, WIDGET_LEFT, " ");
}

/* The newest log message while it is fresh, and how many more fresh ones
 * the monitor lists ("warning (2 more in Monitor): ..."): several arrive
 * at once when the dashboard opens (the config file's, held while the
 * screen was not up). False when there is none. */
static bool draw_status_log(struct dashboard *d, int y)
{
	const struct terminal *term = &d->term;
	struct logring_entry e[LOGRING_SIZE];
	size_t n = logring_newest(d->log, e, LOGRING_SIZE), others = 0;
	char more[48] = "";
	int x;

	if (n == 0 || d->ctx.now_ms - e[0].at_ms >= STATUS_LOG_MS)
		return false;
	/* The newest may be the count of an older one's repeats ("TEXT
	 * (repeated N times)"): that one is not news. */
	for (size_t i = 1; i < n && d->ctx.now_ms - e[i].at_ms < STATUS_LOG_MS; i++)
		if (strncmp(e[0].text, e[i].text, strlen(e[i].text)) != 0)
			others++;
	if (others > 0)
		snprintf(more, sizeof(more), " (%zu more in Monitor)", others);
	x = widget_printf(term, y, 0, COLS,
			  term_attr(term, e[0].level == LOG_ERROR ? TERM_ERROR : TERM_WARN), WIDGET_LEFT,
			  "%s%s: ", e[0].level == LOG_ERROR ? "error" : "warning", more);
	widget_untrusted(term, y, x, COLS - x, term_attr(term, TERM_NORMAL), WIDGET_LEFT, e[0].text);
	return true;
}

/* The line above the footer: the prompt being typed, else the newest log
 * message while it is fresh, else how the consumer is doing. */
static void draw_status(struct dashboard *d, int y)
{
	const struct terminal *term = &d->term;
	const struct prompt *p = view_prompt(d);
	struct live_stats s;
	char age[32], applied[16], duplicates[16], note[160];
	int at = 0;

	if (p) {
		draw_prompt(d, p, y);
		return;
	}
	if (draw_status_log(d, y))
		return;
	live_stats(d->ctx.live, &s);
	if (s.store_error[0]) {
		int x = widget_text(term, y, 0, COLS, term_attr(term, TERM_ERROR), WIDGET_LEFT,
				    "history: ");
		widget_untrusted(term, y, x, COLS - x, term_attr(term, TERM_ERROR), WIDGET_LEFT,
				 s.store_error);
		return;
	}
	widget_fmt_count(s.applied, applied, sizeof(applied));
	widget_fmt_count(s.duplicates, duplicates, sizeof(duplicates));
	if (s.last_commit_ms > 0)
		widget_fmt_age(d->ctx.now_ms - s.last_commit_ms, age, sizeof(age));
	/* Who is followed comes first: it is what the person asked for. */
	if (d->view == DASH_LIVE && view_live_status(d->live_view, term, note, sizeof(note)))
		at = widget_printf(term, y, 0, COLS, term_attr(term, TERM_LABEL), WIDGET_LEFT,
				   "%s  ", note);
	widget_printf(term, y, at, COLS - at, term_attr(term, TERM_DIM), WIDGET_LEFT,
		      "%s%s records, %s duplicates, %s%s%s", d->ctx.caught_up ? "" : "catching up: ",
		      applied, duplicates, s.last_commit_ms > 0 ? "saved " : "not saved yet",
		      s.last_commit_ms > 0 ? age : "", s.last_commit_ms > 0 ? " ago" : "");
}

static void draw_footer(struct dashboard *d, int y)
{
	const struct terminal *term = &d->term;
	const struct widget_key *keys = NULL;
	size_t n = 0;

	if (d->ctx.kiosk) {
		int64_t left = d->next_rotate_ms - (int64_t)clock_mono_ms();
		widget_printf(term, y, 0, COLS, term_attr(term, TERM_DIM), WIDGET_LEFT,
			      " kiosk: %s; the next view in %lld s", view_names[d->view],
			      (long long)(left > 0 ? (left + 999) / 1000 : 0));
		return;
	}
	switch (d->view) {
	case DASH_LIVE: n = view_live_footer(d->live_view, &keys); break;
	case DASH_RACES: n = view_races_footer(d->races_view, &keys); break;
	case DASH_HISTORY: n = view_history_footer(d->history_view, &keys); break;
	case DASH_MONITOR: n = view_monitor_footer(d->monitor_view, &keys); break;
	case DASH_HELP: n = view_help_footer(d->help_view, &keys); break;
	case DASH_VIEW_COUNT: break;
	}
	widget_footer(term, y, COLS, keys, n);
}

static void draw_view(struct dashboard *d, struct view_rect a)
{
	switch (d->view) {
	case DASH_LIVE: view_live_draw(d->live_view, &d->ctx, a); break;
	case DASH_RACES: view_races_draw(d->races_view, &d->ctx, a); break;
	case DASH_HISTORY: view_history_draw(d->history_view, &d->ctx, a); break;
	case DASH_MONITOR: view_monitor_draw(d->monitor_view, &d->ctx, a); break;
	case DASH_HELP: view_help_draw(d->help_view, &d->ctx, a); break;
	case DASH_VIEW_COUNT: break;
	}
}

/* One frame: everything drawn into stdscr, then one update of the
 * terminal, so nothing flickers. */
static void draw(struct dashboard *d)
{
	int top = 1;

	erase();
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		draw_too_small(d);
	} else {
		draw_title(d);
		if (connecting(&d->consumer))
			draw_banner(d, top++);
		draw_view(d, (struct view_rect){ top, 0, LINES - 2 - top, COLS });
		draw_status(d, LINES - 2);
		draw_footer(d, LINES - 1);
	}
	term_flush(&d->term);
	d->dirty = false;
}

/* ---- keys --------------------------------------------------------------- */

/* The race picked in the races view, shown live. */
static void race_open(struct dashboard *d, int64_t race_id)
{
	if (race_id == 0)
		return;
	view_live_show_race(d->live_view, &d->ctx, race_id);
	view_show(d, DASH_LIVE);
}

static bool view_key(struct dashboard *d, int key)
{
	int64_t open = 0;

	switch (d->view) {
	case DASH_LIVE: return view_live_key(d->live_view, &d->ctx, key);
	case DASH_RACES:
		if (!view_races_key(d->races_view, &d->ctx, key, &open))
			return false;
		race_open(d, open);
		return true;
	case DASH_HISTORY: return view_history_key(d->history_view, &d->ctx, key);
	case DASH_MONITOR: return view_monitor_key(d->monitor_view, key);
	case DASH_HELP: return view_help_key(d->help_view, key);
	case DASH_VIEW_COUNT: break;
	}
	return false;
}

static void help_toggle(struct dashboard *d)
{
	view_show(d, d->view == DASH_HELP ? d->before_help : DASH_HELP);
}

/* Keys that mean the same in every view. */
static bool global_key(struct dashboard *d, int key)
{
	enum dash_view from = d->view == DASH_HELP ? d->before_help : d->view;

	switch (key) {
	case 'q':
		d->quit = true;
		return true;
	case '?': case TERM_FN(KEY_F(1)): case '5':
		help_toggle(d);
		return true;
	case '\t':
		view_show(d, (enum dash_view)((from + 1) % DASH_HELP));
		return true;
	case TERM_FN(KEY_BTAB):
		view_show(d, (enum dash_view)((from + DASH_HELP - 1) % DASH_HELP));
		return true;
	case '1': case '2': case '3': case '4':
		view_show(d, (enum dash_view)(key - '1'));
		return true;
	case 12:        /* Ctrl-L: repaint a garbled screen */
		term_force_redraw(&d->term);
		d->dirty = true;
		return true;
	}
	return false;
}

/* ---- the mouse ---------------------------------------------------------- */

#define WHEEL_LINES 3                   /* a notch of the wheel moves this many lines */

static bool click_tab(struct dashboard *d, int x)
{
	for (int v = 0; v < DASH_VIEW_COUNT; v++)
		if (x >= d->tab_x[v] && x < d->tab_end[v]) {
			view_show(d, (enum dash_view)v);
			return true;
		}
	return false;
}

static bool click_view(struct dashboard *d, int y, int x)
{
	int64_t open = 0;

	switch (d->view) {
	case DASH_LIVE: return view_live_click(d->live_view, y, x);
	case DASH_RACES:
		if (!view_races_click(d->races_view, y, &open))
			return false;
		race_open(d, open);
		return true;
	case DASH_HISTORY: return view_history_click(d->history_view, &d->ctx, y, x);
	default: return false;
	}
}

/* A click on a tab shows its view, on a row picks it; the wheel moves
 * as the arrow keys do. Not while a search is typed. */
static void handle_mouse(struct dashboard *d)
{
	struct term_mouse m = term_mouse_read();
	int key = m.kind == TERM_MOUSE_WHEEL_UP ? TERM_FN(KEY_UP) : TERM_FN(KEY_DOWN);

	if (view_prompt(d) || COLS < MIN_COLS || LINES < MIN_LINES)
		return;
	switch (m.kind) {
	case TERM_MOUSE_CLICK:
		if (m.y == 0 ? click_tab(d, m.x) : click_view(d, m.y, m.x))
			d->dirty = true;
		break;
	case TERM_MOUSE_WHEEL_UP:
	case TERM_MOUSE_WHEEL_DOWN:
		for (int i = 0; i < WHEEL_LINES; i++)
			d->dirty |= view_key(d, key);
		break;
	case TERM_MOUSE_NONE:
		break;
	}
}

static void handle_key(struct dashboard *d, int key)
{
	if (key == TERM_FN(KEY_RESIZE)) {
		d->dirty = true;
		return;
	}
	/* The kiosk takes the mouse's reports so none reads as keys, and
	 * does nothing with them. */
	if (key == TERM_FN(KEY_MOUSE)) {
		if (!d->ctx.kiosk)
			handle_mouse(d);
		else
			term_mouse_read();
		return;
	}
	if (d->ctx.kiosk) {
		/* Read-only: only the unlock key does anything. */
		if (d->ctx.config->unlock_key && key == d->ctx.config->unlock_key)
			d->quit = true;
		return;
	}
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		d->quit = key == 'q';
		return;
	}
	/* A view typing a search gets every key. */
	if (view_prompt(d)) {
		view_key(d, key);
		d->dirty = true;
		return;
	}
	if (d->view == DASH_HELP && key == TERM_KEY_ESC) {
		help_toggle(d);
		return;
	}
	if (view_key(d, key) || global_key(d, key))
		d->dirty = true;
}

/* ---- kiosk -------------------------------------------------------------- */

static void kiosk_rotate(struct dashboard *d, int64_t now)
{
	enum dash_view next;

	if (now < d->next_rotate_ms)
		return;
	/* Empty boards are skipped: a history with no finished race yet. */
	do {
		d->kiosk_step = (d->kiosk_step + 1) % KIOSK_VIEW_COUNT;
		next = kiosk_views[d->kiosk_step];
	} while (next == DASH_HISTORY && !view_history_next_class(d->history_view, &d->ctx));
	if (next == DASH_LIVE)
		view_live_show_race(d->live_view, &d->ctx, 0);
	view_show(d, next);
	d->next_rotate_ms = now + (int64_t)d->ctx.config->rotate_s * 1000;
}

/* A race that has just finished takes the kiosk's screen while its
 * finish is held: the moment everyone watches for. The live view follows
 * the race even while another view is shown, so it sees the end. */
static void kiosk_finish(struct dashboard *d, int64_t now)
{
	int64_t race_id;

	if (d->view != DASH_LIVE)
		view_live_refresh(d->live_view, &d->ctx, false);
	race_id = view_live_finishing(d->live_view);
	if (race_id == 0 || race_id == d->kiosk_finish_id)
		return;
	d->kiosk_finish_id = race_id;
	for (size_t i = 0; i < KIOSK_VIEW_COUNT; i++)
		if (kiosk_views[i] == DASH_LIVE)
			d->kiosk_step = i;
	view_show(d, DASH_LIVE);
	d->next_rotate_ms = now + FINISH_HOLD_MS;
}

static void kiosk_repaint(struct dashboard *d, int64_t now)
{
	if (now < d->next_full_ms)
		return;
	term_force_redraw(&d->term);
	d->dirty = true;
	d->next_full_ms = now + FULL_REDRAW_MS;
}

/* ---- the loop ----------------------------------------------------------- */

static void pass(struct dashboard *d, volatile sig_atomic_t *stop)
{
	int64_t now = (int64_t)clock_mono_ms(), wait = d->next_tick_ms - now;
	int key;

	d->ctx.now_ms = clock_wall_ms();
	live_poll(d->ctx.live, d->ctx.now_ms);
	key = term_read_key(&d->term, wait < 0 ? 0 : wait > POLL_MS ? POLL_MS : (int)wait);
	/* Take every key waiting: one redraw answers them all. */
	for (; key != TERM_KEY_NONE && !d->quit && !*stop; key = term_read_key(&d->term, 0))
		handle_key(d, key);
	d->ctx.now_ms = clock_wall_ms();
	now = (int64_t)clock_mono_ms();
	if (now >= d->next_tick_ms) {
		tick(d);
		if (d->ctx.kiosk)
			kiosk_finish(d, now);
		d->next_tick_ms = now + d->period_ms;
	}
	if (d->ctx.kiosk) {
		kiosk_rotate(d, now);
		kiosk_repaint(d, now);
	}
	if (d->dirty && !d->quit)
		draw(d);
}

static int views_new(struct dashboard *d)
{
	d->live_view = view_live_new(&d->ctx);
	d->races_view = view_races_new();
	d->history_view = view_history_new();
	d->monitor_view = view_monitor_new();
	d->help_view = view_help_new();
	return d->live_view && d->races_view && d->history_view && d->monitor_view &&
	       d->help_view ? 0 : -1;
}

static void views_free(struct dashboard *d)
{
	view_live_free(d->live_view);
	view_races_free(d->races_view);
	view_history_free(d->history_view);
	view_monitor_free(d->monitor_view);
	view_help_free(d->help_view);
}

static void dashboard_setup(struct dashboard *d, const struct dashboard_config *config,
			    struct live *live, struct monitor *monitor)
{
	int64_t now = (int64_t)clock_mono_ms();

	memset(d, 0, sizeof(*d));
	d->ctx = (struct view_ctx){ .config = config, .term = &d->term, .live = live,
				    .monitor = monitor, .now_ms = clock_wall_ms(),
				    .kiosk = config->mode == DASHBOARD_KIOSK };
	d->period_ms = (int64_t)config->delay_tenths * 100;
	d->next_tick_ms = now;
	d->next_full_ms = now + FULL_REDRAW_MS;
	d->view = d->before_help = d->ctx.kiosk ? kiosk_views[0] : DASH_LIVE;
	d->next_rotate_ms = now + (int64_t)config->rotate_s * 1000;
}

int dashboard_run(const struct dashboard_config *config, struct live *live,
		  struct monitor *monitor, volatile sig_atomic_t *stop)
{
	struct dashboard_config cfg = *config;
	struct dashboard d;
	char err[ERR_TEXT_MAX];

	if (cfg.delay_tenths <= 0)
		cfg.delay_tenths = 5;
	if (cfg.rotate_s <= 0)
		cfg.rotate_s = 15;
	dashboard_setup(&d, &cfg, live, monitor);
	d.log = logring_new();
	d.ctx.log = d.log;
	if (d.log == NULL || views_new(&d) < 0) {
		fprintf(stderr, "alleycat: out of memory for the dashboard\n");
		views_free(&d);
		logring_free(d.log);
		return -1;
	}
	if (term_init(&d.term, &(struct term_options){ .color = cfg.color, .unicode = cfg.unicode,
						       .mouse = cfg.mouse, .light = cfg.light },
		      err, sizeof(err)) < 0) {
		fprintf(stderr, "alleycat: %s\n", err);
		views_free(&d);
		logring_free(d.log);
		return -1;
	}
	logring_attach(d.log);
	view_refresh(&d, false);
	d.dirty = true;
	while (!*stop && !d.quit)
		pass(&d, stop);
	logring_detach(d.log);
	term_done(&d.term);
	views_free(&d);
	logring_free(d.log);
	return 0;
}
