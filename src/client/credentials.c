/* Credentials as the AWS CLI finds them (credentials.h). The two shared
 * files are INI files: "[section]" lines, "key = value" lines, comments
 * after # or ; at the start of a line. Only the four keys a Kinesis client
 * needs are read; everything else (role_arn, sso_*, credential_process) is
 * passed over, so a profile that only has those counts as having no key. */
#include "config.h"
#include "client/credentials.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

#define LINE_MAX_LEN 8192

/* What one profile's section of one file holds. */
struct section_values {
	char access_key[CREDENTIALS_KEY_MAX];
	char secret_key[CREDENTIALS_KEY_MAX];
	char session_token[CREDENTIALS_TOKEN_MAX];
	char region[CREDENTIALS_REGION_MAX];
};

/* A "key = value" line of the section being read: keeps the keys it knows. */
static void take_value(char *line, struct section_values *v)
{
	char *eq = strchr(line, '=');
	char *key, *value;

	if (eq == NULL)
		return;
	*eq = '\0';
	key = str_trim(line);
	value = str_trim(eq + 1);
	if (strcmp(key, "aws_access_key_id") == 0)
		snprintf(v->access_key, sizeof(v->access_key), "%s", value);
	else if (strcmp(key, "aws_secret_access_key") == 0)
		snprintf(v->secret_key, sizeof(v->secret_key), "%s", value);
	else if (strcmp(key, "aws_session_token") == 0 || strcmp(key, "aws_security_token") == 0)
		snprintf(v->session_token, sizeof(v->session_token), "%s", value);
	else if (strcmp(key, "region") == 0)
		snprintf(v->region, sizeof(v->region), "%s", value);
}

/* Whether a "[...]" header names the profile: the credentials file writes
 * [NAME], the config file [profile NAME] (and plain [default]). */
static bool section_is(char *header, const char *profile, bool config_file)
{
	char *name = str_trim(header);

	if (config_file && strncmp(name, "profile", 7) == 0 && isspace((unsigned char)name[7]))
		return strcmp(str_trim(name + 8), profile) == 0;
	return (!config_file || strcmp(profile, "default") == 0) && strcmp(name, profile) == 0;
}

/* What reading a file for a profile found, for the message that says
 * where credentials were looked for. */
enum section_found { NO_FILE = -1, NO_SECTION, SECTION };

/* Reads the profile's section of a file into v. */
static enum section_found read_section(const char *path, const char *profile, bool config_file,
				       struct section_values *v)
{
	FILE *f = path[0] ? fopen(path, "r") : NULL;
	char line[LINE_MAX_LEN];
	bool in = false, seen = false;

	memset(v, 0, sizeof(*v));
	if (f == NULL)
		return NO_FILE;
	while (fgets(line, sizeof(line), f)) {
		char *s = str_trim(line), *close;

		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[' && (close = strchr(s, ']')) != NULL) {
			*close = '\0';
			in = section_is(s + 1, profile, config_file);
			seen = seen || in;
		} else if (in) {
			take_value(s, v);
		}
	}
	fclose(f);
	return seen ? SECTION : NO_SECTION;
}

/* A file's path: the variable's value, else ~/.aws/NAME; "" with no HOME. */
static void file_path(const char *variable, const char *name, char *out, size_t size)
{
	const char *set = getenv(variable), *home = getenv("HOME");

	if (set && *set)
		snprintf(out, size, "%s", set);
	else if (home && *home)
		snprintf(out, size, "%s/.aws/%s", home, name);
	else
		out[0] = '\0';
}

static bool take_keys(struct credentials *out, const struct section_values *v, const char *where)
{
	if (v->access_key[0] == '\0' || v->secret_key[0] == '\0')
		return false;
	snprintf(out->access_key, sizeof(out->access_key), "%s", v->access_key);
	snprintf(out->secret_key, sizeof(out->secret_key), "%s", v->secret_key);
	snprintf(out->session_token, sizeof(out->session_token), "%s", v->session_token);
	snprintf(out->source, sizeof(out->source), "%s", where);
	out->found = true;
	return true;
}

