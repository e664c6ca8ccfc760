/* alleycat demo: everything in one process with no configuration: a hub
 * in memory, a simulator riding races in a loop, and the live dashboard
 * on them. */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/watch.h"
#include "hub/hub.h"
#include "hub/server.h"
#include "race/roster.h"
#include "race/sim.h"
#include "util/clock.h"
#include "util/datadir.h"
#include "util/errtext.h"
#include "util/log.h"
#include "wire/protocol.h"

#define DEMO_RETENTION_BYTES (64ull * 1024 * 1024)

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void cmd_demo_usage(FILE *out)
{
	fputs("Usage: alleycat demo [OPTION]...\n"
	      "Everything in one process, with nothing to set up: a hub in memory, a\n"
	      "simulator riding two races at a time in a loop, and the live dashboard.\n"
	      "\n"
	      "  --listen HOST:PORT    where the hub serves (default " HUB_DEFAULT_ADDRESS "), so\n"
	      "                        other commands can join in\n"
	      "  --racers N            racers per race (default 300)\n"
	      "  --speed X             time compression (default 5: a race in a minute)\n"
	      "  --db FILE             keep the history in FILE (default a temporary\n"
	      "                        database, removed at exit)\n"
	      TERMINAL_OPTIONS_USAGE
	      "  -h, --help            show this help and exit\n",
	      out);
}

struct demo {
	struct hub *hub;
	struct server *server;
	pthread_t server_thread, sim_thread;
	struct sim *sim;
	bool server_running, sim_running;
	char tmpdir[64];
	char db[4096];
};

static void *serve(void *arg)
{
	server_run(arg);
	return NULL;
}

static void *ride(void *arg)
{
	char err[ERR_TEXT_MAX];

	if (sim_run(arg, err, sizeof(err)) < 0)
		log_error("the simulator stopped: %s", err);
	return NULL;
}

static int start_hub(struct demo *d, const char *listen)
{
	struct hub_config config;
	struct server_config sc;
	char err[ERR_TEXT_MAX];

	server_config_defaults(&sc);
	if (server_config_listen(&sc, listen) < 0)
		return cli_bad_value("demo", "listen", listen, SERVER_LISTEN_FORM);
	hub_config_defaults(&config);
	config.retention_bytes = DEMO_RETENTION_BYTES;
	d->hub = hub_open(&config, clock_wall_ms(), err, sizeof(err));
	if (d->hub == NULL || hub_create_stream(d->hub, "alleycat", 4, clock_wall_ms()) == NULL) {
		cli_error("cannot start the hub: %s", d->hub ? "out of memory" : err);
		return EXIT_FAILURE_RUNTIME;
	}
	d->server = server_start(d->hub, &sc, err, sizeof(err));
	if (d->server == NULL) {
		cli_error("%s", err);
		return EXIT_FAILURE_RUNTIME;
	}
	if (pthread_create(&d->server_thread, NULL, serve, d->server) != 0) {
		cli_error("cannot start the hub thread");
		return EXIT_FAILURE_RUNTIME;
	}
	d->server_running = true;
	return EXIT_OK;
}

static int start_sim(struct demo *d, const char *endpoint, int racers, double speed)
{
	struct sim_options o;
	char err[ERR_TEXT_MAX];

	sim_options_defaults(&o);
	o.endpoint = endpoint;
	o.races = 2;
	o.racers = racers;
	o.speed = speed;
	o.loop = true;
	/* The second race starts half-way through the first, so there is
	 * always a race near its finish. */
	o.stagger = 150;
	d->sim = sim_new(&o, err, sizeof(err));
	if (d->sim == NULL || pthread_create(&d->sim_thread, NULL, ride, d->sim) != 0) {
		cli_error("cannot start the simulator: %s", d->sim ? "no thread" : err);
		return EXIT_FAILURE_RUNTIME;
	}
	d->sim_running = true;
	return EXIT_OK;
}

