/* A sliding one-second window of records and bytes: the per-shard write
 * limit and the per-subscription push limit. The window is kept as ten
 * 100 ms buckets, so it slides smoothly without remembering every record. */
#ifndef ALLEYCAT_THROTTLE_H
#define ALLEYCAT_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#define THROTTLE_BUCKETS 10
#define THROTTLE_BUCKET_MS 100

struct throttle {
	int64_t tick[THROTTLE_BUCKETS];   /* which 100 ms tick each bucket holds */
	uint64_t records[THROTTLE_BUCKETS];
	uint64_t bytes[THROTTLE_BUCKETS];
};

/* Admits one record of the given size if it keeps the last second within
 * max_records and max_bytes (0 = unlimited), and counts it. */
bool throttle_admit(struct throttle *t, int64_t now_ms, uint64_t max_records,
		    uint64_t max_bytes, uint64_t bytes);

/* Bytes counted in the last second. */
uint64_t throttle_bytes(const struct throttle *t, int64_t now_ms);

#endif
