/* Tagging: AddTagsToStream, RemoveTagsFromStream and ListTagsForStream
 * name a stream; TagResource, UntagResource and ListTagsForResource name a
 * stream or a consumer by its ARN. Tags are kept with the resource and
 * saved with the hub's state. As in Kinesis: at most 50 tags a resource,
 * keys of 1..128 characters, values of 0..256, no key in the reserved
 * "aws:" prefix, and a stream's tags can change while it is UPDATING. */
#include "config.h"

#include <string.h>

#include "hub/hub.h"
#include "hub/kinesis_ops.h"
#include "hub/tags.h"

#define LIST_TAGS_DEFAULT TAGS_MAX  /* all of a stream's tags */

const struct apirule kinesis_tag_key_rule = {
	"TagKey", APIRULE_STRING, false, 1, TAG_KEY_MAX, NULL, NULL, NULL, NULL, NULL, NULL,
};
const struct apirule kinesis_tag_value_rule = {
	"TagValue", APIRULE_STRING, false, 0, TAG_VALUE_MAX, NULL, NULL, NULL, NULL, NULL, NULL,
};

#define TAG_MAP_RULE KINESIS_TAG_MAP_RULE(true)
#define TAG_KEYS_RULE                                                                    \
	{ "TagKeys", APIRULE_LIST, true, 1, 50, NULL, NULL, NULL, &kinesis_tag_key_rule, NULL, \
	  NULL }

/* Whether every character is one AWS allows in a tag: Unicode letters,
 * digits, white space and _ . / = + - % @ : (bytes of UTF-8 sequences
 * count as letters). */
static bool tag_text_allowed(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(" \t_./=+-%@:", *p))
			continue;
		return false;
	}
	return true;
}

/* A tag's value; a null one counts as empty. */
static const char *value_of(json_t *value)
{
	return json_is_string(value) ? json_string_value(value) : "";
}

static int check_new_tags(struct call *c, json_t *tags)
{
	const char *key;
	json_t *value;

	json_object_foreach(tags, key, value) {
		if (!tag_text_allowed(key) || !tag_text_allowed(value_of(value))) {
			kinesis_fail(c, "InvalidArgumentException",
				     "Some tags contain invalid characters. Valid characters: "
				     "Unicode letters, digits, white space, _ . / = + - %% @ :.");
			return -1;
		}
		if (strncmp(key, "aws:", 4) == 0) {
			kinesis_fail(c, "InvalidArgumentException",
				     "Tag key %.128s uses the prefix aws:, which is reserved.", key);
			return -1;
		}
	}
	return 0;
}

int kinesis_tags_put(struct call *c, struct tagset *set, json_t *tags, const char *what)
{
	struct hub *hub = kinesis_call_hub(c);
	struct tagset before = { NULL, 0 };
	const char *key;
	json_t *value;

	if (check_new_tags(c, tags) < 0)
		return -1;
	if (tagset_count_with(set, tags) > TAGS_MAX) {
		kinesis_fail(c, "LimitExceededException",
			     "Failed to add tags to %s under account %s because a given resource "
			     "cannot have more than %d tags associated with it.",
			     what, hub->config.account, TAGS_MAX);
		return -1;
	}
	/* All of them or, out of memory, none: the set as it was is kept aside. */
	for (size_t i = 0; i < set->count; i++)
		if (tagset_set(&before, set->items[i].key, set->items[i].value) < 0)
			goto out_of_memory;
	json_object_foreach(tags, key, value) {
		if (tagset_set(set, key, value_of(value)) < 0) {
			tagset_free(set);
			*set = before;
			before = (struct tagset){ NULL, 0 };
			goto out_of_memory;
		}
	}
	tagset_free(&before);
	return 0;
out_of_memory:
	tagset_free(&before);
	kinesis_fail(c, "InternalFailure", "Out of memory.");
	return -1;
}

static json_t *add_tags(struct call *c, struct tagset *set, json_t *tags, const char *what)
{
	if (kinesis_tags_put(c, set, tags, what) < 0 || kinesis_save(c) < 0)
		return NULL;
	return json_object();
}

static json_t *remove_tags(struct call *c, struct tagset *set, json_t *keys)
{
	json_t *key;
	size_t i;

	json_array_foreach(keys, i, key) {
		if (json_is_string(key))
			tagset_remove(set, json_string_value(key));
	}
	return kinesis_save(c) < 0 ? NULL : json_object();
}

static json_t *tag_json(const struct tag *t)
{
	return json_pack("{s:s, s:s}", "Key", t->key, "Value", t->value);
}

/* ------------------------------------------------------------------ */
/* By stream                                                           */
/* ------------------------------------------------------------------ */

