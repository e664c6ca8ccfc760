/* Fuzz target: the telemetry decoder, on the bytes of one record.
 *
 * A record it accepts must hold what the protocol allows (fields in range,
 * a name of at most 64 bytes without NUL), and must survive
 * telemetry_encode and a second decode with the same fields; a record it
 * refuses must come with a reason. */
#include "config.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/telemetry.h"

static void check(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_telemetry: %s\n", what);
	abort();
}

static void check_fields(const struct telemetry *t)
{
	check(t->second >= 1 && t->second <= TELEMETRY_SECOND_MAX, "second out of range");
	check(t->race_id >= 0 && t->racer_id >= 0, "a negative id");
	check(t->class_id >= 1 && t->class_id <= TELEMETRY_CLASS_COUNT, "classId out of range");
	check(t->cadence >= 0 && t->cadence <= TELEMETRY_CADENCE_MAX, "cadence out of range");
	check(t->resistance >= 0 && t->resistance <= TELEMETRY_RESISTANCE_MAX,
	      "resistance out of range");
	check(memchr(t->name, '\0', sizeof(t->name)) != NULL, "name not terminated");
	check(t->output == telemetry_output(t->cadence, t->resistance), "output not computed");
}

static void round_trip(const struct telemetry *t)
{
	char text[1024];
	struct telemetry again;
	const char *reason = NULL;
	size_t n = telemetry_encode(t, text, sizeof(text));

	check(n > 0, "an accepted record does not encode");
	check(telemetry_decode(text, n, &again, &reason) == 0, "an encoded record does not decode");
	check(again.final == t->final && again.second == t->second &&
		      again.race_id == t->race_id && again.racer_id == t->racer_id &&
		      again.class_id == t->class_id && again.device_ts == t->device_ts &&
		      strcmp(again.name, t->name) == 0,
	      "a record changed through encode and decode");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct telemetry t;
	const char *reason = NULL;

	memset(&t, 0, sizeof(t));
	if (telemetry_decode(data, size, &t, &reason) < 0) {
		check(reason != NULL && reason[0] != '\0', "refused without a reason");
		return 0;
	}
	check_fields(&t);
	round_trip(&t);
	return 0;
}
