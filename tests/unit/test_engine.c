/* Unit tests for src/race/engine.c: the ranking engine.
 *
 * Small hand-made races pin the rules (ranking, ties, gap, current values,
 * duplicates, lifecycle, class bests); property tests check that any order
 * of a race's records, with repeats and conflicting versions, gives the
 * standings of the in-order run, and that those match a brute-force
 * computation from the records. The real racer model needs the data files:
 * they are read from $top_srcdir/data. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "race/engine.h"
#include "race/racemodel.h"
#include "race/roster.h"
#include "util/errtext.h"
#include "util/rng.h"
#include "wire/telemetry.h"

#define DURATION 300
#define RACE 5400802
#define SEEDS 20

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static struct telemetry rec(int64_t race_id, int64_t racer_id, int second, double cadence,
			    double resistance)
{
	struct telemetry t;

	memset(&t, 0, sizeof(t));
	t.race_id = race_id;
	t.racer_id = racer_id;
	t.second = second;
	t.class_id = 3;
	t.cadence = cadence;
	t.resistance = resistance;
	t.output = telemetry_output(cadence, resistance);
	t.device_ts = 1620240672076 + second * 1000;
	snprintf(t.name, sizeof(t.name), "racer%lld", (long long)racer_id);
	return t;
}

/* A record whose output is exactly `output` (units of 1/10000): the tests
 * of ranking want round numbers, not the formula. */
static struct telemetry rec_out(int64_t race_id, int64_t racer_id, int second, int64_t output)
{
	struct telemetry t = rec(race_id, racer_id, second, 50.0, 50.0);

	t.output = output;
	return t;
}

static const char *result_name(enum engine_result r)
{
	switch (r) {
	case ENGINE_APPLIED:
		return "APPLIED";
	case ENGINE_DUPLICATE:
		return "DUPLICATE";
	case ENGINE_LATE:
		return "LATE";
	case ENGINE_REJECTED:
		return "REJECTED";
	case ENGINE_OTHER_CLASS:
		return "OTHER_CLASS";
	case ENGINE_NO_MEMORY:
		return "NO_MEMORY";
	}
	return "?";
}

static void apply_expect(struct engine *e, const struct telemetry *t, int64_t arrival_ms,
			 enum engine_result want)
{
	enum engine_result got = engine_apply(e, t, arrival_ms);

	if (got != want)
		fail_msg("race %lld racer %lld second %d: got %s, expected %s",
			 (long long)t->race_id, (long long)t->racer_id, t->second,
			 result_name(got), result_name(want));
}

static struct engine *engine_ok(int duration)
{
	struct engine *e = engine_new(duration);

	assert_non_null(e);
	return e;
}

static struct engine_race *race_ok(struct engine *e, int64_t race_id)
{
	struct engine_race *r = engine_find_race(e, race_id);

	if (r == NULL)
		fail_msg("race %lld is not live", (long long)race_id);
	return r;
}

/* The whole standings of a race (malloc'd). */
static struct engine_standing *standings_all(const struct engine_race *r, size_t *count)
{
	struct engine_race_info info;
	struct engine_standing *s;

	engine_race_info(r, &info);
	s = calloc(info.racers + 1, sizeof(*s));
	assert_non_null(s);
	*count = engine_standings(r, 0, info.racers + 1, s);
	assert_int_equal(*count, info.racers);
	return s;
}

static void assert_same_line(const struct engine_standing *a, const struct engine_standing *b)
{
	if (a->racer_id != b->racer_id)
		fail_msg("rank %d: racer %lld, expected %lld", a->rank, (long long)a->racer_id,
			 (long long)b->racer_id);
	assert_int_equal(a->rank, b->rank);
	assert_int_equal(a->rank_change, b->rank_change);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->score, b->score);
	assert_int_equal(a->output, b->output);
	assert_true(a->cadence == b->cadence);
	assert_true(a->resistance == b->resistance);
	assert_int_equal(a->second, b->second);
	assert_int_equal(a->gap, b->gap);
	assert_int_equal(a->final, b->final);
	assert_int_equal(a->beats_best, b->beats_best);
	assert_memory_equal(a->spark, b->spark, sizeof(a->spark));
}

/* Every field of the standings and of the race info; arrival times too
 * when with_arrivals (they are only order independent when repeats carry
 * the arrival of their original). */
static void assert_same_race(const struct engine_race *a, const struct engine_race *b,
			     bool with_arrivals)
{
	struct engine_race_info x, y;
	struct engine_standing *sa, *sb;
	size_t na, nb;

	engine_race_info(a, &x);
	engine_race_info(b, &y);
	assert_int_equal(x.race_id, y.race_id);
	assert_int_equal(x.class_id, y.class_id);
	assert_int_equal(x.second, y.second);
	assert_int_equal(x.racers, y.racers);
	assert_int_equal(x.records, y.records);
	assert_int_equal(x.all_final, y.all_final);
	if (with_arrivals) {
		assert_int_equal(x.first_arrival_ms, y.first_arrival_ms);
		assert_int_equal(x.last_arrival_ms, y.last_arrival_ms);
	}
	sa = standings_all(a, &na);
	sb = standings_all(b, &nb);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_same_line(&sa[i], &sb[i]);
	free(sa);
	free(sb);
}

/* What must hold of any standings: sorted by score then racerId, ranks
 * 1..n, gaps from the leader, rank_of agreeing with the position. */
static void check_standings(const struct engine_race *r)
{
	struct engine_standing *s;
	size_t n;

	s = standings_all(r, &n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s[i].rank, (int)i + 1);
		assert_int_equal(s[i].gap, s[0].score - s[i].score);
		assert_int_equal(engine_rank_of(r, s[i].racer_id), (int)i + 1);
		if (i > 0 && !(s[i - 1].score > s[i].score ||
			       (s[i - 1].score == s[i].score && s[i - 1].racer_id < s[i].racer_id)))
			fail_msg("ranks %zu and %zu out of order", i, i + 1);
	}
	free(s);
}

/* ------------------------------------------------------------------------
 * Generated races: records with gaps, early finishers, and conflicting
 * versions of some (racer, second) keys, each with its arrival time.
 * ------------------------------------------------------------------------ */

struct item {
	struct telemetry t;
	int64_t arrival_ms;
};

struct recs {
	struct item *items;
	size_t count, capacity;
};

static void recs_add(struct recs *rs, const struct telemetry *t, int64_t arrival_ms)
{
	if (rs->count == rs->capacity) {
		rs->capacity = rs->capacity ? rs->capacity * 2 : 1024;
		rs->items = realloc(rs->items, rs->capacity * sizeof(*rs->items));
		assert_non_null(rs->items);
	}
	rs->items[rs->count].t = *t;
	rs->items[rs->count].arrival_ms = arrival_ms;
	rs->count++;
}

static void recs_free(struct recs *rs)
{
	free(rs->items);
	memset(rs, 0, sizeof(*rs));
}

static double tenths(struct rng *g, int lo, int hi)
{
	return (double)rng_range(g, lo * 10, hi * 10) / 10.0;
}

/* racers x duration with a deterministic generator: some racers join late,
 * skip seconds or stop early (final at their last second), the first
 * racer excepted at second 1; 5% of keys get
 * a second version with other values (higher or lower output, another
 * name, or only another name that sorts before or after the first). A
 * race's records agree on its class (those that do not are refused, see
 * test_other_class_is_bad), so the order cannot matter. */
