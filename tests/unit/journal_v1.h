/* Segments as the journal's version 1 wrote them (u64 sequence numbers),
 * for the tests that a data directory of an earlier hub still opens. */
#ifndef ALLEYCAT_TEST_JOURNAL_V1_H
#define ALLEYCAT_TEST_JOURNAL_V1_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_V1_HEADER 20
#define JOURNAL_V1_FIXED 42     /* frame and fields before the key */
#define JOURNAL_V1_SALT 0x5d5c5b5au

/* The segment header of the given version, salted with JOURNAL_V1_SALT. */
void journal_v1_header(unsigned char h[JOURNAL_V1_HEADER], uint32_t version);

/* One framed version-1 record into buf; returns its size,
 * JOURNAL_V1_FIXED + key_len + data_len. */
size_t journal_v1_record(unsigned char *buf, uint64_t uid, uint32_t shard, uint64_t seq,
			 int64_t arrival_ms, const char *key, size_t key_len, const void *data,
			 size_t data_len);

#endif
