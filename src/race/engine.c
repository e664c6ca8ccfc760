/* The ranking engine: see engine.h for the rules.
 *
 * Layout. A race keeps its racers in an array, in order of first
 * appearance, found by racerId through an open-addressed hash, and the
 * standings as an array of slots sorted by (score desc, racerId asc).
 * Scores only rise, so a new best moves its racer's slot toward the front:
 * two binary searches and a memmove of the slots it passes, never a sort.
 * The rank of a racer is a binary search for its (score, racerId). A race
 * keeps a bit for every (racer, second) seen, the idempotency key, and the
 * output of each, in tables that grow by doubling with the racers, so once
 * a race has all its racers a record allocates nothing.
 *
 * Speed (100 races of 1000 racers at once, records decoded, one core) comes
 * from cache misses avoided more than from instructions: the racer after
 * the last one is tried before the hash, a racer's hot fields are apart
 * from what is only written, and seconds are stored second-major.
 *
 * Order independence. Everything kept is a maximum or a union of what the
 * records said, so no order of arrival can change it:
 *   output of a second  the greatest output sent for it
 *   score               the greatest output of all seconds
 *   latest second       the highest second seen
 *   cadence, resistance, name
 *                       those of the greatest record of the latest second,
 *                       records of one second compared by (output,
 *                       cadence, resistance, name)
 *   final               any record of the racer said "final"
 *   classId             not merged: a race has one class, that of the
 *                       first record applied to it, and a record of
 *                       another class is refused (ENGINE_OTHER_CLASS).
 *                       Records of one race that disagree on the class
 *                       come from two producers that took the same raceId
 *                       (two simulators once did): merging them, or
 *                       letting a late record switch the class, would
 *                       rank racers of one class against another's.
 *                       Which class wins then depends on what came
 *                       first; when the records agree, nothing does.
 *   second              the highest second of any racer
 *   records             (racer, second) pairs seen, each counted once
 * Arrival times are kept as their minimum and maximum, repeats included:
 * a repeat is a sign of life too (the grace timeout is about silence). */
#include "config.h"
#include "race/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ENGINE_RACERS_INITIAL 16       /* racers a race has room for at first */
#define ENGINE_RACES_INITIAL 8
#define ENGINE_ENDED_INITIAL 64        /* buckets of the ended set */
#define RACER_NONE UINT32_MAX
#define EMPTY_ID (-1)                  /* an empty bucket: ids are never negative */

/* The saved state of a race, every number little-endian:
 *
 *   "ACRS" | u32 version | u64 length of the whole | u32 duration |
 *   u32 classId | i64 raceId | i64 first arrival | i64 last arrival |
 *   u32 racers | racers... | u64 FNV-1a of all the bytes before it
 *
 * and each racer, best first:
 *
 *   i64 racerId | u32 rank at the last tick | u8 flags (1: final) |
 *   u8 name length | name | f64 cadence | f64 resistance |
 *   bitmap of the seconds seen, ceil(duration / 8) bytes, second s at bit
 *   (s - 1) % 8 of byte (s - 1) / 8 | u32 output of each second seen, in
 *   order
 *
 * Everything else (scores, latest seconds, the classId key, counts) follows
 * from these and is recomputed on restore, so a blob cannot contradict
 * itself. */
#define SAVE_MAGIC "ACRS"
#define SAVE_VERSION 1
#define SAVE_HEADER 52
#define SAVE_TRAILER 8
#define SAVE_RACER_FIXED 30            /* a racer's bytes before name and seconds */
#define SAVE_FINAL 1u

/* What every record reads, kept small: a cache line holds almost three. */
struct engine_racer {
	int64_t racer_id;
	int32_t score;                 /* -1 until the racer has a slot */
	int32_t latest;                /* the highest second seen */
	bool final;
};

/* What the greatest record of the racer's latest second said: mostly
 * written, read by the standings. */
struct engine_current {
	double cadence, resistance;
	int32_t tick_rank;             /* rank at the last engine_tick, 0 if none */
	char name[TELEMETRY_NAME_MAX + 1];
};

struct engine_slot {                   /* one line of the standings */
	int32_t score;
	uint32_t racer;                /* index into the race's racers */
	int64_t racer_id;
};

struct engine_bucket {
	int64_t racer_id;              /* EMPTY_ID when free */
	uint32_t racer;
};

struct engine_race {
	struct engine *engine;
	int64_t race_id;
	int class_id;                  /* 0 until the first record is applied */
	int32_t second;
	int duration;
	int64_t first_arrival_ms, last_arrival_ms;
	uint64_t records;
	size_t count, capacity;        /* racers */
	size_t words;                  /* bitmap words of a second: capacity / 64 rounded up */
	size_t final_count;
	uint32_t next;                 /* the racer after the last record's: a guess */
	struct engine_racer *racers;
	struct engine_current *current;
	struct engine_slot *order;     /* count slots, best first */
	int32_t *outputs;              /* a row of capacity outputs per second */
	uint64_t *seen;                /* a row of `words` per second */
	struct engine_bucket *index;   /* index_mask + 1 buckets, at most half full */
	size_t index_mask;
};

