#include "config.h"
#include "failalloc.h"

#include <errno.h>

static long countdown = -1;
static long calls;
static long failures;

void failalloc_after(long n)
{
	countdown = n < 0 ? -1 : n;
}

long failalloc_calls(void)
{
	return calls;
}

long failalloc_failures(void)
{
	return failures;
}

void failalloc_reset(void)
{
	countdown = -1;
	calls = 0;
	failures = 0;
}

void *__wrap_malloc(size_t size)
{
	calls++;
	if (countdown == 0) {
		countdown = -1;
		failures++;
		errno = ENOMEM;
		return NULL;
	}
	if (countdown > 0)
		countdown--;
	return __real_malloc(size);
}
