/* The Kinesis API as a client sees it: every bad request in tests/requests/
 * gets the right status and error type, and good requests round-trip. */
#include "config.h"

#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/hub.h"
#include "hub/kinesis.h"
#include "journal_v1.h"
#include "util/base64.h"
#include "util/errtext.h"
#include "wire/cborjson.h"
#include "wire/seqno.h"

#define NOW 1795659501000LL
#define STREAM_ARN "arn:aws:kinesis:us-east-1:000000000000:stream/alleycat"

static struct hub *new_hub(uint64_t records_per_sec)
{
	struct hub_config config;
	char err[ERR_TEXT_MAX];
	struct hub *hub;

	hub_config_defaults(&config);
	config.limits.shard_records_per_sec = records_per_sec;
	if (records_per_sec == 0)
		config.limits.shard_bytes_per_sec = 0;      /* no limits at all */
	hub = hub_open(&config, NOW, err, sizeof(err));
	assert_non_null(hub);
	assert_non_null(hub_create_stream(hub, "alleycat", 4, NOW));
	assert_non_null(hub_register_consumer(hub, hub_find_stream(hub, "alleycat"), "board", NOW));
	return hub;
}

/* Calls an operation; returns the parsed body and sets *status. */
static json_t *call(struct hub *hub, const char *op, const char *body, int64_t now, int *status)
{
	char target[128];
	struct kinesis_reply reply;
	json_t *j;

	snprintf(target, sizeof(target), "%s%s", KINESIS_TARGET_PREFIX, op);
	kinesis_handle(hub, op ? target : NULL, body, strlen(body), now, &reply);
	assert_non_null(reply.body);
	j = json_loads(reply.body, 0, NULL);
	assert_non_null(j);
	*status = reply.status;
	free(reply.body);
	return j;
}

static json_t *call_ok(struct hub *hub, const char *op, const char *body, int64_t now)
{
	int status;
	json_t *j = call(hub, op, body, now, &status);

	if (status != 200)
		fail_msg("%s failed: %s", op, json_dumps(j, 0));
	return j;
}

static void expect_error(struct hub *hub, const char *op, const char *body, int64_t now,
			 const char *type)
{
	int status;
	json_t *j = call(hub, op, body, now, &status);

	assert_int_equal(status, 400);
	assert_string_equal(json_string_value(json_object_get(j, "__type")), type);
	assert_non_null(json_string_value(json_object_get(j, "message")));
	json_decref(j);
}

/* ------------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A CBOR case's body is written in hex (CBOR is binary): the bytes, in
 * place; white space between them is for the reader. */
static size_t unhex_body(char *body)
{
	size_t n = 0;
	unsigned byte;

	for (char *p = body; *p; ) {
		if (strchr(" \t\n", *p)) {
			p++;
			continue;
		}
		if (sscanf(p, "%2x", &byte) != 1)
			fail_msg("not hex: %.20s", p);
		body[n++] = (char)byte;
		p += 2;
	}
	return n;
}

/* The answer's body as JSON, whichever encoding it came in. */
static json_t *answer_json(const struct kinesis_reply *reply)
{
	char why[160];

	if (strcmp(reply->content_type, KINESIS_CBOR_CONTENT_TYPE) == 0)
		return cborjson_load(reply->body, reply->len, why, sizeof(why));
	return json_loadb(reply->body, reply->len, 0, NULL);
}

static void run_request_file(const char *dir, const char *name, const char *content_type)
{
	char path[2048], op[128], type[128], words[256] = "", target[160];
	size_t len;
	char *text, *body;
	int status, consumed = 0;
	struct kinesis_reply reply;
	struct hub *hub = new_hub(1000);
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = read_file(path, &len);
	body = strchr(text, '\n');
	assert_non_null(body);
	*body++ = '\0';
	if (sscanf(text, "%127s %d %127s %n", op, &status, type, &consumed) < 3)
		fail_msg("%s: the first line must be OPERATION STATUS TYPE", name);
	snprintf(words, sizeof(words), "%s", text + consumed);
	snprintf(target, sizeof(target), "%s%s", KINESIS_TARGET_PREFIX, op);
	len = strlen(body);
	if (len > 0 && body[len - 1] == '\n')
		body[--len] = '\0';
	if (strcmp(content_type, KINESIS_CBOR_CONTENT_TYPE) == 0)
		len = unhex_body(body);

	kinesis_answer(hub, strcmp(op, "-") ? target : NULL, content_type, body, len, NOW, &reply);
	assert_string_equal(reply.content_type, content_type);
	j = answer_json(&reply);
	if (j == NULL || reply.status != status ||
	    strcmp(json_string_value(json_object_get(j, "__type")), type) != 0 ||
	    (words[0] && !strstr(json_string_value(json_object_get(j, "message")), words)))
		fail_msg("%s: expected %d %s (%s), got %d %.300s", name, status, type, words,
			 reply.status, j ? json_dumps(j, JSON_COMPACT) : reply.body);
	json_decref(j);
	free(reply.body);
	free(text);
	hub_close(hub);
}

/* Runs every *.req in tests/requests/SUB, its bodies in content_type. */
static int run_catalogue(const char *sub, const char *content_type)
{
	const char *top = getenv("top_srcdir");
	char dir[1024];
	struct dirent *e;
	DIR *d;
	int count = 0;

	snprintf(dir, sizeof(dir), "%s/tests/requests%s", top ? top : ".", sub);
	d = opendir(dir);
	if (d == NULL)
		fail_msg("cannot open %s", dir);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n > 4 && strcmp(e->d_name + n - 4, ".req") == 0) {
			run_request_file(dir, e->d_name, content_type);
			count++;
		}
	}
	closedir(d);
	return count;
}

static void test_bad_request_catalogue(void **state)
{
	(void)state;
	assert_true(run_catalogue("", KINESIS_CONTENT_TYPE) >= 40);
}

