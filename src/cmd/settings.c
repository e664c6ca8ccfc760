#include "config.h"
#include "cmd/settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/paths.h"
#include "util/strbuf.h"

#define LINE_MAX_LEN 4096

struct builder {
	char **argv;
	int argc, capacity;
	bool failed;
};

static void push(struct builder *b, const char *text)
{
	char *copy;

	if (b->failed)
		return;
	if (b->argc + 1 >= b->capacity) {
		int cap = b->capacity ? b->capacity * 2 : 16;
		char **grown = realloc(b->argv, (size_t)cap * sizeof(*grown));
		if (grown == NULL) {
			b->failed = true;
			return;
		}
		b->argv = grown;
		b->capacity = cap;
	}
	copy = strdup(text);
	if (copy == NULL) {
		b->failed = true;
		return;
	}
	b->argv[b->argc++] = copy;
	b->argv[b->argc] = NULL;
}

static const struct option *find(const struct option *options, const char *name)
{
	for (; options->name; options++)
		if (strcmp(options->name, name) == 0 && strcmp(name, "help") != 0)
			return options;
	return NULL;
}

static bool truthy(const char *v)
{
	return strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 ||
	       strcmp(v, "on") == 0;
}

static bool falsy(const char *v)
{
	return strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "0") == 0 ||
	       strcmp(v, "off") == 0;
}

/* Adds one setting as arguments: "--name value", or "--name" for a switch
 * that is on. Returns -1 with a message when a switch has a value that is
 * neither on nor off. */
static int add_setting(struct builder *b, const struct option *opt, const char *value,
		       char *err, size_t errlen)
{
	char flag[160];

	snprintf(flag, sizeof(flag), "--%s", opt->name);
	if (opt->has_arg == no_argument) {
		if (truthy(value))
			push(b, flag);
		else if (!falsy(value)) {
			snprintf(err, errlen, "%s takes true or false, not '%s'", opt->name, value);
			return -1;
		}
		return 0;
	}
	push(b, flag);
	push(b, value);
	return 0;
}

static int read_file(const char *path, const char *command, const struct option *options,
		     struct builder *b, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_LEN], why[256];
	bool mine = true;       /* lines before any section apply to every command */
	int number = 0;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = str_trim(line), *eq, *name, *value;
		const struct option *opt;

		number++;
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (close == NULL || close[1] != '\0') {
				snprintf(err, errlen, "%s:%d: a section is written [COMMAND]", path, number);
				fclose(f);
				return -1;
			}
			*close = '\0';
			mine = strcmp(str_trim(s + 1), command) == 0;
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: a setting is written 'option = value'", path,
				 number);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		name = str_trim(s);
		value = str_trim(eq + 1);
		if (!mine || (opt = find(options, name)) == NULL)
			continue;       /* another command's option */
		if (add_setting(b, opt, value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, number, why);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static int read_environment(const struct option *options, struct builder *b, char *err,
			    size_t errlen)
{
	for (; options->name; options++) {
		char var[160], why[256];
		const char *value;
		size_t i;

		if (strcmp(options->name, "help") == 0)
			continue;
		snprintf(var, sizeof(var), "ALLEYCAT_%s", options->name);
		for (i = 9; var[i]; i++)
			var[i] = var[i] == '-' ? '_' : (char)toupper((unsigned char)var[i]);
		value = getenv(var);
		if (value == NULL || value[0] == '\0')
			continue;
		if (add_setting(b, options, value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", var, why);
			return -1;
		}
	}
	return 0;
}

int settings_args(const char *command, const struct option *options, int argc, char **argv,
		  struct settings_args *out, char *err, size_t errlen)
{
	struct builder b = { 0 };
	char path[4096];
	const char *file = getenv("ALLEYCAT_CONFIG");

	if (file == NULL || file[0] == '\0') {
		paths_config_file(path, sizeof(path));
		file = path;
	}
	push(&b, argv[0]);
	if (read_file(file, command, options, &b, err, errlen) < 0 ||
	    read_environment(options, &b, err, errlen) < 0) {
		out->argc = b.argc;
		out->argv = b.argv;
		settings_args_free(out);
		return -1;
	}
	for (int i = 1; i < argc; i++)
		push(&b, argv[i]);
	out->argc = b.argc;
	out->argv = b.argv;
	if (b.failed) {
		snprintf(err, errlen, "out of memory");
		settings_args_free(out);
		return -1;
	}
	return 0;
}

void settings_args_free(struct settings_args *args)
{
	for (int i = 0; i < args->argc; i++)
		free(args->argv[i]);
	free(args->argv);
	args->argv = NULL;
	args->argc = 0;
}
