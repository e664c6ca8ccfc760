/* The operations on a stream's settings as a client sees them: tags,
 * retention, encryption, enhanced monitoring, capacity mode, limits and
 * resource policies, their state machine (UPDATING, then ACTIVE), what they
 * change in the other answers, the errors in AWS's words, and that they
 * survive a restart with a data directory. */
#include "config.h"

#include <ftw.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/hub.h"
#include "hub/kinesis.h"

#define T0 1795659501000LL
#define HOUR (3600 * 1000LL)
#define ARN "arn:aws:kinesis:us-east-1:000000000000:stream/alleycat"

static struct hub *open_hub(const char *data_dir, uint64_t records_per_sec)
{
	struct hub_config config;
	char err[256];
	struct hub *hub;

	hub_config_defaults(&config);
	config.data_dir = data_dir;
	config.limits.shard_records_per_sec = records_per_sec;
	hub = hub_open(&config, T0, err, sizeof(err));
	assert_non_null(hub);
	if (hub_find_stream(hub, "alleycat") == NULL) {
		struct stream *s = hub_create_stream(hub, "alleycat", 2, T0);
		assert_non_null(s);
		assert_non_null(hub_register_consumer(hub, s, "board", T0));
	}
	return hub;
}

/* One call at time now: the answer's body, parsed; *type the error type
 * or "" on success. The body is printf-formatted. */
static json_t *ask(struct hub *hub, int64_t now, const char **type, const char *op,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static json_t *ask(struct hub *hub, int64_t now, const char **type, const char *op,
		   const char *fmt, ...)
{
	char target[128], body[4096];
	struct kinesis_reply reply;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(target, sizeof(target), "%s%s", KINESIS_TARGET_PREFIX, op);
	kinesis_handle(hub, target, body, strlen(body), now, &reply);
	j = json_loadb(reply.body, reply.len, 0, NULL);
	assert_non_null(j);
	*type = reply.error ? json_string_value(json_object_get(j, "__type")) : "";
	if (*type == NULL)
		*type = "?";
	free(reply.body);
	return j;
}

/* The call must succeed: its answer (new reference). */
#define OK(hub, now, op, ...)                                                            \
	({                                                                               \
		const char *type_;                                                       \
		json_t *j_ = ask(hub, now, &type_, op, __VA_ARGS__);                     \
		if (type_[0])                                                            \
			fail_msg("%s: %s", op, json_dumps(j_, 0));                       \
		j_;                                                                      \
	})

/* The call must fail with the error type; returns its message (static). */
static const char *refused(struct hub *hub, int64_t now, const char *want, const char *op,
			   const char *body)
{
	static char message[1024];
	const char *type;
	json_t *j = ask(hub, now, &type, op, "%s", body);

	if (strcmp(type, want) != 0)
		fail_msg("%s %s: wanted %s, got %s", op, body, want, json_dumps(j, 0));
	snprintf(message, sizeof(message), "%s",
		 json_string_value(json_object_get(j, "message")));
	json_decref(j);
	return message;
}

static const char *summary_field(struct hub *hub, int64_t now, const char *field)
{
	static char text[256];
	json_t *j = OK(hub, now, "DescribeStreamSummary", "{\"StreamName\":\"alleycat\"}");
	json_t *v = json_object_get(json_object_get(j, "StreamDescriptionSummary"), field);

	if (json_is_string(v))
		snprintf(text, sizeof(text), "%s", json_string_value(v));
	else
		snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
	json_decref(j);
	return text;
}

/* ------------------------------------------------------------------ */

static void test_tags_by_stream_and_limit(void **state)
{
	struct hub *hub = open_hub(NULL, 1000);
	json_t *j;
	char body[4096];
	size_t n;

	(void)state;
	json_decref(OK(hub, T0, "AddTagsToStream",
		       "{\"StreamName\":\"alleycat\",\"Tags\":{\"b\":\"2\",\"a\":\"1\",\"c\":\"\"}}"));
	/* Listed in key order, a page at a time. */
	j = OK(hub, T0, "ListTagsForStream", "{\"StreamName\":\"alleycat\",\"Limit\":2}");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "Tags"), 0), "Key")), "a");
	assert_int_equal(json_array_size(json_object_get(j, "Tags")), 2);
	assert_true(json_is_true(json_object_get(j, "HasMoreTags")));
	json_decref(j);
	j = OK(hub, T0, "ListTagsForStream",
	       "{\"StreamARN\":\"" ARN "\",\"ExclusiveStartTagKey\":\"b\"}");
	assert_int_equal(json_array_size(json_object_get(j, "Tags")), 1);
	assert_true(json_is_false(json_object_get(j, "HasMoreTags")));
	json_decref(j);
	json_decref(OK(hub, T0, "RemoveTagsFromStream",
		       "{\"StreamName\":\"alleycat\",\"TagKeys\":[\"a\",\"nope\"]}"));
	assert_int_equal(hub_find_stream(hub, "alleycat")->tags.count, 2);

	/* 50 tags a stream: the 51st is refused and none of its request lands. */
	n = (size_t)snprintf(body, sizeof(body), "{\"StreamName\":\"alleycat\",\"Tags\":{");
	for (int i = 0; i < 49; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"k%d\":\"v\"", i ? "," : "", i);
	snprintf(body + n, sizeof(body) - n, "}}");
	assert_non_null(strstr(refused(hub, T0, "LimitExceededException", "AddTagsToStream", body),
			       "more than 50 tags"));
	assert_int_equal(hub_find_stream(hub, "alleycat")->tags.count, 2);
	refused(hub, T0, "InvalidArgumentException", "AddTagsToStream",
		"{\"StreamName\":\"alleycat\",\"Tags\":{\"aws:x\":\"1\"}}");
	refused(hub, T0, "InvalidArgumentException", "AddTagsToStream",
		"{\"StreamName\":\"alleycat\",\"Tags\":{\"a\":\"semi;colon\"}}");
	refused(hub, T0, "ResourceNotFoundException", "AddTagsToStream",
		"{\"StreamName\":\"other\",\"Tags\":{\"a\":\"1\"}}");
	hub_close(hub);
}

