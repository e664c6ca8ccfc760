/* A stream: its shards (each a hash key range over a shard log), its
 * registered consumers, and the write path with per-shard limits. */
#ifndef ALLEYCAT_STREAM_H
#define ALLEYCAT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/shardlog.h"
#include "hub/tags.h"
#include "hub/throttle.h"
#include "wire/hashkey.h"
#include "wire/seqno.h"

#define STREAM_NAME_MAX 128
#define CONSUMER_NAME_MAX 128
#define SHARD_ID_LEN 32                 /* "shardId-" and 12 (up to 20) digits */
#define STREAM_ARN_MAX 256
#define STREAM_HOUR_MS (3600 * 1000LL)
#define STREAM_KEY_ID_MAX 2048          /* a KMS key id, alias or ARN */
#define STREAM_RECORD_KIB_DEFAULT 1024  /* records of up to 1 MiB, until UpdateMaxRecordSize */

/* How a stream is billed and limited: a provisioned stream's shards have
 * the per-shard write limits; an on-demand stream scales, so only AWS's
 * on-demand stream limits apply (spread over its open shards). */
enum stream_mode {
	STREAM_PROVISIONED,
	STREAM_ON_DEMAND,
};

/* The shard-level metrics of enhanced monitoring, as bits. */
enum stream_metric {
	STREAM_METRIC_INCOMING_BYTES = 1 << 0,
	STREAM_METRIC_INCOMING_RECORDS = 1 << 1,
	STREAM_METRIC_OUTGOING_BYTES = 1 << 2,
	STREAM_METRIC_OUTGOING_RECORDS = 1 << 3,
	STREAM_METRIC_WRITE_EXCEEDED = 1 << 4,
	STREAM_METRIC_READ_EXCEEDED = 1 << 5,
	STREAM_METRIC_ITERATOR_AGE = 1 << 6,
	STREAM_METRIC_ALL = (1 << 7) - 1,
};

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
	uint64_t records_out, bytes_out;        /* read by GetRecords */
	int64_t iterator_age_ms;                /* of the last GetRecords */
	/* A mirrored shard: how far behind the upstream's latest the mirror
	 * read it (MillisBehindLatest of the upstream's last event), added to
	 * what the mirror's own readers are told. */
	int64_t upstream_behind_ms;
	/* A mirrored shard's checkpoint: the newest upstream sequence number
	 * stored, kept when retention trims the record away, so the mirror
	 * resumes after it rather than reading the upstream again. Saved
	 * with the stream; mirror_saved is what the saved state holds. */
	seqno_t mirrored_to, mirror_saved;
};

