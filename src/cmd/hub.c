/* alleycat hub: the stream service. */
#include "config.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/api_call.h"
#include "client/credentials.h"
#include "client/endpoint.h"
#include "client/failure.h"
#include "client/httpc.h"
#include "cmd/cli.h"
#include "cmd/client_options.h"
#include "cmd/commands.h"
#include "cmd/reader_options.h"
#include "hub/auth.h"
#include "hub/hub.h"
#include "hub/mirror.h"
#include "hub/server.h"
#include "util/clock.h"
#include "util/errtext.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "wire/protocol.h"
#include "wire/sigv4.h"

void cmd_hub_usage(FILE *out)
{
	fputs("Usage: alleycat hub [OPTION]...\n"
	      "Serve a stream: the Kinesis Data Streams API for producers and enhanced\n"
	      "fan-out push over WebSocket for consumers.\n"
	      "\n"
	      "  --listen HOST:PORT          where to serve (default " HUB_DEFAULT_ADDRESS ")\n"
	      "  --stream NAME               stream created at start (default alleycat)\n"
	      "  --shards N                  its shards (default 4)\n"
	      "  --data-dir DIR              keep streams and records in DIR across restarts\n"
	      "                              (default: in memory)\n"
	      "  --retention-hours H         keep records H hours (default 24); a closed\n"
	      "                              shard is forgotten H hours after it closed\n"
	      "  --retention-seconds S       the same in seconds, for tests (Kinesis keeps\n"
	      "                              24 hours at least)\n"
	      "  --retention-bytes N         keep at most N bytes per stream (default 1073741824)\n"
	      "  --subscription-seconds S    lifetime of a push subscription (default 300)\n"
	      "  --max-consumers N           registered consumers per stream (default 20)\n"
	      "  --shard-records-per-sec N   records a shard takes per second (default 1000,\n"
	      "                              0 = unlimited)\n"
	      "  --shard-bytes-per-sec N     bytes a shard takes per second (default 1048576,\n"
	      "                              0 = unlimited)\n"
	      "  --push-bytes-per-sec N      push rate per consumer and shard (default 2097152)\n"
	      "  --max-request-bytes N       largest request body (default 8388608)\n"
	      "  --max-connections N         open connections at most, HTTP and push (default\n"
	      "                              1024); at the cap a new one replaces the one\n"
	      "                              that has waited longest without asking anything\n"
	      "  --tls-cert FILE             serve HTTPS and WSS with this PEM certificate\n"
	      "  --tls-key FILE              and this PEM private key\n"
	      "  --auth sigv4                require AWS Signature V4 on the API and on push\n"
	      "  --credentials FILE          the keys --auth accepts (AWS credentials format)\n"
	      "  --mirror URL                serve a copy of the stream of the hub at URL\n"
	      "                              (ws:// or http://): the same shard ids, lineage\n"
	      "                              and sequence numbers, read by one consumer;\n"
	      "                              writes to the copy are refused\n"
	      "  --mirror-stream NAME        the upstream stream to copy (default: --stream)\n"
	      "  --read MODE                 how the mirror reads the upstream: push (the\n"
	      "                              hub's WebSocket push), efo (SubscribeToShard)\n"
	      "                              or polling (GetRecords); default push for ws://\n"
	      "                              and wss://, else efo\n"
	      "  --profile NAME              sign the mirror's calls with the key of this\n"
	      "                              profile of ~/.aws/credentials (default: the\n"
	      "                              AWS_ACCESS_KEY_ID of the environment, else\n"
	      "                              AWS_PROFILE's or the default profile's, when\n"
	      "                              there is one)\n"
	      "  --ca FILE                   trust the certificates in FILE for the mirror's\n"
	      "                              https:// or wss:// upstream\n"
	      "  --insecure                  accept any certificate of it (for testing only)\n"
	      "  --log-level LEVEL           error, warn, info or debug (default warn)\n"
	      "  -h, --help                  show this help and exit\n"
	      "\n"
	      "Usage: alleycat hub reshard --shards N [--endpoint URL] [--stream NAME]\n"
	      "Reshard a running hub's stream (or any Kinesis stream) to N open shards\n"
	      "with UpdateShardCount, halving or doubling per step as Kinesis allows.\n"
	      "\n"
	      "  --endpoint URL              the hub (default " HUB_DEFAULT_URL ")\n"
	      "  --region R                  AWS region; without --endpoint, reshard on\n"
	      "                              https://kinesis.R.amazonaws.com (default AWS_REGION)\n"
	      "  --profile NAME              credentials and region of this profile of\n"
	      "                              ~/.aws/credentials and ~/.aws/config\n"
	      "                              (default AWS_PROFILE)\n"
	      "  --ca FILE                   trust the certificates in FILE for https://\n"
	      "  --insecure                  accept any certificate (for testing only)\n"
	      "  --timeout S                 seconds to wait for each answer (default 60)\n",
	      out);
}