/* The same API with CBOR bodies: what only CBOR can get wrong, and errors
 * of the API answered in CBOR. */
static void test_bad_cbor_request_catalogue(void **state)
{
	(void)state;
	assert_true(run_catalogue("/cbor", KINESIS_CBOR_CONTENT_TYPE) >= 15);
}

/* ------------------------------------------------------------------ */

static char *put_records_body(size_t n, size_t data_len, const char *key)
{
	char *data = malloc(data_len + 1), *b64 = malloc(base64_encoded_len(data_len) + 1);
	json_t *records = json_array();
	char *text;

	memset(data, 'x', data_len);
	base64_encode(data, data_len, b64);
	for (size_t i = 0; i < n; i++) {
		char k[300];
		snprintf(k, sizeof(k), "%s%zu", key, i);
		json_array_append_new(records,
				      json_pack("{s:s, s:s}", "Data", b64, "PartitionKey",
						strcmp(key, "same") == 0 ? key : k));
	}
	json_t *req = json_pack("{s:s, s:o}", "StreamName", "alleycat", "Records", records);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	free(data);
	free(b64);
	return text;
}

static void test_limits(void **state)
{
	struct hub *hub = new_hub(0);
	char key[300], *body, *data, *b64;
	char put[2048];

	/* 256-character partition keys are accepted, 257 refused. */
	memset(key, 'k', 257);
	key[256] = '\0';
	snprintf(put, sizeof(put), "{\"StreamName\":\"alleycat\",\"Data\":\"\",\"PartitionKey\":\"%s\"}",
		 key);
	json_decref(call_ok(hub, "PutRecord", put, NOW));
	key[256] = 'k';
	key[257] = '\0';
	snprintf(put, sizeof(put), "{\"StreamName\":\"alleycat\",\"Data\":\"\",\"PartitionKey\":\"%s\"}",
		 key);
	expect_error(hub, "PutRecord", put, NOW, "ValidationException");

	/* Lengths are characters, as AWS counts them: 256 two-byte ones pass. */
	char wide[1200] = "";
	for (int i = 0; i < 256; i++)
		strcat(wide, "\xc3\xa9");
	snprintf(put, sizeof(put), "{\"StreamName\":\"alleycat\",\"Data\":\"\",\"PartitionKey\":\"%s\"}",
		 wide);
	json_decref(call_ok(hub, "PutRecord", put, NOW));
	strcat(wide, "\xc3\xa9");
	snprintf(put, sizeof(put), "{\"StreamName\":\"alleycat\",\"Data\":\"\",\"PartitionKey\":\"%s\"}",
		 wide);
	expect_error(hub, "PutRecord", put, NOW, "ValidationException");

	/* Data and key up to 1 MiB together. */
	data = malloc(1048576);
	b64 = malloc(base64_encoded_len(1048576) + 1);
	memset(data, 'd', 1048576);
	base64_encode(data, 1048575, b64);
	body = malloc(strlen(b64) + 200);
	sprintf(body, "{\"StreamName\":\"alleycat\",\"Data\":\"%s\",\"PartitionKey\":\"k\"}", b64);
	json_decref(call_ok(hub, "PutRecord", body, NOW));
	base64_encode(data, 1048576, b64);
	sprintf(body, "{\"StreamName\":\"alleycat\",\"Data\":\"%s\",\"PartitionKey\":\"k\"}", b64);
	expect_error(hub, "PutRecord", body, NOW, "ValidationException");
	free(body);
	free(b64);
	free(data);

	/* 500 records per call, 5 MiB per call. */
	body = put_records_body(500, 10, "k");
	json_decref(call_ok(hub, "PutRecords", body, NOW));
	free(body);
	body = put_records_body(501, 10, "k");
	expect_error(hub, "PutRecords", body, NOW, "ValidationException");
	free(body);
	body = put_records_body(6, 1000000, "k");
	expect_error(hub, "PutRecords", body, NOW, "InvalidArgumentException");
	free(body);
	hub_close(hub);
}

static void test_throttling_in_request_order(void **state)
{
	struct hub *hub = new_hub(10);
	char *body = put_records_body(50, 20, "same");
	json_t *resp = call_ok(hub, "PutRecords", body, NOW);
	json_t *records = json_object_get(resp, "Records");

	assert_int_equal(json_integer_value(json_object_get(resp, "FailedRecordCount")), 40);
	for (size_t i = 0; i < 50; i++) {
		json_t *r = json_array_get(records, i);
		if (i < 10)
			assert_non_null(json_object_get(r, "SequenceNumber"));
		else
			assert_string_equal(json_string_value(json_object_get(r, "ErrorCode")),
					    "ProvisionedThroughputExceededException");
	}
	json_decref(resp);
	/* A second later the shard takes records again. */
	resp = call_ok(hub, "PutRecords", body, NOW + 1000);
	assert_int_equal(json_integer_value(json_object_get(resp, "FailedRecordCount")), 40);
	json_decref(resp);
	/* PutRecord answers a refusal with the error itself. */
	expect_error(hub, "PutRecord",
		     "{\"StreamName\":\"alleycat\",\"Data\":\"aGk=\",\"PartitionKey\":\"same\"}",
		     NOW + 1000, "ProvisionedThroughputExceededException");
	free(body);
	hub_close(hub);
}

static void test_byte_limit_admits_an_oversized_record_alone(void **state)
{
	struct hub_config config;
	char err[ERR_TEXT_MAX];
	struct hub *hub;
	const char *put = "{\"StreamName\":\"alleycat\",\"Data\":\"eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\","
			  "\"PartitionKey\":\"k\"}";

	hub_config_defaults(&config);
	config.limits.shard_bytes_per_sec = 10;
	hub = hub_open(&config, NOW, err, sizeof(err));
	assert_non_null(hub);
	assert_non_null(hub_create_stream(hub, "alleycat", 1, NOW));
	/* 25 bytes against a budget of 10: alone in its second it passes, so
	 * it can never be stuck; a second one in the same second cannot. */
	json_decref(call_ok(hub, "PutRecord", put, NOW));
	expect_error(hub, "PutRecord", put, NOW + 10, "ProvisionedThroughputExceededException");
	json_decref(call_ok(hub, "PutRecord", put, NOW + 1100));
	hub_close(hub);
}