static void gen_race(struct recs *rs, uint64_t seed, int64_t race_id, int racers, int duration)
{
	struct rng g;

	rng_seed(&g, seed);
	for (int i = 0; i < racers; i++) {
		int64_t id = 100 + i * 3;
		int from = i > 0 && rng_below(&g, 4) == 0 ? (int)rng_range(&g, 1, duration / 3) : 1;
		int to = rng_below(&g, 5) == 0 ? (int)rng_range(&g, from, duration) : duration;

		for (int s = from; s <= to; s++) {
			struct telemetry t;

			if (s != from && s != to && rng_below(&g, 20) == 0)
				continue;       /* a second lost on the way */
			t = rec(race_id, id, s, tenths(&g, 30, 90), tenths(&g, 33, 86));
			t.final = s == to;
			recs_add(rs, &t, 1000000 + (int64_t)s * 1000);
			if (rng_below(&g, 20) == 0) {
				/* A quarter of the versions differ by their name alone. */
				if (rng_below(&g, 4) != 0) {
					t.cadence = tenths(&g, 30, 90);
					t.resistance = tenths(&g, 33, 86);
					t.output = telemetry_output(t.cadence, t.resistance);
				}
				if (rng_below(&g, 2) == 0)
					snprintf(t.name, sizeof(t.name), "alias%d", i);
				else
					snprintf(t.name, sizeof(t.name), "Racer%d", i);
				recs_add(rs, &t, 1000000 + (int64_t)s * 1000 + 500);
			}
		}
	}
}

/* The records of the real model, racer by racer within each second. */
static void model_race(struct recs *rs, const struct roster *roster, uint64_t seed,
		       int64_t race_id, int class_id, size_t racers, int duration)
{
	struct race_model m;
	struct telemetry *second = calloc(racers, sizeof(*second));

	assert_non_null(second);
	assert_int_equal(racemodel_init(&m, seed, race_id, class_id, duration, 0, racers, roster,
					1620240672076), 0);
	for (int s = 1; s <= duration; s++) {
		assert_int_equal(racemodel_second(&m, s, second), 0);
		for (size_t i = 0; i < racers; i++)
			recs_add(rs, &second[i], 1620240672076 + (int64_t)s * 1000);
	}
	racemodel_free(&m);
	free(second);
}

static void load_real_roster(struct roster *roster)
{
	const char *top = getenv("top_srcdir");
	char dir[1024], err[ERR_TEXT_MAX];

	snprintf(dir, sizeof(dir), "%s/data", top && *top ? top : ".");
	if (roster_load(roster, dir, err, sizeof(err)) != 0)
		fail_msg("cannot load the roster from %s (set top_srcdir to the source tree): %s",
			 dir, err);
}

/* A copy of the records, 10% of them sent twice (with their arrival
 * time), in a random order. */
static void shuffled_copy(const struct recs *in, uint64_t seed, struct recs *out)
{
	struct rng g;

	rng_seed(&g, seed);
	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < in->count; k++)
		recs_add(out, &in->items[k].t, in->items[k].arrival_ms);
	for (size_t k = 0; k < in->count / 10; k++) {
		const struct item *it = &in->items[rng_below(&g, in->count)];

		recs_add(out, &it->t, it->arrival_ms);
	}
	for (size_t k = out->count - 1; k > 0; k--) {
		size_t j = (size_t)rng_below(&g, k + 1);
		struct item tmp = out->items[k];

		out->items[k] = out->items[j];
		out->items[j] = tmp;
	}
}

static void apply_all(struct engine *e, const struct recs *rs)
{
	for (size_t k = 0; k < rs->count; k++) {
		enum engine_result got = engine_apply(e, &rs->items[k].t, rs->items[k].arrival_ms);

		if (got != ENGINE_APPLIED && got != ENGINE_DUPLICATE)
			fail_msg("record %zu: %s", k, result_name(got));
	}
}

/* ------------------------------------------------------------------------
 * The oracle: standings computed the slow and obvious way, straight from
 * the ranking rules (best output, ties by racerId).
 * ------------------------------------------------------------------------ */

struct oracle_line {
	int64_t racer_id;
	int64_t score;
	int latest;
	struct telemetry best_latest;   /* the greatest record of the latest second */
	bool final;
};

static bool oracle_greater(const struct telemetry *a, const struct telemetry *b)
{
	if (a->output != b->output)
		return a->output > b->output;
	if (a->cadence != b->cadence)
		return a->cadence > b->cadence;
	if (a->resistance != b->resistance)
		return a->resistance > b->resistance;
	return strcmp(a->name, b->name) > 0;
}

static int oracle_cmp(const void *pa, const void *pb)
{
	const struct oracle_line *a = pa, *b = pb;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return (a->racer_id > b->racer_id) - (a->racer_id < b->racer_id);
}

static void check_against_oracle(const struct engine_race *r, const struct recs *rs,
				 int64_t race_id)
{
	struct oracle_line *lines = calloc(rs->count, sizeof(*lines));
	struct engine_standing *s;
	size_t n = 0, got;

	assert_non_null(lines);
	for (size_t k = 0; k < rs->count; k++) {
		const struct telemetry *t = &rs->items[k].t;
		struct oracle_line *l = NULL;

		if (t->race_id != race_id)
			continue;
		for (size_t j = 0; j < n && !l; j++)
			if (lines[j].racer_id == t->racer_id)
				l = &lines[j];
		if (l == NULL) {
			l = &lines[n++];
			l->racer_id = t->racer_id;
			l->score = -1;
		}
		if (t->output > l->score)
			l->score = t->output;
		if (t->final)
			l->final = true;
		if (t->second > l->latest ||
		    (t->second == l->latest && oracle_greater(t, &l->best_latest))) {
			l->latest = t->second;
			l->best_latest = *t;
		}
	}
	qsort(lines, n, sizeof(*lines), oracle_cmp);
	s = standings_all(r, &got);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++) {
		if (s[i].racer_id != lines[i].racer_id)
			fail_msg("rank %zu: racer %lld, the oracle says %lld", i + 1,
				 (long long)s[i].racer_id, (long long)lines[i].racer_id);
		assert_int_equal(s[i].score, lines[i].score);
		assert_int_equal(s[i].second, lines[i].latest);
		assert_int_equal(s[i].output, lines[i].best_latest.output);
		assert_true(s[i].cadence == lines[i].best_latest.cadence);
		assert_true(s[i].resistance == lines[i].best_latest.resistance);
		assert_string_equal(s[i].name, lines[i].best_latest.name);
		assert_int_equal(s[i].final, lines[i].final);
		assert_int_equal(s[i].gap, lines[0].score - lines[i].score);
	}
	free(s);
	free(lines);
}

/* ------------------------------------------------------------------------
 * Ranking rules
 * ------------------------------------------------------------------------ */

