/* The telemetry record: what a bike says every second.
 *
 *   {"event":"update","deviceTimestamp":1620240672076,"second":1,"raceId":5400802,
 *    "name":"Hayden","racerId":100,"classId":3,"cadence":81.0,"resistance":79.0}
 *
 * Output (the racer's power) is kept as an integer in units of 1/10000, so
 * scores compare exactly and print with at most four decimals. */
#ifndef ALLEYCAT_TELEMETRY_H
#define ALLEYCAT_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TELEMETRY_NAME_MAX 64          /* bytes of UTF-8 */
#define TELEMETRY_CLASS_COUNT 6
#define TELEMETRY_SECOND_MAX 86400     /* a day: far above any race length */
#define TELEMETRY_CADENCE_MAX 250.0    /* rpm */
#define TELEMETRY_RESISTANCE_MAX 100.0 /* percent */
#define TELEMETRY_OUTPUT_TEXT_MAX 32

struct telemetry {
	bool final;                    /* event "final": the racer's last second */
	int64_t device_ts;             /* deviceTimestamp, 0 when absent */
	int32_t second;
	int64_t race_id;
	int64_t racer_id;
	int32_t class_id;
	double cadence;
	double resistance;
	int64_t output;                /* 1/10000 units */
	char name[TELEMETRY_NAME_MAX + 1];
};

/* Parses and validates one record. Returns 0, or -1 with *reason set to a
 * static text naming the first problem found (nothing is printed). */
int telemetry_decode(const void *data, size_t len, struct telemetry *out, const char **reason);

/* Writes the record as JSON, fields in the order the original bikes send them:
 *
 *   {"event":"update","deviceTimestamp":...,"second":...,"raceId":...,"name":"...",
 *    "racerId":...,"classId":...,"cadence":81.0,"resistance":79.0}
 *
 * event is "final" when t->final is set. Cadence and resistance are
 * rounded to one decimal and always printed with it, whatever the locale;
 * the name is escaped as JSON requires (quotes, backslash, control
 * characters as \u00XX) and must be valid UTF-8, as the roster and
 * telemetry_decode guarantee. The output field is not written: readers
 * compute it. Returns the length written, NUL not counted, or 0 (buf
 * holding an empty string when size > 0) when the record and its NUL do not
 * fit in size bytes or a number is not finite or beyond +-1e15. */
size_t telemetry_encode(const struct telemetry *t, char *buf, size_t size);

/* ((cadence + 35) * (resistance + 65)) / 100 in units of 1/10000, rounded
 * half up: the original Alleycat formula. */
int64_t telemetry_output(double cadence, double resistance);

/* Writes an output with at most four decimals and no trailing zeros
 * ("167.04", "150", "0.5"). */
void telemetry_format_output(int64_t output, char buf[TELEMETRY_OUTPUT_TEXT_MAX]);

#endif