/* The environment's key pair, read as the signer has always read it. */
static void take_env_keys(struct credentials *out)
{
	struct sigv4_credentials env;
	struct section_values v;

	if (sigv4_credentials_from_env(&env, NULL, NULL) < 0)
		return;
	memset(&v, 0, sizeof(v));
	snprintf(v.access_key, sizeof(v.access_key), "%s", env.access_key);
	snprintf(v.secret_key, sizeof(v.secret_key), "%s", env.secret_key);
	snprintf(v.session_token, sizeof(v.session_token), "%s",
		 env.session_token ? env.session_token : "");
	take_keys(out, &v, CREDENTIALS_FROM_ENVIRONMENT);
}

/* The region the command line, the environment or the config names. */
static void take_region(struct credentials *out, const char *named, const char *config_region)
{
	const char *env = getenv("AWS_REGION"), *env_default = getenv("AWS_DEFAULT_REGION");
	const char *r = named && *named     ? named
			: env && *env       ? env
			: env_default && *env_default ? env_default
						      : config_region;

	snprintf(out->region, sizeof(out->region), "%s", r);
}

/* A file looked in, for messages: its path and what it held, e.g.
 * "/home/ann/.aws/credentials (no [racing])". */
static void looked_in(const char *path, const char *fallback, const char *section,
		      enum section_found found, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s%s", path[0] ? path : fallback,
		 found == NO_FILE ? " (no such file)" : found == NO_SECTION ? " (no " : "",
		 found == NO_SECTION ? section : "", found == NO_SECTION ? ")" : "");
}

/* Where no key was found, in one line, with the fix: with a profile named
 * the environment does not count (as with the AWS CLI), so the fix is in
 * the profile's files. */
static void missing(const char *profile, const char *name, const char *cred, const char *config,
		    const char *cred_path, char *err, size_t errlen)
{
	if (profile)
		snprintf(err, errlen, "no AWS credentials for profile '%s': no aws_access_key_id "
			 "and aws_secret_access_key in %s or %s; add them to [%s] in %s, or name "
			 "another --profile", name, cred, config, name,
			 cred_path[0] ? cred_path : "~/.aws/credentials");
	else
		snprintf(err, errlen, "no AWS credentials: looked in the environment "
			 "(AWS_ACCESS_KEY_ID), profile '%s' of %s and %s; set AWS_ACCESS_KEY_ID "
			 "and AWS_SECRET_ACCESS_KEY or name a --profile that has a key", name,
			 cred, config);
}

int credentials_find(const char *profile, const char *region, struct credentials *out,
		     char *err, size_t errlen)
{
	const char *env_profile = getenv("AWS_PROFILE");
	const char *name = profile ? profile
			   : env_profile && *env_profile ? env_profile : "default";
	char cred_path[1024], config_path[1024], cred_section[300], config_section[300];
	char cred_where[1400], config_where[1400];
	struct section_values from_cred, from_config;
	enum section_found cred_found, config_found;

	memset(out, 0, sizeof(*out));
	file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", cred_path, sizeof(cred_path));
	file_path("AWS_CONFIG_FILE", "config", config_path, sizeof(config_path));
	snprintf(cred_section, sizeof(cred_section), "[%s]", name);
	snprintf(config_section, sizeof(config_section), "[%s%s]",
		 strcmp(name, "default") == 0 ? "" : "profile ", name);
	cred_found = read_section(cred_path, name, false, &from_cred);
	config_found = read_section(config_path, name, true, &from_config);
	take_region(out, region, from_config.region);
	if (profile == NULL)
		take_env_keys(out);
	snprintf(cred_where, sizeof(cred_where), "profile '%s' of %s", name, cred_path);
	if (!out->found)
		take_keys(out, &from_cred, cred_where);
	snprintf(config_where, sizeof(config_where), "profile '%s' of %s", name, config_path);
	if (!out->found)
		take_keys(out, &from_config, config_where);
	if (out->found)
		return 0;
	looked_in(cred_path, "~/.aws/credentials (no HOME)", cred_section, cred_found, cred_where,
		  sizeof(cred_where));
	looked_in(config_path, "~/.aws/config (no HOME)", config_section, config_found,
		  config_where, sizeof(config_where));
	missing(profile, name, cred_where, config_where, cred_path, err, errlen);
	return -1;
}

void credentials_sigv4(const struct credentials *c, const char *service,
		       struct sigv4_credentials *out)
{
	memset(out, 0, sizeof(*out));
	out->access_key = c->access_key;
	out->secret_key = c->secret_key;
	out->session_token = c->session_token[0] ? c->session_token : NULL;
	out->region = c->region[0] ? c->region : "us-east-1";
	out->service = service;
}
