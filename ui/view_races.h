/* The races overview: every live race at a glance (race, class, racers,
 * the race clock, leader and records a second); Enter watches one. */
#ifndef ALLEYCAT_VIEW_RACES_H
#define ALLEYCAT_VIEW_RACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/view.h"

struct widget_key;
struct view_races;

struct view_races *view_races_new(void);
void view_races_free(struct view_races *v);

void view_races_refresh(struct view_races *v, const struct view_ctx *ctx);
void view_races_draw(struct view_races *v, const struct view_ctx *ctx, struct view_rect area);

/* Handles a key; sets *open to a raceId when the user picked one to watch. */
bool view_races_key(struct view_races *v, const struct view_ctx *ctx, int key, int64_t *open);

/* A click on screen line y selects that race; a click on the race
 * selected already sets *open to it, as Enter does. */
bool view_races_click(struct view_races *v, int y, int64_t *open);

size_t view_races_footer(const struct view_races *v, const struct widget_key **keys);

#endif
