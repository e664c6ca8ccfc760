/* The account's settings: DescribeAccountSettings and
 * UpdateAccountSettings, which hold the minimum throughput billing
 * commitment for on-demand streams. It changes billing only, so what the
 * hub keeps is its state, as Kinesis reports it, saved with the hub's
 * state:
 *   - ENABLED from the moment it is enabled; it lasts at least 24 hours;
 *   - disabled before then, it stays on, ENABLED_UNTIL_EARLIEST_ALLOWED_END,
 *     and ends by itself at that time; enabled again meanwhile, it goes on;
 *   - disabled after its first 24 hours, it ends at once (DISABLED, with
 *     the time it ended). */
#include "config.h"

#include <string.h>

#include "hub/hub.h"
#include "hub/kinesis_ops.h"

#define COMMITMENT_MIN_MS (24 * 3600 * 1000LL)

static bool commitment_on(const struct hub_account *a, int64_t now_ms)
{
	return a->commitment_started_ms &&
	       (a->commitment_end_ms == 0 || now_ms < a->commitment_end_ms);
}

static json_t *commitment_json(const struct hub_account *a, int64_t now_ms)
{
	int64_t earliest = a->commitment_started_ms + COMMITMENT_MIN_MS;
	const char *status = !commitment_on(a, now_ms)  ? "DISABLED"
			     : a->commitment_end_ms == 0 ? "ENABLED"
							 : "ENABLED_UNTIL_EARLIEST_ALLOWED_END";
	json_t *j = json_pack("{s:s}", "Status", status);

	if (a->commitment_started_ms == 0)
		return j;
	json_object_set_new(j, "StartedAt", json_real((double)a->commitment_started_ms / 1000.0));
	if (commitment_on(a, now_ms))
		json_object_set_new(j, "EarliestAllowedEndAt", json_real((double)earliest / 1000.0));
	else
		json_object_set_new(j, "EndedAt",
				    json_real((double)a->commitment_end_ms / 1000.0));
	return j;
}

static void commitment_enable(struct hub_account *a, int64_t now_ms)
{
	if (commitment_on(a, now_ms)) {
		a->commitment_end_ms = 0;       /* a pending end is called off */
		return;
	}
	a->commitment_started_ms = now_ms;
	a->commitment_end_ms = 0;
}

static void commitment_disable(struct hub_account *a, int64_t now_ms)
{
	int64_t earliest = a->commitment_started_ms + COMMITMENT_MIN_MS;

	if (!commitment_on(a, now_ms) || a->commitment_end_ms)
		return;
	a->commitment_end_ms = now_ms < earliest ? earliest : now_ms;
}

static json_t *op_describe_account_settings(struct call *c, json_t *req)
{
	(void)req;
	return json_pack("{s:o}", "MinimumThroughputBillingCommitment",
			 commitment_json(&kinesis_call_hub(c)->account, kinesis_call_now(c)));
}

static json_t *op_update_account_settings(struct call *c, json_t *req)
{
	struct hub_account *a = &kinesis_call_hub(c)->account;
	json_t *commitment = json_object_get(req, "MinimumThroughputBillingCommitment");
	const char *status = json_string_value(json_object_get(commitment, "Status"));

	if (strcmp(status, "ENABLED") == 0)
		commitment_enable(a, kinesis_call_now(c));
	else
		commitment_disable(a, kinesis_call_now(c));
	if (kinesis_save(c) < 0)
		return NULL;
	return op_describe_account_settings(c, req);
}

static const char *const commitment_statuses[] = { "ENABLED", "DISABLED", NULL };

static const struct apirule commitment_fields[] = {
	{ "Status", APIRULE_STRING, true, APIRULE_NO_LIMIT, APIRULE_NO_LIMIT, NULL, NULL,
	  commitment_statuses, NULL, NULL, NULL },
	APIRULE_END,
};

static const struct apirule update_rules[] = {
	{ "MinimumThroughputBillingCommitment", APIRULE_STRUCTURE, true, APIRULE_NO_LIMIT,
	  APIRULE_NO_LIMIT, NULL, NULL, NULL, NULL, NULL, commitment_fields },
	APIRULE_END,
};

static const struct apirule no_rules[] = { APIRULE_END };

const struct kinesis_operation kinesis_account_operations[] = {
	{ "DescribeAccountSettings", no_rules, op_describe_account_settings },
	{ "UpdateAccountSettings", update_rules, op_update_account_settings },
	{ NULL, NULL, NULL },
};