static char *iterator(struct hub *hub, const char *shard, const char *type, const char *extra)
{
	char body[512];
	json_t *j;
	char *it;

	snprintf(body, sizeof(body),
		 "{\"StreamName\":\"alleycat\",\"ShardId\":\"%s\",\"ShardIteratorType\":\"%s\"%s}",
		 shard, type, extra);
	j = call_ok(hub, "GetShardIterator", body, NOW);
	it = strdup(json_string_value(json_object_get(j, "ShardIterator")));
	json_decref(j);
	return it;
}

static json_t *get_records(struct hub *hub, const char *it, int64_t now)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"ShardIterator\":\"%s\"}", it);
	return call_ok(hub, "GetRecords", body, now);
}

static void test_put_and_read_back(void **state)
{
	struct hub *hub = new_hub(1000);
	char *horizon = iterator(hub, "shardId-000000000002", "TRIM_HORIZON", "");
	char *latest, *after, extra[128];
	json_t *put, *got, *records;
	const char *first_seq;

	/* "5400802" lands on shard 2 of 4 (see tests/vectors/hashkeys.tsv). */
	put = call_ok(hub, "PutRecord",
		      "{\"StreamName\":\"alleycat\",\"Data\":\"b25l\",\"PartitionKey\":\"5400802\"}",
		      NOW);
	assert_string_equal(json_string_value(json_object_get(put, "ShardId")),
			    "shardId-000000000002");
	first_seq = json_string_value(json_object_get(put, "SequenceNumber"));
	latest = iterator(hub, "shardId-000000000002", "LATEST", "");
	snprintf(extra, sizeof(extra), ",\"StartingSequenceNumber\":\"%s\"", first_seq);
	after = iterator(hub, "shardId-000000000002", "AFTER_SEQUENCE_NUMBER", extra);
	json_decref(call_ok(hub, "PutRecord",
			    "{\"StreamName\":\"alleycat\",\"Data\":\"dHdv\",\"PartitionKey\":"
			    "\"5400802\"}",
			    NOW + 5));

	got = get_records(hub, horizon, NOW + 10);
	records = json_object_get(got, "Records");
	assert_int_equal(json_array_size(records), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(records, 0), "Data")),
			    "b25l");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(records, 0), "SequenceNumber")),
		first_seq);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(records, 1), "PartitionKey")),
		"5400802");
	assert_int_equal(json_integer_value(json_object_get(got, "MillisBehindLatest")), 0);
	assert_true(json_is_array(json_object_get(got, "ChildShards")));
	assert_int_equal(json_array_size(json_object_get(got, "ChildShards")), 0);
	json_decref(got);

	/* LATEST and AFTER_SEQUENCE_NUMBER both see only the second record. */
	got = get_records(hub, latest, NOW + 10);
	assert_int_equal(json_array_size(json_object_get(got, "Records")), 1);
	json_decref(got);
	got = get_records(hub, after, NOW + 10);
	records = json_object_get(got, "Records");
	assert_int_equal(json_array_size(records), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(records, 0), "Data")),
			    "dHdv");
	json_decref(got);

	/* Iterators expire after five minutes. */
	expect_error(hub, "GetRecords", "{\"ShardIterator\":\"x\"}", NOW, "InvalidArgumentException");
	char body[512];
	snprintf(body, sizeof(body), "{\"ShardIterator\":\"%s\"}", horizon);
	expect_error(hub, "GetRecords", body, NOW + 301000, "ExpiredIteratorException");

	json_decref(put);
	free(horizon);
	free(latest);
	free(after);
	hub_close(hub);
}

/* A mirrored shard's readers are told how far behind the upstream's
 * latest the mirror read it, plus their own lag on the copy: along a
 * chain of mirrors each adds its own. */
static void test_mirror_adds_upstream_behind(void **state)
{
	struct hub *hub = new_hub(0);
	struct stream *s = hub_find_stream(hub, "alleycat");
	const char *put = "{\"StreamName\":\"alleycat\",\"Data\":\"b25l\",\"PartitionKey\":"
			  "\"k\",\"ExplicitHashKey\":\"0\"}";
	char *horizon, body[512];
	json_t *got;

	(void)state;
	horizon = iterator(hub, "shardId-000000000000", "TRIM_HORIZON", "");
	json_decref(call_ok(hub, "PutRecord", put, NOW));
	json_decref(call_ok(hub, "PutRecord", put, NOW));
	s->shards[0].upstream_behind_ms = 7000;
	/* One record of two read, 3 s after they arrived: 3 s of its own. */
	snprintf(body, sizeof(body), "{\"ShardIterator\":\"%s\",\"Limit\":1}", horizon);
	got = call_ok(hub, "GetRecords", body, NOW + 3000);
	assert_int_equal(json_array_size(json_object_get(got, "Records")), 1);
	assert_int_equal(json_integer_value(json_object_get(got, "MillisBehindLatest")), 10000);
	free(horizon);
	horizon = strdup(json_string_value(json_object_get(got, "NextShardIterator")));
	json_decref(got);
	/* At the copy's newest: the upstream's part alone. */
	got = get_records(hub, horizon, NOW + 3000);
	assert_int_equal(json_array_size(json_object_get(got, "Records")), 1);
	assert_int_equal(json_integer_value(json_object_get(got, "MillisBehindLatest")), 7000);
	json_decref(got);
	free(horizon);
	hub_close(hub);
}

