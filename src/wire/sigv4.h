/* AWS Signature Version 4: how requests to a Kinesis endpoint prove who
 * sends them. The simulator signs with the usual AWS environment
 * credentials; the same code can check a signature. */
#ifndef ALLEYCAT_SIGV4_H
#define ALLEYCAT_SIGV4_H

#include <stddef.h>
#include <time.h>

struct sigv4_header {
	const char *name;       /* lower case */
	const char *value;
};

struct sigv4_credentials {
	const char *access_key;
	const char *secret_key;
	const char *session_token;      /* NULL when none */
	const char *region;
	const char *service;
};

#define SIGV4_DATE_LEN 17               /* 20260101T000000Z and NUL */
#define SIGV4_AUTH_MAX 1024

/* Formats the x-amz-date value for a time. */
void sigv4_date(time_t t, char out[SIGV4_DATE_LEN]);

/* Computes the Authorization header for a request whose signed headers
 * (host and x-amz-date among them) are given in any order. Returns 0, or
 * -1 when the result does not fit. */
int sigv4_authorization(const struct sigv4_credentials *cred, const char *method,
			const char *path, const char *query, const struct sigv4_header *headers,
			size_t header_count, const void *body, size_t body_len,
			const char *amz_date, char out[SIGV4_AUTH_MAX]);

/* Signs a request now: the headers given (lower-case names), the host and
 * the x-amz-date (and the session token, when there is one) are signed.
 * Fills date (the x-amz-date value) and authorization; 0 or -1. */
int sigv4_sign(const struct sigv4_credentials *cred, const char *method, const char *path,
	       const char *host, const struct sigv4_header *headers, size_t header_count,
	       const void *body, size_t body_len, char date[SIGV4_DATE_LEN],
	       char authorization[SIGV4_AUTH_MAX]);

/* Reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN;
 * returns 0 when a key pair is set, -1 otherwise. */
int sigv4_credentials_from_env(struct sigv4_credentials *cred, const char *region,
			       const char *service);

#endif