static void test_tags_by_resource_arn(void **state)
{
	struct hub *hub = open_hub(NULL, 1000);
	struct stream *s = hub_find_stream(hub, "alleycat");
	char body[1024];
	json_t *j;

	(void)state;
	/* A consumer is a resource of its own. */
	snprintf(body, sizeof(body), "{\"ResourceARN\":\"%s\",\"Tags\":{\"role\":\"board\"}}",
		 s->consumers[0].arn);
	json_decref(OK(hub, T0, "TagResource", "%s", body));
	assert_string_equal(tagset_get(&s->consumers[0].tags, "role"), "board");
	assert_int_equal(s->tags.count, 0);
	json_decref(OK(hub, T0, "TagResource", "{\"ResourceARN\":\"" ARN "\",\"Tags\":{\"x\":\"y\"}}"));
	j = OK(hub, T0, "ListTagsForResource", "{\"ResourceARN\":\"" ARN "\"}");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "Tags"), 0), "Value")), "y");
	json_decref(j);
	json_decref(OK(hub, T0, "UntagResource", "{\"ResourceARN\":\"" ARN "\",\"TagKeys\":[\"x\"]}"));
	assert_int_equal(s->tags.count, 0);
	refused(hub, T0, "ResourceNotFoundException", "ListTagsForResource",
		"{\"ResourceARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/gone\"}");
	hub_close(hub);
}

