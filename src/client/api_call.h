/* Kinesis API calls: a JSON body posted with the operation's target.
 * api_call_start is the one way every client sends one; api_call waits
 * for the answer, for set-up steps (create a stream, reshard it) that come
 * before, or instead of, a program's own loop. */
#ifndef ALLEYCAT_API_CALL_H
#define ALLEYCAT_API_CALL_H

#include <jansson.h>
#include <signal.h>

#include "client/endpoint.h"
#include "client/httpc.h"

struct api_call_result {
	int status;                     /* HTTP status; 0 when no answer came */
	char *body;                     /* the answer (malloc'd), or NULL */
	char error[320];                /* why no answer came, after the operation's
					 * name ("PutRecords: no answer within ...") */
};

/* Starts operation op with a JSON body and returns at once; done gets the
 * answer later, as httpc_post says. body is stolen (as jansson's _new
 * functions take theirs), so a json_pack can be passed straight in; a
 * NULL body, from a json_pack that failed, fails the call. Returns -1
 * (done is not called) when the request cannot start. */
int api_call_start(struct httpc *http, const struct endpoint *ep, const char *op, json_t *body,
		   httpc_done_fn done, void *user);

/* Calls operation op with a JSON body (stolen, as api_call_start takes it)
 * and drives the client until the answer comes, or *stop is set (the call
 * is then cancelled). Returns 0 when an answer came, whatever its status.
 * Free the result with api_call_free. */
int api_call(struct httpc *http, const struct endpoint *ep, const char *op, json_t *body,
	     volatile sig_atomic_t *stop, struct api_call_result *r);

/* The __type of an error answer ("" for none; borrowed until the next call). */
const char *api_call_error_type(const struct api_call_result *r);

/* A number member of the answer's object at path "A.B" (0 when absent). */
long long api_call_number(const struct api_call_result *r, const char *object, const char *member);

void api_call_free(struct api_call_result *r);

#endif
