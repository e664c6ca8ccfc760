/* Unit tests for src/client/failure.c: every way a call fails becomes one
 * line that names the endpoint, the cause and the fix, never the raw body;
 * and a one-shot command gives up when retrying cannot help, or after the
 * grace for a hub that is starting. The cases are a table: how the call
 * ended, and the line a user reads. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/failure.h"
#include "client/httpc.h"
#include "util/errtext.h"
#include "wire/sigv4.h"

/* How a case's requests were signed. */
#define UNSIGNED NULL
#define BY_ENV "env"                    /* the AWS variables' key */
#define BY_PROFILE "profile 'racing' of /home/ann/.aws/credentials"

struct case_ {
	const char *url;                /* --endpoint */
	bool can_create;
	const char *signed_by;          /* UNSIGNED, BY_ENV or a profile's key */
	int status;
	const char *body;               /* with status > 0 */
	const char *error;              /* with status 0: as httpc words it */
	enum failure_kind kind;
	const char *text;
};

static const struct case_ cases[] = {
	{ "http://127.0.0.1:45897", false, UNSIGNED, 0, NULL,
	  "cannot connect to 127.0.0.1:45897: Connection refused", FAILURE_UNREACHABLE,
	  "cannot reach http://127.0.0.1:45897: connection refused; is a hub running? start one "
	  "with alleycat hub --listen 127.0.0.1:45897" },
	{ "ws://127.0.0.1:4567", false, UNSIGNED, 0, NULL,
	  "cannot connect to 127.0.0.1:4567: Connection refused", FAILURE_UNREACHABLE,
	  "cannot reach ws://127.0.0.1:4567: connection refused; is a hub running? start one "
	  "with alleycat hub" },
	{ "http://10.9.9.9:4567", false, UNSIGNED, 0, NULL,
	  "cannot connect to 10.9.9.9:4567: No route to host", FAILURE_UNREACHABLE,
	  "cannot reach http://10.9.9.9:4567: no route to host; check the host and port in "
	  "--endpoint, and the network" },
	{ "http://nosuch.invalid:4567", false, UNSIGNED, 0, NULL,
	  "cannot find the host of nosuch.invalid:4567", FAILURE_NO_HOST,
	  "cannot reach http://nosuch.invalid:4567: no such host; check the host name in "
	  "--endpoint" },
	/* The endpoint of a region (--region without --endpoint) that does not
	 * resolve: the region is what is wrong, not a host name typed. */
	{ "https://kinesis.xx-nowhere-1.amazonaws.com", false, BY_ENV, 0, NULL,
	  "cannot find the host of kinesis.xx-nowhere-1.amazonaws.com:443", FAILURE_NO_HOST,
	  "cannot reach https://kinesis.xx-nowhere-1.amazonaws.com:443: no such host; the region "
	  "xx-nowhere-1 is probably wrong: check --region, AWS_REGION or the profile's region" },
	{ "https://kinesis.example:443", false, UNSIGNED, 0, NULL, "no answer within 3 s (--timeout)",
	  FAILURE_TIMEOUT,
	  "https://kinesis.example:443: DescribeStreamSummary: no answer within 3 s (--timeout); "
	  "check --endpoint, or raise --timeout for a slow endpoint" },
	{ "http://127.0.0.1:8080", false, UNSIGNED, 0, NULL, HTTPC_ERROR_CLOSED, FAILURE_LOST,
	  "http://127.0.0.1:8080: DescribeStreamSummary: the connection closed before the "
	  "answer was complete; check that --endpoint is a Kinesis endpoint or an alleycat hub" },
	{ "https://127.0.0.1:4567", false, UNSIGNED, 0, NULL, "SSL certificate problem: self-signed "
	  "certificate", FAILURE_LOST,
	  "cannot reach https://127.0.0.1:4567: SSL certificate problem: self-signed "
	  "certificate; check --endpoint, and --ca for its certificate" },
	{ "http://127.0.0.1:4567", true, UNSIGNED, 400,
	  "{\"__type\":\"ResourceNotFoundException\",\"message\":\"Stream nosuch under account "
	  "000000000000 not found.\"}", NULL, FAILURE_NO_STREAM,
	  "no stream nosuch at http://127.0.0.1:4567: create it with --create-stream or alleycat "
	  "hub --stream nosuch" },
	{ "ws://127.0.0.1:4567", false, UNSIGNED, 400,
	  "{\"__type\":\"com.amazonaws.kinesis#ResourceNotFoundException\"}", NULL,
	  FAILURE_NO_STREAM,
	  "no stream nosuch at ws://127.0.0.1:4567: create it with alleycat hub --stream nosuch, "
	  "or alleycat sim --create-stream --stream nosuch" },
	{ "https://kinesis.us-east-1.amazonaws.com:443", false, BY_ENV, 400,
	  "{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security token included "
	  "in the request is invalid.\"}", NULL, FAILURE_DENIED,
	  "https://kinesis.us-east-1.amazonaws.com:443 refuses the credentials "
	  "(UnrecognizedClientException: The security token included in the request is "
	  "invalid.); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to a key it takes" },
	/* A key from a --profile: the fix is in the profile's file, not the
	 * environment, which a named profile overrides. */
	{ "http://127.0.0.1:4567", false, BY_PROFILE, 400,
	  "{\"__type\":\"InvalidSignatureException\",\"message\":\"The request signature we "
	  "calculated does not match the signature you provided.\"}", NULL, FAILURE_DENIED,
	  "http://127.0.0.1:4567 refuses the credentials (InvalidSignatureException: The request "
	  "signature we calculated does not match the signature you provided.); the key comes "
	  "from profile 'racing' of /home/ann/.aws/credentials: correct it there, or name "
	  "another --profile" },
	{ "http://127.0.0.1:4567", false, UNSIGNED, 403, "<html>Forbidden</html>", NULL,
	  FAILURE_DENIED,
	  "http://127.0.0.1:4567 refuses the credentials (HTTP 403); the requests were not "
	  "signed: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a --profile that "
	  "has a key" },
	{ "http://127.0.0.1:4567", false, UNSIGNED, 503,
	  "{\"__type\":\"ServiceUnavailableException\",\"message\":\"The hub holds as many "
	  "connections as it may; try again.\"}", NULL, FAILURE_BUSY,
	  "http://127.0.0.1:4567 is busy (ServiceUnavailableException: The hub holds as many "
	  "connections as it may; try again.); try again later" },
	{ "http://127.0.0.1:4567", false, UNSIGNED, 502, "<html><body>Bad Gateway</body></html>", NULL,
	  FAILURE_BUSY,
	  "http://127.0.0.1:4567 is unavailable: DescribeStreamSummary answered HTTP 502; try "
	  "again later" },
	{ "http://127.0.0.1:8000", false, UNSIGNED, 404, "<html><body>Not Found</body></html>", NULL,
	  FAILURE_NOT_KINESIS,
	  "http://127.0.0.1:8000 is not a Kinesis endpoint: DescribeStreamSummary answered "
	  "HTTP 404 without a Kinesis error; check --endpoint" },
	{ "http://127.0.0.1:8000", false, UNSIGNED, 501,
	  "<html>Unsupported method ('POST')</html>", NULL,
	  FAILURE_NOT_KINESIS,
	  "http://127.0.0.1:8000 is not a Kinesis endpoint: DescribeStreamSummary answered "
	  "HTTP 501 without a Kinesis error; check --endpoint" },
	{ "http://127.0.0.1:8000", false, UNSIGNED, 400, "{\"error\":\"bad\"}", NULL,
	  FAILURE_NOT_KINESIS,
	  "http://127.0.0.1:8000 is not a Kinesis endpoint: DescribeStreamSummary answered "
	  "HTTP 400 without a Kinesis error; check --endpoint" },
	{ "http://127.0.0.1:4567", false, UNSIGNED, 400,
	  "{\"__type\":\"InvalidArgumentException\",\"message\":\"bad\\u001b[31m\\nname\"}", NULL,
	  FAILURE_REFUSED,
	  "http://127.0.0.1:4567 refused DescribeStreamSummary: InvalidArgumentException: "
	  "bad\xef\xbf\xbd[31m\xef\xbf\xbdname" },
	{ "http://127.0.0.1:4567", false, UNSIGNED, 200, "{}", NULL, FAILURE_NONE, "" },
};

