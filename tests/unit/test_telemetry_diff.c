/* telemetry_decode against the jansson decoder it replaced: for many
 * generated records, valid ones and mutated ones (bytes deleted, inserted,
 * flipped, members repeated), both must accept the same texts, give the
 * same reason when they refuse, and decode the same values when they
 * accept. The reference below is the jansson code as it was. */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/rng.h"
#include "wire/telemetry.h"

/* ------------------------------------------------------------------ */
/* The reference: telemetry_decode as it was, on jansson               */
/* ------------------------------------------------------------------ */

static int ref_fail(const char **reason, const char *why)
{
	*reason = why;
	return -1;
}

static int ref_integer(json_t *root, const char *name, json_int_t min, json_int_t max,
		       json_int_t *out, const char **reason, const char *missing,
		       const char *wrong_type, const char *out_of_range)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL)
		return ref_fail(reason, missing);
	if (!json_is_integer(v))
		return ref_fail(reason, wrong_type);
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return ref_fail(reason, out_of_range);
	return 0;
}

static int ref_number(json_t *root, const char *name, double max, double *out,
		      const char **reason, const char *missing, const char *wrong_type,
		      const char *out_of_range)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL)
		return ref_fail(reason, missing);
	if (!json_is_number(v))
		return ref_fail(reason, wrong_type);
	*out = json_number_value(v);
	if (!(*out >= 0.0 && *out <= max))
		return ref_fail(reason, out_of_range);
	return 0;
}

static int ref_object(json_t *root, struct telemetry *t, const char **reason)
{
	json_t *event = json_object_get(root, "event");
	json_t *name = json_object_get(root, "name");
	json_t *ts = json_object_get(root, "deviceTimestamp");
	json_int_t v;

	if (!json_is_object(root))
		return ref_fail(reason, "record is not a JSON object");
	if (event == NULL)
		return ref_fail(reason, "missing field: event");
	if (!json_is_string(event))
		return ref_fail(reason, "event is not a string");
	if (strcmp(json_string_value(event), "update") == 0)
		t->final = false;
	else if (strcmp(json_string_value(event), "final") == 0)
		t->final = true;
	else
		return ref_fail(reason, "event is neither \"update\" nor \"final\"");
	if (ref_integer(root, "second", 1, TELEMETRY_SECOND_MAX, &v, reason,
			"missing field: second", "second is not an integer",
			"second is out of range") < 0)
		return -1;
	t->second = (int32_t)v;
	if (ref_integer(root, "raceId", 0, INT64_MAX, &v, reason, "missing field: raceId",
			"raceId is not an integer", "raceId is negative") < 0)
		return -1;
	t->race_id = v;
	if (ref_integer(root, "racerId", 0, INT64_MAX, &v, reason, "missing field: racerId",
			"racerId is not an integer", "racerId is negative") < 0)
		return -1;
	t->racer_id = v;
	if (ref_integer(root, "classId", 1, TELEMETRY_CLASS_COUNT, &v, reason,
			"missing field: classId", "classId is not an integer",
			"classId is not between 1 and 6") < 0)
		return -1;
	t->class_id = (int32_t)v;
	if (ref_number(root, "cadence", TELEMETRY_CADENCE_MAX, &t->cadence, reason,
		       "missing field: cadence", "cadence is not a number",
		       "cadence is out of range") < 0)
		return -1;
	if (ref_number(root, "resistance", TELEMETRY_RESISTANCE_MAX, &t->resistance, reason,
		       "missing field: resistance", "resistance is not a number",
		       "resistance is out of range") < 0)
		return -1;
	if (name == NULL)
		return ref_fail(reason, "missing field: name");
	if (!json_is_string(name))
		return ref_fail(reason, "name is not a string");
	if (json_string_length(name) > TELEMETRY_NAME_MAX)
		return ref_fail(reason, "name is longer than 64 bytes");
	if (memchr(json_string_value(name), '\0', json_string_length(name)))
		return ref_fail(reason, "name contains a NUL character");
	memcpy(t->name, json_string_value(name), json_string_length(name) + 1);
	t->device_ts = 0;
	if (ts != NULL) {
		if (!json_is_integer(ts))
			return ref_fail(reason, "deviceTimestamp is not an integer");
		t->device_ts = json_integer_value(ts);
	}
	t->output = telemetry_output(t->cadence, t->resistance);
	return 0;
}

