#include "config.h"
#include "cmd/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/nearest.h"

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

void cli_warning(const char *fmt, ...)
{
	char message[LOG_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	cli_error("%s", message);
	log_keep(LOG_WARN, message);
}

static void print_try_help(const char *command)
{
	if (command)
		fprintf(stderr, "Try 'alleycat %s --help' for more information.\n", command);
	else
		fputs("Try 'alleycat --help' for more information.\n", stderr);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("alleycat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_try_help(command);
	return EXIT_USAGE;
}

int cli_bad_value(const char *command, const char *option, const char *value, const char *why,
		  ...)
{
	const char *origin = cli_value_origin(value);
	va_list ap;

	if (origin)
		fprintf(stderr, "alleycat: %s: '%s' ", origin, value);
	else
		fprintf(stderr, "alleycat: --%s: '%s' ", option, value);
	va_start(ap, why);
	vfprintf(stderr, why, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_try_help(command);
	return EXIT_USAGE;
}

/* The option that arg names: its whole name, or a prefix that only one
 * option starts with (getopt takes those too). */
static const struct option *named_option(const struct option *options, const char *name,
					 size_t len)
{
	const struct option *found = NULL;

	for (const struct option *o = options; o->name; o++) {
		if (strncmp(o->name, name, len) != 0)
			continue;
		if (o->name[len] == '\0')
			return o;
		if (found)
			return NULL;
		found = o;
	}
	return found;
}

/* Reports a prefix that several options start with (getopt takes only
 * one that a single option starts with), naming them. Returns whether it
 * was one. */
static bool report_ambiguous(const char *command, const struct option *options, const char *name,
			     size_t len)
{
	char list[512] = "";
	size_t used = 0;
	int n = 0;

	for (const struct option *o = options; o->name; o++) {
		if (len == 0 || strncmp(o->name, name, len) != 0)
			continue;
		used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0,
					 "%s--%s", n ? ", " : "", o->name);
		n++;
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	if (n < 2)
		return false;
	cli_usage_error(command, "'--%s' is ambiguous: %s", name, list);
	return true;
}

int cli_option_error(const char *command, const struct option *options, const char *arg)
{
	char name[NEAREST_WORD_MAX + 1];
	const char *eq;
	const struct option *o;
	struct nearest near;
	size_t len;

	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
		return cli_usage_error(command, "unknown option '%s'", arg);
	eq = strchr(arg + 2, '=');
	len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
	o = named_option(options, arg + 2, len);
	if (o && o->has_arg == required_argument && eq == NULL)
		return cli_usage_error(command, "--%s needs a value", o->name);
	if (o && o->has_arg == no_argument && eq)
		return cli_usage_error(command, "--%s takes no value", o->name);
	snprintf(name, sizeof(name), "%.*s", (int)len, arg + 2);
	if (o == NULL && report_ambiguous(command, options, name, len))
		return EXIT_USAGE;
	nearest_init(&near, name);
	for (o = options; o->name; o++)
		nearest_consider(&near, o->name);
	if (nearest_suggestion(&near))
		return cli_usage_error(command, "unknown option '--%s' (did you mean --%s?)", name,
				       nearest_suggestion(&near));
	return cli_usage_error(command, "unknown option '--%s'", name);
}

int cli_unknown_command(const char *name)
{
	struct nearest near;

	nearest_init(&near, name);
	for (const struct command *c = cli_commands; c->name; c++)
		nearest_consider(&near, c->name);
	if (nearest_suggestion(&near))
		return cli_usage_error(NULL, "unknown command '%s' (did you mean %s?)", name,
				       nearest_suggestion(&near));
	return cli_usage_error(NULL, "unknown command '%s'", name);
}

int cli_parse_long(const char *command, const char *option, const char *text, long long min,
		   long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end != '\0' || v < min || v > max) {
		if (max == LLONG_MAX)
			cli_bad_value(command, option, text, "is not a whole number of %lld or more",
				      min);
		else
			cli_bad_value(command, option, text, "is not a whole number from %lld to %lld",
				      min, max);
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
		/* 15 significant digits: every limit written in the source
		 * prints as written, without an exponent. */
		cli_bad_value(command, option, text, "is not a number from %.15g to %.15g", min,
			      max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_set_log_level(const char *command, const char *text)
{
	int level = log_level_parse(text);

	if (level < 0)
		return cli_bad_value(command, "log-level", text, "is not error, warn, info or debug"),
		       -1;
	log_set_level((enum log_level)level);
	return 0;
}

void cli_print_version(FILE *out)
{
	fprintf(out, "alleycat %s\n", PACKAGE_VERSION);
}
