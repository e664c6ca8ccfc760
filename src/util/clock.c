#include "config.h"
#include "util/clock.h"

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
