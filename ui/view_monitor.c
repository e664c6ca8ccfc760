#include "config.h"
#include "ui/view_monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/consumer.h"
#include "client/monitor.h"
#include "race/live.h"
#include "ui/dashboard.h"
#include "ui/logring.h"
#include "ui/terminal.h"
#include "ui/widgets.h"

#define LOG_SHOWN 16                    /* newest messages listed */

struct view_monitor {
	struct monitor_view hub;        /* the last snapshot; large, so kept here */
	bool have_hub;
	struct consumer_stats consumer;
	struct live_stats live;
	struct logring_entry log[LOG_SHOWN];
	size_t log_count;
	int scroll;                     /* lines scrolled off the top */
	int lines;                      /* lines at the last draw */
	int page;
};

/* Lines of the view, with the ones scrolled away skipped. */
struct mon_lines {
	struct view_rect a;
	int next, skip;
};

static int line_next(struct mon_lines *l)
{
	int i = l->next++ - l->skip;

	return i >= 0 && i < l->a.h ? l->a.y + i : -1;
}

struct view_monitor *view_monitor_new(void)
{
	return calloc(1, sizeof(struct view_monitor));
}

void view_monitor_free(struct view_monitor *v)
{
	free(v);
}

void view_monitor_refresh(struct view_monitor *v, const struct view_ctx *ctx)
{
	v->have_hub = ctx->monitor != NULL;
	if (ctx->monitor)
		monitor_snapshot(ctx->monitor, &v->hub);
	consumer_stats(live_consumer(ctx->live), &v->consumer);
	live_stats(ctx->live, &v->live);
	v->log_count = logring_newest(ctx->log, v->log, LOG_SHOWN);
}

/* ---- the hub ------------------------------------------------------------ */

/* A shard id as Kinesis writes it, "shardId-000000000003": both tables
 * give it its whole width, so a shard has one name in the view. */
#define SHARD_ID_WIDTH 20

enum { SH_ID, SH_RECORDS, SH_KIB, SH_THROTTLED, SH_SUBS, SH_RETAINED, SH_SEQ, SH_SPARK, SH_COUNT };
static const struct widget_column shard_columns[SH_COUNT] = {
	[SH_ID] = { .title = "shard", .width = SHARD_ID_WIDTH },
	[SH_RECORDS] = { .title = "rec/s", .width = 7, .right = true },
	[SH_KIB] = { .title = "KiB/s", .width = 7, .right = true },
	[SH_THROTTLED] = { .title = "thr/s", .width = 6, .right = true },
	[SH_SUBS] = { .title = "subs", .width = 4, .right = true, .drop = 2 },
	[SH_RETAINED] = { .title = "kept", .width = 7, .right = true, .drop = 3 },
	[SH_SEQ] = { .title = "last sequence", .width = 20, .right = true, .drop = 4 },
	[SH_SPARK] = { .title = "rec/s, 60 s", .width = 10, .max = 60, .flex = true,
		       .drop = 1 },
};

static void draw_hub_state(struct view_monitor *v, const struct view_ctx *ctx,
			   struct mon_lines *l)
{
	const struct terminal *term = ctx->term;
	const struct monitor_view *h = &v->hub;
	char age[32];
	int y = line_next(l), x = l->a.x;

	if (y < 0)
		return;
	widget_fill(y, l->a.x, l->a.w, term_attr(term, TERM_NORMAL));
	x += widget_text(term, y, x, l->a.w, term_attr(term, TERM_HEADING), WIDGET_LEFT, "Hub  ");
	if (!v->have_hub) {
		widget_text(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_DIM), WIDGET_LEFT,
			    "metrics not read by this dashboard");
		return;
	}
	widget_fmt_age(ctx->now_ms - h->fetched_ms, age, sizeof(age));
	if (h->reachable) {
		widget_printf(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_OK), WIDGET_LEFT,
			      "%s metrics read %s ago", term->glyphs->state_ok, age);
		return;
	}
	x += widget_printf(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_ERROR), WIDGET_LEFT,
			   "%s unreachable: ", term->glyphs->state_bad);
	widget_untrusted(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_ERROR), WIDGET_LEFT,
			 h->error);
}

/* A line per stream the hub copies from an upstream (hub --mirror): how
 * late the copy is, and what it stored. */
