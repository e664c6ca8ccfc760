/* alleycat watch and alleycat kiosk: the live dashboard, interactive or
 * for unattended screens. Both consume the stream through a live
 * consumer; the drawing is ui/'s. */
#include "config.h"

#include <getopt.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/monitor.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/reader_options.h"
#include "cmd/watch.h"
#include "race/live.h"
#include "race/roster.h"
#include "ui/dashboard.h"
#include "util/clock.h"
#include "util/errtext.h"
#include "util/log.h"
#include "wire/protocol.h"
#include "wire/sigv4.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char *const watch_text =
	"Usage: alleycat watch [OPTION]...\n"
	"The live dashboard: follow the races on a stream as they are ridden, browse\n"
	"past rankings and watch the health of the stream.\n";

static const char *const kiosk_text =
	"Usage: alleycat kiosk [OPTION]...\n"
	"The dashboard for unattended screens: read-only, rotating between the live\n"
	"races, the busiest race, the class leaderboards and the monitor; it keeps\n"
	"retrying through stream and database errors and stops only on SIGINT or\n"
	"SIGTERM, or on --unlock-key.\n";

static void common_usage(FILE *out, bool kiosk)
{
	fputs("\n"
	      "  --endpoint URL        the hub (default " HUB_DEFAULT_PUSH_URL ")\n"
	      "  --stream NAME         the stream: a name or an ARN (default alleycat)\n"
	      READER_OPTIONS_USAGE
	      "  --ca FILE             trust the certificates in FILE for wss://\n"
	      "  --insecure            accept any certificate (for testing only)\n"
	      "  --timeout S           seconds to wait for an answer to each API call\n"
	      "                        before it counts as failed (default 60)\n"
	      "  --consumer NAME       the registered consumer name (default COMMAND-HOSTNAME)\n"
	      "  --db FILE             the history database\n"
	      "                        (default $XDG_DATA_HOME/alleycat/history.db)\n",
	      out);
	if (!kiosk)
		fputs("  --race ID             the race to show (default the busiest live race)\n"
		      "  --racer ID            the racer to follow\n",
		      out);
	else
		fputs("  --rotate S            seconds per view (default 15)\n"
		      "  --unlock-key KEY      the key that quits (default none)\n",
		      out);
	fputs("  --delay TENTHS        redraw every TENTHS of a second (default 5)\n"
	      WINDOW_OPTIONS_USAGE
	      "  --grace S             a race with no records for S seconds ends (default 30)\n"
	      "  --duration S          race length in seconds (default 300)\n"
	      READER_FROM_USAGE("live")
	      "  --parallel N          decode each shard's records on N threads, keeping\n"
	      "                        each partition key's order (1-10, default 1)\n"
	      TERMINAL_OPTIONS_USAGE
	      "  --log-level LEVEL     error, warn, info or debug (default warn)\n"
	      "  -h, --help            show this help and exit\n",
	      out);
}

void cmd_watch_usage(FILE *out)
{
	fputs(watch_text, out);
	common_usage(out, false);
}

void cmd_kiosk_usage(FILE *out)
{
	fputs(kiosk_text, out);
	common_usage(out, true);
}

/* ---- options ---------------------------------------------------------- */

struct watch_options {
	struct reader_options live;
	struct dashboard_config dash;
};

enum {
	OPT_RACE = LIVE_OPT_NEXT, OPT_RACER, OPT_DELAY, OPT_ROTATE, OPT_UNLOCK_KEY, OPT_LOG_LEVEL,
};