static void test_retention_state_machine_and_trim(void **state)
{
	struct hub *hub = open_hub(NULL, 1000);

	(void)state;
	json_decref(OK(hub, T0, "PutRecord",
		       "{\"StreamName\":\"alleycat\",\"PartitionKey\":\"k\",\"Data\":\"aGk=\"}"));
	json_decref(OK(hub, T0, "IncreaseStreamRetentionPeriod",
		       "{\"StreamName\":\"alleycat\",\"RetentionPeriodHours\":72}"));
	/* UPDATING while the change applies, and no other change meanwhile. */
	assert_string_equal(summary_field(hub, T0 + 10, "StreamStatus"), "UPDATING");
	refused(hub, T0 + 10, "ResourceInUseException", "DecreaseStreamRetentionPeriod",
		"{\"StreamName\":\"alleycat\",\"RetentionPeriodHours\":48}");
	assert_string_equal(summary_field(hub, T0 + 1000, "StreamStatus"), "ACTIVE");
	assert_string_equal(summary_field(hub, T0 + 1000, "RetentionPeriodHours"), "72");

	/* The record is 30 hours old: kept under 72 hours, gone at once under 24. */
	hub_expire(hub, T0 + 30 * HOUR);
	assert_int_equal(hub_find_stream(hub, "alleycat")->bytes, 3);
	json_decref(OK(hub, T0 + 30 * HOUR, "DecreaseStreamRetentionPeriod",
		       "{\"StreamName\":\"alleycat\",\"RetentionPeriodHours\":24}"));
	assert_int_equal(hub_find_stream(hub, "alleycat")->bytes, 0);

	/* AWS's bounds and directions. */
	assert_non_null(strstr(refused(hub, T0 + 40 * HOUR, "InvalidArgumentException",
				       "IncreaseStreamRetentionPeriod",
				       "{\"StreamName\":\"alleycat\",\"RetentionPeriodHours\":8761}"),
			       "Maximum allowed retention period is 8760 hours"));
	refused(hub, T0 + 40 * HOUR, "InvalidArgumentException", "DecreaseStreamRetentionPeriod",
		"{\"StreamName\":\"alleycat\",\"RetentionPeriodHours\":23}");
	refused(hub, T0 + 40 * HOUR, "InvalidArgumentException", "DecreaseStreamRetentionPeriod",
		"{\"StreamName\":\"alleycat\",\"RetentionPeriodHours\":48}");
	refused(hub, T0 + 40 * HOUR, "ValidationException", "IncreaseStreamRetentionPeriod",
		"{\"StreamName\":\"alleycat\"}");
	hub_close(hub);
}

/* EncryptionType of the first record GetRecords reads from the shard. */
static const char *first_record_encryption(struct hub *hub, int64_t now, const char *shard)
{
	static char type[16];
	json_t *it = OK(hub, now, "GetShardIterator",
			"{\"StreamName\":\"alleycat\",\"ShardId\":\"%s\","
			"\"ShardIteratorType\":\"TRIM_HORIZON\"}", shard);
	json_t *r = OK(hub, now, "GetRecords", "{\"ShardIterator\":\"%s\"}",
		       json_string_value(json_object_get(it, "ShardIterator")));
	json_t *first = json_array_get(json_object_get(r, "Records"), 0);
	const char *t = json_string_value(json_object_get(first, "EncryptionType"));

	assert_non_null(first);
	snprintf(type, sizeof(type), "%s", t ? t : "(none)");
	json_decref(it);
	json_decref(r);
	return type;
}

