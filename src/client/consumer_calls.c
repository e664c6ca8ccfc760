/* The consumer's control-plane calls (consumer_private.h): the stream's
 * ARN (DescribeStreamSummary), the registration (RegisterStreamConsumer,
 * or DescribeStreamConsumer when the name is registered already) and the
 * list of shards (ListShards), one after the other, each from the answer
 * of the one before. Calls go through libcurl (client/httpc), whose
 * sockets are not in the lws loop: a timer drives them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/api_call.h"
#include "client/consumer_private.h"
#include "client/httpc.h"
#include "util/log.h"

/* While an API call is in flight, a timer hands libcurl a turn every
 * millisecond for the first HTTP_DRIVE_FAST turns (a near hub answers
 * within them), then less often the longer the answer takes, up to every
 * 20 ms, so that a slow server costs few wake-ups. */
#define HTTP_DRIVE_MIN_MS 1
#define HTTP_DRIVE_MAX_MS 20
#define HTTP_DRIVE_FAST 16

static void call(struct consumer *c, const char *op, json_t *body, httpc_done_fn done);

/* ------------------------------------------------------------------ */
/* The list of shards                                                 */
/* ------------------------------------------------------------------ */

static bool listed(json_t *shards, const char *id)
{
	json_t *sh;
	size_t i;

	json_array_foreach(shards, i, sh) {
		const char *listed_id = json_string_value(json_object_get(sh, "ShardId"));
		if (listed_id && strcmp(listed_id, id) == 0)
			return true;
	}
	return false;
}

/* Drops the stats of shards no longer in the list. Under the lock. */
static void forget_stats(struct consumer *c)
{
	size_t keep = 0;

	for (size_t i = 0; i < c->stats.shard_count; i++)
		if (consumer_find_shard(c, c->stats.shards[i].shard_id))
			c->stats.shards[keep++] = c->stats.shards[i];
	c->stats.shard_count = keep;
}

/* The hub forgets a closed shard once its records are past retention, as
 * Kinesis does. So does the consumer, checkpoint included (by an empty
 * batch marked gone), so that its lists stay as short as the stream's. */
static void forget_unlisted(struct consumer *c, json_t *shards)
{
	size_t keep = 0;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->shard_count; i++) {
		struct subscription *s = &c->shards[i];
		struct consumer_batch *gone;

		if (listed(shards, s->id)) {
			c->shards[keep++] = *s;
			continue;
		}
		if (!s->finished)
			log_warn("consumer %s: %s is gone from the stream before it was read to its "
				 "end (past retention)", c->name, s->id);
		if ((gone = consumer_batch_gone(s->id)) != NULL)
			consumer_queue_append(&c->queue, gone);
	}
	c->shard_count = keep;
	forget_stats(c);
	pthread_mutex_unlock(&c->lock);
}

/* A shard checkpointed as read to its end that the stream lists as open
 * is not the shard that was read (an in-memory hub started afresh, a
 * stream made again under its name): it is read whole, from its start. */
static void reopen_if_open(struct consumer *c, struct subscription *s, json_t *range)
{
	const char *start = json_string_value(json_object_get(range, "StartingSequenceNumber"));

	if (s == NULL || !s->finished || json_object_get(range, "EndingSequenceNumber") ||
	    start == NULL || strlen(start) >= sizeof(s->position))
		return;
	log_warn("consumer %s: %s was checkpointed as read to its end but is open: reading it "
		 "from its start", c->name, s->id);
	snprintf(s->position, sizeof(s->position), "%s", start);
	pthread_mutex_lock(&c->lock);
	s->finished = false;
	s->caught_up = false;
	pthread_mutex_unlock(&c->lock);
}

static void on_list_shards(void *user, int status, const char *body, size_t len,
			   const char *error)
{
	struct consumer *c = user;
	json_t *j = json_loadb(body, len, 0, NULL), *shards = json_object_get(j, "Shards"), *sh;
	size_t i;

	if (status != 200 || !json_is_array(shards)) {
		consumer_call_failed(c, "ListShards", status, body, len, error);
		json_decref(j);
		return;
	}
	json_array_foreach(shards, i, sh) {
		const char *id = json_string_value(json_object_get(sh, "ShardId"));
		json_t *parents = json_array();

		json_array_append_new(parents, json_copy(json_object_get(sh, "ParentShardId")));
		json_array_append_new(parents,
				      json_copy(json_object_get(sh, "AdjacentParentShardId")));
		reopen_if_open(c, consumer_learn_shard(c, id, parents),
			       json_object_get(sh, "SequenceNumberRange"));
		json_decref(parents);
	}
	if (c->step != STEP_LIST_SHARDS) {       /* it failed while learning them */
		json_decref(j);
		return;
	}
	if (json_object_get(j, "NextToken") == NULL)
		forget_unlisted(c, shards);
	json_decref(j);
	c->step = STEP_CONNECT;
	c->next_attempt_ms = 0;
}

static void list_shards(struct consumer *c)
{
	c->step = STEP_LIST_SHARDS;
	/* One page of every shard: only a whole list tells which are gone. */
	call(c, "ListShards", json_pack("{s:s, s:i}", "StreamName", c->stream, "MaxResults", 10000),
	     on_list_shards);
}

