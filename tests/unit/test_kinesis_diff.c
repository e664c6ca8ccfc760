/* PutRecords has two readers: jsonscan for the bodies clients usually send
 * and jansson for everything else. This sends generated bodies, good and
 * bad, to two identical hubs: once as they are, once with a member whose
 * key is escaped put first (`"\u0078":0`: the same JSON to jansson, but a
 * body the fast reader always leaves to jansson). Both answers must be the
 * same, byte for byte, and a success must be exactly what json_dumps would
 * write for the same document. */
#include "config.h"

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
#include "util/base64.h"
#include "util/errtext.h"
#include "util/rng.h"

#define NOW 1795659501000LL
#define TARGET KINESIS_TARGET_PREFIX "PutRecords"
#define STREAM_ARN "arn:aws:kinesis:us-east-1:000000000000:stream/alleycat"
#define BODY_MAX (1024 * 1024)

struct text {
	char *buf;
	size_t len;
};

static void add(struct text *t, const char *s, size_t n)
{
	if (t->len + n < BODY_MAX) {
		memcpy(t->buf + t->len, s, n);
		t->len += n;
	}
}

static void adds(struct text *t, const char *s)
{
	add(t, s, strlen(s));
}

static bool chance(struct rng *r, unsigned percent)
{
	return rng_below(r, 100) < percent;
}

static const char *pick(struct rng *r, const char *const *list, size_t n)
{
	return list[rng_below(r, n)];
}

#define PICK(r, list) pick(r, list, sizeof(list) / sizeof(list[0]))

/* How often a value is odd (wrong type, length, base64...): half the
 * bodies have none, so that many succeed. */
static unsigned odd;

/* ------------------------------------------------------------------ */
/* Bodies                                                              */
/* ------------------------------------------------------------------ */

static void space(struct rng *r, struct text *t)
{
	if (chance(r, 5))
		adds(t, chance(r, 50) ? " " : "\n\t");
}

static void data_value(struct rng *r, struct text *t)
{
	static const char *const odd_values[] = {
		"\"\"", "\"QQ\"", "\"QQ=\"", "\"Q===\"", "\"QUJD\\/A==\"", "\"QU JD\"", "null", "42",
		"\"!!!!\"", "[\"QUJD\"]", "\"QUJDRA==\"", "\"QUJDRB==\"",
	};
	unsigned char raw[300];
	char b64[base64_encoded_len(sizeof(raw)) + 1];
	size_t n = (size_t)rng_below(r, sizeof(raw));

	if (chance(r, odd)) {
		adds(t, PICK(r, odd_values));
		return;
	}
	for (size_t i = 0; i < n; i++)
		raw[i] = (unsigned char)rng_below(r, 256);
	base64_encode(raw, n, b64);
	adds(t, "\"");
	adds(t, b64);
	adds(t, "\"");
}

static void key_value(struct rng *r, struct text *t)
{
	static const char *const odd_values[] = {
		"\"\"", "null", "7", "\"\\u00e9t\\u00e9\"", "\"caf\xc3\xa9\"", "\"a\\nb\"",
		"\"\\ud83d\\udeb2\"", "{}",
	};
	char key[600];
	size_t n;

	if (chance(r, odd)) {
		adds(t, PICK(r, odd_values));
		return;
	}
	/* Now and then at AWS's limit of 256 characters, or just past it. */
	n = chance(r, odd) ? 255 + (size_t)rng_below(r, 3) : 1 + (size_t)rng_below(r, 12);
	for (size_t i = 0; i < n; i++)
		key[i] = (char)('a' + rng_below(r, 26));
	key[n] = '\0';
	adds(t, "\"");
	if (chance(r, 2)) {
		/* Two-byte characters: 256 of them are 512 bytes but 256 characters. */
		for (size_t i = 0; i < n; i++)
			adds(t, "\xc3\xa9");
	} else {
		adds(t, key);
	}
	adds(t, "\"");
}

static void hash_key_value(struct rng *r, struct text *t)
{
	static const char *const keys[] = {
		"\"0\"", "\"1\"", "\"340282366920938463463374607431768211455\"",
		"\"340282366920938463463374607431768211456\"", "\"01\"", "\"abc\"", "\"\"", "null",
		"12", "\"170141183460469231731687303715884105728\"", "\"99999999999999999999\"",
		"\"1e5\"", "\"-1\"",
	};

	adds(t, PICK(r, keys));
}

static void any_value(struct rng *r, struct text *t, int depth)
{
	static const char *const scalars[] = {
		"null", "true", "false", "0", "-1.5e3", "\"x\"", "\"\\u00e9\\\"\"", "[]", "{}",
		"1e999", "99999999999999999999",
	};
	size_t n = sizeof(scalars) / sizeof(scalars[0]);

	bool object;

	if (depth > 2 || chance(r, 60)) {
		/* The last two overflow: not JSON, to jansson. */
		adds(t, pick(r, scalars, odd ? n : n - 2));
		return;
	}
	object = chance(r, 50);
	adds(t, object ? "{\"k\":[" : "[");
	any_value(r, t, depth + 1);
	adds(t, ",");
	any_value(r, t, depth + 1);
	adds(t, object ? "]}" : "]");
}