struct engine {
	int duration;
	struct engine_race **races;    /* live races by raceId */
	int64_t *race_ids;             /* theirs, searched without touching the races */
	size_t race_count, race_capacity;
	struct engine_race *last;      /* the race of the last record: records come in runs */
	int64_t *ended;                /* open-addressed set of raceIds, EMPTY_ID free */
	size_t ended_count, ended_mask;
	int64_t *best;                 /* class bests, [(class - 1) * duration + second - 1] */
};

/* Fibonacci hashing: the multiply spreads close ids over the bits kept. */
static size_t hash_id(int64_t id)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 32);
}

/* Where a racerId's probe starts. The racers of a race often have
 * consecutive ids and send a second one after the other: each aligned
 * group of 8 ids keeps its order in neighbouring buckets (two cache lines),
 * and the groups are spread by hashing. */
static size_t racer_bucket(int64_t id, size_t mask)
{
	return ((hash_id(id >> 3) << 3) | (size_t)(id & 7)) & mask;
}

/* ------------------------------------------------------------------------
 * Racers and their seconds
 *
 * Outputs and seen bits are kept second after second, racer after racer
 * within a second: records come roughly in second order, so a record's
 * output and bit sit next to those of the record before, not a whole
 * race length away (the difference is a cache miss on every record).
 * ------------------------------------------------------------------------ */

static int32_t *output_at(const struct engine_race *r, uint32_t i, int second)
{
	return &r->outputs[(size_t)(second - 1) * r->capacity + i];
}

static uint64_t *seen_word(const struct engine_race *r, uint32_t i, int second)
{
	return &r->seen[(size_t)(second - 1) * r->words + i / 64];
}

static bool second_seen(const struct engine_race *r, uint32_t i, int second)
{
	return (*seen_word(r, i, second) >> (i % 64)) & 1;
}

static void second_mark(struct engine_race *r, uint32_t i, int second)
{
	*seen_word(r, i, second) |= 1ULL << (i % 64);
}

static uint32_t racer_find(const struct engine_race *r, int64_t racer_id)
{
	size_t at = racer_bucket(racer_id, r->index_mask);

	for (;;) {
		const struct engine_bucket *b = &r->index[at];

		if (b->racer_id == racer_id)
			return b->racer;
		if (b->racer_id == EMPTY_ID)
			return RACER_NONE;
		at = (at + 1) & r->index_mask;
	}
}

static void index_put(struct engine_bucket *index, size_t mask, int64_t racer_id,
		      uint32_t racer)
{
	size_t at = racer_bucket(racer_id, mask);

	while (index[at].racer_id != EMPTY_ID)
		at = (at + 1) & mask;
	index[at].racer_id = racer_id;
	index[at].racer = racer;
}

static struct engine_bucket *index_new(size_t buckets)
{
	struct engine_bucket *index = malloc(buckets * sizeof(*index));

	if (index == NULL)
		return NULL;
	for (size_t i = 0; i < buckets; i++)
		index[i].racer_id = EMPTY_ID;
	return index;
}

/* A copy of a table of `rows` rows widened from old_row to new_row bytes,
 * the new room zeroed: a racer's column is all zeros until they send. */
static void *rows_widen(const void *old, size_t old_row, size_t new_row, size_t rows)
{
	unsigned char *p = calloc(rows, new_row);

	if (p != NULL && old != NULL)
		for (size_t k = 0; k < rows; k++)
			memcpy(p + k * new_row, (const unsigned char *)old + k * old_row, old_row);
	return p;
}

/* Makes room for `want` racers. The race is unchanged on failure, but for
 * its racer and slot arrays, which may have grown. */
static int race_reserve(struct engine_race *r, size_t want)
{
	size_t capacity = r->capacity ? r->capacity : ENGINE_RACERS_INITIAL, words;
	size_t rows = (size_t)r->duration;
	int32_t *outputs = NULL;
	uint64_t *seen = NULL;
	struct engine_bucket *index = NULL;
	void *p;

	if (want <= r->capacity)
		return 0;
	while (capacity < want)
		capacity *= 2;
	if (capacity > RACER_NONE / 2)
		return -1;
	words = (capacity + 63) / 64;
	outputs = rows_widen(r->outputs, r->capacity * sizeof(*outputs),
			     capacity * sizeof(*outputs), rows);
	seen = rows_widen(r->seen, r->words * sizeof(*seen), words * sizeof(*seen), rows);
	index = index_new(capacity * 2);
	if (outputs == NULL || seen == NULL || index == NULL)
		goto fail;
	if ((p = realloc(r->racers, capacity * sizeof(*r->racers))) == NULL)
		goto fail;
	r->racers = p;
	if ((p = realloc(r->current, capacity * sizeof(*r->current))) == NULL)
		goto fail;
	r->current = p;
	if ((p = realloc(r->order, capacity * sizeof(*r->order))) == NULL)
		goto fail;
	r->order = p;
	for (size_t i = 0; i < r->count; i++)
		index_put(index, capacity * 2 - 1, r->racers[i].racer_id, (uint32_t)i);
	free(r->outputs);
	free(r->seen);
	free(r->index);
	r->outputs = outputs;
	r->seen = seen;
	r->index = index;
	r->index_mask = capacity * 2 - 1;
	r->capacity = capacity;
	r->words = words;
	return 0;
fail:
	free(outputs);
	free(seen);
	free(index);
	return -1;
}