static void test_encryption(void **state)
{
	struct hub *hub = open_hub(NULL, 0);
	char shard[32];
	json_t *j;

	(void)state;
	j = OK(hub, T0, "PutRecord",
	       "{\"StreamName\":\"alleycat\",\"PartitionKey\":\"k\",\"Data\":\"aGk=\"}");
	assert_string_equal(json_string_value(json_object_get(j, "EncryptionType")), "NONE");
	snprintf(shard, sizeof(shard), "%s", json_string_value(json_object_get(j, "ShardId")));
	json_decref(j);
	refused(hub, T0, "InvalidArgumentException", "StartStreamEncryption",
		"{\"StreamName\":\"alleycat\",\"EncryptionType\":\"NONE\",\"KeyId\":\"k\"}");
	refused(hub, T0, "InvalidArgumentException", "StopStreamEncryption",
		"{\"StreamName\":\"alleycat\",\"EncryptionType\":\"KMS\",\"KeyId\":\"k\"}");
	json_decref(OK(hub, T0, "StartStreamEncryption",
		       "{\"StreamARN\":\"" ARN "\",\"EncryptionType\":\"KMS\","
		       "\"KeyId\":\"alias/aws/kinesis\"}"));
	assert_string_equal(summary_field(hub, T0 + 1000, "EncryptionType"), "KMS");
	assert_string_equal(summary_field(hub, T0 + 1000, "KeyId"), "alias/aws/kinesis");
	j = OK(hub, T0 + 1000, "PutRecord",
	       "{\"StreamName\":\"alleycat\",\"PartitionKey\":\"k\",\"Data\":\"aGk=\"}");
	assert_string_equal(json_string_value(json_object_get(j, "EncryptionType")), "KMS");
	json_decref(j);
	/* The record written before stays as it was written. */
	assert_string_equal(first_record_encryption(hub, T0 + 1000, shard), "(none)");
	json_decref(OK(hub, T0 + 2000, "StopStreamEncryption",
		       "{\"StreamName\":\"alleycat\",\"EncryptionType\":\"KMS\","
		       "\"KeyId\":\"alias/aws/kinesis\"}"));
	assert_string_equal(summary_field(hub, T0 + 3000, "EncryptionType"), "NONE");
	hub_close(hub);
}

static void test_enhanced_monitoring(void **state)
{
	struct hub *hub = open_hub(NULL, 1000);
	json_t *j;

	(void)state;
	j = OK(hub, T0, "EnableEnhancedMonitoring",
	       "{\"StreamName\":\"alleycat\",\"ShardLevelMetrics\":[\"IncomingBytes\"]}");
	assert_int_equal(json_array_size(json_object_get(j, "CurrentShardLevelMetrics")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "DesiredShardLevelMetrics")), 1);
	json_decref(j);
	j = OK(hub, T0, "EnableEnhancedMonitoring",
	       "{\"StreamName\":\"alleycat\",\"ShardLevelMetrics\":[\"ALL\"]}");
	assert_int_equal(json_array_size(json_object_get(j, "DesiredShardLevelMetrics")), 7);
	json_decref(j);
	j = OK(hub, T0, "DisableEnhancedMonitoring",
	       "{\"StreamName\":\"alleycat\",\"ShardLevelMetrics\":[\"IncomingBytes\","
	       "\"IteratorAgeMilliseconds\"]}");
	assert_int_equal(json_array_size(json_object_get(j, "DesiredShardLevelMetrics")), 5);
	json_decref(j);
	assert_int_equal(hub_find_stream(hub, "alleycat")->shard_metrics & 1, 0);
	hub_close(hub);
}

static void test_on_demand_mode_and_limits(void **state)
{
	struct hub *hub = open_hub(NULL, 1);
	const char *put = "{\"StreamName\":\"alleycat\",\"PartitionKey\":\"k\",\"Data\":\"aGk=\"}";
	const char *to_on_demand =
		"{\"StreamARN\":\"" ARN "\",\"StreamModeDetails\":{\"StreamMode\":\"ON_DEMAND\"}}";
	const char *to_provisioned =
		"{\"StreamARN\":\"" ARN "\",\"StreamModeDetails\":{\"StreamMode\":\"PROVISIONED\"}}";
	json_t *j;

	(void)state;
	/* Provisioned at one record a second per shard: the second is throttled. */
	json_decref(OK(hub, T0, "PutRecord", "%s", put));
	refused(hub, T0, "ProvisionedThroughputExceededException", "PutRecord", put);
	json_decref(OK(hub, T0, "UpdateStreamMode", "%s", to_on_demand));
	j = OK(hub, T0 + 1000, "DescribeStream", "{\"StreamName\":\"alleycat\"}");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(j, "StreamDescription"),
						    "StreamModeDetails"),
				    "StreamMode")),
			    "ON_DEMAND");
	json_decref(j);
	for (int i = 0; i < 100; i++)
		json_decref(OK(hub, T0 + 2000, "PutRecord", "%s", put));
	j = OK(hub, T0 + 2000, "DescribeLimits", "{}");
	assert_int_equal(json_integer_value(json_object_get(j, "OnDemandStreamCount")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "OpenShardCount")), 2);
	json_decref(j);

	refused(hub, T0 + 2000, "InvalidArgumentException", "UpdateStreamMode", to_on_demand);
	json_decref(OK(hub, T0 + 3000, "UpdateStreamMode", "%s", to_provisioned));
	/* Two switches in a day are all Kinesis allows. */
	refused(hub, T0 + 4000, "LimitExceededException", "UpdateStreamMode", to_on_demand);
	json_decref(OK(hub, T0 + 25 * HOUR, "UpdateStreamMode", "%s", to_on_demand));
	hub_close(hub);
}

