/* The ranking engine: live standings of every race, from telemetry records.
 *
 * Rules (the original Alleycat's): a racer's score is the highest output
 * over the race; racers rank by score descending, ties by racerId
 * ascending. Delivery is at least once and shards interleave freely, so
 * applying a record twice, or records in any order, gives the same
 * standings: each (race, racer, second) counts once, merged by maximum.
 * A race has one class, its first record's; records of another class are
 * bad (another producer took the raceId), refused rather than merged.
 * No I/O here: the consumer feeds records in and persists what comes out. */
#ifndef ALLEYCAT_ENGINE_H
#define ALLEYCAT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/telemetry.h"

#define ENGINE_SPARK_SECONDS 90        /* recent outputs kept for sparklines: the
					 * widest a 200-column screen shows */

struct engine;
struct engine_race;

enum engine_result {
	ENGINE_APPLIED,         /* changed or extended the standings */
	ENGINE_DUPLICATE,       /* this (race, racer, second) was counted already,
				 * and this record changes nothing of it */
	ENGINE_LATE,            /* the race has ended: merge it into the stored results */
	ENGINE_REJECTED,        /* out of range for its race (second beyond the race length),
				 * or a field no decoded record has (negative id, output
				 * beyond INT32_MAX, classId not 1..6, cadence not finite) */
	ENGINE_OTHER_CLASS,     /* its classId is not its race's (that of the race's first
				 * record): a bad record, not applied */
	ENGINE_NO_MEMORY,       /* nothing applied: the record may be applied again */
};

/* One racer's line in the standings. */
struct engine_standing {
	int rank;                       /* 1-based */
	int rank_change;                /* places gained since the last engine_tick (+ up) */
	int64_t racer_id;
	const char *name;               /* borrowed: valid until the next apply */
	int64_t score;                  /* best output, 1/10000 units */
	int64_t output;                 /* at the racer's latest second */
	double cadence, resistance;     /* at the racer's latest second */
	int second;                     /* the racer's latest second */
	int64_t gap;                    /* leader's score minus this one's */
	bool final;                     /* the racer sent "final" */
	bool beats_best;                /* output at the latest second beats the class best there
					 * (none recorded is 0: nothing to beat, never marked) */
	int64_t spark[ENGINE_SPARK_SECONDS]; /* outputs of the last seconds, oldest first, -1 none */
};

/* A race as a whole. */
struct engine_race_info {
	int64_t race_id;
	int class_id;                   /* of the race's first record */
	int second;                     /* the highest second seen */
	size_t racers;
	int64_t first_arrival_ms, last_arrival_ms;
	uint64_t records;               /* (racer, second) pairs seen: repeats and merges not counted */
	bool all_final;                 /* every racer seen has sent "final" */
};

struct engine *engine_new(int duration);       /* race length in seconds, e.g. 300 */
void engine_free(struct engine *e);
int engine_duration(const struct engine *e);

/* The all-time best output per class and second, as the history holds it;
 * racers who beat it are marked. Updated by the engine as races end. */
void engine_set_class_best(struct engine *e, int class_id, int second, int64_t output);
int64_t engine_class_best(const struct engine *e, int class_id, int second);

/* Whether the class has a recorded best at any second (a finished race,
 * or bests restored from the history); O(duration). */
bool engine_class_has_history(const struct engine *e, int class_id);

/* Applies one decoded record that arrived at arrival_ms. */
enum engine_result engine_apply(struct engine *e, const struct telemetry *t, int64_t arrival_ms);

/* Marks the ranks the next rank changes are measured against (the
 * dashboard calls it once per redraw). */
void engine_tick(struct engine *e);

/* Live races, in raceId order. */
size_t engine_race_count(const struct engine *e);
struct engine_race *engine_race_at(struct engine *e, size_t index);
struct engine_race *engine_find_race(struct engine *e, int64_t race_id);
void engine_race_info(const struct engine_race *r, struct engine_race_info *out);

/* The standings from rank `first` (0-based) on, up to n lines; returns how
 * many were written. Cheap: no sort of the race per call. */
size_t engine_standings(const struct engine_race *r, size_t first, size_t n,
			struct engine_standing *out);

/* The 1-based rank of a racer, 0 when not in the race; O(log n). */
int engine_rank_of(const struct engine_race *r, int64_t racer_id);

/* The best output of each second of a race and who rode it (for the
 * per-second class bests); out arrays hold `duration` entries, index s-1;
 * output and racer_id -1 where no racer sent that second; on a tie, the
 * lowest racerId. */
void engine_race_second_bests(const struct engine_race *r, int64_t *output, int64_t *racer_id);

/* Races that are over: every racer seen is final and caught_up is true, or
 * no record arrived for grace_ms (of arrival time) before now_ms. They stay
 * live until engine_drop_race; returns how many were written to out. */
size_t engine_ended_races(struct engine *e, int64_t now_ms, int64_t grace_ms, bool caught_up,
			  struct engine_race **out, size_t max);

/* Forgets a race that has been persisted; later records for it are LATE.
 * Its outputs raise its class's bests (engine_class_best), as the history
 * does when it stores the race. Never fails. */
void engine_drop_race(struct engine *e, struct engine_race *r);

/* Whether a raceId ended in this engine (dropped, or restored as ended). */
bool engine_race_ended(const struct engine *e, int64_t race_id);
int engine_mark_ended(struct engine *e, int64_t race_id);     /* 0, or -1: out of memory */

/* A race's whole state as bytes (for the live-state table) and back:
 * restoring it into a fresh engine gives identical standings. The buffer
 * is malloc'd; NULL when out of memory. restore returns -1 on bad bytes
 * (reported, never applied), on a race of another duration, one live or
 * ended in this engine already, or when out of memory. */
void *engine_race_save(const struct engine_race *r, size_t *len);
int engine_race_restore(struct engine *e, const void *bytes, size_t len);

#endif
