/* What every view is given: the state it reads and where it draws.
 *
 * Views follow one shape (view_NAME_new/free, _refresh to read the model
 * at a tick, _draw to paint from what was read, _key to handle a key):
 * reading and painting are apart so a key redraws at once from the last
 * reading, while the engine is read only at the redraw rate. */
#ifndef ALLEYCAT_VIEW_H
#define ALLEYCAT_VIEW_H

#include <stdbool.h>
#include <stdint.h>

struct terminal;
struct dashboard_config;
struct live;
struct logring;
struct monitor;

struct view_ctx {
	const struct dashboard_config *config;
	struct terminal *term;
	struct live *live;
	struct monitor *monitor;        /* NULL when the hub's metrics are not read */
	struct logring *log;
	int64_t now_ms;                 /* wall time of this pass */
	bool kiosk;                     /* read-only: no cursor, no prompts */
	bool caught_up;                 /* every shard has been 0 ms behind since the start */
};

/* A part of the screen. */
struct view_rect {
	int y, x, h, w;
};

#endif
