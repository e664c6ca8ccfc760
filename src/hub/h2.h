/* HTTP/2 for the hub: one nghttp2 server session per connection, serving
 * the same requests as HTTP/1.1 does, through routes.h.
 *
 * Bytes in, bytes out: the caller feeds what the connection received
 * (h2_conn_receive) and writes what h2_conn_output gives it; no network
 * I/O here, so a test or a fuzzer drives it with nghttp2's client in the
 * same process.
 *
 * Bounds: at most H2_MAX_STREAMS requests at a time on a connection, each
 * with at most H2_HEADER_BYTES of headers (counted as HPACK counts them,
 * 32 bytes a field besides name and value) and routes->max_body of body;
 * a request body is answered as soon as it is whole, and its answer is
 * the only copy the hub keeps while nghttp2 sends it as the client's
 * window allows. SubscribeToShard is answered with an event stream
 * (subscribe.h) that holds one message at a time and pulls the next only
 * when the client's window lets it out. */
#ifndef ALLEYCAT_H2_H
#define ALLEYCAT_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct routes;
struct h2_conn;

#define H2_MAX_STREAMS 32
#define H2_HEADER_BYTES 8192            /* as the HTTP/1.1 path allows */
#define H2_STREAM_WINDOW (1 << 20)      /* request body bytes in flight per stream */
#define H2_CONN_WINDOW (16 << 20)       /* and per connection */
#define H2_BODY_MS 30000                /* a request's body, from its headers on */

/* The 24 bytes an HTTP/2 client opens with (RFC 9113 3.4). */
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

/* A new server session answering through routes (borrowed, outliving the
 * connection; its streams are counted in routes->counts, which must be
 * set); its SETTINGS are queued at once. NULL when out of memory. */
struct h2_conn *h2_conn_new(const struct routes *routes);
void h2_conn_free(struct h2_conn *c);

/* Takes bytes the client sent (the preface first). Requests that become
 * whole are answered. Returns -1 on a protocol error: a GOAWAY is queued,
 * the connection closes once h2_conn_output has given it. */
int h2_conn_receive(struct h2_conn *c, const uint8_t *in, size_t len, int64_t now_ms);

/* The next bytes to send, or 0 when there are none now; *out is borrowed
 * until the next call. */
size_t h2_conn_output(struct h2_conn *c, const uint8_t **out);

/* Requests received and not yet wholly answered. */
size_t h2_conn_streams(const struct h2_conn *c);

/* Of those, SubscribeToShard streams: they may have events due at any
 * time, and want h2_conn_wake then. */
size_t h2_conn_subscriptions(const struct h2_conn *c);

/* Subscriptions may have events due (records arrived, a heartbeat or the
 * end is due): their streams pull again, at now_ms, when h2_conn_output
 * is next called. */
void h2_conn_wake(struct h2_conn *c, int64_t now_ms);

/* The session is over: nothing more to read or to send. */
bool h2_conn_done(const struct h2_conn *c);

/* Ends the connection gracefully (a GOAWAY, for an idle one). */
void h2_conn_goaway(struct h2_conn *c);

#endif
