/* The finish of a race, drawn inside the live view while it is held
 * (race/finish.h): the podium, then the final standings with the
 * followed racer in sight. */
#ifndef ALLEYCAT_VIEW_FINISH_H
#define ALLEYCAT_VIEW_FINISH_H

#include <stdint.h>

#include "ui/view.h"

struct finish;

/* follow_id: the racer kept in sight and highlighted, 0 none. */
void view_finish_draw(const struct finish *f, const struct view_ctx *ctx, struct view_rect a,
		      int64_t follow_id);

#endif
