#include "config.h"
#include "util/clock.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

int64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int64_t clock_seconds_to_ms(double seconds)
{
	if (!(seconds > -1e15))
		return (int64_t)-1e18;
	if (seconds > 1e15)
		return (int64_t)1e18;
	return (int64_t)(seconds * 1000.0);
}

/* ---- clock_parse_time ---------------------------------------------- */

#define LAST_SECOND_9999 253402300799LL        /* 9999-12-31T23:59:59Z */

/* Exactly n digits at *p, as a number; -1 when they are not there. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

/* A fraction of a second after its '.': milliseconds, the rest cut off. */
static int fraction_ms(const char **p)
{
	int ms = 0, n = 0;

	if (**p != '.')
		return 0;
	(*p)++;
	for (; isdigit((unsigned char)**p); (*p)++, n++)
		if (n < 3)
			ms = ms * 10 + (**p - '0');
	if (n == 0)
		return -1;
	for (; n < 3; n++)
		ms *= 10;
	return ms;
}

static int64_t days_from_civil(int y, int m, int d)
{
	/* Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic
	 * Gregorian date, with no table and no time zone. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Z, +HH:MM, +HHMM or +HH (and the same with -): the offset east of UTC
 * in seconds; 1 when a zone was there, 0 when none, -1 when a bad one. */
static int zone(const char **p, int64_t *offset_s)
{
	int sign, hh, mm = 0;

	*offset_s = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return 1;
	}
	if (**p != '+' && **p != '-')
		return 0;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if ((hh = digits(p, 2)) < 0 || hh > 23)
		return -1;
	if (**p == ':')
		(*p)++;
	if (isdigit((unsigned char)**p) && ((mm = digits(p, 2)) < 0 || mm > 59))
		return -1;
	*offset_s = sign * (hh * 3600 + mm * 60);
	return 1;
}

/* The fields of an ISO 8601 date and time, checked but not yet placed. */
struct civil {
	int year, month, day, hour, minute, second, ms;
};

/* YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]]: 0, else -1. */
static int civil_parse(const char **p, struct civil *t)
{
	*t = (struct civil){ 0 };
	if ((t->year = digits(p, 4)) < 1970 || *(*p)++ != '-' || (t->month = digits(p, 2)) < 1 ||
	    t->month > 12 || *(*p)++ != '-' || (t->day = digits(p, 2)) < 1 ||
	    t->day > days_in_month(t->year, t->month))
		return -1;
	if (**p != 'T' && **p != 't' && **p != ' ')
		return 0;
	(*p)++;
	if ((t->hour = digits(p, 2)) < 0 || t->hour > 23 || *(*p)++ != ':' ||
	    (t->minute = digits(p, 2)) < 0 || t->minute > 59)
		return -1;
	if (**p != ':')
		return 0;
	(*p)++;
	if ((t->second = digits(p, 2)) < 0 || t->second > 59 || (t->ms = fraction_ms(p)) < 0)
		return -1;
	return 0;
}

/* Seconds since the epoch of a local time, as the system's zone has it. */
static int64_t local_seconds(const struct civil *t)
{
	struct tm tm = {
		.tm_year = t->year - 1900, .tm_mon = t->month - 1, .tm_mday = t->day,
		.tm_hour = t->hour, .tm_min = t->minute, .tm_sec = t->second, .tm_isdst = -1,
	};

	return (int64_t)mktime(&tm);
}

static int iso8601(const char *text, int64_t *ms)
{
	const char *p = text;
	struct civil t;
	int64_t offset_s, s;
	int has_zone;

	if (civil_parse(&p, &t) < 0 || (has_zone = zone(&p, &offset_s)) < 0 || *p != '\0')
		return -1;
	if (has_zone)
		s = days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 +
		    t.minute * 60 + t.second - offset_s;
	else
		s = local_seconds(&t);
	if (s < 0 || s > LAST_SECOND_9999)
		return -1;
	*ms = s * 1000 + t.ms;
	return 0;
}

static int epoch_seconds(const char *text, int64_t *ms)
{
	const char *p = text;
	int64_t s = 0;
	int frac;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		s = s * 10 + (*p - '0');
		if (s > LAST_SECOND_9999)
			return -1;
	}
	if ((frac = fraction_ms(&p)) < 0 || *p != '\0')
		return -1;
	*ms = s * 1000 + frac;
	return 0;
}

int clock_parse_time(const char *text, int64_t *ms)
{
	/* A date has a '-' after its four-digit year; epoch seconds never do. */
	if (strlen(text) > 4 && text[4] == '-')
		return iso8601(text, ms);
	return epoch_seconds(text, ms);
}