static void test_create_settings_and_warm_throughput(void **state)
{
	struct hub *hub = open_hub(NULL, 1000);
	struct stream *s;
	struct stream_limits limits;
	json_t *j;

	(void)state;
	json_decref(OK(hub, T0, "CreateStream",
		       "{\"StreamName\":\"od\",\"StreamModeDetails\":{\"StreamMode\":\"ON_DEMAND\"},"
		       "\"Tags\":{\"team\":\"red\"},\"WarmThroughputMiBps\":400}"));
	s = hub_find_stream(hub, "od");
	assert_int_equal(s->mode, STREAM_ON_DEMAND);
	assert_string_equal(tagset_get(&s->tags, "team"), "red");
	/* 400 MiB/s warm: the stream takes that, shared among its 4 shards. */
	limits = stream_mode_limits(s, &hub->config.limits);
	assert_int_equal(limits.shard_bytes_per_sec, 100ull * 1024 * 1024);
	j = OK(hub, T0 + 1000, "UpdateStreamWarmThroughput",
	       "{\"StreamName\":\"od\",\"WarmThroughputMiBps\":800}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "WarmThroughput"),
							    "TargetMiBps")), 800);
	json_decref(j);
	assert_string_equal(summary_field(hub, T0 + 1500, "StreamStatus"), "ACTIVE");
	refused(hub, T0 + 1010, "ResourceInUseException", "UpdateStreamWarmThroughput",
		"{\"StreamName\":\"od\",\"WarmThroughputMiBps\":900}");
	refused(hub, T0 + 3000, "InvalidArgumentException", "UpdateStreamWarmThroughput",
		"{\"StreamName\":\"alleycat\",\"WarmThroughputMiBps\":900}");
	refused(hub, T0 + 3000, "InvalidArgumentException", "UpdateStreamWarmThroughput",
		"{\"StreamName\":\"od\",\"WarmThroughputMiBps\":10241}");
	/* A bad tag refuses the whole CreateStream: no stream is made. */
	refused(hub, T0, "InvalidArgumentException", "CreateStream",
		"{\"StreamName\":\"p\",\"ShardCount\":1,\"Tags\":{\"aws:x\":\"1\"}}");
	assert_null(hub_find_stream(hub, "p"));
	hub_close(hub);
}

/* A PutRecord body with data_len bytes of data (base64 of zero bytes). */
static char *put_body(const char *op, size_t data_len)
{
	size_t text = (data_len + 2) / 3 * 4;
	char *body = malloc(text + 256), *p;

	assert_non_null(body);
	p = body + sprintf(body, "%s", strcmp(op, "PutRecord") == 0
				      ? "{\"StreamName\":\"alleycat\",\"PartitionKey\":\"k\",\"Data\":\""
				      : "{\"StreamName\":\"alleycat\",\"Records\":[{\"PartitionKey\":\"k\",\"Data\":\"");
	memset(p, 'A', text);
	for (size_t i = data_len % 3 ? 3 - data_len % 3 : 0; i > 0; i--)
		p[text - i] = '=';
	strcpy(p + text, strcmp(op, "PutRecord") == 0 ? "\"}" : "\"}]}");
	return body;
}

