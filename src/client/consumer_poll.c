/* The polling reader (consumer_private.h, --read polling): every shard
 * that is ready is read with GetShardIterator, then GetRecords after
 * GetRecords, each answer decoded into a batch as a push event is, so the
 * caller cannot tell the readers apart.
 *
 * Kinesis allows five GetRecords a second a shard: a shard is called at
 * most every POLL_MIN_MS, and every POLL_IDLE_MS when it has nothing new.
 * Throttling (ProvisionedThroughputExceededException, LimitExceeded) slows
 * that shard alone, doubling its wait up to BACKOFF_MAX_MS as the KCL
 * does; an expired iterator is replaced from the shard's position. Any
 * other failure starts the consumer over. Each call carries the generation
 * it was made in: an answer to a call of an older one is dropped. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/consumer_private.h"
#include "util/clock.h"
#include "util/log.h"

#define POLL_MIN_MS 200
#define POLL_IDLE_MS 500
#define GET_RECORDS_LIMIT 10000

/* One call in flight for one shard. */
struct poll_call {
	struct consumer *c;
	unsigned generation;
	char shard_id[CONSUMER_SHARD_ID_MAX];
};

/* The shard a call was for, or NULL when its answer is stale. Frees pc. */
static struct subscription *answered(struct poll_call *pc, int status, struct consumer **c)
{
	struct subscription *s;

	*c = pc->c;
	s = status == HTTPC_CANCELLED || pc->generation != (*c)->generation
		    ? NULL : consumer_find_shard(*c, pc->shard_id);
	free(pc);
	if (s)
		s->in_flight = false;
	return s;
}

/* A call for s that failed: throttling and an expired iterator are the
 * shard's own business; anything else starts the consumer over. */
static void call_failed(struct consumer *c, struct subscription *s, const char *op, int status,
			const char *body, size_t len, const char *error)
{
	json_t *j = status == 400 ? json_loadb(body, len, 0, NULL) : NULL;
	const char *type = consumer_error_type(j);

	if (strcmp(type, "ProvisionedThroughputExceededException") == 0 ||
	    strcmp(type, "LimitExceededException") == 0) {
		consumer_shard_wait_longer(s);
	} else if (strcmp(type, "ExpiredIteratorException") == 0) {
		s->iterator[0] = '\0';
		s->retry_at_ms = 0;
	} else {
		consumer_call_failed(c, op, status, body, len, error);
	}
	json_decref(j);
}

/* The end of a closed shard: its children, from ChildShards, or from the
 * list of shards when the service does not name them. */
static void shard_end(struct consumer *c, struct subscription *s, const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	json_t *children = json_object_get(j, "ChildShards");

	consumer_shard_ended(c, s, children);
	if (json_array_size(children) == 0)
		consumer_calls_list_shards(c);
	json_decref(j);
}

static void take_records(struct consumer *c, struct subscription *s, const char *body,
			 size_t len)
{
	char last_bad[128] = "", next[CONSUMER_ITERATOR_MAX];
	size_t bad = 0;
	uint64_t bytes = 0;
	const char *reason;
	struct consumer_batch *b = consumer_batch_decode_records(
		s->id, body, len, c->config.raw, c->lanes, &bad, last_bad, sizeof(last_bad), &bytes, next,
		sizeof(next), &reason);
	bool end;

	if (b == NULL && strcmp(reason, "out of memory") == 0) {
		/* Nothing was checkpointed past it: the answer is read again. */
		consumer_fail_and_retry(c, "out of memory while decoding GetRecords");
		return;
	}
	if (b == NULL) {
		consumer_call_failed(c, "GetRecords", 200, body, len, NULL);
		return;
	}
	end = strcmp(b->continuation, CONSUMER_SHARD_END) == 0;
	if (b->continuation[0] && !end)
		consumer_shard_moved(s, b->continuation);
	snprintf(s->iterator, sizeof(s->iterator), "%s", next);
	s->throttle_ms = 0;
	s->retry_at_ms = clock_wall_ms() +
			 (b->count || b->millis_behind > 0 ? POLL_MIN_MS : POLL_IDLE_MS);
	consumer_hand_over(c, b, bad, last_bad, bytes);
	if (end)
		shard_end(c, s, body, len);
}

static void on_records(void *user, int status, const char *body, size_t len, const char *error)
{
	struct consumer *c;
	struct subscription *s = answered(user, status, &c);

	if (s == NULL)
		return;
	if (status == 200)
		take_records(c, s, body, len);
	else
		call_failed(c, s, "GetRecords", status, body, len, error);
}

static void on_iterator(void *user, int status, const char *body, size_t len, const char *error)
{
	struct consumer *c;
	struct subscription *s = answered(user, status, &c);
	json_t *j;
	const char *it;

	if (s == NULL)
		return;
	if (status != 200) {
		call_failed(c, s, "GetShardIterator", status, body, len, error);
		return;
	}
	j = json_loadb(body, len, 0, NULL);
	it = json_string_value(json_object_get(j, "ShardIterator"));
	if (it == NULL || strlen(it) >= sizeof(s->iterator))
		consumer_call_failed(c, "GetShardIterator", 200, body, len, NULL);
	else
		snprintf(s->iterator, sizeof(s->iterator), "%s", it);
	json_decref(j);
}

/* Starts op for s with body (stolen). */
static void call_for(struct consumer *c, struct subscription *s, const char *op, json_t *body,
		     httpc_done_fn done)
{
	struct poll_call *pc = calloc(1, sizeof(*pc));

	if (pc == NULL) {
		json_decref(body);
		consumer_fail_and_retry(c, "out of memory for a %s call", op);
		return;
	}
	pc->c = c;
	pc->generation = c->generation;
	snprintf(pc->shard_id, sizeof(pc->shard_id), "%s", s->id);
	s->in_flight = true;
	s->retry_at_ms = clock_wall_ms() + POLL_MIN_MS;
	consumer_call(c, op, body, done, pc);
}

/* An iterator after the shard's position (at it, when partly applied),
 * else at the starting position. */
static void get_iterator(struct consumer *c, struct subscription *s)
{
	json_t *body = s->position[0]
		? json_pack("{s:s, s:s, s:s}", "ShardId", s->id, "ShardIteratorType",
			    consumer_position_type(s), "StartingSequenceNumber", s->position)
		: json_pack("{s:s, s:s}", "ShardId", s->id, "ShardIteratorType",
			    consumer_from_type(c));

	if (body && !s->position[0] && c->config.from == CONSUMER_FROM_TIMESTAMP)
		json_object_set_new(body, "Timestamp", consumer_from_seconds(c));

	call_for(c, s, "GetShardIterator", consumer_name_stream(c, body), on_iterator);
}

static void get_records(struct consumer *c, struct subscription *s)
{
	call_for(c, s, "GetRecords",
		 json_pack("{s:s, s:i}", "ShardIterator", s->iterator, "Limit", GET_RECORDS_LIMIT),
		 on_records);
}

void consumer_poll_tick(struct consumer *c, int64_t now_ms)
{
	bool full = consumer_queue_waits(c);

	for (size_t i = 0; !full && c->step == STEP_STREAMING && i < c->shard_count; i++) {
		struct subscription *s = &c->shards[i];

		if (s->in_flight || now_ms < s->retry_at_ms || !consumer_shard_ready(c, s))
			continue;
		if (s->iterator[0])
			get_records(c, s);
		else
			get_iterator(c, s);
	}
}
