/* Unit tests for src/wire/kpl.c (KPL aggregates) and their expansion in a
 * batch (consumer_batch_decode_records): user records in order, each with
 * its sub-sequence number and the checkpoint after it (inside the
 * aggregate while user records of it follow); plain records mixed in; bad aggregates (MD5,
 * truncated protobuf) counted as bad, never a crash. The aggregates are
 * built here as the KPL writes them: magic, protobuf, MD5. */
#include "config.h"

#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/consumer_batch.h"
#include "util/base64.h"
#include "util/strbuf.h"
#include "wire/kpl.h"

static void put_varint(struct strbuf *b, uint64_t v)
{
	do {
		uint8_t byte = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			byte |= 0x80;
		strbuf_append(b, &byte, 1);
	} while (v);
}

static void put_bytes(struct strbuf *b, unsigned field, const void *data, size_t len)
{
	put_varint(b, (uint64_t)field << 3 | 2);
	put_varint(b, len);
	strbuf_append(b, data, len);
}

static char *telemetry_text(int racer)
{
	static char text[256];

	snprintf(text, sizeof(text),
		 "{\"event\":\"update\",\"second\":2,\"raceId\":9,\"name\":\"K%d\",\"racerId\":%d,"
		 "\"classId\":1,\"cadence\":80.0,\"resistance\":50.0}", racer, racer);
	return text;
}

/* An aggregate of the given racers' records (racer 0: a user record that
 * is not telemetry), under two partition keys. */
static void aggregate(struct strbuf *out, const int *racers, size_t n)
{
	struct strbuf msg, rec;
	unsigned char md5[EVP_MAX_MD_SIZE];
	unsigned md5_len = 0;

	strbuf_init(&msg);
	put_bytes(&msg, 1, "even", 4);
	put_bytes(&msg, 1, "odd", 3);
	for (size_t i = 0; i < n; i++) {
		const char *data = racers[i] ? telemetry_text(racers[i]) : "not telemetry";
		strbuf_init(&rec);
		put_varint(&rec, 1 << 3 | 0);
		put_varint(&rec, (uint64_t)(racers[i] % 2));
		put_bytes(&rec, 3, data, strlen(data));
		put_bytes(&msg, 3, rec.data, rec.len);
		strbuf_free(&rec);
	}
	EVP_Digest(msg.data, msg.len, md5, &md5_len, EVP_md5(), NULL);
	strbuf_append(out, "\xF3\x89\x9A\xC2", 4);
	strbuf_append(out, msg.data, msg.len);
	strbuf_append(out, md5, md5_len);
	strbuf_free(&msg);
}

struct seen {
	int racers[16];
	uint64_t subs[16];
	size_t n;
};

static int note(void *user, uint64_t sub, const uint8_t *data, size_t len, const char *key,
		size_t key_len)
{
	struct seen *s = user;
	char text[256];
	int racer = 0;

	(void)key;
	(void)key_len;
	snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)data);
	sscanf(strstr(text, "racerId") ? strstr(text, "racerId") + 9 : "0", "%d", &racer);
	s->subs[s->n] = sub;
	s->racers[s->n++] = racer;
	return 0;
}

static void test_each_user_record_in_order(void **state)
{
	const int racers[] = { 4, 7, 12 };
	struct strbuf a;
	struct seen s = { .n = 0 };
	const char *reason;

	(void)state;
	strbuf_init(&a);
	aggregate(&a, racers, 3);
	assert_true(kpl_is_aggregate(a.data, a.len));
	assert_int_equal(kpl_each(a.data, a.len, note, &s, &reason), 0);
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(s.racers[i], racers[i]);
		assert_int_equal(s.subs[i], i);
	}
	strbuf_free(&a);
}

