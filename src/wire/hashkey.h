/* Hash keys: where a record lands among a stream's shards.
 *
 * Kinesis maps a partition key to a 128-bit hash key (MD5 of the key, read
 * as a big-endian integer) or takes an ExplicitHashKey in decimal, and each
 * shard owns a contiguous range of the 0..2^128-1 key space. */
#ifndef ALLEYCAT_HASHKEY_H
#define ALLEYCAT_HASHKEY_H

#include <stddef.h>

typedef unsigned __int128 hashkey_t;

#define HASHKEY_MAX (~(hashkey_t)0)
/* 2^128-1 has 39 decimal digits. */
#define HASHKEY_TEXT_MAX 40

/* MD5 of the partition key bytes as a 128-bit big-endian integer. */
hashkey_t hashkey_of_partition_key(const char *key, size_t len);

/* Parses a decimal hash key in 0..2^128-1 ("0" or no leading zeros, as the
 * Kinesis pattern 0|([1-9]\d{0,38}) says). Returns 0, or -1 with *reason
 * set to a static text naming what is wrong. */
int hashkey_parse(const char *text, hashkey_t *out, const char **reason);

/* Writes the decimal form of a key, NUL-terminated, into buf. */
void hashkey_format(hashkey_t key, char buf[HASHKEY_TEXT_MAX]);

/* The even split of the key space into count shards, as Kinesis makes it:
 * shard i starts at i * floor(2^128 / count); the last shard ends at 2^128-1. */
hashkey_t hashkey_shard_start(size_t index, size_t count);
hashkey_t hashkey_shard_end(size_t index, size_t count);

/* Index of the shard of an even split of count shards that holds key. */
size_t hashkey_shard_index(hashkey_t key, size_t count);

#endif
