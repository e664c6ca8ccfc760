/* The hub's front door: its one listening socket, shared by HTTP/1.1, the
 * WebSocket push and HTTP/2.
 *
 * libwebsockets 4.1 serves HTTP/1.1 and WebSockets but cannot read custom
 * headers (X-Amz-Target) on its own HTTP/2 streams, so the hub accepts
 * connections itself: each is admitted under the connection cap, then
 * waits, adopted by lws as a raw descriptor, until its first bytes tell
 * which HTTP it speaks (sniff.h: the preface on a plain port, ALPN "h2" in
 * the ClientHello on a TLS port). Only peeked, never read, those bytes are
 * still in the socket when it is handed over: HTTP/1.1 to lws as if its
 * own listener had accepted it (lws does TLS and everything else), HTTP/2
 * to an nghttp2 session (h2.h) over this module's socket and TLS I/O. */
#ifndef ALLEYCAT_FRONT_H
#define ALLEYCAT_FRONT_H

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

struct conn_limit;
struct h2_conn;
struct routes;

/* Seconds a connection may take to send its first request (or a
 * kept-alive one its next) before it is closed. */
struct front_timeouts {
	int header_s;           /* from the accept to the first request */
	int idle_s;             /* an HTTP/2 connection with no request open */
	int stalled_s;          /* one with requests open but no bytes moving */
};

struct front {
	const struct routes *routes;    /* borrowed: the HTTP/2 sessions answer through it */
	struct conn_limit *conns;       /* borrowed: the cap every connection counts in */
	struct front_timeouts timeouts;
	bool tls;                       /* the port serves TLS */
	SSL_CTX *h2_tls;                /* TLS for HTTP/2 (owned); NULL on a plain port */
	int listen_fd;
	int port;                       /* the port bound */
	lws_dll2_owner_t h2_sessions;   /* every HTTP/2 connection's front_session */
	struct lws *listener;
	lws_sorted_usec_list_t resume;  /* accepts again after running out of descriptors */
};

/* Per-connection data of FRONT_PROTOCOL_CONN (lws allocates it); private. */
struct front_session {
	struct lws *wsi;
	lws_dll2_t list;                /* in front.h2_sessions, once HTTP/2 */
	lws_sorted_usec_list_t retry;   /* sniffs again after a short wait */
	struct h2_conn *h2;             /* set once the connection speaks HTTP/2 */
	SSL *ssl;                       /* HTTP/2 over TLS; NULL on h2c */
	const uint8_t *out;             /* bytes of h2_conn_output still to write */
	size_t out_len;
	bool paused;                    /* reading stopped until the socket drains */
};

int front_listener_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			    void *in, size_t len);
int front_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			size_t len);

#define FRONT_PROTOCOL_LISTENER "alleycat-listener"
#define FRONT_PROTOCOL_CONN "alleycat-front"
/* The two entries of the lws protocol table this module serves. */
#define FRONT_PROTOCOLS                                                                       \
	{ FRONT_PROTOCOL_LISTENER, front_listener_callback, 0, 0, 0, NULL, 0 },               \
	{ FRONT_PROTOCOL_CONN, front_conn_callback, sizeof(struct front_session), 0, 0, NULL, 0 }

/* Binds host:port (port 0: any free one) and listens; -1 with a message.
 * f's borrowed fields and tls must be set. */
int front_listen(struct front *f, const char *host, int port, char *err, size_t errlen);

/* The port bound. */
int front_port(const struct front *f);

/* Starts accepting in the lws context (whose default vhost has the two
 * FRONT_PROTOCOLS); -1 on failure. */
int front_start(struct front *f, struct lws_context *context);

/* Subscriptions may have events due: every HTTP/2 connection with a
 * SubscribeToShard stream open is asked to write. */
void front_wake(struct front *f);

/* Closes what front_listen opened if front_start never took it over,
 * and frees the TLS context. */
void front_release(struct front *f);

/* Connection accounting for every connection of the port, whoever serves
 * it (see connlimit.h); the slot lives in the wsi's opaque user data. */
void front_conn_opened(struct conn_limit *conns, struct lws *wsi);
void front_conn_asked(struct conn_limit *conns, struct lws *wsi);
void front_conn_idle(struct conn_limit *conns, struct lws *wsi);
void front_conn_closed(struct conn_limit *conns, struct lws *wsi);

#endif