static void draw_mirrors(struct view_monitor *v, const struct view_ctx *ctx, struct mon_lines *l)
{
	const struct terminal *term = ctx->term;

	for (size_t i = 0; v->have_hub && v->hub.reachable && i < v->hub.mirror_count; i++) {
		const struct monitor_mirror *m = &v->hub.mirrors[i];
		bool trouble = m->lag_ms > 5000 || m->bad || m->unreadable;
		char lag[32], rate[16], stored[16];
		int y = line_next(l), x = l->a.x;
		if (y < 0)
			continue;
		widget_fmt_age(m->lag_ms, lag, sizeof(lag));
		widget_fmt_rate(m->stored_per_sec, rate, sizeof(rate));
		widget_fmt_count(m->stored, stored, sizeof(stored));
		x += widget_text(term, y, x, l->a.w, term_attr(term, TERM_NORMAL), WIDGET_LEFT,
				 "  mirror of ");
		x += widget_untrusted(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_NORMAL),
				      WIDGET_LEFT, m->stream);
		widget_printf(term, y, x, l->a.x + l->a.w - x,
			      term_attr(term, trouble ? TERM_WARN : TERM_NORMAL), WIDGET_LEFT,
			      ": lag %s, %s rec/s, stored %s, repeated %llu, bad %llu, unreadable %llu",
			      lag, rate, stored, (unsigned long long)m->repeated,
			      (unsigned long long)m->bad, (unsigned long long)m->unreadable);
	}
}

/* A shard's name in width columns: "shardId-000000000003" when it fits,
 * else "#3" (an id longer than Kinesis's). The id is the hub's: untrusted. */
static void shard_cell(const struct terminal *term, int y, int x, const struct widget_column *col,
		       attr_t attr, const char *shard_id)
{
	const char *digits = shard_id + strlen("shardId-");
	char label[32];

	if ((int)strlen(shard_id) <= col->w || strncmp(shard_id, "shardId-", 8) != 0) {
		widget_cell_untrusted(term, y, x, col, attr, shard_id);
		return;
	}
	while (*digits == '0' && digits[1] != '\0')
		digits++;
	snprintf(label, sizeof(label), "#%s", digits);
	widget_cell_untrusted(term, y, x, col, attr, label);
}

static void draw_shard(const struct view_ctx *ctx, int y, int x, const struct widget_column *c,
		       const struct monitor_shard *s, double top)
{
	const struct terminal *term = ctx->term;
	attr_t attr = term_attr(term, TERM_NORMAL);
	char text[32];

	shard_cell(term, y, x, &c[SH_ID], attr, s->shard_id);
	widget_fmt_rate(s->records_per_sec, text, sizeof(text));
	widget_cell(term, y, x, &c[SH_RECORDS], attr, text);
	widget_fmt_rate(s->bytes_per_sec / 1024.0, text, sizeof(text));
	widget_cell(term, y, x, &c[SH_KIB], attr, text);
	widget_fmt_rate(s->throttled_per_sec, text, sizeof(text));
	widget_cell(term, y, x, &c[SH_THROTTLED],
		    s->throttled_per_sec > 0 ? term_attr(term, TERM_WARN) : attr, text);
	snprintf(text, sizeof(text), "%d", s->subscriptions);
	widget_cell(term, y, x, &c[SH_SUBS], attr, text);
	widget_fmt_count(s->retained_records, text, sizeof(text));
	widget_cell(term, y, x, &c[SH_RETAINED], attr, text);
	widget_cell_untrusted(term, y, x, &c[SH_SEQ], attr, s->last_sequence);
	if (c[SH_SPARK].w > 0)
		widget_sparkline(term, y, x + c[SH_SPARK].x, c[SH_SPARK].w, term_attr(term, TERM_SPARK),
				 s->records_history, MONITOR_HISTORY, 0, top);
}

/* The highest rate any shard's sparkline shows: one scale for all, so
 * they compare, and said in the title. */
static double records_top(const struct monitor_view *h)
{
	double top = 0;

	for (size_t i = 0; i < h->shard_count; i++)
		for (int k = 0; k < MONITOR_HISTORY; k++)
			if (h->shards[i].records_history[k] > top)
				top = h->shards[i].records_history[k];
	return top;
}

