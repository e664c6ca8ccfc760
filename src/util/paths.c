#include "config.h"
#include "util/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void xdg_dir(const char *variable, const char *fallback, const char *file, char *out,
		    size_t size)
{
	const char *base = getenv(variable), *home = getenv("HOME");

	if (base && base[0] == '/')
		snprintf(out, size, "%s/alleycat/%s", base, file);
	else
		snprintf(out, size, "%s/%s/alleycat/%s", home && *home ? home : ".", fallback, file);
}

void paths_history_db(char *out, size_t size)
{
	xdg_dir("XDG_DATA_HOME", ".local/share", "history.db", out, size);
}

void paths_config_file(char *out, size_t size)
{
	xdg_dir("XDG_CONFIG_HOME", ".config", "config", out, size);
}

void paths_consumer_name(const char *command, char *out, size_t size)
{
	char host[64] = "";

	gethostname(host, sizeof(host) - 1);
	/* Consumer names allow [a-zA-Z0-9_.-]: anything else in a host name
	 * becomes '-'. */
	for (char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			*p = '-';
	snprintf(out, size, "%s-%s", command, host[0] ? host : "localhost");
}