static seqno_t seq_of(const char *text)
{
	seqno_t seq;

	assert_int_equal(seqno_parse(text, &seq), SEQNO_OK);
	return seq;
}

/* A mirror's sequence numbers are the upstream's, unrelated to those this
 * hub would issue: a reader at LATEST still gets the next record copied,
 * the small numbers of a hub upstream as the 56 digits of Amazon Kinesis,
 * which come back whole. */
static void test_mirror_latest(void **state)
{
	static const char *const numbers[][2] = {
		{ "100", "150" },
		{ "49654183049498290934127734893407271634858925398213394434",
		  "49654183049498290934127734893407271634858925398213394450" },
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct hub *hub = new_hub(0);
		struct stream *s = hub_find_stream(hub, "alleycat");
		struct stream_mirror_shard up = { .id = "shardId-000000000000",
						  .start = hashkey_shard_start(0, 1),
						  .end = hashkey_shard_end(0, 1),
						  .starting_seq = seq_of(numbers[i][0]) };
		struct mirror_record rec = { .seq = seq_of(numbers[i][1]), .arrival_ms = NOW,
					     .key = "k", .key_len = 1, .data = "one",
					     .data_len = 3 };
		const char *why;
		char *latest;
		json_t *got;

		assert_int_equal(hub_mirror_shards(hub, s, &up, 1, NOW, &why), 1);
		latest = iterator(hub, "shardId-000000000000", "LATEST", "");
		assert_int_equal(hub_mirror_records(hub, s, 0, &rec, 1), 0);
		got = get_records(hub, latest, NOW + 1);
		assert_int_equal(json_array_size(json_object_get(got, "Records")), 1);
		assert_string_equal(json_string_value(json_object_get(
					    json_array_get(json_object_get(got, "Records"), 0),
					    "SequenceNumber")),
				    numbers[i][1]);
		json_decref(got);
		free(latest);
		hub_close(hub);
	}
}

static void test_streams_and_consumers(void **state)
{
	struct hub *hub = new_hub(1000);
	json_t *j;
	int status;

	json_decref(call_ok(hub, "CreateStream", "{\"StreamName\":\"second\",\"ShardCount\":3}", NOW));
	j = call_ok(hub, "ListStreams", "{}", NOW);
	assert_int_equal(json_array_size(json_object_get(j, "StreamNames")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "StreamNames"), 0)),
			    "alleycat");
	json_decref(j);
	j = call_ok(hub, "ListStreams", "{\"Limit\":1}", NOW);
	assert_true(json_is_true(json_object_get(j, "HasMoreStreams")));
	json_decref(j);
	j = call_ok(hub, "DescribeStreamSummary", "{\"StreamName\":\"second\"}", NOW);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(j, "StreamDescriptionSummary"), "OpenShardCount")),
			 3);
	json_decref(j);

	/* ListShards pages with NextToken. */
	j = call_ok(hub, "ListShards", "{\"StreamName\":\"second\",\"MaxResults\":2}", NOW);
	assert_int_equal(json_array_size(json_object_get(j, "Shards")), 2);
	char body[512];
	snprintf(body, sizeof(body), "{\"NextToken\":\"%s\"}",
		 json_string_value(json_object_get(j, "NextToken")));
	json_decref(j);
	j = call_ok(hub, "ListShards", body, NOW);
	assert_int_equal(json_array_size(json_object_get(j, "Shards")), 1);
	assert_null(json_object_get(j, "NextToken"));
	json_decref(j);

	/* Consumers: 20 per stream, then LimitExceededException. */
	for (int i = 1; i < 20; i++) {
		snprintf(body, sizeof(body), "{\"StreamARN\":\"%s\",\"ConsumerName\":\"c%d\"}",
			 STREAM_ARN, i);
		j = call_ok(hub, "RegisterStreamConsumer", body, NOW);
		assert_non_null(strstr(json_string_value(json_object_get(
					       json_object_get(j, "Consumer"), "ConsumerARN")),
				       "stream/alleycat/consumer/c"));
		json_decref(j);
	}
	snprintf(body, sizeof(body), "{\"StreamARN\":\"%s\",\"ConsumerName\":\"c20\"}", STREAM_ARN);
	expect_error(hub, "RegisterStreamConsumer", body, NOW, "LimitExceededException");
	snprintf(body, sizeof(body), "{\"StreamARN\":\"%s\"}", STREAM_ARN);
	j = call_ok(hub, "ListStreamConsumers", body, NOW);
	assert_int_equal(json_array_size(json_object_get(j, "Consumers")), 20);
	json_decref(j);
	snprintf(body, sizeof(body), "{\"StreamARN\":\"%s\",\"ConsumerName\":\"c5\"}", STREAM_ARN);
	json_decref(call_ok(hub, "DeregisterStreamConsumer", body, NOW));
	expect_error(hub, "DescribeStreamConsumer", body, NOW, "ResourceNotFoundException");

	/* A stream with consumers is deleted only when asked to delete them. */
	json_decref(call_ok(hub, "DeleteStream",
			    "{\"StreamName\":\"alleycat\",\"EnforceConsumerDeletion\":true}", NOW));
	j = call(hub, "DescribeStream", "{\"StreamName\":\"alleycat\"}", NOW, &status);
	assert_int_equal(status, 400);
	json_decref(j);
	hub_close(hub);
}

/* ------------------------------------------------------------------ */
/* UpdateShardCount through the API, and across a restart               */
/* ------------------------------------------------------------------ */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

/* A hub on dir opened at now, its new streams keeping retention_s. */
static struct hub *hub_in_at(const char *dir, int64_t retention_s, int64_t now)
{
	struct hub_config config;
	char err[ERR_TEXT_MAX] = "";
	struct hub *hub;

	hub_config_defaults(&config);
	config.data_dir = dir;
	config.retention_seconds = retention_s;
	hub = hub_open(&config, now, err, sizeof(err));
	if (hub == NULL)
		fail_msg("cannot open a hub in %s: %s", dir, err);
	return hub;
}

