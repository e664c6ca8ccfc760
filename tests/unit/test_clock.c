/* Unit tests for clock_parse_time (src/util/clock.c): the moments people
 * give --from, as epoch seconds or ISO 8601, and what is refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/clock.h"

#define DEC_4_2026_13H 1796389200000LL /* 2026-12-04T13:00:00Z */

static int64_t parsed(const char *text)
{
	int64_t ms = -42;

	assert_int_equal(clock_parse_time(text, &ms), 0);
	return ms;
}

static void refused(const char *text)
{
	int64_t ms = -42;

	assert_int_equal(clock_parse_time(text, &ms), -1);
	assert_int_equal(ms, -42);
}

static void test_epoch_seconds(void **state __attribute__((unused)))
{
	assert_int_equal(parsed("1796389200"), DEC_4_2026_13H);
	assert_int_equal(parsed("1796389200.5"), DEC_4_2026_13H + 500);
	assert_int_equal(parsed("1796389200.1239"), DEC_4_2026_13H + 123);
	assert_int_equal(parsed("0"), 0);
	assert_int_equal(parsed("253402300799"), 253402300799000LL);
}

static void test_iso8601_in_utc(void **state __attribute__((unused)))
{
	assert_int_equal(parsed("2026-12-04T13:00:00Z"), DEC_4_2026_13H);
	assert_int_equal(parsed("2026-12-04t13:00:00z"), DEC_4_2026_13H);
	assert_int_equal(parsed("2026-12-04 13:00:00Z"), DEC_4_2026_13H);
	assert_int_equal(parsed("2026-12-04T13:00Z"), DEC_4_2026_13H);
	assert_int_equal(parsed("2026-12-04T13:00:00.250Z"), DEC_4_2026_13H + 250);
	assert_int_equal(parsed("2026-12-04T00:00:00Z"), DEC_4_2026_13H - 13 * 3600000LL);
	assert_int_equal(parsed("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parsed("2028-02-29T00:00:00Z"), 1835395200000LL);
	assert_int_equal(parsed("2000-03-01T00:00:00Z"), 951868800000LL);
}

static void test_iso8601_offsets(void **state __attribute__((unused)))
{
	assert_int_equal(parsed("2026-12-04T14:00:00+01:00"), DEC_4_2026_13H);
	assert_int_equal(parsed("2026-12-04T14:00:00+0100"), DEC_4_2026_13H);
	assert_int_equal(parsed("2026-12-04T14:00:00+01"), DEC_4_2026_13H);
	assert_int_equal(parsed("2026-12-04T07:30:00-05:30"), DEC_4_2026_13H);
	/* An offset that takes the moment over midnight into the next day. */
	assert_int_equal(parsed("2026-12-05T00:00:00+11:00"), DEC_4_2026_13H);
}

static void test_iso8601_local_time(void **state __attribute__((unused)))
{
	/* Without a zone, the time is the system zone's. */
	setenv("TZ", "UTC", 1);
	assert_int_equal(parsed("2026-12-04T13:00:00"), DEC_4_2026_13H);
	assert_int_equal(parsed("2026-12-04"), DEC_4_2026_13H - 13 * 3600000LL);
	setenv("TZ", "CET-1", 1);       /* an hour east of UTC, all year */
	assert_int_equal(parsed("2026-12-04T14:00:00"), DEC_4_2026_13H);
	assert_int_equal(parsed("2026-12-04 14:00"), DEC_4_2026_13H);
	unsetenv("TZ");
}

static void test_refused(void **state __attribute__((unused)))
{
	refused("");
	refused("now");
	refused("live");
	refused("-1");
	refused("1796389200.");
	refused("1796389200x");
	refused("1796389200000");       /* epoch milliseconds: after 9999 */
	refused("99999999999999999999999999");
	refused("2026-13-04T13:00:00Z");
	refused("2026-02-29T13:00:00Z");        /* not a leap year */
	refused("2026-04-31");
	refused("2026-12-04T24:00:00Z");
	refused("2026-12-04T13:60:00Z");
	refused("2026-12-04T13:00:61Z");
	refused("2026-12-04T13");
	refused("2026-12-04T13:00:00Zjunk");
	refused("2026-12-04T13:00:00+25:00");
	refused("2026-12-4");
	refused("1969-12-31T23:59:59Z");
	refused("26-12-04");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoch_seconds),
		cmocka_unit_test(test_iso8601_in_utc),
		cmocka_unit_test(test_iso8601_offsets),
		cmocka_unit_test(test_iso8601_local_time),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
