#include "config.h"
#include "telemetry.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* Reads a JSON integer field in [min, max]; -1 with a reason otherwise. */
static int integer_field(json_t *root, const char *name, json_int_t min, json_int_t max,
			 json_int_t *out, const char **reason, const char *missing,
			 const char *wrong_type, const char *out_of_range)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL)
		return fail(reason, missing);
	if (!json_is_integer(v))
		return fail(reason, wrong_type);
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return fail(reason, out_of_range);
	return 0;
}

static int number_field(json_t *root, const char *name, double max, double *out,
			const char **reason, const char *missing, const char *wrong_type,
			const char *out_of_range)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL)
		return fail(reason, missing);
	if (!json_is_number(v))
		return fail(reason, wrong_type);
	*out = json_number_value(v);
	if (!(*out >= 0.0 && *out <= max))
		return fail(reason, out_of_range);
	return 0;
}

static int decode_object(json_t *root, struct telemetry *t, const char **reason)
{
	json_t *event = json_object_get(root, "event");
	json_t *name = json_object_get(root, "name");
	json_t *ts = json_object_get(root, "deviceTimestamp");
	json_int_t v;

	if (!json_is_object(root))
		return fail(reason, "record is not a JSON object");
	if (event == NULL)
		return fail(reason, "missing field: event");
	if (!json_is_string(event))
		return fail(reason, "event is not a string");
	if (strcmp(json_string_value(event), "update") == 0)
		t->final = false;
	else if (strcmp(json_string_value(event), "final") == 0)
		t->final = true;
	else
		return fail(reason, "event is neither \"update\" nor \"final\"");

	if (integer_field(root, "second", 1, TELEMETRY_SECOND_MAX, &v, reason,
			  "missing field: second", "second is not an integer",
			  "second is out of range") < 0)
		return -1;
	t->second = (int32_t)v;
	if (integer_field(root, "raceId", 0, INT64_MAX, &v, reason, "missing field: raceId",
			  "raceId is not an integer", "raceId is negative") < 0)
		return -1;
	t->race_id = v;
	if (integer_field(root, "racerId", 0, INT64_MAX, &v, reason, "missing field: racerId",
			  "racerId is not an integer", "racerId is negative") < 0)
		return -1;
	t->racer_id = v;
	if (integer_field(root, "classId", 1, TELEMETRY_CLASS_COUNT, &v, reason,
			  "missing field: classId", "classId is not an integer",
			  "classId is not between 1 and 6") < 0)
		return -1;
	t->class_id = (int32_t)v;
	if (number_field(root, "cadence", TELEMETRY_CADENCE_MAX, &t->cadence, reason,
			 "missing field: cadence", "cadence is not a number",
			 "cadence is out of range") < 0)
		return -1;
	if (number_field(root, "resistance", TELEMETRY_RESISTANCE_MAX, &t->resistance, reason,
			 "missing field: resistance", "resistance is not a number",
			 "resistance is out of range") < 0)
		return -1;

	if (name == NULL)
		return fail(reason, "missing field: name");
	if (!json_is_string(name))
		return fail(reason, "name is not a string");
	if (json_string_length(name) > TELEMETRY_NAME_MAX)
		return fail(reason, "name is longer than 64 bytes");
	if (memchr(json_string_value(name), '\0', json_string_length(name)))
		return fail(reason, "name contains a NUL character");
	memcpy(t->name, json_string_value(name), json_string_length(name) + 1);

	t->device_ts = 0;
	if (ts != NULL) {
		if (!json_is_integer(ts))
			return fail(reason, "deviceTimestamp is not an integer");
		t->device_ts = json_integer_value(ts);
	}
	t->output = telemetry_output(t->cadence, t->resistance);
	return 0;
}

int telemetry_decode(const void *data, size_t len, struct telemetry *out, const char **reason)
{
	json_error_t error;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
	int rc;

	if (root == NULL)
		return fail(reason, json_error_code(&error) == json_error_out_of_memory
					    ? "out of memory"
					    : "record is not valid JSON");
	rc = decode_object(root, out, reason);
	json_decref(root);
	return rc;
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