static void test_basic_ranking(void **state)
{
	struct engine *e = engine_ok(DURATION);
	struct telemetry t;
	struct engine_standing s[8];
	struct engine_race_info info;
	struct engine_race *r;

	(void)state;
	t = rec(RACE, 100, 1, 81.0, 79.0);
	apply_expect(e, &t, 1000, ENGINE_APPLIED);
	t = rec(RACE, 101, 1, 60.0, 50.0);
	apply_expect(e, &t, 1000, ENGINE_APPLIED);
	t = rec(RACE, 102, 1, 90.0, 86.0);
	apply_expect(e, &t, 1000, ENGINE_APPLIED);
	r = race_ok(e, RACE);

	assert_int_equal(engine_standings(r, 0, 8, s), 3);
	assert_int_equal(s[0].racer_id, 102);
	assert_int_equal(s[1].racer_id, 100);
	assert_int_equal(s[2].racer_id, 101);
	/* The example record: (81 + 35) * (79 + 65) / 100 = 167.04. */
	assert_int_equal(s[1].score, 1670400);
	assert_int_equal(s[0].score, telemetry_output(90.0, 86.0));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s[i].rank, i + 1);
		assert_int_equal(s[i].gap, s[0].score - s[i].score);
		assert_int_equal(s[i].rank_change, 0);
		assert_false(s[i].final);
		assert_int_equal(s[i].second, 1);
	}
	assert_string_equal(s[1].name, "racer100");
	assert_true(s[1].cadence == 81.0 && s[1].resistance == 79.0);
	assert_int_equal(s[1].output, 1670400);

	engine_race_info(r, &info);
	assert_int_equal(info.race_id, RACE);
	assert_int_equal(info.class_id, 3);
	assert_int_equal(info.racers, 3);
	assert_int_equal(info.records, 3);
	assert_int_equal(info.second, 1);
	assert_false(info.all_final);
	engine_free(e);
}

static void test_ties_by_racer_id(void **state)
{
	struct engine *e = engine_ok(DURATION);
	struct telemetry t;
	struct engine_standing s[8];
	struct engine_race *r;

	(void)state;
	/* Arrival order is the reverse of the expected ranks among equals. */
	t = rec_out(RACE, 300, 1, 1000000);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 200, 1, 1000000);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 250, 1, 900000);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 100, 1, 1000000);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	r = race_ok(e, RACE);
	assert_int_equal(engine_standings(r, 0, 8, s), 4);
	assert_int_equal(s[0].racer_id, 100);
	assert_int_equal(s[1].racer_id, 200);
	assert_int_equal(s[2].racer_id, 300);
	assert_int_equal(s[3].racer_id, 250);
	assert_int_equal(s[2].gap, 0);
	assert_int_equal(s[3].gap, 100000);

	/* 250 climbs into the tie, behind 200 and ahead of 300. */
	t = rec_out(RACE, 250, 2, 1000000);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	assert_int_equal(engine_standings(r, 0, 8, s), 4);
	assert_int_equal(s[2].racer_id, 250);
	assert_int_equal(s[3].racer_id, 300);
	check_standings(r);
	engine_free(e);
}

/* Score is the best second; current values are those of the latest
 * second, whichever arrived last. */
