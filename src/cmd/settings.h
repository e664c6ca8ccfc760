/* Settings: the options a command reads from the command line, the
 * environment and the config file, in that order of precedence.
 *
 * The config file ($XDG_CONFIG_HOME/alleycat/config, or ALLEYCAT_CONFIG)
 * holds "option = value" lines with the long option names; lines before
 * any [section] apply to every command that has the option, lines under
 * [COMMAND] to that command only. The environment gives ALLEYCAT_OPTION
 * (upper case, '-' as '_'), e.g. ALLEYCAT_ENDPOINT. Both become arguments
 * placed before the command line's, so getopt meets them first and the
 * command line has the last word.
 *
 * Each value remembers where it came from, so that a command that rejects
 * it names the variable or the file and line rather than an option the
 * user never typed. A key of the file that no command knows (a typo such
 * as "formt") is warned about, with the nearest known key. */
#ifndef ALLEYCAT_SETTINGS_H
#define ALLEYCAT_SETTINGS_H

#include <getopt.h>
#include <stddef.h>

/* Where one value came from: "ALLEYCAT_SPEED" or "FILE:LINE: speed". */
struct settings_origin {
	const char *value;      /* borrowed: one of argv's strings */
	char *origin;           /* owned */
};

struct settings_args {
	int argc;
	char **argv;
	struct settings_origin *origins;
	int n_origins;
};

/* Builds the arguments for a command with these long options. Returns 0,
 * or -1 with a message in err (naming the file and line) when the config
 * file is unreadable or malformed. */
int settings_args(const char *command, const struct option *options, int argc, char **argv,
		  struct settings_args *out, char *err, size_t errlen);

void settings_args_free(struct settings_args *args);

/* Where the argument `value` (a pointer into args->argv, as getopt's optarg
 * is) came from, or NULL when it came from the command line. Borrowed:
 * valid until settings_args_free. */
const char *settings_origin(const struct settings_args *args, const char *value);

#endif
