#include "config.h"
#include "race/live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "race/engine.h"
#include "race/roster.h"
#include "race/store.h"
#include "util/clock.h"
#include "util/log.h"

#define ENDED_MAX 64

/* A record that came after its race ended, waiting for the next commit. */
struct late {
	int64_t race_id, racer_id;
	int class_id, second;
	int64_t output;
	double cadence, resistance;
	char name[TELEMETRY_NAME_MAX + 1];
};

struct live {
	struct live_config config;
	struct engine *engine;
	struct store *store;
	struct consumer *consumer;
	struct consumer_checkpoint *positions;  /* per shard: applied so far */
	size_t position_count, position_capacity;
	bool restore_failed;                    /* out of memory while restoring */
	bool positions_dirty;
	struct late *late;
	size_t late_count, late_capacity;
	int64_t window_start_ms;
	uint64_t window_applied;        /* records applied since the last commit */
	bool class_names_saved;         /* the roster's names are in the store */
	int64_t last_other_class_race;  /* logged already */
	/* Late records of another class than their stored race, found by the
	 * window being written: counted once it commits (a failed window is
	 * written again, late records and all). */
	uint64_t late_other_class;
	char late_last_bad[160];
	struct live_stats stats;
};

/* ---- opening ---------------------------------------------------------- */

/* The position of a shard, added ("" for now) when new; NULL when memory
 * runs out. */
static struct consumer_checkpoint *position_of(struct live *l, const char *shard_id)
{
	struct consumer_checkpoint *cp;

	for (size_t i = 0; i < l->position_count; i++)
		if (strcmp(l->positions[i].shard_id, shard_id) == 0)
			return &l->positions[i];
	if (l->position_count == l->position_capacity) {
		size_t cap = l->position_capacity ? 2 * l->position_capacity : 16;
		struct consumer_checkpoint *grown = realloc(l->positions, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		l->positions = grown;
		l->position_capacity = cap;
	}
	cp = &l->positions[l->position_count++];
	snprintf(cp->shard_id, sizeof(cp->shard_id), "%s", shard_id);
	cp->sequence_number[0] = '\0';
	cp->sub_sequence = 0;
	return cp;
}

static void on_checkpoint(void *user, const char *shard_id, const char *seq, uint64_t sub_sequence,
			  int64_t updated_ms)
{
	struct live *l = user;
	struct consumer_checkpoint *cp = position_of(l, shard_id);

	if (cp == NULL) {
		l->restore_failed = true;
		return;
	}
	snprintf(cp->sequence_number, sizeof(cp->sequence_number), "%s", seq);
	cp->sub_sequence = sub_sequence;
	(void)updated_ms;
}

static void on_live_race(void *user, int64_t race_id, const void *state, size_t len)
{
	struct live *l = user;

	if (engine_race_restore(l->engine, state, len) < 0)
		log_warn("the saved state of live race %lld is unreadable; it is skipped",
			 (long long)race_id);
}

static void on_seen(void *user, int64_t race_id)
{
	struct live *l = user;

	/* A race seen before and not live any more has ended. */
	if (engine_find_race(l->engine, race_id) == NULL)
		engine_mark_ended(l->engine, race_id);
}

static void on_second_best(void *user, int class_id, int second, int64_t output)
{
	engine_set_class_best(user, class_id, second, output);
}

/* The store's last failure, for the monitor and the log. The log has it
 * when it is new, not at every window: a database read-only for an hour
 * would fill it. */
static void results_store_error(struct live *l)
{
	bool known = strcmp(l->stats.store_error, store_error(l->store)) == 0;

	snprintf(l->stats.store_error, sizeof(l->stats.store_error), "%s",
		 store_error(l->store));
	if (!known)
		log_error("cannot save to %s: %s; the live standings go on and each window "
			  "tries again", l->config.db_path, l->stats.store_error);
}

static int save_class_names(struct live *l)
{
	if (l->config.roster == NULL)
		return 0;
	for (int c = 1; c <= TELEMETRY_CLASS_COUNT; c++)
		if (store_put_class_name(l->store, c, roster_class_name(l->config.roster, c)) < 0)
			return -1;
	return 0;
}

/* A database that can be read but not written (a read-only file, say)
 * does not stop the live standings: the class names go with the first
 * window that commits, as everything else does. */
static int restore(struct live *l)
{
	const char *who = l->config.consumer;

	l->class_names_saved = save_class_names(l) == 0;
	if (!l->class_names_saved)
		results_store_error(l);
	if (store_second_bests(l->store, on_second_best, l->engine) < 0 ||
	    store_checkpoints(l->store, l->config.stream, who, on_checkpoint, l) < 0 ||
	    store_live_races(l->store, who, on_live_race, l) < 0 ||
	    store_races_seen(l->store, who, on_seen, l) < 0)
		return -1;
	return l->restore_failed ? -1 : 0;
}

struct live *live_open(const struct live_config *config, char *err, size_t errlen)
{
	struct live *l = calloc(1, sizeof(*l));
	struct consumer_config cc;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->config = *config;
	l->engine = engine_new(config->duration);
	l->store = store_open(config->db_path, err, errlen);
	if (l->engine == NULL || l->store == NULL) {
		if (l->engine == NULL)
			snprintf(err, errlen, "out of memory");
		live_close(l, 0);
		return NULL;
	}
	if (restore(l) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", config->db_path,
			 l->restore_failed ? "out of memory" : store_error(l->store));
		live_close(l, 0);
		return NULL;
	}
	cc = (struct consumer_config){
		.endpoint = config->endpoint, .stream = config->stream, .name = config->consumer,
		.read = config->read, .from = config->from,
		.from_ms = config->from_ms, .checkpoints = l->positions,
		.checkpoint_count = l->position_count, .parallel = config->parallel,
		.timeout_s = config->timeout_s, .one_shot = config->one_shot,
	};
	l->consumer = consumer_start(&cc, err, errlen);
	if (l->consumer == NULL) {
		live_close(l, 0);
		return NULL;
	}
	return l;
}

