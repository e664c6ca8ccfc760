/* alleycat sim: ride races and send every racer's telemetry through the
 * Kinesis PutRecords API, to our hub or any Kinesis-compatible endpoint. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/endpoint.h"
#include "client/httpc.h"
#include "cmd/cli.h"
#include "cmd/client_options.h"
#include "cmd/commands.h"
#include "race/sim.h"
#include "util/errtext.h"
#include "util/log.h"
#include "wire/protocol.h"
#include "wire/telemetry.h"

/* What only the command line asks for. */
struct sim_cli {
	bool quiet, stats;
	const char *endpoint;           /* --endpoint (NULL: the region's, else the hub) */
	struct client_options client;   /* --region, --profile */
};

/* The process's one simulator, for the signal handler. */
static struct sim *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		sim_stop(running);
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

void cmd_sim_usage(FILE *out)
{
	fputs("Usage: alleycat sim [OPTION]...\n"
	      "Ride bike races and send every racer's telemetry, one record per racer per\n"
	      "second, to a stream with the Kinesis PutRecords API.\n"
	      "\n"
	      "  --endpoint URL        the Kinesis-compatible endpoint\n"
	      "                        (default " HUB_DEFAULT_URL ")\n"
	      "  --stream NAME         the stream (default alleycat)\n"
	      CLIENT_OPTIONS_USAGE
	      "  --ca FILE             trust the certificates in FILE for https://\n"
	      "  --insecure            accept any certificate (for testing only)\n"
	      "  --timeout S           seconds to wait for an answer to each API call\n"
	      "                        before it counts as failed (default 60)\n"
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
	      "                        and the same race ids\n"
	      "  --race-id ID          ride (or join) race ID instead of a race of its own;\n"
	      "                        one race, not with --races or --loop. Without --class\n"
	      "                        its class follows from ID, as it does for every sim\n"
	      "                        that joins it\n"
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
	      "Every run rides races of its own: their ids come from the clock and a number\n"
	      "the run draws (the same ids again for the same --seed); the summary names\n"
	      "them.\n"
	      "\n"
	      "Requests are signed with AWS Signature V4 when a key is found, as the AWS\n"
	      "CLI finds it (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else the\n"
	      "profile's), for the region named (default us-east-1), and sent unsigned\n"
	      "otherwise.\n",
	      out);
}

enum {
	OPT_ENDPOINT = 256, OPT_STREAM, OPT_REGION, OPT_CREATE_STREAM, OPT_SHARDS, OPT_RACES,
	OPT_RACERS, OPT_CLASS, OPT_DURATION, OPT_INTERVAL, OPT_STAGGER, OPT_SPEED, OPT_SEED,
	OPT_LOOP, OPT_KEY, OPT_BATCH, OPT_IN_FLIGHT, OPT_MAX_RETRIES, OPT_DUP_RATE, OPT_DUMP,
	OPT_STATS, OPT_QUIET, OPT_LOG_LEVEL, OPT_CA, OPT_INSECURE, OPT_RACE_ID, OPT_TIMEOUT,
	OPT_PROFILE,
};

