/* A race's finish as the dashboard shows it: the final standings, read
 * back from the history, and how long they stay on screen.
 *
 * A race leaves the engine at the commit that stores it, so by the time
 * a dashboard notices the end, the store is the one place that has its
 * standings, and there they are final. The finish stays up FINISH_HOLD_MS
 * from the moment it was first shown: long enough to read the podium
 * (a kiosk's audience cannot press a key to keep it). */
#ifndef ALLEYCAT_FINISH_H
#define ALLEYCAT_FINISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/telemetry.h"

#define FINISH_HOLD_MS 15000

struct store;

struct finish_row {
	int rank;
	int64_t racer_id;
	char name[TELEMETRY_NAME_MAX + 1];      /* as stored: untrusted */
	int64_t score;
	int64_t gap;                            /* the winner's score minus this one's */
};

struct finish {
	int64_t race_id;                        /* 0: no finish */
	int class_id;
	char class_name[128];                   /* as stored: untrusted, "" when unnamed */
	int64_t ended_ms;                       /* wall time, as stored */
	int64_t shown_ms;                       /* wall time it was first read */
	struct finish_row *rows;                /* owned; rank order */
	size_t count, capacity;
};

/* Reads a stored race's final standings into f (emptied first); the hold
 * starts at now_ms. 0, 1 when the store has no such race or no results
 * for it, -1 on a store error or out of memory (f is then empty). */
int finish_read(struct finish *f, struct store *store, int64_t race_id, int64_t now_ms);

/* Whether the finish is still to be shown at now_ms. */
bool finish_holding(const struct finish *f, int64_t now_ms);

/* The row of a racer, NULL when not in the race (borrowed from f). */
const struct finish_row *finish_row_of(const struct finish *f, int64_t racer_id);

/* Forgets the finish and frees its rows; f can be read into again. */
void finish_clear(struct finish *f);

/* The race that ended last in the history: its id, class and end (wall
 * ms). 0, 1 when the history has no finished race, -1 on a store error. */
struct finish_latest {
	int64_t race_id;
	int class_id;
	int64_t ended_ms;
};
int finish_latest(struct store *store, struct finish_latest *out);

/* The next class after after_class (1..6, wrapping round, after_class
 * itself last) that has a leaderboard: an empty board on an unattended
 * screen says nothing. 0 when no class has one, -1 on a store error. */
int finish_next_board(struct store *store, int after_class);

#endif
