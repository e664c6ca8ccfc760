/* The monitor view: the health of the stream and of this consumer. Per
 * shard, the hub's rates (records/s, KiB/s, throttled/s) with a minute of
 * records/s as a sparkline and its subscriptions; per consumer on the hub,
 * its lag; for this consumer, its connection, records and bad records per
 * shard, duplicates, reconnects, checkpoint age and database latency; and
 * the newest log messages. */
#ifndef ALLEYCAT_VIEW_MONITOR_H
#define ALLEYCAT_VIEW_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "ui/view.h"

struct widget_key;
struct view_monitor;

struct view_monitor *view_monitor_new(void);
void view_monitor_free(struct view_monitor *v);

void view_monitor_refresh(struct view_monitor *v, const struct view_ctx *ctx);
void view_monitor_draw(struct view_monitor *v, const struct view_ctx *ctx, struct view_rect area);
bool view_monitor_key(struct view_monitor *v, int key);
size_t view_monitor_footer(const struct view_monitor *v, const struct widget_key **keys);

#endif
