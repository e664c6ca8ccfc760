/* The roster: racer names and class names, read from the data directory.
 *
 *   DATADIR/racers.txt   one racer first name a line; line order gives the
 *                        racer ids: the first name is racer 100, the next
 *                        101, and so on, as in the original Alleycat
 *   DATADIR/classes.txt  the six class names, classId 1 to 6 in order
 *
 * Both files are UTF-8 text. Blank lines are skipped, spaces and tabs around
 * a name are dropped, and a name must be valid UTF-8 of at most 64 bytes
 * (what a telemetry record may carry) with no control characters. A bad line
 * fails the whole load with an error naming the file and the line: these
 * names go out in every record, so a broken file is better refused at start
 * than sent to every consumer. */
#ifndef ALLEYCAT_ROSTER_H
#define ALLEYCAT_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "wire/telemetry.h"

#define ROSTER_FIRST_RACER_ID 100
#define ROSTER_RACERS_FILE "racers.txt"
#define ROSTER_CLASSES_FILE "classes.txt"

struct roster {
	char **racers;                           /* racer_count names */
	size_t racer_count;
	char *classes[TELEMETRY_CLASS_COUNT];    /* classes[0] is classId 1 */
};

/* Reads both files from datadir. Returns 0, or -1 with a message such as
 * "DATADIR/racers.txt:12: name is longer than 64 bytes" in err (errlen
 * bytes, always NUL-terminated when errlen > 0) and the roster empty. */
int roster_load(struct roster *roster, const char *datadir, char *err, size_t errlen);

/* Frees the names; the roster is left empty, and freeing it again is safe. */
void roster_free(struct roster *roster);

static inline size_t roster_racer_count(const struct roster *roster)
{
	return roster->racer_count;
}

/* The name of the racer at index (racer id ROSTER_FIRST_RACER_ID + index).
 * Names repeat once the list is used up (index modulo racer_count) so any
 * number of racers has names; their ids never repeat. NULL when the roster
 * is empty. */
const char *roster_racer_name(const struct roster *roster, size_t index);

static inline int64_t roster_racer_id(size_t index)
{
	return ROSTER_FIRST_RACER_ID + (int64_t)index;
}

/* The name of a class, classId 1 to 6; NULL for any other id. */
const char *roster_class_name(const struct roster *roster, int class_id);

#endif
