#include "config.h"
#include "race/racemodel.h"

#include <stdlib.h>
#include <string.h>

#include "util/rng.h"

/* Cadence and resistance are kept in thousandths: integers all the way to
 * the rounding, so no platform's floating point can change a record. */
#define MILLI 1000
#define CAD_MIN 30000
#define CAD_MAX 90000
#define RES_MIN 33000
#define RES_MAX 86000

/* Energy in millionths of a full tank. */
#define ENERGY_FULL 1000000

/* What an empty tank costs against the plan. */
#define FATIGUE_CAD 9000
#define FATIGUE_RES 6000

/* Domains of the random streams, so that the profile stream of a racer and
 * their stream in a race never coincide. */
#define STREAM_PROFILE 0x70726f66696c65ULL      /* "profile" */
#define STREAM_RACE 0x72616365ULL               /* "race" */
#define STREAM_CLASS 0x636c617373ULL            /* "class" */

#define SEEDED_RACE_BASE 10000000000LL          /* 10^10 */
#define SEEDED_RACE_SPAN 1000000LL              /* ids per seed */
#define SEEDED_RACE_SLOTS 90000u
#define ORIGINAL_RACE_MS 300000LL
#define CLOCK_WINDOW_SPAN 100000000LL           /* 10^8 ids per five minutes */
#define CLOCK_WINDOW_MIN 1000LL                 /* so clock ids start at 10^11 */
#define RUN_SPAN 1000LL                         /* ids per run slot */

enum phase {
	PHASE_WARMUP,
	PHASE_CRUISE,
	PHASE_SPRINT,
	PHASE_RECOVER,
	PHASE_KICK,
};

struct racemodel_rider {
	int64_t racer_id;
	const char *name;
	struct rng rng;

	/* The plan for this race, fixed at the start. */
	int32_t start_cad, start_res;
	int32_t cruise_cad, cruise_res;
	int32_t peak_cad, peak_res;
	int warmup;                    /* seconds of warm-up ramp */
	int kick_from;                 /* first second of the finishing kick */
	int64_t drain_cruise;          /* energy per second at cruising pace */
	int64_t drain_sprint;          /* per second of sprint or kick */
	int64_t regain;                /* per second of recovery */
	uint32_t sprint_chance;        /* per million, each cruising second */

	/* Where the racer is now. */
	int32_t cad, res;
	int64_t energy;
	enum phase phase;
	int phase_left;                /* seconds left of a sprint or recovery */
};

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

void racemodel_profile(uint64_t seed, int64_t racer_id, struct racemodel_profile *out)
{
	struct rng r;

	rng_seed(&r, rng_hash2(rng_hash2(seed, STREAM_PROFILE), (uint64_t)racer_id));
	/* Most racers are middling, a few are very good or struggle; nobody
	 * sits exactly at the ends, where everyone would look alike. */
	out->ability = (int)clamp64(500 + rng_normal_scaled(&r, 170), 20, 980);
	out->stamina = (int)clamp64(500 + rng_normal_scaled(&r, 200), 20, 980);
	out->style = (int)clamp64(rng_normal_scaled(&r, 350), -1000, 1000);
	out->aggression = (int)rng_range(&r, 0, 1000);
}

/* Draws a rider's plan for the race and puts them on the start line. */
static void rider_start(const struct race_model *m, struct racemodel_rider *rd, size_t index)
{
	struct racemodel_profile p;
	int64_t form, level, kick;
	int64_t racer_id = roster_racer_id(index);

	memset(rd, 0, sizeof(*rd));
	rd->racer_id = racer_id;
	rd->name = roster_racer_name(m->roster, index);
	racemodel_profile(m->seed, racer_id, &p);
	rng_seed(&rd->rng, rng_hash2(rng_hash2(rng_hash2(m->seed, STREAM_RACE),
					       (uint64_t)m->race_id),
				     (uint64_t)racer_id));

	/* The day's form, and the class: a Legend race rides harder than a
	 * Rookie one, whoever is in it. */
	form = clamp64(rng_normal_scaled(&rd->rng, 70), -200, 200);
	level = clamp64(p.ability + form + (m->class_id - 1) * 40 - 100, 0, 1000);

	rd->cruise_cad = (int32_t)clamp64(56000 + 24 * level + 5 * p.style, 45000, 84000);
	rd->cruise_res = (int32_t)clamp64(44000 + 28 * level - 4 * p.style, 40000, 80000);
	/* Only the very best reach the bounds, so scores spread by ability
	 * instead of piling up at the maximum. */
	rd->peak_cad = (int32_t)clamp64(max64(rd->cruise_cad + 5000,
					      62000 + 28 * level + 3 * p.style),
					CAD_MIN, CAD_MAX);
	rd->peak_res = (int32_t)clamp64(max64(rd->cruise_res + 4000,
					      50000 + 34 * level - 3 * p.style),
					RES_MIN, RES_MAX);
	rd->start_cad = (int32_t)rng_range(&rd->rng, CAD_MIN, CAD_MIN + 8000);
	rd->start_res = (int32_t)rng_range(&rd->rng, RES_MIN, RES_MIN + 6000);

	/* Warm-up and kick take a sixth of the race at most, so that short
	 * races (tests, demos) still have a middle. */
	rd->warmup = (int)clamp64(rng_range(&rd->rng, 12, 30), 1, max64(1, m->duration / 6));
	kick = clamp64(8 + p.stamina * 20 / 1000 + rng_range(&rd->rng, 0, 8), 0, m->duration / 6);
	rd->kick_from = m->duration - (int)kick + 1;

	/* Cruising empties up to 60% of the tank over the whole race, however
	 * long it is; a sprint second costs 1.5% to 3.5%, a second of the
	 * final kick half that (it is paced to last to the line). */
	rd->drain_cruise = (1000 - p.stamina) * (ENERGY_FULL / 1000) * 6 / 10 / m->duration;
	rd->drain_sprint = 15000 + (1000 - p.stamina) * 20;
	rd->regain = 4000 + p.stamina * 6;
	rd->sprint_chance = (uint32_t)(3000 + p.aggression * 9);

	rd->cad = rd->start_cad;
	rd->res = rd->start_res;
	rd->energy = ENERGY_FULL;
	rd->phase = PHASE_WARMUP;
}