static void test_score_and_current_values(void **state)
{
	struct engine *e = engine_ok(DURATION);
	struct telemetry t;
	struct engine_standing s[2];
	struct engine_race *r;

	(void)state;
	t = rec(RACE, 100, 5, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec(RACE, 100, 3, 90.0, 86.0);             /* earlier, but the best */
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec(RACE, 100, 4, 40.0, 40.0);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	r = race_ok(e, RACE);
	assert_int_equal(engine_standings(r, 0, 2, s), 1);
	assert_int_equal(s[0].score, telemetry_output(90.0, 86.0));
	assert_int_equal(s[0].second, 5);
	assert_int_equal(s[0].output, telemetry_output(50.0, 50.0));
	assert_true(s[0].cadence == 50.0 && s[0].resistance == 50.0);

	/* A later second takes over the current values and the name. */
	t = rec(RACE, 100, 6, 45.5, 60.2);
	strcpy(t.name, "Hayden");
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	assert_int_equal(engine_standings(r, 0, 2, s), 1);
	assert_int_equal(s[0].second, 6);
	assert_true(s[0].cadence == 45.5 && s[0].resistance == 60.2);
	assert_string_equal(s[0].name, "Hayden");
	assert_int_equal(s[0].score, telemetry_output(90.0, 86.0));

	/* An earlier second never takes the name back. */
	t = rec(RACE, 100, 2, 30.0, 33.0);
	strcpy(t.name, "Old name");
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	assert_int_equal(engine_standings(r, 0, 2, s), 1);
	assert_string_equal(s[0].name, "Hayden");
	engine_free(e);
}

static void test_final_and_all_final(void **state)
{
	struct engine *e = engine_ok(10);
	struct telemetry t;
	struct engine_standing s[2];
	struct engine_race_info info;
	struct engine_race *r;

	(void)state;
	t = rec(RACE, 100, 10, 50.0, 50.0);
	t.final = true;
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec(RACE, 101, 9, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	r = race_ok(e, RACE);
	engine_race_info(r, &info);
	assert_false(info.all_final);

	/* Final sticks even when a later second arrives without it. */
	t = rec(RACE, 101, 8, 50.0, 50.0);
	t.final = true;
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec(RACE, 101, 9, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_DUPLICATE);
	engine_race_info(r, &info);
	assert_true(info.all_final);
	assert_int_equal(engine_standings(r, 0, 2, s), 2);
	assert_true(s[0].final && s[1].final);

	/* A racer who has not finished makes the race not all final again. */
	t = rec(RACE, 102, 9, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	engine_race_info(r, &info);
	assert_false(info.all_final);

	/* "final" for a second already seen still counts. */
	t.final = true;
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	engine_race_info(r, &info);
	assert_true(info.all_final);
	assert_int_equal(info.records, 4);
	engine_free(e);
}

/* Applies a record of racer at second of RACE, in class_id, of output
 * 100 * arrival (so that a merge would show). */
static void apply_class(struct engine *e, int64_t racer, int second, int class_id,
			int64_t arrival, enum engine_result want)
{
	struct telemetry t = rec_out(RACE, racer, second, 100 * arrival);

	t.class_id = class_id;
	apply_expect(e, &t, arrival, want);
}

/* A race's class is its first record's, whatever its key; a record of
 * another class is refused, at any second and for any racer, new or not,
 * and changes nothing: not the standings, not the race's arrival times. */
static void test_class_from_first_record(void **state)
{
	struct engine *e = engine_ok(DURATION);
	struct engine_race_info info;
	struct engine_standing row;

	(void)state;
	apply_class(e, 100, 2, 4, 10, ENGINE_APPLIED);
	apply_class(e, 100, 1, 4, 20, ENGINE_APPLIED);
	apply_class(e, 101, 1, 2, 30, ENGINE_OTHER_CLASS);     /* a lower key switches nothing */
	apply_class(e, 100, 1, 6, 40, ENGINE_OTHER_CLASS);
	apply_class(e, 100, 3, 6, 50, ENGINE_OTHER_CLASS);
	engine_race_info(race_ok(e, RACE), &info);
	assert_int_equal(info.class_id, 4);
	assert_int_equal(info.racers, 1);
	assert_int_equal(info.records, 2);
	assert_int_equal(info.second, 2);
	assert_int_equal(info.first_arrival_ms, 10);
	assert_int_equal(info.last_arrival_ms, 20);
	assert_int_equal(engine_standings(race_ok(e, RACE), 0, 1, &row), 1);
	assert_int_equal(row.score, 100 * 20);         /* the best of the class-4 records */
	engine_free(e);
}

/* The bug: two simulators sent raceId 5987848000 with racers 100..102,
 * one as class 6, the other as class 4, and one race of class 6 showed
 * the best of both. The second simulator's records are bad, not merged,
 * and the race keeps what the first one sent; after a save and restore
 * too (a restarted consumer replays the second one's records). */
static void test_other_class_is_bad(void **state)
{
	struct engine *e = engine_ok(DURATION), *again = engine_ok(DURATION);
	struct engine_standing rows[3];
	struct engine_race_info info;
	void *saved;
	size_t len;

	(void)state;
	for (int s = 1; s <= 5; s++)
		for (int64_t id = 100; id <= 102; id++) {
			struct telemetry first = rec_out(5987848000, id, s, 1000 * s + id);
			struct telemetry second = rec_out(5987848000, id, s, 9000 * s + id);

			first.class_id = 6;
			second.class_id = 4;
			apply_expect(e, &first, s, ENGINE_APPLIED);
			apply_expect(e, &second, s, ENGINE_OTHER_CLASS);
		}
	engine_race_info(race_ok(e, 5987848000), &info);
	assert_int_equal(info.class_id, 6);
	assert_int_equal(info.records, 15);
	assert_int_equal(engine_standings(race_ok(e, 5987848000), 0, 3, rows), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rows[i].score, 5000 + rows[i].racer_id);   /* the first one's */

	saved = engine_race_save(race_ok(e, 5987848000), &len);
	assert_non_null(saved);
	assert_int_equal(engine_race_restore(again, saved, len), 0);
	free(saved);
	{
		struct telemetry second = rec_out(5987848000, 101, 3, 27101);

		second.class_id = 4;
		apply_expect(again, &second, 9, ENGINE_OTHER_CLASS);
	}
	engine_race_info(race_ok(again, 5987848000), &info);
	assert_int_equal(info.class_id, 6);
	assert_same_race(race_ok(again, 5987848000), race_ok(e, 5987848000), false);
	engine_free(e);
	engine_free(again);
}

/* The racer's latest second: past the sparkline's seconds. */
#define SPARK_LAST (ENGINE_SPARK_SECONDS + 9)  /* sent: not a multiple of 7 */

static void test_spark(void **state)
{
	struct engine *e = engine_ok(DURATION);
	struct telemetry t;
	struct engine_standing s[2];
	struct engine_race *r;

	(void)state;
	for (int sec = 1; sec <= SPARK_LAST; sec++) {
		if (sec % 7 == 0)
			continue;
		t = rec_out(RACE, 100, sec, 10000 * sec);
		apply_expect(e, &t, 0, ENGINE_APPLIED);
	}
	t = rec_out(RACE, 101, 3, 5);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	r = race_ok(e, RACE);
	assert_int_equal(engine_standings(r, 0, 2, s), 2);

	/* The last ENGINE_SPARK_SECONDS seconds, oldest first, -1 for the
	 * ones never sent. */
	for (int k = 0; k < ENGINE_SPARK_SECONDS; k++) {
		int sec = SPARK_LAST - (ENGINE_SPARK_SECONDS - 1) + k;

		assert_int_equal(s[0].spark[k], sec % 7 == 0 ? -1 : 10000 * sec);
	}
	/* Before second 1 there is nothing; second 2 was not sent. */
	for (int k = 0; k < ENGINE_SPARK_SECONDS - 1; k++)
		assert_int_equal(s[1].spark[k], -1);
	assert_int_equal(s[1].spark[ENGINE_SPARK_SECONDS - 1], 5);
	engine_free(e);
}

/* ------------------------------------------------------------------------
 * Duplicates, late and rejected records
 * ------------------------------------------------------------------------ */

static void test_duplicates(void **state)
{
	struct engine *e = engine_ok(DURATION);
	struct telemetry t, lower, higher;
	struct engine_standing s[2];
	struct engine_race_info info;
	struct engine_race *r;

	(void)state;
	t = rec(RACE, 100, 7, 60.0, 60.0);
	apply_expect(e, &t, 1000, ENGINE_APPLIED);
	apply_expect(e, &t, 2000, ENGINE_DUPLICATE);
	apply_expect(e, &t, 3000, ENGINE_DUPLICATE);
	r = race_ok(e, RACE);
	engine_race_info(r, &info);
	assert_int_equal(info.records, 1);
	/* A repeat is still a record arriving: the race is alive. */
	assert_int_equal(info.first_arrival_ms, 1000);
	assert_int_equal(info.last_arrival_ms, 3000);

	/* A different version of the key: the lower changes nothing... */
	lower = rec(RACE, 100, 7, 40.0, 40.0);
	apply_expect(e, &lower, 0, ENGINE_DUPLICATE);
	engine_race_info(r, &info);
	assert_int_equal(info.first_arrival_ms, 0);
	assert_int_equal(engine_standings(r, 0, 2, s), 1);
	assert_int_equal(s[0].score, telemetry_output(60.0, 60.0));
	assert_true(s[0].cadence == 60.0);

	/* ...the higher one wins, with its cadence and resistance. */
	higher = rec(RACE, 100, 7, 70.0, 65.0);
	apply_expect(e, &higher, 0, ENGINE_APPLIED);
	apply_expect(e, &higher, 0, ENGINE_DUPLICATE);
	apply_expect(e, &t, 0, ENGINE_DUPLICATE);
	assert_int_equal(engine_standings(r, 0, 2, s), 1);
	assert_int_equal(s[0].score, telemetry_output(70.0, 65.0));
	assert_int_equal(s[0].output, telemetry_output(70.0, 65.0));
	assert_true(s[0].cadence == 70.0 && s[0].resistance == 65.0);
	engine_race_info(r, &info);
	assert_int_equal(info.records, 1);

	/* Equal output, other values: the greater cadence wins, either way round. */
	t = rec_out(RACE, 101, 1, 500);
	t.cadence = 10.0;
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t.cadence = 20.0;
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t.cadence = 10.0;
	apply_expect(e, &t, 0, ENGINE_DUPLICATE);
	assert_int_equal(engine_standings(r, 1, 1, s), 1);
	assert_true(s[0].cadence == 20.0);

	/* -0.0 and 0.0 are equal: which arrived first must not show. */
	t = rec_out(RACE, 102, 1, 500);
	t.cadence = -0.0;
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t.cadence = 0.0;
	apply_expect(e, &t, 0, ENGINE_DUPLICATE);
	assert_int_equal(engine_standings(r, 2, 1, s), 1);
	assert_int_equal(s[0].racer_id, 102);
	assert_false(signbit(s[0].cadence));

	/* All equal but the name: the greater name wins, either way round. */
	t = rec_out(RACE, 101, 1, 500);
	t.cadence = 20.0;
	strcpy(t.name, "Bea");                          /* before "racer101" */
	apply_expect(e, &t, 0, ENGINE_DUPLICATE);
	strcpy(t.name, "zed");
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	strcpy(t.name, "racer101");
	apply_expect(e, &t, 0, ENGINE_DUPLICATE);
	assert_int_equal(engine_standings(r, 1, 1, s), 1);
	assert_string_equal(s[0].name, "zed");
	engine_free(e);
}

static void test_rejected(void **state)
{
	struct engine *e = engine_ok(300);
	struct telemetry t;

	(void)state;
	t = rec(RACE, 100, 301, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_REJECTED);
	t.second = 0;
	apply_expect(e, &t, 0, ENGINE_REJECTED);
	t = rec(RACE, -1, 1, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_REJECTED);
	t = rec(-5, 100, 1, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_REJECTED);
	t = rec(RACE, 100, 1, 50.0, 50.0);
	t.class_id = 7;
	apply_expect(e, &t, 0, ENGINE_REJECTED);
	t.class_id = 0;
	apply_expect(e, &t, 0, ENGINE_REJECTED);
	t = rec_out(RACE, 100, 1, (int64_t)INT32_MAX + 1);
	apply_expect(e, &t, 0, ENGINE_REJECTED);
	t = rec_out(RACE, 100, 1, -1);
	apply_expect(e, &t, 0, ENGINE_REJECTED);
	/* Rejected records open no race. */
	assert_int_equal(engine_race_count(e), 0);

	t = rec(RACE, 100, 300, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	assert_int_equal(engine_race_count(e), 1);
	assert_null(engine_new(0));
	assert_int_equal(engine_duration(e), 300);
	engine_free(e);
}

static void test_late_after_drop(void **state)
{
	struct engine *e = engine_ok(DURATION);
	struct telemetry t;

	(void)state;
	/* RACE is the race of the last record when it is dropped. */
	t = rec(RACE + 1, 100, 1, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec(RACE, 100, 1, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	assert_false(engine_race_ended(e, RACE));
	engine_drop_race(e, race_ok(e, RACE));
	assert_int_equal(engine_race_count(e), 1);
	assert_null(engine_find_race(e, RACE));
	assert_true(engine_race_ended(e, RACE));

	/* Any record of it now, old or new, is late; rejected stays rejected. */
	t = rec(RACE, 100, 1, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_LATE);
	t = rec(RACE, 999, 2, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_LATE);
	t.second = DURATION + 1;
	apply_expect(e, &t, 0, ENGINE_REJECTED);
	assert_int_equal(engine_race_count(e), 1);

	/* The other race goes on (and the race cache did not keep the dropped one). */
	t = rec(RACE + 1, 100, 2, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_APPLIED);

	/* Restored as ended: late before it was ever seen. */
	assert_int_equal(engine_mark_ended(e, 777), 0);
	assert_true(engine_race_ended(e, 777));
	t = rec(777, 100, 1, 50.0, 50.0);
	apply_expect(e, &t, 0, ENGINE_LATE);

	/* Many ended races: the set grows and forgets none. */
	for (int64_t id = 10000; id < 12000; id++) {
		if (id % 2) {
			assert_int_equal(engine_mark_ended(e, id), 0);
		} else {
			t = rec(id, 100, 1, 50.0, 50.0);
			apply_expect(e, &t, 0, ENGINE_APPLIED);
			engine_drop_race(e, race_ok(e, id));
		}
	}
	for (int64_t id = 10000; id < 12000; id++)
		assert_true(engine_race_ended(e, id));
	assert_false(engine_race_ended(e, 12000));
	assert_true(engine_race_ended(e, RACE));
	assert_int_equal(engine_race_count(e), 1);
	engine_free(e);
}

static void test_races_in_id_order(void **state)
{
	static const int64_t ids[] = { 30, 10, 50, 20, 40, 0 };
	struct engine *e = engine_ok(DURATION);
	struct engine_race_info info;
	struct telemetry t;

	(void)state;
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		t = rec(ids[k], 100, 1, 50.0, 50.0);
		apply_expect(e, &t, 0, ENGINE_APPLIED);
	}
	assert_int_equal(engine_race_count(e), 6);
	for (size_t k = 0; k < 6; k++) {
		engine_race_info(engine_race_at(e, k), &info);
		assert_int_equal(info.race_id, (int64_t)k * 10);
		assert_ptr_equal(engine_find_race(e, (int64_t)k * 10), engine_race_at(e, k));
	}
	assert_null(engine_race_at(e, 6));
	assert_null(engine_find_race(e, 15));
	engine_drop_race(e, race_ok(e, 20));
	engine_race_info(engine_race_at(e, 2), &info);
	assert_int_equal(info.race_id, 30);
	engine_free(e);
}

/* ------------------------------------------------------------------------
 * Property tests: order, repeats and conflicting versions change nothing
 * ------------------------------------------------------------------------ */

static void test_property_generated(void **state)
{
	struct recs rs = { 0 };
	struct engine *ref = engine_ok(DURATION);

	(void)state;
	gen_race(&rs, 1, RACE, 50, DURATION);
	apply_all(ref, &rs);
	check_standings(race_ok(ref, RACE));
	check_against_oracle(race_ok(ref, RACE), &rs, RACE);
	{
		struct engine_race_info info;

		engine_race_info(race_ok(ref, RACE), &info);
		assert_int_equal(info.class_id, 3);
	}
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct recs mixed;
		struct engine *e = engine_ok(DURATION);

		shuffled_copy(&rs, seed, &mixed);
		apply_all(e, &mixed);
		assert_same_race(race_ok(e, RACE), race_ok(ref, RACE), true);
		check_standings(race_ok(e, RACE));
		recs_free(&mixed);
		engine_free(e);
	}
	recs_free(&rs);
	engine_free(ref);
}

static void test_property_model(void **state)
{
	struct roster roster;
	struct recs rs = { 0 };
	struct engine *ref = engine_ok(DURATION);

	(void)state;
	load_real_roster(&roster);
	model_race(&rs, &roster, 42, RACE, 3, 50, DURATION);
	apply_all(ref, &rs);
	check_standings(race_ok(ref, RACE));
	check_against_oracle(race_ok(ref, RACE), &rs, RACE);
	{
		struct engine_race_info info;

		engine_race_info(race_ok(ref, RACE), &info);
		assert_true(info.all_final);
		assert_int_equal(info.records, 50 * DURATION);
		assert_int_equal(info.second, DURATION);
	}
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct recs mixed;
		struct engine *e = engine_ok(DURATION);

		shuffled_copy(&rs, seed * 7919, &mixed);
		apply_all(e, &mixed);
		assert_same_race(race_ok(e, RACE), race_ok(ref, RACE), true);
		recs_free(&mixed);
		engine_free(e);
	}
	recs_free(&rs);
	roster_free(&roster);
	engine_free(ref);
}

/* Two races at once, their records interleaved at random: each ends as
 * it does alone. */
static void test_property_two_races(void **state)
{
	struct recs a = { 0 }, b = { 0 }, both = { 0 };
	struct engine *ref_a = engine_ok(DURATION), *ref_b = engine_ok(DURATION);

	(void)state;
	gen_race(&a, 11, RACE, 40, DURATION);
	gen_race(&b, 12, RACE + 7, 40, DURATION);
	apply_all(ref_a, &a);
	apply_all(ref_b, &b);
	for (size_t k = 0; k < a.count; k++)
		recs_add(&both, &a.items[k].t, a.items[k].arrival_ms);
	for (size_t k = 0; k < b.count; k++)
		recs_add(&both, &b.items[k].t, b.items[k].arrival_ms);
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct recs mixed;
		struct engine *e = engine_ok(DURATION);

		shuffled_copy(&both, seed + 1000, &mixed);
		apply_all(e, &mixed);
		assert_int_equal(engine_race_count(e), 2);
		assert_same_race(race_ok(e, RACE), race_ok(ref_a, RACE), true);
		assert_same_race(race_ok(e, RACE + 7), race_ok(ref_b, RACE + 7), true);
		recs_free(&mixed);
		engine_free(e);
	}
	recs_free(&a);
	recs_free(&b);
	recs_free(&both);
	engine_free(ref_a);
	engine_free(ref_b);
}

/* ------------------------------------------------------------------------
 * Rank queries and rank changes
 * ------------------------------------------------------------------------ */

static void test_rank_queries(void **state)
{
	struct recs rs = { 0 };
	struct engine *e = engine_ok(DURATION);
	struct engine_standing *all, page[7];
	struct engine_race *r;
	size_t n;

	(void)state;
	gen_race(&rs, 5, RACE, 60, DURATION);
	/* Checked while the race goes on, not only at its end. */
	for (size_t k = 0; k < rs.count; k++) {
		apply_all(e, &(struct recs){ .items = &rs.items[k], .count = 1 });
		if (k % 997 == 0)
			check_standings(race_ok(e, RACE));
	}
	r = race_ok(e, RACE);
	all = standings_all(r, &n);
	assert_int_equal(n, 60);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(engine_rank_of(r, all[i].racer_id), (int)i + 1);
	assert_int_equal(engine_rank_of(r, 99), 0);
	assert_int_equal(engine_rank_of(r, 101), 0);
	assert_int_equal(engine_rank_of(r, -1), 0);

	for (size_t first = 0; first <= n + 3; first += 7) {
		size_t got = engine_standings(r, first, 7, page);
		size_t want = first >= n ? 0 : (n - first < 7 ? n - first : 7);

		assert_int_equal(got, want);
		for (size_t i = 0; i < got; i++)
			assert_same_line(&page[i], &all[first + i]);
	}
	assert_int_equal(engine_standings(r, 0, 0, page), 0);
	assert_int_equal(engine_standings(r, SIZE_MAX, 7, page), 0);
	free(all);
	recs_free(&rs);
	engine_free(e);
}

static void test_rank_change(void **state)
{
	struct engine *e = engine_ok(DURATION);
	struct telemetry t;
	struct engine_standing s[8];
	struct engine_race *r;

	(void)state;
	t = rec_out(RACE, 100, 1, 300);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 101, 1, 200);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 102, 1, 100);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	r = race_ok(e, RACE);
	engine_standings(r, 0, 8, s);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s[i].rank_change, 0);  /* no tick yet */

	engine_tick(e);
	t = rec_out(RACE, 102, 2, 400);                 /* 3rd to 1st */
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 103, 1, 250);                 /* new since the tick */
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	assert_int_equal(engine_standings(r, 0, 8, s), 4);
	assert_int_equal(s[0].racer_id, 102);
	assert_int_equal(s[0].rank_change, 2);
	assert_int_equal(s[1].racer_id, 100);
	assert_int_equal(s[1].rank_change, -1);
	assert_int_equal(s[2].racer_id, 103);
	assert_int_equal(s[2].rank_change, 0);
	assert_int_equal(s[3].racer_id, 101);
	assert_int_equal(s[3].rank_change, -2);

	engine_tick(e);
	assert_int_equal(engine_standings(r, 0, 8, s), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(s[i].rank_change, 0);
	engine_free(e);
}

