/* What the modules of Kinesis operations share with the dispatcher
 * (kinesis.c): each module lists its operations in a table, with the
 * request shape that apirules checks before the operation runs, and
 * answers through the call. A call is opaque outside kinesis.c. */
#ifndef ALLEYCAT_KINESIS_OPS_H
#define ALLEYCAT_KINESIS_OPS_H

#include <jansson.h>
#include <stdint.h>

#include "hub/apirules.h"

struct call;
struct hub;
struct stream;
struct stream_consumer;
struct tagset;

struct kinesis_operation {
	const char *name;               /* after "Kinesis_20131202."; NULL ends a table */
	const struct apirule *rules;    /* the request's shape */
	/* The answer (new reference), or NULL with the call failed. */
	json_t *(*run)(struct call *c, json_t *req);
};

/* The tables of the modules (each ends with a NULL name). */
extern const struct kinesis_operation kinesis_tag_operations[];
extern const struct kinesis_operation kinesis_setting_operations[];
extern const struct kinesis_operation kinesis_policy_operations[];
extern const struct kinesis_operation kinesis_account_operations[];

struct hub *kinesis_call_hub(struct call *c);
int64_t kinesis_call_now(struct call *c);

/* Fails the call with an AWS error; returns NULL for the caller to return. */
json_t *kinesis_fail(struct call *c, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The stream a call names by StreamName or StreamARN, or NULL with the
 * call failed (ResourceNotFoundException, or neither given). */
struct stream *kinesis_call_stream(struct call *c, json_t *req);

/* Fails the call with ResourceInUseException while the stream is
 * UPDATING; else 0. A change then makes it UPDATING for the hub's
 * update time (kinesis_begin_update). */
int kinesis_require_active(struct call *c, const struct stream *s);
void kinesis_begin_update(struct call *c, struct stream *s);

/* A resource a call names by ResourceARN: a stream or a consumer, with
 * what it owns (borrowed from the hub). */
struct kinesis_resource {
	struct stream *stream;          /* the stream, or the consumer's */
	struct stream_consumer *consumer;       /* NULL for a stream */
	struct tagset *tags;
	char **policy;
	const char *arn;
};

/* Finds the resource of ResourceARN: 0, or -1 with the call failed
 * (ResourceNotFoundException). */
int kinesis_call_resource(struct call *c, json_t *req, struct kinesis_resource *out);

/* The shape of Tags, a map of tag keys to values. */
extern const struct apirule kinesis_tag_key_rule, kinesis_tag_value_rule;
#define KINESIS_TAG_MAP_RULE(required)                                                   \
	{ "Tags", APIRULE_MAP, required, 1, 200, NULL, NULL, NULL, &kinesis_tag_value_rule,  \
	  &kinesis_tag_key_rule, NULL }

/* Adds or replaces tags (a JSON object whose shape apirules checked), as
 * AddTagsToStream does: all of them, or none with the call failed
 * (LimitExceededException past 50, InvalidArgumentException for a
 * reserved key or a character AWS refuses). what names the resource in
 * messages. The caller saves. */
int kinesis_tags_put(struct call *c, struct tagset *set, json_t *tags, const char *what);

/* CreateStream's settings beyond name and shards (StreamModeDetails,
 * Tags, WarmThroughputMiBps): checked before the stream is made (-1 with
 * the call failed), then applied to it and saved (-1 when that fails). */
int kinesis_create_settings_check(struct call *c, json_t *req);
int kinesis_create_settings_apply(struct call *c, struct stream *s, json_t *req);

/* Appends the names of the shard-level metrics set in bits (enum
 * stream_metric) to names, a JSON array. */
void kinesis_metric_names(unsigned bits, json_t *names);

/* Saves a change, or fails the call with InternalFailure: -1. */
int kinesis_save(struct call *c);

#endif
