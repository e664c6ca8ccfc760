#include "config.h"
#include "race/sim.h"

#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/api_call.h"
#include "client/endpoint.h"
#include "client/failure.h"
#include "client/httpc.h"
#include "race/racemodel.h"
#include "race/roster.h"
#include "util/clock.h"
#include "util/datadir.h"
#include "util/log.h"
#include "util/rng.h"
#include "wire/protocol.h"
#include "wire/sigv4.h"
#include "wire/telemetry.h"

#define SIM_TICK_MS 5
/* With --seed, device timestamps count from a fixed epoch (the original
 * Alleycat's example record) so that a seeded run repeats byte for byte. */
#define SIM_SEEDED_EPOCH_MS 1620240672000LL
#define SIM_PROGRESS_MS 500

struct sim_race {
	struct race_model model;
	struct telemetry *riders;
	int64_t race_id;
	int class_id;
	int second;                     /* the last second sent, 0 before the start */
	int64_t start_ms;               /* wall time of second 0 */
	bool active;
};

struct sim {
	struct sim_options opt;
	struct endpoint endpoint;
	struct sigv4_credentials credentials;
	volatile sig_atomic_t stop;
	struct roster roster;
	struct httpc *http;
	struct producer *producer;
	struct sim_race *races;
	unsigned next_index;            /* races started so far */
	uint64_t run;                   /* drawn once: this run's race ids, without --seed */
	int64_t first_race_id, last_race_id;
	struct rng rng;                 /* keys and duplicates */
	FILE *dump;
	int64_t started_ms, last_progress_ms;
	int64_t stop_deadline_ms;       /* after an interrupt */
	bool progress_shown;
	bool done;
	uint64_t failures_seen;         /* the producer's failures told so far */
	char gave_up[FAILURE_TEXT_MAX]; /* why a run without --loop stopped early */
	char lost[FAILURE_TEXT_MAX];    /* a lost connection not told yet */
};

/* ------------------------------------------------------------------ */
/* Races                                                               */
/* ------------------------------------------------------------------ */

int64_t sim_race_id(const struct sim_options *o, uint64_t run, int64_t started_ms,
		    unsigned index)
{
	if (o->have_race_id)
		return o->race_id;
	return racemodel_race_id(o->seed, o->have_seed, started_ms, run, index);
}

/* Starts the next race in a slot: its own id, class and racers. */
static int start_race(struct sim *sim, struct sim_race *race, int64_t start_ms)
{
	unsigned index = sim->next_index++;
	size_t roster_size = roster_racer_count(&sim->roster);
	size_t first = ((size_t)index * (size_t)sim->opt.racers) % roster_size;

	race->race_id = sim_race_id(&sim->opt, sim->run, sim->started_ms, index);
	/* The class follows from the race, so that a sim joining it with
	 * --race-id rides the class of the others. */
	race->class_id = sim->opt.class_id ? sim->opt.class_id
					   : racemodel_race_class(race->race_id);
	int64_t device_start = sim->opt.have_seed
				       ? SIM_SEEDED_EPOCH_MS + (int64_t)index * sim->opt.duration * 1000
				       : start_ms;

	if (racemodel_init(&race->model, sim->opt.seed, race->race_id, race->class_id,
			   sim->opt.duration, first, (size_t)sim->opt.racers, &sim->roster,
			   device_start) < 0)
		return -1;
	if (index == 0)
		sim->first_race_id = race->race_id;
	sim->last_race_id = race->race_id;
	race->second = 0;
	race->start_ms = start_ms;
	race->active = true;
	log_info("race %" PRId64 " (class %d, %d racers) starts", race->race_id, race->class_id,
		 sim->opt.racers);
	return 0;
}

static const char *partition_key(struct sim *sim, const struct telemetry *t, char *buf,
				 size_t size)
{
	switch (sim->opt.key) {
	case SIM_KEY_RACE:
		snprintf(buf, size, "%" PRId64, t->race_id);
		break;
	case SIM_KEY_RACER:
		snprintf(buf, size, "%" PRId64, t->racer_id);
		break;
	case SIM_KEY_SAME:
		snprintf(buf, size, "alleycat");
		break;
	case SIM_KEY_TIME:
		snprintf(buf, size, "%" PRId64, t->device_ts);
		break;
	case SIM_KEY_RANDOM:
		snprintf(buf, size, "%" PRIu64, rng_next(&sim->rng));
		break;
	}
	return buf;
}

