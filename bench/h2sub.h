/* A SubscribeToShard client over HTTP/2 (h2c), for the benchmarks: one
 * connection, one stream per subscription, the event stream decoded
 * (eventstream.h), every message's payload handed over. Its windows are
 * opened wide so that the client never slows the hub down. */
#ifndef ALLEYCAT_BENCH_H2SUB_H
#define ALLEYCAT_BENCH_H2SUB_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>

#include "wire/eventstream.h"

#define H2SUB_STREAMS_MAX 8

/* A message's payload: exception is true for an exception message. */
typedef void (*h2sub_message_fn)(void *user, const char *payload, size_t len, bool exception);

struct h2sub {
	int fd;                         /* non-blocking once connected */
	nghttp2_session *session;
	struct h2sub_stream {
		int32_t id;
		char *body;             /* the request, kept until sent */
		size_t body_len, body_sent;
		struct eventstream_decoder decoder;
	} streams[H2SUB_STREAMS_MAX];
	int stream_count;
	h2sub_message_fn fn;
	void *user;
	bool failed;
};

/* Connects to 127.0.0.1:port; messages of every stream go to fn. */
int h2sub_connect(struct h2sub *c, int port, h2sub_message_fn fn, void *user);

/* Subscribes consumer_arn to shard from position (a type without a
 * sequence number or timestamp). */
int h2sub_subscribe(struct h2sub *c, const char *consumer_arn, const char *shard,
		    const char *position);

/* Reads what the socket has, hands the messages over, and writes what the
 * session has to say; 0, or -1 when the connection ended. */
int h2sub_pump(struct h2sub *c);

void h2sub_close(struct h2sub *c);

#endif
