#include "config.h"
#include "numfmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define OUTPUT_SCALE 4                  /* outputs are kept in 1/10000 */
#define TENTHS_SCALE 1
#define SCALE_MAX 18                    /* 10^18 still fits in an int64 */

static uint64_t power_of_ten(int n)
{
	uint64_t p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

const char *numfmt_fixed(int64_t value, int scale, int decimals, char buf[NUMFMT_TEXT_MAX])
{
	/* The magnitude in unsigned arithmetic: -INT64_MIN does not fit. */
	uint64_t magnitude = value < 0 ? -(uint64_t)value : (uint64_t)value;
	uint64_t drop, unit, whole, frac;

	scale = scale < 0 ? 0 : scale > SCALE_MAX ? SCALE_MAX : scale;
	decimals = decimals < 0 ? 0 : decimals > scale ? scale : decimals;
	drop = power_of_ten(scale - decimals);
	/* Half up on the magnitude is half away from zero on the value; at
	 * most 2^63 + 5 * 10^17, which cannot wrap. */
	magnitude = (magnitude + drop / 2) / drop;
	unit = power_of_ten(decimals);
	whole = magnitude / unit;
	frac = magnitude % unit;
	if (decimals == 0)
		snprintf(buf, NUMFMT_TEXT_MAX, "%s%" PRIu64, value < 0 && magnitude ? "-" : "",
			 whole);
	else
		snprintf(buf, NUMFMT_TEXT_MAX, "%s%" PRIu64 ".%0*" PRIu64,
			 value < 0 && magnitude ? "-" : "", whole, decimals, frac);
	return buf;
}

const char *numfmt_output(int64_t output, char buf[NUMFMT_TEXT_MAX])
{
	return numfmt_fixed(output, OUTPUT_SCALE, NUMFMT_OUTPUT_DECIMALS, buf);
}

const char *numfmt_tenths(double value, char buf[NUMFMT_TEXT_MAX])
{
	/* Beyond 1e17 tenths llround has no integer to give. */
	if (!isfinite(value) || fabs(value) >= 1e16) {
		snprintf(buf, NUMFMT_TEXT_MAX, "?");
		return buf;
	}
	return numfmt_fixed(llround(value * 10.0), TENTHS_SCALE, NUMFMT_TENTHS_DECIMALS, buf);
}

const char *numfmt_gap(int rank, int64_t gap, const char *leader, char buf[NUMFMT_TEXT_MAX])
{
	char number[NUMFMT_TEXT_MAX];

	if (rank == 1) {
		snprintf(buf, NUMFMT_TEXT_MAX, "%s", leader);
		return buf;
	}
	/* A gap is never negative; if one were, its own sign says so. */
	snprintf(buf, NUMFMT_TEXT_MAX, "%s%s", gap < 0 ? "" : "+", numfmt_output(gap, number));
	return buf;
}