static json_t *op_add_tags_to_stream(struct call *c, json_t *req)
{
	struct stream *s = kinesis_call_stream(c, req);
	char what[STREAM_NAME_MAX + 16];

	if (s == NULL)
		return NULL;
	snprintf(what, sizeof(what), "stream %s", s->name);
	return add_tags(c, &s->tags, json_object_get(req, "Tags"), what);
}

static json_t *op_remove_tags_from_stream(struct call *c, json_t *req)
{
	struct stream *s = kinesis_call_stream(c, req);

	return s ? remove_tags(c, &s->tags, json_object_get(req, "TagKeys")) : NULL;
}

static json_t *op_list_tags_for_stream(struct call *c, json_t *req)
{
	struct stream *s = kinesis_call_stream(c, req);
	const char *start = json_string_value(json_object_get(req, "ExclusiveStartTagKey"));
	long long limit = apirules_integer(req, "Limit", LIST_TAGS_DEFAULT);
	json_t *tags;
	size_t i;

	if (s == NULL)
		return NULL;
	tags = json_array();
	for (i = tagset_after(&s->tags, start); i < s->tags.count; i++) {
		if ((long long)json_array_size(tags) == limit)
			break;
		json_array_append_new(tags, tag_json(&s->tags.items[i]));
	}
	return json_pack("{s:o, s:b}", "Tags", tags, "HasMoreTags", i < s->tags.count);
}

/* ------------------------------------------------------------------ */
/* By resource ARN                                                     */
/* ------------------------------------------------------------------ */

static json_t *op_tag_resource(struct call *c, json_t *req)
{
	struct kinesis_resource r;

	if (kinesis_call_resource(c, req, &r) < 0)
		return NULL;
	return add_tags(c, r.tags, json_object_get(req, "Tags"), r.arn);
}

static json_t *op_untag_resource(struct call *c, json_t *req)
{
	struct kinesis_resource r;

	if (kinesis_call_resource(c, req, &r) < 0)
		return NULL;
	return remove_tags(c, r.tags, json_object_get(req, "TagKeys"));
}

static json_t *op_list_tags_for_resource(struct call *c, json_t *req)
{
	struct kinesis_resource r;
	json_t *tags;

	if (kinesis_call_resource(c, req, &r) < 0)
		return NULL;
	tags = json_array();
	for (size_t i = 0; i < r.tags->count; i++)
		json_array_append_new(tags, tag_json(&r.tags->items[i]));
	return json_pack("{s:o}", "Tags", tags);
}

/* ------------------------------------------------------------------ */
/* Shapes and the table                                                */
/* ------------------------------------------------------------------ */

static const struct apirule add_tags_to_stream_rules[] = {
	APIRULE_STREAM_NAME(false), TAG_MAP_RULE, APIRULE_STREAM_ARN(false), APIRULE_STREAM_ID,
	APIRULE_END,
};

static const struct apirule remove_tags_from_stream_rules[] = {
	APIRULE_STREAM_NAME(false), TAG_KEYS_RULE, APIRULE_STREAM_ARN(false), APIRULE_STREAM_ID,
	APIRULE_END,
};

static const struct apirule list_tags_for_stream_rules[] = {
	APIRULE_STREAM_NAME(false),
	{ "ExclusiveStartTagKey", APIRULE_STRING, false, 1, TAG_KEY_MAX, NULL, NULL, NULL, NULL,
	  NULL, NULL },
	{ "Limit", APIRULE_INTEGER, false, 1, 50, NULL, NULL, NULL, NULL, NULL, NULL },
	APIRULE_STREAM_ARN(false), APIRULE_STREAM_ID, APIRULE_END,
};

static const struct apirule tag_resource_rules[] = {
	TAG_MAP_RULE, APIRULE_RESOURCE_ARN, APIRULE_STREAM_ID, APIRULE_END,
};

static const struct apirule untag_resource_rules[] = {
	TAG_KEYS_RULE, APIRULE_RESOURCE_ARN, APIRULE_STREAM_ID, APIRULE_END,
};

static const struct apirule list_tags_for_resource_rules[] = {
	APIRULE_RESOURCE_ARN, APIRULE_STREAM_ID, APIRULE_END,
};

const struct kinesis_operation kinesis_tag_operations[] = {
	{ "AddTagsToStream", add_tags_to_stream_rules, op_add_tags_to_stream },
	{ "ListTagsForResource", list_tags_for_resource_rules, op_list_tags_for_resource },
	{ "ListTagsForStream", list_tags_for_stream_rules, op_list_tags_for_stream },
	{ "RemoveTagsFromStream", remove_tags_from_stream_rules, op_remove_tags_from_stream },
	{ "TagResource", tag_resource_rules, op_tag_resource },
	{ "UntagResource", untag_resource_rules, op_untag_resource },
	{ NULL, NULL, NULL },
};
