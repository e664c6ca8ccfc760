/* A stream's settings: retention, server-side encryption, enhanced
 * monitoring and capacity mode, and the account's limits.
 *
 * As in Kinesis, a change of retention, encryption or mode makes the stream
 * UPDATING for a while (the hub's update time) and a stream that is
 * UPDATING refuses these changes with ResourceInUseException. Each change
 * takes effect at once and is saved with the hub's state:
 *   - retention: records older than the new retention go now;
 *   - encryption: records written from now on are encrypted (KMS), and say
 *     so in PutRecord(s) and GetRecords; the hub keeps no KMS, so any key
 *     id is accepted;
 *   - enhanced monitoring: the shard-level metrics appear in /metrics;
 *   - ON_DEMAND: the per-shard write limits give way to AWS's on-demand
 *     stream limits (stream_mode_limits). */
#include "config.h"

#include <string.h>

#include "hub/hub.h"
#include "hub/kinesis_ops.h"
#include "hub/tags.h"
#include "wire/protocol.h"

#define RETENTION_HOURS_MIN 24
#define RETENTION_HOURS_MAX 8760
#define ON_DEMAND_STREAMS_MAX 50
#define DAY_MS (24 * STREAM_HOUR_MS)
#define WARM_MIBPS_MAX 10240

/* ------------------------------------------------------------------ */
/* Retention                                                           */
/* ------------------------------------------------------------------ */

static int retention_in_range(struct call *c, long long hours)
{
	if (hours > RETENTION_HOURS_MAX) {
		kinesis_fail(c, "InvalidArgumentException",
			     "Maximum allowed retention period is %d hours. Requested retention "
			     "period (%lld hours) is too long.",
			     RETENTION_HOURS_MAX, hours);
		return -1;
	}
	if (hours < RETENTION_HOURS_MIN) {
		kinesis_fail(c, "InvalidArgumentException",
			     "Minimum allowed retention period is %d hours. Requested retention "
			     "period (%lld hours) is too short.",
			     RETENTION_HOURS_MIN, hours);
		return -1;
	}
	return 0;
}

/* Sets the retention and trims what it no longer keeps. */
static json_t *set_retention(struct call *c, struct stream *s, long long hours)
{
	struct hub *hub = kinesis_call_hub(c);

	kinesis_begin_update(c, s);
	s->retention_ms = hours * STREAM_HOUR_MS;
	stream_trim(s, kinesis_call_now(c), hub->config.retention_bytes);
	return kinesis_save(c) < 0 ? NULL : json_object();
}

/* Increase (grow true) and Decrease differ only in the way they may go. */
static json_t *change_retention(struct call *c, json_t *req, bool grow)
{
	struct stream *s = kinesis_call_stream(c, req);
	long long hours = apirules_integer(req, "RetentionPeriodHours", 0);

	if (s == NULL || retention_in_range(c, hours) < 0 || kinesis_require_active(c, s) < 0)
		return NULL;
	if (grow ? hours < stream_retention_hours(s) : hours > stream_retention_hours(s))
		return kinesis_fail(c, "InvalidArgumentException",
				    "Requested retention period (%lld hours) for stream %s can not "
				    "be %s than existing retention period (%d hours). Use %s API.",
				    hours, s->name, grow ? "shorter" : "longer",
				    stream_retention_hours(s),
				    grow ? "DecreaseRetentionPeriod" : "IncreaseRetentionPeriod");
	return set_retention(c, s, hours);
}

static json_t *op_increase_retention(struct call *c, json_t *req)
{
	return change_retention(c, req, true);
}

static json_t *op_decrease_retention(struct call *c, json_t *req)
{
	return change_retention(c, req, false);
}

/* ------------------------------------------------------------------ */
/* Encryption                                                          */
/* ------------------------------------------------------------------ */

static int require_kms(struct call *c, json_t *req)
{
	const char *type = json_string_value(json_object_get(req, "EncryptionType"));

	if (strcmp(type, "KMS") == 0)
		return 0;
	kinesis_fail(c, "InvalidArgumentException",
		     "Encryption type %s is not valid here: only KMS can be used.", type);
	return -1;
}