static struct hub *hub_in(const char *dir)
{
	return hub_in_at(dir, 24 * 3600, NOW);
}

static json_t *list_shards(struct hub *hub, const char *stream)
{
	char body[256];
	json_t *j, *shards;

	snprintf(body, sizeof(body), "{\"StreamName\":\"%s\"}", stream);
	j = call_ok(hub, "ListShards", body, NOW);
	shards = json_incref(json_object_get(j, "Shards"));
	json_decref(j);
	return shards;
}

static hashkey_t range_key(json_t *shard, const char *which)
{
	const char *text = json_string_value(
		json_object_get(json_object_get(shard, "HashKeyRange"), which));
	const char *reason;
	hashkey_t key;

	assert_non_null(text);
	assert_int_equal(hashkey_parse(text, &key, &reason), 0);
	return key;
}

/* Marks the shard at index i and, through ParentShardId and
 * AdjacentParentShardId, every shard it descends from (shard ids count up
 * from 0, so an id's number is its index in ListShards). */
static void mark_ancestors(json_t *shards, size_t i, bool *marked)
{
	static const char *const links[] = { "ParentShardId", "AdjacentParentShardId" };

	marked[i] = true;
	for (size_t k = 0; k < 2; k++) {
		const char *id = json_string_value(json_object_get(json_array_get(shards, i), links[k]));
		if (id)
			mark_ancestors(shards, strtoul(id + strlen("shardId-"), NULL, 10), marked);
	}
}

/* Every open shard descends from every one of the first old_count shards
 * whose range it overlaps: a reader that follows the lineage reads them all
 * before it. */
static void check_lineage_covers(json_t *shards, size_t old_count)
{
	size_t n = json_array_size(shards);
	bool *marked = calloc(n, sizeof(*marked));

	assert_non_null(marked);
	for (size_t i = 0; i < n; i++) {
		json_t *open = json_array_get(shards, i);
		if (json_object_get(json_object_get(open, "SequenceNumberRange"),
				    "EndingSequenceNumber"))
			continue;
		memset(marked, 0, n * sizeof(*marked));
		mark_ancestors(shards, i, marked);
		for (size_t k = 0; k < old_count; k++) {
			json_t *old = json_array_get(shards, k);
			bool overlaps = range_key(old, "StartingHashKey") <=
						range_key(open, "EndingHashKey") &&
					range_key(open, "StartingHashKey") <=
						range_key(old, "EndingHashKey");
			if (overlaps && !marked[k])
				fail_msg("shard %zu overlaps old shard %zu but does not descend from it",
					 i, k);
		}
	}
	free(marked);
}

/* 5 -> 3: shardId-000000000010 is merge(6, 2), merged again with 7 into 11
 * at once, so it is closed and empty: a reader passes through it. */
static void check_intermediate_shard(struct hub *hub, json_t *shards)
{
	json_t *mid = json_array_get(shards, 10), *range, *got, *children, *parents;
	char *it;

	assert_string_equal(json_string_value(json_object_get(mid, "ParentShardId")),
			    "shardId-000000000006");
	assert_string_equal(json_string_value(json_object_get(mid, "AdjacentParentShardId")),
			    "shardId-000000000002");
	range = json_object_get(mid, "SequenceNumberRange");
	assert_true(seqno_compare_text(
			    json_string_value(json_object_get(range, "StartingSequenceNumber")),
			    json_string_value(json_object_get(range, "EndingSequenceNumber"))) < 0);

	it = iterator(hub, "shardId-000000000010", "TRIM_HORIZON", "");
	got = get_records(hub, it, NOW);
	assert_int_equal(json_array_size(json_object_get(got, "Records")), 0);
	assert_true(json_is_null(json_object_get(got, "NextShardIterator")));
	children = json_object_get(got, "ChildShards");
	assert_int_equal(json_array_size(children), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(children, 0),
							      "ShardId")),
			    "shardId-000000000011");
	parents = json_object_get(json_array_get(children, 0), "ParentShards");
	assert_int_equal(json_array_size(parents), 2);
	assert_string_equal(json_string_value(json_array_get(parents, 0)), "shardId-000000000010");
	assert_string_equal(json_string_value(json_array_get(parents, 1)), "shardId-000000000007");
	json_decref(got);
	free(it);
}

static void test_update_shard_count_lineage_survives_restart(void **state)
{
	char dir[] = "/tmp/alleycat-reshard-XXXXXX";
	struct hub *hub;
	json_t *j, *before, *after;

	assert_non_null(mkdtemp(dir));
	hub = hub_in(dir);
	json_decref(call_ok(hub, "CreateStream", "{\"StreamName\":\"alleycat\",\"ShardCount\":5}",
			    NOW));
	j = call_ok(hub, "UpdateShardCount",
		    "{\"StreamName\":\"alleycat\",\"TargetShardCount\":3,"
		    "\"ScalingType\":\"UNIFORM_SCALING\"}",
		    NOW);
	assert_int_equal(json_integer_value(json_object_get(j, "CurrentShardCount")), 5);
	assert_int_equal(json_integer_value(json_object_get(j, "TargetShardCount")), 3);
	json_decref(j);

	before = list_shards(hub, "alleycat");
	assert_int_equal(json_array_size(before), 13);
	check_lineage_covers(before, 5);
	check_intermediate_shard(hub, before);
	j = call_ok(hub, "DescribeStream", "{\"StreamName\":\"alleycat\"}", NOW);
	assert_true(json_equal(json_object_get(json_object_get(j, "StreamDescription"), "Shards"),
			       before));
	json_decref(j);

	hub_close(hub);
	hub = hub_in(dir);
	after = list_shards(hub, "alleycat");
	assert_true(json_equal(before, after));
	/* And back up to 5, from the reopened hub: 3 -> 5 needs no merge of
	 * three, yet every new shard still reaches all the old ones it overlaps. */
	json_decref(call_ok(hub, "UpdateShardCount",
			    "{\"StreamName\":\"alleycat\",\"TargetShardCount\":5,"
			    "\"ScalingType\":\"UNIFORM_SCALING\"}",
			    NOW));
	json_decref(after);
	after = list_shards(hub, "alleycat");
	check_lineage_covers(after, 13);
	json_decref(after);
	json_decref(before);
	hub_close(hub);
	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* ------------------------------------------------------------------ */
/* Closed shards past retention leave the API                           */
/* ------------------------------------------------------------------ */

#define RETENTION_S 60

/* A saved hub state, as a hub of some version left it in dir. */
static void write_meta(const char *dir, const char *json)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	assert_int_equal(fclose(f), 0);
}
#define CLOSED (NOW + 1000)             /* when the tests' reshards happen */
#define FORGOTTEN (CLOSED + RETENTION_S * 1000 + 1)