static void draw_shards(struct view_monitor *v, const struct view_ctx *ctx, struct mon_lines *l)
{
	struct widget_column cols[SH_COUNT];
	char title[64], rate[16];
	double top = records_top(&v->hub);
	int y;

	if (!v->have_hub || v->hub.shard_count == 0)
		return;
	memcpy(cols, shard_columns, sizeof(cols));
	widget_fmt_rate(top, rate, sizeof(rate));
	snprintf(title, sizeof(title), "rec/s, 60 s, top %s", rate);
	cols[SH_SPARK].title = title;
	widget_columns_layout(cols, SH_COUNT, l->a.w);
	if ((y = line_next(l)) >= 0)
		widget_columns_head(ctx->term, y, l->a.x, l->a.w, cols, SH_COUNT);
	for (size_t i = 0; i < v->hub.shard_count; i++)
		if ((y = line_next(l)) >= 0)
			draw_shard(ctx, y, l->a.x, cols, &v->hub.shards[i], top);
}

/* Every consumer the hub knows, with its largest lag over the shards. */
static void draw_hub_lags(struct view_monitor *v, const struct view_ctx *ctx, struct mon_lines *l)
{
	const struct terminal *term = ctx->term;
	const char *mine = ctx->config->consumer;
	char age[32];
	int y;

	if (!v->have_hub || v->hub.lag_count == 0)
		return;
	if ((y = line_next(l)) >= 0)
		widget_text(term, y, l->a.x, l->a.w, term_attr(term, TERM_TABLE_HEAD), WIDGET_LEFT,
			    "consumer lag (the hub's view, largest over the shards)");
	for (size_t i = 0; i < v->hub.lag_count; i++) {
		const struct monitor_lag *g = &v->hub.lags[i];
		int64_t worst = g->lag_ms;
		bool seen = false;
		/* One line per consumer: skip those listed already. */
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(v->hub.lags[k].consumer, g->consumer) == 0 &&
			       strcmp(v->hub.lags[k].stream, g->stream) == 0;
		if (seen)
			continue;
		for (size_t k = i + 1; k < v->hub.lag_count; k++)
			if (strcmp(v->hub.lags[k].consumer, g->consumer) == 0 &&
			    strcmp(v->hub.lags[k].stream, g->stream) == 0 &&
			    v->hub.lags[k].lag_ms > worst)
				worst = v->hub.lags[k].lag_ms;
		if ((y = line_next(l)) < 0)
			continue;
		bool is_mine = mine && strcmp(mine, g->consumer) == 0;
		attr_t attr = term_attr(term, is_mine ? TERM_HEADING : TERM_NORMAL);
		widget_untrusted(term, y, l->a.x, l->a.w - 12, attr, WIDGET_LEFT, g->consumer);
		widget_fmt_age(worst, age, sizeof(age));
		widget_text(term, y, l->a.x + l->a.w - 12, 12,
			    term_attr(term, worst > 5000 ? TERM_WARN : TERM_NORMAL), WIDGET_RIGHT, age);
	}
}

/* ---- this consumer ------------------------------------------------------ */

static const char *state_name(enum consumer_state state)
{
	switch (state) {
	case CONSUMER_CONNECTING: return "connecting";
	case CONSUMER_STREAMING: return "streaming";
	case CONSUMER_RECONNECTING: return "reconnecting";
	case CONSUMER_STOPPED: return "stopped";
	}
	return "?";
}

static void draw_consumer_state(struct view_monitor *v, const struct view_ctx *ctx,
				struct mon_lines *l)
{
	const struct terminal *term = ctx->term;
	const struct consumer_stats *c = &v->consumer;
	bool ok = c->state == CONSUMER_STREAMING;
	int y = line_next(l), x = l->a.x;

	if (y < 0)
		return;
	widget_fill(y, l->a.x, l->a.w, term_attr(term, TERM_NORMAL));
	x += widget_text(term, y, x, l->a.w, term_attr(term, TERM_HEADING), WIDGET_LEFT, "Consumer ");
	if (ctx->config->consumer)
		x += widget_untrusted(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_HEADING),
				      WIDGET_LEFT, ctx->config->consumer);
	x += widget_printf(term, y, x, l->a.x + l->a.w - x, term_attr(term, ok ? TERM_OK : TERM_WARN),
			   WIDGET_LEFT, "  %s %s: ", ok ? term->glyphs->state_ok : term->glyphs->state_bad,
			   state_name(c->state));
	widget_untrusted(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_NORMAL), WIDGET_LEFT,
			 c->status);
}

