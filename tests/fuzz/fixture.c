/* The hub the Kinesis and push targets run against, rebuilt for every
 * input so that each run is independent and a crash reproduces from its
 * input alone. */
#include "config.h"
#include "fuzz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/kinesis.h"
#include "hub/stream.h"
#include "util/errtext.h"
#include "wire/hashkey.h"

static void die(const char *what)
{
	fprintf(stderr, "fuzz fixture: %s\n", what);
	abort();
}

struct hub *fuzz_hub(int subscription_seconds)
{
	struct hub_config config;
	char err[ERR_TEXT_MAX];
	struct hub *hub;
	struct stream *s;

	hub_config_defaults(&config);
	/* Limits off: a throttled write would hide the paths behind it. */
	config.limits.shard_records_per_sec = 0;
	config.limits.shard_bytes_per_sec = 0;
	if (subscription_seconds > 0)
		config.subscription_seconds = subscription_seconds;
	hub = hub_open(&config, FUZZ_NOW_MS, err, sizeof(err));
	if (hub == NULL)
		die(err);
	s = hub_create_stream(hub, FUZZ_STREAM, FUZZ_SHARDS, FUZZ_NOW_MS);
	if (s == NULL || hub_register_consumer(hub, s, "board", FUZZ_NOW_MS) == NULL)
		die("cannot create the stream and its consumer");
	return hub;
}

void fuzz_put_records(struct hub *hub, int n, int64_t now_ms)
{
	struct stream *s = hub_find_stream(hub, FUZZ_STREAM);
	char key[32], data[256];

	for (int i = 0; i < n; i++) {
		struct put_entry e;
		struct put_result r;
		int len = snprintf(data, sizeof(data),
				   "{\"event\":\"update\",\"second\":%d,\"raceId\":5775288,"
				   "\"name\":\"Racer %d\",\"racerId\":%d,\"classId\":3,"
				   "\"cadence\":81.0,\"resistance\":79.0}",
				   i + 1, i, 100 + i);

		e.key_len = (size_t)snprintf(key, sizeof(key), "racer-%d", i);
		e.key = key;
		e.hash = hashkey_of_partition_key(key, e.key_len);
		e.data = data;
		e.data_len = (size_t)len;
		hub_put(hub, s, &e, 1, &r, now_ms);
		if (r.status != PUT_OK)
			die("cannot put a record");
	}
}

static const char *const targets[] = {
	"Kinesis_20131202.CreateStream",
	"Kinesis_20131202.DeleteStream",
	"Kinesis_20131202.DeregisterStreamConsumer",
	"Kinesis_20131202.DescribeStream",
	"Kinesis_20131202.DescribeStreamConsumer",
	"Kinesis_20131202.DescribeStreamSummary",
	"Kinesis_20131202.GetRecords",
	"Kinesis_20131202.GetShardIterator",
	"Kinesis_20131202.ListShards",
	"Kinesis_20131202.ListStreamConsumers",
	"Kinesis_20131202.ListStreams",
	"Kinesis_20131202.PutRecord",
	"Kinesis_20131202.PutRecords",
	"Kinesis_20131202.RegisterStreamConsumer",
	/* What the hub must refuse with UnknownOperationException. */
	"Kinesis_20131202.SubscribeToShard",
	"Kinesis_20131202.",
	"Kinesis_20131201.PutRecord",
	NULL,
	/* The operations on settings, tags and policies (after the others, so
	 * that the inputs found before them keep their targets). */
	"Kinesis_20131202.AddTagsToStream",
	"Kinesis_20131202.RemoveTagsFromStream",
	"Kinesis_20131202.ListTagsForStream",
	"Kinesis_20131202.TagResource",
	"Kinesis_20131202.UntagResource",
	"Kinesis_20131202.ListTagsForResource",
	"Kinesis_20131202.IncreaseStreamRetentionPeriod",
	"Kinesis_20131202.DecreaseStreamRetentionPeriod",
	"Kinesis_20131202.StartStreamEncryption",
	"Kinesis_20131202.StopStreamEncryption",
	"Kinesis_20131202.EnableEnhancedMonitoring",
	"Kinesis_20131202.DisableEnhancedMonitoring",
	"Kinesis_20131202.DescribeLimits",
	"Kinesis_20131202.UpdateStreamMode",
	"Kinesis_20131202.PutResourcePolicy",
	"Kinesis_20131202.GetResourcePolicy",
	"Kinesis_20131202.DeleteResourcePolicy",
	"Kinesis_20131202.DescribeAccountSettings",
	"Kinesis_20131202.UpdateAccountSettings",
	"Kinesis_20131202.UpdateStreamWarmThroughput",
	"Kinesis_20131202.UpdateMaxRecordSize",
};

const char *fuzz_target(uint8_t choice)
{
	return targets[choice % (sizeof(targets) / sizeof(targets[0]))];
}

void fuzz_api_call(const uint8_t *data, size_t size, const char *content_type,
		   struct kinesis_reply *reply)
{
	struct hub *hub = fuzz_hub(0);

	fuzz_put_records(hub, 8, FUZZ_NOW_MS);
	kinesis_answer(hub, fuzz_target(data[0]), content_type, (const char *)data + 1, size - 1,
		       FUZZ_NOW_MS + 1000, reply);
	hub_close(hub);
}

static void check(bool ok, const char *target, const char *what,
		  const struct kinesis_reply *reply)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_%s: %s: status %d, error %s, %zu bytes\n", target, what,
		reply->status, reply->error ? reply->error : "(none)", reply->len);
	abort();
}

void fuzz_check_answer(const char *target, const struct kinesis_reply *reply,
		       const json_t *answer)
{
	json_t *type = json_object_get(answer, "__type");

	check(reply->status == 200 ? reply->error == NULL
				   : (reply->status == 400 || reply->status == 500) && reply->error,
	      target, "status and error type disagree", reply);
	check(json_is_object(answer), target, "the answer is not an object", reply);
	if (reply->error)
		check(json_is_string(type) && strcmp(json_string_value(type), reply->error) == 0 &&
			      json_is_string(json_object_get(answer, "message")),
		      target, "an error without its __type and message", reply);
	else
		check(type == NULL, target, "a success with a __type", reply);
}
