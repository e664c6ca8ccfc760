#include "config.h"
#include "cmd/reader_options.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/httpc.h"
#include "client/parallel.h"
#include "cmd/cli.h"
#include "util/clock.h"
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
		.endpoint = NULL, .read = -1, .from = READER_FROM_LIVE, .stream = "alleycat",
		.consumer = consumer, .db = db, .window = 15, .grace = 30, .duration = 300, .parallel = 1,
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

int reader_read_mode(const char *command, const char *arg)
{
	static const enum consumer_read modes[] = { CONSUMER_READ_PUSH, CONSUMER_READ_EFO,
						    CONSUMER_READ_POLLING };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(arg, consumer_read_name(modes[i])) == 0)
			return (int)modes[i];
	return cli_bad_value(command, "read", arg, "is not push, efo or polling"), -1;
}

static int read_mode(const char *command, const char *arg, struct reader_options *o)
{
	o->read = reader_read_mode(command, arg);
	return o->read < 0 ? -1 : 1;
}

/* --from: a position's name, or a moment (clock_parse_time). */
static int from_option(const char *command, const char *arg, struct reader_options *o)
{
	if (strcmp(arg, "trim-horizon") == 0)
		o->from = CONSUMER_FROM_TRIM_HORIZON;
	else if (strcmp(arg, "latest") == 0)
		o->from = CONSUMER_FROM_LATEST;
	else if (strcmp(arg, "live") == 0)
		o->from = READER_FROM_LIVE;
	else if (clock_parse_time(arg, &o->from_ms) == 0)
		o->from = CONSUMER_FROM_TIMESTAMP;
	else
		return cli_bad_value(command, "from", arg, "is not trim-horizon, latest, live or a "
				     "time such as 2026-12-04T13:00:00Z or epoch seconds"), -1;
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
	case LIVE_OPT_WINDOW_RECORDS:
		return cli_parse_long(command, "window-records", arg, 1, 1000000000,
				      &o->window_records) < 0 ? -1 : 1;
	case LIVE_OPT_PARALLEL:
		if (cli_parse_long(command, "parallel", arg, 1, PARALLEL_MAX, &n) < 0)
			return -1;
		o->parallel = (int)n;
		return 1;
	case LIVE_OPT_READ:
		return read_mode(command, arg, o);
	case LIVE_OPT_FROM:
		return from_option(command, arg, o);
	case LIVE_OPT_REGION:
		return client_region_option(command, arg, &o->client);
	case LIVE_OPT_PROFILE:
		return client_profile_option(command, arg, &o->client);
	case LIVE_OPT_TIMEOUT:
		if (cli_parse_long(command, "timeout", arg, 1, HTTPC_TIMEOUT_MAX_S, &n) < 0)
			return -1;
		o->timeout = (int)n;
		return 1;
	default:
		return 0;
	}
}

/* A WebSocket URL names the hub's push; an HTTP one the Kinesis API, read
 * by enhanced fan-out (SubscribeToShard) as on AWS, where there is no push. */
enum consumer_read reader_default_read(const struct endpoint *ep)
{
	bool websocket = ep->scheme && (strcmp(ep->scheme, "ws") == 0 ||
					strcmp(ep->scheme, "wss") == 0);

	return websocket ? CONSUMER_READ_PUSH : CONSUMER_READ_EFO;
}

/* Where a shard with no checkpoint starts: live is the races that may
 * still be running, one race length and the grace that ends it ago. */
static void settle_from(const struct reader_options *o, struct live_config *lc)
{
	if (o->from != READER_FROM_LIVE) {
		lc->from = (enum consumer_from)o->from;
		lc->from_ms = o->from_ms;
		return;
	}
	lc->from = CONSUMER_FROM_TIMESTAMP;
	lc->from_ms = clock_wall_ms() - ((int64_t)o->duration + o->grace) * 1000;
}

int reader_options_config(const char *command, struct reader_options *o, struct live_config *lc,
			  struct roster *roster)
{
	const char *dir = datadir_find("classes.txt");
	char err[ERR_TEXT_MAX];
	int rc;

	*lc = (struct live_config){
		.stream = o->stream, .consumer = o->consumer, .db_path = o->db,
		.window_s = o->window, .window_records = (uint64_t)o->window_records,
		.grace_s = o->grace, .duration = o->duration,
		.parallel = (unsigned)o->parallel, .timeout_s = o->timeout,
	};
	settle_from(o, lc);
	rc = client_options_endpoint(command, &o->client, o->endpoint, HUB_DEFAULT_PUSH_URL,
				     &lc->endpoint);
	if (rc != 0)
		return rc;
	lc->endpoint.ca_file = o->ca_file;
	lc->endpoint.insecure = o->insecure;
	lc->read = o->read >= 0 ? (enum consumer_read)o->read : reader_default_read(&lc->endpoint);
	if (dir && roster_load(roster, dir, err, sizeof(err)) == 0)
		lc->roster = roster;
	return 0;
}
