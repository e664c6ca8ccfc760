/* The racer model: what every simulated bike says, second by second.
 *
 * Each racer has a personal profile that follows them from race to race,
 * drawn from the seed and their racerId:
 *   ability     how hard they can ride: cruising pace and sprint peak
 *   stamina     how slowly they tire, how long their finishing kick lasts
 *   style       spinner (high cadence, light resistance) or masher
 *   aggression  how often they attack with a sprint
 * and each race adds its own form (a good or a bad day) and the level of the
 * race's class. Within a race a racer warms up from a slow start (the
 * original's ramp), settles at a cruising pace, attacks with sprints that
 * cost energy and need a recovery, tires as the energy runs down, and
 * kicks for the line at the end with what is left. Cadence and resistance
 * follow that plan with noise and always stay within the original bounds,
 * cadence 30..90 and resistance 33..86, rounded to one decimal.
 *
 * Determinism: a racer's telemetry at a second depends only on (seed,
 * raceId, classId, duration, race start, racer index), never on the other
 * racers of the model, on other models, or on the order of calls, so the
 * same --seed gives byte-identical records. The model computes in integers
 * (thousandths of a unit) with the integer draws of rng.h, so the records
 * are the same on every platform and compiler too. */
#ifndef ALLEYCAT_RACEMODEL_H
#define ALLEYCAT_RACEMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "race/roster.h"
#include "wire/telemetry.h"

/* The original's bounds. */
#define RACEMODEL_CADENCE_MIN 30.0
#define RACEMODEL_CADENCE_MAX 90.0
#define RACEMODEL_RESISTANCE_MIN 33.0
#define RACEMODEL_RESISTANCE_MAX 86.0

/* A racer's profile: all in permille, style from -1000 (masher) to 1000
 * (spinner), the others from 0 to 1000. */
struct racemodel_profile {
	int ability;
	int stamina;
	int style;
	int aggression;
};

struct racemodel_rider;

struct race_model {
	uint64_t seed;
	int64_t race_id;
	int class_id;
	int duration;                  /* seconds; records count 1..duration */
	int64_t start_ms;              /* deviceTimestamp of second 0 */
	size_t first;                  /* roster index of the first racer */
	size_t count;
	const struct roster *roster;   /* borrowed: names point into it */
	int at;                        /* the last second computed, 0 before */
	struct racemodel_rider *riders;
};

/* The profile of a racer, the same in every race of a seed. */
void racemodel_profile(uint64_t seed, int64_t racer_id, struct racemodel_profile *out);

/* Sets up a race of racer_count racers: roster indexes first_racer_index
 * onwards, racerIds ROSTER_FIRST_RACER_ID + index, names from the roster
 * (which must outlive the model). class_id is 1..6, duration_seconds at
 * least 1; start_ms is the race start in epoch milliseconds, and second s
 * carries deviceTimestamp start_ms + s * 1000. Returns 0, or -1 (bad
 * arguments, out of memory) with the model empty. */
int racemodel_init(struct race_model *model, uint64_t seed, int64_t race_id, int class_id,
		   int duration_seconds, size_t first_racer_index, size_t racer_count,
		   const struct roster *roster, int64_t start_ms);

/* Fills out[0..racer_count-1] with every racer's record for second (1 to
 * the duration; "final" on the last). Seconds are meant to be asked for in
 * order, skipped ones included (they are ridden all the same); asking for
 * an earlier second replays the race from its start, so any call sequence
 * gives the same records. Returns 0, or -1 when second is out of range. */
int racemodel_second(struct race_model *model, int second, struct telemetry *out);

void racemodel_free(struct race_model *model);

/* How many run slots an unseeded run draws its own from. */
#define RACEMODEL_RUN_SLOTS 100000u

/* The raceId of the index-th race (0, 1, 2, ...) that a run rides,
 * concurrent races and --loop alike. Ids rise with index, so a run never
 * repeats one.
 *
 * With a seed: 10^10 + (a hash of the seed mod 90000) * 10^6 + index, so
 * the same seed gives the same ids, and different seeds rarely meet within
 * their first million races.
 *
 * Without one: floor(now_ms / 300000) * 10^8 + (run mod 10^5) * 1000 +
 * index, with now_ms the run's start and run a number drawn once per run
 * (rng_entropy). The original's id was floor(epoch ms / 300000), one race
 * per five minutes, so runs started in the same five minutes collided; id
 * / 10^8 is still the original's id, and the run slot keeps two runs of
 * the same five minutes apart unless they draw the same of 10^5 slots (a
 * run of more than 1000 races continues into the next slot). Ids stay
 * below 2^53 (JSON numbers carry them exactly) until the year 2800, and
 * above every seeded id (10^11 and up, the clock being past 1970-01-04). */
int64_t racemodel_race_id(uint64_t seed, int have_seed, int64_t now_ms, uint64_t run,
			  unsigned index);

/* The class (1..6) of a race when none is asked for: it follows from the
 * raceId, so every simulator that joins a race (--race-id) rides it in the
 * class of the others, and a race's records agree on it. */
int racemodel_race_class(int64_t race_id);

#endif
