/* The history browser: class leaderboards of personal bests, past races
 * and their results, a racer's profile (bests with their rank in each
 * class, and races), and racers found by name. Pages are read from the
 * store a screenful at a time (LIMIT/OFFSET), so long histories stay
 * instant; Enter goes deeper, Backspace comes back. */
#ifndef ALLEYCAT_VIEW_HISTORY_H
#define ALLEYCAT_VIEW_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "ui/view.h"

struct prompt;
struct widget_key;
struct view_history;

struct view_history *view_history_new(void);
void view_history_free(struct view_history *v);

/* Notes new results (a window committed) so the page is read again. */
void view_history_refresh(struct view_history *v, const struct view_ctx *ctx);

/* Draws; reads the page from the store first when it is stale or the
 * screen holds a different number of lines. */
void view_history_draw(struct view_history *v, const struct view_ctx *ctx, struct view_rect area);

bool view_history_key(struct view_history *v, const struct view_ctx *ctx, int key);

/* A click on the cell (y, x): on a class in the title line, shows that
 * class; on a row, opens it as Enter does (the race, or the racer). */
bool view_history_click(struct view_history *v, const struct view_ctx *ctx, int y, int x);

/* Kiosk: the leaderboard of the next class that has one; false when no
 * class has one yet (the view has nothing to show). */
bool view_history_next_class(struct view_history *v, const struct view_ctx *ctx);

const struct prompt *view_history_prompt(const struct view_history *v);
size_t view_history_footer(const struct view_history *v, const struct widget_key **keys);

#endif