/* A racer with no seconds yet, and no slot in the standings. */
static uint32_t racer_add(struct engine_race *r, int64_t racer_id)
{
	uint32_t i = (uint32_t)r->count;
	struct engine_racer *rc;

	if (race_reserve(r, r->count + 1) < 0)
		return RACER_NONE;
	rc = &r->racers[i];
	memset(rc, 0, sizeof(*rc));
	rc->racer_id = racer_id;
	rc->score = -1;
	memset(&r->current[i], 0, sizeof(r->current[i]));
	index_put(r->index, r->index_mask, racer_id, i);
	r->count++;
	return i;
}

/* ------------------------------------------------------------------------
 * The standings
 * ------------------------------------------------------------------------ */

static bool slot_before(int32_t score, int64_t racer_id, const struct engine_slot *s)
{
	return score > s->score || (score == s->score && racer_id < s->racer_id);
}

/* How many of the first n slots do not rank after (score, racer_id): the
 * position of the slot plus one when it is among them, where it would go
 * when it is not. */
static size_t slots_before(const struct engine_slot *order, size_t n, int32_t score,
			   int64_t racer_id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (slot_before(score, racer_id, &order[mid]))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Raises a racer's score and moves their slot up past those it now beats.
 * A racer new to the standings joins at the end and climbs like any other. */
static void score_raise(struct engine_race *r, uint32_t i, int32_t score)
{
	struct engine_racer *rc = &r->racers[i];
	size_t from, to;

	if (rc->score < 0)
		from = r->count - 1;
	else
		from = slots_before(r->order, r->count, rc->score, rc->racer_id) - 1;
	to = slots_before(r->order, from, score, rc->racer_id);
	memmove(&r->order[to + 1], &r->order[to], (from - to) * sizeof(*r->order));
	r->order[to] = (struct engine_slot){ .score = score, .racer = i,
					     .racer_id = rc->racer_id };
	rc->score = score;
}

/* ------------------------------------------------------------------------
 * Applying a record
 * ------------------------------------------------------------------------ */

/* What the engine can hold: outputs are int32 (a real one is below 5e6)
 * and ids are never negative, which frees -1 to mark empty buckets. */
static bool record_valid(const struct engine *e, const struct telemetry *t)
{
	return t->second >= 1 && t->second <= e->duration && t->race_id >= 0 &&
	       t->racer_id >= 0 && t->class_id >= 1 && t->class_id <= TELEMETRY_CLASS_COUNT &&
	       t->output >= 0 && t->output <= INT32_MAX && isfinite(t->cadence) &&
	       isfinite(t->resistance);
}

/* Whether t beats the record kept for the racer's latest second (whose
 * output is kept_output): the total order that makes merging commute. */
static bool record_beats(const struct telemetry *t, int32_t kept_output,
			 const struct engine_current *cur)
{
	if (t->output != kept_output)
		return t->output > kept_output;
	if (t->cadence != cur->cadence)
		return t->cadence > cur->cadence;
	if (t->resistance != cur->resistance)
		return t->resistance > cur->resistance;
	return strncmp(t->name, cur->name, sizeof(cur->name)) > 0;
}

/* + 0.0 turns -0.0 (which a decoder may accept) into 0.0: the two compare
 * equal, and which one was kept must not depend on the order of arrival. */
static void take_latest(struct engine_current *cur, const struct telemetry *t)
{
	size_t len = strnlen(t->name, TELEMETRY_NAME_MAX);

	cur->cadence = t->cadence + 0.0;
	cur->resistance = t->resistance + 0.0;
	memcpy(cur->name, t->name, len);
	cur->name[len] = '\0';
}

static bool final_note(struct engine_race *r, struct engine_racer *rc, bool final)
{
	if (!final || rc->final)
		return false;
	rc->final = true;
	r->final_count++;
	return true;
}

/* A second the racer had not sent yet. */
static void second_add(struct engine_race *r, uint32_t i, const struct telemetry *t)
{
	struct engine_racer *rc = &r->racers[i];

	second_mark(r, i, t->second);
	*output_at(r, i, t->second) = (int32_t)t->output;
	r->records++;
	if (t->second > rc->latest) {
		rc->latest = t->second;
		take_latest(&r->current[i], t);
		if (t->second > r->second)
			r->second = t->second;
	}
	final_note(r, rc, t->final);
	if (t->output > rc->score)
		score_raise(r, i, (int32_t)t->output);
}

/* A second sent before: merged by maximum; false when nothing changed. */
static bool second_merge(struct engine_race *r, uint32_t i, const struct telemetry *t)
{
	struct engine_racer *rc = &r->racers[i];
	int32_t *output = output_at(r, i, t->second);
	bool changed = final_note(r, rc, t->final);

	if (t->second == rc->latest && record_beats(t, *output, &r->current[i])) {
		take_latest(&r->current[i], t);
		changed = true;
	}
	if (t->output > *output) {
		*output = (int32_t)t->output;
		if (t->output > rc->score)
			score_raise(r, i, (int32_t)t->output);
		changed = true;
	}
	return changed;
}

/* The racer of a record. Within a race, racers send their seconds in much
 * the same order every second, so the one after the last is tried before
 * the hash (whose buckets would be another cache miss). */
static uint32_t racer_of(const struct engine_race *r, int64_t racer_id)
{
	uint32_t i = r->next;

	if (i < r->count && r->racers[i].racer_id == racer_id)
		return i;
	return racer_find(r, racer_id);
}

static enum engine_result race_apply(struct engine_race *r, const struct telemetry *t)
{
	uint32_t i;
	bool changed;

	if (r->class_id == 0)
		r->class_id = t->class_id;     /* a new race: its first record */
	else if (t->class_id != r->class_id)
		return ENGINE_OTHER_CLASS;
	i = racer_of(r, t->racer_id);
	if (i == RACER_NONE && (i = racer_add(r, t->racer_id)) == RACER_NONE)
		return ENGINE_NO_MEMORY;
	r->next = i + 1;
	if (second_seen(r, i, t->second)) {
		changed = second_merge(r, i, t);
	} else {
		second_add(r, i, t);
		changed = true;
	}
	return changed ? ENGINE_APPLIED : ENGINE_DUPLICATE;
}

static void arrival_note(struct engine_race *r, int64_t arrival_ms)
{
	if (arrival_ms < r->first_arrival_ms)
		r->first_arrival_ms = arrival_ms;
	if (arrival_ms > r->last_arrival_ms)
		r->last_arrival_ms = arrival_ms;
}

/* ------------------------------------------------------------------------
 * Races and the ended set
 * ------------------------------------------------------------------------ */

static bool ended_has(const struct engine *e, int64_t race_id)
{
	size_t at;

	if (e->ended == NULL)
		return false;
	for (at = hash_id(race_id) & e->ended_mask; e->ended[at] != EMPTY_ID;
	     at = (at + 1) & e->ended_mask)
		if (e->ended[at] == race_id)
			return true;
	return false;
}

/* Room for `want` raceIds at most half full. Reserved for every live race
 * when it opens, so that engine_drop_race cannot fail to remember one. */
static int ended_reserve(struct engine *e, size_t want)
{
	size_t buckets = e->ended ? e->ended_mask + 1 : ENGINE_ENDED_INITIAL;
	int64_t *ended;

	while (buckets / 2 < want)
		buckets *= 2;
	if (e->ended && buckets == e->ended_mask + 1)
		return 0;
	if ((ended = malloc(buckets * sizeof(*ended))) == NULL)
		return -1;
	for (size_t i = 0; i < buckets; i++)
		ended[i] = EMPTY_ID;
	for (size_t i = 0; e->ended && i <= e->ended_mask; i++) {
		size_t at;

		if (e->ended[i] == EMPTY_ID)
			continue;
		for (at = hash_id(e->ended[i]) & (buckets - 1); ended[at] != EMPTY_ID;
		     at = (at + 1) & (buckets - 1))
			;
		ended[at] = e->ended[i];
	}
	free(e->ended);
	e->ended = ended;
	e->ended_mask = buckets - 1;
	return 0;
}

/* Adds a raceId; the room must have been reserved. */
static void ended_put(struct engine *e, int64_t race_id)
{
	size_t at;

	for (at = hash_id(race_id) & e->ended_mask; e->ended[at] != EMPTY_ID;
	     at = (at + 1) & e->ended_mask)
		if (e->ended[at] == race_id)
			return;
	e->ended[at] = race_id;
	e->ended_count++;
}

/* Index of the first live race whose raceId is not below race_id. */
static size_t race_slot(const struct engine *e, int64_t race_id)
{
	size_t lo = 0, hi = e->race_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->race_ids[mid] < race_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct engine_race *race_lookup(const struct engine *e, int64_t race_id)
{
	size_t at = race_slot(e, race_id);

	return at < e->race_count && e->race_ids[at] == race_id ? e->races[at] : NULL;
}

static void race_free(struct engine_race *r)
{
	free(r->racers);
	free(r->current);
	free(r->order);
	free(r->outputs);
	free(r->seen);
	free(r->index);
	free(r);
}

static struct engine_race *race_new(struct engine *e, int64_t race_id)
{
	struct engine_race *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->engine = e;
	r->race_id = race_id;
	r->duration = e->duration;
	r->first_arrival_ms = INT64_MAX;
	r->last_arrival_ms = INT64_MIN;
	if (race_reserve(r, ENGINE_RACERS_INITIAL) < 0) {
		race_free(r);
		return NULL;
	}
	return r;
}

/* Puts a race among the live ones, in raceId order. */
static int race_link(struct engine *e, struct engine_race *r)
{
	size_t at;

	if (ended_reserve(e, e->ended_count + e->race_count + 1) < 0)
		return -1;
	if (e->race_count == e->race_capacity) {
		size_t capacity = e->race_capacity ? e->race_capacity * 2 : ENGINE_RACES_INITIAL;
		struct engine_race **races = realloc(e->races, capacity * sizeof(*races));
		int64_t *ids;

		if (races == NULL)
			return -1;
		e->races = races;
		if ((ids = realloc(e->race_ids, capacity * sizeof(*ids))) == NULL)
			return -1;
		e->race_ids = ids;
		e->race_capacity = capacity;
	}
	at = race_slot(e, r->race_id);
	memmove(&e->races[at + 1], &e->races[at], (e->race_count - at) * sizeof(*e->races));
	memmove(&e->race_ids[at + 1], &e->race_ids[at],
		(e->race_count - at) * sizeof(*e->race_ids));
	e->races[at] = r;
	e->race_ids[at] = r->race_id;
	e->race_count++;
	return 0;
}

static void race_unlink(struct engine *e, struct engine_race *r)
{
	size_t at = race_slot(e, r->race_id);

	memmove(&e->races[at], &e->races[at + 1], (e->race_count - at - 1) * sizeof(*e->races));
	memmove(&e->race_ids[at], &e->race_ids[at + 1],
		(e->race_count - at - 1) * sizeof(*e->race_ids));
	e->race_count--;
	if (e->last == r)
		e->last = NULL;
}

static struct engine_race *race_open(struct engine *e, int64_t race_id)
{
	struct engine_race *r = race_new(e, race_id);

	if (r != NULL && race_link(e, r) < 0) {
		race_free(r);
		r = NULL;
	}
	return r;
}

/* ------------------------------------------------------------------------
 * The engine
 * ------------------------------------------------------------------------ */

struct engine *engine_new(int duration)
{
	struct engine *e;

	if (duration < 1 || duration > TELEMETRY_SECOND_MAX)
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->duration = duration;
	e->best = calloc((size_t)TELEMETRY_CLASS_COUNT * (size_t)duration, sizeof(*e->best));
	if (e->best == NULL || ended_reserve(e, 1) < 0) {
		engine_free(e);
		return NULL;
	}
	return e;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->race_count; i++)
		race_free(e->races[i]);
	free(e->races);
	free(e->race_ids);
	free(e->ended);
	free(e->best);
	free(e);
}

int engine_duration(const struct engine *e)
{
	return e->duration;
}

static bool class_second_valid(const struct engine *e, int class_id, int second)
{
	return class_id >= 1 && class_id <= TELEMETRY_CLASS_COUNT && second >= 1 &&
	       second <= e->duration;
}

void engine_set_class_best(struct engine *e, int class_id, int second, int64_t output)
{
	if (class_second_valid(e, class_id, second))
		e->best[(size_t)(class_id - 1) * (size_t)e->duration + (size_t)(second - 1)] =
			output;
}

int64_t engine_class_best(const struct engine *e, int class_id, int second)
{
	if (!class_second_valid(e, class_id, second))
		return 0;
	return e->best[(size_t)(class_id - 1) * (size_t)e->duration + (size_t)(second - 1)];
}

enum engine_result engine_apply(struct engine *e, const struct telemetry *t, int64_t arrival_ms)
{
	struct engine_race *r = e->last;
	enum engine_result result;

	if (!record_valid(e, t))
		return ENGINE_REJECTED;
	if (r == NULL || r->race_id != t->race_id) {
		r = race_lookup(e, t->race_id);
		if (r == NULL) {
			if (ended_has(e, t->race_id))
				return ENGINE_LATE;
			if ((r = race_open(e, t->race_id)) == NULL)
				return ENGINE_NO_MEMORY;
		}
		e->last = r;
	}
	result = race_apply(r, t);
	if (result == ENGINE_OTHER_CLASS)
		return result;          /* not applied: no sign of life of the race either */
	if (result == ENGINE_NO_MEMORY) {
		/* A race is opened by its first record: without it, no race. */
		if (r->count == 0) {
			race_unlink(e, r);
			race_free(r);
		}
		return result;
	}
	arrival_note(r, arrival_ms);
	return result;
}

void engine_tick(struct engine *e)
{
	for (size_t k = 0; k < e->race_count; k++) {
		struct engine_race *r = e->races[k];

		for (size_t j = 0; j < r->count; j++)
			r->current[r->order[j].racer].tick_rank = (int32_t)(j + 1);
	}
}

size_t engine_race_count(const struct engine *e)
{
	return e->race_count;
}

struct engine_race *engine_race_at(struct engine *e, size_t index)
{
	return index < e->race_count ? e->races[index] : NULL;
}

struct engine_race *engine_find_race(struct engine *e, int64_t race_id)
{
	return race_lookup(e, race_id);
}

void engine_race_info(const struct engine_race *r, struct engine_race_info *out)
{
	out->race_id = r->race_id;
	out->class_id = r->class_id;
	out->second = r->second;
	out->racers = r->count;
	out->first_arrival_ms = r->first_arrival_ms;
	out->last_arrival_ms = r->last_arrival_ms;
	out->records = r->records;
	out->all_final = r->count > 0 && r->final_count == r->count;
}

bool engine_class_has_history(const struct engine *e, int class_id)
{
	for (int s = 1; class_second_valid(e, class_id, s); s++)
		if (engine_class_best(e, class_id, s) > 0)
			return true;
	return false;
}

/* Only a recorded best can be beaten: with none, every racer would be
 * marked, and the mark would mean nothing. */
static bool beats_best(const struct engine_race *r, int64_t output, int second)
{
	int64_t best = engine_class_best(r->engine, r->class_id, second);

	return best > 0 && output > best;
}

static void standing_fill(const struct engine_race *r, size_t rank0, struct engine_standing *out)
{
	const struct engine_slot *slot = &r->order[rank0];
	const struct engine_racer *rc = &r->racers[slot->racer];
	const struct engine_current *cur = &r->current[slot->racer];
	int rank = (int)rank0 + 1;

	out->rank = rank;
	out->rank_change = cur->tick_rank ? cur->tick_rank - rank : 0;
	out->racer_id = rc->racer_id;
	out->name = cur->name;
	out->score = slot->score;
	out->output = *output_at(r, slot->racer, rc->latest);
	out->cadence = cur->cadence;
	out->resistance = cur->resistance;
	out->second = rc->latest;
	out->gap = (int64_t)r->order[0].score - slot->score;
	out->final = rc->final;
	out->beats_best = beats_best(r, out->output, rc->latest);
	for (int k = 0; k < ENGINE_SPARK_SECONDS; k++) {
		int s = rc->latest - (ENGINE_SPARK_SECONDS - 1) + k;

		out->spark[k] = s >= 1 && second_seen(r, slot->racer, s) ?
					*output_at(r, slot->racer, s) : -1;
	}
}

size_t engine_standings(const struct engine_race *r, size_t first, size_t n,
			struct engine_standing *out)
{
	size_t written = 0;

	for (size_t k = first; k < r->count && written < n; k++)
		standing_fill(r, k, &out[written++]);
	return written;
}

int engine_rank_of(const struct engine_race *r, int64_t racer_id)
{
	uint32_t i = racer_id < 0 ? RACER_NONE : racer_find(r, racer_id);

	if (i == RACER_NONE)
		return 0;
	return (int)slots_before(r->order, r->count, r->racers[i].score, racer_id);
}

void engine_race_second_bests(const struct engine_race *r, int64_t *output, int64_t *racer_id)
{
	for (int s = 1; s <= r->duration; s++) {
		output[s - 1] = -1;
		racer_id[s - 1] = -1;
	}
	for (uint32_t i = 0; i < r->count; i++) {
		int64_t id = r->racers[i].racer_id;

		for (int s = 1; s <= r->duration; s++) {
			int32_t o = *output_at(r, i, s);

			if (!second_seen(r, i, s))
				continue;
			if (o > output[s - 1] || (o == output[s - 1] && id < racer_id[s - 1])) {
				output[s - 1] = o;
				racer_id[s - 1] = id;
			}
		}
	}
}

/* No record for grace_ms; arrival times come from outside, so the
 * subtraction must not overflow whatever they are. */
static bool race_silent(const struct engine_race *r, int64_t now_ms, int64_t grace_ms)
{
	int64_t quiet;

	if (__builtin_sub_overflow(now_ms, r->last_arrival_ms, &quiet))
		return now_ms > r->last_arrival_ms;
	return quiet >= grace_ms;
}

size_t engine_ended_races(struct engine *e, int64_t now_ms, int64_t grace_ms, bool caught_up,
			  struct engine_race **out, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < e->race_count && n < max; k++) {
		struct engine_race *r = e->races[k];
		bool all_final = r->count > 0 && r->final_count == r->count;

		if ((all_final && caught_up) || race_silent(r, now_ms, grace_ms))
			out[n++] = r;
	}
	return n;
}