static json_t *op_start_encryption(struct call *c, json_t *req)
{
	struct stream *s = kinesis_call_stream(c, req);
	const char *key = json_string_value(json_object_get(req, "KeyId"));

	if (s == NULL || require_kms(c, req) < 0 || kinesis_require_active(c, s) < 0)
		return NULL;
	/* A change of key keeps the records before it encrypted. */
	if (s->key_id[0] == '\0')
		s->encrypted_from = seqno_from_u64(kinesis_call_hub(c)->gen.last + 1);
	snprintf(s->key_id, sizeof(s->key_id), "%s", key);
	kinesis_begin_update(c, s);
	return kinesis_save(c) < 0 ? NULL : json_object();
}

static json_t *op_stop_encryption(struct call *c, json_t *req)
{
	struct stream *s = kinesis_call_stream(c, req);

	if (s == NULL || require_kms(c, req) < 0 || kinesis_require_active(c, s) < 0)
		return NULL;
	if (s->key_id[0] == '\0')
		return kinesis_fail(c, "InvalidArgumentException",
				    "Stream %s under account %s is not encrypted.", s->name,
				    kinesis_call_hub(c)->config.account);
	s->key_id[0] = '\0';
	kinesis_begin_update(c, s);
	return kinesis_save(c) < 0 ? NULL : json_object();
}

/* ------------------------------------------------------------------ */
/* Enhanced monitoring                                                 */
/* ------------------------------------------------------------------ */

static const char *const metric_names[] = {
	"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
	"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
	"IteratorAgeMilliseconds", "ALL", NULL,
};

void kinesis_metric_names(unsigned bits, json_t *names)
{
	for (size_t i = 0; metric_names[i + 1]; i++)
		if (bits & (1u << i))
			json_array_append_new(names, json_string(metric_names[i]));
}

static unsigned metric_bits(json_t *names)
{
	unsigned bits = 0;
	json_t *name;
	size_t i;

	json_array_foreach(names, i, name) {
		for (size_t k = 0; metric_names[k]; k++)
			if (json_is_string(name) && strcmp(json_string_value(name), metric_names[k]) == 0)
				bits |= strcmp(metric_names[k], "ALL") == 0 ? STREAM_METRIC_ALL
									     : 1u << k;
	}
	return bits;
}

static json_t *set_metrics(struct call *c, json_t *req, bool enable)
{
	struct stream *s = kinesis_call_stream(c, req);
	unsigned bits, current;
	json_t *was, *now;

	if (s == NULL || kinesis_require_active(c, s) < 0)
		return NULL;
	bits = metric_bits(json_object_get(req, "ShardLevelMetrics"));
	current = s->shard_metrics;
	s->shard_metrics = enable ? current | bits : current & ~bits;
	if (kinesis_save(c) < 0)
		return NULL;
	was = json_array();
	now = json_array();
	kinesis_metric_names(current, was);
	kinesis_metric_names(s->shard_metrics, now);
	return json_pack("{s:s, s:o, s:o, s:s}", "StreamName", s->name, "CurrentShardLevelMetrics",
			 was, "DesiredShardLevelMetrics", now, "StreamARN", s->arn);
}

static json_t *op_enable_monitoring(struct call *c, json_t *req)
{
	return set_metrics(c, req, true);
}

static json_t *op_disable_monitoring(struct call *c, json_t *req)
{
	return set_metrics(c, req, false);
}

/* ------------------------------------------------------------------ */
/* Capacity mode and limits                                            */
/* ------------------------------------------------------------------ */

static size_t on_demand_streams(const struct hub *hub)
{
	size_t n = 0;

	for (size_t i = 0; i < hub->stream_count; i++)
		n += hub->streams[i]->mode == STREAM_ON_DEMAND;
	return n;
}