/* The process's one server, for the signal handler. */
static struct server *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		server_stop(running);
}

enum {
	OPT_LISTEN = 256, OPT_STREAM, OPT_SHARDS, OPT_DATA_DIR, OPT_RETENTION_HOURS,
	OPT_RETENTION_SECONDS, OPT_RETENTION_BYTES, OPT_SUBSCRIPTION_SECONDS, OPT_MAX_CONSUMERS,
	OPT_SHARD_RECORDS, OPT_SHARD_BYTES, OPT_PUSH_BYTES, OPT_MAX_REQUEST, OPT_LOG_LEVEL,
	OPT_TLS_CERT, OPT_TLS_KEY, OPT_AUTH, OPT_CREDENTIALS, OPT_MAX_CONNECTIONS,
	OPT_MIRROR, OPT_MIRROR_STREAM, OPT_READ, OPT_PROFILE, OPT_CA, OPT_INSECURE,
};

const struct option cmd_hub_options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "stream", required_argument, NULL, OPT_STREAM },
	{ "shards", required_argument, NULL, OPT_SHARDS },
	{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
	{ "retention-hours", required_argument, NULL, OPT_RETENTION_HOURS },
	{ "retention-seconds", required_argument, NULL, OPT_RETENTION_SECONDS },
	{ "retention-bytes", required_argument, NULL, OPT_RETENTION_BYTES },
	{ "subscription-seconds", required_argument, NULL, OPT_SUBSCRIPTION_SECONDS },
	{ "max-consumers", required_argument, NULL, OPT_MAX_CONSUMERS },
	{ "shard-records-per-sec", required_argument, NULL, OPT_SHARD_RECORDS },
	{ "shard-bytes-per-sec", required_argument, NULL, OPT_SHARD_BYTES },
	{ "push-bytes-per-sec", required_argument, NULL, OPT_PUSH_BYTES },
	{ "max-request-bytes", required_argument, NULL, OPT_MAX_REQUEST },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "auth", required_argument, NULL, OPT_AUTH },
	{ "credentials", required_argument, NULL, OPT_CREDENTIALS },
	{ "mirror", required_argument, NULL, OPT_MIRROR },
	{ "mirror-stream", required_argument, NULL, OPT_MIRROR_STREAM },
	{ "read", required_argument, NULL, OPT_READ },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* ---- alleycat hub reshard ------------------------------------------ */

/* The options settings may give hub reshard: all but --shards, which means
 * the shards of a new stream to the hub and to its settings. */
#define RESHARD_SETTABLE_OPTIONS                                \
	{ "endpoint", required_argument, NULL, 'e' },           \
	{ "stream", required_argument, NULL, 's' },             \
	{ "ca", required_argument, NULL, 'c' },                 \
	{ "insecure", no_argument, NULL, 'i' },                 \
	{ "timeout", required_argument, NULL, 't' },            \
	{ "region", required_argument, NULL, 'r' },             \
	{ "profile", required_argument, NULL, 'p' }