static const char *put_sized(struct hub *hub, int64_t now, const char *op, size_t data_len)
{
	char target[128];
	struct kinesis_reply reply;
	char *body = put_body(op, data_len);
	static char type[64];

	snprintf(target, sizeof(target), "%s%s", KINESIS_TARGET_PREFIX, op);
	kinesis_handle(hub, target, body, strlen(body), now, &reply);
	snprintf(type, sizeof(type), "%s", reply.error ? reply.error : "");
	free(reply.body);
	free(body);
	return type;
}

static void test_max_record_size(void **state)
{
	struct hub *hub = open_hub(NULL, 0);
	size_t two_mib = 2 * 1024 * 1024;

	(void)state;
	/* 1 MiB of data and key by default: one byte over is refused. */
	assert_string_equal(put_sized(hub, T0, "PutRecord", 1024 * 1024 - 1), "");
	assert_string_equal(put_sized(hub, T0, "PutRecord", 1024 * 1024), "ValidationException");
	assert_string_equal(put_sized(hub, T0, "PutRecords", two_mib), "ValidationException");
	json_decref(OK(hub, T0, "UpdateMaxRecordSize",
		       "{\"StreamARN\":\"" ARN "\",\"MaxRecordSizeInKiB\":4096}"));
	assert_string_equal(summary_field(hub, T0 + 1000, "MaxRecordSizeInKiB"), "4096");
	assert_string_equal(put_sized(hub, T0 + 1000, "PutRecord", two_mib), "");
	assert_string_equal(put_sized(hub, T0 + 1000, "PutRecords", two_mib), "");
	assert_string_equal(put_sized(hub, T0 + 1000, "PutRecord", 4 * 1024 * 1024),
			    "ValidationException");
	refused(hub, T0 + 2000, "ValidationException", "UpdateMaxRecordSize",
		"{\"StreamARN\":\"" ARN "\",\"MaxRecordSizeInKiB\":10241}");
	hub_close(hub);
}

static void test_resource_policy(void **state)
{
	struct hub *hub = open_hub(NULL, 1000);
	json_t *j;

	(void)state;
	j = OK(hub, T0, "GetResourcePolicy", "{\"ResourceARN\":\"" ARN "\"}");
	assert_string_equal(json_string_value(json_object_get(j, "Policy")), "{}");
	json_decref(j);
	refused(hub, T0, "ResourceNotFoundException", "DeleteResourcePolicy",
		"{\"ResourceARN\":\"" ARN "\"}");
	refused(hub, T0, "InvalidArgumentException", "PutResourcePolicy",
		"{\"ResourceARN\":\"" ARN "\",\"Policy\":\"not json\"}");
	json_decref(OK(hub, T0, "PutResourcePolicy",
		       "{\"ResourceARN\":\"" ARN "\",\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\"}"));
	j = OK(hub, T0, "GetResourcePolicy", "{\"ResourceARN\":\"" ARN "\"}");
	assert_string_equal(json_string_value(json_object_get(j, "Policy")),
			    "{\"Version\":\"2012-10-17\"}");
	json_decref(j);
	json_decref(OK(hub, T0, "DeleteResourcePolicy", "{\"ResourceARN\":\"" ARN "\"}"));
	assert_null(hub_find_stream(hub, "alleycat")->policy);
	hub_close(hub);
}