/* Picks the phase for second t. */
static void rider_plan(struct racemodel_rider *rd, int t)
{
	if (t <= rd->warmup) {
		rd->phase = PHASE_WARMUP;
		return;
	}
	if (t >= rd->kick_from) {
		rd->phase = PHASE_KICK;
		return;
	}
	switch (rd->phase) {
	case PHASE_WARMUP:
		rd->phase = PHASE_CRUISE;
		break;
	case PHASE_SPRINT:
		/* A sprint ends when planned or when the legs are empty. */
		if (--rd->phase_left <= 0 || rd->energy < ENERGY_FULL / 20) {
			rd->phase = PHASE_RECOVER;
			rd->phase_left = (int)rng_range(&rd->rng, 8, 20);
		}
		break;
	case PHASE_RECOVER:
		if (--rd->phase_left <= 0)
			rd->phase = PHASE_CRUISE;
		break;
	case PHASE_CRUISE:
	case PHASE_KICK:
		rd->phase = PHASE_CRUISE;
		break;
	}
	if (rd->phase == PHASE_CRUISE && rd->energy >= ENERGY_FULL * 2 / 5 &&
	    rng_below(&rd->rng, 1000000) < rd->sprint_chance) {
		rd->phase = PHASE_SPRINT;
		rd->phase_left = (int)rng_range(&rd->rng, 6, 15);
	}
}

/* Rides second t: moves cadence and resistance toward the plan. */
static void rider_step(struct racemodel_rider *rd, int t)
{
	int64_t spent = ENERGY_FULL - rd->energy;
	int64_t tired_cad = FATIGUE_CAD * spent / ENERGY_FULL;
	int64_t tired_res = FATIGUE_RES * spent / ENERGY_FULL;
	int64_t want_cad, want_res, pull, cad_sd, res_sd = 350;

	rider_plan(rd, t);
	switch (rd->phase) {
	case PHASE_WARMUP:
		want_cad = rd->start_cad + (int64_t)(rd->cruise_cad - rd->start_cad) * t / rd->warmup;
		want_res = rd->start_res + (int64_t)(rd->cruise_res - rd->start_res) * t / rd->warmup;
		pull = 60;
		cad_sd = 600;
		break;
	case PHASE_SPRINT:
		/* Racers dig deep in a sprint: half the fatigue shows. */
		want_cad = rd->peak_cad - tired_cad / 2;
		want_res = rd->peak_res - tired_res / 2;
		rd->energy -= rd->drain_sprint;
		pull = 40;
		cad_sd = 900;
		break;
	case PHASE_RECOVER:
		want_cad = rd->cruise_cad - tired_cad - 4000;
		want_res = rd->cruise_res - tired_res - 3000;
		rd->energy += rd->regain;
		pull = 25;
		cad_sd = 700;
		break;
	case PHASE_KICK: {
		/* The kick reaches the peak with 40% of the tank left, less
		 * with less. */
		int64_t reach = clamp64(rd->energy * 1000 / (ENERGY_FULL * 2 / 5), 0, 1000);

		want_cad = rd->cruise_cad + (rd->peak_cad - rd->cruise_cad) * reach / 1000 -
			   tired_cad / 2;
		want_res = rd->cruise_res + (rd->peak_res - rd->cruise_res) * reach / 1000 -
			   tired_res / 2;
		rd->energy -= rd->drain_sprint / 2;
		pull = 40;
		cad_sd = 900;
		break;
	}
	case PHASE_CRUISE:
	default:
		want_cad = rd->cruise_cad - tired_cad;
		want_res = rd->cruise_res - tired_res;
		rd->energy -= rd->drain_cruise;
		pull = 25;
		cad_sd = 700;
		break;
	}
	rd->energy = clamp64(rd->energy, 0, ENERGY_FULL);

	/* A pull toward the plan plus noise: pedalling wanders around the
	 * target instead of following it, and resistance (a knob) wanders
	 * less than cadence. Integer division truncates toward zero, the same
	 * either side of the target. */
	rd->cad = (int32_t)clamp64(rd->cad + (want_cad - rd->cad) * pull / 100 +
				   rng_normal_scaled(&rd->rng, cad_sd),
				   CAD_MIN, CAD_MAX);
	rd->res = (int32_t)clamp64(rd->res + (want_res - rd->res) * pull / 100 +
				   rng_normal_scaled(&rd->rng, res_sd),
				   RES_MIN, RES_MAX);
}

