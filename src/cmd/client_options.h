/* --region and --profile, which every client of a stream takes (sim, hub
 * reshard, watch, kiosk, board; DESIGN.md section 8), and where they lead:
 * the endpoint (--endpoint, else Kinesis in the region, else the local
 * hub) and the key that signs the requests (credentials.h). */
#ifndef ALLEYCAT_CLIENT_OPTIONS_H
#define ALLEYCAT_CLIENT_OPTIONS_H

#include "client/credentials.h"
#include "client/endpoint.h"
#include "wire/sigv4.h"

/* The usage lines of --region and --profile. */
#define CLIENT_OPTIONS_USAGE                                                                \
	"  --region R            AWS region; without --endpoint, use\n"                     \
	"                        https://kinesis.R.amazonaws.com (default AWS_REGION)\n"     \
	"  --profile NAME        credentials and region of this profile of\n"               \
	"                        ~/.aws/credentials and ~/.aws/config (default AWS_PROFILE)\n"

struct client_options {
	const char *region, *profile;   /* as named on the command line (NULL: not) */
	struct credentials found;       /* what client_options_endpoint found */
	struct sigv4_credentials sigv4; /* the signer's view of found */
	char url[300];                  /* the endpoint it settled on, for the screens */
};

/* --region R: 1 when taken, -1 after reporting a value that is no region. */
int client_region_option(const char *command, const char *arg, struct client_options *o);

/* --profile NAME: 1 when taken, -1 after reporting an empty name. */
int client_profile_option(const char *command, const char *arg, struct client_options *o);

/* Settles where the command talks to: o->url is endpoint when given, else
 * Kinesis in the region when one is named (--region, AWS_REGION, or the
 * region of a named profile), else default_url; ep is parsed from it and
 * signs with the credentials found (a key from the environment or the
 * profile's files), which an AWS endpoint and a named profile require.
 * ep borrows o: o must outlive it. Returns 0, or the exit status after
 * reporting in one line: EXIT_USAGE for a bad endpoint or region,
 * EXIT_FAILURE_RUNTIME for credentials required but not found. */
int client_options_endpoint(const char *command, struct client_options *o, const char *endpoint,
			    const char *default_url, struct endpoint *ep);

#endif
