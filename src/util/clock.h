/* Clocks: wall time for what is shown, stored and compared with arrival
 * times; a monotonic clock for measuring how long something took. */
#ifndef ALLEYCAT_CLOCK_H
#define ALLEYCAT_CLOCK_H

#include <stdint.h>

/* Milliseconds since the epoch. */
int64_t clock_wall_ms(void);

/* Epoch seconds from a client as milliseconds, truncated. A double beyond
 * int64_t makes the conversion undefined, so far-off times are clamped
 * (+-1e15 s is 30 million years: nothing real is lost). */
int64_t clock_seconds_to_ms(double seconds);

/* A moment as people write it, as milliseconds since the epoch:
 *   - epoch seconds, with an optional fraction: 1796389200, 1796389200.5;
 *   - ISO 8601: 2026-12-04T13:00:00Z, 2026-12-04T14:00:00+01:00,
 *     2026-12-04T13:00:00.250Z, 2026-12-04 13:00 (a space for the T;
 *     seconds optional), 2026-12-04 (midnight). A time without Z or an
 *     offset is local time, as ISO 8601 and date(1) read it.
 * Years 1970 to 9999. -1 for anything else (a date that does not exist,
 * trailing text, epoch milliseconds, which would fall after 9999). */
int clock_parse_time(const char *text, int64_t *ms);

/* Milliseconds (with a fraction) of a clock that never jumps. */
double clock_mono_ms(void);

#endif