/* ------------------------------------------------------------------------
 * Save and restore
 * ------------------------------------------------------------------------ */

static void test_save_restore_round_trip(void **state)
{
	struct roster roster;
	struct recs rs = { 0 }, more = { 0 };
	struct engine *a = engine_ok(DURATION), *b = engine_ok(DURATION);
	size_t half, len, len2;
	void *blob, *blob2;

	(void)state;
	load_real_roster(&roster);
	model_race(&rs, &roster, 7, RACE, 2, 120, DURATION);
	/* Half the race, a tick, and a little more: rank changes are state too. */
	half = rs.count / 2;
	apply_all(a, &(struct recs){ .items = rs.items, .count = half });
	engine_tick(a);
	apply_all(a, &(struct recs){ .items = rs.items + half, .count = 3000 });

	blob = engine_race_save(race_ok(a, RACE), &len);
	assert_non_null(blob);
	assert_int_equal(engine_race_restore(b, blob, len), 0);
	assert_same_race(race_ok(b, RACE), race_ok(a, RACE), true);
	check_standings(race_ok(b, RACE));

	/* Saving the restored race gives the same bytes. */
	blob2 = engine_race_save(race_ok(b, RACE), &len2);
	assert_non_null(blob2);
	assert_int_equal(len, len2);
	assert_memory_equal(blob, blob2, len);
	free(blob2);

	/* Already live: refused, nothing changed. */
	assert_int_equal(engine_race_restore(b, blob, len), -1);
	assert_int_equal(engine_race_count(b), 1);

	/* Seconds seen before the restart are duplicates after it. */
	for (size_t k = 0; k < half + 3000; k++)
		apply_expect(b, &rs.items[k].t, rs.items[k].arrival_ms, ENGINE_DUPLICATE);
	/* And the rest of the race ends the same in both. */
	for (size_t k = half + 3000; k < rs.count; k++)
		recs_add(&more, &rs.items[k].t, rs.items[k].arrival_ms);
	apply_all(a, &more);
	apply_all(b, &more);
	assert_same_race(race_ok(b, RACE), race_ok(a, RACE), true);

	/* Another duration, or an ended race: refused. */
	{
		struct engine *c = engine_ok(DURATION + 1), *d = engine_ok(DURATION);

		assert_int_equal(engine_race_restore(c, blob, len), -1);
		assert_int_equal(engine_race_count(c), 0);
		assert_int_equal(engine_mark_ended(d, RACE), 0);
		assert_int_equal(engine_race_restore(d, blob, len), -1);
		assert_int_equal(engine_race_count(d), 0);
		engine_free(c);
		engine_free(d);
	}
	free(blob);
	recs_free(&rs);
	recs_free(&more);
	roster_free(&roster);
	engine_free(a);
	engine_free(b);
}