static const struct option reshard_options[] = {
	RESHARD_SETTABLE_OPTIONS,
	{ "shards", required_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

const struct option hub_reshard_settings[] = {
	RESHARD_SETTABLE_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* The process's reshard in progress, for the signal handler: a stop
 * cancels the call in flight and ends the command. */
static volatile sig_atomic_t reshard_stop;

static void on_reshard_signal(int sig)
{
	(void)sig;
	reshard_stop = 1;
}

/* The next count on the way from open to target: Kinesis moves at most to
 * double, at least to half, per call. */
static long long next_count(long long open, long long target)
{
	if (target > 2 * open)
		return 2 * open;
	if (target * 2 < open)
		return (open + 1) / 2;
	return target;
}

/* Doubling or halving, 40 calls reach any count from any other. */
#define RESHARD_STEPS_MAX 40
#define RESHARD_WAIT_US 200000

struct reshard {
	struct httpc *http;
	struct failure_call call;
	int timeout_s;
	int64_t updating_since_ms;      /* the stream has been UPDATING since */
	bool shown;                     /* "stream NAME:" is on stdout */
	struct failure failure;         /* why it stopped */
};

/* One call of the reshard, with body stolen as api_call takes it. */
static int reshard_call(struct reshard *rs, const char *op, json_t *body,
			struct api_call_result *r)
{
	rs->call.op = op;
	return api_call_patiently(rs->http, &rs->call, body, &reshard_stop, r, &rs->failure);
}

/* The stream's open shards, once it is not UPDATING (Kinesis reshards in
 * the background); -1 on failure. */
static long long open_shards(struct reshard *rs)
{
	struct api_call_result r;
	long long open;
	bool updating;

	for (;;) {
		if (reshard_call(rs, "DescribeStreamSummary",
				 json_pack("{s:s}", "StreamName", rs->call.stream), &r) < 0)
			return -1;
		open = api_call_number(&r, "StreamDescriptionSummary", "OpenShardCount");
		updating = strstr(r.body, "\"UPDATING\"") != NULL;
		api_call_free(&r);
		if (!updating) {
			rs->updating_since_ms = 0;
			return open;
		}
		if (rs->updating_since_ms == 0)
			rs->updating_since_ms = clock_wall_ms();
		if (clock_wall_ms() - rs->updating_since_ms >= rs->timeout_s * 1000LL) {
			snprintf(rs->failure.text, sizeof(rs->failure.text),
				 "stream %s is still UPDATING after %d s (--timeout)",
				 rs->call.stream, rs->timeout_s);
			return -1;
		}
		usleep(RESHARD_WAIT_US);
	}
}

static int update_shards(struct reshard *rs, long long count)
{
	struct api_call_result r;

	if (reshard_call(rs, "UpdateShardCount",
			 json_pack("{s:s, s:I, s:s}", "StreamName", rs->call.stream,
				   "TargetShardCount", (json_int_t)count, "ScalingType",
				   "UNIFORM_SCALING"),
			 &r) < 0)
		return -1;
	api_call_free(&r);
	return 0;
}

/* Prints the way as it goes: "stream NAME: 4 -> 8 -> 6 open shards". */
static int reshard(struct reshard *rs, long long target)
{
	long long open;

	for (int step = 0; step <= RESHARD_STEPS_MAX; step++) {
		if ((open = open_shards(rs)) < 0)
			break;
		if (rs->shown)
			printf(" ->");
		else
			printf("stream %s:", rs->call.stream);
		printf(" %lld", open);
		rs->shown = true;
		if (open == target) {
			printf(" open shards\n");
			return EXIT_OK;
		}
		if (step == RESHARD_STEPS_MAX) {
			snprintf(rs->failure.text, sizeof(rs->failure.text),
				 "%lld open shards after %d calls of UpdateShardCount; does "
				 "the endpoint reshard?", open, RESHARD_STEPS_MAX);
			break;
		}
		if (update_shards(rs, next_count(open, target)) < 0)
			break;
	}
	if (rs->shown)
		printf("\n");
	if (reshard_stop)
		cli_error("cannot reshard %s: stopped", rs->call.stream);
	else
		cli_error("cannot reshard %s: %s", rs->call.stream, rs->failure.text);
	return EXIT_FAILURE_RUNTIME;
}

int hub_reshard_main(int argc, char **argv)
{
	struct client_options client = { 0 };
	struct endpoint ep;
	struct httpc *http;
	struct reshard rs;
	const char *url = NULL, *stream = "alleycat", *ca = NULL;
	long long target = 0, timeout = HTTPC_DEFAULT_TIMEOUT_S;
	bool insecure = false;
	int opt, rc;

	/* From the first moment: a stop that comes while the client starts
	 * is seen by the first call, which then does not begin. */
	signal(SIGINT, on_reshard_signal);
	signal(SIGTERM, on_reshard_signal);
	signal(SIGPIPE, SIG_IGN);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", reshard_options, NULL)) != -1) {
		switch (opt) {
		case 'h': cmd_hub_usage(stdout); return EXIT_OK;
		case 'e': url = optarg; break;
		case 's': stream = optarg; break;
		case 'c': ca = optarg; break;
		case 'i': insecure = true; break;
		case 't':
			if (cli_parse_long("hub", "timeout", optarg, 1, HTTPC_TIMEOUT_MAX_S,
					   &timeout) < 0)
				return EXIT_USAGE;
			break;
		case 'r':
			if (client_region_option("hub", optarg, &client) < 0)
				return EXIT_USAGE;
			break;
		case 'p':
			if (client_profile_option("hub", optarg, &client) < 0)
				return EXIT_USAGE;
			break;
		case 'n':
			if (cli_parse_long("hub", "shards", optarg, 1, 100000, &target) < 0)
				return EXIT_USAGE;
			break;
		default:
			return cli_option_error("hub", reshard_options, argv[optind - 1]);
		}
	}
	if (target == 0)
		return cli_usage_error("hub", "reshard needs --shards N");
	if ((rc = client_options_endpoint("hub", &client, url, HUB_DEFAULT_URL, &ep)) != 0)
		return rc;
	ep.ca_file = ca;
	ep.insecure = insecure;
	http = httpc_new((int)timeout);
	if (http == NULL) {
		cli_error("cannot start the network client");
		return EXIT_FAILURE_RUNTIME;
	}
	rs = (struct reshard){
		.http = http, .call = { .endpoint = &ep, .stream = stream }, .timeout_s = (int)timeout,
	};
	rc = reshard(&rs, target);
	httpc_free(http);
	return rc;
}

/* ---- alleycat hub --------------------------------------------------- */

/* What the command line asks of the hub. */
struct hub_cli {
	struct hub_config hub;
	struct server_config server;
	const char *stream;
	long long shards;
	const char *auth_mode;          /* "sigv4" or "none" */
	const char *credentials;        /* the keys --auth sigv4 accepts */
	const char *mirror;             /* the upstream's URL, or NULL */
	const char *mirror_stream;      /* its stream (NULL: the same name) */
	int read;                       /* how the mirror reads: an enum consumer_read, or
					 * -1: by the URL's scheme */
	const char *profile;            /* --profile: the mirror's key (NULL: not named) */
	const char *ca_file;            /* --ca: trust for the upstream */
	bool insecure;                  /* --insecure */
	struct credentials found;       /* the mirror's key, when one was found */
	struct sigv4_credentials signer;        /* its signer's view, for the mirror */
};

/* The options that take a whole number, and the range each accepts. */
static const struct {
	int opt;
	const char *name;
	long long min, max;
} number_options[] = {
	{ OPT_SHARDS, "shards", 1, 1024 },
	{ OPT_RETENTION_HOURS, "retention-hours", 1, 8760 },
	{ OPT_RETENTION_SECONDS, "retention-seconds", 1, 8760 * 3600 },
	{ OPT_RETENTION_BYTES, "retention-bytes", 0, INT64_MAX },
	{ OPT_SUBSCRIPTION_SECONDS, "subscription-seconds", 1, 86400 },
	{ OPT_MAX_CONSUMERS, "max-consumers", 1, 1000 },
	{ OPT_SHARD_RECORDS, "shard-records-per-sec", 0, INT64_MAX },
	{ OPT_SHARD_BYTES, "shard-bytes-per-sec", 0, INT64_MAX },
	{ OPT_PUSH_BYTES, "push-bytes-per-sec", 0, INT64_MAX },
	{ OPT_MAX_REQUEST, "max-request-bytes", 1024, 1ll << 32 },
	{ OPT_MAX_CONNECTIONS, "max-connections", 1, 1000000 },
};

static void set_number(struct hub_cli *c, int opt, long long v)
{
	switch (opt) {
	case OPT_SHARDS: c->shards = v; break;
	case OPT_RETENTION_HOURS: c->hub.retention_seconds = v * 3600; break;
	case OPT_RETENTION_SECONDS: c->hub.retention_seconds = v; break;
	case OPT_RETENTION_BYTES: c->hub.retention_bytes = (uint64_t)v; break;
	case OPT_SUBSCRIPTION_SECONDS: c->hub.subscription_seconds = (int)v; break;
	case OPT_MAX_CONSUMERS: c->hub.max_consumers = (int)v; break;
	case OPT_SHARD_RECORDS: c->hub.limits.shard_records_per_sec = (uint64_t)v; break;
	case OPT_SHARD_BYTES: c->hub.limits.shard_bytes_per_sec = (uint64_t)v; break;
	case OPT_PUSH_BYTES: c->hub.push_bytes_per_sec = (uint64_t)v; break;
	case OPT_MAX_REQUEST: c->server.max_body = (size_t)v; break;
	case OPT_MAX_CONNECTIONS: c->server.max_connections = (size_t)v; break;
	}
}

/* Takes option opt when it is a number option: 0 when taken, -1 after
 * reporting bad usage, 1 when opt is not one of them. */
static int number_option(struct hub_cli *c, int opt, const char *arg)
{
	long long v;

	for (size_t i = 0; i < sizeof(number_options) / sizeof(number_options[0]); i++) {
		if (number_options[i].opt != opt)
			continue;
		if (cli_parse_long("hub", number_options[i].name, arg, number_options[i].min,
				   number_options[i].max, &v) < 0)
			return -1;
		set_number(c, opt, v);
		return 0;
	}
	return 1;
}

/* Takes any other option: 0 when taken, -1 after reporting bad usage, 1
 * when opt is no option of the hub ('?': unknown, or its value missing). */
static int text_option(struct hub_cli *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_LISTEN:
		if (server_config_listen(&c->server, arg) < 0) {
			cli_bad_value("hub", "listen", arg, SERVER_LISTEN_FORM);
			return -1;
		}
		return 0;
	case OPT_STREAM: c->stream = arg; return 0;
	case OPT_DATA_DIR: c->hub.data_dir = arg; return 0;
	case OPT_TLS_CERT: c->server.tls_cert = arg; return 0;
	case OPT_TLS_KEY: c->server.tls_key = arg; return 0;
	case OPT_CREDENTIALS: c->credentials = arg; return 0;
	case OPT_MIRROR: c->mirror = arg; return 0;
	case OPT_MIRROR_STREAM: c->mirror_stream = arg; return 0;
	case OPT_PROFILE: c->profile = arg; return 0;
	case OPT_CA: c->ca_file = arg; return 0;
	case OPT_INSECURE: c->insecure = true; return 0;
	case OPT_READ:
		c->read = reader_read_mode("hub", arg);
		return c->read < 0 ? -1 : 0;
	case OPT_AUTH:
		if (strcmp(arg, "sigv4") != 0 && strcmp(arg, "none") != 0) {
			cli_bad_value("hub", "auth", arg, "is not sigv4 or none");
			return -1;
		}
		c->auth_mode = arg;
		return 0;
	case OPT_LOG_LEVEL:
		return cli_set_log_level("hub", arg);
	default:
		return 1;
	}
}

/* Options that only go in pairs: -1 after reporting bad usage. */
static int check_pairs(const struct hub_cli *c)
{
	if ((c->server.tls_cert == NULL) != (c->server.tls_key == NULL)) {
		cli_usage_error("hub", "--tls-cert and --tls-key go together");
		return -1;
	}
	if ((strcmp(c->auth_mode, "sigv4") == 0) != (c->credentials != NULL)) {
		cli_usage_error("hub", "--auth sigv4 and --credentials go together");
		return -1;
	}
	const char *mirror_only = c->mirror_stream ? "--mirror-stream"
				  : c->read >= 0   ? "--read"
				  : c->profile     ? "--profile"
				  : c->ca_file     ? "--ca"
				  : c->insecure    ? "--insecure" : NULL;

	if (mirror_only && !c->mirror) {
		cli_usage_error("hub", "%s needs --mirror URL", mirror_only);
		return -1;
	}
	return 0;
}

/* Returns -1 to exit with usage error, 1 to exit successfully (--help). */
static int parse_options(int argc, char **argv, struct hub_cli *c)
{
	int opt, rc;

	*c = (struct hub_cli){ .stream = "alleycat", .shards = 4, .auth_mode = "none", .read = -1 };
	hub_config_defaults(&c->hub);
	server_config_defaults(&c->server);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", cmd_hub_options, NULL)) != -1) {
		if (opt == 'h') {
			cmd_hub_usage(stdout);
			return 1;
		}
		rc = number_option(c, opt, optarg);
		if (rc == 1)
			rc = text_option(c, opt, optarg);
		if (rc == 1)
			cli_option_error("hub", cmd_hub_options, argv[optind - 1]);
		if (rc != 0)
			return -1;
	}
	if (optind < argc) {
		cli_usage_error("hub", "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return check_pairs(c);
}

/* How many streams the ready line names before "and N more". */
#define READY_STREAMS_MAX 4

/* The one line that says the hub is ready: where it listens, what it
 * serves, and whether what it is sent survives a restart. Printed once
 * the port is bound, so a script that waits for it can start clients. */
static void print_ready(const struct hub *hub, const struct server *server,
			const struct hub_cli *c)
{
	struct strbuf line;

	strbuf_init(&line);
	strbuf_printf(&line, "hub ready on %s://%s:%d: ", c->server.tls_cert ? "https" : "http",
		      c->server.host, server_port(server));
	if (c->mirror)
		strbuf_printf(&line, "stream %s, a mirror of %s at %s", c->stream,
			      c->mirror_stream ? c->mirror_stream : c->stream, c->mirror);
	else
		strbuf_puts(&line, hub->stream_count == 1 ? "stream " : "streams ");
	for (size_t i = 0; !c->mirror && i < hub->stream_count && i < READY_STREAMS_MAX; i++) {
		size_t shards = stream_open_shards(hub->streams[i]);

		strbuf_printf(&line, "%s%s (%zu shard%s)", i ? ", " : "", hub->streams[i]->name,
			      shards, shards == 1 ? "" : "s");
	}
	if (!c->mirror && hub->stream_count > READY_STREAMS_MAX)
		strbuf_printf(&line, " and %zu more", hub->stream_count - READY_STREAMS_MAX);
	if (c->hub.data_dir)
		strbuf_printf(&line, "; durable in %s", c->hub.data_dir);
	else
		strbuf_puts(&line, "; in memory (gone when the hub stops)");
	printf("%s\n", line.data ? line.data : "");
	fflush(stdout);
	strbuf_free(&line);
}

/* Serves the stream until a signal stops the server. */
static void serve(struct server *server, const struct hub_cli *c)
{
	running = server;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	server_run(server);
	running = NULL;
	log_info("stopped");
}

static void wake_server(void *server)
{
	server_wake(server);
}

static void on_mirror_tick(void *user, int64_t now_ms)
{
	if (user)
		mirror_tick(user, now_ms);
}

/* The mirror of --mirror: its consumer is named after this hub's port, so
 * mirrors of one upstream on one host do not take each other's place. */
static struct mirror *start_mirror(struct hub *hub, struct hub_cli *c, char *err, size_t errlen)
{
	char name[64];
	struct mirror_config mc = {
		.url = c->mirror, .upstream_stream = c->mirror_stream ? c->mirror_stream : c->stream,
		.stream = c->stream, .consumer = name, .read = c->read, .ca_file = c->ca_file,
		.insecure = c->insecure,
	};
	struct endpoint ep;

	/* Signed as the readers sign: with the key of the environment or of
	 * the profile, when there is one (an upstream that checks no
	 * signature ignores it); a profile named must have one. */
	if (credentials_find(c->profile, NULL, &c->found, err, errlen) == 0) {
		credentials_sigv4(&c->found, "kinesis", &c->signer);
		mc.credentials = &c->signer;
	} else if (c->profile) {
		return NULL;
	}
	err[0] = '\0';

	if (c->read < 0) {
		if (endpoint_parse(c->mirror, &ep, err, errlen) < 0)
			return NULL;
		mc.read = reader_default_read(&ep);
	}
	snprintf(name, sizeof(name), "alleycat-mirror-%d", c->server.port);
	return mirror_start(hub, &mc, clock_wall_ms(), err, errlen);
}

int cmd_hub(int argc, char **argv)
{
	struct hub_cli c;
	char err[ERR_TEXT_MAX] = "";
	struct auth *auth = NULL;
	struct hub *hub = NULL;
	struct mirror *mirror = NULL;
	struct server *server;
	int rc = parse_options(argc, argv, &c);

	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	rc = EXIT_FAILURE_RUNTIME;
	if (c.credentials && (auth = auth_load(c.credentials, err, sizeof(err))) == NULL)
		goto out;
	c.server.auth = auth;
	if ((hub = hub_open(&c.hub, clock_wall_ms(), err, sizeof(err))) == NULL)
		goto out;
	if (c.mirror && (mirror = start_mirror(hub, &c, err, sizeof(err))) == NULL)
		goto out;
	if (!c.mirror && hub_find_stream(hub, c.stream) == NULL &&
	    hub_create_stream(hub, c.stream, (size_t)c.shards, clock_wall_ms()) == NULL) {
		snprintf(err, sizeof(err), "cannot create stream %s", c.stream);
		goto out;
	}
	if (!c.mirror && hub_find_stream(hub, c.stream)->mirrored)
		log_warn("stream %s is a copy of an upstream stream: it serves what it holds "
			 "and refuses writes; start with --mirror to follow the upstream", c.stream);
	c.server.on_tick = on_mirror_tick;
	c.server.tick_user = mirror;
	if ((server = server_start(hub, &c.server, err, sizeof(err))) == NULL)
		goto out;
	print_ready(hub, server, &c);
	mirror_wake_with(mirror, wake_server, server);
	serve(server, &c);
	mirror_wake_with(mirror, NULL, NULL);
	server_free(server);
	rc = EXIT_OK;
out:
	if (rc != EXIT_OK)
		cli_error("%s", err);
	mirror_stop(mirror);
	hub_close(hub);
	auth_free(auth);
	return rc;
}
