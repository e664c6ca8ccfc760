/* The monitor: the health of the stream as the hub reports it.
 *
 * A thread of its own fetches the hub's /metrics about once a second and
 * turns the counters into rates per shard (records/s, KiB/s, throttled/s)
 * with a minute of history for sparklines, plus each consumer's lag and,
 * for a hub that mirrors another's stream, the mirror's lag. The
 * dashboard reads a snapshot; nothing here draws. */
#ifndef ALLEYCAT_MONITOR_H
#define ALLEYCAT_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/endpoint.h"

#define MONITOR_HISTORY 60              /* samples kept per series, one a second */
#define MONITOR_SHARDS_MAX 64
#define MONITOR_LAGS_MAX 128
#define MONITOR_MIRRORS_MAX 8

struct monitor_shard {
	char stream[129];
	char shard_id[32];
	double records_per_sec, bytes_per_sec, throttled_per_sec;
	uint64_t records_total, bytes_total, throttled_total;
	uint64_t retained_records, retained_bytes;
	int subscriptions;
	char last_sequence[24];         /* of the newest record, "0" when empty */
	/* The last MONITOR_HISTORY seconds, oldest first; -1 before the first. */
	double records_history[MONITOR_HISTORY];
	double throttled_history[MONITOR_HISTORY];
};

struct monitor_lag {
	char stream[129];
	char consumer[129];
	char shard_id[32];
	int64_t lag_ms;
};

/* A stream the hub copies from an upstream (hub --mirror). */
struct monitor_mirror {
	char stream[129];
	int64_t lag_ms;                 /* upstream arrival to stored, last batch */
	uint64_t stored, repeated, bad, unreadable;
	double stored_per_sec;
};

struct monitor_view {
	bool reachable;                 /* the last fetch succeeded */
	int64_t fetched_ms;             /* wall time of the last good fetch */
	char error[256];                /* why the last fetch failed */
	size_t shard_count;
	struct monitor_shard shards[MONITOR_SHARDS_MAX];
	size_t lag_count;
	struct monitor_lag lags[MONITOR_LAGS_MAX];
	size_t mirror_count;
	struct monitor_mirror mirrors[MONITOR_MIRRORS_MAX];
};

struct monitor;

/* Starts fetching from a hub, each fetch waiting at most timeout_s (0: the
 * default). NULL with a message in err on failure. */
struct monitor *monitor_start(const struct endpoint *hub, int timeout_s, char *err,
			      size_t errlen);
void monitor_stop(struct monitor *m);

/* A copy of what is known now. */
void monitor_snapshot(struct monitor *m, struct monitor_view *out);

/* Parses a /metrics page into view, with rates against the previous view
 * (exposed for tests). Returns -1 when the text is not a metrics page. */
int monitor_parse(const char *text, size_t len, const struct monitor_view *previous,
		  double seconds, struct monitor_view *view);

#endif
