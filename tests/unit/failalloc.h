/* Allocation failure injection for unit tests.
 *
 * A test binary linked with -Wl,--wrap=malloc sends every malloc call made
 * by the objects in its link (our src/ code and the test itself, not shared
 * libraries) through __wrap_malloc, which counts the calls and can be told
 * to fail one of them. */
#ifndef ALLEYCAT_FAILALLOC_H
#define ALLEYCAT_FAILALLOC_H

#include <stddef.h>

/* Lets the next n malloc calls succeed and fails the one after them, once:
 * failalloc_after(0) fails the very next call, failalloc_after(1) the second.
 * n = -1 (any negative n) never fails. Calls after the failed one succeed. */
void failalloc_after(long n);

/* malloc calls seen since the last failalloc_reset(), failed ones included. */
long failalloc_calls(void);

/* malloc calls that were made to fail since the last failalloc_reset(). */
long failalloc_failures(void);

/* Zeroes both counters and stops failing (failalloc_after(-1)). */
void failalloc_reset(void);

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);

#endif
