/* Clocks: wall time for what is shown, stored and compared with arrival
 * times; a monotonic clock for measuring how long something took. */
#ifndef ALLEYCAT_CLOCK_H
#define ALLEYCAT_CLOCK_H

#include <stdint.h>

/* Milliseconds since the epoch. */
int64_t clock_wall_ms(void);

/* Milliseconds (with a fraction) of a clock that never jumps. */
double clock_mono_ms(void);

#endif