struct stream_consumer {
	char name[CONSUMER_NAME_MAX + 1];
	char arn[STREAM_ARN_MAX + CONSUMER_NAME_MAX + 40];
	int64_t created;                /* epoch seconds, part of the ARN */
	struct tagset tags;
	char *policy;                   /* its resource policy (owned), or NULL */
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
	/* Settings a client changes (saved with the stream). */
	enum stream_mode mode;
	int64_t mode_switches_ms[2];    /* the last two mode changes: two a day at most */
	char key_id[STREAM_KEY_ID_MAX + 1];     /* "" while not encrypted */
	seqno_t encrypted_from;         /* records from here on are written encrypted */
	unsigned shard_metrics;         /* enhanced monitoring: enum stream_metric bits */
	uint32_t warm_mibps;            /* an on-demand stream's warm throughput, MiB/s */
	uint32_t max_record_kib;        /* the largest record: data and key, KiB */
	struct tagset tags;
	char *policy;                   /* its resource policy (owned), or NULL */
	/* A change applies until then: the stream is UPDATING, as in Kinesis,
	 * and refuses another change meanwhile. */
	int64_t updating_until_ms;
	/* A copy of an upstream stream (hub --mirror): its shards and sequence
	 * numbers are the upstream's, set by the stream_mirror_* functions,
	 * and local writes and reshards are refused. Saved: a copy restarted
	 * on its data directory stays one, with or without --mirror. */
	bool mirrored;
	struct stream_mirror_stats {
		int64_t lag_ms;         /* upstream arrival to stored here, last batch */
		uint64_t records;       /* stored */
		uint64_t repeated;      /* held already: replays, skipped */
		uint64_t bad;           /* refused: malformed or outside a shard */
		uint64_t unreadable;    /* records the reader could not read at all */
		uint64_t bad_layouts;   /* upstream shard lists that did not fit */
	} mirror;
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

/* "UPDATING" while a change applies, else "ACTIVE". */
const char *stream_status(const struct stream *s, int64_t now_ms);

/* Whether a record of this sequence number was written encrypted. */
bool stream_encrypted(const struct stream *s, seqno_t seq);

/* An on-demand stream's write throughput, MiB/s: AWS's on-demand limit
 * or its warm throughput, whichever is more. */
uint64_t stream_write_mibps(const struct stream *s);

/* The per-shard write limits the stream's mode gives, from the hub's. */
struct stream_limits stream_mode_limits(const struct stream *s, const struct stream_limits *hub);

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

/* ---- Mirroring: shards and records as an upstream stream has them ---- */

/* A shard as the upstream's ListShards describes it. */
struct stream_mirror_shard {
	char id[SHARD_ID_LEN];
	hashkey_t start, end;
	seqno_t starting_seq;
	seqno_t ending_seq;             /* 0 while it is open upstream */
	char parent[SHARD_ID_LEN];      /* "" for none */
	char adjacent_parent[SHARD_ID_LEN];
};

/* Follows the upstream's shard list (in any order; shards the upstream no
 * longer lists are left as they are): a shard not known yet is appended
 * with its lineage, a known one that closed upstream closes here with the
 * upstream's ending sequence number. A stream that never held a record
 * first drops its own shards, so a fresh mirror takes the upstream's
 * layout whole. The upstream's shard ids must be contiguous from
 * shardId-000000000000, as a hub's and Kinesis's are. Returns how many
 * shards changed (0: none), or -1 with *why saying what does not fit: the
 * stream is then unchanged up to the offending shard. */
int stream_mirror_shards(struct stream *s, const struct stream_mirror_shard *list, size_t n,
			 int64_t now_ms, const char **why);

/* Appends one upstream record to a shard with its own sequence number.
 * 1 when it is new; 0 when the shard holds it (or a later one) already,
 * as a replay after a reconnect or a restart brings; -1 with *why when it
 * cannot be (outside the shard's sequence range, or out of memory). */
/* Whether a record fits: 1 new, 0 held already, -1 (with *why) not in the
 * shard's sequence range. */
int stream_mirror_fits(const struct stream *s, size_t shard, seqno_t seq, const char **why);

int stream_mirror_append(struct stream *s, size_t shard, seqno_t seq, int64_t arrival_ms,
			 const char *key, size_t key_len, const void *data, size_t data_len,
			 const char **why);

/* The sequence number a mirror resumes after in a shard: the newest it
 * stored, even when retention has trimmed it since, or 0 when it stored
 * none (read it from its start). */
seqno_t stream_mirror_position(const struct stream *s, size_t shard);

/* Where a reader at LATEST starts in a shard: above every record written
 * to it later. hub_last is the newest sequence number the hub issued; a
 * mirror's numbers are the upstream's, unrelated to the hub's own, so its
 * readers start after the newest record it stored. */
seqno_t stream_latest(const struct stream *s, size_t shard, uint64_t hub_last);

/* Whether a shard's checkpoint is newer than the saved state's while the
 * shard's log no longer holds the record it names: after a restart the
 * journal could not bring it back, so it must be saved before the journal
 * forgets the record. */
bool stream_mirror_unsaved(const struct stream *s, size_t shard);

struct stream_consumer *stream_find_consumer(struct stream *s, const char *name);
struct stream_consumer *stream_add_consumer(struct stream *s, const char *name, int64_t now_s);
void stream_remove_consumer(struct stream *s, struct stream_consumer *c);

#endif