static void classify(const struct case_ *c, struct failure *f)
{
	struct endpoint ep;
	char err[ERR_TEXT_MAX];
	struct failure_call call = { .endpoint = &ep, .op = "DescribeStreamSummary",
				     .stream = "nosuch", .can_create = c->can_create };

	assert_int_equal(endpoint_parse(c->url, &ep, err, sizeof(err)), 0);
	if (c->signed_by) {
		static const struct sigv4_credentials key = { .access_key = "AKIDEXAMPLE" };

		ep.credentials = &key;
		if (strcmp(c->signed_by, BY_ENV) != 0)
			ep.credentials_source = c->signed_by;
	}
	assert_int_equal(failure_classify(f, &call, c->status, c->body,
					  c->body ? strlen(c->body) : 0, c->error),
			 c->kind);
}

static void test_every_failure_reads_as_one_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct failure f;
		classify(&cases[i], &f);
		assert_int_equal(f.kind, cases[i].kind);
		assert_string_equal(f.text, cases[i].text);
	}
}

/* Whatever the body, the line has no newline, no escape and no JSON. */
static void test_never_raw(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct failure f;
		classify(&cases[i], &f);
		assert_null(strchr(f.text, '\n'));
		assert_null(strchr(f.text, '\x1b'));
		assert_null(strchr(f.text, '{'));
		assert_null(strstr(f.text, "__type"));
		assert_null(strstr(f.text, "<html>"));
	}
}

