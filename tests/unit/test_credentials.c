/* Unit tests for src/client/credentials.c (credentials as the AWS CLI finds
 * them) and consumer_batch_decode_records (a GetRecords answer as a batch). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/consumer_batch.h"
#include "client/credentials.h"

static char home[256];

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/.aws/%s", home, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char dir[300];

	(void)state;
	snprintf(home, sizeof(home), "/tmp/alleycat-cred-XXXXXX");
	assert_non_null(mkdtemp(home));
	snprintf(dir, sizeof(dir), "%s/.aws", home);
	assert_int_equal(mkdir(dir, 0700), 0);
	setenv("HOME", home, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_environment_first(void **state)
{
	struct credentials c;
	char err[1024];

	(void)state;
	write_file("credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = s\n");
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	assert_int_equal(credentials_find(NULL, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key, "ENVKEY");
	assert_string_equal(c.session_token, "envtoken");
	/* A profile named on the command line wins over the environment. */
	assert_int_equal(credentials_find("default", NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key, "FILEKEY");
	assert_string_equal(c.session_token, "");
}

static void test_profiles_and_region(void **state)
{
	struct credentials c;
	struct sigv4_credentials s;
	char err[1024];

	(void)state;
	write_file("credentials", "# comment\n[default]\naws_access_key_id=D\naws_secret_access_key=d\n"
				  "\n[racing]\n  aws_access_key_id = RACE \naws_secret_access_key = r\n"
				  "aws_session_token = tok\n");
	write_file("config", "[default]\nregion = us-west-2\n[profile racing]\nregion = eu-west-1\n"
			     "[profile cfgonly]\naws_access_key_id = CFG\naws_secret_access_key = c\n");
	assert_int_equal(credentials_find("racing", NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key, "RACE");
	assert_string_equal(c.session_token, "tok");
	assert_string_equal(c.region, "eu-west-1");
	credentials_sigv4(&c, "kinesis", &s);
	assert_string_equal(s.session_token, "tok");
	assert_string_equal(s.region, "eu-west-1");

	setenv("AWS_PROFILE", "cfgonly", 1);
	assert_int_equal(credentials_find(NULL, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key, "CFG");
	assert_string_equal(c.region, "");
	setenv("AWS_REGION", "ap-south-1", 1);
	assert_int_equal(credentials_find(NULL, "sa-east-1", &c, err, sizeof(err)), 0);
	assert_string_equal(c.region, "sa-east-1");
	assert_int_equal(credentials_find(NULL, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.region, "ap-south-1");
}

/* err holds the text, a printf format. */
static void expect_mentions(const char *err, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void expect_mentions(const char *err, const char *format, ...)
{
	char want[600];
	va_list ap;

	va_start(ap, format);
	vsnprintf(want, sizeof(want), format, ap);
	va_end(ap);
	if (strstr(err, want) == NULL)
		fail_msg("'%s' lacks '%s'", err, want);
}

static void test_missing_names_where_it_looked(void **state)
{
	struct credentials c;
	char err[2048];

	(void)state;
	assert_int_equal(credentials_find("nobody", NULL, &c, err, sizeof(err)), -1);
	assert_null(strchr(err, '\n'));
	expect_mentions(err, "no AWS credentials for profile 'nobody'");
	expect_mentions(err, "%s/.aws/credentials (no such file)", home);
	expect_mentions(err, "%s/.aws/config (no such file)", home);
	/* A named profile overrides the environment: it is no fix. */
	assert_null(strstr(err, "environment"));
	assert_null(strstr(err, "AWS_ACCESS_KEY_ID"));
	expect_mentions(err, "add them to [nobody] in %s/.aws/credentials, or name another "
			     "--profile", home);
	assert_int_equal(credentials_find(NULL, NULL, &c, err, sizeof(err)), -1);
	expect_mentions(err, "the environment (AWS_ACCESS_KEY_ID), profile 'default'");
	expect_mentions(err, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
}

static void test_missing_says_what_the_files_held(void **state)
{
	struct credentials c;
	char err[2048];

	(void)state;
	write_file("credentials", "[other]\naws_access_key_id = O\naws_secret_access_key = o\n");
	write_file("config", "[profile racing]\nregion = eu-west-1\n");
	assert_int_equal(credentials_find("racing", NULL, &c, err, sizeof(err)), -1);
	expect_mentions(err, "%s/.aws/credentials (no [racing])", home);
	/* The config has the section, without a key: it is named plainly. */
	expect_mentions(err, "or %s/.aws/config;", home);
	assert_string_equal(c.region, "eu-west-1");
	assert_int_equal(credentials_find("default", NULL, &c, err, sizeof(err)), -1);
	expect_mentions(err, "%s/.aws/config (no [default])", home);
}

static void test_source_names_the_profile_and_file(void **state)
{
	struct credentials c;
	char err[2048];

	(void)state;
	write_file("credentials", "[racing]\naws_access_key_id = R\naws_secret_access_key = r\n");
	assert_int_equal(credentials_find("racing", NULL, &c, err, sizeof(err)), 0);
	expect_mentions(c.source, "profile 'racing' of %s/.aws/credentials", home);
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	assert_int_equal(credentials_find(NULL, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.source, CREDENTIALS_FROM_ENVIRONMENT);
}

#define RECORD(seq, data) \
	"{\"SequenceNumber\":\"" seq "\",\"ApproximateArrivalTimestamp\":1.5,\"Data\":\"" data \
	"\",\"PartitionKey\":\"k\"}"

static void test_get_records_answer(void **state)
{
	const char *open_shard = "{\"Records\":[" RECORD("11", "bm90IGpzb24=") "," RECORD("12", "!!")
				 "],\"NextShardIterator\":\"it-2\",\"MillisBehindLatest\":7}";
	const char *end = "{\"Records\":[],\"NextShardIterator\":null,\"MillisBehindLatest\":0,"
			  "\"ChildShards\":[]}";
	const char *empty = "{\"Records\":[],\"NextShardIterator\":\"it-3\",\"MillisBehindLatest\":0}";
	char last_bad[128], next[64];
	size_t bad;
	uint64_t bytes = 0;
	const char *reason;
	struct consumer_batch *b;

	(void)state;
	b = consumer_batch_decode_records("shardId-1", open_shard, strlen(open_shard), false, NULL,
					  &bad, last_bad, sizeof(last_bad), &bytes, next, sizeof(next),
					  &reason);
	assert_non_null(b);
	assert_string_equal(b->shard_id, "shardId-1");
	assert_string_equal(b->continuation, "12");   /* past the bad ones too */
	assert_int_equal(b->millis_behind, 7);
	assert_int_equal(b->count, 0);
	assert_int_equal(bad, 2);
	assert_string_equal(next, "it-2");
	consumer_batch_free(b);

	b = consumer_batch_decode_records("shardId-1", end, strlen(end), false, NULL, &bad,
					  last_bad, sizeof(last_bad), &bytes, next, sizeof(next), &reason);
	assert_non_null(b);
	assert_string_equal(b->continuation, CONSUMER_SHARD_END);
	assert_string_equal(next, "");
	consumer_batch_free(b);

	b = consumer_batch_decode_records("shardId-1", empty, strlen(empty), false, NULL, &bad,
					  last_bad, sizeof(last_bad), &bytes, next, sizeof(next), &reason);
	assert_non_null(b);
	assert_string_equal(b->continuation, "");      /* nothing new to checkpoint */
	consumer_batch_free(b);

	/* Malformed answers are reported, never a crash. */
	const char *bad_answers[] = { "", "[]", "{\"Records\":7}", "{\"Records\":[", "nul" };
	for (size_t i = 0; i < sizeof(bad_answers) / sizeof(bad_answers[0]); i++) {
		b = consumer_batch_decode_records("s", bad_answers[i], strlen(bad_answers[i]), false,
						  NULL, &bad, last_bad, sizeof(last_bad), &bytes, next,
						  sizeof(next), &reason);
		assert_null(b);
		assert_string_equal(reason, "malformed GetRecords answer");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_environment_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profiles_and_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_names_where_it_looked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_says_what_the_files_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_names_the_profile_and_file, setup,
						teardown),
		cmocka_unit_test(test_get_records_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
