#include "config.h"
#include "cmd/settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "util/nearest.h"
#include "util/paths.h"
#include "util/strbuf.h"

#define LINE_MAX_LEN 4096

struct builder {
	char **argv;
	int argc, capacity;
	struct settings_origin *origins;
	int n_origins, origins_capacity;
	bool failed;
};

/* Appends a copy of text to the arguments; returns the copy, or NULL when
 * memory ran out (b->failed tells the caller at the end). */
static char *push(struct builder *b, const char *text)
{
	char *copy;

	if (b->failed)
		return NULL;
	if (b->argc + 1 >= b->capacity) {
		int cap = b->capacity ? b->capacity * 2 : 16;
		char **grown = realloc(b->argv, (size_t)cap * sizeof(*grown));
		if (grown == NULL) {
			b->failed = true;
			return NULL;
		}
		b->argv = grown;
		b->capacity = cap;
	}
	copy = strdup(text);
	if (copy == NULL) {
		b->failed = true;
		return NULL;
	}
	b->argv[b->argc++] = copy;
	b->argv[b->argc] = NULL;
	return copy;
}

static void remember_origin(struct builder *b, const char *value, const char *origin)
{
	char *copy;

	if (b->failed || value == NULL)
		return;
	if (b->n_origins == b->origins_capacity) {
		int cap = b->origins_capacity ? b->origins_capacity * 2 : 8;
		struct settings_origin *grown = realloc(b->origins, (size_t)cap * sizeof(*grown));
		if (grown == NULL) {
			b->failed = true;
			return;
		}
		b->origins = grown;
		b->origins_capacity = cap;
	}
	copy = strdup(origin);
	if (copy == NULL) {
		b->failed = true;
		return;
	}
	b->origins[b->n_origins].value = value;
	b->origins[b->n_origins++].origin = copy;
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
 * that is on; the value remembers its origin. Returns -1 with a message
 * when a switch has a value that is neither on nor off. */
static int add_setting(struct builder *b, const struct option *opt, const char *value,
		       const char *origin, char *err, size_t errlen)
{
	char flag[160];

	snprintf(flag, sizeof(flag), "--%s", opt->name);
	if (opt->has_arg == no_argument) {
		if (truthy(value))
			push(b, flag);
		else if (!falsy(value)) {
			snprintf(err, errlen, "%s: '%s' is not true or false", origin, value);
			return -1;
		}
		return 0;
	}
	push(b, flag);
	remember_origin(b, push(b, value), origin);
	return 0;
}

/* More than the commands there are: one table each, and hub reshard's. */
#define MAX_TABLES 16

/* The option tables that a section of the config file may set: the
 * command's (hub's with hub reshard's), or every command's before any
 * section (NULL). Returns how many it put in tables. */
static int section_tables(const char *section, const struct option *tables[MAX_TABLES])
{
	int n = 0;

	for (const struct command *c = cli_commands; c->name && n < MAX_TABLES - 1; c++)
		if (c->options && (section == NULL || strcmp(c->name, section) == 0))
			tables[n++] = c->options;
	if (section == NULL || strcmp(section, "hub") == 0)
		tables[n++] = hub_reshard_settings;
	return n;
}

static bool section_has(const char *section, const char *name)
{
	const struct option *tables[MAX_TABLES];
	int n = section_tables(section, tables);

	for (int i = 0; i < n; i++)
		if (find(tables[i], name))
			return true;
	return false;
}

/* Warns that a line is ignored: "unknown setting 'formt'" or "unknown
 * section [bord]", with the nearest known one when there is one close
 * enough. A misspelled setting must not silently do nothing. */
static void warn_ignored(const char *path, int number, const char *kind, const char *open,
			 const char *close, const struct nearest *near)
{
	const char *suggestion = nearest_suggestion(near);

	if (suggestion)
		cli_warning("%s:%d: unknown %s %s%s%s (ignored; did you mean %s%s%s?)", path,
			    number, kind, open, near->word, close, open, suggestion, close);
	else
		cli_warning("%s:%d: unknown %s %s%s%s (ignored)", path, number, kind, open,
			    near->word, close);
}

/* Starts near on name, with every setting of section as a candidate. */
static void nearest_setting(struct nearest *near, const char *section, const char *name)
{
	const struct option *tables[MAX_TABLES];
	int n = section_tables(section, tables);

	nearest_init(near, name);
	for (int i = 0; i < n; i++)
		for (const struct option *o = tables[i]; o->name; o++)
			if (strcmp(o->name, "help") != 0)
				nearest_consider(near, o->name);
}

static void warn_unknown_key(const char *path, int number, const char *section, const char *name)
{
	struct nearest near;

	nearest_setting(&near, section, name);
	warn_ignored(path, number, "setting", "'", "'", &near);
}

/* Returns whether section names a command that has settings; warns when it
 * does not. */
static bool known_section(const char *path, int number, const char *section)
{
	struct nearest near;

	nearest_init(&near, section);
	for (const struct command *c = cli_commands; c->name; c++) {
		if (c->options && strcmp(c->name, section) == 0)
			return true;
		if (c->options)
			nearest_consider(&near, c->name);
	}
	warn_ignored(path, number, "section", "[", "]", &near);
	return false;
}

static int read_file(const char *path, const char *command, const struct option *options,
		     struct builder *b, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_LEN], origin[LINE_MAX_LEN + 256];
	char section[LINE_MAX_LEN] = "";
	bool mine = true;       /* lines before any section apply to every command */
	bool known = true;      /* a section that no command has is warned about once */
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
			snprintf(section, sizeof(section), "%s", str_trim(s + 1));
			mine = strcmp(section, command) == 0;
			known = known_section(path, number, section);
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
		if (known && !section_has(section[0] ? section : NULL, name))
			warn_unknown_key(path, number, section[0] ? section : NULL, name);
		if (!mine || (opt = find(options, name)) == NULL)
			continue;       /* another command's option */
		snprintf(origin, sizeof(origin), "%s:%d: %s", path, number, name);
		if (add_setting(b, opt, value, origin, err, errlen) < 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

#define ENV_PREFIX "ALLEYCAT_"
#define ENV_PREFIX_LEN (sizeof(ENV_PREFIX) - 1)

/* The variable that sets an option: race-id -> ALLEYCAT_RACE_ID. */
static void env_name(const char *option, char *var, size_t size)
{
	snprintf(var, size, ENV_PREFIX "%s", option);
	for (size_t i = ENV_PREFIX_LEN; var[i]; i++)
		var[i] = var[i] == '-' ? '_' : (char)toupper((unsigned char)var[i]);
}

/* Whether ALLEYCAT_<suffix> is one of ours that is no option: the config
 * file, the data directory, or the test suite's own (ALLEYCAT_TESTS_*). */
static bool other_variable(const char *suffix, size_t len)
{
	return (len == 6 && strncmp(suffix, "CONFIG", len) == 0) ||
	       (len == 9 && strncmp(suffix, "SHARE_DIR", len) == 0) ||
	       (len > 6 && strncmp(suffix, "TESTS_", 6) == 0);
}

/* Warns of an ALLEYCAT_ variable (the rest of it in suffix, len long)
 * that no command takes: a misspelled one must not silently do nothing. */
static void check_variable(const char *suffix, size_t len)
{
	char option[160], var[160];
	const char *suggestion;
	struct nearest near;

	if (len == 0 || len >= sizeof(option) || other_variable(suffix, len))
		return;
	for (size_t i = 0; i < len; i++)
		option[i] = suffix[i] == '_' ? '-' : (char)tolower((unsigned char)suffix[i]);
	option[len] = '\0';
	if (section_has(NULL, option))
		return;
	nearest_setting(&near, NULL, option);
	suggestion = nearest_suggestion(&near);
	if (suggestion == NULL) {
		cli_warning("unknown variable " ENV_PREFIX "%.*s (ignored)", (int)len, suffix);
		return;
	}
	env_name(suggestion, var, sizeof(var));
	cli_warning("unknown variable " ENV_PREFIX "%.*s (ignored; did you mean %s?)", (int)len,
		    suffix, var);
}

/* Each unknown ALLEYCAT_ variable, once a process. */
static void check_environment(void)
{
	extern char **environ;
	static bool checked;

	if (checked)
		return;
	checked = true;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, ENV_PREFIX, ENV_PREFIX_LEN) == 0)
			check_variable(*e + ENV_PREFIX_LEN, strcspn(*e + ENV_PREFIX_LEN, "="));
}

static int read_environment(const struct option *options, struct builder *b, char *err,
			    size_t errlen)
{
	check_environment();
	for (; options->name; options++) {
		char var[160];
		const char *value;

		if (strcmp(options->name, "help") == 0)
			continue;
		env_name(options->name, var, sizeof(var));
		value = getenv(var);
		if (value == NULL || value[0] == '\0')
			continue;
		if (add_setting(b, options, value, var, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static void take_built(struct settings_args *out, struct builder *b)
{
	out->argc = b->argc;
	out->argv = b->argv;
	out->origins = b->origins;
	out->n_origins = b->n_origins;
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
		take_built(out, &b);
		settings_args_free(out);
		return -1;
	}
	for (int i = 1; i < argc; i++)
		push(&b, argv[i]);
	take_built(out, &b);
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
	for (int i = 0; i < args->n_origins; i++)
		free(args->origins[i].origin);
	free(args->origins);
	args->argv = NULL;
	args->argc = 0;
	args->origins = NULL;
	args->n_origins = 0;
}

const char *settings_origin(const struct settings_args *args, const char *value)
{
	for (int i = 0; i < args->n_origins; i++)
		if (args->origins[i].value == value)
			return args->origins[i].origin;
	return NULL;
}
