/* Records aggregated by the Kinesis Producer Library: one Kinesis record
 * carrying many user records. Decoder only; no I/O.
 *
 *   magic     4   F3 89 9A C2
 *   message   *   protobuf AggregatedRecord:
 *                   1 partition_key_table      repeated string
 *                   2 explicit_hash_key_table  repeated string
 *                   3 records                  repeated Record:
 *                       1 partition_key_index     uint64
 *                       2 explicit_hash_key_index uint64 (optional)
 *                       3 data                    bytes
 *                       4 tags                    repeated (passed over)
 *   MD5      16   of the message
 *
 * A record that starts with the magic but fails the MD5 or does not parse
 * is a bad aggregate: the caller counts it, as the KCL would pass it on
 * as one plain record that no telemetry decoder takes. The i-th user
 * record's sub-sequence number is i. */
#ifndef ALLEYCAT_KPL_H
#define ALLEYCAT_KPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KPL_MAGIC_LEN 4
#define KPL_MD5_LEN 16

/* Whether data starts as an aggregate does (the magic and room for the
 * MD5). */
bool kpl_is_aggregate(const void *data, size_t len);

/* One user record: its data and partition key, borrowed from the
 * aggregate. Returns 0 to go on, -1 to stop (kpl_each then returns -1 with
 * *reason "stopped"). */
typedef int (*kpl_record_fn)(void *user, uint64_t sub_sequence, const uint8_t *data,
			     size_t len, const char *key, size_t key_len);

/* Checks the MD5 and the whole message, then calls fn for each user
 * record in order. 0, or -1 with *reason (static text) for a bad aggregate,
 * before fn was called for any, or "out of memory". */
int kpl_each(const void *data, size_t len, kpl_record_fn fn, void *user, const char **reason);

#endif