/* ---- applying --------------------------------------------------------- */

static void keep_late(struct live *l, const struct telemetry *t)
{
	struct late *x;

	if (l->late_count == l->late_capacity) {
		size_t cap = l->late_capacity ? l->late_capacity * 2 : 64;
		struct late *grown = realloc(l->late, cap * sizeof(*grown));
		if (grown == NULL) {
			log_error("out of memory: a late record of race %lld is dropped",
				  (long long)t->race_id);
			return;
		}
		l->late = grown;
		l->late_capacity = cap;
	}
	x = &l->late[l->late_count++];
	*x = (struct late){ .race_id = t->race_id, .racer_id = t->racer_id,
			    .class_id = t->class_id, .second = t->second, .output = t->output,
			    .cadence = t->cadence, .resistance = t->resistance };
	snprintf(x->name, sizeof(x->name), "%s", t->name);
}

/* A record of another class than its race's: counted, never applied, and
 * logged when a run of them for another race starts (records come in runs
 * of one race; a colliding producer sends thousands). */
static void other_class(struct live *l, const struct telemetry *t)
{
	struct engine_race *r = engine_find_race(l->engine, t->race_id);
	struct engine_race_info info = { 0 };

	if (r)
		engine_race_info(r, &info);
	l->stats.bad++;
	l->stats.other_class++;
	if (l->last_other_class_race != t->race_id || l->stats.other_class == 1)
		log_warn("race %lld is class %d: records of class %d for it are counted as bad "
			 "(two producers with one raceId?)",
			 (long long)t->race_id, info.class_id, t->class_id);
	l->last_other_class_race = t->race_id;
	snprintf(l->stats.last_bad, sizeof(l->stats.last_bad),
		 "race %lld is class %d; racer %lld sent class %d", (long long)t->race_id,
		 info.class_id, (long long)t->racer_id, t->class_id);
}

