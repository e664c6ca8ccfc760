/* The options every command that runs a live consumer takes (watch, kiosk,
 * board): where the stream is, who the consumer is, where its history
 * goes, and how it commits and decodes. Each command adds its own options
 * after these in its getopt table (numbered from LIVE_OPT_NEXT) and hands
 * every option to live_option first. */
#ifndef ALLEYCAT_READER_OPTIONS_H
#define ALLEYCAT_READER_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>

#include "race/live.h"
#include "race/roster.h"
#include "wire/sigv4.h"

enum {
	LIVE_OPT_ENDPOINT = 256, LIVE_OPT_STREAM, LIVE_OPT_CA, LIVE_OPT_INSECURE, LIVE_OPT_CONSUMER,
	LIVE_OPT_DB, LIVE_OPT_WINDOW, LIVE_OPT_GRACE, LIVE_OPT_DURATION, LIVE_OPT_PARALLEL,
	LIVE_OPT_TIMEOUT,
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
	{ "timeout", required_argument, NULL, LIVE_OPT_TIMEOUT }

struct reader_options {
	const char *endpoint, *stream, *consumer, *db, *ca_file;
	bool insecure;
	int window, grace, duration, parallel;
	int timeout;                    /* seconds an API call waits for its answer */
};

/* The defaults; the consumer is named after the command and the host. */
void reader_options_defaults(struct reader_options *o, const char *command);

/* Takes opt when it is one of these: 1 when taken, 0 when it is another
 * option, -1 after reporting a bad value. */
int reader_option(const char *command, int opt, const char *arg, struct reader_options *o);

/* The live_config of these options, reading from `from` where there is no
 * checkpoint, with the class names of the roster when it loads (free it
 * with roster_free). -1 after reporting a bad endpoint. */
int reader_options_config(const char *command, const struct reader_options *o,
			enum consumer_from from, struct live_config *lc,
			struct sigv4_credentials *credentials, struct roster *roster);

#endif