/* Thousandths to the nearest tenth, halves up (values are positive). */
static double to_tenths(int32_t milli)
{
	return (double)((milli + 50) / 100) / 10.0;
}

static void rider_record(const struct race_model *m, const struct racemodel_rider *rd,
			 int second, struct telemetry *out)
{
	size_t len = rd->name ? strlen(rd->name) : 0;

	memset(out, 0, sizeof(*out));
	out->final = second == m->duration;
	out->device_ts = m->start_ms + (int64_t)second * 1000;
	out->second = second;
	out->race_id = m->race_id;
	out->racer_id = rd->racer_id;
	out->class_id = m->class_id;
	out->cadence = to_tenths(rd->cad);
	out->resistance = to_tenths(rd->res);
	out->output = telemetry_output(out->cadence, out->resistance);
	if (len > TELEMETRY_NAME_MAX)
		len = TELEMETRY_NAME_MAX;
	memcpy(out->name, rd->name ? rd->name : "", len);
	out->name[len] = '\0';
}

static void restart(struct race_model *m)
{
	for (size_t i = 0; i < m->count; i++)
		rider_start(m, &m->riders[i], m->first + i);
	m->at = 0;
}

int racemodel_init(struct race_model *model, uint64_t seed, int64_t race_id, int class_id,
		   int duration_seconds, size_t first_racer_index, size_t racer_count,
		   const struct roster *roster, int64_t start_ms)
{
	memset(model, 0, sizeof(*model));
	if (class_id < 1 || class_id > TELEMETRY_CLASS_COUNT || duration_seconds < 1 ||
	    duration_seconds > TELEMETRY_SECOND_MAX || racer_count == 0 || roster == NULL ||
	    roster_racer_count(roster) == 0)
		return -1;
	model->riders = calloc(racer_count, sizeof(*model->riders));
	if (model->riders == NULL)
		return -1;
	model->seed = seed;
	model->race_id = race_id;
	model->class_id = class_id;
	model->duration = duration_seconds;
	model->start_ms = start_ms;
	model->first = first_racer_index;
	model->count = racer_count;
	model->roster = roster;
	restart(model);
	return 0;
}

int racemodel_second(struct race_model *model, int second, struct telemetry *out)
{
	if (second < 1 || second > model->duration || model->riders == NULL)
		return -1;
	if (second <= model->at)
		restart(model);
	for (size_t i = 0; i < model->count; i++) {
		struct racemodel_rider *rd = &model->riders[i];

		for (int t = model->at + 1; t <= second; t++)
			rider_step(rd, t);
		rider_record(model, rd, second, &out[i]);
	}
	model->at = second;
	return 0;
}

void racemodel_free(struct race_model *model)
{
	free(model->riders);
	memset(model, 0, sizeof(*model));
}

int64_t racemodel_race_id(uint64_t seed, int have_seed, int64_t now_ms, uint64_t run,
			  unsigned index)
{
	int64_t window;

	if (have_seed)
		return SEEDED_RACE_BASE +
		       (int64_t)(rng_mix(seed) % SEEDED_RACE_SLOTS) * SEEDED_RACE_SPAN + index;
	/* A clock stuck before 1970-01-04 still gives ids above the seeded
	 * ones, which end below 10^11. */
	window = now_ms / ORIGINAL_RACE_MS;
	if (window < CLOCK_WINDOW_MIN)
		window = CLOCK_WINDOW_MIN;
	return window * CLOCK_WINDOW_SPAN + (int64_t)(run % RACEMODEL_RUN_SLOTS) * RUN_SPAN + index;
}

int racemodel_race_class(int64_t race_id)
{
	return 1 + (int)(rng_hash2(STREAM_CLASS, (uint64_t)race_id) % TELEMETRY_CLASS_COUNT);
}