/* The race's outputs raise its class's bests: the history will hold them
 * once the race is persisted, and the next races are measured against it. */
static void class_bests_raise(struct engine *e, const struct engine_race *r)
{
	int64_t *best = &e->best[(size_t)(r->class_id - 1) * (size_t)e->duration];

	for (uint32_t i = 0; i < r->count; i++)
		for (int s = 1; s <= r->duration; s++)
			if (second_seen(r, i, s) && *output_at(r, i, s) > best[s - 1])
				best[s - 1] = *output_at(r, i, s);
}

void engine_drop_race(struct engine *e, struct engine_race *r)
{
	class_bests_raise(e, r);
	race_unlink(e, r);
	ended_put(e, r->race_id);
	race_free(r);
}

bool engine_race_ended(const struct engine *e, int64_t race_id)
{
	return ended_has(e, race_id);
}

int engine_mark_ended(struct engine *e, int64_t race_id)
{
	if (race_id < 0 || ended_reserve(e, e->ended_count + e->race_count + 1) < 0)
		return -1;
	ended_put(e, race_id);
	return 0;
}

/* ------------------------------------------------------------------------
 * Saving and restoring a race
 * ------------------------------------------------------------------------ */

/* FNV-1a: any change of a single byte changes it, and it keeps the engine
 * free of everything but telemetry.h. */
