#include "config.h"
#include "cmd/client_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "util/errtext.h"

/* A region names a host (kinesis.R.amazonaws.com): letters, digits, dashes. */
static bool region_valid(const char *r)
{
	size_t n = strlen(r);

	return n > 0 && n < CREDENTIALS_REGION_MAX &&
	       strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int client_region_option(const char *command, const char *arg, struct client_options *o)
{
	if (!region_valid(arg))
		return cli_bad_value(command, "region", arg, "is not a region such as us-east-1"), -1;
	o->region = arg;
	return 1;
}

int client_profile_option(const char *command, const char *arg, struct client_options *o)
{
	if (arg[0] == '\0')
		return cli_usage_error(command, "--profile: give a profile name"), -1;
	o->profile = arg;
	return 1;
}

/* A real Kinesis endpoint: only it requires credentials. */
static bool is_aws(const struct endpoint *ep)
{
	size_t n = strlen(ep->host), k = strlen(".amazonaws.com");

	return n > k && strcmp(ep->host + n - k, ".amazonaws.com") == 0;
}

/* o->url: the endpoint, else Kinesis in a region named, else the default. */
static void settle_url(struct client_options *o, const char *endpoint, const char *default_url)
{
	if (endpoint)
		snprintf(o->url, sizeof(o->url), "%s", endpoint);
	else if (o->found.region[0] && (o->region || getenv("AWS_REGION") || o->profile))
		snprintf(o->url, sizeof(o->url), "https://kinesis.%s.amazonaws.com",
			 o->found.region);
	else
		snprintf(o->url, sizeof(o->url), "%s", default_url);
}

int client_options_endpoint(const char *command, struct client_options *o, const char *endpoint,
			    const char *default_url, struct endpoint *ep)
{
	char err[ERR_TEXT_MAX], missing[ERR_TEXT_MAX];
	int found = credentials_find(o->profile, o->region, &o->found, missing, sizeof(missing));

	if (o->found.region[0] && !region_valid(o->found.region))
		return cli_usage_error(command, "the region '%s' (from %s) is not a region such as "
				       "us-east-1", o->found.region,
				       getenv("AWS_REGION") ? "AWS_REGION" : "the AWS config");
	settle_url(o, endpoint, default_url);
	if (endpoint_parse(o->url, ep, err, sizeof(err)) < 0)
		return cli_usage_error(command, "--endpoint: %s", err);
	if (found < 0 && (o->profile || is_aws(ep))) {
		/* Nothing wrong with the command line: the set-up lacks a key. */
		cli_error("%s: %s", command, missing);
		return EXIT_FAILURE_RUNTIME;
	}
	if (found == 0) {
		credentials_sigv4(&o->found, "kinesis", &o->sigv4);
		ep->credentials = &o->sigv4;
		if (strcmp(o->found.source, CREDENTIALS_FROM_ENVIRONMENT) != 0)
			ep->credentials_source = o->found.source;
	}
	return 0;
}
