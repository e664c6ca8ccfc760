/* An asynchronous HTTP/1.1 client on a libwebsockets context: POST a body
 * or GET a page, and get a callback with the status and the response body.
 * Each request uses its own connection, so any number can be in flight. */
#ifndef ALLEYCAT_HTTPC_H
#define ALLEYCAT_HTTPC_H

#include <stddef.h>

#include "endpoint.h"

struct lws_context;

struct httpc_header {
	const char *name;               /* lower case, e.g. "x-amz-target" */
	const char *value;
};

/* status is 0 when no answer came (error names why); body is borrowed
 * for the duration of the call. */
typedef void (*httpc_done_fn)(void *user, int status, const char *body, size_t len,
			      const char *error);

/* A client context lists this protocol (first) in its protocols. */
#define HTTPC_PROTOCOL_NAME "alleycat-http-client"
#define HTTPC_PROTOCOL { HTTPC_PROTOCOL_NAME, httpc_callback, 0, 0, 0, NULL, 0 }

enum lws_callback_reasons;
struct lws;
int httpc_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len);

/* Starts a POST; done is called exactly once, later, from the service
 * loop. The body and headers are copied. Returns -1 (done is not called)
 * when the request cannot even start. */
int httpc_post(struct lws_context *context, const struct endpoint *ep, const char *path,
	       const struct httpc_header *headers, size_t header_count, const void *body,
	       size_t len, httpc_done_fn done, void *user);

struct lws_protocols;

/* A client-only context over these protocols (HTTPC_PROTOCOL among them),
 * trusting ca_file (NULL: the system's CAs) for TLS, with libwebsockets'
 * log routed into ours. fd_limit caps its sockets (0: the system's limit).
 * NULL when it cannot be created. */
struct lws_context *httpc_context_new(const struct lws_protocols *protocols, const char *ca_file,
				      unsigned fd_limit);

/* Starts a GET, as httpc_post does. */
int httpc_get(struct lws_context *context, const struct endpoint *ep, const char *path,
	      httpc_done_fn done, void *user);

/* Turns off Nagle's algorithm on a connection: requests and events go out
 * in several writes, and waiting for the peer's delayed ACK between them
 * would add 40 ms to each. */
void httpc_no_delay(struct lws *wsi);

#endif