static json_t *shard_ids(json_t *shards)
{
	json_t *ids = json_array(), *sh;
	size_t i;

	json_array_foreach(shards, i, sh)
		json_array_append(ids, json_object_get(sh, "ShardId"));
	return ids;
}

static bool is_open(json_t *shard)
{
	return json_object_get(json_object_get(shard, "SequenceNumberRange"),
			       "EndingSequenceNumber") == NULL;
}

/* ListShards one shard a page, by NextToken: the ids of every page. */
static json_t *list_by_pages(struct hub *hub)
{
	json_t *ids = json_array(), *j = call_ok(hub, "ListShards",
						 "{\"StreamName\":\"alleycat\",\"MaxResults\":1}", NOW);
	char body[512];

	for (;;) {
		json_t *page = json_object_get(j, "Shards");
		const char *token = json_string_value(json_object_get(j, "NextToken"));
		assert_int_equal(json_array_size(page), 1);
		json_array_append(ids, json_object_get(json_array_get(page, 0), "ShardId"));
		if (token == NULL)
			break;
		snprintf(body, sizeof(body), "{\"NextToken\":\"%s\",\"MaxResults\":1}", token);
		json_decref(j);
		j = call_ok(hub, "ListShards", body, NOW);
	}
	json_decref(j);
	return ids;
}

/* DescribeStream one shard a page, by ExclusiveStartShardId. */
static json_t *describe_by_pages(struct hub *hub)
{
	json_t *ids = json_array();
	char body[256] = "{\"StreamName\":\"alleycat\",\"Limit\":1}";

	for (;;) {
		json_t *j = call_ok(hub, "DescribeStream", body, NOW);
		json_t *d = json_object_get(j, "StreamDescription");
		json_t *page = json_object_get(d, "Shards");
		const char *id = json_string_value(json_object_get(json_array_get(page, 0), "ShardId"));
		bool more = json_is_true(json_object_get(d, "HasMoreShards"));
		assert_int_equal(json_array_size(page), 1);
		json_array_append_new(ids, json_string(id));
		snprintf(body, sizeof(body),
			 "{\"StreamName\":\"alleycat\",\"Limit\":1,\"ExclusiveStartShardId\":\"%s\"}",
			 id);
		json_decref(j);
		if (!more)
			return ids;
	}
}

/* Every listing, whole or by pages, shows just the open shards, which
 * still name their forgotten parents. */
static void check_only_open_listed(struct hub *hub, json_t *open_ids)
{
	json_t *shards = list_shards(hub, "alleycat"), *ids = shard_ids(shards), *paged, *sh;
	size_t i;

	assert_true(json_equal(ids, open_ids));
	json_array_foreach(shards, i, sh) {
		assert_true(is_open(sh));
		assert_non_null(json_object_get(sh, "ParentShardId"));
	}
	paged = list_by_pages(hub);
	assert_true(json_equal(paged, open_ids));
	json_decref(paged);
	paged = describe_by_pages(hub);
	assert_true(json_equal(paged, open_ids));
	json_decref(paged);
	json_decref(ids);
	json_decref(shards);
}

/* Listings that start after a forgotten shard's id still start there. */
static void check_start_after_forgotten(struct hub *hub, json_t *open_ids)
{
	json_t *j = call_ok(hub, "ListShards",
			    "{\"StreamName\":\"alleycat\","
			    "\"ExclusiveStartShardId\":\"shardId-000000000001\"}",
			    NOW);
	json_t *ids = shard_ids(json_object_get(j, "Shards"));

	assert_true(json_equal(ids, open_ids));
	json_decref(ids);
	json_decref(j);
	j = call_ok(hub, "ListShards",
		    "{\"StreamName\":\"alleycat\",\"ShardFilter\":{\"Type\":\"AFTER_SHARD_ID\","
		    "\"ShardId\":\"shardId-000000000001\"}}",
		    NOW);
	ids = shard_ids(json_object_get(j, "Shards"));
	assert_true(json_equal(ids, open_ids));
	json_decref(ids);
	json_decref(j);
}

/* The calls that name a forgotten shard answer ResourceNotFoundException,
 * an iterator taken before included. */
static void check_forgotten_refused(struct hub *hub, const char *old_iterator)
{
	char body[512];
	int status;
	json_t *j;

	j = call(hub, "GetShardIterator",
		 "{\"StreamName\":\"alleycat\",\"ShardId\":\"shardId-000000000000\","
		 "\"ShardIteratorType\":\"TRIM_HORIZON\"}",
		 FORGOTTEN, &status);
	assert_int_equal(status, 400);
	assert_string_equal(json_string_value(json_object_get(j, "__type")),
			    "ResourceNotFoundException");
	assert_string_equal(json_string_value(json_object_get(j, "message")),
			    "Shard shardId-000000000000 in stream alleycat under account "
			    "000000000000 does not exist");
	json_decref(j);
	snprintf(body, sizeof(body), "{\"ShardIterator\":\"%s\"}", old_iterator);
	expect_error(hub, "GetRecords", body, FORGOTTEN, "ResourceNotFoundException");
	expect_error(hub, "SplitShard",
		     "{\"StreamName\":\"alleycat\",\"ShardToSplit\":\"shardId-000000000000\","
		     "\"NewStartingHashKey\":\"1\"}",
		     FORGOTTEN, "ResourceNotFoundException");
}

