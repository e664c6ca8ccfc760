/* Why an API call failed, in one line a user can act on.
 *
 * Every command that calls the stream's API words its failures here, so
 * that the same mistake (no hub listening, a host that does not resolve,
 * an unknown stream, credentials refused, a server that does not speak
 * Kinesis) reads the same from sim, board, watch, kiosk and hub reshard.
 * A message names the endpoint, the cause and the fix, e.g.
 *
 *     cannot reach http://127.0.0.1:4567: connection refused; is a hub
 *     running? start one with alleycat hub
 *     no stream races at http://127.0.0.1:4567: create it with
 *     --create-stream or alleycat hub --stream races
 *
 * (each one line). The server's own words (its error message) are made
 * printable and clamped; a body is never shown raw.
 *
 * The kinds also decide what a command does next: a one-shot command gives
 * up when failure_give_up says so; a long-running one retries. */
#ifndef ALLEYCAT_FAILURE_H
#define ALLEYCAT_FAILURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/endpoint.h"

#define FAILURE_TEXT_MAX 640
/* How long a one-shot command keeps trying an endpoint that refuses
 * connections: long enough for a hub started alongside it to listen. */
#define FAILURE_CONNECT_GRACE_MS 5000

enum failure_kind {
	FAILURE_NONE,                   /* an answer that is no error */
	FAILURE_UNREACHABLE,            /* nothing listens, or the network is in the way */
	FAILURE_NO_HOST,                /* the host name does not resolve */
	FAILURE_TIMEOUT,                /* no answer within --timeout */
	FAILURE_LOST,                   /* the connection broke, or TLS failed */
	FAILURE_NO_STREAM,              /* ResourceNotFoundException */
	FAILURE_DENIED,                 /* the endpoint refuses the credentials */
	FAILURE_BUSY,                   /* throttled or unavailable for now */
	FAILURE_NOT_KINESIS,            /* an answer that is not the Kinesis protocol */
	FAILURE_REFUSED,                /* another error answer: the request was refused */
};

/* The call that failed, as its messages name it (all borrowed). */
struct failure_call {
	const struct endpoint *endpoint;
	const char *op;                 /* e.g. "PutRecords" */
	const char *stream;
	bool can_create;                /* the command has --create-stream */
};

struct failure {
	enum failure_kind kind;
	char text[FAILURE_TEXT_MAX];    /* one line, no newline; "" for FAILURE_NONE */
};

/* Classifies how a call ended: status 0 with httpc's error when no answer
 * came, else the HTTP status and the answer's body (len bytes, not
 * necessarily JSON). Fills f and returns its kind: FAILURE_NONE for a
 * 2xx answer. */
enum failure_kind failure_classify(struct failure *f, const struct failure_call *call,
				   int status, const char *body, size_t len, const char *error);

/* Whether trying again may help: the endpoint may come up, or cool down. */
bool failure_transient(enum failure_kind kind);

/* Whether a one-shot command should give up, having failed this way since
 * since_ms (the first failure after the last answer that was no failure):
 * at once for what retrying cannot mend (no stream, no such host, denied,
 * no answer within --timeout); after FAILURE_CONNECT_GRACE_MS (at most
 * timeout_s) of refused or broken connections; after timeout_s of busy
 * answers (throttled, unavailable). */
bool failure_give_up(enum failure_kind kind, int64_t since_ms, int64_t now_ms, int timeout_s);

#endif
