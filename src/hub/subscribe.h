/* SubscribeToShard as AWS serves it, whatever carries it.
 *
 * A session is one subscription (push.h: the same cursor, takeover, rate,
 * heartbeat and expiry rules as the WebSocket push, in the same registry)
 * whose events are event-stream messages (eventstream.h): first an
 * initial-response event, then SubscribeToShardEvent events, an exception
 * as an exception message (ResourceInUseException when a newer
 * subscription takes the shard over, ResourceNotFoundException when the
 * stream, shard or consumer goes), and the end of the stream after
 * --subscription-seconds or at the end of a closed shard.
 *
 * A transport (HTTP/1.1 chunked in server.c; HTTP/2) starts a session from
 * the request body, pulls the next message whenever it can write one, and
 * closes the session when the client goes away. Nothing is buffered past
 * the one message the transport is writing: a client that stops reading
 * stops the reading of its shard, nothing more. No network I/O here. */
#ifndef ALLEYCAT_SUBSCRIBE_H
#define ALLEYCAT_SUBSCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/push.h"
#include "util/strbuf.h"

#define SUBSCRIBE_TARGET "Kinesis_20131202.SubscribeToShard"

struct subscribe_session {
	struct push_conn conn;          /* one subscription, event-stream framing */
	bool greeted;                   /* the initial-response went out */
};

/* Why a request opened no stream: answered as any API error is (the HTTP
 * status and the JSON body {"__type":type,"message":message}), as AWS does
 * before a stream starts. Static strings. */
struct subscribe_refusal {
	int status;
	const char *type;
	const char *message;
};

enum subscribe_step {
	SUBSCRIBE_MESSAGE,              /* a message was appended to out */
	SUBSCRIBE_WAIT,                 /* nothing due yet: pull again when woken or in a while */
	SUBSCRIBE_END,                  /* the stream is over: close it; nothing was appended */
};

/* Starts a session from a SubscribeToShard request body (ConsumerARN,
 * ShardId, StartingPosition; CBOR when content_type says so, else JSON) at
 * now_ms. 0, or -1 with the refusal, which the transport answers in the
 * request's encoding (kinesis_error_reply); either way s is ready for
 * subscribe_close. */
int subscribe_start(struct push *push, struct subscribe_session *s, const char *content_type,
		    const char *body, size_t len, int64_t now_ms, struct subscribe_refusal *refusal);

/* Appends the next message due to out (after what out already holds).
 * When out->failed is set after a SUBSCRIBE_MESSAGE the hub ran out of
 * memory: the transport drops the stream. */
enum subscribe_step subscribe_next(struct push *push, struct subscribe_session *s, int64_t now_ms,
				   struct strbuf *out);

/* Ends the session's subscription, if it still has one. */
void subscribe_close(struct push *push, struct subscribe_session *s);

#endif