static void reshard_to(struct hub *hub, int target, int64_t now)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"StreamName\":\"alleycat\",\"TargetShardCount\":%d,"
		 "\"ScalingType\":\"UNIFORM_SCALING\"}",
		 target);
	json_decref(call_ok(hub, "UpdateShardCount", body, now));
}

/* 4 -> 3 at CLOSED with a 60 s retention: the closed shards stay listed
 * until the retention has passed since they closed, also over a restart
 * (the closing time is saved), then every listing leaves them out. */
static void test_closed_shards_forgotten_after_retention(void **state)
{
	char dir[] = "/tmp/alleycat-expiry-XXXXXX";
	struct hub *hub;
	json_t *all, *open_ids, *sh, *j;
	char *it;
	size_t i;

	assert_non_null(mkdtemp(dir));
	hub = hub_in_at(dir, RETENTION_S, NOW);
	json_decref(call_ok(hub, "CreateStream", "{\"StreamName\":\"alleycat\",\"ShardCount\":4}",
			    NOW));
	json_decref(call_ok(hub, "PutRecord", "{\"StreamName\":\"alleycat\",\"Data\":\"eA==\","
					      "\"PartitionKey\":\"k\"}", NOW));
	it = iterator(hub, "shardId-000000000000", "TRIM_HORIZON", "");
	reshard_to(hub, 3, CLOSED);
	j = call_ok(hub, "DescribeStreamSummary", "{\"StreamName\":\"alleycat\"}", NOW);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
				 j, "StreamDescriptionSummary"), "RetentionPeriodHours")), 1);
	json_decref(j);

	all = list_shards(hub, "alleycat");
	open_ids = json_array();
	json_array_foreach(all, i, sh)
		if (is_open(sh))
			json_array_append(open_ids, json_object_get(sh, "ShardId"));
	assert_int_equal(json_array_size(open_ids), 3);
	hub_expire(hub, FORGOTTEN - 1);
	j = list_shards(hub, "alleycat");
	assert_true(json_equal(j, all));                /* a retention since closing: kept */
	json_decref(j);

	hub_close(hub);
	hub = hub_in_at(dir, RETENTION_S, FORGOTTEN - 1);
	j = list_shards(hub, "alleycat");
	assert_true(json_equal(j, all));
	json_decref(j);
	hub_close(hub);
	hub = hub_in_at(dir, RETENTION_S, FORGOTTEN);   /* opening applies retention */
	check_only_open_listed(hub, open_ids);
	check_start_after_forgotten(hub, open_ids);
	check_forgotten_refused(hub, it);
	free(it);
	it = iterator(hub, json_string_value(json_array_get(open_ids, 0)), "LATEST", "");
	/* Resharding goes on: 3 -> 4 closes the open three, which stay listed. */
	reshard_to(hub, 4, FORGOTTEN);
	j = list_shards(hub, "alleycat");
	assert_int_equal(json_array_size(j), hub_find_stream(hub, "alleycat")->shard_count -
						     (json_array_size(all) - 3));
	json_decref(j);

	free(it);
	json_decref(open_ids);
	json_decref(all);
	hub_close(hub);
	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* A state saved before closing times were: a closed shard counts as closed
 * when first loaded, and that is saved, so it is forgotten a retention
 * after that first load, not after whichever load comes last. */
static void test_old_state_closes_shards_at_first_load(void **state)
{
	char dir[] = "/tmp/alleycat-expiry-XXXXXX";
	int64_t hour = 3600 * 1000LL;
	struct hub *hub;
	json_t *shards;

	assert_non_null(mkdtemp(dir));
	write_meta(dir, "{\"version\":1,\"lastSeq\":9,\"streams\":[{\"name\":\"alleycat\",\"uid\":1,"
			"\"createdMs\":0,\"retentionHours\":1,\"consumers\":[],\"shards\":["
			"{\"id\":\"shardId-000000000000\",\"start\":\"0\","
			"\"end\":\"340282366920938463463374607431768211455\",\"startingSeq\":2,"
			"\"endingSeq\":5,\"parent\":-1,\"adjacentParent\":-1},"
			"{\"id\":\"shardId-000000000001\",\"start\":\"0\","
			"\"end\":\"340282366920938463463374607431768211455\",\"startingSeq\":6,"
			"\"endingSeq\":0,\"parent\":0,\"adjacentParent\":-1}]}]}");

	for (int64_t at = NOW; at <= NOW + hour; at += hour / 2) {
		hub = hub_in_at(dir, RETENTION_S, at);
		shards = list_shards(hub, "alleycat");
		assert_int_equal(json_array_size(shards), 2);
		json_decref(shards);
		hub_close(hub);
	}
	hub = hub_in_at(dir, RETENTION_S, NOW + hour + 1);
	shards = list_shards(hub, "alleycat");
	assert_int_equal(json_array_size(shards), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(shards, 0),
							      "ParentShardId")),
			    "shardId-000000000000");
	json_decref(shards);
	hub_close(hub);
	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* The SequenceNumber of each record of shard 0 from its start, by
 * GetRecords, comma-separated into out. */
static void shard0_numbers(struct hub *hub, char *out, size_t size)
{
	char *horizon = iterator(hub, "shardId-000000000000", "TRIM_HORIZON", "");
	json_t *got = get_records(hub, horizon, NOW), *r;
	size_t i, len = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(got, "Records"), i, r)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "",
					json_string_value(json_object_get(r, "SequenceNumber")));
	json_decref(got);
	free(horizon);
}