/* One member: "name":value, with a comma before it unless first. */
static void member(struct rng *r, struct text *t, bool *first, const char *name)
{
	if (!*first)
		adds(t, ",");
	*first = false;
	space(r, t);
	adds(t, "\"");
	adds(t, name);
	adds(t, "\"");
	space(r, t);
	adds(t, ":");
	space(r, t);
}

static void record(struct rng *r, struct text *t)
{
	bool first = true;
	int order[4] = { 0, 1, 2, 3 };

	if (chance(r, odd / 4)) {
		adds(t, chance(r, 50) ? "7" : "null");
		return;
	}
	for (int i = 3; i > 0; i--) {
		int j = (int)rng_below(r, (uint64_t)i + 1), k = order[i];
		order[i] = order[j];
		order[j] = k;
	}
	adds(t, "{");
	for (int i = 0; i < 4; i++) {
		switch (order[i]) {
		case 0:
			if (chance(r, odd ? 99 : 100)) {
				member(r, t, &first, "Data");
				data_value(r, t);
			}
			break;
		case 1:
			if (chance(r, odd ? 99 : 100)) {
				member(r, t, &first, "PartitionKey");
				key_value(r, t);
			}
			break;
		case 2:
			if (chance(r, odd ? 15 : 0)) {
				member(r, t, &first, "ExplicitHashKey");
				hash_key_value(r, t);
			}
			break;
		default:
			if (chance(r, 5)) {
				member(r, t, &first, chance(r, odd * 5) ? "Data" : "Extra");
				chance(r, 50) ? data_value(r, t) : any_value(r, t, 0);
			}
			break;
		}
	}
	space(r, t);
	adds(t, "}");
}

static void records(struct rng *r, struct text *t)
{
	size_t n;

	if (chance(r, odd / 2)) {
		adds(t, chance(r, 50) ? "null" : "{}");
		return;
	}
	if (chance(r, odd ? odd : 1) && chance(r, odd ? 100 : 70))
		n = chance(r, 30) ? 0 : 499 + (size_t)rng_below(r, 3);
	else
		n = 1 + (size_t)rng_below(r, 30);
	adds(t, "[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			adds(t, ",");
		space(r, t);
		record(r, t);
	}
	adds(t, "]");
}

