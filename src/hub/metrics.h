/* The hub's /metrics page in the Prometheus text format. */
#ifndef ALLEYCAT_METRICS_H
#define ALLEYCAT_METRICS_H

#include <stdint.h>

#include "util/strbuf.h"

struct conn_limit;
struct hub;
struct push;

void metrics_render(const struct hub *hub, const struct push *push, int64_t now_ms,
		    struct strbuf *out);

/* The connection series: open, the cap, refused and evicted. */
void metrics_render_connections(const struct conn_limit *conns, struct strbuf *out);

#endif
