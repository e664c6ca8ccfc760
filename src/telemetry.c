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
