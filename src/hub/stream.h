/* A stream: its shards (each a hash key range over a shard log), its
 * registered consumers, and the write path with per-shard limits. */
#ifndef ALLEYCAT_STREAM_H
#define ALLEYCAT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/shardlog.h"
#include "hub/throttle.h"
#include "wire/hashkey.h"
#include "wire/seqno.h"

#define STREAM_NAME_MAX 128
#define CONSUMER_NAME_MAX 128
#define SHARD_ID_LEN 32                 /* "shardId-" and 12 (up to 20) digits */
#define STREAM_ARN_MAX 256
#define STREAM_HOUR_MS (3600 * 1000LL)

struct shard {
	char id[SHARD_ID_LEN];
	hashkey_t start, end;           /* the hash key range, inclusive */
	seqno_t starting_seq;           /* below every record of the shard */
	seqno_t ending_seq;             /* 0 while the shard is open */
	int64_t closed_ms;              /* when it closed (epoch ms), if it did */
	/* Closed longer than the retention: every record it held has expired,
	 * and as in Kinesis the API no longer knows it (its children still
	 * name it as a parent). Its place in the array stays, as its index is
	 * its id and what the journal, iterators and push subscriptions hold. */
	bool forgotten;
	int parent, adjacent_parent;    /* shard indexes, -1 for none */
	struct shardlog log;
	struct throttle writes;
	uint64_t records_in, bytes_in, throttled;
};

struct stream_consumer {
	char name[CONSUMER_NAME_MAX + 1];
	char arn[STREAM_ARN_MAX + CONSUMER_NAME_MAX + 40];
	int64_t created;                /* epoch seconds, part of the ARN */
};

struct stream {
	char name[STREAM_NAME_MAX + 1];
	char arn[STREAM_ARN_MAX];
	uint64_t uid;                   /* this incarnation of the name */
	int64_t created_ms;
	int64_t retention_ms;           /* records and closed shards last this long */
	struct shard *shards;
	size_t shard_count;
	/* The open shards' indexes in hash key order, with room for
	 * shard_count: writes look a key up here, never among the closed
	 * shards, which pile up with every reshard. */
	size_t *open;
	size_t open_count;
	size_t first_known;             /* the shards below it are all forgotten */
	struct stream_consumer *consumers;
	size_t consumer_count;
	uint64_t bytes;                 /* key and data bytes retained */
};

/* What a write asks for and what it gets. */
struct put_entry {
	const char *key;
	size_t key_len;
	hashkey_t hash;                 /* of the key, or the explicit hash key */
	const void *data;
	size_t data_len;
};

enum put_status {
	PUT_OK,
	PUT_THROTTLED,
	PUT_FAILED,                     /* internal failure: the record was not stored */
};

struct put_result {
	enum put_status status;
	size_t shard;
	seqno_t seq;
};

struct stream_limits {
	uint64_t shard_records_per_sec; /* 0 = unlimited */
	uint64_t shard_bytes_per_sec;
};

/* A new stream of shard_count evenly split shards; NULL when out of memory. */
struct stream *stream_new(const char *name, const char *arn_prefix, uint64_t uid,
			  size_t shard_count, struct seqno_gen *gen, int64_t now_ms);
void stream_free(struct stream *s);

/* The open shard whose range holds hash: a binary search. */
size_t stream_shard_for(const struct stream *s, hashkey_t hash);

/* Builds the index of open shards of a stream whose shards were set by
 * hand (a saved state); -1 when out of memory. */
int stream_index_open(struct stream *s);

/* Index of the shard with this id, or -1 (also once it is forgotten). */
int stream_find_shard(const struct stream *s, const char *shard_id);

/* Whether an index held from earlier (an iterator, a subscription) still
 * names a shard the stream knows. */
bool stream_shard_known(const struct stream *s, size_t shard);

/* The retention as Kinesis reports it, in whole hours (at least 1). */
int stream_retention_hours(const struct stream *s);

/* Decides each entry's shard and fate under the write limits, in request
 * order: once a shard refuses an entry it refuses the request's later
 * entries too, so a retrying producer keeps per-key order. Accepted entries
 * get sequence numbers but are not stored yet (see stream_store). */
void stream_admit(struct stream *s, const struct stream_limits *limits,
		  const struct put_entry *entries, size_t n, struct put_result *results,
		  struct seqno_gen *gen, int64_t now_ms);

/* Stores the admitted entries in their shard logs; an entry that cannot be
 * stored becomes PUT_FAILED. */
void stream_store(struct stream *s, const struct put_entry *entries, size_t n,
		  struct put_result *results, int64_t now_ms);

/* Applies retention: drops records older than the stream's retention and,
 * oldest first across shards, records beyond max_bytes, and forgets the
 * shards closed longer ago than the retention. Returns how many records
 * it dropped. */
size_t stream_trim(struct stream *s, int64_t now_ms, uint64_t max_bytes);

/* Resharding at now_ms; shard and adjacent must be valid indexes (a bad one
 * is the caller's ResourceNotFoundException). Each closes the shards it
 * replaces and appends children naming them as parents (a merge's child: the
 * lower range as parent, the higher as adjacent parent). Return 0, or -1
 * with *why the AWS error: ResourceInUseException for a closed shard,
 * InvalidArgumentException for a key outside the shard or shards not
 * adjacent, InternalFailure when out of memory. */
int stream_split(struct stream *s, size_t shard, hashkey_t new_start, struct seqno_gen *gen,
		 int64_t now_ms, const char **why);
int stream_merge(struct stream *s, size_t shard, size_t adjacent, struct seqno_gen *gen,
		 int64_t now_ms, const char **why);
/* Takes the open shards to target evenly split ones (the ranges
 * stream_new gives) by splits at the new boundaries inside open shards,
 * then pairwise merges of the pieces of each new range. Every shard made
 * names all the shards its range came from; those only a step needs close
 * at once, empty. Open shards whose range is already right stay open. All
 * the steps happen, or (out of memory) none. */
int stream_update_shard_count(struct stream *s, size_t target, struct seqno_gen *gen,
			      int64_t now_ms, const char **why);

size_t stream_open_shards(const struct stream *s);

struct stream_consumer *stream_find_consumer(struct stream *s, const char *name);
struct stream_consumer *stream_add_consumer(struct stream *s, const char *name, int64_t now_s);
void stream_remove_consumer(struct stream *s, struct stream_consumer *c);

#endif
