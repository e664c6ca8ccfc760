/* alleycat: one program, many commands. */
#include "config.h"

#include <curl/curl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/settings.h"
#include "util/errtext.h"
#include "util/log.h"

static int cmd_help(int argc, char **argv);

static void help_usage(FILE *out)
{
	fputs("Usage: alleycat help [COMMAND]\n"
	      "Show the commands, or the help of one command.\n",
	      out);
}

const struct command cli_commands[] = {
	{ "demo", "everything at once: a hub, a simulator and the live dashboard", cmd_demo,
	  cmd_demo_usage, cmd_demo_options },
	{ "watch", "the live dashboard: races, history and the health of the stream", cmd_watch,
	  cmd_watch_usage, cmd_watch_options },
	{ "kiosk", "the dashboard for unattended screens", cmd_kiosk, cmd_kiosk_usage, cmd_watch_options },
	{ "hub", "serve a stream: Kinesis API and push to consumers", cmd_hub, cmd_hub_usage,
	  cmd_hub_options },
	{ "sim", "ride races and send their telemetry to a stream", cmd_sim, cmd_sim_usage,
	  cmd_sim_options },
	{ "board", "consume a stream and print the live standings", cmd_board, cmd_board_usage,
	  cmd_board_options },
	{ "history", "print past rankings from the history database", cmd_history,
	  cmd_history_usage, cmd_history_options },
	{ "help", "show the commands, or the help of one", cmd_help, help_usage, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static void print_overview(FILE *out)
{
	fputs("Usage: alleycat COMMAND [OPTION]...\n"
	      "Alleycat: live leaderboards for home-fitness bike races.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (const struct command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help     show this help and exit\n"
	      "  -V, --version  show the version and exit\n"
	      "\n"
	      "Run 'alleycat COMMAND --help' for the options of a command.\n"
	      "See alleycat(1) for the whole manual.\n",
	      out);
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_overview(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help_usage(stdout);
		return EXIT_OK;
	}
	c = cli_find(argv[1]);
	if (c == NULL)
		return cli_unknown_command(argv[1]);
	c->usage(stdout);
	return EXIT_OK;
}

/* The arguments of the running command, with where each came from. */
static const struct settings_args *running_settings;

const char *cli_value_origin(const char *value)
{
	return running_settings ? settings_origin(running_settings, value) : NULL;
}

/* Runs a command on its settings: config file, environment, then argv. */
static int run_with_settings(const struct command *c, int argc, char **argv)
{
	struct settings_args args;
	char err[ERR_TEXT_MAX];
	int rc;

	if (c->options == NULL)
		return c->run(argc, argv);
	if (settings_args(c->name, c->options, argc, argv, &args, err, sizeof(err)) < 0)
		return cli_usage_error(c->name, "%s", err);
	running_settings = &args;
	rc = c->run(args.argc, args.argv);
	running_settings = NULL;
	settings_args_free(&args);
	return rc;
}

/* hub reshard: a command of its own for settings, under the hub's
 * section of the config file. */
static const struct command hub_reshard = {
	"hub", NULL, hub_reshard_main, cmd_hub_usage, hub_reshard_settings,
};

int main(int argc, char **argv)
{
	const struct command *c;
	int rc;

	setlocale(LC_ALL, "");
	/* Numbers in JSON, CSV and logs always use a decimal point. */
	setlocale(LC_NUMERIC, "C");
	if (argc < 2)
		return cli_usage_error(NULL, "no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_overview(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		cli_print_version(stdout);
		return EXIT_OK;
	}
	if (argv[1][0] == '-')
		return cli_usage_error(NULL, "unknown option '%s'", argv[1]);
	c = cli_find(argv[1]);
	if (c == NULL)
		return cli_unknown_command(argv[1]);
	/* libcurl's global state is set up once, before any thread starts. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_error("cannot start libcurl");
		return EXIT_FAILURE_RUNTIME;
	}
	if (c->run == cmd_hub && argc > 2 && strcmp(argv[2], "reshard") == 0) {
		c = &hub_reshard;
		argc--;
		argv++;
	}
	rc = run_with_settings(c, argc - 1, argv + 1);
	/* Repeats counted since the last message are told before the end. */
	log_flush();
	curl_global_cleanup();
	return rc;
}
