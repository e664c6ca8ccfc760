/* Signature V4 against AWS's published test suite (get-vanilla,
 * post-vanilla, post-x-www-form-urlencoded): the simulator's signed
 * requests are what AWS expects. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire/sigv4.h"

static const struct sigv4_credentials cred = {
	.access_key = "AKIDEXAMPLE",
	.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	.region = "us-east-1",
	.service = "service",
};

static void test_get_vanilla(void **state __attribute__((unused)))
{
	const struct sigv4_header headers[] = {
		{ "x-amz-date", "20150830T123600Z" },
		{ "host", "example.amazonaws.com" },
	};
	char auth[SIGV4_AUTH_MAX];

	assert_int_equal(sigv4_authorization(&cred, "GET", "/", "", headers, 2, "", 0,
					     "20150830T123600Z", auth), 0);
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
				  "service/aws4_request, SignedHeaders=host;x-amz-date, "
				  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d"
				  "763fbf31");
}

static void test_post_vanilla(void **state __attribute__((unused)))
{
	const struct sigv4_header headers[] = {
		{ "host", "example.amazonaws.com" },
		{ "x-amz-date", "20150830T123600Z" },
	};
	char auth[SIGV4_AUTH_MAX];

	assert_int_equal(sigv4_authorization(&cred, "POST", "/", "", headers, 2, "", 0,
					     "20150830T123600Z", auth), 0);
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
				  "service/aws4_request, SignedHeaders=host;x-amz-date, "
				  "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92"
				  "efbe5d6b");
}

static void test_post_form_body(void **state __attribute__((unused)))
{
	const struct sigv4_header headers[] = {
		{ "content-type", "application/x-www-form-urlencoded" },
		{ "host", "example.amazonaws.com" },
		{ "x-amz-date", "20150830T123600Z" },
	};
	const char *body = "Param1=value1";
	char auth[SIGV4_AUTH_MAX];

	assert_int_equal(sigv4_authorization(&cred, "POST", "/", "", headers, 3, body,
					     strlen(body), "20150830T123600Z", auth), 0);
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
				  "service/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
				  "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0"
				  "fe09473a");
}

static void test_date(void **state __attribute__((unused)))
{
	char date[SIGV4_DATE_LEN];

	sigv4_date(1440938160, date);
	assert_string_equal(date, "20150830T123600Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_vanilla),
		cmocka_unit_test(test_post_vanilla),
		cmocka_unit_test(test_post_form_body),
		cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
