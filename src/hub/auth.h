/* Access control for the hub: requests signed with AWS Signature V4 by a
 * key from a credentials file. The file has the AWS shared credentials
 * format (what ~/.aws/credentials holds):
 *
 *     [racing]
 *     aws_access_key_id = AKIAALLEYCAT0001
 *     aws_secret_access_key = ...
 *
 * A request passes when its Authorization header names a known key and its
 * signature, over the headers it signed and the body, is the one that key
 * makes; its x-amz-date must be within 15 minutes of the hub's clock. The
 * signed headers include the host: "host", or over HTTP/2 ":authority" (as
 * the AWS SDK for JavaScript v3 signs it there). */
#ifndef ALLEYCAT_AUTH_H
#define ALLEYCAT_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct auth;

/* Loads the keys of a credentials file; NULL with a message on failure. */
struct auth *auth_load(const char *path, char *err, size_t errlen);
void auth_free(struct auth *a);

/* Copies the value of a request header (name in lower case) into out;
 * returns its length, or -1 when the request has no such header. */
typedef int (*auth_header_fn)(void *user, const char *name, char *out, size_t size);

/* Checks a request. Returns NULL when it is authentic; otherwise the AWS
 * error type (MissingAuthenticationTokenException, IncompleteSignatureException,
 * UnrecognizedClientException, InvalidSignatureException) with a message. */
const char *auth_check(const struct auth *a, const char *method, const char *path,
		       auth_header_fn header, void *user, const void *body, size_t len,
		       int64_t now_ms, char *message, size_t size);

/* The header names a request signed (from its Authorization header), as
 * "a;b;c" in out; -1 when it has none that parses. */
int auth_signed_headers(const char *authorization, char *out, size_t size);

#endif