/* A small race's blob, in a buffer of exactly its size. */
static void *small_blob(struct engine **out_e, size_t *len)
{
	struct engine *e = engine_ok(20);
	struct recs rs = { 0 };
	void *blob;

	gen_race(&rs, 3, RACE, 3, 20);
	apply_all(e, &rs);
	recs_free(&rs);
	blob = engine_race_save(race_ok(e, RACE), len);
	assert_non_null(blob);
	*out_e = e;
	return blob;
}

static void restore_must_fail(const void *bytes, size_t len, const char *what, size_t at)
{
	struct engine *e = engine_ok(20);
	void *copy = malloc(len ? len : 1);     /* exact size: ASan sees any overread */

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, bytes, len);
	if (engine_race_restore(e, copy, len) != -1)
		fail_msg("restore accepted %s (at %zu of %zu bytes)", what, at, len);
	assert_int_equal(engine_race_count(e), 0);
	free(copy);
	engine_free(e);
}

static void test_restore_rejects_truncated(void **state)
{
	struct engine *e;
	size_t len;
	uint8_t *blob = small_blob(&e, &len);
	struct engine *ok = engine_ok(20);

	(void)state;
	for (size_t cut = 0; cut < len; cut++)
		restore_must_fail(blob, cut, "a truncated blob", cut);
	/* And with a byte too many. */
	{
		uint8_t *longer = malloc(len + 1);

		assert_non_null(longer);
		memcpy(longer, blob, len);
		longer[len] = 0;
		restore_must_fail(longer, len + 1, "a blob with a byte more", len);
		free(longer);
	}
	assert_int_equal(engine_race_restore(ok, blob, len), 0);
	assert_same_race(race_ok(ok, RACE), race_ok(e, RACE), true);
	assert_int_equal(engine_race_restore(ok, NULL, 0), -1);
	free(blob);
	engine_free(e);
	engine_free(ok);
}