static int mode_change_allowed(struct call *c, const struct stream *s, enum stream_mode mode)
{
	struct hub *hub = kinesis_call_hub(c);

	if (s->mode == mode) {
		kinesis_fail(c, "InvalidArgumentException", "Stream %s is already in %s mode.",
			     s->name, mode == STREAM_ON_DEMAND ? "ON_DEMAND" : "PROVISIONED");
		return -1;
	}
	/* Kinesis allows two switches of a stream in any 24 hours. */
	if (s->mode_switches_ms[0] && kinesis_call_now(c) - s->mode_switches_ms[0] < DAY_MS) {
		kinesis_fail(c, "LimitExceededException",
			     "Stream %s under account %s has already switched its capacity mode "
			     "twice in the last 24 hours.",
			     s->name, hub->config.account);
		return -1;
	}
	if (mode == STREAM_ON_DEMAND && on_demand_streams(hub) >= ON_DEMAND_STREAMS_MAX) {
		kinesis_fail(c, "LimitExceededException",
			     "The account %s already has %d on-demand streams, the limit.",
			     hub->config.account, ON_DEMAND_STREAMS_MAX);
		return -1;
	}
	return 0;
}

/* The mode a StreamModeDetails names (apirules checked it), or
 * PROVISIONED when there is none. */
static enum stream_mode requested_mode(json_t *req)
{
	json_t *details = json_object_get(req, "StreamModeDetails");
	const char *name = json_string_value(json_object_get(details, "StreamMode"));

	return name && strcmp(name, "ON_DEMAND") == 0 ? STREAM_ON_DEMAND : STREAM_PROVISIONED;
}

/* A warm throughput is for on-demand streams only, up to AWS's maximum. */
static int warm_allowed(struct call *c, json_t *req, enum stream_mode mode)
{
	long long mibps = apirules_integer(req, "WarmThroughputMiBps", -1);

	if (mibps < 0)
		return 0;
	if (mode != STREAM_ON_DEMAND) {
		kinesis_fail(c, "InvalidArgumentException",
			     "WarmThroughputMiBps can only be set for an on-demand stream.");
		return -1;
	}
	if (mibps > WARM_MIBPS_MAX) {
		kinesis_fail(c, "InvalidArgumentException",
			     "WarmThroughputMiBps %lld is above the maximum of %d MiB/s.", mibps,
			     WARM_MIBPS_MAX);
		return -1;
	}
	return 0;
}

static void set_warm(struct stream *s, json_t *req)
{
	long long mibps = apirules_integer(req, "WarmThroughputMiBps", -1);

	if (mibps >= 0)
		s->warm_mibps = (uint32_t)mibps;
}

static json_t *op_update_stream_mode(struct call *c, json_t *req)
{
	struct stream *s = kinesis_call_stream(c, req);
	enum stream_mode mode = requested_mode(req);

	if (s == NULL || kinesis_require_active(c, s) < 0 || mode_change_allowed(c, s, mode) < 0 ||
	    warm_allowed(c, req, mode) < 0)
		return NULL;
	s->mode = mode;
	set_warm(s, req);
	s->mode_switches_ms[0] = s->mode_switches_ms[1];
	s->mode_switches_ms[1] = kinesis_call_now(c);
	kinesis_begin_update(c, s);
	return kinesis_save(c) < 0 ? NULL : json_object();
}

/* Records up to the new size are taken from now on (the request body
 * must still fit --max-request-bytes). */
static json_t *op_update_max_record_size(struct call *c, json_t *req)
{
	struct stream *s = kinesis_call_stream(c, req);

	if (s == NULL || kinesis_require_active(c, s) < 0)
		return NULL;
	s->max_record_kib = (uint32_t)apirules_integer(req, "MaxRecordSizeInKiB",
							STREAM_RECORD_KIB_DEFAULT);
	kinesis_begin_update(c, s);
	return kinesis_save(c) < 0 ? NULL : json_object();
}

