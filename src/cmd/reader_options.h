/* The options every command that runs a live consumer takes (watch, kiosk,
 * board): where the stream is, who the consumer is, where its history
 * goes, and how it commits and decodes. Each command adds its own options
 * after these in its getopt table (numbered from LIVE_OPT_NEXT) and hands
 * every option to live_option first. */
#ifndef ALLEYCAT_READER_OPTIONS_H
#define ALLEYCAT_READER_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>

#include "client/credentials.h"
#include "race/live.h"
#include "race/roster.h"
#include "wire/sigv4.h"

enum {
	LIVE_OPT_ENDPOINT = 256, LIVE_OPT_STREAM, LIVE_OPT_CA, LIVE_OPT_INSECURE, LIVE_OPT_CONSUMER,
	LIVE_OPT_DB, LIVE_OPT_WINDOW, LIVE_OPT_GRACE, LIVE_OPT_DURATION, LIVE_OPT_PARALLEL,
	LIVE_OPT_TIMEOUT, LIVE_OPT_READ, LIVE_OPT_REGION, LIVE_OPT_PROFILE,
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
	{ "profile", required_argument, NULL, LIVE_OPT_PROFILE }

/* The usage lines of --read, --region and --profile, for every reader. */
#define READER_OPTIONS_USAGE                                                               \
	"  --read MODE           how records arrive: push (the hub's WebSocket push),\n"    \
	"                        polling (GetRecords) or efo (SubscribeToShard);\n"       \
	"                        default push for ws:// and wss://, else efo\n"         \
	"  --region R            AWS region; without --endpoint, read\n"                   \
	"                        https://kinesis.R.amazonaws.com (default AWS_REGION)\n"   \
	"  --profile NAME        credentials and region of this profile of\n"              \
	"                        ~/.aws/credentials and ~/.aws/config (default AWS_PROFILE)\n"

struct reader_options {
	const char *endpoint;           /* NULL: from the region, else the local hub */
	const char *stream, *consumer, *db, *ca_file;
	const char *region, *profile;   /* as named on the command line (NULL: not) */
	int read;                       /* an enum consumer_read, or -1: by the scheme */
	struct credentials found;       /* what reader_options_config found */
	char url[300];                  /* the endpoint it settled on, for the screens */
	bool insecure;
	int window, grace, duration, parallel;
	int timeout;                    /* seconds an API call waits for its answer */
};

/* The defaults; the consumer is named after the command and the host. */
void reader_options_defaults(struct reader_options *o, const char *command);

/* --read MODE: an enum consumer_read, or -1 after reporting a bad value. */
int reader_read_mode(const char *command, const char *arg);

/* How a URL is read when --read does not say: the push for ws:// and
 * wss://, SubscribeToShard (efo) for http:// and https://. */
enum consumer_read reader_default_read(const struct endpoint *ep);

/* Takes opt when it is one of these: 1 when taken, 0 when it is another
 * option, -1 after reporting a bad value. */
int reader_option(const char *command, int opt, const char *arg, struct reader_options *o);

/* The live_config of these options, reading from `from` where there is no
 * checkpoint, with the class names of the roster when it loads (free it
 * with roster_free). The endpoint is --endpoint, else Kinesis in the
 * region (--region, AWS_REGION, the profile's), else the local hub; the
 * read mode is --read, else push for ws:// and wss:// (the hub's push),
 * else efo (SubscribeToShard, as AWS serves it). Requests
 * are signed with the credentials found (credentials.h), which an AWS
 * endpoint and a named --profile require. -1 after reporting a bad
 * endpoint or missing credentials, in one line. */
int reader_options_config(const char *command, struct reader_options *o,
			enum consumer_from from, struct live_config *lc,
			struct sigv4_credentials *credentials, struct roster *roster);

#endif