static int ref_decode(const void *data, size_t len, struct telemetry *out, const char **reason)
{
	json_error_t error;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
	int rc;

	if (root == NULL)
		return ref_fail(reason, json_error_code(&error) == json_error_out_of_memory
						? "out of memory"
						: "record is not valid JSON");
	rc = ref_object(root, out, reason);
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Comparing                                                           */
/* ------------------------------------------------------------------ */

struct tally {
	unsigned accepted, refused;
};

static void show(const char *data, size_t len)
{
	fprintf(stderr, "input (%zu bytes): \"", len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '"' || c == '\\')
			fprintf(stderr, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fprintf(stderr, "\"\n");
}

static bool same_record(const struct telemetry *a, const struct telemetry *b)
{
	/* Bits, not ==: -0.0 and 0.0 must not pass for each other. */
	return a->final == b->final && a->device_ts == b->device_ts && a->second == b->second &&
	       a->race_id == b->race_id && a->racer_id == b->racer_id &&
	       a->class_id == b->class_id && memcmp(&a->cadence, &b->cadence, sizeof(double)) == 0 &&
	       memcmp(&a->resistance, &b->resistance, sizeof(double)) == 0 &&
	       a->output == b->output && strcmp(a->name, b->name) == 0;
}

/* Both decoders on one text; returns whether they accepted it. */
static bool compare(const char *data, size_t len, struct tally *tally)
{
	struct telemetry a, b;
	const char *ra = NULL, *rb = NULL;
	int x, y;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	x = telemetry_decode(data, len, &a, &ra);
	y = ref_decode(data, len, &b, &rb);
	if (x != y || (x < 0 && strcmp(ra, rb) != 0) || (x == 0 && !same_record(&a, &b))) {
		show(data, len);
		if (x == 0 && y == 0)
			fprintf(stderr, "cadence %.17g / %.17g, resistance %.17g / %.17g, "
					"name \"%s\" / \"%s\"\n",
				a.cadence, b.cadence, a.resistance, b.resistance, a.name, b.name);
		fail_msg("telemetry_decode %d (%s), jansson %d (%s)", x, x ? ra : "accepted", y,
			 y ? rb : "accepted");
	}
	if (tally)
		x == 0 ? tally->accepted++ : tally->refused++;
	return x == 0;
}

/* ------------------------------------------------------------------ */
/* Generating records                                                  */
/* ------------------------------------------------------------------ */

#define TEXT_MAX 16384

struct text {
	char buf[TEXT_MAX];
	size_t len;
};

static void add(struct text *t, const char *s, size_t n)
{
	if (t->len + n < TEXT_MAX) {
		memcpy(t->buf + t->len, s, n);
		t->len += n;
	}
}

static void adds(struct text *t, const char *s)
{
	add(t, s, strlen(s));
}

static void addf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void addf(struct text *t, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	add(t, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
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

/* Whitespace where JSON allows it, now and then. */
static void space(struct rng *r, struct text *t)
{
	static const char *const ws[] = { " ", "\n", "\t", "\r\n  ", "  " };

	if (chance(r, 10))
		adds(t, PICK(r, ws));
}

/* A string's contents, plain or with a character escaped as \u00XX. */
static void string_of(struct rng *r, struct text *t, const char *s)
{
	adds(t, "\"");
	for (; *s; s++) {
		if (chance(r, 5) && (unsigned char)*s < 0x80)
			addf(t, chance(r, 50) ? "\\u%04x" : "\\u%04X", (unsigned char)*s);
		else
			add(t, s, 1);
	}
	adds(t, "\"");
}

/* Pieces of names: plain, escaped, raw UTF-8, surrogate pairs. */
static void name_value(struct rng *r, struct text *t)
{
	static const char *const pieces[] = {
		"a", "Z", "Hayden", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
		"\\u00e9", "\\u00E9", "\\u20ac", "\\ud83d\\udeb2", "\\uD83D\\uDEB2", "\\u0041",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x9a\xb2", "\x7f", "'", "\\u007f", "\\u0001",
		"\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\\udbff\\udfff", "\\u0800", "\\u07ff",
	};
	unsigned n = (unsigned)rng_below(r, chance(r, 90) ? 12 : 40);

	adds(t, "\"");
	for (unsigned i = 0; i < n; i++)
		adds(t, PICK(r, pieces));
	adds(t, "\"");
}

static void digits(struct rng *r, struct text *t, unsigned n, bool first_nonzero)
{
	for (unsigned i = 0; i < n; i++) {
		char c = (char)('0' + rng_below(r, 10));
		if (i == 0 && first_nonzero && c == '0')
			c = '1';
		add(t, &c, 1);
	}
}

/* A number as JSON writes it: sign, integer part, fraction, exponent. */
static void number_value(struct rng *r, struct text *t, bool small)
{
	static const char *const special[] = {
		"81.0", "79", "0", "-0", "-0.0", "0.0", "250", "250.0", "100", "1e2", "1E2",
		"2.5e+1", "25e-1", "0.000000000000000000000000000001e31",
		"81.00000000000000000000000000000000000001", "7.9000000000000000000000000001e1",
		"81.099999999999999999999999999999999", "0.1", "0.30000000000000004",
		"99.99999999999999", "1.7976931348623157e308", "1e308", "1e309", "-1e309",
		"1.7976931348623158e308", "1.7976931348623159e308", "2e-400", "4.9e-324",
		"123456789012345678", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "18446744073709551616",
		"1e-7", "250.00000000000000000001", "0e0", "0E-0", "1.5e00000000000000000001",
	};

	if (chance(r, small ? 5 : 20)) {
		adds(t, PICK(r, special));
		return;
	}
	if (chance(r, small ? 5 : 30))
		adds(t, "-");
	if (chance(r, 20))
		adds(t, "0");
	else
		digits(r, t, 1 + (unsigned)rng_below(r, small ? 2 : 25), true);
	if (chance(r, 60)) {
		adds(t, ".");
		digits(r, t, 1 + (unsigned)rng_below(r, chance(r, 90) ? 4 : 40), false);
	}
	if (chance(r, small ? 5 : 15)) {
		adds(t, chance(r, 50) ? "e" : "E");
		if (chance(r, 60))
			adds(t, chance(r, 50) ? "-" : "+");
		digits(r, t, 1 + (unsigned)rng_below(r, small ? 1 : 3), false);
	}
}

static void any_value(struct rng *r, struct text *t, int depth);

/* An object or array for the unknown fields; its keys repeat now and then. */
static void container_value(struct rng *r, struct text *t, int depth)
{
	static const char *const keys[] = { "a", "b", "event", "name", "\\u0061", "x y", "" };
	bool object = chance(r, 50);
	unsigned n = (unsigned)rng_below(r, 4);

	adds(t, object ? "{" : "[");
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			adds(t, ",");
		space(r, t);
		if (object) {
			addf(t, "\"%s\"", PICK(r, keys));
			space(r, t);
			adds(t, ":");
			space(r, t);
		}
		any_value(r, t, depth + 1);
		space(r, t);
	}
	adds(t, object ? "}" : "]");
}

static void any_value(struct rng *r, struct text *t, int depth)
{
	static const char *const words[] = { "null", "true", "false" };

	switch (rng_below(r, depth < 4 ? 5 : 3)) {
	case 0:
		adds(t, PICK(r, words));
		break;
	case 1:
		number_value(r, t, false);
		break;
	case 2:
		name_value(r, t);
		break;
	default:
		container_value(r, t, depth);
		break;
	}
}

/* The value of a known field: usually right, sometimes not. */
static void field_value(struct rng *r, struct text *t, int field)
{
	static const char *const events[] = {
		"\"update\"", "\"final\"", "\"upd\\u0061te\"", "\"fin\\u0061l\"", "\"Update\"",
		"\"\"", "\"final\\u0000\"", "1", "null", "[\"update\"]",
	};

	if (chance(r, 1)) {
		any_value(r, t, 1);
		return;
	}
	switch (field) {
	case 0:
		adds(t, chance(r, 85) ? (chance(r, 70) ? "\"update\"" : "\"final\"") : PICK(r, events));
		break;
	case 1: /* deviceTimestamp */
		addf(t, "%" PRId64, (int64_t)rng_range(r, 0, INT64_MAX / 4));
		break;
	case 2: /* second */
		addf(t, "%" PRId64, rng_range(r, chance(r, 95) ? 1 : -2, chance(r, 95) ? 300 : 90000));
		break;
	case 3: /* raceId */
	case 5: /* racerId */
		addf(t, "%" PRId64, rng_range(r, chance(r, 95) ? 0 : -5, INT32_MAX));
		break;
	case 4:
		name_value(r, t);
		break;
	case 6: /* classId */
		addf(t, "%" PRId64, rng_range(r, chance(r, 95) ? 1 : -1, chance(r, 95) ? 6 : 8));
		break;
	default: /* cadence, resistance */
		number_value(r, t, chance(r, 80));
		break;
	}
}

static const char *const field_names[] = {
	"event", "deviceTimestamp", "second", "raceId", "name", "racerId", "classId", "cadence",
	"resistance",
};

#define FIELDS 9

/* A record with its fields in a random order, maybe some unknown ones. */
static void record(struct rng *r, struct text *t)
{
	int order[FIELDS + 4], n = 0;
	unsigned unknown = chance(r, 70) ? 0 : 1 + (unsigned)rng_below(r, chance(r, 90) ? 3 : 30);

	for (int i = 0; i < FIELDS; i++)
		if (i != 1 || chance(r, 80))
			order[n++] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)rng_below(r, (uint64_t)i + 1), k = order[i];
		order[i] = order[j];
		order[j] = k;
	}
	t->len = 0;
	space(r, t);
	adds(t, "{");
	for (int i = 0; i < n + (int)unknown; i++) {
		if (i > 0)
			adds(t, ",");
		space(r, t);
		if (i < n) {
			string_of(r, t, field_names[order[i]]);
		} else {
			addf(t, "\"extra%u\"", chance(r, 95) ? (unsigned)i : 0u);
		}
		space(r, t);
		adds(t, ":");
		space(r, t);
		if (i < n)
			field_value(r, t, order[i]);
		else
			any_value(r, t, 1);
		space(r, t);
	}
	adds(t, "}");
	space(r, t);
}

/* Bytes that matter to a JSON parser, to insert and flip to. */
static const char interesting[] = "{}[],:\"\\u0123456789-+.eE \t\n\r/ntfalsebx"
				  "\x00\x7f\x80\xbf\xc0\xc1\xc3\xe0\xed\xef\xf0\xf4\xf5\xff";

static char random_byte(struct rng *r)
{
	if (chance(r, 80))
		return interesting[rng_below(r, sizeof(interesting) - 1)];
	return (char)rng_below(r, 256);
}

static void mutate(struct rng *r, struct text *t)
{
	unsigned ops = 1 + (unsigned)rng_below(r, 3);

	for (unsigned k = 0; k < ops && t->len > 0; k++) {
		size_t at = (size_t)rng_below(r, t->len), n;

		switch (rng_below(r, 5)) {
		case 0: /* delete a few bytes */
			n = 1 + (size_t)rng_below(r, 3);
			if (n > t->len - at)
				n = t->len - at;
			memmove(t->buf + at, t->buf + at + n, t->len - at - n);
			t->len -= n;
			break;
		case 1: /* insert one */
			if (t->len + 1 < TEXT_MAX) {
				memmove(t->buf + at + 1, t->buf + at, t->len - at);
				t->buf[at] = random_byte(r);
				t->len++;
			}
			break;
		case 2: /* change one */
			t->buf[at] = random_byte(r);
			break;
		case 3: { /* repeat a stretch (a member, sometimes) elsewhere */
			size_t from = (size_t)rng_below(r, t->len);
			char copy[64];
			n = 1 + (size_t)rng_below(r, sizeof(copy));
			if (n > t->len - from)
				n = t->len - from;
			memcpy(copy, t->buf + from, n);
			if (t->len + n < TEXT_MAX) {
				memmove(t->buf + at + n, t->buf + at, t->len - at);
				memcpy(t->buf + at, copy, n);
				t->len += n;
			}
			break;
		}
		default: /* cut short */
			t->len = at;
			break;
		}
	}
}

/* A member written twice, the second time with its key escaped or not. */
static void duplicate_member(struct rng *r, struct text *t)
{
	const char *name = field_names[rng_below(r, FIELDS)];
	char member[128], *brace;
	int n;

	if (chance(r, 50))
		n = snprintf(member, sizeof(member), "\"%s\":1,", name);
	else
		n = snprintf(member, sizeof(member), "\"\\u%04x%s\":1,", name[0], name + 1);
	brace = memchr(t->buf, '{', t->len);
	if (brace && t->len + (size_t)n < TEXT_MAX) {
		size_t at = (size_t)(brace - t->buf) + 1;
		memmove(t->buf + at + n, t->buf + at, t->len - at);
		memcpy(t->buf + at, member, (size_t)n);
		t->len += (size_t)n;
	}
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

#define RECORDS 100000

/* TELEMETRY_DIFF_SEED=N runs other records than the usual ones. */
static uint64_t seed_or(uint64_t usual)
{
	const char *env = getenv("TELEMETRY_DIFF_SEED");

	return env && *env ? rng_hash2(strtoull(env, NULL, 10), usual) : usual;
}

static void test_generated_records(void **state)
{
	struct rng r;
	struct text *t = malloc(sizeof(*t));
	struct tally tally = { 0 };

	assert_non_null(t);
	rng_seed(&r, seed_or(20260401));
	for (int i = 0; i < RECORDS; i++) {
		record(&r, t);
		compare(t->buf, t->len, &tally);
	}
	print_message("generated: %u accepted, %u refused\n", tally.accepted, tally.refused);
	/* The generator must make mostly good records, and some bad ones. */
	assert_true(tally.accepted > RECORDS / 3);
	assert_true(tally.refused > RECORDS / 20);
	free(t);
}

static void test_mutated_records(void **state)
{
	struct rng r;
	struct text *t = malloc(sizeof(*t));
	struct tally tally = { 0 };

	assert_non_null(t);
	rng_seed(&r, seed_or(77));
	for (int i = 0; i < 3 * RECORDS; i++) {
		record(&r, t);
		if (chance(&r, 10))
			duplicate_member(&r, t);
		else
			mutate(&r, t);
		compare(t->buf, t->len, &tally);
	}
	print_message("mutated: %u accepted, %u refused\n", tally.accepted, tally.refused);
	assert_true(tally.accepted > RECORDS / 50);
	assert_true(tally.refused > RECORDS);
	free(t);
}

/* A good record with one more member, or with cadence replaced. */
static bool with_member(const char *member)
{
	static struct text t;

	t.len = 0;
	adds(&t, "{");
	adds(&t, member);
	adds(&t, *member ? "," : "");
	adds(&t, "\"event\":\"update\",\"second\":1,\"raceId\":1,\"racerId\":2,\"classId\":3,"
		 "\"cadence\":81,\"resistance\":79,\"name\":\"A\"}");
	assert_true(t.len < TEXT_MAX - 1);
	return compare(t.buf, t.len, NULL);
}

static bool with_cadence(const char *value)
{
	static struct text t;

	t.len = 0;
	adds(&t, "{\"event\":\"update\",\"second\":1,\"raceId\":1,\"racerId\":2,\"classId\":3,"
		 "\"cadence\":");
	adds(&t, value);
	adds(&t, ",\"resistance\":79,\"name\":\"A\"}");
	assert_true(t.len < TEXT_MAX - 1);
	return compare(t.buf, t.len, NULL);
}

static void test_numbers(void **state)
{
	char big[2100];

	assert_true(with_cadence("81"));
	assert_true(with_cadence("-0"));
	assert_true(with_cadence("-0.0"));
	assert_true(with_cadence("0.1e1"));
	assert_false(with_cadence("01"));
	assert_false(with_cadence("+1"));
	assert_false(with_cadence(".5"));
	assert_false(with_cadence("1."));
	assert_false(with_cadence("1e"));
	assert_false(with_cadence("1e+"));
	assert_false(with_cadence("NaN"));
	assert_false(with_cadence("Infinity"));
	assert_false(with_cadence("-Infinity"));
	assert_false(with_cadence("0x10"));
	assert_false(with_cadence("1_000"));
	/* Halfway cases and long mantissas must round as strtod rounds them. */
	with_cadence("81.00000000000000710542735760100185871124267578125");
	with_cadence("81.000000000000007105427357601001858711242675781250000000001");
	with_cadence("81.000000000000007105427357601001858711242675781249999999999");
	with_cadence("2.2250738585072011e-308");
	with_cadence("2.2250738585072012e-308");
	with_cadence("0.0000000000000000000000000000000000000000000000000000000000000001e64");
	/* A 2,000-digit number: the bounded copy keeps the rounding. */
	memset(big, '0', sizeof(big));
	memcpy(big, "80.", 3);
	memcpy(big + 20, "71054273576010018587112426757812500000000000000000000001", 56);
	big[sizeof(big) - 1] = '\0';
	with_cadence(big);
	big[2000] = '1';
	with_cadence(big);
	/* Overflow anywhere in the text makes it invalid JSON; underflow does not. */
	assert_false(with_member("\"x\":1e309"));
	assert_false(with_member("\"x\":-1.8e308"));
	assert_false(with_member("\"x\":[1.7976931348623159e308]"));
	assert_true(with_member("\"x\":1.7976931348623157e308"));
	assert_true(with_member("\"x\":1.7976931348623158e308"));
	assert_true(with_member("\"x\":1e-400"));
	assert_true(with_member("\"x\":0e99999999999999999999"));
	assert_false(with_member("\"x\":1e99999999999999999999"));
	assert_true(with_member("\"x\":9223372036854775807"));
	assert_true(with_member("\"x\":-9223372036854775808"));
	assert_false(with_member("\"x\":9223372036854775808"));
	assert_false(with_member("\"x\":-9223372036854775809"));
	assert_false(with_member("\"x\":12345678901234567890123"));
	assert_true(with_member("\"x\":12345678901234567890123.0"));
	assert_false(with_member("\"x\":-"));
	assert_false(with_member("\"x\":-a"));
}

static void test_strings(void **state)
{
	assert_true(with_member("\"x\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\udeb2\""));
	assert_true(with_member("\"\\u00e9\\n\":\"\\u0041\""));
	assert_false(with_member("\"x\":\"\\u0000\""));
	assert_false(with_member("\"x\\u0000\":1"));
	assert_false(with_member("\"x\":\"\\ud83d\""));
	assert_false(with_member("\"x\":\"\\udeb2\""));
	assert_false(with_member("\"x\":\"\\ud83d\\u0041\""));
	assert_false(with_member("\"x\":\"\\ud83d\\n\""));
	assert_false(with_member("\"x\":\"\\u12\""));
	assert_false(with_member("\"x\":\"\\x41\""));
	assert_false(with_member("\"x\":\"\\'\""));
	assert_false(with_member("\"x\":\"a\tb\""));
	assert_true(with_member("\"x\":\"a\x7f" "b\""));
	/* Invalid UTF-8 anywhere: overlong, surrogate, beyond U+10FFFF, cut. */
	assert_false(with_member("\"x\":\"\xc0\xaf\""));
	assert_false(with_member("\"x\":\"\xe0\x80\xaf\""));
	assert_false(with_member("\"x\":\"\xed\xa0\x80\""));
	assert_false(with_member("\"x\":\"\xf4\x90\x80\x80\""));
	assert_false(with_member("\"x\":\"\xf5\x80\x80\x80\""));
	assert_false(with_member("\"x\":\"\xc3\""));
	assert_false(with_member("\"x\":\"\x80\""));
	assert_false(with_member("\"x\xff\":1"));
	assert_true(with_member("\"x\":\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\xe0\xa0\x80\xc2\x80\""));
	/* Each kind of special byte at each place of a long string: the
	 * scanner skips plain bytes eight at a time. */
	for (int at = 0; at < 24; at++) {
		static const struct {
			const char *text;
			bool ok;
		} specials[] = {
			{ "\\\"", true }, { "\\n", true }, { "\xc3\xa9", true }, { "\x7f", true },
			{ " ", true }, { "\t", false }, { "\x01", false }, { "\x1f", false },
			{ "\x80", false }, { "\"", false }, { "\\", false },
		};
		for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
			char member[128];

			snprintf(member, sizeof(member), "\"x\":\"%.*s%s%.*s\"", at,
				 "abcdefghijklmnopqrstuvwxyz", specials[k].text, 24 - at,
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
			assert_int_equal(with_member(member), specials[k].ok);
		}
	}
	/* Names: decoded before their length counts. */
	with_member("\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
		    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
		    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
		    "\\u00e9\"");
}

static void test_keys(void **state)
{
	char buf[8192], *p = buf;

	/* Escaped keys are the same keys. */
	assert_false(with_member("\"\\u0073econd\":2"));
	assert_false(with_member("\"x\":1,\"\\u0078\":2"));
	assert_true(with_member("\"x\":1,\"\\u0079\":2"));
	/* Duplicates inside unknown fields, however deep. */
	assert_false(with_member("\"x\":{\"a\":1,\"a\":2}"));
	assert_false(with_member("\"x\":[{\"b\":[{\"a\":1,\"\\u0061\":2}]}]"));
	assert_true(with_member("\"x\":[{\"a\":1},{\"a\":2}]"));
	assert_true(with_member("\"x\":{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}"));
	/* Enough unknown keys for the table to leave its inline slots. */
	p += sprintf(p, "\"x\":{");
	for (int i = 0; i < 200; i++)
		p += sprintf(p, "%s\"k%d\":%d", i ? "," : "", i, i);
	sprintf(p, "}");
	assert_true(with_member(buf));
	sprintf(p, ",\"k7\":1}");
	assert_false(with_member(buf));
	p = buf;
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "\"u%d\":{\"a\":%d,\"b\":[]},", i, i);
	sprintf(p, "\"u0\":2");
	assert_false(with_member(buf));
	p[0] = '\0';
	p[-1] = '\0';
	assert_true(with_member(buf));
}

/* The depth jansson allows: 2048 values, the record itself the first. */
static void test_depth(void **state)
{
	static char buf[16384];

	for (int depth = 2045; depth <= 2050; depth++) {
		char *p = buf;
		int arrays = depth - 2;       /* the record, "x", then the arrays' contents */

		p += sprintf(p, "\"x\":");
		for (int i = 0; i < arrays; i++)
			*p++ = '[';
		*p++ = '1';
		for (int i = 0; i < arrays; i++)
			*p++ = ']';
		*p = '\0';
		assert_int_equal(with_member(buf), depth <= 2048);
	}
	assert_true(with_member("\"x\":[[[[{\"a\":[[{}]]}]]]]"));
	assert_false(with_member("\"x\":[[[[{\"a\":[[{}]]}]]]"));
	assert_false(with_member("\"x\":[[[[{\"a\":[[{}]]]]]]]"));
}

static void test_structure(void **state)
{
	static const char *const texts[] = {
		"", " ", "{", "}", "{}", "[]", "[", "null", "nul", "nulll", "true", "tru", "-",
		"\"x\"", "1", "1 2", "{} {}", "{}x", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
		"{,\"a\":1}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "[1,]", "[,1]", "[1 2]",
		"{\"a\":[}", "{\"a\":{]}", "\xef\xbb\xbf{}", "{\"a\":1}\x00", "\x00{}", "{'a':1}",
		"{\"a\":truefalse}", "{\"a\":true1}", "{\"a\":1true}", "{\"a\":\"x\"\"y\"}",
		"\f{}", "\v{}", "{}\f", "[1]", "{\"a\":01}", "{\"a\":-01}", "{\"a\":1.5e}",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		compare(texts[i], strlen(texts[i]), NULL);
	compare("{}\0", 3, NULL);
	compare("{\"a\":\"\0\"}", 9, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_generated_records),
		cmocka_unit_test(test_mutated_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