static uint64_t save_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static size_t save_bitmap_bytes(int duration)
{
	return ((size_t)duration + 7) / 8;
}

static size_t save_size(const struct engine_race *r)
{
	size_t size = SAVE_HEADER + SAVE_TRAILER;

	for (uint32_t i = 0; i < r->count; i++)
		size += SAVE_RACER_FIXED + strlen(r->current[i].name) +
			save_bitmap_bytes(r->duration);
	return size + 4 * r->records;
}

struct writer {
	uint8_t *p;
};

static void put_u8(struct writer *w, uint8_t v)
{
	*w->p++ = v;
}

static void put_u32(struct writer *w, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		*w->p++ = (uint8_t)(v >> (8 * k));
}

static void put_u64(struct writer *w, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		*w->p++ = (uint8_t)(v >> (8 * k));
}

static void put_f64(struct writer *w, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	put_u64(w, bits);
}

static void put_bytes(struct writer *w, const void *bytes, size_t n)
{
	memcpy(w->p, bytes, n);
	w->p += n;
}

static void save_racer(const struct engine_race *r, uint32_t i, struct writer *w)
{
	const struct engine_racer *rc = &r->racers[i];
	const struct engine_current *cur = &r->current[i];
	size_t name_len = strlen(cur->name);

	put_u64(w, (uint64_t)rc->racer_id);
	put_u32(w, (uint32_t)cur->tick_rank);
	put_u8(w, rc->final ? SAVE_FINAL : 0);
	put_u8(w, (uint8_t)name_len);
	put_bytes(w, cur->name, name_len);
	put_f64(w, cur->cadence);
	put_f64(w, cur->resistance);
	for (size_t b = 0; b < save_bitmap_bytes(r->duration); b++) {
		uint8_t byte = 0;

		for (int bit = 0; bit < 8; bit++) {
			int s = (int)b * 8 + bit + 1;

			if (s <= r->duration && second_seen(r, i, s))
				byte |= (uint8_t)(1u << bit);
		}
		put_u8(w, byte);
	}
	for (int s = 1; s <= r->duration; s++)
		if (second_seen(r, i, s))
			put_u32(w, (uint32_t)*output_at(r, i, s));
}