/* The shard's position moves to seq (sub_sequence user records into it). */
static void move_position(struct consumer_checkpoint *cp, bool *dirty, const char *seq,
			  uint64_t sub_sequence)
{
	if (strcmp(cp->sequence_number, seq) != 0 || cp->sub_sequence != sub_sequence) {
		snprintf(cp->sequence_number, sizeof(cp->sequence_number), "%s", seq);
		cp->sub_sequence = sub_sequence;
		*dirty = true;
	}
}

/* A batch applied whole: its continuation is the shard's position. */
static void note_position(struct live *l, const struct consumer_batch *b)
{
	struct consumer_checkpoint *cp;

	/* A shard gone from the stream: its checkpoint becomes "" here and
	 * is deleted by the next commit. */
	if (b->continuation[0] == '\0' && !b->gone)
		return;
	if ((cp = position_of(l, b->shard_id)) == NULL) {
		/* Not checkpointed: read again after a restart, which counts
		 * nothing twice. */
		log_error("out of memory: the position in %s is not checkpointed", b->shard_id);
		return;
	}
	move_position(cp, &l->positions_dirty, b->continuation, 0);
}

/* A window ends inside the batch, after r: the position is r's record, or
 * how far into its KPL aggregate (kept as it was when r has no sequence
 * number: the next commit moves it, and what is read again is counted as
 * duplicates). */
static void note_position_inside(struct live *l, const struct consumer_batch *b,
				 const struct consumer_record *r)
{
	struct consumer_checkpoint *cp;
	const char *seq;
	uint64_t sub_sequence;

	if (consumer_batch_position_after(b, r, &seq, &sub_sequence) &&
	    (cp = position_of(l, b->shard_id)) != NULL)
		move_position(cp, &l->positions_dirty, seq, sub_sequence);
}

/* Whether r was applied before a restart: the shard's checkpoint fell
 * inside r's KPL aggregate, read again from its first user record. */
static bool applied_before(struct live *l, const struct consumer_batch *b,
			   const struct consumer_record *r)
{
	const struct consumer_checkpoint *cp;

	if (b->origins == NULL)
		return false;
	for (size_t i = 0; i < l->position_count; i++) {
		cp = &l->positions[i];
		if (strcmp(cp->shard_id, b->shard_id) == 0)
			return r->sub < cp->sub_sequence &&
			       strcmp(b->origins[r->origin], cp->sequence_number) == 0;
	}
	return false;
}

static void apply_record(struct live *l, const struct consumer_record *r)
{
	switch (engine_apply(l->engine, &r->t, r->arrival_ms)) {
	case ENGINE_APPLIED:
		l->stats.applied++;
		break;
	case ENGINE_DUPLICATE:
		l->stats.duplicates++;
		break;
	case ENGINE_LATE:
		l->stats.late++;
		keep_late(l, &r->t);
		break;
	case ENGINE_REJECTED:
		l->stats.rejected++;
		break;
	case ENGINE_OTHER_CLASS:
		other_class(l, &r->t);
		break;
	case ENGINE_NO_MEMORY:
		l->stats.rejected++;
		log_error("out of memory: a record of race %lld is dropped",
			  (long long)r->t.race_id);
		break;
	}
}

/* Applies b's records in order; a window that --window-records ends
 * inside it commits there, its position inside b. */
static void apply_batch(struct live *l, const struct consumer_batch *b, int64_t now_ms)
{
	bool passing = true;    /* still where a checkpoint inside an aggregate was */

	for (size_t i = 0; i < b->count; i++) {
		const struct consumer_record *r = &b->records[i];
		if (passing && applied_before(l, b, r))
			continue;
		passing = false;
		apply_record(l, r);
		if (l->config.window_records && ++l->window_applied >= l->config.window_records) {
			note_position_inside(l, b, r);
			live_commit(l, now_ms);
		}
	}
	note_position(l, b);
}

/* ---- committing ------------------------------------------------------- */