static void test_validation_wording(void **state)
{
	struct hub *hub = open_hub(NULL, 1000);

	(void)state;
	assert_string_equal(
		refused(hub, T0, "ValidationException", "AddTagsToStream",
			"{\"StreamName\":\"bad name\",\"Tags\":{}}"),
		"2 validation errors detected: Value 'bad name' at 'streamName' failed to "
		"satisfy constraint: Member must satisfy regular expression pattern: "
		"[a-zA-Z0-9_.-]+; Value '{}' at 'tags' failed to satisfy constraint: Member "
		"must have length greater than or equal to 1");
	assert_string_equal(
		refused(hub, T0, "ValidationException", "RemoveTagsFromStream",
			"{\"StreamName\":\"alleycat\"}"),
		"1 validation error detected: Value null at 'tagKeys' failed to satisfy "
		"constraint: Member must not be null");
	assert_string_equal(
		refused(hub, T0, "ValidationException", "UpdateStreamMode",
			"{\"StreamARN\":\"" ARN "\",\"StreamModeDetails\":{\"StreamMode\":\"X\"}}"),
		"1 validation error detected: Value 'X' at 'streamModeDetails.streamMode' "
		"failed to satisfy constraint: Member must satisfy enum value set: "
		"[PROVISIONED, ON_DEMAND]");
	assert_string_equal(refused(hub, T0, "SerializationException",
				    "IncreaseStreamRetentionPeriod",
				    "{\"StreamName\":\"alleycat\",\"RetentionPeriodHours\":\"48\"}"),
			    "class java.lang.String can not be converted to an Integer");
	assert_string_equal(refused(hub, T0, "SerializationException", "AddTagsToStream",
				    "{\"StreamName\":\"alleycat\",\"Tags\":[]}"),
			    "Start of list found where not expected");
	assert_string_equal(refused(hub, T0, "SerializationException", "RemoveTagsFromStream",
				    "{\"StreamName\":\"alleycat\",\"TagKeys\":\"a\"}"),
			    "Expected list or null");
	/* Eleven broken constraints are listed as ten. */
	assert_non_null(strstr(refused(hub, T0, "ValidationException", "RemoveTagsFromStream",
				       "{\"StreamName\":\"\",\"StreamARN\":\"\",\"StreamId\":\"\","
				       "\"TagKeys\":[]}"),
			       "validation errors detected"));
	hub_close(hub);
}

/* The commitment's Status as DescribeAccountSettings gives it at now. */
static const char *commitment_status(struct hub *hub, int64_t now)
{
	static char status[64];
	json_t *j = OK(hub, now, "DescribeAccountSettings", "{}");

	snprintf(status, sizeof(status), "%s",
		 json_string_value(json_object_get(
			 json_object_get(j, "MinimumThroughputBillingCommitment"), "Status")));
	json_decref(j);
	return status;
}