void *engine_race_save(const struct engine_race *r, size_t *len)
{
	size_t size = save_size(r);
	uint8_t *buf = malloc(size);
	struct writer w = { .p = buf };

	if (buf == NULL)
		return NULL;
	put_bytes(&w, SAVE_MAGIC, 4);
	put_u32(&w, SAVE_VERSION);
	put_u64(&w, size);
	put_u32(&w, (uint32_t)r->duration);
	put_u32(&w, (uint32_t)r->class_id);
	put_u64(&w, (uint64_t)r->race_id);
	put_u64(&w, (uint64_t)r->first_arrival_ms);
	put_u64(&w, (uint64_t)r->last_arrival_ms);
	put_u32(&w, (uint32_t)r->count);
	for (size_t k = 0; k < r->count; k++)
		save_racer(r, r->order[k].racer, &w);
	put_u64(&w, save_hash(buf, size - SAVE_TRAILER));
	*len = size;
	return buf;
}

/* Reads bytes that may be anything: past the end, every read gives 0 and
 * marks the reader bad, so checks can come after a run of reads. */
struct reader {
	const uint8_t *p;
	size_t len, at;
	bool bad;
};

static const uint8_t *get_bytes(struct reader *rd, size_t n)
{
	const uint8_t *p = rd->p + rd->at;

	if (rd->bad || n > rd->len - rd->at) {
		rd->bad = true;
		return NULL;
	}
	rd->at += n;
	return p;
}

