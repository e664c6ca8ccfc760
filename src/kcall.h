/* One Kinesis API call, waited for: for set-up steps (create a stream,
 * reshard it) that come before, or instead of, a program's own loop. */
#ifndef ALLEYCAT_KCALL_H
#define ALLEYCAT_KCALL_H

#include <signal.h>

#include "endpoint.h"

struct httpc;

struct kcall_result {
	int status;                     /* HTTP status; 0 when no answer came */
	char *body;                     /* the answer (malloc'd), or NULL */
	char error[320];                /* why no answer came, after the operation's
					 * name ("PutRecords: no answer within ...") */
};

/* Calls operation op with a JSON body and drives the client until the
 * answer comes, or *stop is set (the call is then cancelled). Returns 0
 * when an answer came, whatever its status. Free the result with
 * kcall_free. */
int kcall(struct httpc *http, const struct endpoint *ep, const char *op,
	  const char *body, volatile sig_atomic_t *stop, struct kcall_result *r);

/* The __type of an error answer ("" for none; borrowed until the next call). */
const char *kcall_error_type(const struct kcall_result *r);

/* A number member of the answer's object at path "A.B" (0 when absent). */
long long kcall_number(const struct kcall_result *r, const char *object, const char *member);

void kcall_free(struct kcall_result *r);

#endif
