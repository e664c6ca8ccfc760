#include "config.h"
#include "wire/telemetry.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/jsonscan.h"

int64_t telemetry_output(double cadence, double resistance)
{
	return llround(100.0 * (cadence + 35.0) * (resistance + 65.0));
}

void telemetry_format_output(int64_t output, char buf[TELEMETRY_OUTPUT_TEXT_MAX])
{
	const char *sign = output < 0 ? "-" : "";
	uint64_t magnitude = output < 0 ? -(uint64_t)output : (uint64_t)output;
	uint64_t whole = magnitude / 10000, frac = magnitude % 10000;
	int decimals = 4;

	if (frac == 0) {
		snprintf(buf, TELEMETRY_OUTPUT_TEXT_MAX, "%s%" PRIu64, sign, whole);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		decimals--;
	}
	snprintf(buf, TELEMETRY_OUTPUT_TEXT_MAX, "%s%" PRIu64 ".%0*" PRIu64, sign, whole,
		 decimals, frac);
}

static int fail(const char **reason, const char *why)
{
	*reason = why;
	return -1;
}

/* The fields of a record, in the order the bikes send them. */
enum field {
	F_EVENT, F_TIMESTAMP, F_SECOND, F_RACE, F_NAME, F_RACER, F_CLASS, F_CADENCE,
	F_RESISTANCE, F_COUNT
};

static const struct {
	const char *name;
	size_t len;
} fields[F_COUNT] = {
	[F_EVENT] = { "event", 5 },
	[F_TIMESTAMP] = { "deviceTimestamp", 15 },
	[F_SECOND] = { "second", 6 },
	[F_RACE] = { "raceId", 6 },
	[F_NAME] = { "name", 4 },
	[F_RACER] = { "racerId", 7 },
	[F_CLASS] = { "classId", 7 },
	[F_CADENCE] = { "cadence", 7 },
	[F_RESISTANCE] = { "resistance", 10 },
};

/* The field a key names (escapes decoded, as JSON compares keys), or -1.
 * `hint` is where to look first: the field after the previous one. */
static int field_of(const struct js_token *key, int hint)
{
	char buf[16];
	const char *name = key->text;
	size_t len = key->len;

	if (key->escaped) {
		len = jsonscan_unescape(key, buf, sizeof(buf));
		if (len > sizeof(buf))
			return -1;
		name = buf;
	}
	for (int i = 0; i < F_COUNT; i++) {
		int f = (hint + i) % F_COUNT;
		if (fields[f].len == len && memcmp(fields[f].name, name, len) == 0)
			return f;
	}
	return -1;
}

/* One pass over the text: the value of each field we know (JS_NONE when
 * absent, containers skipped), everything validated as jansson would.
 * Returns 0, 1 when the text is JSON but not an object, or -1. */
static int scan_record(struct jsonscan *s, struct js_token v[F_COUNT])
{
	struct js_token root, key, other, *t;
	unsigned seen = 0;
	int rc, f = -1;

	if (jsonscan_value(s, &root) < 0)
		return -1;
	if (root.type != JS_OBJECT)
		return jsonscan_skip(s, &root) < 0 || jsonscan_end(s) < 0 ? -1 : 1;
	while ((rc = jsonscan_member(s, &key)) > 0) {
		f = field_of(&key, f + 1);
		if (f < 0) {
			/* Unknown fields may not repeat either. */
			if (jsonscan_duplicate(s, &key) < 0)
				return -1;
			t = &other;
		} else if (seen & 1u << f) {
			return -1;
		} else {
			seen |= 1u << f;
			t = &v[f];
		}
		if (jsonscan_value(s, t) < 0 || jsonscan_skip(s, t) < 0)
			return -1;
	}
	return rc < 0 || jsonscan_end(s) < 0 ? -1 : 0;
}