static json_t *op_update_stream_warm_throughput(struct call *c, json_t *req)
{
	struct stream *s = kinesis_call_stream(c, req);

	if (s == NULL || kinesis_require_active(c, s) < 0 || warm_allowed(c, req, s->mode) < 0)
		return NULL;
	set_warm(s, req);
	kinesis_begin_update(c, s);
	if (kinesis_save(c) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:{s:i, s:I}}", "StreamARN", s->arn, "StreamName", s->name,
			 "WarmThroughput", "TargetMiBps", (int)s->warm_mibps, "CurrentMiBps",
			 (json_int_t)stream_write_mibps(s));
}

static json_t *op_describe_limits(struct call *c, json_t *req)
{
	struct hub *hub = kinesis_call_hub(c);
	size_t open = 0;

	(void)req;
	for (size_t i = 0; i < hub->stream_count; i++)
		open += stream_open_shards(hub->streams[i]);
	return json_pack("{s:i, s:I, s:I, s:i}", "ShardLimit", hub->config.max_shards,
			 "OpenShardCount", (json_int_t)open, "OnDemandStreamCount",
			 (json_int_t)on_demand_streams(hub), "OnDemandStreamCountLimit",
			 ON_DEMAND_STREAMS_MAX);
}

/* ------------------------------------------------------------------ */
/* Shapes and the table                                                */
/* ------------------------------------------------------------------ */


static const char *const encryption_types[] = { "NONE", "KMS", NULL };
static const char *const stream_modes[] = { "PROVISIONED", "ON_DEMAND", NULL };

static const struct apirule metric_name = {
	"MetricsName", APIRULE_STRING, false, APIRULE_NO_LIMIT, APIRULE_NO_LIMIT, NULL, NULL,
	metric_names, NULL, NULL, NULL,
};

static const struct apirule retention_rules[] = {
	APIRULE_STREAM_NAME(false),
	{ "RetentionPeriodHours", APIRULE_INTEGER, true, APIRULE_NO_LIMIT, APIRULE_NO_LIMIT, NULL,
	  NULL, NULL, NULL, NULL, NULL },
	APIRULE_STREAM_ARN(false), APIRULE_STREAM_ID, APIRULE_END,
};

static const struct apirule encryption_rules[] = {
	APIRULE_STREAM_NAME(false),
	{ "EncryptionType", APIRULE_STRING, true, APIRULE_NO_LIMIT, APIRULE_NO_LIMIT, NULL, NULL,
	  encryption_types, NULL, NULL, NULL },
	{ "KeyId", APIRULE_STRING, true, 1, STREAM_KEY_ID_MAX, NULL, NULL, NULL, NULL, NULL,
	  NULL },
	APIRULE_STREAM_ARN(false), APIRULE_STREAM_ID, APIRULE_END,
};

static const struct apirule monitoring_rules[] = {
	APIRULE_STREAM_NAME(false),
	{ "ShardLevelMetrics", APIRULE_LIST, true, 1, 7, NULL, NULL, NULL, &metric_name, NULL,
	  NULL },
	APIRULE_STREAM_ARN(false), APIRULE_STREAM_ID, APIRULE_END,
};

static const struct apirule mode_fields[] = {
	{ "StreamMode", APIRULE_STRING, true, APIRULE_NO_LIMIT, APIRULE_NO_LIMIT, NULL, NULL,
	  stream_modes, NULL, NULL, NULL },
	APIRULE_END,
};

#define WARM_RULE(required)                                                              \
	{ "WarmThroughputMiBps", APIRULE_INTEGER, required, 0, APIRULE_NO_LIMIT, NULL, NULL,  \
	  NULL, NULL, NULL, NULL }

#define MAX_RECORD_RULE(required)                                                        \
	{ "MaxRecordSizeInKiB", APIRULE_INTEGER, required, 1024,                           \
	  KINESIS_RECORD_MAX_LARGEST / 1024, NULL, NULL, NULL, NULL, NULL, NULL }

static const struct apirule update_stream_mode_rules[] = {
	APIRULE_STREAM_ARN(true), APIRULE_STREAM_ID,
	{ "StreamModeDetails", APIRULE_STRUCTURE, true, APIRULE_NO_LIMIT, APIRULE_NO_LIMIT, NULL,
	  NULL, NULL, NULL, NULL, mode_fields },
	WARM_RULE(false), APIRULE_END,
};

