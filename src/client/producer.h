/* The producer: puts records into a Kinesis-compatible stream with
 * PutRecords, at least once and in order per partition key.
 *
 * Records wait in one queue in the order they were added. A batch takes
 * ready records from the front (up to 500 and 5 MiB); a record whose key
 * has an earlier record still in flight or waiting to be retried stays
 * behind it, so retries never reorder a key. Refused records (throttled,
 * internal failures, lost connections) are retried with exponential
 * backoff and jitter until they land or max_retries is reached. */
#ifndef ALLEYCAT_PRODUCER_H
#define ALLEYCAT_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/endpoint.h"
#include "client/failure.h"

struct httpc;

#define PRODUCER_BATCH_MAX 500
#define PRODUCER_BATCH_BYTES_MAX (5u * 1024 * 1024)

struct producer_config {
	struct endpoint endpoint;       /* its credentials, if any, sign every request */
	const char *stream;
	size_t batch;                   /* records per PutRecords, 1..500 */
	int max_in_flight;              /* requests at once */
	int max_retries;                /* attempts after the first; 0 = never give up */
	uint64_t seed;                  /* for backoff jitter */
	bool can_create;                /* failures may suggest --create-stream */
};

struct producer_stats {
	uint64_t sent;                  /* distinct records handed to the producer */
	uint64_t landed;                /* distinct records acknowledged */
	uint64_t throttled;             /* refusals for the write limit */
	uint64_t retried;               /* attempts after the first, once made */
	uint64_t failed;                /* records given up on */
	uint64_t duplicates;            /* extra copies sent on purpose */
	uint64_t requests;
	char last_error[FAILURE_TEXT_MAX]; /* the last failure, worded by client/failure */
};

struct producer;

/* A producer that sends its requests with http (borrowed: it must outlive
 * the producer, and cancel or finish its requests before producer_free). */
struct producer *producer_new(struct httpc *http, const struct producer_config *config);
void producer_free(struct producer *p);

/* Queues a record (key and data are copied). A duplicate is a deliberate
 * second copy of a record already added: it counts as a duplicate, not as
 * sent. Returns -1 when out of memory. */
int producer_add(struct producer *p, const char *key, const void *data, size_t len,
		 bool duplicate);

/* Starts as many PutRecords requests as the limits allow. Call it often
 * (every pass of the service loop). */
void producer_pump(struct producer *p, int64_t now_ms);

/* Records queued or in flight. */
size_t producer_pending(const struct producer *p);

/* Records sent (duplicates aside) that have neither landed nor failed:
 * waiting, in flight, or waiting to be retried. O(queue). */
uint64_t producer_unanswered(const struct producer *p);

const struct producer_stats *producer_stats(const struct producer *p);

/* Gives up on every record waiting to be sent or sent again: each counts
 * as failed, and none is sent. Records in flight stay unanswered until
 * their requests end (or are cancelled). For a run that stops trying. */
void producer_give_up(struct producer *p);

/* The last request that failed as a whole (borrowed), with the time of the
 * first such failure since the last good answer (0: the last answer was
 * good) and the count of such failures ever, which changes when there is
 * news. Nothing is logged here: the caller decides whether to go on. */
const struct failure *producer_failure(const struct producer *p, int64_t *since_ms,
				       uint64_t *count);

/* The two steps of a request, exposed so tests can drive them without a
 * network. producer_take selects the next batch (marking it in flight)
 * and returns its size; producer_settle reports each record's outcome. */
struct producer_record;

enum producer_outcome {
	PRODUCER_LANDED,
	PRODUCER_THROTTLED,
	PRODUCER_RETRY,                 /* any other failure worth another try */
	PRODUCER_REJECTED,              /* refused for good (a bad key, a bad request) */
};

size_t producer_take(struct producer *p, int64_t now_ms, struct producer_record **batch,
		     size_t max);
void producer_settle(struct producer *p, struct producer_record **batch, size_t n,
		     const enum producer_outcome *outcomes, int64_t now_ms);

/* A record's partition key (borrowed). */
const char *producer_record_key(const struct producer_record *r);

#endif
