/* Enhanced fan-out: push subscriptions over a connection.
 *
 * A subscription is a cursor into one shard's log for one registered
 * consumer: the hub keeps no copy of the data per consumer, so a slow
 * consumer only lags. The server feeds this module the messages a client
 * sends and asks it, whenever the socket can take more, for the one next
 * event to write. Nothing here does network I/O.
 *
 * The rules (takeover, rates, heartbeats, expiry, shard ends) are the same
 * whatever carries the events; only their framing differs by connection:
 * the hub's WebSocket dialect (JSON text that names the event and its
 * subscription, docs/protocol.md), or AWS's SubscribeToShard answer (one
 * subscription whose events are event-stream messages, subscribe.h). Every
 * subscription is in the one registry of struct push, so a subscription
 * over either takes one over the other over. */
#ifndef ALLEYCAT_PUSH_H
#define ALLEYCAT_PUSH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/stream.h"
#include "hub/throttle.h"
#include "util/strbuf.h"
#include "wire/protocol.h"
#include "wire/seqno.h"

#define PUSH_HEARTBEAT_MS 500
#define PUSH_TAKEOVER_GRACE_MS 5000
#define PUSH_MESSAGE_MAX 65536
#define PUSH_PENDING_MAX 32
/* Subscriptions one connection may hold: as many as a stream may have open
 * shards (the hub's default cap), so that a consumer follows any stream on
 * one connection. Across connections, a consumer and shard have one
 * subscription at a time, which bounds the total. */
#define PUSH_SUBS_PER_CONN_MAX 1024

struct hub;
struct push_conn;

/* How a connection's events are framed. */
enum push_framing {
	PUSH_FRAMING_JSON,              /* WebSocket text: {"Event":...,"ConsumerARN":...} */
	PUSH_FRAMING_EVENTSTREAM,       /* eventstream.h messages; an expiry just ends */
};

/* An event waiting to go out: bytes, not a string (event-stream framing
 * holds NULs). */
struct push_pending {
	char *data;
	size_t len;
};

struct push_sub {
	struct push_sub *next_all, *prev_all;   /* every subscription of the hub */
	struct push_sub *next;                  /* this connection's subscriptions */
	struct push_conn *conn;
	char consumer_arn[STREAM_ARN_MAX + CONSUMER_NAME_MAX + 40];
	uint64_t stream_uid;
	unsigned shard;
	seqno_t from;                           /* the lowest sequence number still to send */
	seqno_t continuation;                   /* last delivered, or position reached */
	int64_t started_ms, expires_ms, last_event_ms;
	int64_t lag_ms;                         /* MillisBehindLatest of the last event */
	uint64_t records_out;
	bool acknowledged;                      /* the first event went out */
	struct throttle rate;
};

struct push_conn {
	enum push_framing framing;              /* zero: JSON */
	struct push_sub *subs;
	size_t sub_count;
	struct push_sub *turn;                  /* round robin among subs */
	struct push_pending pending[PUSH_PENDING_MAX]; /* control events waiting to go out */
	size_t pending_count;
	bool overflowed;                        /* too many pending: close the connection */
};

struct push {
	struct hub *hub;
	struct push_sub *all;
	uint64_t subscriptions_total;
};

void push_init(struct push *push, struct hub *hub);

/* Handles one message from a client. Answers (acknowledgements, errors)
 * come out of push_next_event. */
void push_receive(struct push *push, struct push_conn *conn, const char *msg, size_t len,
		  int64_t now_ms);

/* Opens a subscription of conn from a SubscribeToShard request (a JSON
 * object: ConsumerARN, ShardId, StartingPosition) at now_ms, taking over
 * an older one of the same consumer and shard (which gets an exception
 * event). NULL when refused, with the AWS error type and message (static
 * strings); nothing is queued on conn then. */
struct push_sub *push_subscribe(struct push *push, struct push_conn *conn, json_t *request,
				int64_t now_ms, const char **type, const char **message);

/* Builds the next event due on this connection into out (after what out
 * already holds). Returns true when an event was built. */
bool push_next_event(struct push *push, struct push_conn *conn, int64_t now_ms,
		     struct strbuf *out);

/* True when this connection has something to send now or soon. */
bool push_has_work(const struct push_conn *conn);

/* Ends every subscription of a connection that went away. */
void push_conn_close(struct push *push, struct push_conn *conn);

/* Subscriptions open on a shard (for metrics). */
size_t push_count_shard(const struct push *push, uint64_t stream_uid, unsigned shard);

#endif
