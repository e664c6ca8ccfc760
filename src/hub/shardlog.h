/* The shard log: the records of one shard, in sequence order, in memory.
 *
 * Records are appended at the end and trimmed from the start, by age and by
 * bytes. Every record has an absolute position that never changes, so a
 * reader's cursor is just a position: it stays valid while records are
 * appended and trimmed, reading never copies record data, and a cursor whose
 * records were trimmed away learns how many it lost. */
#ifndef ALLEYCAT_SHARDLOG_H
#define ALLEYCAT_SHARDLOG_H

#include <stddef.h>
#include <stdint.h>

#include "wire/seqno.h"

/* One stored record: partition key then data, in a single allocation. */
struct shardlog_record {
	seqno_t seq;
	int64_t arrival_ms;     /* epoch milliseconds, never decreasing in a shard */
	uint32_t data_len;
	uint16_t key_len;
	char bytes[];
};

static inline const char *shardlog_record_key(const struct shardlog_record *r)
{
	return r->bytes;
}

static inline const unsigned char *shardlog_record_data(const struct shardlog_record *r)
{
	return (const unsigned char *)r->bytes + r->key_len;
}

struct shardlog {
	struct shardlog_record **ring;  /* capacity is a power of two */
	size_t capacity;
	size_t head;                    /* ring slot of the oldest record */
	uint64_t first;                 /* absolute position of the oldest record */
	uint64_t count;
	uint64_t bytes;                 /* key and data bytes retained */
	uint64_t trimmed;               /* records trimmed since creation */
};

enum shardlog_start {
	SHARDLOG_TRIM_HORIZON,
	SHARDLOG_LATEST,
	SHARDLOG_AT_SEQUENCE_NUMBER,
	SHARDLOG_AFTER_SEQUENCE_NUMBER,
	SHARDLOG_AT_TIMESTAMP,
};

/* Bytes of partition key: 256 characters of up to four bytes of UTF-8. */
#define SHARDLOG_KEY_MAX 1024

void shardlog_init(struct shardlog *log);
void shardlog_free(struct shardlog *log);

/* Drops every record and frees the ring, as shardlog_free does, but
 * positions go on from where they were: a reader's cursor stays valid. */
void shardlog_release(struct shardlog *log);

/* Appends a record copied from key and data. seq must be above every seq in
 * the log; arrival_ms is raised to the last record's if it is earlier.
 * Returns 0, or -1 (out of memory, or key too long) with the log unchanged. */
int shardlog_append(struct shardlog *log, seqno_t seq, int64_t arrival_ms,
		    const char *key, size_t key_len, const void *data, size_t data_len);

/* Position just after the newest record: where LATEST starts. */
static inline uint64_t shardlog_end(const struct shardlog *log)
{
	return log->first + log->count;
}

/* The record at an absolute position (borrowed), or NULL when it is trimmed
 * or not written yet. */
const struct shardlog_record *shardlog_at(const struct shardlog *log, uint64_t pos);

/* The newest record (borrowed), or NULL when the log is empty. */
const struct shardlog_record *shardlog_last(const struct shardlog *log);

/* Where a reader starting as given begins: a binary search, never a scan.
 * seq is used by the two sequence-number starts, ms by AT_TIMESTAMP. */
uint64_t shardlog_position(const struct shardlog *log, enum shardlog_start start,
			   seqno_t seq, int64_t ms);

/* Reads the record at *pos and advances it; NULL at the end. A position that
 * was trimmed away moves to the oldest record, and *lost (when not NULL)
 * receives how many records were skipped. */
const struct shardlog_record *shardlog_next(const struct shardlog *log, uint64_t *pos,
					    uint64_t *lost);

/* Drops records that arrived before min_arrival_ms; returns how many. */
size_t shardlog_trim_older(struct shardlog *log, int64_t min_arrival_ms);

/* Drops the oldest record; returns its size in bytes, 0 if the log is empty. */
size_t shardlog_drop_oldest(struct shardlog *log);

#endif
