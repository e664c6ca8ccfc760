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

/* Reports bad usage of a command and returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses a whole decimal number in [min, max] for an option; on failure
 * reports it as bad usage of the command and returns -1. */
int cli_parse_long(const char *command, const char *option, const char *text, long long min,
		   long long max, long long *out);

/* Parses a non-negative decimal number (fractions allowed) for an option. */
int cli_parse_double(const char *command, const char *option, const char *text, double min,
		     double max, double *out);

void cli_print_version(FILE *out);

#endif
