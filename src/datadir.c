#include "config.h"
#include "datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *datadir_find(const char *file)
{
	const char *candidates[] = { getenv("ALLEYCAT_SHARE_DIR"), ALLEYCAT_DATADIR,
				     ALLEYCAT_SRCDATADIR };
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