static void draw_consumer_counts(struct view_monitor *v, const struct view_ctx *ctx,
				 struct mon_lines *l)
{
	const struct terminal *term = ctx->term;
	const struct live_stats *s = &v->live;
	char age[48], when[32], applied[16], dup[16], late[16];
	uint64_t bad = s->bad;
	int y;

	for (size_t i = 0; i < v->consumer.shard_count; i++)
		bad += v->consumer.shards[i].bad;
	widget_fmt_count(s->applied, applied, sizeof(applied));
	widget_fmt_count(s->duplicates, dup, sizeof(dup));
	widget_fmt_count(s->late, late, sizeof(late));
	if ((y = line_next(l)) >= 0)
		widget_printf(term, y, l->a.x, l->a.w, term_attr(term, TERM_NORMAL), WIDGET_LEFT,
			      "  applied %s, dropped: %s duplicates, %llu bad", applied, dup,
			      (unsigned long long)bad);
	/* Records of another class than their race's: two producers rode one
	 * raceId, which the per-shard table cannot tell. */
	if (s->other_class && (y = line_next(l)) >= 0) {
		int x = l->a.x + widget_printf(term, y, l->a.x, l->a.w, term_attr(term, TERM_WARN),
					       WIDGET_LEFT, "  %llu of another class: ",
					       (unsigned long long)s->other_class);
		widget_untrusted(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_WARN),
				 WIDGET_LEFT, s->last_bad);
	}
	if ((y = line_next(l)) >= 0)
		widget_printf(term, y, l->a.x, l->a.w, term_attr(term, TERM_NORMAL), WIDGET_LEFT,
			      "  late %s, rejected %llu, reconnects %llu", late,
			      (unsigned long long)s->rejected,
			      (unsigned long long)v->consumer.reconnects);
	if (s->last_commit_ms > 0) {
		widget_fmt_age(ctx->now_ms - s->last_commit_ms, when, sizeof(when));
		snprintf(age, sizeof(age), "%s old", when);
	} else {
		snprintf(age, sizeof(age), "none yet");
	}
	if ((y = line_next(l)) >= 0)
		widget_printf(term, y, l->a.x, l->a.w,
			      term_attr(term, s->commit_failures ? TERM_WARN : TERM_NORMAL), WIDGET_LEFT,
			      "  checkpoint %s, db %.1f ms, windows %llu, failed %llu", age,
			      s->last_commit_latency_ms, (unsigned long long)s->windows,
			      (unsigned long long)s->commit_failures);
	if (s->store_error[0] && (y = line_next(l)) >= 0) {
		int x = l->a.x + widget_text(term, y, l->a.x, l->a.w, term_attr(term, TERM_ERROR),
					     WIDGET_LEFT, "  store: ");
		widget_untrusted(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_ERROR), WIDGET_LEFT,
				 s->store_error);
	}
}

enum { CS_ID, CS_RECORDS, CS_BAD, CS_BROKEN, CS_LAG, CS_LAST_BAD, CS_COUNT };
static const struct widget_column consumer_columns[CS_COUNT] = {
	[CS_ID] = { .title = "shard", .width = SHARD_ID_WIDTH },
	[CS_RECORDS] = { .title = "records", .width = 8, .right = true },
	[CS_BAD] = { .title = "bad", .width = 6, .right = true },
	/* efo: event streams that broke, each subscribed again */
	[CS_BROKEN] = { .title = "broken", .width = 6, .right = true, .drop = 2 },
	[CS_LAG] = { .title = "lag", .width = 9, .right = true },
	[CS_LAST_BAD] = { .title = "last bad record", .width = 12, .flex = true, .drop = 1 },
};

static void draw_consumer_shards(struct view_monitor *v, const struct view_ctx *ctx,
				 struct mon_lines *l)
{
	const struct terminal *term = ctx->term;
	struct widget_column cols[CS_COUNT];
	char text[32];
	int y;

