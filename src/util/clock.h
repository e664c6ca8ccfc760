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

/* Milliseconds (with a fraction) of a clock that never jumps. */
double clock_mono_ms(void);

#endif
