#include "config.h"
#include "hub/shardlog.h"

#include <stdlib.h>
#include <string.h>

#define SHARDLOG_INITIAL_CAPACITY 64

static size_t record_size(const struct shardlog_record *r)
{
	return (size_t)r->key_len + r->data_len;
}

static struct shardlog_record **slot(const struct shardlog *log, uint64_t offset)
{
	return &log->ring[(log->head + offset) & (log->capacity - 1)];
}

static int grow(struct shardlog *log)
{
	size_t capacity = log->capacity ? log->capacity * 2 : SHARDLOG_INITIAL_CAPACITY;
	struct shardlog_record **ring = malloc(capacity * sizeof(*ring));

	if (ring == NULL)
		return -1;
	for (uint64_t i = 0; i < log->count; i++)
		ring[i] = *slot(log, i);
	free(log->ring);
	log->ring = ring;
	log->capacity = capacity;
	log->head = 0;
	return 0;
}

void shardlog_init(struct shardlog *log)
{
	memset(log, 0, sizeof(*log));
}

void shardlog_release(struct shardlog *log)
{
	while (log->count > 0)
		shardlog_drop_oldest(log);
	free(log->ring);
	log->ring = NULL;
	log->capacity = 0;
	log->head = 0;
}

void shardlog_free(struct shardlog *log)
{
	shardlog_release(log);
	shardlog_init(log);
}

int shardlog_append(struct shardlog *log, seqno_t seq, int64_t arrival_ms,
		    const char *key, size_t key_len, const void *data, size_t data_len)
{
	const struct shardlog_record *last = shardlog_last(log);
	struct shardlog_record *r;

	if (key_len > SHARDLOG_KEY_MAX || data_len > UINT32_MAX)
		return -1;
	if (log->count == log->capacity && grow(log) < 0)
		return -1;
	r = malloc(sizeof(*r) + key_len + data_len);
	if (r == NULL)
		return -1;
	r->seq = seq;
	r->arrival_ms = last && last->arrival_ms > arrival_ms ? last->arrival_ms : arrival_ms;
	r->key_len = (uint16_t)key_len;
	r->data_len = (uint32_t)data_len;
	if (key_len > 0)
		memcpy(r->bytes, key, key_len);
	if (data_len > 0)
		memcpy(r->bytes + key_len, data, data_len);
	*slot(log, log->count) = r;
	log->count++;
	log->bytes += record_size(r);
	return 0;
}

const struct shardlog_record *shardlog_at(const struct shardlog *log, uint64_t pos)
{
	if (pos < log->first || pos >= shardlog_end(log))
		return NULL;
	return *slot(log, pos - log->first);
}

const struct shardlog_record *shardlog_last(const struct shardlog *log)
{
	return log->count ? *slot(log, log->count - 1) : NULL;
}

/* First position whose record is not "below" the target, by binary search
 * over the retained records (seq and arrival time both never decrease). */
static uint64_t lower_bound(const struct shardlog *log, int by_time, seqno_t seq, int64_t ms)
{
	uint64_t lo = 0, hi = log->count;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		const struct shardlog_record *r = *slot(log, mid);
		int below = by_time ? r->arrival_ms < ms : seqno_lt(r->seq, seq);
		if (below)
			lo = mid + 1;
		else
			hi = mid;
	}
	return log->first + lo;
}

uint64_t shardlog_position(const struct shardlog *log, enum shardlog_start start,
			   seqno_t seq, int64_t ms)
{
	switch (start) {
	case SHARDLOG_TRIM_HORIZON:
		return log->first;
	case SHARDLOG_LATEST:
		return shardlog_end(log);
	case SHARDLOG_AT_SEQUENCE_NUMBER:
		return lower_bound(log, 0, seq, 0);
	case SHARDLOG_AFTER_SEQUENCE_NUMBER:
		/* Nothing comes after the largest number. */
		return seqno_eq(seqno_next(seq), seq) ? shardlog_end(log)
						      : lower_bound(log, 0, seqno_next(seq), 0);
	case SHARDLOG_AT_TIMESTAMP:
		return lower_bound(log, 1, SEQNO_ZERO, ms);
	}
	return shardlog_end(log);
}

const struct shardlog_record *shardlog_next(const struct shardlog *log, uint64_t *pos,
					    uint64_t *lost)
{
	const struct shardlog_record *r;

	if (lost)
		*lost = 0;
	if (*pos < log->first) {
		if (lost)
			*lost = log->first - *pos;
		*pos = log->first;
	}
	r = shardlog_at(log, *pos);
	if (r)
		(*pos)++;
	return r;
}

size_t shardlog_drop_oldest(struct shardlog *log)
{
	struct shardlog_record *r;
	size_t size;

	if (log->count == 0)
		return 0;
	r = *slot(log, 0);
	size = record_size(r);
	free(r);
	log->head = (log->head + 1) & (log->capacity - 1);
	log->first++;
	log->count--;
	log->bytes -= size;
	log->trimmed++;
	return size;
}

size_t shardlog_trim_older(struct shardlog *log, int64_t min_arrival_ms)
{
	size_t dropped = 0;

	while (log->count > 0 && (*slot(log, 0))->arrival_ms < min_arrival_ms) {
		shardlog_drop_oldest(log);
		dropped++;
	}
	return dropped;
}
