#include "config.h"
#include "hub/kinesis.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "hub/kinesis_ops.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/jsonscan.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/strbuf.h"

/* One call in progress: the hub, the clock, and the error if it failed. */
struct call {
	struct hub *hub;
	int64_t now_ms;
	const char *error;
	int status;
	char message[512];
};

/* Every module fails a call the same way; here it is called fail. */
#define fail kinesis_fail

/* AWS's wording for a field that breaks a constraint. */
static json_t *invalid(struct call *c, const char *field, const char *value,
		       const char *constraint)
{
	if (value)
		return fail(c, "ValidationException",
			    "1 validation error detected: Value '%.100s' at '%s' failed to satisfy "
			    "constraint: Member must %s",
			    value, field, constraint);
	return fail(c, "ValidationException",
		    "1 validation error detected: Value null at '%s' failed to satisfy "
		    "constraint: Member must %s",
		    field, constraint);
}

/* ------------------------------------------------------------------ */
/* The call as the modules of operations see it (kinesis_ops.h)        */
/* ------------------------------------------------------------------ */

struct hub *kinesis_call_hub(struct call *c)
{
	return c->hub;
}

int64_t kinesis_call_now(struct call *c)
{
	return c->now_ms;
}

json_t *kinesis_fail(struct call *c, const char *type, const char *fmt, ...)
{
	va_list ap;

	c->error = type;
	c->status = strcmp(type, "InternalFailure") == 0 ? 500 : 400;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
	return NULL;
}

int kinesis_require_active(struct call *c, const struct stream *s)
{
	if (strcmp(stream_status(s, c->now_ms), "ACTIVE") == 0)
		return 0;
	fail(c, "ResourceInUseException",
	     "Stream %s under account %s not ACTIVE, instead in state UPDATING.", s->name,
	     c->hub->config.account);
	return -1;
}

void kinesis_begin_update(struct call *c, struct stream *s)
{
	s->updating_until_ms = c->now_ms + c->hub->config.update_ms;
}

int kinesis_save(struct call *c)
{
	if (hub_save(c->hub) == 0)
		return 0;
	fail(c, "InternalFailure", "The change could not be saved.");
	return -1;
}

static double epoch_seconds(int64_t ms)
{
	return (double)ms / 1000.0;
}

/* ------------------------------------------------------------------ */
/* Reading request fields                                              */
/* ------------------------------------------------------------------ */

/* The request body as a JSON object, or NULL with the call failed. */
static json_t *load_request(struct call *c, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(body, len, 0, &jerr);

	if (req == NULL)
		return fail(c, "SerializationException", "The request body is not valid JSON: %s",
			    jerr.text);
	if (!json_is_object(req)) {
		json_decref(req);
		return fail(c, "SerializationException", "The request body must be a JSON object.");
	}
	return req;
}

/* The JSON member name of a field is its lowerCamel form in AWS errors. */
static void field_name(const char *member, char *out, size_t size)
{
	snprintf(out, size, "%s", member);
	if (out[0] >= 'A' && out[0] <= 'Z')
		out[0] = (char)(out[0] - 'A' + 'a');
}

typedef int (*charset_fn)(int ch);

static int name_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