const struct option cmd_sim_options[] = {
	{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
	{ "stream", required_argument, NULL, OPT_STREAM },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
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
	{ "race-id", required_argument, NULL, OPT_RACE_ID },
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
static int parse_options(int argc, char **argv, struct sim_options *o, struct sim_cli *c)
{
	int opt, rc = 0;
	long long v;

	sim_options_defaults(o);
	*c = (struct sim_cli){ 0 };
	optind = 1;
	opterr = 0;
	while (rc == 0 && (opt = getopt_long(argc, argv, "h", cmd_sim_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cmd_sim_usage(stdout);
			return 1;
		case OPT_ENDPOINT: c->endpoint = optarg; break;
		case OPT_STREAM: o->stream = optarg; break;
		case OPT_REGION:
			rc = client_region_option("sim", optarg, &c->client) < 0 ? -1 : 0;
			break;
		case OPT_PROFILE:
			rc = client_profile_option("sim", optarg, &c->client) < 0 ? -1 : 0;
			break;
		case OPT_CA: o->ca_file = optarg; break;
		case OPT_INSECURE: o->insecure = true; break;
		case OPT_TIMEOUT:
			rc = int_option("timeout", 1, HTTPC_TIMEOUT_MAX_S, &o->timeout);
			break;
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
		case OPT_RACE_ID:
			rc = cli_parse_long("sim", "race-id", optarg, 0, INT64_MAX, &v);
			o->race_id = v;
			o->have_race_id = true;
			break;
		case OPT_LOOP: o->loop = true; break;
		case OPT_KEY:
			rc = -1;
			for (int k = 0; k < 5; k++)
				if (strcmp(optarg, sim_key_names[k]) == 0) {
					o->key = (enum sim_key)k;
					rc = 0;
				}
			if (rc < 0)
				cli_bad_value("sim", "key", optarg,
					      "is not race, random, racer, same or time");
			break;
		case OPT_DUMP: o->dump = optarg; break;
		case OPT_STATS:
			c->stats = true;
			if (strcmp(optarg, "json") != 0) {
				cli_usage_error("sim", "--stats: the only format is json");
				rc = -1;
			}
			break;
		case OPT_QUIET: c->quiet = true; break;
		case OPT_LOG_LEVEL:
			rc = cli_set_log_level("sim", optarg);
			break;
		default:
			cli_option_error("sim", cmd_sim_options, argv[optind - 1]);
			rc = -1;
		}
	}
	if (rc == 0 && optind < argc) {
		cli_usage_error("sim", "unexpected argument '%s'", argv[optind]);
		rc = -1;
	}
	/* Every race a run rides has an id of its own: one id is one race. */
	if (rc == 0 && o->have_race_id && (o->loop || o->races > 1)) {
		cli_usage_error("sim", "--race-id rides one race: it does not go with %s",
				o->loop ? "--loop" : "--races above 1");
		rc = -1;
	}
	o->progress = !c->quiet && isatty(STDERR_FILENO);
	return rc;
}

/* ------------------------------------------------------------------ */

/* One JSON line of figures on stdout, for scripts: also when the run
 * failed, so that they learn what it sent. */
static void print_stats(const struct sim *sim)
{
	const struct producer_stats *st = sim_stats(sim);

	printf("{\"sent\":%" PRIu64 ",\"landed\":%" PRIu64 ",\"throttled\":%" PRIu64
	       ",\"retried\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"duplicates\":%" PRIu64
	       ",\"unanswered\":%" PRIu64 ",\"seconds\":%.3f}\n",
	       st->sent, st->landed, st->throttled, st->retried, st->failed, st->duplicates,
	       sim_unanswered(sim), sim_seconds(sim));
	fflush(stdout);
}

static void report(const struct sim *sim, const struct sim_cli *c)
{
	const struct producer_stats *st = sim_stats(sim);
	uint64_t unanswered = sim_unanswered(sim);
	double seconds = sim_seconds(sim);

	int64_t first, last;
	unsigned races = sim_races(sim, &first, &last);
	char rode[96] = "";

	/* Repeats of a warning are told before the summary of what they did. */
	log_flush();
	/* The race ids, for a board's --race or another sim's --race-id. */
	if (races == 1 || (races > 1 && first == last))
		snprintf(rode, sizeof(rode), " race %" PRId64 ":", first);
	else if (races > 1)
		snprintf(rode, sizeof(rode), " %u races, %" PRId64 " to %" PRId64 ":", races,
			 first, last);
	if (!c->quiet)
		fprintf(stderr,
			"sim:%s %" PRIu64 " records sent, %" PRIu64 " landed, %" PRIu64
			" throttled, %" PRIu64 " retried, %" PRIu64 " failed, %" PRIu64
			" duplicates, in %.1f s\n",
			rode, st->sent, st->landed, st->throttled, st->retried, st->failed,
			st->duplicates, seconds);
	if (!c->quiet && unanswered)
		fprintf(stderr, "sim: stopped with %" PRIu64 " records not yet answered\n",
			unanswered);
	if (st->failed && st->last_error[0])
		cli_error("the last error was: %s", st->last_error);
	if (c->stats)
		print_stats(sim);
}

int cmd_sim(int argc, char **argv)
{
	struct sim_options o;
	struct sim_cli c;
	char err[ERR_TEXT_MAX] = "";
	struct endpoint ep;
	struct sim *sim;
	int rc = parse_options(argc, argv, &o, &c);

	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if ((rc = client_options_endpoint("sim", &c.client, c.endpoint, HUB_DEFAULT_URL, &ep)) != 0)
		return rc;
	o.endpoint = c.client.url;
	o.credentials = ep.credentials;
	o.credentials_source = ep.credentials_source;
	sim = sim_new(&o, err, sizeof(err));
	if (sim == NULL) {
		cli_error("%s", err);
		return EXIT_FAILURE_RUNTIME;
	}
	running = sim;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (sim_run(sim, err, sizeof(err)) < 0) {
		/* One line: what failed, where, and the fix. */
		cli_error("%s", err);
		if (c.stats)
			print_stats(sim);
		rc = EXIT_FAILURE_RUNTIME;
	} else {
		report(sim, &c);
		rc = sim_stats(sim)->failed ? EXIT_FAILURE_RUNTIME : EXIT_OK;
	}
	running = NULL;
	sim_free(sim);
	return rc;
}