/* ------------------------------------------------------------------ */
/* The stream and the registration                                    */
/* ------------------------------------------------------------------ */

static void take_arn(struct consumer *c, json_t *consumer)
{
	const char *arn = json_string_value(json_object_get(consumer, "ConsumerARN"));

	snprintf(c->consumer_arn, sizeof(c->consumer_arn), "%s", arn ? arn : "");
}

static void on_describe_consumer(void *user, int status, const char *body, size_t len,
				 const char *error)
{
	struct consumer *c = user;
	json_t *j = json_loadb(body, len, 0, NULL);

	if (status != 200) {
		consumer_call_failed(c, "DescribeStreamConsumer", status, body, len, error);
	} else {
		take_arn(c, json_object_get(j, "ConsumerDescription"));
		list_shards(c);
	}
	json_decref(j);
}

static void on_register(void *user, int status, const char *body, size_t len, const char *error)
{
	struct consumer *c = user;
	json_t *j = json_loadb(body, len, 0, NULL);

	if (status == 200) {
		take_arn(c, json_object_get(j, "Consumer"));
		log_info("registered consumer %s", c->name);
		list_shards(c);
	} else if (status == 400 && strcmp(consumer_error_type(j), "ResourceInUseException") == 0) {
		c->step = STEP_DESCRIBE_CONSUMER;
		call(c, "DescribeStreamConsumer",
		     json_pack("{s:s, s:s}", "StreamARN", c->stream_arn, "ConsumerName", c->name),
		     on_describe_consumer);
	} else {
		consumer_call_failed(c, "RegisterStreamConsumer", status, body, len, error);
	}
	json_decref(j);
}

static void on_describe(void *user, int status, const char *body, size_t len, const char *error)
{
	struct consumer *c = user;
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *arn = json_string_value(
		json_object_get(json_object_get(j, "StreamDescriptionSummary"), "StreamARN"));

	if (status != 200 || arn == NULL) {
		consumer_call_failed(c, "DescribeStreamSummary", status, body, len, error);
	} else {
		snprintf(c->stream_arn, sizeof(c->stream_arn), "%s", arn);
		c->step = STEP_REGISTER;
		call(c, "RegisterStreamConsumer",
		     json_pack("{s:s, s:s}", "StreamARN", arn, "ConsumerName", c->name), on_register);
	}
	json_decref(j);
}

/* ------------------------------------------------------------------ */
/* Driving libcurl                                                    */
/* ------------------------------------------------------------------ */

/* Gives libcurl a turn while calls are in flight. */
static void on_http_tick(lws_sorted_usec_list_t *sul)
{
	struct consumer *c = lws_container_of(sul, struct consumer, http_tick);

	if (httpc_perform(c->http) == 0 || atomic_load(&c->stop))
		return;
	lws_sul_schedule(c->context, 0, &c->http_tick, on_http_tick,
			 c->http_drive_ms * LWS_US_PER_MS);
	if (++c->http_turns >= HTTP_DRIVE_FAST && c->http_drive_ms * 2 <= HTTP_DRIVE_MAX_MS)
		c->http_drive_ms *= 2;
}

/* A call just started: it goes out now, and is looked after from here. */
static void drive_http(struct consumer *c)
{
	c->http_drive_ms = HTTP_DRIVE_MIN_MS;
	c->http_turns = 0;
	httpc_perform(c->http);
	lws_sul_schedule(c->context, 0, &c->http_tick, on_http_tick,
			 HTTP_DRIVE_MIN_MS * LWS_US_PER_MS);
}

static void call(struct consumer *c, const char *op, json_t *body, httpc_done_fn done)
{
	if (api_call_start(c->http, &c->config.endpoint, op, body, done, c) < 0)
		consumer_fail_and_retry(c, "%s: cannot start a request", op);
	else
		drive_http(c);
}

/* ------------------------------------------------------------------ */
/* Public (to the consumer's files)                                   */
/* ------------------------------------------------------------------ */

void consumer_call_failed(struct consumer *c, const char *op, int status, const char *body,
			  size_t len, const char *error)
{
	struct failure f;
	struct failure_call call = { .endpoint = &c->config.endpoint, .op = op,
				     .stream = c->stream };
	char why[128];

	snprintf(why, sizeof(why), "the answer to %s lacks what it must hold", op);
	if (status == 200)
		failure_classify(&f, &call, 0, NULL, 0, why);
	else
		failure_classify(&f, &call, status, body, len, error);
	consumer_retry_after(c, &f);
}

const char *consumer_error_type(json_t *j)
{
	const char *t = json_string_value(json_object_get(j, "__type"));

	return t ? t : "";
}

void consumer_calls_begin(struct consumer *c)
{
	c->step = STEP_DESCRIBE;
	consumer_set_status(c, CONSUMER_CONNECTING, "connecting to %s:%d", c->config.endpoint.host,
			    c->config.endpoint.port);
	call(c, "DescribeStreamSummary", json_pack("{s:s}", "StreamName", c->stream), on_describe);
}