	if (v->consumer.shard_count == 0)
		return;
	memcpy(cols, consumer_columns, sizeof(cols));
	widget_columns_layout(cols, CS_COUNT, l->a.w);
	if ((y = line_next(l)) >= 0)
		widget_columns_head(term, y, l->a.x, l->a.w, cols, CS_COUNT);
	for (size_t i = 0; i < v->consumer.shard_count; i++) {
		const struct consumer_shard_stats *s = &v->consumer.shards[i];
		attr_t attr = term_attr(term, TERM_NORMAL);
		if ((y = line_next(l)) < 0)
			continue;
		widget_fill(y, l->a.x, l->a.w, attr);
		shard_cell(term, y, l->a.x, &cols[CS_ID], attr, s->shard_id);
		widget_fmt_count(s->records, text, sizeof(text));
		widget_cell(term, y, l->a.x, &cols[CS_RECORDS], attr, text);
		snprintf(text, sizeof(text), "%llu", (unsigned long long)s->bad);
		widget_cell(term, y, l->a.x, &cols[CS_BAD], s->bad ? term_attr(term, TERM_WARN) : attr,
			    text);
		snprintf(text, sizeof(text), "%llu", (unsigned long long)s->broken);
		widget_cell(term, y, l->a.x, &cols[CS_BROKEN],
			    s->broken ? term_attr(term, TERM_WARN) : attr, text);
		widget_fmt_age(s->lag_ms, text, sizeof(text));
		widget_cell(term, y, l->a.x, &cols[CS_LAG],
			    s->caught_up ? attr : term_attr(term, TERM_WARN), text);
		widget_cell_untrusted(term, y, l->a.x, &cols[CS_LAST_BAD], term_attr(term, TERM_DIM),
				      s->last_bad);
	}
}

/* ---- the log ------------------------------------------------------------ */

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static void draw_log(struct view_monitor *v, const struct view_ctx *ctx, struct mon_lines *l)
{
	const struct terminal *term = ctx->term;
	int y;

	if ((y = line_next(l)) >= 0)
		widget_text(term, y, l->a.x, l->a.w, term_attr(term, TERM_TABLE_HEAD), WIDGET_LEFT,
			    v->log_count ? "log, newest first" : "log: nothing logged");
	for (size_t i = 0; i < v->log_count; i++) {
		const struct logring_entry *e = &v->log[i];
		time_t t = (time_t)(e->at_ms / 1000);
		struct tm tm;
		char when[16] = "";
		int x = l->a.x;
		if ((y = line_next(l)) < 0)
			continue;
		if (localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
		x += widget_printf(term, y, x, l->a.w, term_attr(term, TERM_DIM), WIDGET_LEFT, "%s ", when);
		x += widget_printf(term, y, x, l->a.x + l->a.w - x,
				   term_attr(term, e->level == LOG_ERROR  ? TERM_ERROR
						 : e->level == LOG_WARN ? TERM_WARN
									: TERM_NORMAL),
				   WIDGET_LEFT, "%-5s ", level_names[e->level]);
		widget_untrusted(term, y, x, l->a.x + l->a.w - x, term_attr(term, TERM_NORMAL), WIDGET_LEFT,
				 e->text);
	}
}

void view_monitor_draw(struct view_monitor *v, const struct view_ctx *ctx, struct view_rect a)
{
	struct mon_lines l = { .a = a, .skip = v->scroll };

	draw_hub_state(v, ctx, &l);
	draw_mirrors(v, ctx, &l);
	draw_shards(v, ctx, &l);
	draw_hub_lags(v, ctx, &l);
	line_next(&l);
	draw_consumer_state(v, ctx, &l);
	draw_consumer_counts(v, ctx, &l);
	draw_consumer_shards(v, ctx, &l);
	line_next(&l);
	draw_log(v, ctx, &l);
	v->lines = l.next;
	v->page = a.h;
}

bool view_monitor_key(struct view_monitor *v, int key)
{
	return widget_scroll_key(&v->scroll, v->lines, v->page, key);
}

size_t view_monitor_footer(const struct view_monitor *v, const struct widget_key **keys)
{
	static const struct widget_key monitor_keys[] = {
		{ "q", "Quit" }, { "?", "Help" }, { "Tab", "View" }, { "Up/Down", "Scroll" },
	};

	(void)v;
	*keys = monitor_keys;
	return sizeof(monitor_keys) / sizeof(monitor_keys[0]);
}
