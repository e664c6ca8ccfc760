#include "config.h"
#include "cmd/reader_options.h"

#include <stdint.h>

#include "client/httpc.h"
#include "client/parallel.h"
#include "cmd/cli.h"
#include "util/datadir.h"
#include "util/errtext.h"
#include "util/paths.h"
#include "wire/protocol.h"

void reader_options_defaults(struct reader_options *o, const char *command)
{
	static char db[4096], consumer[256];

	paths_history_db(db, sizeof(db));
	paths_consumer_name(command, consumer, sizeof(consumer));
	*o = (struct reader_options){
		.endpoint = HUB_DEFAULT_PUSH_URL, .stream = "alleycat", .consumer = consumer,
		.db = db, .window = 15, .grace = 30, .duration = 300, .parallel = 1,
		.timeout = HTTPC_DEFAULT_TIMEOUT_S,
	};
}

/* --window, --grace, --duration: whole seconds up to a day. */
static int seconds(const char *command, int opt, const char *arg, struct reader_options *o)
{
	const char *name = opt == LIVE_OPT_WINDOW ? "window"
			   : opt == LIVE_OPT_GRACE ? "grace" : "duration";
	long long n;

	if (cli_parse_long(command, name, arg, 1, 86400, &n) < 0)
		return -1;
	*(opt == LIVE_OPT_WINDOW ? &o->window
	  : opt == LIVE_OPT_GRACE ? &o->grace : &o->duration) = (int)n;
	return 1;
}

int reader_option(const char *command, int opt, const char *arg, struct reader_options *o)
{
	long long n;

	switch (opt) {
	case LIVE_OPT_ENDPOINT: o->endpoint = arg; return 1;
	case LIVE_OPT_STREAM: o->stream = arg; return 1;
	case LIVE_OPT_CA: o->ca_file = arg; return 1;
	case LIVE_OPT_INSECURE: o->insecure = true; return 1;
	case LIVE_OPT_CONSUMER: o->consumer = arg; return 1;
	case LIVE_OPT_DB: o->db = arg; return 1;
	case LIVE_OPT_WINDOW:
	case LIVE_OPT_GRACE:
	case LIVE_OPT_DURATION:
		return seconds(command, opt, arg, o);
	case LIVE_OPT_PARALLEL:
		if (cli_parse_long(command, "parallel", arg, 1, PARALLEL_MAX, &n) < 0)
			return -1;
		o->parallel = (int)n;
		return 1;
	case LIVE_OPT_TIMEOUT:
		if (cli_parse_long(command, "timeout", arg, 1, HTTPC_TIMEOUT_MAX_S, &n) < 0)
			return -1;
		o->timeout = (int)n;
		return 1;
	default:
		return 0;
	}
}

int reader_options_config(const char *command, const struct reader_options *o,
			enum consumer_from from, struct live_config *lc,
			struct sigv4_credentials *credentials, struct roster *roster)
{
	const char *dir = datadir_find("classes.txt");
	char err[ERR_TEXT_MAX];

	*lc = (struct live_config){
		.stream = o->stream, .consumer = o->consumer, .from = from, .db_path = o->db,
		.window_s = o->window, .grace_s = o->grace, .duration = o->duration,
		.parallel = (unsigned)o->parallel, .timeout_s = o->timeout,
	};
	if (endpoint_from_options(&lc->endpoint, o->endpoint, o->ca_file, o->insecure, credentials,
				  "us-east-1", err, sizeof(err)) < 0)
		return cli_usage_error(command, "--endpoint: %s", err), -1;
	if (dir && roster_load(roster, dir, err, sizeof(err)) == 0)
		lc->roster = roster;
	return 0;
}
