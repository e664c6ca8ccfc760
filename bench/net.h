/* The network side of the benchmarks: servers started as child processes,
 * a plain-socket HTTP/1.1 client with keep-alive (the cheapest client we
 * can write, so the figures are the server's), the Kinesis calls built on
 * it, and a WebSocket client for push. 127.0.0.1 only. */
#ifndef ALLEYCAT_BENCH_NET_H
#define ALLEYCAT_BENCH_NET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- servers --------------------------------------------------------- */

/* A port that was free a moment ago. */
int net_free_port(void);

/* Starts argv[0] with its output to log (NULL: /dev/null); the pid. */
pid_t net_spawn(char *const argv[], const char *log);

/* Waits until a TCP connection to port succeeds; -1 after timeout_ms. */
int net_wait_port(int port, int timeout_ms);

/* A blocking TCP connection to 127.0.0.1:port, Nagle off; -1 on failure. */
int net_tcp_connect(int port);

/* SIGTERM to the child's process group, then SIGKILL after 3 s; reaps it. */
void net_stop(pid_t pid);

/* The alleycat binary: $ALLEYCAT, else the build tree's. */
const char *net_alleycat(void);

/* Starts `alleycat hub` on a free port with no write limits, plus extra
 * options (NULL-terminated); sets *port. */
pid_t net_start_hub(int *port, const char *const *extra);

/* Starts kinesalite (bench/node) on a free port; -1 when it is not
 * installed (`npm ci` in bench/node) or node is missing. */
pid_t net_start_kinesalite(int *port);

/* ---- HTTP ------------------------------------------------------------- */

struct http_conn {
	int fd, port;
	char *buf;                      /* what was read and not yet consumed */
	size_t len, cap;
	char *body;                     /* the last response's body, NUL-terminated */
	size_t body_len;
	int status;
};

int http_connect(struct http_conn *c, int port);
void http_close(struct http_conn *c);

/* POST / with a Kinesis target ("PutRecords"); reconnects once when the
 * server closed a kept-alive connection. The status, or -1. */
int http_kinesis(struct http_conn *c, const char *op, const char *body, size_t len);

/* A Kinesis call whose answer is parsed; NULL (with a note) unless 200. */
json_t *net_call(struct http_conn *c, const char *op, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Creates a stream (if needed) and waits until it is ACTIVE. */
int net_create_stream(struct http_conn *c, const char *name, int shards);

/* The shard ids of a stream (malloc'd array of malloc'd strings). */
size_t net_shards(struct http_conn *c, const char *stream, char ***ids);

/* ---- PutRecords bodies -------------------------------------------------- */

/* A PutRecords body of n records of data_len bytes each (telemetry JSON of
 * the racer model, padded with an ignored field), partition keys
 * key_base + i in decimal. */
char *net_put_body(const char *stream, size_t n, size_t data_len, uint64_t key_base,
		   size_t *len);

/* ---- WebSocket --------------------------------------------------------- */

struct ws_conn {
	int fd;
	char *buf;
	size_t len, cap;
	char *msg;                      /* a message being reassembled from fragments */
	size_t msg_len, msg_cap;
};

/* Opens ws://127.0.0.1:port/subscribe with subprotocol alleycat-efo.v1. */
int ws_connect(struct ws_conn *w, int port);
void ws_close(struct ws_conn *w);
int ws_send_text(struct ws_conn *w, const char *text, size_t len);

/* Reads what the socket has (fd may be non-blocking) and calls fn for every
 * complete text message; 0, or -1 when the connection ended. */
typedef void (*ws_message_fn)(void *user, const char *msg, size_t len);
int ws_pump(struct ws_conn *w, ws_message_fn fn, void *user);

#endif