/* Sends one second of a race: one record per racer. */
static int send_second(struct sim *sim, struct sim_race *race, int second)
{
	char data[512], key[64];

	racemodel_second(&race->model, second, race->riders);
	for (int i = 0; i < sim->opt.racers; i++) {
		const struct telemetry *t = &race->riders[i];
		size_t len = telemetry_encode(t, data, sizeof(data));
		partition_key(sim, t, key, sizeof(key));
		if (len == 0 || producer_add(sim->producer, key, data, len, false) < 0)
			return -1;
		if (sim->dump)
			fprintf(sim->dump, "%.*s\n", (int)len, data);
		if (sim->opt.dup_rate > 0 && rng_uniform(&sim->rng) < sim->opt.dup_rate &&
		    producer_add(sim->producer, key, data, len, true) < 0)
			return -1;
	}
	race->second = second;
	return 0;
}

/* The next second a race sends: every interval, and always its last. */
static int next_second(const struct sim *sim, const struct sim_race *race)
{
	int s = race->second + sim->opt.interval;

	return s > sim->opt.duration && race->second < sim->opt.duration ? sim->opt.duration : s;
}

/* Whether a race's next second is due: on the clock, or (at --speed 0)
 * as soon as the producer has room. */
static bool due(const struct sim *sim, const struct sim_race *race, int second, int64_t now)
{
	if (sim->opt.speed == 0)
		return producer_pending(sim->producer) <
		       (size_t)sim->opt.batch * (size_t)sim->opt.in_flight * 2;
	return now >= race->start_ms + (int64_t)((second - 1) * 1000.0 / sim->opt.speed);
}

