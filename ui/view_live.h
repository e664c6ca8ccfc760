/* The live race view: one race's standings as they change, with its clock,
 * each racer's rank change, score, current output, cadence, resistance,
 * gap to the leader, a mark for beating the class best at this second and
 * a sparkline of recent output. A followed racer stays highlighted and in
 * sight; rows that just changed rank light up for a moment. */
#ifndef ALLEYCAT_VIEW_LIVE_H
#define ALLEYCAT_VIEW_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/view.h"

struct prompt;
struct terminal;
struct widget_key;
struct view_live;

struct view_live *view_live_new(const struct view_ctx *ctx);
void view_live_free(struct view_live *v);

/* Reads the shown race from the engine. tick is true once per redraw
 * period, when rank changes are taken (before the dashboard's
 * engine_tick); false for a re-read after a key. */
void view_live_refresh(struct view_live *v, const struct view_ctx *ctx, bool tick);
void view_live_draw(struct view_live *v, const struct view_ctx *ctx, struct view_rect area);

/* Handles a key; false when the key is not this view's. */
bool view_live_key(struct view_live *v, const struct view_ctx *ctx, int key);

/* A click on the cell (y, x): on a racer's row, follows them; on a
 * column's title, sorts by it (again: the other way). False when it fell
 * on neither. */
bool view_live_click(struct view_live *v, int y, int x);

/* Shows a race and keeps it until it ends; 0 shows the busiest. */
void view_live_show_race(struct view_live *v, const struct view_ctx *ctx, int64_t race_id);

/* What the status line says for this view: the followed racer, named,
 * with their rank, or that they are not in the race shown. False when no
 * racer is followed or no race is shown. */
bool view_live_status(const struct view_live *v, const struct terminal *term, char *text,
		      size_t size);

/* The race whose finish is held on screen (race/finish.h), 0 none. */
int64_t view_live_finishing(const struct view_live *v);

/* The search line while it is typed (NULL otherwise) and the footer keys. */
const struct prompt *view_live_prompt(const struct view_live *v);
size_t view_live_footer(const struct view_live *v, const struct widget_key **keys);

#endif
