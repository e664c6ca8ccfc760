/* The one HTTP client for every API call: asynchronous requests on a
 * libcurl multi handle, with a callback per request.
 *
 * Connections are kept alive and reused across requests (HTTP/1.1
 * keep-alive; HTTP/2 multiplexing where TLS offers it), and opened again
 * when the server closes them. Every request has a time-out: when no
 * complete answer came within it, the request fails with an error that
 * says so. TLS trusts an endpoint's --ca file, or anything with
 * --insecure. A client belongs to one thread, which drives it with
 * httpc_poll (or httpc_perform from another event loop); only
 * httpc_wakeup may be called from elsewhere. */
#ifndef ALLEYCAT_HTTPC_H
#define ALLEYCAT_HTTPC_H

#include <stddef.h>

#include "client/endpoint.h"

#define HTTPC_DEFAULT_TIMEOUT_S 60
#define HTTPC_TIMEOUT_MAX_S 86400

/* The status a callback gets for a request cancelled by httpc_cancel_all
 * or httpc_free: no answer, and none will come. */
#define HTTPC_CANCELLED (-1)

struct httpc_header {
	const char *name;               /* lower case, e.g. "x-amz-target" */
	const char *value;
};

/* The error of a request that got no answer starts with one of these, so
 * that a caller can tell the causes apart (client/failure.c does); the
 * rest of it says more. */
#define HTTPC_ERROR_CONNECT "cannot connect to "    /* HOST:PORT: why (strerror) */
#define HTTPC_ERROR_NO_HOST "cannot find the host of " /* HOST:PORT */
#define HTTPC_ERROR_TIMEOUT "no answer within "     /* N s (--timeout) */
#define HTTPC_ERROR_CLOSED "the connection closed before the answer was complete"
#define HTTPC_ERROR_IDLE "nothing came for "        /* N s: a stream gone quiet */

/* status is the HTTP status; 0 when no answer came (error names why, e.g.
 * "no answer within 60 s (--timeout)"); HTTPC_CANCELLED when cancelled.
 * body is borrowed for the duration of the call. */
typedef void (*httpc_done_fn)(void *user, int status, const char *body, size_t len,
			      const char *error);

/* Bytes of a streaming answer as they arrive (only of a 2xx answer; any
 * other is collected and handed to done). Returns 0 when it took them, 1
 * when it cannot take them now (the stream pauses, and the same bytes come
 * again after httpc_resume), -1 to end the request (done then gets status
 * 0 and "ended by the reader"). */
typedef int (*httpc_data_fn)(void *user, const char *bytes, size_t len);

#define HTTPC_ENDED_BY_READER "ended by the reader"

struct httpc;

/* A client whose requests wait at most timeout_s seconds for their answer.
 * NULL when libcurl cannot start one. */
struct httpc *httpc_new(int timeout_s);

/* Cancels what is in flight (each callback runs, with HTTPC_CANCELLED),
 * closes the connections and frees the client. NULL is ignored. */
void httpc_free(struct httpc *c);

/* Starts a POST of body to ep's path; done is called exactly once, later,
 * from httpc_poll, httpc_perform or a cancel. Body and headers are copied;
 * requests are signed with ep's SigV4 credentials, if any. Returns -1
 * (done is not called) when the request cannot even start. */
int httpc_post(struct httpc *c, const struct endpoint *ep, const char *path,
	       const struct httpc_header *headers, size_t header_count, const void *body,
	       size_t len, httpc_done_fn done, void *user);

/* Starts a POST whose 2xx answer streams (SubscribeToShard's event
 * stream): its bytes go to data as they come, and done gets an empty body
 * when it ends. A stream has no overall time-out, as it lasts minutes:
 * only connecting is bounded by the client's. Otherwise as httpc_post. */
int httpc_post_stream(struct httpc *c, const struct endpoint *ep, const char *path,
		      const struct httpc_header *headers, size_t header_count, const void *body,
		      size_t len, httpc_data_fn data, httpc_done_fn done, void *user);

/* Streams started from now on end when no byte of them came for seconds
 * (time paused by their reader does not count): done then gets status 0
 * and an error starting with HTTPC_ERROR_IDLE. 0 (the default): they wait
 * as long as the connection lasts. */
void httpc_set_stream_idle(struct httpc *c, int seconds);

/* Lets every paused stream go on (its data callback is called again). */
void httpc_resume(struct httpc *c);

/* Starts a GET, as httpc_post does. */
int httpc_get(struct httpc *c, const struct endpoint *ep, const char *path, httpc_done_fn done,
	      void *user);

/* Waits up to timeout_ms for network activity (or httpc_wakeup), then
 * moves every request along and runs the callbacks of those that ended.
 * Returns the number of requests still in flight. */
int httpc_poll(struct httpc *c, int timeout_ms);

/* Moves every request along without waiting, for a caller whose own loop
 * waits (an lws timer). Returns the number still in flight. */
int httpc_perform(struct httpc *c);

/* Requests in flight. */
int httpc_in_flight(const struct httpc *c);

/* Cuts short a wait in httpc_poll; safe from any thread. */
void httpc_wakeup(struct httpc *c);

/* Cancels every request in flight: each callback runs now with
 * HTTPC_CANCELLED. */
void httpc_cancel_all(struct httpc *c);

/* The seconds a request waits for its answer. */
int httpc_timeout(const struct httpc *c);

#endif