static const struct apirule warm_throughput_rules[] = {
	APIRULE_STREAM_ARN(false), APIRULE_STREAM_NAME(false), APIRULE_STREAM_ID, WARM_RULE(true),
	APIRULE_END,
};

/* What CreateStream has beyond its name and shard count. */
static const struct apirule create_rules[] = {
	{ "StreamModeDetails", APIRULE_STRUCTURE, false, APIRULE_NO_LIMIT, APIRULE_NO_LIMIT, NULL,
	  NULL, NULL, NULL, NULL, mode_fields },
	KINESIS_TAG_MAP_RULE(false),
	WARM_RULE(false),
	MAX_RECORD_RULE(false),
	APIRULE_END,
};

static const struct apirule max_record_size_rules[] = {
	APIRULE_STREAM_ARN(false), APIRULE_STREAM_ID, MAX_RECORD_RULE(true), APIRULE_END,
};

static const struct apirule no_rules[] = { APIRULE_END };

const struct kinesis_operation kinesis_setting_operations[] = {
	{ "DecreaseStreamRetentionPeriod", retention_rules, op_decrease_retention },
	{ "DescribeLimits", no_rules, op_describe_limits },
	{ "DisableEnhancedMonitoring", monitoring_rules, op_disable_monitoring },
	{ "EnableEnhancedMonitoring", monitoring_rules, op_enable_monitoring },
	{ "IncreaseStreamRetentionPeriod", retention_rules, op_increase_retention },
	{ "StartStreamEncryption", encryption_rules, op_start_encryption },
	{ "StopStreamEncryption", encryption_rules, op_stop_encryption },
	{ "UpdateMaxRecordSize", max_record_size_rules, op_update_max_record_size },
	{ "UpdateStreamMode", update_stream_mode_rules, op_update_stream_mode },
	{ "UpdateStreamWarmThroughput", warm_throughput_rules, op_update_stream_warm_throughput },
	{ NULL, NULL, NULL },
};

/* ------------------------------------------------------------------ */
/* CreateStream's settings                                             */
/* ------------------------------------------------------------------ */

int kinesis_create_settings_check(struct call *c, json_t *req)
{
	struct apirule_error err;
	enum stream_mode mode = requested_mode(req);
	json_t *tags = json_object_get(req, "Tags");
	struct tagset none = { NULL, 0 };

	if (apirules_check(req, create_rules, &err) < 0) {
		kinesis_fail(c, err.type, "%s", err.message);
		return -1;
	}
	if (warm_allowed(c, req, mode) < 0)
		return -1;
	if (mode == STREAM_ON_DEMAND && on_demand_streams(kinesis_call_hub(c)) >= ON_DEMAND_STREAMS_MAX) {
		kinesis_fail(c, "LimitExceededException",
			     "The account %s already has %d on-demand streams, the limit.",
			     kinesis_call_hub(c)->config.account, ON_DEMAND_STREAMS_MAX);
		return -1;
	}
	/* The tags are checked on an empty set: a new stream has none. */
	if (json_is_object(tags) && kinesis_tags_put(c, &none, tags, "a new stream") < 0) {
		tagset_free(&none);
		return -1;
	}
	tagset_free(&none);
	return 0;
}

int kinesis_create_settings_apply(struct call *c, struct stream *s, json_t *req)
{
	json_t *tags = json_object_get(req, "Tags");
	char what[STREAM_NAME_MAX + 16];

	snprintf(what, sizeof(what), "stream %s", s->name);
	s->mode = requested_mode(req);
	set_warm(s, req);
	s->max_record_kib = (uint32_t)apirules_integer(req, "MaxRecordSizeInKiB",
							STREAM_RECORD_KIB_DEFAULT);
	if (json_is_object(tags) && kinesis_tags_put(c, &s->tags, tags, what) < 0)
		return -1;
	return kinesis_save(c);
}
