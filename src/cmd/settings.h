/* Settings: the options a command reads from the command line, the
 * environment and the config file, in that order of precedence.
 *
 * The config file ($XDG_CONFIG_HOME/alleycat/config, or ALLEYCAT_CONFIG)
 * holds "option = value" lines with the long option names; lines before
 * any [section] apply to every command that has the option, lines under
 * [COMMAND] to that command only. The environment gives ALLEYCAT_OPTION
 * (upper case, '-' as '_'), e.g. ALLEYCAT_ENDPOINT. Both become arguments
 * placed before the command line's, so getopt meets them first and the
 * command line has the last word. */
#ifndef ALLEYCAT_SETTINGS_H
#define ALLEYCAT_SETTINGS_H

#include <getopt.h>
#include <stddef.h>

struct settings_args {
	int argc;
	char **argv;
};

/* Builds the arguments for a command with these long options. Returns 0,
 * or -1 with a message in err (naming the file and line) when the config
 * file is unreadable or malformed. */
int settings_args(const char *command, const struct option *options, int argc, char **argv,
		  struct settings_args *out, char *err, size_t errlen);

void settings_args_free(struct settings_args *args);

#endif
