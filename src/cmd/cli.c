#include "config.h"
#include "cmd/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

const struct command *cli_find(const char *name)
{
	for (const struct command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	/* Repeats of an earlier warning come before the error they led to. */
	log_flush();
	fputs("alleycat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("alleycat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (command)
		fprintf(stderr, "Try 'alleycat %s --help' for more information.\n", command);
	else
		fputs("Try 'alleycat --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

int cli_parse_long(const char *command, const char *option, const char *text, long long min,
		   long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end != '\0' || v < min || v > max) {
		cli_usage_error(command, "--%s: '%s' is not a whole number from %lld to %lld",
				option, text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_double(const char *command, const char *option, const char *text, double min,
		     double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end != '\0' || !isfinite(v) || v < min || v > max) {
		cli_usage_error(command, "--%s: '%s' is not a number from %g to %g", option,
				text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

void cli_print_version(FILE *out)
{
	fprintf(out, "alleycat %s\n", PACKAGE_VERSION);
}