/* Writes one ended race as the store keeps it. */
static int finish_race(struct live *l, struct engine_race *r, int64_t now_ms)
{
	struct engine_race_info info;
	struct engine_standing *rows;
	struct store_result *results;
	int64_t *best_out, *best_racer;
	int rc = -1;

	engine_race_info(r, &info);
	rows = calloc(info.racers ? info.racers : 1, sizeof(*rows));
	results = calloc(info.racers ? info.racers : 1, sizeof(*results));
	best_out = calloc((size_t)l->config.duration, sizeof(*best_out));
	best_racer = calloc((size_t)l->config.duration, sizeof(*best_racer));
	if (rows && results && best_out && best_racer) {
		size_t n = engine_standings(r, 0, info.racers, rows);
		for (size_t i = 0; i < n; i++)
			results[i] = (struct store_result){
				.racer_id = rows[i].racer_id, .name = rows[i].name,
				.score = rows[i].score, .output = rows[i].output,
				.cadence = rows[i].cadence, .resistance = rows[i].resistance,
				.second = rows[i].second,
			};
		engine_race_second_bests(r, best_out, best_racer);
		struct store_race race = {
			.race_id = info.race_id, .class_id = info.class_id,
			.duration = l->config.duration, .started_ms = info.first_arrival_ms,
			.ended_ms = now_ms, .results = results, .result_count = n,
			.second_best_output = best_out, .second_best_racer = best_racer,
		};
		rc = store_finish_race(l->store, &race);
		if (rc == 0)
			rc = store_delete_live_race(l->store, l->config.consumer, info.race_id);
		/* The engine marks later racers against the new bests. */
		for (int s = 1; rc == 0 && s <= l->config.duration; s++)
			if (best_out[s - 1] > engine_class_best(l->engine, info.class_id, s))
				engine_set_class_best(l->engine, info.class_id, s, best_out[s - 1]);
	}
	free(rows);
	free(results);
	free(best_out);
	free(best_racer);
	return rc;
}

static int save_live_race(struct live *l, struct engine_race *r, int64_t race_id)
{
	size_t len;
	void *state = engine_race_save(r, &len);
	int rc;

	if (state == NULL)
		return -1;
	rc = store_put_live_race(l->store, l->config.consumer, race_id, state, len);
	free(state);
	return rc;
}

static bool listed(const struct engine_race *r, struct engine_race *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == r)
			return true;
	return false;
}

/* Every race in the engine is noted seen (what `board --until-finished`
 * prints, even a race that started and ended in this window). The ended
 * ones stay in the engine until the commit, but not in the live state:
 * finish_race took them out, and saving them again would bring them back
 * as live at the next start. */
static int save_live_races(struct live *l, struct engine_race *const *ended, size_t n)
{
	for (size_t i = 0; i < engine_race_count(l->engine); i++) {
		struct engine_race *r = engine_race_at(l->engine, i);
		struct engine_race_info info;

		engine_race_info(r, &info);
		if (store_note_race_seen(l->store, l->config.consumer, info.race_id) < 0 ||
		    (!listed(r, ended, n) && save_live_race(l, r, info.race_id) < 0))
			return -1;
	}
	return 0;
}

static int write_window(struct live *l, struct engine_race **ended, size_t n, int64_t now_ms)
{
	if (!l->class_names_saved && save_class_names(l) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (finish_race(l, ended[i], now_ms) < 0)
			return -1;
	l->late_other_class = 0;
	for (size_t i = 0; i < l->late_count; i++) {
		const struct late *x = &l->late[i];
		int rc = store_merge_late(l->store, x->race_id, x->class_id, x->racer_id, x->name,
					  x->second, x->output, x->cadence, x->resistance);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			l->late_other_class++;
			snprintf(l->late_last_bad, sizeof(l->late_last_bad),
				 "race %lld ended in another class; racer %lld sent class %d",
				 (long long)x->race_id, (long long)x->racer_id, x->class_id);
		}
	}
	for (size_t i = 0; i < l->position_count; i++) {
		const struct consumer_checkpoint *p = &l->positions[i];
		if ((p->sequence_number[0]
			     ? store_put_checkpoint(l->store, l->config.stream, l->config.consumer,
						    p->shard_id, p->sequence_number,
						    p->sub_sequence)
			     : store_forget_checkpoint(l->store, l->config.stream,
						       l->config.consumer, p->shard_id)) < 0)
			return -1;
	}
	return save_live_races(l, ended, n);
}

