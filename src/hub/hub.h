/* The hub's state: its streams, the sequence number generator, limits,
 * and (with a data directory) the journal that makes writes durable.
 * Nothing here does network I/O; the server and the Kinesis API drive it. */
#ifndef ALLEYCAT_HUB_H
#define ALLEYCAT_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "hub/stream.h"
#include "wire/seqno.h"

struct journal;

struct hub_config {
	const char *data_dir;               /* NULL: in memory */
	const char *region;
	const char *account;
	struct stream_limits limits;
	uint64_t retention_bytes;           /* per stream, 0 = unlimited */
	int64_t retention_seconds;          /* for new streams */
	int max_consumers;                  /* per stream */
	int max_shards;                     /* per stream */
	int subscription_seconds;
	uint64_t push_bytes_per_sec;        /* per consumer and shard */
	int64_t update_ms;                  /* how long a stream is UPDATING after a change */
};

void hub_config_defaults(struct hub_config *config);

/* Account-level settings (UpdateAccountSettings): the minimum throughput
 * billing commitment, started and (once asked to end) ending, epoch ms;
 * 0 for none. */
struct hub_account {
	int64_t commitment_started_ms;
	int64_t commitment_end_ms;
};

struct hub {
	struct hub_config config;
	struct hub_account account;
	char arn_prefix[96];                /* arn:aws:kinesis:REGION:ACCOUNT */
	struct seqno_gen gen;
	struct stream **streams;
	size_t stream_count;
	struct journal *journal;
};

/* Opens the hub: with a data directory, streams, consumers and records come
 * back from the journal. NULL with a message in err on failure. */
struct hub *hub_open(const struct hub_config *config, int64_t now_ms, char *err, size_t errlen);
void hub_close(struct hub *hub);

struct stream *hub_find_stream(struct hub *hub, const char *name);

/* Saves the control-plane state (streams, shards, consumers, their
 * settings) after a change; a no-op in memory. 0, or -1 when it could not
 * be saved (the change then holds in memory only). */
int hub_save(struct hub *hub);

/* Finds a stream by name or ARN (whichever is given). */
struct stream *hub_find_stream_by(struct hub *hub, const char *name, const char *arn);

/* Creates a stream (owned by the hub); NULL when out of memory or the state
 * cannot be saved. */
struct stream *hub_create_stream(struct hub *hub, const char *name, size_t shard_count,
				 int64_t now_ms);
int hub_delete_stream(struct hub *hub, struct stream *s);

struct stream_consumer *hub_register_consumer(struct hub *hub, struct stream *s, const char *name,
				       int64_t now_ms);
int hub_deregister_consumer(struct hub *hub, struct stream *s, struct stream_consumer *c);

/* Finds a consumer by its ARN across the streams; sets *stream. */
struct stream_consumer *hub_find_consumer_arn(struct hub *hub, const char *arn, struct stream **stream);

/* Writes records: admits them under the limits, makes the admitted ones
 * durable (with a data directory), stores them and applies retention.
 * Each entry gets a result, in request order. */
void hub_put(struct hub *hub, struct stream *s, const struct put_entry *entries, size_t n,
	     struct put_result *results, int64_t now_ms);

/* Reshards a stream at now_ms (see stream_split, stream_merge and
 * stream_update_shard_count) and saves the new shards. */
int hub_split_shard(struct hub *hub, struct stream *s, size_t shard, hashkey_t new_start,
		    int64_t now_ms, const char **why);
int hub_merge_shards(struct hub *hub, struct stream *s, size_t shard, size_t adjacent,
		     int64_t now_ms, const char **why);
int hub_update_shard_count(struct hub *hub, struct stream *s, size_t target, int64_t now_ms,
			   const char **why);

/* A record of an upstream stream, for a mirrored one. */
struct mirror_record {
	seqno_t seq;
	int64_t arrival_ms;
	const char *key;
	size_t key_len;
	const void *data;
	size_t data_len;
};

/* Follows the upstream's shard list (stream_mirror_shards) and saves the
 * shards when they changed: the count changed, or -1 with *why. */
int hub_mirror_shards(struct hub *hub, struct stream *s, const struct stream_mirror_shard *list,
		      size_t n, int64_t now_ms, const char **why);

/* Stores upstream records of one shard under their own sequence numbers:
 * those it holds already are skipped (counted in s->mirror.repeated),
 * those that do not fit are counted in s->mirror.bad; the new ones are
 * made durable first (with a data directory), as hub_put does, so a
 * reader never sees one that a crash could take back. 0, or -1 when the
 * journal failed (nothing of the batch stored: it is to be read again). */
int hub_mirror_records(struct hub *hub, struct stream *s, size_t shard,
		       const struct mirror_record *recs, size_t n);

/* Applies retention to every stream (called about once a second): old
 * records go, and so do shards closed longer ago than the retention. */
void hub_expire(struct hub *hub, int64_t now_ms);

#endif
