/* Batches: what a reader of a stream hands over. A batch holds the decoded
 * records of one shard from one read, in shard order, with the sequence
 * number to checkpoint once they are applied. The push consumer makes one
 * of every SubscribeToShardEvent; a reader of another transport (GetRecords,
 * an HTTP/2 event stream) scans its answer into a struct push_event and
 * decodes it the same way.
 *
 * Each record's Data is base64 of a telemetry record; a record that is not
 * one is counted as bad and left out, never fatal. */
#ifndef ALLEYCAT_CONSUMER_BATCH_H
#define ALLEYCAT_CONSUMER_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/push_event.h"
#include "wire/telemetry.h"

#define CONSUMER_SEQ_MAX 132            /* a wire sequence number and NUL */
#define CONSUMER_SHARD_ID_MAX 32
#define CONSUMER_SHARD_END "SHARD_END"  /* the checkpoint of a shard read to its end */

struct parallel;

/* A user record: a Kinesis record, or one of the user records of a KPL
 * aggregate, which share their Kinesis record's sequence number. */
struct consumer_record {
	struct telemetry t;
	int64_t arrival_ms;
	uint32_t origin;                /* its Kinesis record: an index into origins */
	uint32_t sub;                   /* its sub-sequence number there (0: a plain record) */
	bool more;                      /* user records of its aggregate follow it */
};

/* A record as the stream holds it, for a relay (consumer_config.raw):
 * Data is not decoded as telemetry, so nothing is left out for not being
 * one. key and data share one allocation, owned by the batch. */
struct consumer_raw {
	char seq[CONSUMER_SEQ_MAX];
	int64_t arrival_ms;
	char *key;                      /* NUL-terminated */
	unsigned char *data;
	size_t key_len, data_len;
};

struct consumer_batch {
	struct consumer_batch *next;
	char shard_id[CONSUMER_SHARD_ID_MAX];
	char continuation[CONSUMER_SEQ_MAX];    /* checkpoint this once applied
						 * (CONSUMER_SHARD_END after the last) */
	int64_t millis_behind;
	bool gone;                      /* the stream no longer has this shard:
					 * forget its checkpoint (no records) */
	struct consumer_raw *raw;       /* a raw batch: its count records (owned),
					 * and records[] is not used */
	char (*origins)[CONSUMER_SEQ_MAX]; /* each Kinesis record's SequenceNumber, ""
					 * when it had none (owned; NULL in a raw batch) */
	size_t count;
	struct consumer_record records[];
};

/* Decodes a scanned SubscribeToShardEvent's Records into a new batch, on
 * the given lanes (NULL: this thread only). Returns NULL with *reason set
 * when the event is malformed or memory runs out ("out of memory": the
 * event is to be read again); bad records inside a good event are counted
 * in *bad with the last reason in last_bad; *bytes grows by the decoded
 * Data. */
struct consumer_batch *consumer_batch_decode(const struct push_event *ev, struct parallel *lanes,
					    size_t *bad, char *last_bad, size_t last_bad_size,
					    uint64_t *bytes, const char **reason);

/* The same from a push event's text, scanned here (for tests, benchmarks
 * and fuzzing). */
struct consumer_batch *consumer_batch_decode_event(const char *json, size_t len,
						  struct parallel *lanes, size_t *bad, char *last_bad,
						  size_t last_bad_size, uint64_t *bytes,
						  const char **reason);

/* Decodes a GetRecords answer for shard_id, into records kept whole when
 * raw (as consumer_batch_decode_raw), else as consumer_batch_decode does.
 * The batch's continuation is
 * the last record's SequenceNumber ("" when there is none: nothing new to
 * checkpoint), or CONSUMER_SHARD_END when NextShardIterator is null or
 * absent (a closed shard read to its end); the next iterator goes into
 * next ("" at the end). NULL with *reason as consumer_batch_decode says
 * ("malformed GetRecords answer" for one that is not). */
struct consumer_batch *consumer_batch_decode_records(const char *shard_id, const char *json,
						    size_t len, bool raw, struct parallel *lanes, size_t *bad,
						    char *last_bad, size_t last_bad_size,
						    uint64_t *bytes, char *next, size_t next_size,
						    const char **reason);

/* A push event decoded for a relay: every record kept as the stream holds it, its
 * SequenceNumber, PartitionKey and decoded Data, in b->raw. A record
 * without them is bad (counted, left out). */
struct consumer_batch *consumer_batch_decode_raw(const struct push_event *ev, size_t *bad,
						char *last_bad, size_t last_bad_size,
						uint64_t *bytes, const char **reason);

/* An empty batch that says the stream no longer has shard_id (gone), so
 * its checkpoint is forgotten; NULL when memory runs out. */
struct consumer_batch *consumer_batch_gone(const char *shard_id);

/* Where the shard stands once b's records up to r are applied: r's
 * Kinesis record, and the user records of it applied when more of it
 * follow (0 when it is whole). False when r's record had no sequence
 * number (only the batch's continuation can be checkpointed then). */
bool consumer_batch_position_after(const struct consumer_batch *b, const struct consumer_record *r,
				   const char **seq, uint64_t *sub_sequence);

/* Frees a list of batches (through ->next); NULL is ignored. */
void consumer_batch_free(struct consumer_batch *b);

#endif