static void test_account_commitment(void **state)
{
	struct hub *hub = open_hub(NULL, 1000);
	const char *on = "{\"MinimumThroughputBillingCommitment\":{\"Status\":\"ENABLED\"}}";
	const char *off = "{\"MinimumThroughputBillingCommitment\":{\"Status\":\"DISABLED\"}}";
	json_t *j;

	(void)state;
	assert_string_equal(commitment_status(hub, T0), "DISABLED");
	j = OK(hub, T0, "UpdateAccountSettings", "%s", on);
	assert_true(json_is_number(json_object_get(
		json_object_get(j, "MinimumThroughputBillingCommitment"), "EarliestAllowedEndAt")));
	json_decref(j);
	/* Asked to end within its first day, it runs to the end of that day. */
	json_decref(OK(hub, T0 + HOUR, "UpdateAccountSettings", "%s", off));
	assert_string_equal(commitment_status(hub, T0 + 2 * HOUR),
			    "ENABLED_UNTIL_EARLIEST_ALLOWED_END");
	assert_string_equal(commitment_status(hub, T0 + 25 * HOUR), "DISABLED");
	/* Enabled again, then asked to end after a day: it ends at once. */
	json_decref(OK(hub, T0 + 26 * HOUR, "UpdateAccountSettings", "%s", on));
	json_decref(OK(hub, T0 + 27 * HOUR, "UpdateAccountSettings", "%s", off));
	json_decref(OK(hub, T0 + 28 * HOUR, "UpdateAccountSettings", "%s", on));
	assert_string_equal(commitment_status(hub, T0 + 29 * HOUR), "ENABLED");
	json_decref(OK(hub, T0 + 60 * HOUR, "UpdateAccountSettings", "%s", off));
	assert_string_equal(commitment_status(hub, T0 + 60 * HOUR), "DISABLED");
	refused(hub, T0, "ValidationException", "UpdateAccountSettings",
		"{\"MinimumThroughputBillingCommitment\":{\"Status\":\"SOMETIMES\"}}");
	refused(hub, T0, "ValidationException", "UpdateAccountSettings", "{}");
	hub_close(hub);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void test_settings_survive_restart(void **state)
{
	char dir[] = "/tmp/alleycat-settings-XXXXXX";
	struct hub *hub;
	struct stream *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	hub = open_hub(dir, 1000);
	json_decref(OK(hub, T0, "AddTagsToStream",
		       "{\"StreamName\":\"alleycat\",\"Tags\":{\"team\":\"red\"}}"));
	json_decref(OK(hub, T0, "IncreaseStreamRetentionPeriod",
		       "{\"StreamName\":\"alleycat\",\"RetentionPeriodHours\":100}"));
	json_decref(OK(hub, T0 + 1000, "StartStreamEncryption",
		       "{\"StreamName\":\"alleycat\",\"EncryptionType\":\"KMS\",\"KeyId\":\"key-1\"}"));
	json_decref(OK(hub, T0 + 2000, "UpdateStreamMode",
		       "{\"StreamARN\":\"" ARN "\",\"StreamModeDetails\":{\"StreamMode\":\"ON_DEMAND\"}}"));
	json_decref(OK(hub, T0 + 3000, "EnableEnhancedMonitoring",
		       "{\"StreamName\":\"alleycat\",\"ShardLevelMetrics\":[\"OutgoingBytes\"]}"));
	json_decref(OK(hub, T0 + 3000, "PutResourcePolicy",
		       "{\"ResourceARN\":\"" ARN "\",\"Policy\":\"{}\"}"));
	json_decref(OK(hub, T0 + 3000, "UpdateAccountSettings",
		       "{\"MinimumThroughputBillingCommitment\":{\"Status\":\"ENABLED\"}}"));
	json_decref(OK(hub, T0 + 3000, "UpdateMaxRecordSize",
		       "{\"StreamARN\":\"" ARN "\",\"MaxRecordSizeInKiB\":2048}"));
	/* A record over 1 MiB is durable like any other. */
	assert_string_equal(put_sized(hub, T0 + 4000, "PutRecord", 1536 * 1024), "");
	hub_close(hub);

	hub = open_hub(dir, 1000);
	s = hub_find_stream(hub, "alleycat");
	assert_string_equal(tagset_get(&s->tags, "team"), "red");
	assert_int_equal(stream_retention_hours(s), 100);
	assert_string_equal(s->key_id, "key-1");
	assert_int_equal(s->mode, STREAM_ON_DEMAND);
	assert_int_equal(s->shard_metrics, STREAM_METRIC_OUTGOING_BYTES);
	assert_string_equal(s->policy, "{}");
	/* A second switch today would still be the limit's second. */
	assert_int_not_equal(s->mode_switches_ms[1], 0);
	assert_string_equal(commitment_status(hub, T0 + 4000), "ENABLED");
	assert_int_equal(s->max_record_kib, 2048);
	assert_int_equal(s->bytes, 1536 * 1024 + 1);
	hub_close(hub);
	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags_by_stream_and_limit),
		cmocka_unit_test(test_tags_by_resource_arn),
		cmocka_unit_test(test_retention_state_machine_and_trim),
		cmocka_unit_test(test_encryption),
		cmocka_unit_test(test_enhanced_monitoring),
		cmocka_unit_test(test_on_demand_mode_and_limits),
		cmocka_unit_test(test_create_settings_and_warm_throughput),
		cmocka_unit_test(test_max_record_size),
		cmocka_unit_test(test_resource_policy),
		cmocka_unit_test(test_validation_wording),
		cmocka_unit_test(test_account_commitment),
		cmocka_unit_test(test_settings_survive_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
