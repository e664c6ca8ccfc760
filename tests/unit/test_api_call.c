/* API calls carry names as JSON strings, escaped: a name with a quote or a
 * backslash reaches the hub as valid JSON (the hub then refuses the name,
 * ValidationException, not the request, SerializationException), and one
 * that is not UTF-8 is refused before anything is sent. */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/api_call.h"
#include "client/endpoint.h"
#include "client/httpc.h"
#include "hubserver.h"
#include "race/sim.h"
#include "util/errtext.h"

/* A name the JSON must escape, and that no stream may have. */
#define AWKWARD_NAME "a\"b\\c"

static struct hubserver hs;

/* DescribeStreamSummary of stream name: the answer, in r. */
static int describe(struct httpc *http, const char *name, struct api_call_result *r)
{
	struct endpoint ep;
	char err[ERR_TEXT_MAX];

	assert_int_equal(endpoint_parse(hs.url, &ep, err, sizeof(err)), 0);
	return api_call(http, &ep, "DescribeStreamSummary", json_pack("{s:s}", "StreamName", name),
			NULL, r);
}

/* DescribeStreamSummary of name answers status, with the error type
 * `type` in its body ("" for none) and, when it succeeds, `shards` open
 * shards. */
static void expect_described(const char *name, int status, const char *type, long long shards)
{
	struct httpc *http = httpc_new(5);
	struct api_call_result r;
	char want[128];

	assert_int_equal(describe(http, name, &r), 0);
	assert_int_equal(r.status, status);
	snprintf(want, sizeof(want), "\"__type\":\"%s\"", type);
	if (type[0] != '\0' && strstr(r.body, want) == NULL)
		fail_msg("no %s in %s", want, r.body);
	if (status == 200)
		assert_int_equal(api_call_number(&r, "StreamDescriptionSummary", "OpenShardCount"),
				 shards);
	api_call_free(&r);
	httpc_free(http);
}

static void test_call_answered(void **state __attribute__((unused)))
{
	expect_described("alleycat", 200, "", 4);
}

static void test_awkward_name_is_valid_json(void **state __attribute__((unused)))
{
	expect_described(AWKWARD_NAME, 400, "ValidationException", 0);
}

static void test_name_not_utf8_is_not_sent(void **state __attribute__((unused)))
{
	struct httpc *http = httpc_new(5);
	struct api_call_result r;

	assert_int_equal(describe(http, "a\xff", &r), -1);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.error, "DescribeStreamSummary: cannot build the request"));
	assert_int_equal(httpc_in_flight(http), 0);
	api_call_free(&r);
	httpc_free(http);
}

/* sim --create-stream: its DescribeStreamSummary and CreateStream. */
static int sim_create(const char *stream, int shards, char *err, size_t errlen)
{
	struct sim_options o;
	struct sim *sim;
	int rc;

	sim_options_defaults(&o);
	o.endpoint = hs.url;
	o.stream = stream;
	o.create_stream = true;
	o.shards = shards;
	o.racers = 1;
	o.duration = 1;
	o.speed = 0;
	o.timeout = 5;
	sim = sim_new(&o, err, errlen);
	if (sim == NULL)
		fail_msg("sim_new: %s", err);
	rc = sim_run(sim, err, errlen);
	sim_free(sim);
	return rc;
}

static void test_sim_sends_awkward_name_as_json(void **state __attribute__((unused)))
{
	char err[ERR_TEXT_MAX] = "";

	assert_int_equal(sim_create(AWKWARD_NAME, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ValidationException"));
	assert_null(strstr(err, "SerializationException"));
}

static void test_sim_creates_stream(void **state __attribute__((unused)))
{
	char err[ERR_TEXT_MAX] = "";

	assert_int_equal(sim_create("fresh", 2, err, sizeof(err)), 0);
	expect_described("fresh", 200, "", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		HUBSERVER_TEST(test_call_answered, &hs),
		HUBSERVER_TEST(test_awkward_name_is_valid_json, &hs),
		HUBSERVER_TEST(test_name_not_utf8_is_not_sent, &hs),
		HUBSERVER_TEST(test_sim_sends_awkward_name_as_json, &hs),
		HUBSERVER_TEST(test_sim_creates_stream, &hs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