static int advance_races(struct sim *sim, int64_t now)
{
	bool any = false;

	for (int i = 0; i < sim->opt.races; i++) {
		struct sim_race *race = &sim->races[i];
		int s;

		while (race->active && (s = next_second(sim, race)) <= sim->opt.duration &&
		       due(sim, race, s, now)) {
			if (send_second(sim, race, s) < 0)
				return -1;
		}
		if (race->active && race->second >= sim->opt.duration) {
			race->active = false;
			racemodel_free(&race->model);
			if (sim->opt.loop && !sim->stop && start_race(sim, race, now) < 0)
				return -1;
		}
		any |= race->active;
	}
	if (!any && producer_pending(sim->producer) == 0)
		sim->done = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reporting                                                           */
/* ------------------------------------------------------------------ */

static int race_clock(const struct sim *sim)
{
	int best = 0;

	for (int i = 0; i < sim->opt.races; i++)
		if (sim->races[i].active && sim->races[i].second > best)
			best = sim->races[i].second;
	return best;
}

static void show_progress(struct sim *sim, int64_t now)
{
	const struct producer_stats *st = producer_stats(sim->producer);
	double seconds = (now - sim->started_ms) / 1000.0;

	fprintf(stderr,
		"\rsim: sent %" PRIu64 "  landed %" PRIu64 " (%.0f/s)  throttled %" PRIu64
		"  retried %" PRIu64 "  failed %" PRIu64 "  race second %d/%d   ",
		st->sent, st->landed, seconds > 0 ? st->landed / seconds : 0.0, st->throttled,
		st->retried, st->failed, race_clock(sim), sim->opt.duration);
	sim->progress_shown = true;
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */
/* ------------------------------------------------------------------ */

/* A run without --loop stops trying: what it has not sent (again) has
 * failed, and the failure is its last words. */
static void give_up(struct sim *sim, const struct failure *f)
{
	snprintf(sim->gave_up, sizeof(sim->gave_up), "%s", f->text);
	producer_give_up(sim->producer);
	sim->done = true;
}

static void warn_retrying(const char *text, enum failure_kind kind)
{
	log_warn("%s%s", text, failure_transient(kind) ? "; retrying" : "");
}

/* A run without --loop stays quiet while it may yet give up, so that a
 * failure it gives up on is one line. A connection lost mid-request is
 * still told once the endpoint answers again: that request's records may
 * have landed or not, and were sent again. */
static void warn_once_answered(struct sim *sim, const struct failure *f, int64_t since,
			       bool news)
{
	if (news && f->kind == FAILURE_LOST)
		snprintf(sim->lost, sizeof(sim->lost), "%s", f->text);
	if (since == 0 && sim->lost[0]) {
		warn_retrying(sim->lost, FAILURE_LOST);
		sim->lost[0] = '\0';
	}
}

/* Requests that failed as a whole. A run without --loop gives up when
 * retrying cannot help (or no longer may), with one line that says why; a
 * loop says so and retries (the logger counts the repeats). */
static void watch_failures(struct sim *sim, int64_t now)
{
	int64_t since;
	uint64_t count;
	const struct failure *f = producer_failure(sim->producer, &since, &count);
	bool news = count != sim->failures_seen;

	if (!sim->opt.loop && since && failure_give_up(f->kind, since, now, sim->opt.timeout)) {
		give_up(sim, f);
		return;
	}
	sim->failures_seen = count;
	/* A busy endpoint is told at once: the run goes on slower. */
	if (sim->opt.loop || f->kind == FAILURE_BUSY) {
		if (news)
			warn_retrying(f->text, f->kind);
		return;
	}
	warn_once_answered(sim, f, since, news);
}

/* One pass of the loop: ride what is due, send what is ready. */
static void tick(struct sim *sim)
{
	int64_t now = clock_wall_ms();

	if (sim->stop) {
		/* Stop riding; what is queued gets two seconds to land. */
		if (sim->stop_deadline_ms == 0)
			sim->stop_deadline_ms = now + 2000;
		if (now > sim->stop_deadline_ms)
			sim->done = true;
		for (int i = 0; i < sim->opt.races; i++)
			if (sim->races[i].active) {
				sim->races[i].active = false;
				racemodel_free(&sim->races[i].model);
			}
	}
	if (advance_races(sim, now) < 0) {
		log_error("out of memory: the simulator stops");
		sim->done = true;
	}
	/* Before sending: a run that gives up sends nothing more. */
	watch_failures(sim, now);
	if (!sim->done)
		producer_pump(sim->producer, now);
	if (sim->opt.progress && now - sim->last_progress_ms >= SIM_PROGRESS_MS) {
		show_progress(sim, now);
		sim->last_progress_ms = now;
	}
}

/* {"StreamName": the stream}, escaped as JSON; NULL when the name is not
 * UTF-8 (or memory runs out), which api_call reports. */
static json_t *stream_name_body(const struct sim *sim)
{
	return json_pack("{s:s}", "StreamName", sim->opt.stream);
}

/* Kinesis creates streams asynchronously: waits until it is active. */
static int wait_active(struct sim *sim, const struct endpoint *ep, char *err, size_t errlen)
{
	struct api_call_result r;

	for (int i = 0; i < 300 && !sim->stop; i++) {
		if (api_call(sim->http, ep, "DescribeStreamSummary", stream_name_body(sim), &sim->stop,
			     &r) == 0 &&
		    r.status == 200 && strstr(r.body, "\"ACTIVE\"")) {
			api_call_free(&r);
			log_info("created stream %s with %d shards", sim->opt.stream, sim->opt.shards);
			return 0;
		}
		api_call_free(&r);
		usleep(100000);
	}
	snprintf(err, errlen, "stream %s did not become active", sim->opt.stream);
	return -1;
}

/* --create-stream: create the stream when the endpoint does not have it. */
static int ensure_stream(struct sim *sim, const struct endpoint *ep, char *err, size_t errlen)
{
	struct api_call_result r;
	struct failure f;
	struct failure_call call = {
		.endpoint = ep, .op = "DescribeStreamSummary", .stream = sim->opt.stream,
		.can_create = true,
	};

	if (api_call_patiently(sim->http, &call, stream_name_body(sim), &sim->stop, &r, &f) == 0) {
		api_call_free(&r);
		return 0;
	}
	if (f.kind == FAILURE_NO_STREAM) {
		call.op = "CreateStream";
		if (api_call_patiently(sim->http, &call,
				       json_pack("{s:s, s:i}", "StreamName", sim->opt.stream,
						 "ShardCount", sim->opt.shards),
				       &sim->stop, &r, &f) == 0) {
			api_call_free(&r);
			return wait_active(sim, ep, err, errlen);
		}
	}
	snprintf(err, errlen, "%s", f.text);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */


/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

const char *const sim_key_names[5] = { "race", "random", "racer", "same", "time" };

void sim_options_defaults(struct sim_options *o)
{
	*o = (struct sim_options){
		.endpoint = HUB_DEFAULT_URL, .stream = "alleycat", .region = "us-east-1",
		.races = 1, .racers = 100, .duration = 300, .interval = 1, .shards = 4,
		.batch = PRODUCER_BATCH_MAX, .in_flight = 4, .speed = 1.0, .key = SIM_KEY_RACER,
		.timeout = HTTPC_DEFAULT_TIMEOUT_S,
	};
}

void sim_free(struct sim *sim)
{
	if (sim == NULL)
		return;
	for (int i = 0; sim->races && i < sim->opt.races; i++) {
		if (sim->races[i].active)
			racemodel_free(&sim->races[i].model);
		free(sim->races[i].riders);
	}
	free(sim->races);
	/* Requests still in flight call the producer back as they are
	 * cancelled: the client goes first. */
	httpc_free(sim->http);
	producer_free(sim->producer);
	if (sim->dump)
		fclose(sim->dump);
	roster_free(&sim->roster);
	free(sim);
}

static int setup(struct sim *sim, char *err, size_t errlen)
{
	const char *dir = datadir_find("racers.txt");
	struct producer_config pc;

	if (endpoint_from_options(&sim->endpoint, sim->opt.endpoint, sim->opt.ca_file,
				  sim->opt.insecure, &sim->credentials, sim->opt.region, err,
				  errlen) < 0)
		return -1;
	if (sim->opt.credentials) {
		sim->endpoint.credentials = sim->opt.credentials;
		sim->endpoint.credentials_source = sim->opt.credentials_source;
	}
	if (dir == NULL) {
		snprintf(err, errlen, "cannot find the racer names (racers.txt); set ALLEYCAT_SHARE_DIR");
		return -1;
	}
	if (roster_load(&sim->roster, dir, err, errlen) < 0)
		return -1;
	if (sim->opt.dump && (sim->dump = fopen(sim->opt.dump, "w")) == NULL) {
		snprintf(err, errlen, "cannot write %s: %m", sim->opt.dump);
		return -1;
	}
	sim->http = httpc_new(sim->opt.timeout);
	if (sim->http == NULL) {
		snprintf(err, errlen, "cannot start the network client");
		return -1;
	}
	pc = (struct producer_config){
		.endpoint = sim->endpoint, .stream = sim->opt.stream, .batch = (size_t)sim->opt.batch,
		.max_in_flight = sim->opt.in_flight, .max_retries = sim->opt.max_retries,
		.seed = sim->opt.seed, .can_create = true,
	};
	sim->producer = producer_new(sim->http, &pc);
	sim->races = calloc((size_t)sim->opt.races, sizeof(*sim->races));
	for (int i = 0; sim->races && i < sim->opt.races; i++)
		if ((sim->races[i].riders = calloc((size_t)sim->opt.racers,
						   sizeof(struct telemetry))) == NULL)
			break;
	if (sim->producer == NULL || sim->races == NULL ||
	    sim->races[sim->opt.races - 1].riders == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

struct sim *sim_new(const struct sim_options *options, char *err, size_t errlen)
{
	struct sim *sim = calloc(1, sizeof(*sim));

	if (sim == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sim->opt = *options;
	/* Not from the clock: two runs started together must not ride the
	 * same races. */
	sim->run = rng_entropy();
	if (!sim->opt.have_seed)
		sim->opt.seed = sim->run;
	rng_seed(&sim->rng, sim->opt.seed ^ 0x5eedull);
	if (setup(sim, err, errlen) < 0) {
		sim_free(sim);
		return NULL;
	}
	return sim;
}

int sim_run(struct sim *sim, char *err, size_t errlen)
{
	/* Stopped while setting up: nothing was sent, and that is no failure. */
	if (sim->opt.create_stream && ensure_stream(sim, &sim->endpoint, err, errlen) < 0)
		return sim->stop ? 0 : -1;
	sim->started_ms = clock_wall_ms();
	for (int i = 0; i < sim->opt.races; i++) {
		int64_t offset = sim->opt.speed > 0
					 ? (int64_t)(i * sim->opt.stagger * 1000.0 / sim->opt.speed)
					 : 0;
		if (start_race(sim, &sim->races[i], sim->started_ms + offset) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	/* A pass at least every tick, and at once when an answer arrives. */
	while (!sim->done) {
		tick(sim);
		if (!sim->done)
			httpc_poll(sim->http, SIM_TICK_MS);
	}
	/* What is still in flight after the grace of a stop stays unanswered. */
	httpc_cancel_all(sim->http);
	if (sim->progress_shown)
		fputc('\n', stderr);
	if (sim->gave_up[0]) {
		snprintf(err, errlen, "%s", sim->gave_up);
		return -1;
	}
	return 0;
}

void sim_stop(struct sim *sim)
{
	/* Only the flag: the loop looks at it every SIM_TICK_MS, and nothing
	 * else is safe in a signal handler. */
	sim->stop = 1;
}

const struct producer_stats *sim_stats(const struct sim *sim)
{
	return producer_stats(sim->producer);
}

unsigned sim_races(const struct sim *sim, int64_t *first_id, int64_t *last_id)
{
	*first_id = sim->first_race_id;
	*last_id = sim->last_race_id;
	return sim->next_index;
}

uint64_t sim_unanswered(const struct sim *sim)
{
	return producer_unanswered(sim->producer);
}

double sim_seconds(const struct sim *sim)
{
	return sim->started_ms ? (clock_wall_ms() - sim->started_ms) / 1000.0 : 0.0;
}
