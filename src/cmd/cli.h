/* The command line: the sub-command table and the conventions every command
 * shares (GNU long options, "alleycat: ..." errors, exit statuses). */
#ifndef ALLEYCAT_CLI_H
#define ALLEYCAT_CLI_H

#include <stdio.h>

enum {
	EXIT_OK = 0,
	EXIT_FAILURE_RUNTIME = 1,
	EXIT_USAGE = 2,
};

struct option;

struct command {
	const char *name;
	const char *summary;                  /* one line for `alleycat help` */
	int (*run)(int argc, char **argv);    /* argv[0] is the command name */
	void (*usage)(FILE *out);             /* the text of COMMAND --help */
	const struct option *options;         /* what settings may set, or NULL */
};

/* The commands of this build, ending with a zeroed entry. */
extern const struct command cli_commands[];

const struct command *cli_find(const char *name);

/* Prints "alleycat: MESSAGE" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "alleycat: MESSAGE" to stderr for a mistake the command goes on
 * despite, and keeps it for the dashboard's status line (log_keep): its
 * screen would hide it. */
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports bad usage of a command and returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Where a value that the running command was given came from:
 * "ALLEYCAT_SPEED", "FILE:LINE: speed", or NULL for the command line.
 * value is a pointer into the command's argv (as getopt's optarg is). main
 * owns the settings, so main implements this. */
const char *cli_value_origin(const char *value);

/* Reports a bad value of an option as bad usage: "--OPTION: 'VALUE' WHY",
 * where the variable or the file and line replace --OPTION when the value
 * came from there. Returns EXIT_USAGE. */
int cli_bad_value(const char *command, const char *option, const char *value, const char *why,
		  ...) __attribute__((format(printf, 4, 5)));

/* Reports what getopt did not take (arg: argv[optind - 1]): an option that
 * needs a value and has none, a switch given a value, or an unknown option
 * with the nearest one the command has. Returns EXIT_USAGE. */
int cli_option_error(const char *command, const struct option *options, const char *arg);

/* Reports an unknown command, with the nearest one. Returns EXIT_USAGE. */
int cli_unknown_command(const char *name);

/* Parses a whole decimal number in [min, max] for an option; on failure
 * reports it as bad usage of the command and returns -1. A max of
 * LLONG_MAX is no limit a person needs to read, so it is not printed. */
int cli_parse_long(const char *command, const char *option, const char *text, long long min,
		   long long max, long long *out);

/* Parses a decimal number (fractions allowed) in [min, max] for an
 * option; the range is printed as a person writes it (1000000, not 1e+06). */
int cli_parse_double(const char *command, const char *option, const char *text, double min,
		     double max, double *out);

/* Sets the log level from a --log-level value; reports a bad one as bad
 * usage and returns -1. */
int cli_set_log_level(const char *command, const char *text);

void cli_print_version(FILE *out);

#endif