/* Reads a JSON integer field in [min, max]; -1 with a reason otherwise. */
static int integer_field(const struct js_token *v, int64_t min, int64_t max, int64_t *out,
			 const char **reason, const char *missing, const char *wrong_type,
			 const char *out_of_range)
{
	if (v->type == JS_NONE)
		return fail(reason, missing);
	if (v->type != JS_INTEGER)
		return fail(reason, wrong_type);
	*out = jsonscan_int(v);
	if (*out < min || *out > max)
		return fail(reason, out_of_range);
	return 0;
}

static int number_field(const struct js_token *v, double max, double *out, const char **reason,
			const char *missing, const char *wrong_type, const char *out_of_range)
{
	if (v->type == JS_NONE)
		return fail(reason, missing);
	if (v->type != JS_INTEGER && v->type != JS_REAL)
		return fail(reason, wrong_type);
	*out = jsonscan_double(v);
	if (!(*out >= 0.0 && *out <= max))
		return fail(reason, out_of_range);
	return 0;
}

static int event_field(const struct js_token *v, struct telemetry *t, const char **reason)
{
	char text[8];
	size_t n;

	if (v->type == JS_NONE)
		return fail(reason, "missing field: event");
	if (v->type != JS_STRING)
		return fail(reason, "event is not a string");
	n = jsonscan_unescape(v, text, sizeof(text));
	if (n == 6 && memcmp(text, "update", 6) == 0)
		t->final = false;
	else if (n == 5 && memcmp(text, "final", 5) == 0)
		t->final = true;
	else
		return fail(reason, "event is neither \"update\" nor \"final\"");
	return 0;
}

static int name_field(const struct js_token *v, struct telemetry *t, const char **reason)
{
	size_t n;

	if (v->type == JS_NONE)
		return fail(reason, "missing field: name");
	if (v->type != JS_STRING)
		return fail(reason, "name is not a string");
	n = jsonscan_unescape(v, t->name, TELEMETRY_NAME_MAX);
	if (n > TELEMETRY_NAME_MAX)
		return fail(reason, "name is longer than 64 bytes");
	if (memchr(t->name, '\0', n))
		return fail(reason, "name contains a NUL character");
	t->name[n] = '\0';
	return 0;
}

/* The checks in the order (and with the reasons) records always had. */
static int decode_fields(const struct js_token *v, struct telemetry *t, const char **reason)
{
	int64_t n;

	if (event_field(&v[F_EVENT], t, reason) < 0)
		return -1;
	if (integer_field(&v[F_SECOND], 1, TELEMETRY_SECOND_MAX, &n, reason,
			  "missing field: second", "second is not an integer",
			  "second is out of range") < 0)
		return -1;
	t->second = (int32_t)n;
	if (integer_field(&v[F_RACE], 0, INT64_MAX, &t->race_id, reason, "missing field: raceId",
			  "raceId is not an integer", "raceId is negative") < 0)
		return -1;
	if (integer_field(&v[F_RACER], 0, INT64_MAX, &t->racer_id, reason,
			  "missing field: racerId", "racerId is not an integer",
			  "racerId is negative") < 0)
		return -1;
	if (integer_field(&v[F_CLASS], 1, TELEMETRY_CLASS_COUNT, &n, reason,
			  "missing field: classId", "classId is not an integer",
			  "classId is not between 1 and 6") < 0)
		return -1;
	t->class_id = (int32_t)n;
	if (number_field(&v[F_CADENCE], TELEMETRY_CADENCE_MAX, &t->cadence, reason,
			 "missing field: cadence", "cadence is not a number",
			 "cadence is out of range") < 0)
		return -1;
	if (number_field(&v[F_RESISTANCE], TELEMETRY_RESISTANCE_MAX, &t->resistance, reason,
			 "missing field: resistance", "resistance is not a number",
			 "resistance is out of range") < 0)
		return -1;
	if (name_field(&v[F_NAME], t, reason) < 0)
		return -1;
	t->device_ts = 0;
	if (v[F_TIMESTAMP].type != JS_NONE) {
		if (v[F_TIMESTAMP].type != JS_INTEGER)
			return fail(reason, "deviceTimestamp is not an integer");
		t->device_ts = jsonscan_int(&v[F_TIMESTAMP]);
	}
	t->output = telemetry_output(t->cadence, t->resistance);
	return 0;
}

