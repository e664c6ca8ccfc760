#include "config.h"
#include "cmd/reader_options.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
		.endpoint = NULL, .read = -1, .stream = "alleycat", .consumer = consumer,
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

int reader_read_mode(const char *command, const char *arg)
{
	static const enum consumer_read modes[] = { CONSUMER_READ_PUSH, CONSUMER_READ_EFO,
						    CONSUMER_READ_POLLING };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(arg, consumer_read_name(modes[i])) == 0)
			return (int)modes[i];
	return cli_usage_error(command, "--read: '%s' is not push, efo or polling", arg), -1;
}

static int read_mode(const char *command, const char *arg, struct reader_options *o)
{
	o->read = reader_read_mode(command, arg);
	return o->read < 0 ? -1 : 1;
}

/* A region names a host (kinesis.R.amazonaws.com): letters, digits, dashes. */
static bool region_valid(const char *r)
{
	size_t n = strlen(r);

	return n > 0 && n < CREDENTIALS_REGION_MAX &&
	       strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int region(const char *command, const char *arg, struct reader_options *o)
{
	if (!region_valid(arg))
		return cli_usage_error(command, "--region: '%s' is not a region such as us-east-1",
				       arg), -1;
	o->region = arg;
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
	case LIVE_OPT_READ:
		return read_mode(command, arg, o);
	case LIVE_OPT_REGION:
		return region(command, arg, o);
	case LIVE_OPT_PROFILE:
		if (arg[0] == '\0')
			return cli_usage_error(command, "--profile: give a profile name"), -1;
		o->profile = arg;
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

/* A real Kinesis endpoint: only it requires credentials and has no push. */
static bool is_aws(const struct endpoint *ep)
{
	size_t n = strlen(ep->host), k = strlen(".amazonaws.com");

	return n > k && strcmp(ep->host + n - k, ".amazonaws.com") == 0;
}

/* o->url: --endpoint, else Kinesis in the region, else the local hub. */
static void settle_url(struct reader_options *o)
{
	if (o->endpoint)
		snprintf(o->url, sizeof(o->url), "%s", o->endpoint);
	else if (o->found.region[0] && (o->region || getenv("AWS_REGION") || o->profile))
		snprintf(o->url, sizeof(o->url), "https://kinesis.%s.amazonaws.com",
			 o->found.region);
	else
		snprintf(o->url, sizeof(o->url), "%s", HUB_DEFAULT_PUSH_URL);
}

/* A WebSocket URL names the hub's push; an HTTP one the Kinesis API, read
 * by enhanced fan-out (SubscribeToShard) as on AWS, where there is no push. */
enum consumer_read reader_default_read(const struct endpoint *ep)
{
	bool websocket = ep->scheme && (strcmp(ep->scheme, "ws") == 0 ||
					strcmp(ep->scheme, "wss") == 0);

	return websocket ? CONSUMER_READ_PUSH : CONSUMER_READ_EFO;
}

int reader_options_config(const char *command, struct reader_options *o,
			enum consumer_from from, struct live_config *lc,
			struct sigv4_credentials *credentials, struct roster *roster)
{
	const char *dir = datadir_find("classes.txt");
	char err[ERR_TEXT_MAX], missing[ERR_TEXT_MAX];
	int found = credentials_find(o->profile, o->region, &o->found, missing, sizeof(missing));

	*lc = (struct live_config){
		.stream = o->stream, .consumer = o->consumer, .from = from, .db_path = o->db,
		.window_s = o->window, .grace_s = o->grace, .duration = o->duration,
		.parallel = (unsigned)o->parallel, .timeout_s = o->timeout,
	};
	if (o->found.region[0] && !region_valid(o->found.region))
		return cli_usage_error(command, "the region '%s' (from %s) is not a region such as "
				       "us-east-1", o->found.region,
				       getenv("AWS_REGION") ? "AWS_REGION" : "the AWS config"), -1;
	settle_url(o);
	if (endpoint_parse(o->url, &lc->endpoint, err, sizeof(err)) < 0)
		return cli_usage_error(command, "--endpoint: %s", err), -1;
	lc->endpoint.ca_file = o->ca_file;
	lc->endpoint.insecure = o->insecure;
	if (found < 0 && (o->profile || is_aws(&lc->endpoint)))
		return cli_error("%s: %s", command, missing), -1;
	if (found == 0) {
		credentials_sigv4(&o->found, "kinesis", credentials);
		lc->endpoint.credentials = credentials;
	}
	lc->read = o->read >= 0 ? (enum consumer_read)o->read : reader_default_read(&lc->endpoint);
	if (dir && roster_load(roster, dir, err, sizeof(err)) == 0)
		lc->roster = roster;
	return 0;
}
