/* alleycat sim: ride races and send every racer's telemetry through the
 * Kinesis PutRecords API, to our hub or any Kinesis-compatible endpoint. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "datadir.h"
#include "endpoint.h"
#include "httpc.h"
#include "kinesis.h"
#include "log.h"
#include "producer.h"
#include "racemodel.h"
#include "rng.h"
#include "roster.h"
#include "sigv4.h"
#include "telemetry.h"

#define SIM_TICK_MS 5
/* With --seed, device timestamps count from a fixed epoch (the original
 * Alleycat's example record) so that a seeded run repeats byte for byte. */
#define SIM_SEEDED_EPOCH_MS 1620240672000LL
#define SIM_PROGRESS_MS 500

enum key_strategy { KEY_RACE, KEY_RANDOM, KEY_RACER, KEY_SAME, KEY_TIME };

static const char *const key_names[] = { "race", "random", "racer", "same", "time" };

struct sim_options {
	const char *endpoint, *stream, *region, *dump, *stats;
	int races, racers, class_id, duration, interval, stagger, shards, batch, in_flight;
	int max_retries;
	double speed, dup_rate;
	uint64_t seed;
	bool have_seed, loop, create_stream, quiet;
	enum key_strategy key;
};

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
	struct roster roster;
	struct lws_context *context;
	struct producer *producer;
	struct sim_race *races;
	unsigned next_index;            /* races started so far */
	struct rng rng;                 /* keys and duplicates */
	FILE *dump;
	int64_t started_ms, last_progress_ms;
	lws_sorted_usec_list_t tick;
	int64_t stop_deadline_ms;       /* after an interrupt */
	bool progress_shown;
	bool done;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Races                                                               */
/* ------------------------------------------------------------------ */

