/* The journal: the hub's durable storage in a data directory.
 *
 * Two kinds of state live there. The control plane (streams, shards,
 * consumers) is one JSON text in meta.json, replaced atomically. Records
 * go to segment files, records-NNNNNNNNNNNN.log, appended in order and
 * rotated at a size limit; retention deletes whole segments.
 *
 * A segment starts with a 20-byte header: the magic "ALLEYJNL", a version,
 * a random salt and a CRC32C of those 16 bytes. Each record follows as
 *
 *     u32 len | u32 crc | u64 stream_uid | u32 shard | u256 seq |
 *     i64 arrival_ms | u16 key_len | u32 data_len | key | data
 *
 * in version 2 (a version 1 segment, still read, has a u64 seq),
 * little-endian, where len counts the bytes after crc and crc is the
 * CRC32C, seeded with the segment's salt, of len and those bytes. The salt
 * keeps a stale record that a crash leaves in a reused disk block from ever
 * passing for one of this segment.
 *
 * Durability: a record is durable once journal_sync has returned 0 after
 * it was appended; what a crash leaves after the last sync is a torn tail
 * that replay detects by its length and checksum and cuts off. After a
 * failed sync the segment is abandoned (cut back to its last durable record
 * when possible) and later appends start a new one, so a partly written
 * batch can never sit in front of records acknowledged afterwards.
 *
 * The data directory is locked while a journal is open: a second hub on
 * the same directory fails to open it. A journal is not thread-safe; one
 * thread uses it. */
#ifndef ALLEYCAT_JOURNAL_H
#define ALLEYCAT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "wire/seqno.h"

#define JOURNAL_KEY_MAX 1024                    /* bytes of partition key */
#define JOURNAL_DATA_MAX (10 * 1024 * 1024)     /* bytes of record data: Kinesis's largest */
#define JOURNAL_SEGMENT_LIMIT_DEFAULT (64ull * 1024 * 1024)

struct journal;

struct journal_stats {
	uint64_t segments;              /* segment files */
	uint64_t bytes;                 /* their bytes on disk (journal_bytes) */
	uint64_t records_replayed;      /* by the last journal_replay */
	uint64_t corrupt_tails;         /* torn or corrupt tails found */
	uint64_t truncated_bytes;       /* bytes cut off torn tails */
	uint64_t bad_segments;          /* segments skipped for a bad header */
	uint64_t sync_failures;         /* journal_sync calls that failed */
	uint64_t expired_segments;      /* segments deleted by retention */
};

/* Opens (creating if needed) the journal in dir, creating dir and its
 * missing parents. NULL with a message in err on failure: the directory
 * cannot be created or locked, or holds a segment of a newer version. */
struct journal *journal_open(const char *dir, char *err, size_t errlen);

/* Closes the journal. Appends not yet synced are discarded: they were
 * never acknowledged. */
void journal_close(struct journal *j);

/* Segments are rotated once they reach limit bytes (default 64 MiB); a
 * segment always takes at least one record, so a record larger than the
 * limit gets a segment of its own. */
void journal_set_segment_limit(struct journal *j, uint64_t limit);

/* Replaces the control-plane state atomically (temporary file, fsync,
 * rename, fsync of the directory): a crash leaves the old text or the new,
 * never a mix. 0, or -1 with errno set; the old text is then still in
 * place, unless only the final fsync of the directory failed (either may
 * be found after a crash). */
int journal_save_meta(struct journal *j, const char *text);

/* The control-plane state as a malloc'd NUL-terminated string. NULL with
 * errno ENOENT when none was ever saved; NULL with another errno when it
 * cannot be read (the caller must not then start afresh and overwrite it). */
char *journal_load_meta(struct journal *j);

/* Appends one record to the in-memory batch; journal_sync writes it.
 * stream_uid identifies a stream incarnation, so a deleted and recreated
 * stream of the same name does not get old records back. 0, or -1 with
 * errno EINVAL (key over JOURNAL_KEY_MAX or data over JOURNAL_DATA_MAX
 * bytes) or ENOMEM. */
int journal_append(struct journal *j, uint64_t stream_uid, uint32_t shard, seqno_t seq,
		   int64_t arrival_ms, const char *key, size_t key_len, const void *data,
		   size_t data_len);

/* Writes the batch and makes it durable (fdatasync). 0, or -1 with errno
 * set: then no record of the batch is acknowledged and the batch is
 * dropped. Some of its records may still come back from a later replay
 * (at least once), but never a half-written one, and never in front of
 * records synced afterwards. */
int journal_sync(struct journal *j);

/* One replayed record. key and data point into the journal's buffer and are
 * valid only during the call; key is not NUL-terminated. */
typedef int (*journal_record_fn)(void *user, uint64_t stream_uid, uint32_t shard, seqno_t seq,
				 int64_t arrival_ms, const char *key, size_t key_len,
				 const void *data, size_t data_len);

/* Calls fn for every durable record in append order. Returns 0; fn's value
 * when it returns non-zero (replay stops there); or -1 with errno set on an
 * I/O error.
 *
 * A torn or corrupt tail ends replay of its segment, is counted and logged
 * as a warning, and is never fatal. The last segment's tail is truncated
 * away so later appends start at a clean boundary; an earlier segment is
 * left as it is (a corrupt record there is damage, not a crash, and the
 * bytes after it are kept for inspection) and replay goes on with the next
 * segment. Every segment replayed is fdatasync'd, so a record that a killed
 * hub wrote but had not synced is durable before anyone reads it.
 *
 * Call it once after journal_open, before the first append: it also finds
 * each segment's newest arrival time for journal_expire, and lets appends
 * continue in the last segment. */
int journal_replay(struct journal *j, journal_record_fn fn, void *user);

/* Deletes whole segments whose newest record arrived before min_arrival_ms.
 * Only segments whose arrival times are known (replayed or written by this
 * journal) are deleted. */
void journal_expire(struct journal *j, int64_t min_arrival_ms);

/* Bytes on disk in segments, for metrics. */
uint64_t journal_bytes(const struct journal *j);

void journal_stats(const struct journal *j, struct journal_stats *out);

/* CRC32C (Castagnoli) of len bytes, continuing from crc (0 to start), as in
 * zlib's crc32(): journal_crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t journal_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