static void stop_all(struct demo *d)
{
	if (d->sim_running) {
		sim_stop(d->sim);
		pthread_join(d->sim_thread, NULL);
	}
	sim_free(d->sim);
	if (d->server_running) {
		server_stop(d->server);
		pthread_join(d->server_thread, NULL);
	}
	server_free(d->server);
	hub_close(d->hub);
	if (d->tmpdir[0]) {
		char path[128];
		static const char *const files[] = { "history.db", "history.db-wal",
						     "history.db-shm" };
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", d->tmpdir, files[i]);
			unlink(path);
		}
		rmdir(d->tmpdir);
	}
}

enum { OPT_LISTEN = 256, OPT_RACERS, OPT_SPEED, OPT_DB };

const struct option cmd_demo_options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "racers", required_argument, NULL, OPT_RACERS },
	{ "speed", required_argument, NULL, OPT_SPEED },
	{ "db", required_argument, NULL, OPT_DB },
	TERMINAL_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_demo(int argc, char **argv)
{
	struct demo d = { 0 };
	struct dashboard_config dash = { 0 };
	struct live_config lc;
	struct roster roster = { 0 };
	const char *listen = HUB_DEFAULT_ADDRESS, *db = NULL, *dir = datadir_find("classes.txt");
	char endpoint[300], err[ERR_TEXT_MAX];
	long long racers = 300;
	double speed = 5;
	int opt, rc;

	watch_terminal_defaults(&dash);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", cmd_demo_options, NULL)) != -1) {
		if ((rc = watch_terminal_option("demo", opt, optarg, &dash)) != 0) {
			if (rc < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (opt) {
		case 'h':
			cmd_demo_usage(stdout);
			return EXIT_OK;
		case OPT_LISTEN: listen = optarg; break;
		case OPT_DB: db = optarg; break;
		case OPT_RACERS:
			if (cli_parse_long("demo", "racers", optarg, 1, 1000, &racers) < 0)
				return EXIT_USAGE;
			break;
		case OPT_SPEED:
			if (cli_parse_double("demo", "speed", optarg, 0.1, 1000, &speed) < 0)
				return EXIT_USAGE;
			break;
		default:
			return cli_option_error("demo", cmd_demo_options, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	if (db == NULL) {
		snprintf(d.tmpdir, sizeof(d.tmpdir), "/tmp/alleycat-demo.XXXXXX");
		if (mkdtemp(d.tmpdir) == NULL) {
			cli_error("cannot make a temporary directory: %m");
			return EXIT_FAILURE_RUNTIME;
		}
		snprintf(d.db, sizeof(d.db), "%s/history.db", d.tmpdir);
		db = d.db;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	snprintf(endpoint, sizeof(endpoint), "http://%s", listen);
	rc = start_hub(&d, listen);
	if (rc == EXIT_OK)
		rc = start_sim(&d, endpoint, (int)racers, speed);
	if (rc == EXIT_OK) {
		lc = (struct live_config){
			.stream = "alleycat", .consumer = "demo", .from = CONSUMER_FROM_TRIM_HORIZON,
			.db_path = db, .window_s = 15, .grace_s = 30, .duration = 300,
		};
		if (endpoint_parse(endpoint, &lc.endpoint, err, sizeof(err)) < 0) {
			cli_error("%s", err);
			rc = EXIT_FAILURE_RUNTIME;
		}
	}
	if (rc == EXIT_OK) {
		if (dir && roster_load(&roster, dir, err, sizeof(err)) == 0)
			lc.roster = &roster;
		dash.mode = DASHBOARD_WATCH;
		dash.stream = "alleycat";
		dash.consumer = "demo";
		dash.endpoint = endpoint;
		dash.banner = "demo: a hub, a simulator and this dashboard in one process; q quits";
		rc = watch_dashboard(&dash, &lc, &stop_requested);
	}
	stop_all(&d);
	roster_free(&roster);
	return rc;
}