/* Starts the next race in a slot: its own id, class and racers. */
static int start_race(struct sim *sim, struct sim_race *race, int64_t start_ms)
{
	unsigned index = sim->next_index++;
	size_t roster_size = roster_racer_count(&sim->roster);
	size_t first = ((size_t)index * (size_t)sim->opt.racers) % roster_size;

	race->race_id = racemodel_race_id(sim->opt.seed, sim->opt.have_seed, sim->started_ms, index);
	race->class_id = sim->opt.class_id ? sim->opt.class_id
					   : 1 + (int)(rng_next(&sim->rng) % TELEMETRY_CLASS_COUNT);
	int64_t device_start = sim->opt.have_seed
				       ? SIM_SEEDED_EPOCH_MS + (int64_t)index * sim->opt.duration * 1000
				       : start_ms;

	if (racemodel_init(&race->model, sim->opt.seed, race->race_id, race->class_id,
			   sim->opt.duration, first, (size_t)sim->opt.racers, &sim->roster,
			   device_start) < 0)
		return -1;
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
	case KEY_RACE:
		snprintf(buf, size, "%" PRId64, t->race_id);
		break;
	case KEY_RACER:
		snprintf(buf, size, "%" PRId64, t->racer_id);
		break;
	case KEY_SAME:
		snprintf(buf, size, "alleycat");
		break;
	case KEY_TIME:
		snprintf(buf, size, "%" PRId64, t->device_ts);
		break;
	case KEY_RANDOM:
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
			if (sim->opt.loop && !interrupted && start_race(sim, race, now) < 0)
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

static void report(struct sim *sim)
{
	const struct producer_stats *st = producer_stats(sim->producer);
	double seconds = (wall_ms() - sim->started_ms) / 1000.0;

	if (sim->progress_shown)
		fputc('\n', stderr);
	if (!sim->opt.quiet)
		fprintf(stderr,
			"sim: %" PRIu64 " records sent, %" PRIu64 " landed, %" PRIu64
			" throttled, %" PRIu64 " retried, %" PRIu64 " failed, %" PRIu64
			" duplicates, in %.1f s\n",
			st->sent, st->landed, st->throttled, st->retried, st->failed,
			st->duplicates, seconds);
	if (st->failed && st->last_error[0])
		cli_error("the last error was: %s", st->last_error);
	if (sim->opt.stats) {
		printf("{\"sent\":%" PRIu64 ",\"landed\":%" PRIu64 ",\"throttled\":%" PRIu64
		       ",\"retried\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"duplicates\":%" PRIu64
		       ",\"seconds\":%.3f}\n",
		       st->sent, st->landed, st->throttled, st->retried, st->failed, st->duplicates,
		       seconds);
		fflush(stdout);
	}
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */
/* ------------------------------------------------------------------ */

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct sim *sim = lws_container_of(sul, struct sim, tick);
	int64_t now = wall_ms();

	if (interrupted) {
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
		cli_error("out of memory");
		sim->done = true;
	}
	producer_pump(sim->producer, now);
	if (!sim->opt.quiet && isatty(STDERR_FILENO) && now - sim->last_progress_ms >= SIM_PROGRESS_MS) {
		show_progress(sim, now);
		sim->last_progress_ms = now;
	}
	if (sim->done)
		lws_cancel_service(sim->context);      /* the loop is waiting: wake it */
	else
		lws_sul_schedule(sim->context, 0, &sim->tick, on_tick, SIM_TICK_MS * LWS_US_PER_MS);
}

/* One synchronous API call, for setting up before the ride. */
struct call_result {
	bool done;
	int status;
	char *body;
	char error[256];
};

static void on_call(void *user, int status, const char *body, size_t len, const char *error)
{
	struct call_result *r = user;

	r->done = true;
	r->status = status;
	r->body = strndup(body, len);
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
}

static int call(struct sim *sim, const struct endpoint *ep, const char *op, const char *body,
		struct call_result *r)
{
	char target[64];
	struct httpc_header headers[] = {
		{ "content-type", KINESIS_CONTENT_TYPE },
		{ "x-amz-target", target },
	};

	memset(r, 0, sizeof(*r));
	snprintf(target, sizeof(target), "%s%s", KINESIS_TARGET_PREFIX, op);
	if (httpc_post(sim->context, ep, "/", headers, 2, body, strlen(body), on_call, r) < 0)
		return -1;
	while (!r->done && !interrupted)
		lws_service(sim->context, 0);
	return r->done && r->status ? 0 : -1;
}

static const char *error_type(const struct call_result *r)
{
	static char type[128];
	json_t *j = json_loads(r->body ? r->body : "", 0, NULL);

	snprintf(type, sizeof(type), "%s",
		 json_string_value(json_object_get(j, "__type")) ? json_string_value(json_object_get(j, "__type")) : "");
	json_decref(j);
	return type;
}

/* --create-stream: create the stream when the endpoint does not have it. */
static int ensure_stream(struct sim *sim, const struct endpoint *ep)
{
	char body[512];
	struct call_result r;
	int rc;

	snprintf(body, sizeof(body), "{\"StreamName\":\"%s\"}", sim->opt.stream);
	rc = call(sim, ep, "DescribeStreamSummary", body, &r);
	if (rc == 0 && r.status == 200) {
		free(r.body);
		return 0;
	}
	if (rc < 0 || strcmp(error_type(&r), "ResourceNotFoundException") != 0) {
		cli_error("cannot reach the stream at %s:%d: %s", ep->host, ep->port,
			  r.error[0] ? r.error : r.body ? r.body : "no answer");
		free(r.body);
		return -1;
	}
	free(r.body);
	snprintf(body, sizeof(body), "{\"StreamName\":\"%s\",\"ShardCount\":%d}", sim->opt.stream,
		 sim->opt.shards);
	if (call(sim, ep, "CreateStream", body, &r) < 0 || r.status != 200) {
		cli_error("cannot create stream %s: %s", sim->opt.stream, r.body ? r.body : r.error);
		free(r.body);
		return -1;
	}
	free(r.body);
	/* Kinesis creates streams asynchronously: wait until it is active. */
	for (int i = 0; i < 300 && !interrupted; i++) {
		snprintf(body, sizeof(body), "{\"StreamName\":\"%s\"}", sim->opt.stream);
		if (call(sim, ep, "DescribeStreamSummary", body, &r) == 0 && r.status == 200 &&
		    strstr(r.body, "\"ACTIVE\"")) {
			free(r.body);
			log_info("created stream %s with %d shards", sim->opt.stream, sim->opt.shards);
			return 0;
		}
		free(r.body);
		usleep(100000);
	}
	cli_error("stream %s did not become active", sim->opt.stream);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

void sim_usage(FILE *out)
{
	fputs("Usage: alleycat sim [OPTION]...\n"
	      "Ride bike races and send every racer's telemetry, one record per racer per\n"
	      "second, to a stream with the Kinesis PutRecords API.\n"
	      "\n"
	      "  --endpoint URL        the Kinesis-compatible endpoint\n"
	      "                        (default http://127.0.0.1:4567)\n"
	      "  --stream NAME         the stream (default alleycat)\n"
	      "  --region REGION       the region for signed requests (default us-east-1)\n"
	      "  --create-stream       create the stream first when it does not exist\n"
	      "  --shards N            its shards, with --create-stream (default 4)\n"
	      "  --races N             races ridden at once (default 1)\n"
	      "  --racers N            racers per race, 1..1000 (default 100)\n"
	      "  --class ID            the class of every race, 1..6 (default: each race its own)\n"
	      "  --duration S          race length in seconds (default 300)\n"
	      "  --interval S          seconds between a racer's records (default 1)\n"
	      "  --stagger S           race seconds between the starts of the races (default 0)\n"
	      "  --speed X             time compression: 60 rides 5 minutes in 5 seconds;\n"
	      "                        0 sends as fast as the endpoint accepts (default 1)\n"
	      "  --seed N              repeatable races: the same seed sends the same records\n"
	      "  --loop                ride race after race until stopped\n"
	      "  --key STRATEGY        partition keys: race, random, racer, same or time\n"
	      "                        (default racer)\n"
	      "  --batch N             records per PutRecords, 1..500 (default 500)\n"
	      "  --in-flight N         requests at once (default 4)\n"
	      "  --max-retries N       attempts per record before it counts as failed\n"
	      "                        (default 0 = never give up)\n"
	      "  --dup-rate P          also send this fraction of records twice (default 0)\n"
	      "  --dump FILE           write every record sent, one JSON line each\n"
	      "  --stats json          print one JSON line of figures at exit\n"
	      "  --quiet               no progress line or summary\n"
	      "  --log-level LEVEL     error, warn, info or debug (default warn)\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Requests are signed with AWS Signature V4 when AWS_ACCESS_KEY_ID and\n"
	      "AWS_SECRET_ACCESS_KEY are set, and sent unsigned otherwise.\n",
	      out);
}

enum {
	OPT_ENDPOINT = 256, OPT_STREAM, OPT_REGION, OPT_CREATE_STREAM, OPT_SHARDS, OPT_RACES,
	OPT_RACERS, OPT_CLASS, OPT_DURATION, OPT_INTERVAL, OPT_STAGGER, OPT_SPEED, OPT_SEED,
	OPT_LOOP, OPT_KEY, OPT_BATCH, OPT_IN_FLIGHT, OPT_MAX_RETRIES, OPT_DUP_RATE, OPT_DUMP,
	OPT_STATS, OPT_QUIET, OPT_LOG_LEVEL,
};

static const struct option sim_options[] = {
	{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
	{ "stream", required_argument, NULL, OPT_STREAM },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "create-stream", no_argument, NULL, OPT_CREATE_STREAM },
	{ "shards", required_argument, NULL, OPT_SHARDS },
	{ "races", required_argument, NULL, OPT_RACES },
	{ "racers", required_argument, NULL, OPT_RACERS },
	{ "class", required_argument, NULL, OPT_CLASS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "stagger", required_argument, NULL, OPT_STAGGER },
	{ "speed", required_argument, NULL, OPT_SPEED },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "loop", no_argument, NULL, OPT_LOOP },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "in-flight", required_argument, NULL, OPT_IN_FLIGHT },
	{ "max-retries", required_argument, NULL, OPT_MAX_RETRIES },
	{ "dup-rate", required_argument, NULL, OPT_DUP_RATE },
	{ "dump", required_argument, NULL, OPT_DUMP },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int int_option(const char *name, long long min, long long max, int *out)
{
	long long v;

	if (cli_parse_long("sim", name, optarg, min, max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* Returns -1 to exit with usage error, 1 to exit successfully (--help). */
static int parse_options(int argc, char **argv, struct sim_options *o)
{
	int opt, level, rc = 0;
	long long v;

	*o = (struct sim_options){
		.endpoint = "http://127.0.0.1:4567", .stream = "alleycat", .region = "us-east-1",
		.races = 1, .racers = 100, .duration = 300, .interval = 1, .shards = 4,
		.batch = PRODUCER_BATCH_MAX, .in_flight = 4, .speed = 1.0, .key = KEY_RACER,
	};
	optind = 1;
	opterr = 0;
	while (rc == 0 && (opt = getopt_long(argc, argv, "h", sim_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			sim_usage(stdout);
			return 1;
		case OPT_ENDPOINT: o->endpoint = optarg; break;
		case OPT_STREAM: o->stream = optarg; break;
		case OPT_REGION: o->region = optarg; break;
		case OPT_CREATE_STREAM: o->create_stream = true; break;
		case OPT_SHARDS: rc = int_option("shards", 1, 1024, &o->shards); break;
		case OPT_RACES: rc = int_option("races", 1, 1000, &o->races); break;
		case OPT_RACERS: rc = int_option("racers", 1, 1000, &o->racers); break;
		case OPT_CLASS: rc = int_option("class", 1, TELEMETRY_CLASS_COUNT, &o->class_id); break;
		case OPT_DURATION: rc = int_option("duration", 1, 86400, &o->duration); break;
		case OPT_INTERVAL: rc = int_option("interval", 1, 3600, &o->interval); break;
		case OPT_STAGGER: rc = int_option("stagger", 0, 86400, &o->stagger); break;
		case OPT_BATCH: rc = int_option("batch", 1, PRODUCER_BATCH_MAX, &o->batch); break;
		case OPT_IN_FLIGHT: rc = int_option("in-flight", 1, 64, &o->in_flight); break;
		case OPT_MAX_RETRIES: rc = int_option("max-retries", 0, 1000000, &o->max_retries); break;
		case OPT_SPEED: rc = cli_parse_double("sim", "speed", optarg, 0, 1e6, &o->speed); break;
		case OPT_DUP_RATE: rc = cli_parse_double("sim", "dup-rate", optarg, 0, 1, &o->dup_rate); break;
		case OPT_SEED:
			rc = cli_parse_long("sim", "seed", optarg, 0, INT64_MAX, &v);
			o->seed = (uint64_t)v;
			o->have_seed = true;
			break;
		case OPT_LOOP: o->loop = true; break;
		case OPT_KEY:
			rc = -1;
			for (int k = 0; k < 5; k++)
				if (strcmp(optarg, key_names[k]) == 0) {
					o->key = (enum key_strategy)k;
					rc = 0;
				}
			if (rc < 0)
				cli_usage_error("sim", "--key: '%s' is not race, random, racer, same or "
						       "time", optarg);
			break;
		case OPT_DUMP: o->dump = optarg; break;
		case OPT_STATS:
			o->stats = optarg;
			if (strcmp(optarg, "json") != 0) {
				cli_usage_error("sim", "--stats: the only format is json");
				rc = -1;
			}
			break;
		case OPT_QUIET: o->quiet = true; break;
		case OPT_LOG_LEVEL:
			if ((level = log_level_parse(optarg)) < 0) {
				cli_usage_error("sim", "--log-level: '%s' is not error, warn, info or "
						       "debug", optarg);
				rc = -1;
			} else {
				log_set_level((enum log_level)level);
			}
			break;
		default:
			cli_usage_error("sim", "unknown or incomplete option '%s'", argv[optind - 1]);
			rc = -1;
		}
	}
	if (rc == 0 && optind < argc) {
		cli_usage_error("sim", "unexpected argument '%s'", argv[optind]);
		rc = -1;
	}
	if (!o->have_seed)
		o->seed = (uint64_t)wall_ms();
	return rc;
}

/* ------------------------------------------------------------------ */

static void sim_free(struct sim *sim)
{
	for (int i = 0; sim->races && i < sim->opt.races; i++) {
		if (sim->races[i].active)
			racemodel_free(&sim->races[i].model);
		free(sim->races[i].riders);
	}
	free(sim->races);
	producer_free(sim->producer);
	if (sim->context)
		lws_context_destroy(sim->context);
	if (sim->dump)
		fclose(sim->dump);
	roster_free(&sim->roster);
}

static const struct lws_protocols client_protocols[] = {
	HTTPC_PROTOCOL,
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static int setup(struct sim *sim)
{
	struct lws_context_creation_info info;
	const char *dir = datadir_find("racers.txt");
	char err[512];

	if (dir == NULL) {
		cli_error("cannot find the racer names (racers.txt); set ALLEYCAT_DATA_DIR");
		return -1;
	}
	if (roster_load(&sim->roster, dir, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return -1;
	}
	if (sim->opt.dump && (sim->dump = fopen(sim->opt.dump, "w")) == NULL) {
		cli_error("cannot write %s: %m", sim->opt.dump);
		return -1;
	}
	log_capture_lws();
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = client_protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.fd_limit_per_thread = 1024;
	sim->context = lws_create_context(&info);
	if (sim->context == NULL) {
		cli_error("cannot start the network client");
		return -1;
	}
	return 0;
}

int sim_main(int argc, char **argv)
{
	struct sim sim = { 0 };
	struct endpoint ep;
	struct sigv4_credentials cred;
	struct producer_config pc;
	char err[512];
	int rc = parse_options(argc, argv, &sim.opt);

	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (endpoint_parse(sim.opt.endpoint, &ep, err, sizeof(err)) < 0)
		return cli_usage_error("sim", "--endpoint: %s", err);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rng_seed(&sim.rng, sim.opt.seed ^ 0x5eedull);
	sim.started_ms = wall_ms();
	if (setup(&sim) < 0 ||
	    (sim.opt.create_stream && ensure_stream(&sim, &ep) < 0)) {
		sim_free(&sim);
		return EXIT_FAILURE_RUNTIME;
	}
	pc = (struct producer_config){
		.endpoint = ep, .stream = sim.opt.stream, .batch = (size_t)sim.opt.batch,
		.max_in_flight = sim.opt.in_flight, .max_retries = sim.opt.max_retries,
		.credentials = sigv4_credentials_from_env(&cred, sim.opt.region, "kinesis") == 0
				       ? &cred : NULL,
		.seed = sim.opt.seed,
	};
	sim.producer = producer_new(sim.context, &pc);
	sim.races = calloc((size_t)sim.opt.races, sizeof(*sim.races));
	if (sim.producer == NULL || sim.races == NULL) {
		cli_error("out of memory");
		sim_free(&sim);
		return EXIT_FAILURE_RUNTIME;
	}
	sim.started_ms = wall_ms();
	for (int i = 0; i < sim.opt.races; i++) {
		int64_t offset = sim.opt.speed > 0
					 ? (int64_t)(i * sim.opt.stagger * 1000.0 / sim.opt.speed)
					 : 0;
		sim.races[i].riders = calloc((size_t)sim.opt.racers, sizeof(struct telemetry));
		if (sim.races[i].riders == NULL ||
		    start_race(&sim, &sim.races[i], sim.started_ms + offset) < 0) {
			cli_error("out of memory");
			sim_free(&sim);
			return EXIT_FAILURE_RUNTIME;
		}
	}
	lws_sul_schedule(sim.context, 0, &sim.tick, on_tick, 1);
	while (!sim.done)
		if (lws_service(sim.context, 0) < 0)
			break;
	report(&sim);
	rc = producer_stats(sim.producer)->failed ? EXIT_FAILURE_RUNTIME : EXIT_OK;
	sim_free(&sim);
	return rc;
}