/* Checkpoints of shards gone from the stream, deleted by this commit. */
static void drop_forgotten_positions(struct live *l)
{
	size_t keep = 0;

	for (size_t i = 0; i < l->position_count; i++)
		if (l->positions[i].sequence_number[0])
			l->positions[keep++] = l->positions[i];
	l->position_count = keep;
}

/* Nothing of the window was written; it is all still in memory, and the
 * next window writes it. */
static void commit_failed(struct live *l)
{
	results_store_error(l);
	store_rollback(l->store);
	l->stats.commit_failures++;
}

void live_commit(struct live *l, int64_t now_ms)
{
	struct engine_race *ended[ENDED_MAX];
	size_t n = engine_ended_races(l->engine, now_ms, (int64_t)l->config.grace_s * 1000,
				      live_caught_up(l), ended, ENDED_MAX);
	double started = clock_mono_ms();

	/* A window that fails is written again by the next, which starts now
	 * (a read-only database is not tried again at every record). */
	l->window_applied = 0;
	/* Ended races leave the live state in the transaction that writes
	 * their results: a crash leaves one or the other, never neither. */
	if (store_begin(l->store) < 0 || write_window(l, ended, n, now_ms) < 0 ||
	    store_commit(l->store) < 0) {
		commit_failed(l);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct engine_race_info info;
		engine_race_info(ended[i], &info);
		l->stats.last_ended_race = info.race_id;
		engine_drop_race(l->engine, ended[i]);
	}
	drop_forgotten_positions(l);
	if (l->late_other_class) {
		log_warn("%llu late records are of another class than their race; counted as bad "
			 "(the last: %s)", (unsigned long long)l->late_other_class, l->late_last_bad);
		l->stats.bad += l->late_other_class;
		l->stats.other_class += l->late_other_class;
		l->stats.late -= l->late_other_class;     /* bad, not late */
		snprintf(l->stats.last_bad, sizeof(l->stats.last_bad), "%s", l->late_last_bad);
	}
	l->late_count = 0;
	l->positions_dirty = false;
	l->class_names_saved = true;
	if (l->stats.store_error[0] != '\0')
		log_warn("saved to %s again: this window holds everything the failed ones held",
			 l->config.db_path);
	l->stats.store_error[0] = '\0';
	l->stats.windows++;
	l->stats.last_commit_ms = now_ms;
	l->stats.last_commit_latency_ms = clock_mono_ms() - started;
	store_checkpoint(l->store);
}

void live_apply(struct live *l, const struct consumer_batch *batches, int64_t now_ms)
{
	for (const struct consumer_batch *b = batches; b; b = b->next)
		apply_batch(l, b, now_ms);
}

void live_poll(struct live *l, int64_t now_ms)
{
	struct consumer_batch *batches = consumer_take(l->consumer);

	live_apply(l, batches, now_ms);
	consumer_batch_free(batches);
	if (l->window_start_ms == 0)
		l->window_start_ms = now_ms;
	if (now_ms - l->window_start_ms >= (int64_t)l->config.window_s * 1000) {
		live_commit(l, now_ms);
		l->window_start_ms = now_ms;
	}
}

bool live_caught_up(struct live *l)
{
	return l->consumer && consumer_caught_up(l->consumer);
}

struct engine *live_engine(struct live *l)
{
	return l->engine;
}

struct store *live_store(struct live *l)
{
	return l->store;
}

struct consumer *live_consumer(struct live *l)
{
	return l->consumer;
}

void live_stats(const struct live *l, struct live_stats *out)
{
	*out = l->stats;
}

void live_close(struct live *l, int64_t now_ms)
{
	if (l == NULL)
		return;
	if (l->consumer) {
		consumer_stop(l->consumer);
		l->consumer = NULL;
	}
	if (l->store && l->engine && now_ms)
		live_commit(l, now_ms);
	store_close(l->store);
	engine_free(l->engine);
	free(l->late);
	free(l->positions);
	free(l);
}