/* One pass over the text with nothing allocated (jsonscan remembers keys
 * on the heap only for records with more than 16 unknown ones). */
int telemetry_decode(const void *data, size_t len, struct telemetry *out, const char **reason)
{
	struct jsonscan s;
	struct js_token v[F_COUNT];
	int rc;

	for (int i = 0; i < F_COUNT; i++)
		v[i].type = JS_NONE;
	jsonscan_init(&s, data, len, true);
	rc = scan_record(&s, v);
	jsonscan_free(&s);
	if (rc < 0)
		return fail(reason, s.out_of_memory ? "out of memory" : "record is not valid JSON");
	if (rc > 0)
		return fail(reason, "record is not a JSON object");
	return decode_fields(v, out, reason);
}

/* Room left while encoding; used stops growing once something did not fit. */
struct encoder {
	char *buf;
	size_t size, used;
	bool full;
};

static void encode_bytes(struct encoder *e, const char *s, size_t n)
{
	if (e->full || n >= e->size - e->used) {
		e->full = true;
		return;
	}
	memcpy(e->buf + e->used, s, n);
	e->used += n;
	e->buf[e->used] = '\0';
}

static void encode_text(struct encoder *e, const char *s)
{
	encode_bytes(e, s, strlen(s));
}

static void encode_int(struct encoder *e, const char *key, int64_t v)
{
	char num[32];

	encode_text(e, key);
	snprintf(num, sizeof(num), "%" PRId64, v);
	encode_text(e, num);
}

/* One decimal from integers: printf's %f would follow LC_NUMERIC, and a
 * dashboard that calls setlocale for UTF-8 would then send "81,0". */
static void encode_tenths(struct encoder *e, const char *key, double v)
{
	char num[32];
	long long tenths;
	unsigned long long mag;

	if (!isfinite(v) || fabs(v) > 1e15) {
		e->full = true;
		return;
	}
	tenths = llround(v * 10.0);
	mag = tenths < 0 ? -(unsigned long long)tenths : (unsigned long long)tenths;
	snprintf(num, sizeof(num), "%s%llu.%llu", tenths < 0 ? "-" : "", mag / 10, mag % 10);
	encode_text(e, key);
	encode_text(e, num);
}

static void encode_string(struct encoder *e, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	encode_bytes(e, "\"", 1);
	for (; *s && !e->full; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };

		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			encode_bytes(e, esc, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			encode_bytes(e, esc, 6);
		} else {
			encode_bytes(e, s, 1);
		}
	}
	encode_bytes(e, "\"", 1);
}

size_t telemetry_encode(const struct telemetry *t, char *buf, size_t size)
{
	struct encoder e = { .buf = buf, .size = size, .full = size == 0 };

	if (size > 0)
		buf[0] = '\0';
	encode_text(&e, t->final ? "{\"event\":\"final\"" : "{\"event\":\"update\"");
	encode_int(&e, ",\"deviceTimestamp\":", t->device_ts);
	encode_int(&e, ",\"second\":", t->second);
	encode_int(&e, ",\"raceId\":", t->race_id);
	encode_text(&e, ",\"name\":");
	encode_string(&e, t->name);
	encode_int(&e, ",\"racerId\":", t->racer_id);
	encode_int(&e, ",\"classId\":", t->class_id);
	encode_tenths(&e, ",\"cadence\":", t->cadence);
	encode_tenths(&e, ",\"resistance\":", t->resistance);
	encode_text(&e, "}");
	if (e.full) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	return e.used;
}
