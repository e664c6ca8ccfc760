/* The hub's network face: one libwebsockets vhost serving the Kinesis API
 * (POST /; SubscribeToShard answered as an event stream in HTTP/1.1 chunks,
 * subscribe.h), /metrics and /healthz over HTTP/1.1, and push subscriptions
 * on ws://HOST:PORT/subscribe. */
#ifndef ALLEYCAT_SERVER_H
#define ALLEYCAT_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct auth;
struct hub;
struct server;

struct server_config {
	char host[256];                 /* address to bind, e.g. 127.0.0.1 */
	int port;                       /* 0: any free port (see server_port) */
	size_t max_body;                /* largest request body accepted */
	size_t max_connections;         /* open connections at most (see connlimit.h) */
	const char *tls_cert, *tls_key; /* PEM files: serve HTTPS and WSS (NULL: plain) */
	const struct auth *auth;        /* require SigV4 with these keys (NULL: open) */
	/* Called on every tick of the loop (about ten times a second), on the
	 * thread that owns the hub: how a mirror applies what it read. */
	void (*on_tick)(void *user, int64_t now_ms);
	void *tick_user;
};

/* The hub's defaults, for every command that serves one: listening on
 * HUB_DEFAULT_ADDRESS, plain HTTP, no authentication. */
void server_config_defaults(struct server_config *config);

/* Sets host and port from HOST:PORT, or [IPV6]:PORT as in a URL (host
 * keeps the brackets); -1 when text is neither, and SERVER_LISTEN_FORM is
 * what to tell the user. */
#define SERVER_LISTEN_FORM "is not HOST:PORT (an IPv6 address in brackets: [::1]:4999)"
int server_config_listen(struct server_config *config, const char *text);

/* Starts serving the hub; NULL with a message in err on failure. */
struct server *server_start(struct hub *hub, const struct server_config *config, char *err,
			    size_t errlen);

/* The port actually bound: the configured one, or the one the kernel
 * chose for port 0. */
int server_port(const struct server *server);

/* Serves until server_stop is called (from a signal handler too). */
void server_run(struct server *server);
void server_stop(struct server *server);

/* Runs on_tick on the loop's thread as soon as it can, rather than at the
 * next tick: from any thread (a mirror's consumer has records). */
void server_wake(struct server *server);

void server_free(struct server *server);

#endif
