/* The hub's access control: AWS's published get-vanilla request passes
 * with its key; a changed header, an unknown key, a stale date or no
 * signature at all do not, each with the AWS error type. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/auth.h"
#include "util/errtext.h"

/* 2015-08-30T12:36:00Z, the date of AWS's SigV4 test suite. */
#define VECTOR_MS 1440938160000LL

static const char vanilla_auth[] =
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	"SignedHeaders=host;x-amz-date, "
	"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

struct request {
	const char *names[4], *values[4];
};

static int header(void *user, const char *name, char *out, size_t size)
{
	const struct request *r = user;

	for (int i = 0; i < 4 && r->names[i]; i++)
		if (strcmp(r->names[i], name) == 0) {
			snprintf(out, size, "%s", r->values[i]);
			return (int)strlen(out);
		}
	return -1;
}

static char path[64];

static struct auth *load(const char *text)
{
	char err[ERR_TEXT_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/alleycat-auth-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	struct auth *a = auth_load(path, err, sizeof(err));
	unlink(path);
	return a;
}

static const char *check(const struct auth *a, const struct request *r, int64_t now)
{
	char message[256];

	return auth_check(a, "GET", "/", header, (void *)r, "", 0, now, message, sizeof(message));
}

static void test_vanilla_passes(void **state __attribute__((unused)))
{
	struct auth *a = load("[example]\naws_access_key_id = AKIDEXAMPLE\n"
			      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n");
	struct request r = { { "authorization", "host", "x-amz-date" },
			     { vanilla_auth, "example.amazonaws.com", "20150830T123600Z" } };

	assert_non_null(a);
	assert_null(check(a, &r, VECTOR_MS));
	/* Within 15 minutes of the clock, either way. */
	assert_null(check(a, &r, VECTOR_MS + 14 * 60 * 1000));
	assert_string_equal(check(a, &r, VECTOR_MS + 16 * 60 * 1000), "InvalidSignatureException");

	r.values[1] = "evil.example.com";
	assert_string_equal(check(a, &r, VECTOR_MS), "InvalidSignatureException");
	auth_free(a);
}

static void test_refusals(void **state __attribute__((unused)))
{
	struct auth *a = load("[other]\naws_access_key_id = AKIDOTHER\n"
			      "aws_secret_access_key = secret\n");
	struct request vanilla = { { "authorization", "host", "x-amz-date" },
				   { vanilla_auth, "example.amazonaws.com", "20150830T123600Z" } };
	struct request unsigned_request = { { "host" }, { "example.amazonaws.com" } };
	struct request garbled = { { "authorization", "host", "x-amz-date" },
				   { "AWS4-HMAC-SHA256 nonsense", "example.amazonaws.com",
				     "20150830T123600Z" } };

	assert_non_null(a);
	assert_string_equal(check(a, &vanilla, VECTOR_MS), "UnrecognizedClientException");
	assert_string_equal(check(a, &unsigned_request, VECTOR_MS),
			    "MissingAuthenticationTokenException");
	assert_string_equal(check(a, &garbled, VECTOR_MS), "IncompleteSignatureException");
	auth_free(a);
}

static void test_credentials_files(void **state __attribute__((unused)))
{
	char err[ERR_TEXT_MAX];

	assert_null(load("[half]\naws_access_key_id = AKID\n"));
	assert_null(load("# nothing here\n"));
	assert_null(load("[x]\nno equals sign\n"));
	assert_null(auth_load("/nonexistent/credentials", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/credentials"));
	struct auth *two = load("[a]\naws_access_key_id=A1\naws_secret_access_key=S1\n"
				"[b]\naws_access_key_id = A2\naws_secret_access_key = S2\n");
	assert_non_null(two);
	auth_free(two);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vanilla_passes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_credentials_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
