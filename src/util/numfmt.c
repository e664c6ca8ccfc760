#include "config.h"
#include "util/numfmt.h"

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

/* numfmt_fixed, with `plus` in front of a number not shown below zero. */
static const char *signed_fixed(int64_t value, int scale, int decimals, const char *plus,
				char buf[NUMFMT_TEXT_MAX])
{
	/* The magnitude in unsigned arithmetic: -INT64_MIN does not fit. */
	uint64_t magnitude = value < 0 ? -(uint64_t)value : (uint64_t)value;
	uint64_t drop, unit, whole, frac;
	const char *sign;

	scale = scale < 0 ? 0 : scale > SCALE_MAX ? SCALE_MAX : scale;
	decimals = decimals < 0 ? 0 : decimals > scale ? scale : decimals;
	drop = power_of_ten(scale - decimals);
	/* Half up on the magnitude is half away from zero on the value; at
	 * most 2^63 + 5 * 10^17, which cannot wrap. */
	magnitude = (magnitude + drop / 2) / drop;
	unit = power_of_ten(decimals);
	whole = magnitude / unit;
	frac = magnitude % unit;
	sign = value < 0 && magnitude ? "-" : plus;
	if (decimals == 0)
		snprintf(buf, NUMFMT_TEXT_MAX, "%s%" PRIu64, sign, whole);
	else
		snprintf(buf, NUMFMT_TEXT_MAX, "%s%" PRIu64 ".%0*" PRIu64, sign, whole, decimals,
			 frac);
	return buf;
}

const char *numfmt_fixed(int64_t value, int scale, int decimals, char buf[NUMFMT_TEXT_MAX])
{
	return signed_fixed(value, scale, decimals, "", buf);
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

/* v (1/10000) as shown: in units of the last decimal shown, rounded half
 * away from zero as numfmt_fixed rounds. */
static int64_t shown(int64_t v)
{
	int64_t drop = (int64_t)power_of_ten(OUTPUT_SCALE - NUMFMT_OUTPUT_DECIMALS);
	int64_t q = v / drop, r = v % drop;     /* C division truncates toward zero */

	if (r >= (drop + 1) / 2)
		q++;
	else if (-r >= (drop + 1) / 2)
		q--;
	return q;
}

const char *numfmt_gap(int rank, int64_t score, int64_t gap, const char *leader,
		       char buf[NUMFMT_TEXT_MAX])
{
	int64_t best, diff;

	if (rank == 1) {
		snprintf(buf, NUMFMT_TEXT_MAX, "%s", leader);
		return buf;
	}
	/* Scores this far apart exist in no race; round the gap alone then. */
	if (__builtin_add_overflow(score, gap, &best))
		diff = shown(gap);
	else
		diff = shown(best) - shown(score);
	/* A gap is never negative; if one were, its own sign would say so. */
	return signed_fixed(diff, NUMFMT_OUTPUT_DECIMALS, NUMFMT_OUTPUT_DECIMALS, "+", buf);
}
