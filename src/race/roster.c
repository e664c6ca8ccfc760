#include "config.h"
#include "race/roster.h"
#include "util/utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A list of names being read from one file. */
struct namelist {
	char **names;
	size_t count, cap;
};

static void set_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Checks one name; NULL when it is fine, else what is wrong with it. */
static const char *check_name(const char *name, size_t len, char *why, size_t whylen)
{
	const unsigned char *s = (const unsigned char *)name;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0) {
			snprintf(why, whylen, "invalid UTF-8 at byte %zu", i + 1);
			return why;
		}
		/* C0 controls, DEL and C1 controls: a name is drawn on
		 * dashboards and never needs them. */
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			snprintf(why, whylen, "control character at byte %zu", i + 1);
			return why;
		}
		i += n;
	}
	if (len > TELEMETRY_NAME_MAX) {
		snprintf(why, whylen, "name is longer than %d bytes (%zu)", TELEMETRY_NAME_MAX,
			 len);
		return why;
	}
	return NULL;
}

static void namelist_free(struct namelist *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->names[i]);
	free(list->names);
	memset(list, 0, sizeof(*list));
}

static int namelist_add(struct namelist *list, const char *name, size_t len)
{
	char *copy;

	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 256;
		char **names = realloc(list->names, cap * sizeof(*names));

		if (names == NULL)
			return -1;
		list->names = names;
		list->cap = cap;
	}
	copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, name, len);
	copy[len] = '\0';
	list->names[list->count++] = copy;
	return 0;
}

/* Reads the names of DATADIR/file, at most max of them (0: no limit). */
static int read_names(const char *datadir, const char *file, size_t max, const char *what,
		      struct namelist *list, char *err, size_t errlen)
{
	char *path = NULL, *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t got;
	FILE *f;
	int rc = -1;

	if (asprintf(&path, "%s/%s", datadir, file) < 0) {
		set_error(err, errlen, "out of memory");
		return -1;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		set_error(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while ((got = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)got, start = 0;
		const char *problem;
		char why[64];

		lineno++;
		if (memchr(line, '\0', len)) {
			set_error(err, errlen, "%s:%u: NUL byte in the line", path, lineno);
			goto out;
		}
		/* A byte order mark, as some editors write, is no part of the
		 * first name. */
		if (lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
			start = 3;
		while (len > start && strchr("\r\n \t", line[len - 1]))
			len--;
		while (start < len && (line[start] == ' ' || line[start] == '\t'))
			start++;
		if (start == len)
			continue;
		problem = check_name(line + start, len - start, why, sizeof(why));
		if (problem) {
			set_error(err, errlen, "%s:%u: %s", path, lineno, problem);
			goto out;
		}
		if (max && list->count == max) {
			set_error(err, errlen, "%s:%u: more than %zu %s", path, lineno, max, what);
			goto out;
		}
		if (namelist_add(list, line + start, len - start) < 0) {
			set_error(err, errlen, "out of memory");
			goto out;
		}
	}
	if (ferror(f)) {
		set_error(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (list->count == 0 || (max && list->count < max)) {
		if (max)
			set_error(err, errlen, "%s: %zu %s, expected %zu", path, list->count, what,
				  max);
		else
			set_error(err, errlen, "%s: no %s", path, what);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	free(line);
	free(path);
	return rc;
}

int roster_load(struct roster *roster, const char *datadir, char *err, size_t errlen)
{
	struct namelist racers = { 0 }, classes = { 0 };

	memset(roster, 0, sizeof(*roster));
	if (read_names(datadir, ROSTER_RACERS_FILE, 0, "racer names", &racers, err, errlen) < 0 ||
	    read_names(datadir, ROSTER_CLASSES_FILE, TELEMETRY_CLASS_COUNT, "class names",
		       &classes, err, errlen) < 0) {
		namelist_free(&racers);
		namelist_free(&classes);
		return -1;
	}
	roster->racers = racers.names;
	roster->racer_count = racers.count;
	for (size_t i = 0; i < TELEMETRY_CLASS_COUNT; i++)
		roster->classes[i] = classes.names[i];
	free(classes.names);
	return 0;
}

void roster_free(struct roster *roster)
{
	for (size_t i = 0; i < roster->racer_count; i++)
		free(roster->racers[i]);
	free(roster->racers);
	for (size_t i = 0; i < TELEMETRY_CLASS_COUNT; i++)
		free(roster->classes[i]);
	memset(roster, 0, sizeof(*roster));
}

const char *roster_racer_name(const struct roster *roster, size_t index)
{
	if (roster->racer_count == 0)
		return NULL;
	return roster->racers[index % roster->racer_count];
}

const char *roster_class_name(const struct roster *roster, int class_id)
{
	if (class_id < 1 || class_id > TELEMETRY_CLASS_COUNT)
		return NULL;
	return roster->classes[class_id - 1];
}