static void test_bad_aggregates(void **state)
{
	const int racers[] = { 1, 2 };
	struct strbuf a;
	struct seen s = { .n = 0 };
	const char *reason;

	(void)state;
	strbuf_init(&a);
	aggregate(&a, racers, 2);
	a.data[a.len - 1] ^= 1;                         /* the MD5 */
	assert_int_equal(kpl_each(a.data, a.len, note, &s, &reason), -1);
	assert_non_null(strstr(reason, "MD5"));
	assert_int_equal(s.n, 0);
	/* Every truncation of the message is refused or read, never a crash. */
	for (size_t cut = 4; cut < a.len; cut++)
		kpl_each(a.data, cut, note, &s, &reason);
	assert_false(kpl_is_aggregate("\xF3\x89\x9A", 3));
	strbuf_free(&a);
}

/* A record of a GetRecords answer with Data bytes. */
static void answer_record(struct strbuf *j, const char *seq, const void *data, size_t len)
{
	char *b64 = malloc(base64_encoded_len(len) + 1);

	assert_non_null(b64);
	base64_encode(data, len, b64);
	strbuf_printf(j, "%s{\"SequenceNumber\":\"%s\",\"ApproximateArrivalTimestamp\":1.7e9,"
			 "\"Data\":\"%s\",\"PartitionKey\":\"k\"}", j->len > 12 ? "," : "", seq, b64);
	free(b64);
}

/* Where the shard stands after b's record i: seq and sub_sequence. */
static void assert_position_after(const struct consumer_batch *b, size_t i, const char *seq,
				  uint64_t sub_sequence)
{
	const char *got;
	uint64_t got_sub;

	assert_true(consumer_batch_position_after(b, &b->records[i], &got, &got_sub));
	assert_string_equal(got, seq);
	assert_int_equal(got_sub, sub_sequence);
}

static void test_batch_expands_aggregates(void **state)
{
	const int first[] = { 3, 0, 5 }, second[] = { 6 };
	struct strbuf j, a, broken;
	char last_bad[128], next[64];
	size_t bad;
	uint64_t bytes = 0;
	const char *reason, *plain = telemetry_text(2);
	struct consumer_batch *b;

	(void)state;
	strbuf_init(&j);
	strbuf_init(&a);
	strbuf_init(&broken);
	strbuf_lit(&j, "{\"Records\":[");
	answer_record(&j, "1", plain, strlen(plain));
	aggregate(&a, first, 3);
	answer_record(&j, "2", a.data, a.len);
	aggregate(&broken, second, 1);
	broken.data[6] ^= 0x40;                         /* inside the message: the MD5 fails */
	answer_record(&j, "3", broken.data, broken.len);
	strbuf_reset(&a);
	aggregate(&a, second, 1);
	answer_record(&j, "4", a.data, a.len);
	strbuf_lit(&j, "],\"NextShardIterator\":\"n\",\"MillisBehindLatest\":0}");

	b = consumer_batch_decode_records("shardId-0", j.data, j.len, false, NULL, &bad,
					  last_bad, sizeof(last_bad), &bytes, next, sizeof(next), &reason);
	assert_non_null(b);
	assert_int_equal(b->count, 4);                  /* 2, then 3 and 5, then 6 */
	assert_int_equal(b->records[0].t.racer_id, 2);
	assert_int_equal(b->records[1].t.racer_id, 3);
	assert_int_equal(b->records[2].t.racer_id, 5);
	assert_int_equal(b->records[3].t.racer_id, 6);
	assert_int_equal(bad, 2);                       /* "not telemetry", the broken one */
	assert_non_null(strstr(last_bad, "MD5"));
	assert_string_equal(b->continuation, "4");
	assert_position_after(b, 0, "1", 0);            /* a plain record: whole */
	assert_position_after(b, 1, "2", 1);            /* sub-sequence 0 of three */
	assert_position_after(b, 2, "2", 0);            /* 5 is the last: the record is whole */
	assert_position_after(b, 3, "4", 0);            /* the only one of its aggregate */
	assert_int_equal(b->records[2].sub, 2);         /* 0 (not telemetry) had 1 */
	consumer_batch_free(b);
	strbuf_free(&j);
	strbuf_free(&a);
	strbuf_free(&broken);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_user_record_in_order),
		cmocka_unit_test(test_bad_aggregates),
		cmocka_unit_test(test_batch_expands_aggregates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
