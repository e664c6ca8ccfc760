#include "config.h"
#include "hub/throttle.h"

static int bucket_of(int64_t tick)
{
	return (int)(tick % THROTTLE_BUCKETS);
}

static bool live(const struct throttle *t, int i, int64_t now_tick)
{
	return t->tick[i] > now_tick - THROTTLE_BUCKETS && t->tick[i] <= now_tick;
}

static void window(const struct throttle *t, int64_t now_ms, uint64_t *records, uint64_t *bytes)
{
	int64_t now_tick = now_ms / THROTTLE_BUCKET_MS;

	*records = *bytes = 0;
	for (int i = 0; i < THROTTLE_BUCKETS; i++) {
		if (live(t, i, now_tick)) {
			*records += t->records[i];
			*bytes += t->bytes[i];
		}
	}
}

bool throttle_admit(struct throttle *t, int64_t now_ms, uint64_t max_records,
		    uint64_t max_bytes, uint64_t bytes)
{
	int64_t now_tick = now_ms / THROTTLE_BUCKET_MS;
	int b = bucket_of(now_tick);
	uint64_t records_in, bytes_in;

	window(t, now_ms, &records_in, &bytes_in);
	if (max_records && records_in + 1 > max_records)
		return false;
	/* A record larger than the whole budget still goes into an empty
	 * window: otherwise it could never pass. */
	if (max_bytes && bytes_in + bytes > max_bytes && bytes_in > 0)
		return false;
	if (t->tick[b] != now_tick) {
		t->tick[b] = now_tick;
		t->records[b] = 0;
		t->bytes[b] = 0;
	}
	t->records[b]++;
	t->bytes[b] += bytes;
	return true;
}

uint64_t throttle_bytes(const struct throttle *t, int64_t now_ms)
{
	uint64_t records, bytes;

	window(t, now_ms, &records, &bytes);
	return bytes;
}