/* A data directory of the hub before sequence numbers were widened: its
 * meta.json has integer numbers and its segment is of version 1. It opens
 * with its records, takes new ones, and is saved with decimal strings. */
static void test_data_dir_of_version_1(void **state)
{
	char dir[] = "/tmp/alleycat-v1-XXXXXX", path[64], numbers[256], *meta;
	unsigned char seg[JOURNAL_V1_HEADER + 2 * (JOURNAL_V1_FIXED + 16)];
	size_t len = JOURNAL_V1_HEADER;
	struct hub *hub;
	json_t *put;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_meta(dir, "{\"version\":1,\"lastSeq\":1620240672076000042,\"streams\":[{"
			"\"name\":\"alleycat\",\"uid\":1,\"createdMs\":0,\"retentionHours\":24,"
			"\"consumers\":[],\"shards\":[{\"id\":\"shardId-000000000000\","
			"\"start\":\"0\",\"end\":\"340282366920938463463374607431768211455\","
			"\"startingSeq\":1620240672076000001,\"endingSeq\":0,\"parent\":-1,"
			"\"adjacentParent\":-1}]}]}");
	journal_v1_header(seg, 1);
	len += journal_v1_record(seg + len, 1, 0, UINT64_C(1620240672076000041), NOW, "k1", 2,
				 "one", 3);
	len += journal_v1_record(seg + len, 1, 0, UINT64_C(1620240672076000042), NOW, "k2", 2,
				 "two", 3);
	snprintf(path, sizeof(path), "%s/records-000000000001.log", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(seg, 1, len, f), len);
	assert_int_equal(fclose(f), 0);

	hub = hub_in_at(dir, RETENTION_S, NOW);
	shard0_numbers(hub, numbers, sizeof(numbers));
	assert_string_equal(numbers, "1620240672076000041,1620240672076000042");
	put = call_ok(hub, "PutRecord",
		      "{\"StreamName\":\"alleycat\",\"PartitionKey\":\"k3\",\"Data\":\"dGhyZWU=\"}",
		      NOW);
	json_decref(put);
	/* A change of the control plane saves meta.json. */
	json_decref(call_ok(hub, "CreateStream", "{\"StreamName\":\"other\",\"ShardCount\":1}",
			    NOW));
	hub_close(hub);

	hub = hub_in_at(dir, RETENTION_S, NOW);
	shard0_numbers(hub, numbers, sizeof(numbers));
	assert_non_null(strstr(numbers, "1620240672076000041,1620240672076000042,"));
	hub_close(hub);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	meta = calloc(1, 4096);
	assert_non_null(meta);
	assert_true(fread(meta, 1, 4095, f) > 0);
	fclose(f);
	assert_non_null(strstr(meta, "\"startingSeq\":\"1620240672076000001\""));
	free(meta);
	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* A hub refuses to open on this saved state, and says it is unreadable. */
static void expect_unreadable(const char *meta)
{
	char dir[] = "/tmp/alleycat-reshard-XXXXXX", err[ERR_TEXT_MAX] = "";
	struct hub_config config;

	assert_non_null(mkdtemp(dir));
	write_meta(dir, meta);
	hub_config_defaults(&config);
	config.data_dir = dir;
	assert_null(hub_open(&config, NOW, err, sizeof(err)));
	assert_non_null(strstr(err, "unreadable"));
	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* A saved shard whose parent is not an earlier shard is refused on loading:
 * the answers would follow it out of the shard array. */
static void test_saved_lineage_must_point_back(void **state)
{
	expect_unreadable("{\"version\":1,\"lastSeq\":9,\"streams\":[{\"name\":\"s\",\"uid\":1,\"createdMs\":0,"
			  "\"retentionHours\":24,\"consumers\":[],\"shards\":[{\"id\":\"shardId-000000000000\","
			  "\"start\":\"0\",\"end\":\"340282366920938463463374607431768211455\","
			  "\"startingSeq\":2,\"endingSeq\":0,\"parent\":1,\"adjacentParent\":-1}]}]}");
}

/* A saved stream with no open shard from key 0 up is refused on loading:
 * writes would find no shard for some keys. */
static void test_saved_stream_needs_open_shards(void **state)
{
	expect_unreadable("{\"version\":1,\"lastSeq\":9,\"streams\":[{\"name\":\"s\",\"uid\":1,"
			  "\"createdMs\":0,\"retentionHours\":24,\"consumers\":[],\"shards\":["
			  "{\"id\":\"shardId-000000000000\",\"start\":\"0\",\"end\":\"9\","
			  "\"startingSeq\":2,\"endingSeq\":5,\"parent\":-1,\"adjacentParent\":-1},"
			  "{\"id\":\"shardId-000000000001\",\"start\":\"10\","
			  "\"end\":\"340282366920938463463374607431768211455\",\"startingSeq\":3,"
			  "\"endingSeq\":0,\"parent\":-1,\"adjacentParent\":-1}]}]}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_request_catalogue),
		cmocka_unit_test(test_bad_cbor_request_catalogue),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_throttling_in_request_order),
		cmocka_unit_test(test_byte_limit_admits_an_oversized_record_alone),
		cmocka_unit_test(test_put_and_read_back),
		cmocka_unit_test(test_mirror_adds_upstream_behind),
		cmocka_unit_test(test_mirror_latest),
		cmocka_unit_test(test_streams_and_consumers),
		cmocka_unit_test(test_update_shard_count_lineage_survives_restart),
		cmocka_unit_test(test_saved_lineage_must_point_back),
		cmocka_unit_test(test_closed_shards_forgotten_after_retention),
		cmocka_unit_test(test_old_state_closes_shards_at_first_load),
		cmocka_unit_test(test_data_dir_of_version_1),
		cmocka_unit_test(test_saved_stream_needs_open_shards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
