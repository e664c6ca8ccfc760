/* AWS credentials and region found as the AWS CLI finds them, so that a
 * reader of a real stream works with the set-up its user already has.
 *
 * Credentials, first found wins:
 *   1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN),
 *      unless a profile was named on the command line (as the CLI's
 *      --profile overrides them);
 *   2. the profile's section of the shared credentials file
 *      (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials): [NAME];
 *   3. the profile's section of the config file (AWS_CONFIG_FILE, else
 *      ~/.aws/config): [profile NAME], or [default].
 * The profile is the one named, else AWS_PROFILE, else "default".
 * The region: the one named, else AWS_REGION, else AWS_DEFAULT_REGION, else
 * the profile's region in the config file; "" when none says.
 *
 * Nothing here prints; the files are read once, by credentials_find. */
#ifndef ALLEYCAT_CREDENTIALS_H
#define ALLEYCAT_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "wire/sigv4.h"

#define CREDENTIALS_KEY_MAX 256
#define CREDENTIALS_TOKEN_MAX 4096      /* STS session tokens run to ~1-2 KB */
#define CREDENTIALS_REGION_MAX 64
#define CREDENTIALS_WHERE_MAX 1400
#define CREDENTIALS_FROM_ENVIRONMENT "the environment (AWS_ACCESS_KEY_ID)"

struct credentials {
	char access_key[CREDENTIALS_KEY_MAX];
	char secret_key[CREDENTIALS_KEY_MAX];
	char session_token[CREDENTIALS_TOKEN_MAX];      /* "" when none */
	char region[CREDENTIALS_REGION_MAX];            /* "" when none says */
	char source[CREDENTIALS_WHERE_MAX];     /* where the key came from, for messages:
						 * CREDENTIALS_FROM_ENVIRONMENT, or
						 * "profile 'NAME' of FILE" */
	bool found;                             /* a key pair was found */
};

/* Looks for credentials and the region. profile and region are what the
 * command line named (NULL: not named). Returns 0 when a key pair was
 * found; -1 otherwise, with err saying in one line every place it looked
 * (each file, and whether it had the profile's section) and the fix.
 * The region is filled either way. */
int credentials_find(const char *profile, const char *region, struct credentials *out,
		     char *err, size_t errlen);

/* The signer's view of c (borrowed: c must outlive out), for service. */
void credentials_sigv4(const struct credentials *c, const char *service,
		       struct sigv4_credentials *out);

#endif