static void stream_name(struct rng *r, struct text *t)
{
	static const char *const odd_values[] = {
		"\"nope\"", "\"\"", "\"bad name\"", "null", "5", "\"alley\\u0063at\"", "[\"alleycat\"]",
		"\"alleycataaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	};

	adds(t, !chance(r, odd * 3) ? "\"alleycat\"" : PICK(r, odd_values));
}

static void body(struct rng *r, struct text *t)
{
	bool first = true;
	int order[4] = { 0, 1, 2, 3 };

	t->len = 0;
	for (int i = 3; i > 0; i--) {
		int j = (int)rng_below(r, (uint64_t)i + 1), k = order[i];
		order[i] = order[j];
		order[j] = k;
	}
	space(r, t);
	adds(t, "{");
	for (int i = 0; i < 4; i++) {
		switch (order[i]) {
		case 0:
			if (chance(r, odd ? 95 : 100)) {
				member(r, t, &first, "StreamName");
				stream_name(r, t);
			}
			break;
		case 1:
			if (chance(r, 10)) {
				member(r, t, &first, "StreamARN");
				adds(t, chance(r, 70) ? "\"" STREAM_ARN "\"" : "\"arn:nope\"");
			}
			break;
		case 2:
			if (chance(r, odd ? 98 : 100)) {
				member(r, t, &first, "Records");
				records(r, t);
			}
			break;
		default:
			if (chance(r, 10)) {
				member(r, t, &first, chance(r, odd * 2) ? "StreamName" : "Other");
				any_value(r, t, 0);
			}
			break;
		}
	}
	space(r, t);
	adds(t, "}");
	space(r, t);
}

static const char interesting[] = "{}[],:\"\\u0123456789-+.eE \t\n/=ABQnull"
				  "\x00\x7f\x80\xc3\xe0\xed\xf0\xff";

static void mutate(struct rng *r, struct text *t)
{
	size_t at = (size_t)rng_below(r, t->len), n;

	switch (rng_below(r, 3)) {
	case 0:
		n = 1 + (size_t)rng_below(r, 3);
		if (n > t->len - at)
			n = t->len - at;
		memmove(t->buf + at, t->buf + at + n, t->len - at - n);
		t->len -= n;
		break;
	case 1:
		memmove(t->buf + at + 1, t->buf + at, t->len - at);
		t->buf[at] = interesting[rng_below(r, sizeof(interesting) - 1)];
		t->len++;
		break;
	default:
		t->buf[at] = interesting[rng_below(r, sizeof(interesting) - 1)];
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Comparing                                                           */
/* ------------------------------------------------------------------ */

static struct hub *new_hub(uint64_t records_per_sec)
{
	struct hub_config config;
	char err[ERR_TEXT_MAX];
	struct hub *hub;

	hub_config_defaults(&config);
	config.limits.shard_records_per_sec = records_per_sec;
	hub = hub_open(&config, NOW, err, sizeof(err));
	assert_non_null(hub);
	assert_non_null(hub_create_stream(hub, "alleycat", 4, NOW));
	return hub;
}

static void show(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "%s (%zu bytes): ", what, len);
	fwrite(s, 1, len > 2000 ? 2000 : len, stderr);
	fprintf(stderr, "%s\n", len > 2000 ? "..." : "");
}

/* The body made to go to jansson: an escaped key first. */
static bool forced(const struct text *plain, struct text *out)
{
	const char *brace = memchr(plain->buf, '{', plain->len);
	size_t at;

	out->len = 0;
	if (brace == NULL)
		return false;
	at = (size_t)(brace - plain->buf) + 1;
	add(out, plain->buf, at);
	adds(out, "\"\\u0078\":0,");
	add(out, plain->buf + at, plain->len - at);
	return true;
}

struct tally {
	unsigned ok, refused, compared;
};

/* A success must read back as the same text through jansson. */
static void check_canonical(const struct kinesis_reply *reply)
{
	json_t *j = json_loadb(reply->body, reply->len, 0, NULL);
	char *again;

	assert_non_null(j);
	again = json_dumps(j, JSON_COMPACT);
	if (strcmp(again, reply->body) != 0) {
		show("answer", reply->body, reply->len);
		fail_msg("json_dumps writes it as %s", again);
	}
	assert_int_equal(json_integer_value(json_object_get(j, "FailedRecordCount")) >= 0, 1);
	free(again);
	json_decref(j);
}

static void compare(const struct text *plain, struct text *other, uint64_t limit,
		    struct tally *tally)
{
	struct hub *a, *b;
	struct kinesis_reply x, y;
	json_t *doc = json_loadb(plain->buf, plain->len, 0, NULL);
	bool is_json = doc != NULL, same;

	json_decref(doc);
	/* "{}" and texts without a brace cannot take the extra member. */
	if (!forced(plain, other))
		return;
	doc = json_loadb(other->buf, other->len, 0, NULL);
	json_decref(doc);
	if (is_json && doc == NULL)
		return;
	a = new_hub(limit);
	b = new_hub(limit);
	kinesis_handle(a, TARGET, plain->buf, plain->len, NOW, &x);
	kinesis_handle(b, TARGET, other->buf, other->len, NOW, &y);
	same = x.status == y.status && (x.error == NULL) == (y.error == NULL) &&
	       (x.error == NULL || strcmp(x.error, y.error) == 0);
	/* jansson's words for bad JSON quote the text near the fault. */
	if (is_json)
		same = same && x.len == y.len && memcmp(x.body, y.body, x.len) == 0;
	if (!same) {
		show("body", plain->buf, plain->len);
		show("answer", x.body, x.len);
		show("jansson's answer", y.body, y.len);
		fail_msg("the two readers disagree");
	}
	if (x.status == 200)
		check_canonical(&x);
	x.status == 200 ? tally->ok++ : tally->refused++;
	tally->compared++;
	free(x.body);
	free(y.body);
	hub_close(a);
	hub_close(b);
}

/* KINESIS_DIFF_SEED=N sends other bodies than the usual ones. */
static uint64_t seed_or(uint64_t usual)
{
	const char *env = getenv("KINESIS_DIFF_SEED");

	return env && *env ? rng_hash2(strtoull(env, NULL, 10), usual) : usual;
}

static void test_generated_bodies(void **state)
{
	struct rng r;
	struct text plain = { malloc(BODY_MAX), 0 }, other = { malloc(BODY_MAX + 64), 0 };
	struct tally tally = { 0 };

	assert_non_null(plain.buf);
	assert_non_null(other.buf);
	rng_seed(&r, seed_or(4242));
	for (int i = 0; i < 6000; i++) {
		odd = chance(&r, 50) ? 0 : 4;
		body(&r, &plain);
		if (chance(&r, 25) && plain.len > 0)
			mutate(&r, &plain);
		compare(&plain, &other, chance(&r, 20) ? 40 : 0, &tally);
	}
	print_message("%u compared: %u accepted, %u refused\n", tally.compared, tally.ok,
		      tally.refused);
	assert_true(tally.ok > 2000);
	assert_true(tally.refused > 1000);
	free(plain.buf);
	free(other.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
