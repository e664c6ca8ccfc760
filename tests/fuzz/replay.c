/* Replays inputs through a fuzz target, without libFuzzer: the check
 * program `make check` runs for each target, built with the normal
 * compiler (and the sanitizers of an --enable-asan build).
 *
 *   replay_TARGET [FILE|DIR]...
 *
 * Without arguments it replays the target's seed corpus and every crash
 * found so far: $top_srcdir/tests/fuzz/corpus/TARGET and
 * $top_srcdir/tests/fuzz/regressions/TARGET. A crash, an abort or a
 * sanitizer report fails the test; each input is named on stderr first so
 * the culprit is the last name printed. */
#include "config.h"
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if !defined(FUZZ_TARGET) || !defined(FUZZ_SRCDIR)
#error "FUZZ_TARGET must name the target (kinesis, push, telemetry, event, eventstream, cbor, h2), FUZZ_SRCDIR the source tree"
#endif

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *bigger = realloc(data, cap = cap ? 2 * cap : 65536);
			if (bigger == NULL) {
				fprintf(stderr, "replay: %s: out of memory\n", path);
				free(data);
				fclose(f);
				return -1;
			}
			data = bigger;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	fprintf(stderr, "replay %s: %s (%zu bytes)\n", FUZZ_TARGET, path, len);
	/* An exact-size copy, so ASan sees a read past the input as what it is. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(data);
		return -1;
	}
	memcpy(exact, data, len);
	free(data);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of a directory, in name order; hidden files (.keep)
 * are skipped. Returns the number replayed, or -1. */
static int replay_dir(const char *dir, int missing_ok)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t count = 0;
	int done = 0;

	if (d == NULL) {
		if (missing_ok && errno == ENOENT)
			return 0;
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char **more;
		if (e->d_name[0] == '.')
			continue;
		more = realloc(names, (count + 1) * sizeof(*names));
		if (more == NULL)
			break;
		names = more;
		if (asprintf(&names[count], "%s/%s", dir, e->d_name) < 0)
			break;
		count++;
	}
	closedir(d);
	qsort(names, count, sizeof(*names), compare_names);
	for (size_t i = 0; i < count; i++) {
		/* After a failure the rest is only freed. */
		if (done >= 0)
			done = replay_file(names[i]) == 0 ? done + 1 : -1;
		free(names[i]);
	}
	free(names);
	return done;
}

static int replay_path(const char *path, int missing_ok)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return replay_dir(path, missing_ok);
	if (missing_ok && errno == ENOENT)
		return 0;
	return replay_file(path) == 0 ? 1 : -1;
}

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	int total = 0, n;

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			if ((n = replay_path(argv[i], 0)) < 0)
				return 1;
			total += n;
		}
	} else {
		static const char *const kinds[] = { "corpus", "regressions" };
		if (top == NULL)
			top = FUZZ_SRCDIR;
		for (int i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s/tests/fuzz/%s/%s", top, kinds[i], FUZZ_TARGET);
			if ((n = replay_path(path, i == 1)) < 0)
				return 1;
			total += n;
		}
		if (total == 0) {
			fprintf(stderr, "replay %s: no inputs under %s/tests/fuzz\n", FUZZ_TARGET, top);
			return 1;
		}
	}
	printf("replay %s: %d inputs, none crashed\n", FUZZ_TARGET, total);
	return 0;
}
