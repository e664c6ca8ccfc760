/* The options every command that runs a live consumer takes (watch, kiosk,
 * board): where the stream is, who the consumer is, where its history
 * goes, and how it commits and decodes. Each command adds its own options
 * after these in its getopt table (numbered from LIVE_OPT_NEXT) and hands
 * every option to live_option first. */
#ifndef ALLEYCAT_READER_OPTIONS_H
#define ALLEYCAT_READER_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd/client_options.h"
#include "race/live.h"
#include "race/roster.h"

enum {
	LIVE_OPT_ENDPOINT = 256, LIVE_OPT_STREAM, LIVE_OPT_CA, LIVE_OPT_INSECURE, LIVE_OPT_CONSUMER,
	LIVE_OPT_DB, LIVE_OPT_WINDOW, LIVE_OPT_GRACE, LIVE_OPT_DURATION, LIVE_OPT_PARALLEL,
	LIVE_OPT_TIMEOUT, LIVE_OPT_READ, LIVE_OPT_REGION, LIVE_OPT_PROFILE, LIVE_OPT_FROM,
	LIVE_OPT_WINDOW_RECORDS,
	LIVE_OPT_NEXT,                  /* a command's own options start here */
};

/* The getopt entries of these options, for a command's table. */
#define LIVE_OPTIONS                                                            \
	{ "endpoint", required_argument, NULL, LIVE_OPT_ENDPOINT },             \
	{ "stream", required_argument, NULL, LIVE_OPT_STREAM },                 \
	{ "ca", required_argument, NULL, LIVE_OPT_CA },                         \
	{ "insecure", no_argument, NULL, LIVE_OPT_INSECURE },                   \
	{ "consumer", required_argument, NULL, LIVE_OPT_CONSUMER },             \
	{ "db", required_argument, NULL, LIVE_OPT_DB },                         \
	{ "window", required_argument, NULL, LIVE_OPT_WINDOW },                 \
	{ "grace", required_argument, NULL, LIVE_OPT_GRACE },                   \
	{ "duration", required_argument, NULL, LIVE_OPT_DURATION },             \
	{ "parallel", required_argument, NULL, LIVE_OPT_PARALLEL },             \
	{ "timeout", required_argument, NULL, LIVE_OPT_TIMEOUT },               \
	{ "read", required_argument, NULL, LIVE_OPT_READ },                     \
	{ "region", required_argument, NULL, LIVE_OPT_REGION },                 \
	{ "profile", required_argument, NULL, LIVE_OPT_PROFILE },               \
	{ "from", required_argument, NULL, LIVE_OPT_FROM },                     \
	{ "window-records", required_argument, NULL, LIVE_OPT_WINDOW_RECORDS }

/* The usage lines of --read, --region and --profile, for every reader. */
#define READER_OPTIONS_USAGE                                                               \
	"  --read MODE           how records arrive: push (the hub's WebSocket push),\n"    \
	"                        polling (GetRecords) or efo (SubscribeToShard);\n"       \
	"                        default push for ws:// and wss://, else efo\n"         \
	CLIENT_OPTIONS_USAGE

/* The usage lines of --from, with the command's default. */
#define READER_FROM_USAGE(default_from)                                                    \
	"  --from WHERE          where a consumer with no checkpoint starts: trim-horizon\n" \
	"                        (the oldest record kept), latest (from now on), live\n"    \
	"                        (--duration plus --grace before now) or a time such as\n"  \
	"                        2026-12-04T13:00:00Z or epoch seconds (default " default_from ")\n"

/* --from live: a moment computed when the consumer starts. */
#define READER_FROM_LIVE (-1)

struct reader_options {
	const char *endpoint;           /* NULL: from the region, else the local hub */
	const char *stream, *consumer, *db, *ca_file;
	struct client_options client;   /* --region, --profile, and where they led */
	int read;                       /* an enum consumer_read, or -1: by the scheme */
	int from;                       /* an enum consumer_from, or READER_FROM_LIVE */
	int64_t from_ms;                /* with CONSUMER_FROM_TIMESTAMP */
	bool insecure;
	int window, grace, duration, parallel;
	long long window_records;       /* 0: windows end by time alone */
	int timeout;                    /* seconds an API call waits for its answer */
};

/* The usage lines of --window and --window-records. */
#define WINDOW_OPTIONS_USAGE                                                               \
	"  --window S            commit live state and checkpoints every S seconds\n"      \
	"                        (default 15)\n"                                            \
	"  --window-records N    commit also after every N records, even inside a KPL\n"   \
	"                        aggregate (default: no limit)\n"

/* The defaults; the consumer is named after the command and the host, and
 * starts at the live races (--from live). */
void reader_options_defaults(struct reader_options *o, const char *command);

/* --read MODE: an enum consumer_read, or -1 after reporting a bad value. */
int reader_read_mode(const char *command, const char *arg);

/* How a URL is read when --read does not say: the push for ws:// and
 * wss://, SubscribeToShard (efo) for http:// and https://. */
enum consumer_read reader_default_read(const struct endpoint *ep);

/* Takes opt when it is one of these: 1 when taken, 0 when it is another
 * option, -1 after reporting a bad value. */
int reader_option(const char *command, int opt, const char *arg, struct reader_options *o);

/* The live_config of these options, reading from --from where there is no
 * checkpoint (live: --duration plus --grace before now), with the class
 * names of the roster when it loads (free it with roster_free). The
 * endpoint and the credentials are client_options_endpoint's (the local
 * hub's push by default); the read mode is --read, else push for ws:// and
 * wss:// (the hub's push), else efo (SubscribeToShard, as AWS serves it).
 * lc borrows o. Returns 0, or the exit status after reporting in one line. */
int reader_options_config(const char *command, struct reader_options *o, struct live_config *lc,
			  struct roster *roster);

#endif