static void test_restore_rejects_corrupted(void **state)
{
	struct engine *e;
	size_t len;
	uint8_t *blob = small_blob(&e, &len);
	uint8_t *bad = malloc(len);
	struct rng g;

	(void)state;
	assert_non_null(bad);
	rng_seed(&g, 99);
	/* Every byte, flipped to some other value. */
	for (size_t at = 0; at < len; at++) {
		memcpy(bad, blob, len);
		bad[at] ^= (uint8_t)rng_range(&g, 1, 255);
		restore_must_fail(bad, len, "a flipped byte", at);
	}
	/* Several random bytes at once. */
	for (int round = 0; round < 500; round++) {
		memcpy(bad, blob, len);
		for (int k = 0; k < 4; k++)
			bad[rng_below(&g, len)] ^= (uint8_t)rng_range(&g, 1, 255);
		restore_must_fail(bad, len, "random bytes", 0);
	}
	/* Garbage of any length. */
	for (size_t n = 0; n < 300; n++) {
		uint8_t garbage[300];

		for (size_t k = 0; k < n; k++)
			garbage[k] = (uint8_t)rng_next(&g);
		if (n >= 4)
			memcpy(garbage, "ACRS", 4);
		restore_must_fail(garbage, n, "garbage", n);
	}
	free(bad);
	free(blob);
	engine_free(e);
}

/* The layout of engine.c's save format, to forge blobs whose frame is
 * right but whose contents are not: the checks inside must hold alone. */
#define BLOB_HEADER 52
#define BLOB_COUNT 48
#define BLOB_RACER_ID 52
#define BLOB_FLAGS 64
#define BLOB_NAME_LEN 65

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static void reseal(uint8_t *blob, size_t len)
{
	uint64_t h = fnv1a(blob, len - 8);

	for (int k = 0; k < 8; k++)
		blob[len - 8 + k] = (uint8_t)(h >> (8 * k));
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int k = 0; k < n; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

/* The blob with the first racer's name grown to name_len bytes of 'x',
 * resealed: right in every way but, maybe, the name's length. */
static uint8_t *blob_with_name(const uint8_t *blob, size_t len, size_t name_len, size_t *out_len)
{
	size_t old = blob[BLOB_NAME_LEN], at = BLOB_NAME_LEN + 1 + old;
	size_t n = len - old + name_len;
	uint8_t *p = malloc(n);

	assert_non_null(p);
	memcpy(p, blob, at);
	memset(p + BLOB_NAME_LEN + 1, 'x', name_len);
	memcpy(p + BLOB_NAME_LEN + 1 + name_len, blob + at, len - at);
	p[BLOB_NAME_LEN] = (uint8_t)name_len;
	put_le(p + 8, n, 8);
	reseal(p, n);
	*out_len = n;
	return p;
}

static void test_restore_name_lengths(void **state)
{
	struct engine *e, *fresh = engine_ok(20);
	size_t len, n;
	uint8_t *blob = small_blob(&e, &len), *p;
	struct engine_standing s[3];

	(void)state;
	p = blob_with_name(blob, len, TELEMETRY_NAME_MAX, &n);
	assert_int_equal(engine_race_restore(fresh, p, n), 0);
	assert_int_equal(engine_standings(race_ok(fresh, RACE), 0, 1, s), 1);
	assert_int_equal(strlen(s[0].name), TELEMETRY_NAME_MAX);
	free(p);
	for (size_t name_len = TELEMETRY_NAME_MAX + 1; name_len <= 255; name_len += 19) {
		p = blob_with_name(blob, len, name_len, &n);
		restore_must_fail(p, n, "a name too long", name_len);
		free(p);
	}
	free(blob);
	engine_free(e);
	engine_free(fresh);
}

static void test_restore_rejects_forged(void **state)
{
	struct engine *e;
	size_t len;
	uint8_t *blob = small_blob(&e, &len);
	uint8_t *bad = malloc(len);

	(void)state;
	assert_non_null(bad);
	/* The forging itself is right: resealing the original changes nothing. */
	memcpy(bad, blob, len);
	reseal(bad, len);
	assert_memory_equal(bad, blob, len);

#define FORGE(what, edit)                                               \
	do {                                                            \
		memcpy(bad, blob, len);                                 \
		edit;                                                   \
		reseal(bad, len);                                       \
		restore_must_fail(bad, len, what, 0);                   \
	} while (0)

	FORGE("a huge racer count", put_le(bad + BLOB_COUNT, 0xffffffffu, 4));
	FORGE("one racer more", put_le(bad + BLOB_COUNT, 4, 4));
	FORGE("one racer less", put_le(bad + BLOB_COUNT, 2, 4));
	FORGE("no racers", put_le(bad + BLOB_COUNT, 0, 4));
	FORGE("a negative racerId", put_le(bad + BLOB_RACER_ID, UINT64_MAX, 8));
	FORGE("unknown flags", bad[BLOB_FLAGS] |= 2);
	FORGE("a long name", bad[BLOB_NAME_LEN] = 200);
	FORGE("a NUL in a name", bad[BLOB_NAME_LEN + 1] = 0);
	FORGE("classId 0", put_le(bad + 20, 0, 4));
	FORGE("classId 7", put_le(bad + 20, 7, 4));
	FORGE("another version", put_le(bad + 4, 2, 4));
	FORGE("a negative raceId", put_le(bad + 24, UINT64_MAX, 8));
	{
		/* The second racer's id set to the first's. */
		size_t name_len = blob[BLOB_NAME_LEN];
		size_t second = BLOB_NAME_LEN + 1 + name_len + 16;
		int seconds = 0;

		for (size_t b = 0; b < 3; b++)
			seconds += __builtin_popcount(blob[second + b]);
		second += 3 + 4 * (size_t)seconds;
		FORGE("a racer twice", memcpy(bad + second, blob + BLOB_RACER_ID, 8));
	}
	{
		/* Seconds 21..24 do not exist in a 20-second race. */
		size_t bitmap = BLOB_NAME_LEN + 1 + blob[BLOB_NAME_LEN] + 16;

		FORGE("a second beyond the race", bad[bitmap + 2] |= 0x80);
	}
	free(bad);
	free(blob);
	engine_free(e);
}

/* ------------------------------------------------------------------------
 * Lifecycle and class bests
 * ------------------------------------------------------------------------ */

static void test_ended_races(void **state)
{
	struct engine *e = engine_ok(10);
	struct engine_race *out[4];
	struct engine_race_info info;
	struct telemetry t;

	(void)state;
	/* Race 1: everyone final, last record at 5000. Race 2: still riding,
	 * last record at 9000. */
	t = rec(1, 100, 10, 50.0, 50.0);
	t.final = true;
	apply_expect(e, &t, 5000, ENGINE_APPLIED);
	t = rec(1, 101, 10, 50.0, 50.0);
	t.final = true;
	apply_expect(e, &t, 4000, ENGINE_APPLIED);
	t = rec(2, 100, 5, 50.0, 50.0);
	apply_expect(e, &t, 9000, ENGINE_APPLIED);

	/* All final, but not caught up: other shards may hold more of it. */
	assert_int_equal(engine_ended_races(e, 10000, 60000, false, out, 4), 0);
	assert_int_equal(engine_ended_races(e, 10000, 60000, true, out, 4), 1);
	engine_race_info(out[0], &info);
	assert_int_equal(info.race_id, 1);

	/* Grace: silent for exactly grace_ms counts, a millisecond less not. */
	assert_int_equal(engine_ended_races(e, 64999, 60000, false, out, 4), 0);
	assert_int_equal(engine_ended_races(e, 65000, 60000, false, out, 4), 1);
	assert_int_equal(engine_ended_races(e, 69000, 60000, false, out, 4), 2);
	engine_race_info(out[1], &info);
	assert_int_equal(info.race_id, 2);
	assert_int_equal(engine_ended_races(e, 69000, 60000, false, out, 1), 1);
	engine_race_info(out[0], &info);
	assert_int_equal(info.race_id, 1);

	/* Ended races stay live until dropped. */
	assert_int_equal(engine_race_count(e), 2);
	engine_drop_race(e, out[0]);
	assert_int_equal(engine_ended_races(e, 10000, 60000, true, out, 4), 0);
	assert_int_equal(engine_ended_races(e, INT64_MAX, 0, false, out, 4), 1);
	engine_free(e);
}

static void test_beats_best(void **state)
{
	struct engine *e = engine_ok(DURATION);
	struct telemetry t;
	struct engine_standing s[4];
	struct engine_race *r;

	(void)state;
	engine_set_class_best(e, 3, 5, 1000);
	assert_int_equal(engine_class_best(e, 3, 5), 1000);
	assert_int_equal(engine_class_best(e, 3, 6), 0);
	assert_int_equal(engine_class_best(e, 2, 5), 0);
	assert_int_equal(engine_class_best(e, 7, 5), 0);
	assert_int_equal(engine_class_best(e, 3, DURATION + 1), 0);
	engine_set_class_best(e, 0, 5, 99);             /* ignored */

	t = rec_out(RACE, 100, 5, 1001);                /* beats 1000 */
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 101, 5, 1000);                /* equals: does not */
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 102, 6, 1);                   /* no best at 6: nothing to beat */
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 103, 6, 0);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	r = race_ok(e, RACE);
	assert_int_equal(engine_standings(r, 0, 4, s), 4);
	assert_int_equal(s[0].racer_id, 100);
	assert_true(s[0].beats_best);
	assert_int_equal(s[1].racer_id, 101);
	assert_false(s[1].beats_best);
	assert_int_equal(s[2].racer_id, 102);
	assert_false(s[2].beats_best);
	assert_int_equal(s[3].racer_id, 103);
	assert_false(s[3].beats_best);

	/* It is the latest second that counts, not the best one. */
	t = rec_out(RACE, 100, 7, 10);
	engine_set_class_best(e, 3, 7, 20);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	assert_int_equal(engine_standings(r, 0, 1, s), 1);
	assert_false(s[0].beats_best);
	/* And bests set later are used at once. */
	engine_set_class_best(e, 3, 7, 5);
	assert_int_equal(engine_standings(r, 0, 1, s), 1);
	assert_true(s[0].beats_best);
	engine_free(e);
}

