/* The race simulator: rides races and sends every racer's telemetry, one
 * record per racer per second, through the producer to a stream. It runs
 * its own network loop, so a program can ride races on a thread while it
 * does something else (the demo does). */
#ifndef ALLEYCAT_SIM_H
#define ALLEYCAT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "client/producer.h"

enum sim_key { SIM_KEY_RACE, SIM_KEY_RANDOM, SIM_KEY_RACER, SIM_KEY_SAME, SIM_KEY_TIME };

/* The --key names, in enum order. */
extern const char *const sim_key_names[5];

struct sim_options {
	const char *endpoint, *stream, *region, *dump;
	const char *ca_file;            /* trust this CA bundle for https:// */
	const struct sigv4_credentials *credentials; /* sign with these (NULL: with
						       * the AWS variables', if set) */
	const char *credentials_source; /* where their key came from (endpoint.h) */
	bool insecure;                  /* accept any certificate (testing only) */
	int races, racers, class_id, duration, interval, stagger, shards, batch, in_flight;
	int max_retries;
	int timeout;                    /* seconds an API call waits for its answer */
	double speed, dup_rate;
	uint64_t seed;
	int64_t race_id;                /* with have_race_id: ride this race (--race-id) */
	bool have_seed, have_race_id, loop, create_stream;
	bool progress;                  /* a progress line on stderr */
	enum sim_key key;
};

void sim_options_defaults(struct sim_options *o);

struct sim;

/* The raceId of the index-th race a run rides: the --race-id asked for,
 * or racemodel_race_id of the seed, or of the run's start and the number
 * it drew (run) without one. */
int64_t sim_race_id(const struct sim_options *o, uint64_t run, int64_t started_ms,
		    unsigned index);

/* Loads the racers, opens the dump and sets up the network. NULL with a
 * message in err on failure. */
struct sim *sim_new(const struct sim_options *options, char *err, size_t errlen);

/* Rides until every race is over and every record has landed or failed, or
 * until sim_stop; then what is queued gets two seconds to land, and what
 * is still in flight after that is cancelled (sim_unanswered counts it).
 * Returns 0, or -1 with one line in err: the stream could not be created,
 * or (without --loop) the endpoint cannot be reached or refuses the
 * records for good (client/failure words it). What was sent is counted
 * either way. */
int sim_run(struct sim *sim, char *err, size_t errlen);

/* Asks sim_run to stop; safe from another thread and a signal handler. */
void sim_stop(struct sim *sim);

const struct producer_stats *sim_stats(const struct sim *sim);

/* The races ridden so far: how many were started, and the raceIds of the
 * first and the last (a run's ids rise by one from race to race, unless it
 * rides one --race-id). */
unsigned sim_races(const struct sim *sim, int64_t *first_id, int64_t *last_id);

/* Records sent that neither landed nor failed (after a stop). */
uint64_t sim_unanswered(const struct sim *sim);

/* Seconds since the ride started. */
double sim_seconds(const struct sim *sim);

void sim_free(struct sim *sim);

#endif