const struct option cmd_watch_options[] = {
	LIVE_OPTIONS,
	{ "race", required_argument, NULL, OPT_RACE },
	{ "racer", required_argument, NULL, OPT_RACER },
	{ "delay", required_argument, NULL, OPT_DELAY },
	TERMINAL_OPTIONS,
	{ "rotate", required_argument, NULL, OPT_ROTATE },
	{ "unlock-key", required_argument, NULL, OPT_UNLOCK_KEY },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The colours and glyphs the terminal and the user allow. */
void watch_terminal_defaults(struct dashboard_config *dash)
{
	const char *no_color = getenv("NO_COLOR");

	dash->color = no_color == NULL || no_color[0] == '\0';
	dash->unicode = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	dash->mouse = true;
	dash->delay_tenths = 5;
	dash->rotate_s = 15;
}

static const char *option_name(int opt)
{
	for (const struct option *o = cmd_watch_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

int watch_terminal_option(const char *command, int opt, const char *arg,
			  struct dashboard_config *dash)
{
	switch (opt) {
	case TERMINAL_OPT_NO_COLOR: dash->color = false; return 1;
	case TERMINAL_OPT_NO_UNICODE: dash->unicode = false; return 1;
	case TERMINAL_OPT_NO_MOUSE: dash->mouse = false; return 1;
	case TERMINAL_OPT_THEME:
		if (strcmp(arg, "dark") != 0 && strcmp(arg, "light") != 0)
			return cli_bad_value(command, "theme", arg, "is not dark or light"), -1;
		dash->light = strcmp(arg, "light") == 0;
		return 1;
	}
	return 0;
}

static int parse_options(const char *command, int argc, char **argv, struct watch_options *o)
{
	bool kiosk = strcmp(command, "kiosk") == 0;
	long long n;
	int opt, v;

	*o = (struct watch_options){ 0 };
	reader_options_defaults(&o->live, command);
	watch_terminal_defaults(&o->dash);
	o->dash.mode = kiosk ? DASHBOARD_KIOSK : DASHBOARD_WATCH;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", cmd_watch_options, NULL)) != -1) {
		if ((kiosk && (opt == OPT_RACE || opt == OPT_RACER)) ||
		    (!kiosk && (opt == OPT_ROTATE || opt == OPT_UNLOCK_KEY)))
			return cli_usage_error(command, "--%s is an option of %s only",
					       option_name(opt), kiosk ? "watch" : "kiosk"), -1;
		if ((v = reader_option(command, opt, optarg, &o->live)) != 0 ||
		    (v = watch_terminal_option(command, opt, optarg, &o->dash)) != 0) {
			if (v < 0)
				return -1;
			continue;
		}
		switch (opt) {
		case 'h':
			kiosk ? cmd_kiosk_usage(stdout) : cmd_watch_usage(stdout);
			return 1;
		case OPT_RACE:
		case OPT_RACER:
			if (cli_parse_long(command, opt == OPT_RACE ? "race" : "racer", optarg, 0,
					   INT64_MAX, &n) < 0)
				return -1;
			*(opt == OPT_RACE ? &o->dash.race_id : &o->dash.racer_id) = n;
			break;
		case OPT_DELAY:
			if (cli_parse_long(command, "delay", optarg, 1, 600, &n) < 0)
				return -1;
			o->dash.delay_tenths = (int)n;
			break;
		case OPT_ROTATE:
			if (cli_parse_long(command, "rotate", optarg, 1, 86400, &n) < 0)
				return -1;
			o->dash.rotate_s = (int)n;
			break;
		case OPT_UNLOCK_KEY:
			if (strlen(optarg) != 1 || optarg[0] < 0x21 || optarg[0] > 0x7e)
				return cli_bad_value(command, "unlock-key", optarg,
						     "is not one printable character"), -1;
			o->dash.unlock_key = optarg[0];
			break;
		case OPT_LOG_LEVEL:
			if (cli_set_log_level(command, optarg) < 0)
				return -1;
			break;
		default:
			return cli_option_error(command, cmd_watch_options, argv[optind - 1]), -1;
		}
	}
	if (optind < argc)
		return cli_usage_error(command, "unexpected argument '%s'", argv[optind]), -1;
	o->dash.stream = o->live.stream;
	o->dash.consumer = o->live.consumer;
	return 0;
}

/* ---- running ---------------------------------------------------------- */

int watch_dashboard(const struct dashboard_config *dash, const struct live_config *lc,
		    volatile sig_atomic_t *stop)
{
	char err[ERR_TEXT_MAX];
	struct live *l;
	struct monitor *mon;
	int rc;

	l = live_open(lc, err, sizeof(err));
	if (l == NULL) {
		cli_error("%s", err);
		return EXIT_FAILURE_RUNTIME;
	}
	mon = monitor_start(&lc->endpoint, lc->timeout_s, err, sizeof(err));
	if (mon == NULL)
		log_warn("%s: the monitor view stays empty", err);
	rc = dashboard_run(dash, l, mon, stop);
	monitor_stop(mon);
	live_close(l, clock_wall_ms());
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

static int run(const char *command, int argc, char **argv)
{
	struct watch_options o;
	struct live_config lc;
	struct roster roster = { 0 };
	int rc = parse_options(command, argc, argv, &o);

	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if ((rc = reader_options_config(command, &o.live, &lc, &roster)) != 0)
		return rc;
	o.dash.endpoint = o.live.client.url;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rc = watch_dashboard(&o.dash, &lc, &stop_requested);
	roster_free(&roster);
	return rc;
}

int cmd_watch(int argc, char **argv)
{
	return run("watch", argc, argv);
}

int cmd_kiosk(int argc, char **argv)
{
	return run("kiosk", argc, argv);
}
