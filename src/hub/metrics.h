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

/* What the hub's two HTTPs have served since it started: connections by
 * the HTTP they turned out to speak (counted where they are told apart,
 * front.c), and HTTP/2 streams opened and reset (h2.c). */
struct http_counts {
	uint64_t http1_connections;     /* HTTP/1.x, the WebSocket push included */
	uint64_t h2_connections;
	uint64_t h2_streams;            /* requests opened */
	uint64_t h2_resets_by_hub;      /* RST_STREAM sent: refused, cancelled, broken */
	uint64_t h2_resets_by_client;   /* RST_STREAM received: the client gave up */
};

/* The series of http_counts. */
void metrics_render_http(const struct http_counts *counts, struct strbuf *out);

#endif
