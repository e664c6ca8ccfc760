/* What the hub answers to one HTTP request, whichever HTTP carries it:
 * HTTP/1.1 (server.c) and HTTP/2 (h2.c) both come here, so an operation,
 * an error, a page or a browser's CORS headers are the same on either;
 * they only write what is decided here. POST / is the Kinesis API,
 * GET /healthz and GET /metrics are pages. No network I/O here. */
#ifndef ALLEYCAT_ROUTES_H
#define ALLEYCAT_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/auth.h"

struct conn_limit;
struct http_counts;
struct hub;
struct push;
struct strbuf;

#define ROUTES_MAX_BODY_DEFAULT (8u * 1024 * 1024)
#define ROUTES_TARGET_MAX 128   /* longest X-Amz-Target kept */

/* Borrowed pointers, valid while the server runs. */
struct routes {
	struct hub *hub;
	struct push *push;                      /* for /metrics */
	struct conn_limit *conns;               /* for /metrics */
	struct http_counts *counts;             /* for /metrics; HTTP/2 counts its streams here */
	const struct auth *auth;                /* NULL: no signature required */
	size_t max_body;                        /* largest request body accepted */
	void (*wake)(void *user);               /* subscriptions may have events due (a write, a takeover) */
	void *user;
};

/* One answer: body is malloc'd and the caller's (NULL with len 0 when
 * there is none); content_type is static. error is the error type of an
 * error answer (static, else NULL): AWS names it in the x-amzn-ErrorType
 * header too, where some SDKs (Java v2 with CBOR) read it. */
struct route_answer {
	int status;
	const char *content_type;
	char *body;
	size_t len;
	const char *error;
};

/* What a request is, by its method, path and Origin: the rules of
 * docs/protocol.md ("Endpoints"), the same over HTTP/1.1 and HTTP/2. */
enum route_kind {
	ROUTE_PREFLIGHT,        /* OPTIONS with an Origin: a browser asks first */
	ROUTE_DENIED,           /* GET /, PUT, DELETE, PATCH, OPTIONS: AWS's 403 */
	ROUTE_GET,              /* a page: /healthz, /metrics, or 404 */
	ROUTE_API,              /* POST /: the Kinesis API */
	ROUTE_NOT_API,          /* anything else: 404 */
};

/* CORS: a request with an Origin comes from a browser page, which may read
 * the answer only if the answer allows it (Access-Control-*). A preflight
 * names what the page will send; its answer allows exactly that. */
#define ROUTES_CORS_METHOD_MAX 32
#define ROUTES_CORS_HEADERS_MAX 512

struct route_cors {
	bool origin;                            /* set by the caller */
	bool preflight;                         /* set by routes_classify */
	char method[ROUTES_CORS_METHOD_MAX];    /* a preflight's Access-Control-Request-Method */
	char headers[ROUTES_CORS_HEADERS_MAX];  /* and its Access-Control-Request-Headers */
};

/* Classifies a request (method and path as sent; cors->origin whether it
 * has an Origin). For a preflight it also reads, with header over user,
 * what the page asks to send, into cors. */
enum route_kind routes_classify(const char *method, const char *path, struct route_cors *cors,
				auth_header_fn header, void *user);

/* Answers a request that is not an API call, as kind says: a preflight's
 * empty 200, AWS's 403 in XML, a page, or 404 (in the encoding of
 * content_type, the request's Content-Type). */
void routes_answer(const struct routes *r, enum route_kind kind, const char *path,
		   const char *content_type, int64_t now_ms, struct route_answer *out);

/* One header of an answer: name in lower case, value; both static or
 * borrowed from the route_cors they came from. */
struct route_header {
	const char *name;
	const char *value;
};

#define ROUTES_CORS_MAX 4

/* The Access-Control-* headers of an answer to the request cors describes
 * (none without an Origin): their count, in out. */
size_t routes_cors_headers(const struct route_cors *cors, struct route_header out[ROUTES_CORS_MAX]);

/* The signature check of a POST / alone (none when r->auth is NULL): 0
 * when the request is authentic, else -1 with the refusal in out, encoded
 * as content_type (the request's Content-Type: JSON or CBOR) asks. For
 * answers that are not one body, such as SubscribeToShard's stream. */
int routes_check_signature(const struct routes *r, const char *content_type,
			   auth_header_fn header, void *user, const char *body, size_t len,
			   int64_t now_ms, struct route_answer *out);

/* POST / with X-Amz-Target target (NULL if none) and a body in the
 * encoding content_type names (kinesis_answer): the signature is checked
 * first when r->auth is set, header reading the request's headers.
 * Returns -1 when the signature refused the request (out says why), 0
 * when the API answered it. */
int routes_api(const struct routes *r, const char *target, const char *content_type,
	       auth_header_fn header, void *user, const char *body, size_t len, int64_t now_ms,
	       struct route_answer *out);

/* Errors, each in the encoding content_type (the request's Content-Type:
 * CBOR, else JSON) names, as the API's own errors are. */

/* A body over r->max_body: 413 ValidationException. */
void routes_too_large(struct route_answer *out, const char *content_type);

/* An error answer: {"__type":TYPE,"message":MESSAGE}, or its CBOR. */
void routes_error(struct route_answer *out, const char *content_type, int status,
		  const char *type, const char *message);

/* Keeps header NAME: VALUE in sb as "name\0value\0", for
 * routes_header to find again after the request's headers are gone. */
void routes_keep_header(struct strbuf *sb, const char *name, size_t name_len, const char *value,
			size_t value_len);

/* An auth_header_fn over what routes_keep_header kept (user: the strbuf). */
int routes_header(void *user, const char *name, char *out, size_t size);

#endif