/* Length in characters, as AWS counts string lengths. */
static size_t utf8_length(const char *s, size_t bytes)
{
	size_t n = 0;

	for (size_t i = 0; i < bytes; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* The constraint a string value breaks, worded as AWS words it, or NULL
 * when it keeps them all (one piece of code for both PutRecords paths). */
static const char *string_constraint(const char *value, size_t bytes, size_t min, size_t max,
				     charset_fn charset, const char *pattern, char *buf,
				     size_t size)
{
	size_t len = utf8_length(value, bytes);

	if (len < min) {
		snprintf(buf, size, "have length greater than or equal to %zu", min);
		return buf;
	}
	if (len > max) {
		snprintf(buf, size, "have length less than or equal to %zu", max);
		return buf;
	}
	if (memchr(value, '\0', bytes))
		return "not contain NUL characters";
	for (size_t i = 0; charset && i < bytes; i++) {
		if (!charset((unsigned char)value[i])) {
			snprintf(buf, size, "satisfy regular expression pattern: %s", pattern);
			return buf;
		}
	}
	return NULL;
}

/* A member of the wrong JSON type, worded as AWS words it. */
static void wrong_type(struct call *c, json_t *v, enum apirule_kind kind)
{
	char buf[128];
	const char *fault = apirules_type_fault(v, kind, buf, sizeof(buf));

	fail(c, "SerializationException", "%s", fault ? fault : "Unexpected value type");
}

/* Reads an optional string member. Returns 1 (present), 0 (absent) or -1
 * (invalid: wrong type, length or character, with the call failed). */
static int get_string(struct call *c, json_t *req, const char *member, size_t min, size_t max,
		      charset_fn charset, const char *pattern, const char **out)
{
	json_t *v = json_object_get(req, member);
	char field[64], buf[96];
	const char *constraint;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	field_name(member, field, sizeof(field));
	if (!json_is_string(v)) {
		wrong_type(c, v, APIRULE_STRING);
		return -1;
	}
	constraint = string_constraint(json_string_value(v), json_string_length(v), min, max,
				       charset, pattern, buf, sizeof(buf));
	if (constraint) {
		invalid(c, field, json_string_value(v), constraint);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

static int require_string(struct call *c, json_t *req, const char *member, size_t min,
			  size_t max, charset_fn charset, const char *pattern, const char **out)
{
	int rc = get_string(c, req, member, min, max, charset, pattern, out);
	char field[64];

	if (rc == 0) {
		field_name(member, field, sizeof(field));
		invalid(c, field, NULL, "not be null");
		return -1;
	}
	return rc;
}

/* Reads an optional integer member in [min, max]: 1, 0 (absent) or -1. */
static int get_int(struct call *c, json_t *req, const char *member, json_int_t min,
		   json_int_t max, json_int_t *out)
{
	json_t *v = json_object_get(req, member);
	char field[64], value[32], constraint[96];

	if (v == NULL || json_is_null(v))
		return 0;
	field_name(member, field, sizeof(field));
	if (!json_is_integer(v)) {
		wrong_type(c, v, APIRULE_INTEGER);
		return -1;
	}
	*out = json_integer_value(v);
	snprintf(value, sizeof(value), "%" JSON_INTEGER_FORMAT, *out);
	if (*out < min) {
		snprintf(constraint, sizeof(constraint),
			 "have value greater than or equal to %" JSON_INTEGER_FORMAT, min);
		invalid(c, field, value, constraint);
		return -1;
	}
	if (*out > max) {
		snprintf(constraint, sizeof(constraint),
			 "have value less than or equal to %" JSON_INTEGER_FORMAT, max);
		invalid(c, field, value, constraint);
		return -1;
	}
	return 1;
}

static int get_bool(struct call *c, json_t *req, const char *member, int *out)
{
	json_t *v = json_object_get(req, member);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		wrong_type(c, v, APIRULE_BOOLEAN);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

/* A timestamp: epoch seconds as a number. */
static int get_timestamp(struct call *c, json_t *req, const char *member, int64_t *ms)
{
	json_t *v = json_object_get(req, member);
	char field[64];

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_number(v)) {
		field_name(member, field, sizeof(field));
		fail(c, "SerializationException", "Value for '%s' must be a timestamp in epoch "
						  "seconds", field);
		return -1;
	}
	*ms = clock_seconds_to_ms(json_number_value(v));
	return 1;
}

#define STREAM_NAME_PATTERN "[a-zA-Z0-9_.-]+"

/* The stream a call names by StreamName or StreamARN. */
static struct stream *get_stream(struct call *c, json_t *req)
{
	const char *name, *arn;
	struct stream *s;

	if (get_string(c, req, "StreamName", 1, STREAM_NAME_MAX, name_char, STREAM_NAME_PATTERN,
		       &name) < 0 ||
	    get_string(c, req, "StreamARN", 1, 2048, NULL, NULL, &arn) < 0)
		return NULL;
	if (name == NULL && arn == NULL)
		return (struct stream *)invalid(c, "streamName", NULL,
						"not be null when streamARN is not given");
	s = hub_find_stream_by(c->hub, name, arn);
	if (s == NULL)
		return (struct stream *)fail(c, "ResourceNotFoundException",
					     "Stream %s under account %s not found.",
					     name ? name : arn, c->hub->config.account);
	return s;
}

/* A mirrored stream is the upstream's copy: a write or reshard here would
 * make it differ from the upstream for good, so it is refused as AWS
 * refuses what a policy forbids (AccessDeniedException: clients do not
 * retry it). NULL with the call failed. */
static struct stream *refuse_mirrored(struct call *c, struct stream *s)
{
	if (s == NULL || !s->mirrored)
		return s;
	return (struct stream *)fail(c, "AccessDeniedException",
				     "Stream %s under account %s is a mirror of an upstream stream: "
				     "write to the upstream.", s->name, c->hub->config.account);
}

/* get_stream for the calls that write records, change the shards or
 * delete the stream. */
static struct stream *get_writable_stream(struct call *c, json_t *req)
{
	return refuse_mirrored(c, get_stream(c, req));
}

struct stream *kinesis_call_stream(struct call *c, json_t *req)
{
	return get_stream(c, req);
}

int kinesis_call_resource(struct call *c, json_t *req, struct kinesis_resource *out)
{
	const char *arn = json_string_value(json_object_get(req, "ResourceARN"));

	memset(out, 0, sizeof(*out));
	out->arn = arn;
	if ((out->stream = hub_find_stream_by(c->hub, NULL, arn)) != NULL) {
		out->tags = &out->stream->tags;
		out->policy = &out->stream->policy;
		return 0;
	}
	if ((out->consumer = hub_find_consumer_arn(c->hub, arn, &out->stream)) != NULL) {
		out->tags = &out->consumer->tags;
		out->policy = &out->consumer->policy;
		return 0;
	}
	fail(c, "ResourceNotFoundException", "Resource %s under account %s not found.", arn,
	     c->hub->config.account);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Describing things                                                   */
/* ------------------------------------------------------------------ */

static json_t *hashkey_string(hashkey_t key)
{
	char text[HASHKEY_TEXT_MAX];

	hashkey_format(key, text);
	return json_string(text);
}

static json_t *seq_string(seqno_t seq)
{
	char text[SEQNO_TEXT_MAX];

	seqno_format(seq, text);
	return json_string(text);
}

static json_t *shard_json(const struct stream *s, const struct shard *sh)
{
	json_t *range = json_pack("{s:o}", "StartingSequenceNumber", seq_string(sh->starting_seq));
	json_t *j;

	if (!seqno_is_zero(sh->ending_seq))
		json_object_set_new(range, "EndingSequenceNumber", seq_string(sh->ending_seq));
	j = json_pack("{s:s, s:{s:o, s:o}, s:o}", "ShardId", sh->id, "HashKeyRange",
		      "StartingHashKey", hashkey_string(sh->start), "EndingHashKey",
		      hashkey_string(sh->end), "SequenceNumberRange", range);
	if (sh->parent >= 0)
		json_object_set_new(j, "ParentShardId", json_string(s->shards[sh->parent].id));
	if (sh->adjacent_parent >= 0)
		json_object_set_new(j, "AdjacentParentShardId",
				    json_string(s->shards[sh->adjacent_parent].id));
	return j;
}

static json_t *consumer_json(const struct stream_consumer *con, const struct stream *s, int with_stream)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:f}", "ConsumerName", con->name, "ConsumerARN",
			      con->arn, "ConsumerStatus", "ACTIVE", "ConsumerCreationTimestamp",
			      (double)con->created);
	if (with_stream)
		json_object_set_new(j, "StreamARN", json_string(s->arn));
	return j;
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

static json_t *op_create_stream(struct call *c, json_t *req)
{
	const char *name;
	json_int_t shards = 4;
	json_t *mode = json_object_get(req, "StreamModeDetails");
	struct stream *s;
	int has_count;

	if (require_string(c, req, "StreamName", 1, STREAM_NAME_MAX, name_char,
			   STREAM_NAME_PATTERN, &name) < 0)
		return NULL;
	has_count = get_int(c, req, "ShardCount", 1, 100000, &shards);
	if (has_count < 0)
		return NULL;
	if (has_count == 0 && !json_is_object(mode))
		return invalid(c, "shardCount", NULL, "not be null for a provisioned stream");
	if (shards > c->hub->config.max_shards)
		return fail(c, "LimitExceededException",
			    "This request would exceed the shard limit for the account %s. "
			    "Current limit: %d shards per stream.",
			    c->hub->config.account, c->hub->config.max_shards);
	if (hub_find_stream(c->hub, name))
		return fail(c, "ResourceInUseException", "Stream %s under account %s already exists.",
			    name, c->hub->config.account);
	if (kinesis_create_settings_check(c, req) < 0)
		return NULL;
	if ((s = hub_create_stream(c->hub, name, (size_t)shards, c->now_ms)) == NULL)
		return fail(c, "InternalFailure", "The stream could not be created.");
	if (kinesis_create_settings_apply(c, s, req) < 0)
		return NULL;
	log_info("created stream %s with %lld shards", name, (long long)shards);
	return json_object();
}

static json_t *op_delete_stream(struct call *c, json_t *req)
{
	/* The mirror goes on copying into its stream: it is not the client's. */
	struct stream *s = get_writable_stream(c, req);
	int enforce;

	if (s == NULL || get_bool(c, req, "EnforceConsumerDeletion", &enforce) < 0)
		return NULL;
	if (s->consumer_count > 0 && !enforce)
		return fail(c, "ResourceInUseException",
			    "Stream %s has registered consumers; deregister them or set "
			    "EnforceConsumerDeletion.",
			    s->name);
	log_info("deleting stream %s", s->name);
	if (hub_delete_stream(c->hub, s) < 0)
		return fail(c, "InternalFailure", "The deletion could not be saved.");
	return json_object();
}

static const char *mode_name(const struct stream *s)
{
	return s->mode == STREAM_ON_DEMAND ? "ON_DEMAND" : "PROVISIONED";
}

static json_t *stream_summary(const struct stream *s, int64_t now_ms)
{
	return json_pack("{s:s, s:s, s:s, s:{s:s}, s:f}", "StreamName", s->name, "StreamARN",
			 s->arn, "StreamStatus", stream_status(s, now_ms), "StreamModeDetails",
			 "StreamMode", mode_name(s), "StreamCreationTimestamp",
			 epoch_seconds(s->created_ms));
}

/* What a description of a stream says about its settings: encryption
 * (with the key while encrypted) and enhanced monitoring. */
static void describe_settings(const struct stream *s, json_t *j)
{
	json_t *metrics = json_array();

	json_object_set_new(j, "EncryptionType", json_string(s->key_id[0] ? "KMS" : "NONE"));
	if (s->key_id[0])
		json_object_set_new(j, "KeyId", json_string(s->key_id));
	kinesis_metric_names(s->shard_metrics, metrics);
	json_object_set_new(j, "EnhancedMonitoring",
			    json_pack("[{s:o}]", "ShardLevelMetrics", metrics));
	json_object_set_new(j, "MaxRecordSizeInKiB", json_integer(s->max_record_kib));
	if (s->mode == STREAM_ON_DEMAND)
		json_object_set_new(j, "WarmThroughput",
				    json_pack("{s:i, s:I}", "TargetMiBps", (int)s->warm_mibps,
					      "CurrentMiBps", (json_int_t)stream_write_mibps(s)));
}

static json_t *op_list_streams(struct call *c, json_t *req)
{
	json_int_t limit = 100;
	const char *start, *token;
	json_t *names, *summaries, *resp;
	size_t shown = 0, i;
	struct hub *hub = c->hub;

	if (get_int(c, req, "Limit", 1, 10000, &limit) < 0 ||
	    get_string(c, req, "ExclusiveStartStreamName", 1, STREAM_NAME_MAX, name_char,
		       STREAM_NAME_PATTERN, &start) < 0 ||
	    get_string(c, req, "NextToken", 1, 1048576, NULL, NULL, &token) < 0)
		return NULL;
	if (token)
		start = token;
	names = json_array();
	summaries = json_array();
	/* Streams are listed in name order, as AWS lists them. */
	const struct stream *last = NULL;
	for (;;) {
		const struct stream *next = NULL;
		for (i = 0; i < hub->stream_count; i++) {
			const struct stream *s = hub->streams[i];
			if (start && strcmp(s->name, start) <= 0)
				continue;
			if (last && strcmp(s->name, last->name) <= 0)
				continue;
			if (next == NULL || strcmp(s->name, next->name) < 0)
				next = s;
		}
		if (next == NULL || shown == (size_t)limit)
			break;
		json_array_append_new(names, json_string(next->name));
		json_array_append_new(summaries, stream_summary(next, c->now_ms));
		last = next;
		shown++;
	}
	int more = 0;
	for (i = 0; last && i < hub->stream_count; i++)
		more |= strcmp(hub->streams[i]->name, last->name) > 0;
	resp = json_pack("{s:o, s:b, s:o}", "StreamNames", names, "HasMoreStreams", more,
			 "StreamSummaries", summaries);
	if (more)
		json_object_set_new(resp, "NextToken", json_string(last->name));
	return resp;
}

/* Whether a listing shows the shard: never once it is forgotten. */
static bool listed(const struct shard *sh, int open_only)
{
	return !sh->forgotten && (!open_only || seqno_is_zero(sh->ending_seq));
}

/* The shards after exclusive_start (all when NULL; a forgotten shard's id
 * still says where to start), at most limit of them; *more tells whether
 * a next page would show any. */
static json_t *shard_list(const struct stream *s, const char *exclusive_start, size_t limit,
			  int open_only, bool *more)
{
	json_t *shards = json_array();
	size_t i = 0;

	if (exclusive_start) {
		while (i < s->shard_count && strcmp(s->shards[i].id, exclusive_start) <= 0)
			i++;
	}
	for (; i < s->shard_count && json_array_size(shards) < limit; i++)
		if (listed(&s->shards[i], open_only))
			json_array_append_new(shards, shard_json(s, &s->shards[i]));
	while (i < s->shard_count && !listed(&s->shards[i], open_only))
		i++;
	*more = i < s->shard_count;
	return shards;
}

static json_t *op_describe_stream(struct call *c, json_t *req)
{
	struct stream *s = get_stream(c, req);
	json_int_t limit = 100;
	const char *start;
	bool more;
	json_t *shards, *d;

	if (s == NULL || get_int(c, req, "Limit", 1, 10000, &limit) < 0 ||
	    get_string(c, req, "ExclusiveStartShardId", 1, 128, NULL, NULL, &start) < 0)
		return NULL;
	shards = shard_list(s, start, (size_t)limit, 0, &more);
	d = json_pack("{s:s, s:s, s:s, s:{s:s}, s:o, s:b, s:i, s:f}", "StreamName", s->name,
		      "StreamARN", s->arn, "StreamStatus", stream_status(s, c->now_ms),
		      "StreamModeDetails", "StreamMode", mode_name(s), "Shards", shards,
		      "HasMoreShards", more, "RetentionPeriodHours", stream_retention_hours(s),
		      "StreamCreationTimestamp", epoch_seconds(s->created_ms));
	describe_settings(s, d);
	return json_pack("{s:o}", "StreamDescription", d);
}

static json_t *op_describe_stream_summary(struct call *c, json_t *req)
{
	struct stream *s = get_stream(c, req);
	json_t *d;

	if (s == NULL)
		return NULL;
	d = json_pack("{s:s, s:s, s:s, s:{s:s}, s:i, s:f, s:i, s:i}", "StreamName", s->name,
		      "StreamARN", s->arn, "StreamStatus", stream_status(s, c->now_ms),
		      "StreamModeDetails", "StreamMode", mode_name(s), "RetentionPeriodHours",
		      stream_retention_hours(s), "StreamCreationTimestamp",
		      epoch_seconds(s->created_ms), "OpenShardCount", (int)stream_open_shards(s),
		      "ConsumerCount", (int)s->consumer_count);
	describe_settings(s, d);
	return json_pack("{s:o}", "StreamDescriptionSummary", d);
}

/* ListShards' NextToken: the stream and the last shard listed, opaque. */
static char *shards_token(const struct stream *s, const char *last_id)
{
	char plain[STREAM_NAME_MAX + SHARD_ID_LEN + 2];
	char *token = malloc(base64_encoded_len(sizeof(plain)) + 1);

	snprintf(plain, sizeof(plain), "%s/%s", s->name, last_id);
	if (token)
		base64_encode(plain, strlen(plain), token);
	return token;
}

static const char *last_shard_id(json_t *shards)
{
	json_t *last = json_array_get(shards, json_array_size(shards) - 1);

	return json_string_value(json_object_get(last, "ShardId"));
}

static int parse_shards_token(const char *token, char *name, char *after)
{
	size_t len = strlen(token), n;
	unsigned char plain[STREAM_NAME_MAX + SHARD_ID_LEN + 2];
	const char *reason;
	char *slash;

	if (base64_decoded_max(len) >= sizeof(plain) ||
	    base64_decode(token, len, plain, &n, &reason) < 0)
		return -1;
	plain[n] = '\0';
	slash = strrchr((char *)plain, '/');
	if (slash == NULL || strlen(slash + 1) >= SHARD_ID_LEN || slash == (char *)plain ||
	    (size_t)(slash - (char *)plain) > STREAM_NAME_MAX)
		return -1;
	memcpy(name, plain, (size_t)(slash - (char *)plain));
	name[slash - (char *)plain] = '\0';
	memcpy(after, slash + 1, strlen(slash + 1) + 1);
	return 0;
}

static json_t *op_list_shards(struct call *c, json_t *req)
{
	const char *token, *start, *filter_type = NULL;
	json_int_t max = 1000;
	char token_name[STREAM_NAME_MAX + 1], token_after[SHARD_ID_LEN];
	json_t *filter = json_object_get(req, "ShardFilter"), *shards, *resp;
	struct stream *s;
	bool more;
	int open_only = 0;

	if (get_string(c, req, "NextToken", 1, 1048576, NULL, NULL, &token) < 0 ||
	    get_string(c, req, "ExclusiveStartShardId", 1, 128, NULL, NULL, &start) < 0 ||
	    get_int(c, req, "MaxResults", 1, 10000, &max) < 0)
		return NULL;
	if (token) {
		if (json_object_get(req, "StreamName") || json_object_get(req, "StreamARN"))
			return fail(c, "InvalidArgumentException",
				    "NextToken and StreamName cannot be provided together.");
		if (parse_shards_token(token, token_name, token_after) < 0)
			return fail(c, "InvalidArgumentException", "Invalid NextToken.");
		s = hub_find_stream(c->hub, token_name);
		if (s == NULL)
			return fail(c, "ResourceNotFoundException",
				    "Stream %s under account %s not found.", token_name,
				    c->hub->config.account);
		start = token_after;
	} else if ((s = get_stream(c, req)) == NULL) {
		return NULL;
	}
	if (filter && !json_is_null(filter)) {
		if (!json_is_object(filter) ||
		    get_string(c, filter, "Type", 1, 64, NULL, NULL, &filter_type) < 0)
			return c->error ? NULL
					: fail(c, "SerializationException", "%s",
					       json_is_array(filter)
						       ? "Start of list found where not expected"
						       : "Expected null");
		if (filter_type == NULL)
			return invalid(c, "shardFilter.type", NULL, "not be null");
		if (strcmp(filter_type, "AFTER_SHARD_ID") == 0) {
			if (get_string(c, filter, "ShardId", 1, 128, NULL, NULL, &start) < 0)
				return NULL;
			if (start == NULL)
				return fail(c, "InvalidArgumentException",
					    "ShardId must be given with the AFTER_SHARD_ID filter.");
		} else if (strcmp(filter_type, "AT_LATEST") == 0) {
			open_only = 1;
		} else if (strcmp(filter_type, "AT_TRIM_HORIZON") != 0 &&
			   strcmp(filter_type, "FROM_TRIM_HORIZON") != 0 &&
			   strcmp(filter_type, "AT_TIMESTAMP") != 0 &&
			   strcmp(filter_type, "FROM_TIMESTAMP") != 0) {
			return invalid(c, "shardFilter.type", filter_type,
				       "satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, "
				       "FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, "
				       "FROM_TIMESTAMP]");
		}
	}
	shards = shard_list(s, start, (size_t)max, open_only, &more);
	resp = json_pack("{s:o}", "Shards", shards);
	if (more && json_array_size(shards) > 0) {
		char *t = shards_token(s, last_shard_id(shards));
		if (t)
			json_object_set_new(resp, "NextToken", json_string(t));
		free(t);
	}
	return resp;
}

static void record_too_large(struct call *c, size_t max)
{
	char constraint[64];

	snprintf(constraint, sizeof(constraint), "have length less than or equal to %zu", max);
	invalid(c, "data", "[binary]", constraint);
}

/* Records larger than the stream takes (1 MiB unless UpdateMaxRecordSize
 * raised it) are refused, the whole call with them: checked once the
 * stream is known. */
static int check_record_sizes(struct call *c, const struct stream *s,
			      const struct put_entry *entries, size_t n)
{
	size_t max = (size_t)s->max_record_kib * 1024;

	for (size_t i = 0; i < n; i++) {
		if (entries[i].data_len + entries[i].key_len > max) {
			record_too_large(c, max);
			return -1;
		}
	}
	return 0;
}

/* Decodes and checks one record from its strings (key_len bytes of key,
 * ehk NULL when not given) into buf, which holds base64_decoded_max(data_len)
 * bytes. Returns -1 with the call failed. */
static int fill_put_entry(struct call *c, const char *data, size_t data_len, const char *key,
			  size_t key_len, const char *ehk, unsigned char *buf, struct put_entry *e)
{
	const char *reason;

	if (base64_decode(data, data_len, buf, &e->data_len, &reason) < 0) {
		fail(c, "SerializationException", "Data is not valid base64: %s.", reason);
		return -1;
	}
	if (e->data_len + key_len > KINESIS_RECORD_MAX_LARGEST) {
		record_too_large(c, KINESIS_RECORD_MAX_LARGEST);
		return -1;
	}
	e->data = buf;
	e->key = key;
	e->key_len = key_len;
	if (ehk == NULL) {
		e->hash = hashkey_of_partition_key(key, key_len);
	} else if (hashkey_parse(ehk, &e->hash, &reason) < 0) {
		if (strcmp(reason, "must be at most 2^128-1") == 0)
			fail(c, "InvalidArgumentException",
			     "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
			     "[0, 2^128-1]. Specified value was %.60s",
			     ehk);
		else
			invalid(c, "explicitHashKey", ehk,
				"satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
		return -1;
	}
	return 0;
}

/* Room for the decoded Data of a record object. */
static size_t data_room(json_t *rec)
{
	return base64_decoded_max(json_string_length(json_object_get(rec, "Data"))) + 1;
}

/* One record of a put request, validated, its Data decoded into buf (of
 * data_room bytes). Returns -1 with the call failed. */
static int read_put_entry(struct call *c, json_t *rec, unsigned char *buf, struct put_entry *e)
{
	const char *key, *data, *ehk;

	if (require_string(c, rec, "Data", 0, SIZE_MAX, NULL, NULL, &data) < 0 ||
	    require_string(c, rec, "PartitionKey", 1, KINESIS_KEY_CHARS_MAX, NULL, NULL, &key) < 0 ||
	    get_string(c, rec, "ExplicitHashKey", 0, 1024, NULL, NULL, &ehk) < 0)
		return -1;
	return fill_put_entry(c, data, json_string_length(json_object_get(rec, "Data")), key,
			      strlen(key), ehk, buf, e);
}

static json_t *op_put_record(struct call *c, json_t *req)
{
	struct stream *s = get_writable_stream(c, req);
	const char *ordering;
	unsigned char *buf;
	struct put_entry e;
	struct put_result r;

	if (s == NULL ||
	    get_string(c, req, "SequenceNumberForOrdering", 1, 129, NULL, NULL, &ordering) < 0)
		return NULL;
	if ((buf = malloc(data_room(req))) == NULL)
		return fail(c, "InternalFailure", "Out of memory.");
	if (read_put_entry(c, req, buf, &e) < 0 || check_record_sizes(c, s, &e, 1) < 0) {
		free(buf);
		return NULL;
	}
	hub_put(c->hub, s, &e, 1, &r, c->now_ms);
	free(buf);
	if (r.status == PUT_THROTTLED)
		return fail(c, "ProvisionedThroughputExceededException",
			    "Rate exceeded for shard %s in stream %s under account %s.",
			    s->shards[r.shard].id, s->name, c->hub->config.account);
	if (r.status == PUT_FAILED)
		return fail(c, "InternalFailure", "The record could not be stored.");
	return json_pack("{s:s, s:o, s:s}", "ShardId", s->shards[r.shard].id, "SequenceNumber",
			 seq_string(r.seq), "EncryptionType",
			 stream_encrypted(s, r.seq) ? "KMS" : "NONE");
}

/* ------------------------------------------------------------------ */
/* PutRecords                                                          */
/* ------------------------------------------------------------------ */

/* PutRecords is the hot path: the body is read with jsonscan when it looks
 * as bodies nearly always do, its Data decoded into one buffer, and the
 * answer written as text. Anything else (an escape in a key or value, a
 * repeated member, a null, any mistake at all) goes to the jansson path,
 * which finds and words the error as every other operation does, so both
 * paths give the same answer to every body. */

/* The records of a call, checked, ready for hub_put. */
struct put_batch {
	struct stream *s;
	size_t n, total;                /* records; bytes of data and keys */
	unsigned char *data, *next;     /* every Data decoded, one after another */
	struct put_entry entries[KINESIS_PUT_RECORDS_MAX];
	struct put_result results[KINESIS_PUT_RECORDS_MAX];
};

static void batch_reset(struct put_batch *b)
{
	b->s = NULL;
	b->n = b->total = 0;
	b->next = b->data;
}

/* Counts the entry just filled at b->entries[b->n]. */
static void batch_add(struct put_batch *b)
{
	const struct put_entry *e = &b->entries[b->n++];

	b->next += e->data_len;
	b->total += e->data_len + e->key_len;
}

static int check_total(struct call *c, const struct put_batch *b)
{
	if (b->total <= KINESIS_PUT_BYTES_MAX)
		return 0;
	fail(c, "InvalidArgumentException",
	     "Records size exceeds 5 MB limit: the request holds %zu bytes of data and "
	     "partition keys.",
	     b->total);
	return -1;
}

/* The jansson path: every check in AWS's order, each with its error. */
static int read_put_records_json(struct call *c, json_t *req, struct put_batch *b)
{
	json_t *records = json_object_get(req, "Records"), *rec;
	char count[32];
	size_t n, i;

	if (records == NULL || json_is_null(records)) {
		invalid(c, "records", NULL, "not be null");
		return -1;
	}
	if (!json_is_array(records)) {
		wrong_type(c, records, APIRULE_LIST);
		return -1;
	}
	n = json_array_size(records);
	snprintf(count, sizeof(count), "[%zu records]", n);
	if (n < 1 || n > KINESIS_PUT_RECORDS_MAX) {
		invalid(c, "records", count, n < 1 ? "have length greater than or equal to 1"
						   : "have length less than or equal to 500");
		return -1;
	}
	if ((b->s = get_stream(c, req)) == NULL)
		return -1;
	json_array_foreach(records, i, rec) {
		if (!json_is_object(rec)) {
			wrong_type(c, rec, APIRULE_STRUCTURE);
			return -1;
		}
		if (read_put_entry(c, rec, b->next, &b->entries[b->n]) < 0)
			return -1;
		batch_add(b);
	}
	if (check_record_sizes(c, b->s, b->entries, b->n) < 0)
		return -1;
	return check_total(c, b);
}

static bool is_key(const struct js_token *key, const char *name)
{
	return key->len == strlen(name) && memcmp(key->text, name, key->len) == 0;
}

/* A plain string (no escapes: the text is the value) that keeps the
 * constraints get_string would check, or absent (JS_NONE or null). */
static bool plain_string(const struct js_token *t, bool required, size_t min, size_t max,
			 charset_fn charset)
{
	char buf[96];

	if (t->type == JS_NONE || t->type == JS_NULL)
		return !required;
	return t->type == JS_STRING && !t->escaped &&
	       string_constraint(t->text, t->len, min, max, charset, "", buf, sizeof(buf)) == NULL;
}

/* Copies a plain string with its NUL, or NULL when absent or too long. */
static const char *c_string(const struct js_token *t, char *buf, size_t size)
{
	if (t->type != JS_STRING || t->len >= size)
		return NULL;
	memcpy(buf, t->text, t->len);
	buf[t->len] = '\0';
	return buf;
}

/* Reads the members of one record object: 1, or 0 to leave the body to
 * the jansson path. A member given twice counts as unusual. */
static int scan_record(struct jsonscan *s, struct js_token *data, struct js_token *key,
		       struct js_token *ehk)
{
	struct js_token rec, name, other, *t;
	int rc;

	data->type = key->type = ehk->type = JS_NONE;
	if (jsonscan_value(s, &rec) < 0 || rec.type != JS_OBJECT)
		return 0;
	while ((rc = jsonscan_member(s, &name)) > 0) {
		if (name.escaped)
			return 0;
		t = is_key(&name, "Data") ? data
		    : is_key(&name, "PartitionKey") ? key
		    : is_key(&name, "ExplicitHashKey") ? ehk : &other;
		if (t != &other && t->type != JS_NONE)
			return 0;
		if (jsonscan_value(s, t) < 0 || jsonscan_skip(s, t) < 0)
			return 0;
	}
	return rc == 0;
}

/* One record, read and checked as read_put_entry would: 1, or 0. */
static int scan_put_entry(struct call *c, struct jsonscan *s, struct put_batch *b)
{
	struct js_token data, key, ehk;
	char ehk_text[64];

	/* Data has no length limit of its own and a plain string holds no NUL,
	 * so only its type is checked: counting its characters is wasted work. */
	if (!scan_record(s, &data, &key, &ehk) || data.type != JS_STRING || data.escaped ||
	    !plain_string(&key, true, 1, KINESIS_KEY_CHARS_MAX, NULL) ||
	    !plain_string(&ehk, false, 0, 1024, NULL) ||
	    (ehk.type == JS_STRING && c_string(&ehk, ehk_text, sizeof(ehk_text)) == NULL))
		return 0;
	if (fill_put_entry(c, data.text, data.len, key.text, key.len,
			   ehk.type == JS_STRING ? ehk_text : NULL, b->next, &b->entries[b->n]) < 0)
		return 0;
	batch_add(b);
	return 1;
}

static int scan_records(struct call *c, struct jsonscan *s, struct put_batch *b)
{
	struct js_token v;
	int rc;

	if (jsonscan_value(s, &v) < 0 || v.type != JS_ARRAY)
		return 0;
	while ((rc = jsonscan_element(s)) > 0)
		if (b->n == KINESIS_PUT_RECORDS_MAX || !scan_put_entry(c, s, b))
			return 0;
	return rc == 0 && b->n > 0;
}

/* The stream named, as get_stream finds it: NULL to leave it to jansson. */
static struct stream *scan_stream(struct call *c, const struct js_token *name,
				  const struct js_token *arn)
{
	char name_text[STREAM_NAME_MAX + 1], arn_text[2049];

	if (!plain_string(name, false, 1, STREAM_NAME_MAX, name_char) ||
	    !plain_string(arn, false, 1, 2048, NULL))
		return NULL;
	if ((name->type == JS_STRING && !c_string(name, name_text, sizeof(name_text))) ||
	    (arn->type == JS_STRING && !c_string(arn, arn_text, sizeof(arn_text))))
		return NULL;
	if (name->type != JS_STRING && arn->type != JS_STRING)
		return NULL;
	return hub_find_stream_by(c->hub, name->type == JS_STRING ? name_text : NULL,
				  arn->type == JS_STRING ? arn_text : NULL);
}

/* The whole body in one pass: 1 with the batch ready, or 0. */
static int scan_put_records(struct call *c, struct jsonscan *s, struct put_batch *b)
{
	struct js_token root, key, name = { .type = JS_NONE }, arn = { .type = JS_NONE }, other;
	struct js_token *t;
	bool records = false;
	int rc;

	if (jsonscan_value(s, &root) < 0 || root.type != JS_OBJECT)
		return 0;
	while ((rc = jsonscan_member(s, &key)) > 0) {
		if (key.escaped)
			return 0;
		if (is_key(&key, "Records")) {
			if (records || !scan_records(c, s, b))
				return 0;
			records = true;
			continue;
		}
		t = is_key(&key, "StreamName") ? &name : is_key(&key, "StreamARN") ? &arn : &other;
		if (t != &other && t->type != JS_NONE)
			return 0;
		if (jsonscan_value(s, t) < 0 || jsonscan_skip(s, t) < 0)
			return 0;
	}
	if (rc < 0 || jsonscan_end(s) < 0 || !records)
		return 0;
	b->s = scan_stream(c, &name, &arn);
	return b->s != NULL && check_record_sizes(c, b->s, b->entries, b->n) == 0 &&
	       check_total(c, b) == 0;
}

/* One entry of the answer's Records. Sequence numbers are digits and
 * shard ids "shardId-" and digits: nothing in them needs escaping. */
static void append_result(struct strbuf *sb, struct call *c, const struct stream *s,
			  const struct put_result *r)
{
	const char *shard = s->shards[r->shard].id;
	char message[256];

	if (r->status == PUT_OK) {
		char seq[SEQNO_TEXT_MAX];
		size_t len = seqno_format(r->seq, seq);

		strbuf_puts(sb, "{\"SequenceNumber\":\"");
		strbuf_append(sb, seq, len);
		strbuf_puts(sb, "\",\"ShardId\":\"");
		strbuf_puts(sb, shard);
		strbuf_puts(sb, "\"}");
		return;
	}
	if (r->status == PUT_THROTTLED) {
		snprintf(message, sizeof(message),
			 "Rate exceeded for shard %s in stream %s under account %s.", shard,
			 s->name, c->hub->config.account);
		strbuf_puts(sb, "{\"ErrorCode\":\"ProvisionedThroughputExceededException\","
				"\"ErrorMessage\":");
		strbuf_json_string(sb, message, strlen(message));
		strbuf_puts(sb, "}");
		return;
	}
	strbuf_puts(sb, "{\"ErrorCode\":\"InternalFailure\",\"ErrorMessage\":"
			"\"Internal service failure.\"}");
}

/* The answer, as json_dumps wrote it: the same members in the same order. */
static char *put_records_answer(struct call *c, const struct put_batch *b)
{
	struct strbuf sb;
	size_t failed = 0;

	for (size_t i = 0; i < b->n; i++)
		failed += b->results[i].status != PUT_OK;
	strbuf_init(&sb);
	strbuf_reserve(&sb, 64 + b->n * 80);
	strbuf_puts(&sb, "{\"FailedRecordCount\":");
	strbuf_uint(&sb, failed);
	strbuf_puts(&sb, ",\"Records\":[");
	for (size_t i = 0; i < b->n; i++) {
		if (i > 0)
			strbuf_puts(&sb, ",");
		append_result(&sb, c, b->s, &b->results[i]);
	}
	strbuf_puts(&sb, b->s->key_id[0] ? "],\"EncryptionType\":\"KMS\"}"
				       : "],\"EncryptionType\":\"NONE\"}");
	if (sb.failed) {
		strbuf_free(&sb);
		fail(c, "InternalFailure", "Out of memory.");
		return NULL;
	}
	return sb.data;
}

static void clear_failure(struct call *c)
{
	c->error = NULL;
	c->status = 0;
	c->message[0] = '\0';
}

/* PutRecords: the fast reader, else jansson; then the hub and the answer.
 * Every Data is a piece of the body and decodes to fewer bytes than its
 * text, so base64_decoded_max of the body holds them all. */
static char *put_records(struct call *c, const char *body, size_t len)
{
	struct put_batch *b = malloc(sizeof(*b));
	struct jsonscan s;
	json_t *req = NULL;
	char *text = NULL;

	if (b == NULL || (b->data = malloc(base64_decoded_max(len) + 1)) == NULL) {
		free(b);
		fail(c, "InternalFailure", "Out of memory.");
		return NULL;
	}
	batch_reset(b);
	jsonscan_init(&s, body, len, false);
	if (!scan_put_records(c, &s, b)) {
		batch_reset(b);
		clear_failure(c);
		if ((req = load_request(c, body, len)) != NULL)
			read_put_records_json(c, req, b);
	}
	jsonscan_free(&s);
	if (c->error == NULL)
		refuse_mirrored(c, b->s);
	if (c->error == NULL) {
		hub_put(c->hub, b->s, b->entries, b->n, b->results, c->now_ms);
		text = put_records_answer(c, b);
	}
	json_decref(req);
	free(b->data);
	free(b);
	return text;
}

/* ------------------------------------------------------------------ */
/* Reading: shard iterators and GetRecords                             */
/* ------------------------------------------------------------------ */

/* A shard iterator names a stream incarnation, a shard, the lowest sequence
 * number still to read, and when it expires; it is opaque to clients. */
struct iterator {
	uint64_t uid;
	unsigned shard;
	seqno_t from;
	int64_t expires_ms;
};

/* The number in its decimal form, so iterators of every width read alike
 * and those handed out before numbers were widened still work. */
static json_t *iterator_string(const struct iterator *it)
{
	char plain[192], encoded[base64_encoded_len(sizeof(plain)) + 1], from[SEQNO_TEXT_MAX];

	seqno_format(it->from, from);
	snprintf(plain, sizeof(plain), "alleycat1:%" PRIu64 ":%u:%s:%" PRId64, it->uid, it->shard,
		 from, it->expires_ms);
	base64_encode(plain, strlen(plain), encoded);
	return json_string(encoded);
}

static int parse_iterator(const char *text, struct iterator *it)
{
	unsigned char plain[224];
	char from[SEQNO_TEXT_MAX + 1];
	size_t len = strlen(text), n;
	const char *reason;
	char tail;

	if (base64_decoded_max(len) >= sizeof(plain) ||
	    base64_decode(text, len, plain, &n, &reason) < 0)
		return -1;
	plain[n] = '\0';
	if (sscanf((char *)plain, "alleycat1:%" SCNu64 ":%u:%79[0-9]:%" SCNd64 "%c", &it->uid,
		   &it->shard, from, &it->expires_ms, &tail) != 4 ||
	    seqno_parse(from, &it->from) != SEQNO_OK)
		return -1;
	return 0;
}

static const char *const iterator_types[] = {
	"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP",
};

static json_t *op_get_shard_iterator(struct call *c, json_t *req)
{
	struct stream *s = get_stream(c, req);
	const char *shard_id, *type, *seq_text;
	int64_t ts_ms = 0;
	int shard, has_ts, t;
	seqno_t seq = SEQNO_ZERO;
	struct iterator it;
	struct shard *sh;

	if (s == NULL ||
	    require_string(c, req, "ShardId", 1, 128, NULL, NULL, &shard_id) < 0 ||
	    require_string(c, req, "ShardIteratorType", 1, 64, NULL, NULL, &type) < 0 ||
	    get_string(c, req, "StartingSequenceNumber", 1, 256, NULL, NULL, &seq_text) < 0 ||
	    (has_ts = get_timestamp(c, req, "Timestamp", &ts_ms)) < 0)
		return NULL;
	for (t = 0; t < 5 && strcmp(type, iterator_types[t]) != 0; t++)
		;
	if (t == 5)
		return invalid(c, "shardIteratorType", type,
			       "satisfy enum value set: [AT_SEQUENCE_NUMBER, "
			       "AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]");
	shard = stream_find_shard(s, shard_id);
	if (shard < 0)
		return fail(c, "ResourceNotFoundException",
			    "Shard %s in stream %s under account %s does not exist", shard_id,
			    s->name, c->hub->config.account);
	sh = &s->shards[shard];
	if (t == SHARDLOG_AT_SEQUENCE_NUMBER || t == SHARDLOG_AFTER_SEQUENCE_NUMBER) {
		if (seq_text == NULL)
			return fail(c, "InvalidArgumentException",
				    "Must specify StartingSequenceNumber for %s.", type);
		enum seqno_parse_result pr = seqno_parse(seq_text, &seq);
		if (pr == SEQNO_MALFORMED)
			return invalid(c, "startingSequenceNumber", seq_text,
				       "satisfy regular expression pattern: 0|([1-9]\\d{0,128})");
		if (pr == SEQNO_TOO_LARGE)
			return fail(c, "InvalidArgumentException",
				    "StartingSequenceNumber %.60s used in GetShardIterator on shard "
				    "%s in stream %s under account %s is invalid.",
				    seq_text, sh->id, s->name, c->hub->config.account);
	}
	if (t == SHARDLOG_AT_TIMESTAMP && !has_ts)
		return fail(c, "InvalidArgumentException", "Must specify timestamp for AT_TIMESTAMP.");

	it.uid = s->uid;
	it.shard = (unsigned)shard;
	it.expires_ms = c->now_ms + KINESIS_ITERATOR_TTL_MS;
	switch (t) {
	case SHARDLOG_TRIM_HORIZON:
		it.from = SEQNO_ZERO;
		break;
	case SHARDLOG_LATEST:
		/* Every record written from now on has a higher number. */
		it.from = stream_latest(s, shard, c->hub->gen.last);
		break;
	case SHARDLOG_AT_SEQUENCE_NUMBER:
		it.from = seq;
		break;
	case SHARDLOG_AFTER_SEQUENCE_NUMBER:
		it.from = seqno_next(seq);
		break;
	default: {
		uint64_t pos = shardlog_position(&sh->log, SHARDLOG_AT_TIMESTAMP, SEQNO_ZERO, ts_ms);
		const struct shardlog_record *r = shardlog_at(&sh->log, pos);
		it.from = r ? r->seq : stream_latest(s, shard, c->hub->gen.last);
	}
	}
	return json_pack("{s:o}", "ShardIterator", iterator_string(&it));
}

#define GET_RECORDS_BYTES_MAX (10 * 1024 * 1024)

/* A record as GetRecords lists it; EncryptionType only when it was
 * written encrypted, as AWS lists it. */
static json_t *record_json(const struct stream *s, const struct shardlog_record *r)
{
	char *data = malloc(base64_encoded_len(r->data_len) + 1);
	json_t *j;

	if (data == NULL)
		return NULL;
	base64_encode(shardlog_record_data(r), r->data_len, data);
	j = json_pack("{s:o, s:f, s:s, s:s#}", "SequenceNumber", seq_string(r->seq),
		      "ApproximateArrivalTimestamp", epoch_seconds(r->arrival_ms), "Data", data,
		      "PartitionKey", shardlog_record_key(r), (int)r->key_len);
	free(data);
	if (j && stream_encrypted(s, r->seq))
		json_object_set_new(j, "EncryptionType", json_string("KMS"));
	return j;
}

/* The shards a closed shard's records continue in, as GetRecords and push
 * name them once a reader reaches its end. */
json_t *kinesis_child_shards(const struct stream *s, size_t shard)
{
	json_t *children = json_array();

	for (size_t i = 0; i < s->shard_count; i++) {
		const struct shard *ch = &s->shards[i];
		if (ch->parent != (int)shard && ch->adjacent_parent != (int)shard)
			continue;
		json_t *parents = json_array();
		json_array_append_new(parents, json_string(s->shards[ch->parent].id));
		if (ch->adjacent_parent >= 0)
			json_array_append_new(parents,
					      json_string(s->shards[ch->adjacent_parent].id));
		json_array_append_new(children,
				      json_pack("{s:s, s:o, s:{s:o, s:o}}", "ShardId", ch->id,
						"ParentShards", parents, "HashKeyRange",
						"StartingHashKey", hashkey_string(ch->start),
						"EndingHashKey", hashkey_string(ch->end)));
	}
	return children;
}

static json_t *op_get_records(struct call *c, json_t *req)
{
	const char *text;
	json_int_t limit = 10000;
	struct iterator it;
	struct stream *s = NULL;
	struct shard *sh;
	json_t *records;
	uint64_t pos;
	size_t bytes = 0;
	int64_t behind = 0;
	const struct shardlog_record *r;

	if (require_string(c, req, "ShardIterator", 1, 512, NULL, NULL, &text) < 0 ||
	    get_int(c, req, "Limit", 1, 10000, &limit) < 0)
		return NULL;
	if (parse_iterator(text, &it) < 0)
		return fail(c, "InvalidArgumentException", "Invalid ShardIterator.");
	for (size_t i = 0; i < c->hub->stream_count; i++)
		if (c->hub->streams[i]->uid == it.uid)
			s = c->hub->streams[i];
	if (s == NULL || !stream_shard_known(s, it.shard))
		return fail(c, "ResourceNotFoundException",
			    "The stream or shard of this iterator no longer exists.");
	if (c->now_ms > it.expires_ms)
		return fail(c, "ExpiredIteratorException",
			    "Iterator expired. The iterator was created at time %" PRId64
			    " while right now it is %" PRId64 " which is further in the future "
			    "than the tolerated delay of %d milliseconds.",
			    it.expires_ms - KINESIS_ITERATOR_TTL_MS, c->now_ms,
			    KINESIS_ITERATOR_TTL_MS);
	sh = &s->shards[it.shard];
	records = json_array();
	pos = shardlog_position(&sh->log, SHARDLOG_AT_SEQUENCE_NUMBER, it.from, 0);
	while (json_array_size(records) < (size_t)limit && (r = shardlog_at(&sh->log, pos))) {
		size_t size = base64_encoded_len(r->data_len) + r->key_len;
		json_t *j;
		if (bytes > 0 && bytes + size > GET_RECORDS_BYTES_MAX)
			break;
		if ((j = record_json(s, r)) == NULL) {
			json_decref(records);
			return fail(c, "InternalFailure", "Out of memory.");
		}
		json_array_append_new(records, j);
		sh->records_out++;
		sh->bytes_out += r->data_len + r->key_len;
		bytes += size;
		it.from = seqno_next(r->seq);
		pos++;
	}
	if ((r = shardlog_at(&sh->log, pos)) != NULL)
		behind = c->now_ms - r->arrival_ms;
	if (behind < 0)
		behind = 0;
	behind += sh->upstream_behind_ms;
	sh->iterator_age_ms = behind;
	if (r == NULL && !seqno_is_zero(sh->ending_seq)) {
		/* The end of a closed shard: no next iterator, its children. */
		return json_pack("{s:o, s:n, s:i, s:o}", "Records", records, "NextShardIterator",
				 "MillisBehindLatest", 0, "ChildShards",
				 kinesis_child_shards(s, it.shard));
	}
	it.expires_ms = c->now_ms + KINESIS_ITERATOR_TTL_MS;
	return json_pack("{s:o, s:o, s:I, s:[]}", "Records", records, "NextShardIterator",
			 iterator_string(&it), "MillisBehindLatest",
			 (json_int_t)(behind > 0 ? behind : 0), "ChildShards");
}

/* ------------------------------------------------------------------ */
/* Resharding                                                          */
/* ------------------------------------------------------------------ */

static json_t *reshard_failed(struct call *c, const char *why, const char *what)
{
	return fail(c, why, "%s", strcmp(why, "ResourceInUseException") == 0
					  ? "The shard is closed: only open shards can be resharded."
				  : strcmp(why, "InvalidArgumentException") == 0 ? what
				  : "The shards could not be changed.");
}

/* The shard a call names by member, or NULL with the call failed. */
static int named_shard(struct call *c, json_t *req, const struct stream *s, const char *member)
{
	const char *id;
	int shard;

	if (require_string(c, req, member, 1, 128, NULL, NULL, &id) < 0)
		return -1;
	shard = stream_find_shard(s, id);
	if (shard < 0)
		fail(c, "ResourceNotFoundException", "Shard %.128s in stream %s under account %s "
			"does not exist", id, s->name, c->hub->config.account);
	return shard;
}

static json_t *op_split_shard(struct call *c, json_t *req)
{
	struct stream *s = get_writable_stream(c, req);
	const char *text, *reason, *why;
	hashkey_t key;
	int shard;

	if (s == NULL || (shard = named_shard(c, req, s, "ShardToSplit")) < 0 ||
	    require_string(c, req, "NewStartingHashKey", 1, 64, NULL, NULL, &text) < 0)
		return NULL;
	if (hashkey_parse(text, &key, &reason) < 0)
		return invalid(c, "newStartingHashKey", text,
			       "satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
	if (hub_split_shard(c->hub, s, (size_t)shard, key, c->now_ms, &why) < 0)
		return reshard_failed(c, why, "NewStartingHashKey must lie inside the shard's "
					      "hash key range, above its start.");
	log_info("split %s of stream %s", s->shards[shard].id, s->name);
	return json_object();
}

static json_t *op_merge_shards(struct call *c, json_t *req)
{
	struct stream *s = get_writable_stream(c, req);
	const char *why;
	int a, b;

	if (s == NULL || (a = named_shard(c, req, s, "ShardToMerge")) < 0 ||
	    (b = named_shard(c, req, s, "AdjacentShardToMerge")) < 0)
		return NULL;
	if (hub_merge_shards(c->hub, s, (size_t)a, (size_t)b, c->now_ms, &why) < 0)
		return reshard_failed(c, why, "The shards to merge must be two different open "
					      "shards with adjacent hash key ranges.");
	log_info("merged %s and %s of stream %s", s->shards[a].id, s->shards[b].id, s->name);
	return json_object();
}

static json_t *op_update_shard_count(struct call *c, json_t *req)
{
	struct stream *s = get_writable_stream(c, req);
	const char *scaling, *why;
	json_int_t target;
	size_t open;

	if (s == NULL || require_string(c, req, "ScalingType", 1, 32, NULL, NULL, &scaling) < 0)
		return NULL;
	if (strcmp(scaling, "UNIFORM_SCALING") != 0)
		return invalid(c, "scalingType", scaling,
			       "satisfy enum value set: [UNIFORM_SCALING]");
	if (get_int(c, req, "TargetShardCount", 1, 100000, &target) <= 0)
		return c->error ? NULL : invalid(c, "targetShardCount", NULL, "not be null");
	open = stream_open_shards(s);
	/* As in Kinesis: at most double, at least half, per call. */
	if ((size_t)target > 2 * open || (size_t)target * 2 < open ||
	    target > c->hub->config.max_shards)
		return fail(c, "InvalidArgumentException",
			    "TargetShardCount %lld must be between half and double the %zu open "
			    "shards (and at most %d).",
			    (long long)target, open, c->hub->config.max_shards);
	if (hub_update_shard_count(c->hub, s, (size_t)target, c->now_ms, &why) < 0)
		return reshard_failed(c, why, "");
	log_info("stream %s now has %lld open shards", s->name, (long long)target);
	return json_pack("{s:s, s:s, s:i, s:I}", "StreamName", s->name, "StreamARN", s->arn,
			 "CurrentShardCount", (int)open, "TargetShardCount", (json_int_t)target);
}

/* ------------------------------------------------------------------ */
/* Consumers                                                           */
/* ------------------------------------------------------------------ */

static struct stream *stream_by_arn(struct call *c, json_t *req)
{
	const char *arn;

	if (require_string(c, req, "StreamARN", 1, 2048, NULL, NULL, &arn) < 0)
		return NULL;
	struct stream *s = hub_find_stream_by(c->hub, NULL, arn);
	if (s == NULL)
		return (struct stream *)fail(c, "ResourceNotFoundException",
					     "Stream %s not found.", arn);
	return s;
}

static json_t *op_register_stream_consumer(struct call *c, json_t *req)
{
	struct stream *s = stream_by_arn(c, req);
	const char *name;
	struct stream_consumer *con;

	if (s == NULL || require_string(c, req, "ConsumerName", 1, CONSUMER_NAME_MAX, name_char,
					STREAM_NAME_PATTERN, &name) < 0)
		return NULL;
	if (stream_find_consumer(s, name))
		return fail(c, "ResourceInUseException",
			    "Consumer %s already exists on stream %s.", name, s->name);
	if ((int)s->consumer_count >= c->hub->config.max_consumers)
		return fail(c, "LimitExceededException",
			    "Stream %s already has %d registered consumers, the limit.", s->name,
			    c->hub->config.max_consumers);
	con = hub_register_consumer(c->hub, s, name, c->now_ms);
	if (con == NULL)
		return fail(c, "InternalFailure", "The consumer could not be registered.");
	log_info("registered consumer %s on stream %s", name, s->name);
	return json_pack("{s:o}", "Consumer", consumer_json(con, s, 0));
}

/* The consumer a call names by ConsumerARN, or by StreamARN and ConsumerName. */
static struct stream_consumer *get_consumer(struct call *c, json_t *req, struct stream **stream)
{
	const char *arn, *name, *stream_arn;
	struct stream_consumer *con;

	if (get_string(c, req, "ConsumerARN", 1, 2048, NULL, NULL, &arn) < 0 ||
	    get_string(c, req, "ConsumerName", 1, CONSUMER_NAME_MAX, name_char,
		       STREAM_NAME_PATTERN, &name) < 0 ||
	    get_string(c, req, "StreamARN", 1, 2048, NULL, NULL, &stream_arn) < 0)
		return NULL;
	if (arn) {
		con = hub_find_consumer_arn(c->hub, arn, stream);
		if (con == NULL)
			fail(c, "ResourceNotFoundException", "Consumer %s not found.", arn);
		return con;
	}
	if (name == NULL || stream_arn == NULL) {
		invalid(c, "consumerARN", NULL,
			"not be null when streamARN and consumerName are not both given");
		return NULL;
	}
	*stream = hub_find_stream_by(c->hub, NULL, stream_arn);
	if (*stream == NULL) {
		fail(c, "ResourceNotFoundException", "Stream %s not found.", stream_arn);
		return NULL;
	}
	con = stream_find_consumer(*stream, name);
	if (con == NULL)
		fail(c, "ResourceNotFoundException", "Consumer %s not found on stream %s.", name,
		     (*stream)->name);
	return con;
}

static json_t *op_deregister_stream_consumer(struct call *c, json_t *req)
{
	struct stream *s = NULL;
	struct stream_consumer *con = get_consumer(c, req, &s);

	if (con == NULL)
		return NULL;
	log_info("deregistering consumer %s of stream %s", con->name, s->name);
	if (hub_deregister_consumer(c->hub, s, con) < 0)
		return fail(c, "InternalFailure", "The change could not be saved.");
	return json_object();
}

static json_t *op_describe_stream_consumer(struct call *c, json_t *req)
{
	struct stream *s = NULL;
	struct stream_consumer *con = get_consumer(c, req, &s);

	if (con == NULL)
		return NULL;
	return json_pack("{s:o}", "ConsumerDescription", consumer_json(con, s, 1));
}

static json_t *op_list_stream_consumers(struct call *c, json_t *req)
{
	struct stream *s = stream_by_arn(c, req);
	json_int_t max = 100;
	const char *token;
	json_t *list, *resp;
	size_t i = 0;

	if (s == NULL || get_int(c, req, "MaxResults", 1, 10000, &max) < 0 ||
	    get_string(c, req, "NextToken", 1, 1048576, NULL, NULL, &token) < 0)
		return NULL;
	if (token) {
		while (i < s->consumer_count && strcmp(s->consumers[i].name, token) != 0)
			i++;
		if (i == s->consumer_count)
			return fail(c, "InvalidArgumentException", "Invalid NextToken.");
		i++;
	}
	list = json_array();
	for (; i < s->consumer_count && json_array_size(list) < (size_t)max; i++)
		json_array_append_new(list, consumer_json(&s->consumers[i], s, 0));
	resp = json_pack("{s:o}", "Consumers", list);
	if (i < s->consumer_count)
		json_object_set_new(resp, "NextToken", json_string(s->consumers[i - 1].name));
	return resp;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

/* An operation runs on the parsed request, or (answer) on the body itself
 * and writes its answer as text. */
static const struct operation {
	const char *name;
	json_t *(*run)(struct call *c, json_t *req);
	char *(*answer)(struct call *c, const char *body, size_t len);
} operations[] = {
	{ "CreateStream", op_create_stream, NULL },
	{ "DeleteStream", op_delete_stream, NULL },
	{ "DeregisterStreamConsumer", op_deregister_stream_consumer, NULL },
	{ "DescribeStream", op_describe_stream, NULL },
	{ "DescribeStreamConsumer", op_describe_stream_consumer, NULL },
	{ "DescribeStreamSummary", op_describe_stream_summary, NULL },
	{ "GetRecords", op_get_records, NULL },
	{ "GetShardIterator", op_get_shard_iterator, NULL },
	{ "ListShards", op_list_shards, NULL },
	{ "ListStreamConsumers", op_list_stream_consumers, NULL },
	{ "ListStreams", op_list_streams, NULL },
	{ "MergeShards", op_merge_shards, NULL },
	{ "PutRecord", op_put_record, NULL },
	{ "PutRecords", NULL, put_records },
	{ "RegisterStreamConsumer", op_register_stream_consumer, NULL },
	{ "SplitShard", op_split_shard, NULL },
	{ "UpdateShardCount", op_update_shard_count, NULL },
};

/* The operations of the other modules, each table checked against its
 * request shape before it runs. */
static const struct kinesis_operation *const module_tables[] = {
	kinesis_tag_operations,
	kinesis_setting_operations,
	kinesis_policy_operations,
	kinesis_account_operations,
};

static const char *operation_name(const char *target)
{
	size_t prefix = strlen(KINESIS_TARGET_PREFIX);

	if (target == NULL || strncmp(target, KINESIS_TARGET_PREFIX, prefix) != 0)
		return NULL;
	return target + prefix;
}

static const struct operation *find_operation(const char *target)
{
	const char *name = operation_name(target);

	for (size_t i = 0; name && i < sizeof(operations) / sizeof(operations[0]); i++)
		if (strcmp(name, operations[i].name) == 0)
			return &operations[i];
	return NULL;
}

static const struct kinesis_operation *find_module_operation(const char *target)
{
	const char *name = operation_name(target);

	for (size_t t = 0; name && t < sizeof(module_tables) / sizeof(module_tables[0]); t++)
		for (const struct kinesis_operation *op = module_tables[t]; op->name; op++)
			if (strcmp(name, op->name) == 0)
				return op;
	return NULL;
}

/* A module's operation: its shape checked, then run. */
static json_t *run_module_operation(struct call *c, const struct kinesis_operation *op,
				    json_t *req)
{
	struct apirule_error err;

	if (apirules_check(req, op->rules, &err) < 0)
		return fail(c, err.type, "%s", err.message);
	return op->run(c, req);
}

bool kinesis_knows(const char *target)
{
	return find_operation(target) != NULL || find_module_operation(target) != NULL;
}

char *kinesis_error_body(const char *type, const char *message)
{
	json_t *j = json_pack("{s:s, s:s}", "__type", type, "message", message);
	char *text, *clean;
	size_t size;

	/* Messages quote what the client sent (a value cut at 100 bytes,
	 * jansson's "near '...'"), and a quote can hold invalid UTF-8 or cut a
	 * character in two, which json_pack refuses: rather than answer with
	 * no body at all, such bytes (and control characters) become U+FFFD. */
	if (j == NULL) {
		size = 3 * strlen(message) + 1;
		if ((clean = malloc(size)) != NULL) {
			sanitize_text(message, clean, size, size, true);
			j = json_pack("{s:s, s:s}", "__type", type, "message", clean);
			free(clean);
		}
	}
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return text;
}

void kinesis_handle(struct hub *hub, const char *target, const char *body, size_t len,
		    int64_t now_ms, struct kinesis_reply *reply)
{
	struct call c = { .hub = hub, .now_ms = now_ms };
	const struct operation *op = find_operation(target);
	const struct kinesis_operation *mop = op ? NULL : find_module_operation(target);
	json_t *req = NULL, *resp = NULL;
	char *text = NULL;

	if (mop) {
		if ((req = load_request(&c, body, len)) != NULL)
			resp = run_module_operation(&c, mop, req);
	} else if (op == NULL) {
		fail(&c, "UnknownOperationException", "Unknown operation: %.100s",
		     target ? target : "(no X-Amz-Target header)");
	} else if (op->answer) {
		text = op->answer(&c, body, len);
	} else if ((req = load_request(&c, body, len)) != NULL) {
		resp = op->run(&c, req);
	}
	if (resp) {
		text = json_dumps(resp, JSON_COMPACT | JSON_REAL_PRECISION(15));
		json_decref(resp);
		if (text == NULL)
			fail(&c, "InternalFailure", "Out of memory.");
	}
	if (text) {
		reply->status = 200;
		reply->error = NULL;
		reply->body = text;
	}
	if (c.error) {
		reply->status = c.status;
		reply->error = c.error;
		reply->body = kinesis_error_body(c.error, c.message);
		if (c.status == 500)
			log_error("%s: %s", c.error, c.message);
	}
	reply->len = reply->body ? strlen(reply->body) : 0;
	reply->content_type = KINESIS_CONTENT_TYPE;
	json_decref(req);
}
