/* Numbers as a person reads them: one fixed number of decimals per kind of
 * number, so a right-aligned column lines up on the decimal point. The
 * dashboard and the text of `board` and `history` print through these;
 * JSON and CSV keep every decimal (telemetry_format_output).
 *
 * Everything is rendered from integers: printf's %f would print a double
 * such as 167.03999 and follow LC_NUMERIC (a dashboard that calls
 * setlocale could show "81,0"). */
#ifndef ALLEYCAT_NUMFMT_H
#define ALLEYCAT_NUMFMT_H

#include <stdint.h>

/* A sign, 20 digits, a point and 20 decimals: room for what printf
 * could write for any uint64 parts, so no format can be cut short. */
#define NUMFMT_TEXT_MAX 48

/* Scores, outputs and gaps (kept in 1/10000) are shown with two decimals:
 * watts to the hundredth are all a rider can tell apart. */
#define NUMFMT_OUTPUT_DECIMALS 2
/* Cadence and resistance arrive in tenths. */
#define NUMFMT_TENTHS_DECIMALS 1

/* Writes value, an integer in units of 10^-scale (scale 0..18), with
 * exactly `decimals` decimals (0..scale), rounded half away from zero.
 * A number that rounds to zero has no minus sign. Returns buf. */
const char *numfmt_fixed(int64_t value, int scale, int decimals, char buf[NUMFMT_TEXT_MAX]);

/* A score, output or gap in 1/10000, with NUMFMT_OUTPUT_DECIMALS. */
const char *numfmt_output(int64_t output, char buf[NUMFMT_TEXT_MAX]);

/* Cadence or resistance with NUMFMT_TENTHS_DECIMALS; "?" for a value no
 * bike could send (not finite, or too large for an integer). */
const char *numfmt_tenths(double value, char buf[NUMFMT_TEXT_MAX]);

/* The gap to the leader of a racer with this score (both in 1/10000):
 * `leader` (a dash) for rank 1, so the leader's row reads the same on
 * screen and in text; else "+" and the difference between the leader's
 * score and this one as both are shown, so that a reader who subtracts
 * the printed scores gets the printed gap (rounding the gap on its own
 * would miss by 0.01 about one time in two). */
const char *numfmt_gap(int rank, int64_t score, int64_t gap, const char *leader,
		       char buf[NUMFMT_TEXT_MAX]);

#endif
