/* Kinesis API calls: a JSON body posted with the operation's target.
 * api_call_start is the one way every client sends one; api_call waits
 * for the answer, for set-up steps (create a stream, reshard it) that come
 * before, or instead of, a program's own loop. */
#ifndef ALLEYCAT_API_CALL_H
#define ALLEYCAT_API_CALL_H

#include <jansson.h>
#include <signal.h>

#include "client/endpoint.h"
#include "client/failure.h"
#include "client/httpc.h"

struct api_call_result {
	int status;                     /* HTTP status; 0 when no answer came */
	char *body;                     /* the answer (malloc'd), or NULL */
	char error[320];                /* why no answer came, after the operation's
					 * name ("PutRecords: no answer within ...") */
	const char *cause;              /* the same without the name (points into error) */
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

/* A number member of the answer's object at path "A.B" (0 when absent). */
long long api_call_number(const struct api_call_result *r, const char *object, const char *member);

/* How the call ended, worded for the user (failure.h); FAILURE_NONE for a
 * 2xx answer. call names the endpoint, the operation and the stream. */
enum failure_kind api_call_failure(const struct api_call_result *r,
				   const struct failure_call *call, struct failure *f);

/* Calls call->op at call->endpoint as api_call does, and again after a
 * short wait while failure_give_up allows it (a hub that is starting):
 * 0 with the 2xx answer in r (free it), or -1 with why in f (the answer
 * freed; f->kind is FAILURE_NONE when *stop ended it). body is stolen, as
 * api_call takes it; a NULL body fails at once. */
int api_call_patiently(struct httpc *http, const struct failure_call *call, json_t *body,
		       volatile sig_atomic_t *stop, struct api_call_result *r, struct failure *f);

void api_call_free(struct api_call_result *r);

#endif
