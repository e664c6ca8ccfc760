#include "config.h"
#include "util/datadir.h"

#include <limits.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* data/ beside the running program's directory, worked out once: written
 * only under pthread_once, read-only after, so every thread may use it. */
static char beside_exe[PATH_MAX];
static pthread_once_t beside_exe_once = PTHREAD_ONCE_INIT;

static void find_beside_exe(void)
{
	char exe[PATH_MAX], data[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return;
	exe[n] = '\0';
	if (snprintf(data, sizeof(data), "%s/../data", dirname(exe)) >= (int)sizeof(data) ||
	    realpath(data, beside_exe) == NULL)
		beside_exe[0] = '\0';
}

/* The resolved data/ beside the program's directory; "" when there is none. */
static const char *datadir_beside_exe(void)
{
	pthread_once(&beside_exe_once, find_beside_exe);
	return beside_exe;
}

const char *datadir_find(const char *file)
{
	const char *candidates[] = { getenv("ALLEYCAT_SHARE_DIR"), ALLEYCAT_DATADIR,
				     datadir_beside_exe() };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		if (candidates[i] == NULL || candidates[i][0] == '\0')
			continue;
		snprintf(path, sizeof(path), "%s/%s", candidates[i], file);
		if (access(path, R_OK) == 0)
			return candidates[i];
	}
	return NULL;
}