/* A class has history once any second has a recorded best. */
static void test_class_history(void **state)
{
	struct engine *e = engine_ok(DURATION);

	(void)state;
	assert_false(engine_class_has_history(e, 3));
	engine_set_class_best(e, 3, DURATION, 7);
	assert_true(engine_class_has_history(e, 3));
	assert_false(engine_class_has_history(e, 2));
	assert_false(engine_class_has_history(e, 0));
	assert_false(engine_class_has_history(e, 7));
	engine_free(e);
}

static void test_second_bests_and_drop(void **state)
{
	struct engine *e = engine_ok(5);
	int64_t out[5], who[5];
	struct telemetry t;

	(void)state;
	t = rec_out(RACE, 102, 1, 300);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 101, 1, 300);                 /* a tie: the lower racerId */
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 100, 1, 200);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 100, 2, 50);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	t = rec_out(RACE, 102, 4, 70);
	apply_expect(e, &t, 0, ENGINE_APPLIED);
	engine_race_second_bests(race_ok(e, RACE), out, who);
	assert_int_equal(out[0], 300);
	assert_int_equal(who[0], 101);
	assert_int_equal(out[1], 50);
	assert_int_equal(who[1], 100);
	assert_int_equal(out[2], -1);
	assert_int_equal(out[3], 70);
	assert_int_equal(who[3], 102);
	assert_int_equal(out[4], -1);

	/* Dropping the race raises its class's bests, never lowers them. */
	engine_set_class_best(e, 3, 2, 60);
	engine_set_class_best(e, 3, 4, 10);
	engine_set_class_best(e, 4, 1, 5);
	engine_drop_race(e, race_ok(e, RACE));
	assert_int_equal(engine_class_best(e, 3, 1), 300);
	assert_int_equal(engine_class_best(e, 3, 2), 60);
	assert_int_equal(engine_class_best(e, 3, 3), 0);
	assert_int_equal(engine_class_best(e, 3, 4), 70);
	assert_int_equal(engine_class_best(e, 4, 1), 5);
	engine_free(e);
}

/* Many racers: the racer table grows while ranks stay right. */
static void test_many_racers(void **state)
{
	struct engine *e = engine_ok(3);
	struct telemetry t;
	struct engine_race_info info;
	struct rng g;

	(void)state;
	rng_seed(&g, 4);
	for (int s = 1; s <= 3; s++) {
		for (int64_t id = 0; id < 2000; id++) {
			t = rec_out(RACE, id * 7919 % 100003, s, (int64_t)rng_below(&g, 5000));
			apply_expect(e, &t, 0, ENGINE_APPLIED);
		}
	}
	engine_race_info(race_ok(e, RACE), &info);
	assert_int_equal(info.racers, 2000);
	assert_int_equal(info.records, 6000);
	check_standings(race_ok(e, RACE));
	engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_ranking),
		cmocka_unit_test(test_ties_by_racer_id),
		cmocka_unit_test(test_score_and_current_values),
		cmocka_unit_test(test_final_and_all_final),
		cmocka_unit_test(test_class_from_first_record),
		cmocka_unit_test(test_other_class_is_bad),
		cmocka_unit_test(test_spark),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_late_after_drop),
		cmocka_unit_test(test_races_in_id_order),
		cmocka_unit_test(test_property_generated),
		cmocka_unit_test(test_property_model),
		cmocka_unit_test(test_property_two_races),
		cmocka_unit_test(test_rank_queries),
		cmocka_unit_test(test_rank_change),
		cmocka_unit_test(test_save_restore_round_trip),
		cmocka_unit_test(test_restore_rejects_truncated),
		cmocka_unit_test(test_restore_rejects_corrupted),
		cmocka_unit_test(test_restore_rejects_forged),
		cmocka_unit_test(test_restore_name_lengths),
		cmocka_unit_test(test_ended_races),
		cmocka_unit_test(test_beats_best),
		cmocka_unit_test(test_class_history),
		cmocka_unit_test(test_second_bests_and_drop),
		cmocka_unit_test(test_many_racers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