static void test_long_server_words_are_clamped(void **state)
{
	char body[4096];
	struct endpoint ep;
	char err[ERR_TEXT_MAX];
	struct failure f;
	struct failure_call call = { .endpoint = &ep, .op = "PutRecords", .stream = "s" };
	int n = snprintf(body, sizeof(body), "{\"__type\":\"InvalidArgumentException\","
					     "\"message\":\"");

	memset(body + n, 'x', 3000);
	snprintf(body + n + 3000, sizeof(body) - (size_t)n - 3000, "\"}");
	assert_int_equal(endpoint_parse("http://127.0.0.1:4567", &ep, err, sizeof(err)), 0);
	assert_int_equal(failure_classify(&f, &call, 400, body, strlen(body), NULL),
			 FAILURE_REFUSED);
	assert_true(strlen(f.text) < 300);
}

static void test_give_up(void **state)
{
	(void)state;
	/* What retrying cannot mend: at once. */
	assert_true(failure_give_up(FAILURE_NO_STREAM, 1000, 1000, 60));
	assert_true(failure_give_up(FAILURE_NO_HOST, 1000, 1000, 60));
	assert_true(failure_give_up(FAILURE_DENIED, 1000, 1000, 60));
	assert_true(failure_give_up(FAILURE_NOT_KINESIS, 1000, 1000, 60));
	assert_true(failure_give_up(FAILURE_REFUSED, 1000, 1000, 60));
	/* A whole --timeout has passed already. */
	assert_true(failure_give_up(FAILURE_TIMEOUT, 1000, 1000, 60));
	/* A hub that is starting gets the grace, or --timeout when shorter. */
	assert_false(failure_give_up(FAILURE_UNREACHABLE, 1000, 1000 + FAILURE_CONNECT_GRACE_MS - 1,
				     60));
	assert_true(failure_give_up(FAILURE_UNREACHABLE, 1000, 1000 + FAILURE_CONNECT_GRACE_MS,
				    60));
	assert_false(failure_give_up(FAILURE_LOST, 1000, 2999, 2));
	assert_true(failure_give_up(FAILURE_LOST, 1000, 3000, 2));
	/* A busy endpoint gets the whole --timeout. */
	assert_false(failure_give_up(FAILURE_BUSY, 1000, 60999, 60));
	assert_true(failure_give_up(FAILURE_BUSY, 1000, 61000, 60));
	/* Health is never a reason to stop. */
	assert_false(failure_give_up(FAILURE_NONE, 0, INT64_MAX / 2, 1));
}

static void test_transient(void **state)
{
	(void)state;
	assert_true(failure_transient(FAILURE_UNREACHABLE));
	assert_true(failure_transient(FAILURE_TIMEOUT));
	assert_true(failure_transient(FAILURE_LOST));
	assert_true(failure_transient(FAILURE_BUSY));
	assert_false(failure_transient(FAILURE_NO_STREAM));
	assert_false(failure_transient(FAILURE_DENIED));
	assert_false(failure_transient(FAILURE_NO_HOST));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_failure_reads_as_one_line),
		cmocka_unit_test(test_never_raw),
		cmocka_unit_test(test_long_server_words_are_clamped),
		cmocka_unit_test(test_give_up),
		cmocka_unit_test(test_transient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