static uint64_t get_le(struct reader *rd, size_t n)
{
	const uint8_t *p = get_bytes(rd, n);
	uint64_t v = 0;

	for (size_t k = 0; p && k < n; k++)
		v |= (uint64_t)p[k] << (8 * k);
	return v;
}

static double get_f64(struct reader *rd)
{
	uint64_t bits = get_le(rd, 8);
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* The seconds seen, from the saved bitmap; false when a bit lies beyond
 * the race or no bit is set (every racer has sent something). */
static bool restore_seconds(struct engine_race *r, uint32_t i, struct reader *rd)
{
	size_t bytes = save_bitmap_bytes(r->duration);
	const uint8_t *bitmap = get_bytes(rd, bytes);
	bool any = false;

	if (bitmap == NULL)
		return false;
	for (int s = 1; s <= (int)(bytes * 8); s++) {
		if (!(bitmap[(s - 1) / 8] & (1u << ((s - 1) % 8))))
			continue;
		if (s > r->duration)
			return false;
		second_mark(r, i, s);
		any = true;
	}
	return any;
}

/* The outputs of the seconds seen, and what follows from them. */
static bool restore_outputs(struct engine_race *r, uint32_t i, struct reader *rd)
{
	struct engine_racer *rc = &r->racers[i];

	for (int s = 1; s <= r->duration; s++) {
		uint64_t o;

		if (!second_seen(r, i, s))
			continue;
		o = get_le(rd, 4);
		if (rd->bad || o > INT32_MAX)
			return false;
		*output_at(r, i, s) = (int32_t)o;
		if ((int32_t)o > rc->score)
			rc->score = (int32_t)o;
		rc->latest = s;
		r->records++;
	}
	if (rc->latest > r->second)
		r->second = rc->latest;
	return true;
}

static bool restore_racer(struct engine_race *r, struct reader *rd)
{
	int64_t racer_id = (int64_t)get_le(rd, 8);
	uint32_t tick_rank = (uint32_t)get_le(rd, 4);
	uint8_t flags = (uint8_t)get_le(rd, 1);
	size_t name_len = (size_t)get_le(rd, 1);
	const uint8_t *name = get_bytes(rd, name_len);
	double cadence = get_f64(rd), resistance = get_f64(rd);
	struct engine_racer *rc;
	struct engine_current *cur;
	uint32_t i;

	if (rd->bad || racer_id < 0 || tick_rank > INT32_MAX || (flags & ~SAVE_FINAL) ||
	    name_len > TELEMETRY_NAME_MAX || memchr(name, '\0', name_len) ||
	    !isfinite(cadence) || !isfinite(resistance) ||
	    racer_find(r, racer_id) != RACER_NONE)
		return false;
	if ((i = racer_add(r, racer_id)) == RACER_NONE)
		return false;
	rc = &r->racers[i];
	cur = &r->current[i];
	final_note(r, rc, flags & SAVE_FINAL);
	cur->tick_rank = (int32_t)tick_rank;
	memcpy(cur->name, name, name_len);
	cur->name[name_len] = '\0';
	cur->cadence = cadence;
	cur->resistance = resistance;
	return restore_seconds(r, i, rd) && restore_outputs(r, i, rd);
}

static int slot_cmp(const void *a, const void *b)
{
	const struct engine_slot *x = a, *y = b;

	if (slot_before(x->score, x->racer_id, y))
		return -1;
	return slot_before(y->score, y->racer_id, x) ? 1 : 0;
}

/* The standings, sorted once: restoring is rare. */
static void restore_order(struct engine_race *r)
{
	for (uint32_t i = 0; i < r->count; i++)
		r->order[i] = (struct engine_slot){ .score = r->racers[i].score, .racer = i,
						    .racer_id = r->racers[i].racer_id };
	qsort(r->order, r->count, sizeof(*r->order), slot_cmp);
}

/* Checks the frame (magic, version, length, hash) before anything inside
 * it is believed. */
static bool restore_frame(const uint8_t *p, size_t len)
{
	struct reader rd = { .p = p, .len = len };
	uint64_t hash;

	if (len < SAVE_HEADER + SAVE_TRAILER || memcmp(p, SAVE_MAGIC, 4) != 0)
		return false;
	rd.at = 4;
	if (get_le(&rd, 4) != SAVE_VERSION || get_le(&rd, 8) != len)
		return false;
	rd.at = len - SAVE_TRAILER;
	hash = get_le(&rd, 8);
	return hash == save_hash(p, len - SAVE_TRAILER);
}

int engine_race_restore(struct engine *e, const void *bytes, size_t len)
{
	struct reader rd = { .p = bytes, .len = len, .at = 16 };
	uint64_t duration, class_id, count;
	int64_t race_id;
	struct engine_race *r;

	if (bytes == NULL || !restore_frame(bytes, len))
		return -1;
	rd.len = len - SAVE_TRAILER;
	duration = get_le(&rd, 4);
	class_id = get_le(&rd, 4);
	race_id = (int64_t)get_le(&rd, 8);
	if (duration != (uint64_t)e->duration || class_id < 1 ||
	    class_id > TELEMETRY_CLASS_COUNT || race_id < 0 || race_lookup(e, race_id) ||
	    ended_has(e, race_id))
		return -1;
	if ((r = race_new(e, race_id)) == NULL)
		return -1;
	r->class_id = (int)class_id;
	r->first_arrival_ms = (int64_t)get_le(&rd, 8);
	r->last_arrival_ms = (int64_t)get_le(&rd, 8);
	count = get_le(&rd, 4);
	/* Each racer takes some bytes: a count beyond them is garbage, not
	 * a reason to reserve gigabytes. */
	if (count == 0 || count > (len - SAVE_HEADER) / SAVE_RACER_FIXED ||
	    race_reserve(r, (size_t)count) < 0)
		goto bad;
	for (uint64_t k = 0; k < count; k++)
		if (!restore_racer(r, &rd))
			goto bad;
	if (rd.bad || rd.at != rd.len)
		goto bad;
	restore_order(r);
	if (race_link(e, r) < 0)
		goto bad;
	return 0;
bad:
	race_free(r);
	return -1;
}
