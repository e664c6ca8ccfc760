/* Resource policies: PutResourcePolicy, GetResourcePolicy and
 * DeleteResourcePolicy on a stream or a consumer named by its ARN. The
 * policy is kept as given (a JSON document, at most 20 KiB as in Kinesis)
 * and saved with the hub's state; the hub does not evaluate it, as it
 * checks no IAM permissions. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "hub/kinesis_ops.h"

#define POLICY_MAX (20 * 1024)

/* Kinesis refuses a policy that is not a JSON object. */
static int policy_valid(struct call *c, const char *policy)
{
	json_t *doc = json_loads(policy, 0, NULL);
	bool ok = json_is_object(doc);

	json_decref(doc);
	if (strlen(policy) > POLICY_MAX) {
		kinesis_fail(c, "InvalidArgumentException",
			     "The policy is larger than %d bytes, the limit.", POLICY_MAX);
		return -1;
	}
	if (!ok) {
		kinesis_fail(c, "InvalidArgumentException",
			     "The policy is not a valid JSON policy document.");
		return -1;
	}
	return 0;
}

static json_t *op_put_resource_policy(struct call *c, json_t *req)
{
	const char *policy = json_string_value(json_object_get(req, "Policy"));
	struct kinesis_resource r;
	char *copy;

	if (kinesis_call_resource(c, req, &r) < 0 || policy_valid(c, policy) < 0)
		return NULL;
	if ((copy = strdup(policy)) == NULL)
		return kinesis_fail(c, "InternalFailure", "Out of memory.");
	free(*r.policy);
	*r.policy = copy;
	return kinesis_save(c) < 0 ? NULL : json_object();
}

static json_t *op_get_resource_policy(struct call *c, json_t *req)
{
	struct kinesis_resource r;

	if (kinesis_call_resource(c, req, &r) < 0)
		return NULL;
	/* A resource without a policy answers an empty document. */
	return json_pack("{s:s}", "Policy", *r.policy ? *r.policy : "{}");
}

static json_t *op_delete_resource_policy(struct call *c, json_t *req)
{
	struct kinesis_resource r;

	if (kinesis_call_resource(c, req, &r) < 0)
		return NULL;
	if (*r.policy == NULL)
		return kinesis_fail(c, "ResourceNotFoundException",
				    "No resource policy found for resource %s.", r.arn);
	free(*r.policy);
	*r.policy = NULL;
	return kinesis_save(c) < 0 ? NULL : json_object();
}

static const struct apirule put_rules[] = {
	APIRULE_RESOURCE_ARN, APIRULE_STREAM_ID,
	{ "Policy", APIRULE_STRING, true, APIRULE_NO_LIMIT, APIRULE_NO_LIMIT, NULL, NULL, NULL,
	  NULL, NULL, NULL },
	APIRULE_END,
};

static const struct apirule resource_rules[] = {
	APIRULE_RESOURCE_ARN, APIRULE_STREAM_ID, APIRULE_END,
};

const struct kinesis_operation kinesis_policy_operations[] = {
	{ "DeleteResourcePolicy", resource_rules, op_delete_resource_policy },
	{ "GetResourcePolicy", resource_rules, op_get_resource_policy },
	{ "PutResourcePolicy", put_rules, op_put_resource_policy },
	{ NULL, NULL, NULL },
};
