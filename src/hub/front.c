#include "config.h"
#include "hub/front.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/endpoint.h"
#include "hub/connlimit.h"
#include "hub/h2.h"
#include "hub/kinesis.h"
#include "hub/metrics.h"
#include "hub/routes.h"
#include "hub/sniff.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/sockopt.h"

#define ACCEPTS_PER_EVENT 64
#define RESUME_ACCEPT_MS 100    /* after running out of file descriptors */
#define SNIFF_RETRY_MS 5        /* a connection's first bytes came in pieces */
#define READ_CHUNK 16384
#define REFUSED_TYPE "ServiceUnavailableException"     /* a 503's, in its body and header */

static struct front *front_of(struct lws *wsi)
{
	return *(struct front **)lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
}

/* ------------------------------------------------------------------ */
/* Connection accounting                                               */
/* ------------------------------------------------------------------ */

void front_conn_opened(struct conn_limit *conns, struct lws *wsi)
{
	struct conn_slot *slot = malloc(sizeof(*slot));

	if (slot == NULL)
		return; /* not counted: it cannot be evicted, but it still closes */
	connlimit_open(conns, slot, wsi);
	lws_set_opaque_user_data(wsi, slot);
}

void front_conn_asked(struct conn_limit *conns, struct lws *wsi)
{
	struct conn_slot *slot = lws_get_opaque_user_data(wsi);

	if (slot)
		connlimit_asked(conns, slot);
}

void front_conn_idle(struct conn_limit *conns, struct lws *wsi)
{
	struct conn_slot *slot = lws_get_opaque_user_data(wsi);

	if (slot)
		connlimit_idle(conns, slot);
}

void front_conn_closed(struct conn_limit *conns, struct lws *wsi)
{
	struct conn_slot *slot = lws_get_opaque_user_data(wsi);

	if (slot == NULL)
		return;
	connlimit_close(conns, slot);
	lws_set_opaque_user_data(wsi, NULL);
	free(slot);
}

/* Says no to a connection over the cap: a 503 an HTTP/1.1 client (an AWS
 * SDK among them) retries. What the client already sent is read first, as
 * closing a socket with unread data resets the connection and the answer
 * may be lost. Over TLS nothing can be said before a handshake, and an
 * HTTP/2 client reads the 503 as a protocol error: either way the
 * connection just closes, which a client also retries. */
static void refuse_connection(const struct front *f, int fd)
{
	static const char body[] = "{\"__type\":\"" REFUSED_TYPE "\",\"message\":"
				   "\"The hub holds as many connections as it may; try again.\"}";
	char unread[4096], answer[512];
	int n = snprintf(answer, sizeof(answer),
			 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: %s\r\n"
			 "x-amzn-ErrorType: " REFUSED_TYPE "\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 KINESIS_CONTENT_TYPE, sizeof(body) - 1, body);

	if (f->tls)
		return;
	for (int i = 0; i < 16 && recv(fd, unread, sizeof(unread), MSG_DONTWAIT) > 0; i++)
		;
	if (send(fd, answer, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		shutdown(fd, SHUT_WR);
}

/* Admitted, perhaps in the place of the one that has waited longest
 * without asking anything, or refused. */
static bool admit_connection(struct front *f, int fd)
{
	struct conn_slot *evict;

	if (!connlimit_admit(f->conns, &evict)) {
		log_info("connection refused: %zu open (--max-connections)", f->conns->open);
		refuse_connection(f, fd);
		return false;
	}
	if (evict)
		lws_set_timeout(evict->handle, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	return true;
}

/* ------------------------------------------------------------------ */
/* The listener                                                        */
/* ------------------------------------------------------------------ */

static void resume_accepting(lws_sorted_usec_list_t *sul)
{
	struct front *f = lws_container_of(sul, struct front, resume);

	lws_rx_flow_control(f->listener, 1);
}

static void take_connection(struct front *f, struct lws *listener, int fd)
{
	lws_sock_file_fd_type desc = { .filefd = fd };

	if (!admit_connection(f, fd)) {
		close(fd);
		return;
	}
	sockopt_keepalive(fd, 60, 10, 3);
	/* A raw descriptor of ours until sniffed: lws polls, we read. */
	if (lws_adopt_descriptor_vhost(lws_get_vhost(listener), LWS_ADOPT_RAW_FILE_DESC, desc,
				       FRONT_PROTOCOL_CONN, NULL) == NULL) {
		log_warn("cannot take a new connection in: closing it");
		close(fd);
	}
}

static void accept_connections(struct front *f, struct lws *listener)
{
	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		int fd = accept4(f->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			take_connection(f, listener, fd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		/* Out of descriptors (or worse): the pending connection stays
		 * readable, and without a pause the loop would spin on it. */
		log_warn("cannot accept a connection: %s", strerror(errno));
		lws_rx_flow_control(listener, 0);
		lws_sul_schedule(lws_get_context(listener), 0, &f->resume, resume_accepting,
				 RESUME_ACCEPT_MS * LWS_US_PER_MS);
		return;
	}
}

int front_listener_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			    void *in, size_t len)
{
	(void)user, (void)in, (void)len;
	if (reason == LWS_CALLBACK_RAW_RX_FILE)
		accept_connections(front_of(wsi), wsi);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sniffing, and HTTP/1.1 handed to lws                                 */
/* ------------------------------------------------------------------ */

static void sniff_again(lws_sorted_usec_list_t *sul)
{
	struct front_session *fs = lws_container_of(sul, struct front_session, retry);

	lws_rx_flow_control(fs->wsi, 1);
}

/* The bytes so far tell nothing yet: they stay unread, so the socket stays
 * readable; reading is paused a moment instead of spinning on them. The
 * accept's timeout still bounds the wait. */
static void wait_for_more(struct lws *wsi, struct front_session *fs)
{
	lws_rx_flow_control(wsi, 0);
	lws_sul_schedule(lws_get_context(wsi), 0, &fs->retry, sniff_again,
			 SNIFF_RETRY_MS * LWS_US_PER_MS);
}

/* Gives the socket to lws, which serves HTTP/1.1 and WebSockets on it
 * (over TLS on a TLS port) as if its own listener had accepted it. The raw
 * wsi then closes; lws shuts down the sockets it closes, so its descriptor
 * number is first pointed at /dev/null, and the socket lives on under the
 * duplicate lws was given. */
static int hand_to_lws(struct front *f, struct lws *wsi)
{
	int fd = lws_get_socket_fd(wsi), keep = dup(fd), devnull;
	lws_sock_file_fd_type desc;

	if (keep < 0)
		return -1;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, fd) < 0) {
		if (devnull >= 0)
			close(devnull);
		close(keep);
		return -1;
	}
	close(devnull);
	desc.sockfd = keep;
	/* On failure lws closes keep itself. */
	if (lws_adopt_descriptor_vhost(lws_get_vhost(wsi),
				       LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP |
					       (f->tls ? LWS_ADOPT_ALLOW_SSL : 0),
				       desc, NULL, NULL) == NULL)
		log_warn("cannot hand a connection to libwebsockets: closing it");
	else
		f->routes->counts->http1_connections++;
	return -1;
}

static int start_h2(struct front *f, struct lws *wsi, struct front_session *fs);

static int sniff_connection(struct front *f, struct lws *wsi, struct front_session *fs)
{
	uint8_t peek[SNIFF_MAX];
	ssize_t n = recv(lws_get_socket_fd(wsi), peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);

	if (n == 0)
		return -1;      /* closed before it said anything */
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	switch (f->tls ? sniff_tls(peek, (size_t)n) : sniff_plain(peek, (size_t)n)) {
	case SNIFF_MORE:
		wait_for_more(wsi, fs);
		return 0;
	case SNIFF_H2:
		return start_h2(f, wsi, fs);
	case SNIFF_HTTP1:
	default:
		return hand_to_lws(f, wsi);
	}
}

/* ------------------------------------------------------------------ */
/* HTTP/2: socket and TLS I/O for an h2_conn                           */
/* ------------------------------------------------------------------ */

/* Waits for the socket to take more: no more is read meanwhile. */
static void wait_writable(struct lws *wsi, struct front_session *fs)
{
	fs->paused = true;
	lws_rx_flow_control(wsi, 0);
	lws_callback_on_writable(wsi);
}

/* What SSL wants next, as link_recv / link_send report it: 0 to wait for
 * the socket, -1 when the connection is over. */
static ssize_t tls_wait(struct lws *wsi, struct front_session *fs, int ret)
{
	switch (SSL_get_error(fs->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		wait_writable(wsi, fs);
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return -1;
	default:
		log_debug("HTTP/2 over TLS: %s: closing",
			 ERR_reason_error_string(ERR_peek_last_error()) ?: "connection lost");
		ERR_clear_error();
		return -1;
	}
}

/* Bytes received: > 0, 0 when none now, -1 when the connection is over. */
static ssize_t link_recv(struct lws *wsi, struct front_session *fs, uint8_t *buf, size_t size)
{
	ssize_t n;

	if (fs->ssl) {
		n = SSL_read(fs->ssl, buf, (int)size);
		return n > 0 ? n : tls_wait(wsi, fs, (int)n);
	}
	n = recv(lws_get_socket_fd(wsi), buf, size, MSG_DONTWAIT);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	return -1;
}

/* Bytes sent: > 0, 0 when the socket is full, -1 when it is over. */
static ssize_t link_send(struct lws *wsi, struct front_session *fs, const uint8_t *buf,
			 size_t len)
{
	ssize_t n;

	if (fs->ssl) {
		n = SSL_write(fs->ssl, buf, (int)len);
		return n > 0 ? n : tls_wait(wsi, fs, (int)n);
	}
	n = send(lws_get_socket_fd(wsi), buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		wait_writable(wsi, fs);
		return 0;
	}
	return -1;
}

/* A connection with requests open holds its place and may not stall; one
 * without waits, as a kept-alive HTTP/1.1 connection does. */
static void h2_standing(struct front *f, struct lws *wsi, struct front_session *fs)
{
	if (h2_conn_streams(fs->h2) > 0) {
		front_conn_asked(f->conns, wsi);
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, f->timeouts.stalled_s);
	} else {
		front_conn_idle(f->conns, wsi);
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, f->timeouts.idle_s);
	}
}

static int h2_read(struct front *f, struct lws *wsi, struct front_session *fs);

/* The socket drained: what was held back is read now (over TLS some may
 * already sit decrypted in SSL, where no poll would find it). */
static int h2_resume(struct front *f, struct lws *wsi, struct front_session *fs)
{
	if (!fs->paused)
		return 0;
	fs->paused = false;
	lws_rx_flow_control(wsi, 1);
	return fs->ssl && SSL_pending(fs->ssl) > 0 ? h2_read(f, wsi, fs) : 0;
}

/* Writes what the session has to send. When the socket is full, reading
 * stops too: a client that does not read its answers cannot make the hub
 * hold more of them. */
static int h2_flush(struct front *f, struct lws *wsi, struct front_session *fs)
{
	/* Nothing of the session goes out before the handshake is done. */
	if (fs->ssl && !SSL_is_init_finished(fs->ssl)) {
		int rc = SSL_do_handshake(fs->ssl);
		if (rc != 1)
			return tls_wait(wsi, fs, rc) < 0 ? -1 : 0;
	}
	for (;;) {
		ssize_t n;

		if (fs->out_len == 0)
			fs->out_len = h2_conn_output(fs->h2, &fs->out);
		if (fs->out_len == 0)
			break;
		n = link_send(wsi, fs, fs->out, fs->out_len);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;       /* link_send waits for what the socket needs */
		fs->out += n;
		fs->out_len -= (size_t)n;
	}
	if (h2_conn_done(fs->h2))
		return -1;
	h2_standing(f, wsi, fs);
	return h2_resume(f, wsi, fs);
}

static int h2_read(struct front *f, struct lws *wsi, struct front_session *fs)
{
	uint8_t buf[READ_CHUNK];
	ssize_t n;

	/* Until the socket has nothing more, or the session cannot take more:
	 * over TLS, bytes left in SSL would not wake the poll again. */
	while (!fs->paused && (n = link_recv(wsi, fs, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			/* A client may close its side after its last request: what
			 * is answered by now still goes out, as far as it can. */
			h2_flush(f, wsi, fs);
			return -1;
		}
		if (h2_conn_receive(fs->h2, buf, (size_t)n, clock_wall_ms()) < 0)
			break;  /* the GOAWAY goes out, then the connection closes */
	}
	return h2_flush(f, wsi, fs);
}

static int start_h2(struct front *f, struct lws *wsi, struct front_session *fs)
{
	fs->h2 = h2_conn_new(f->routes);
	if (fs->h2 == NULL)
		return -1;
	f->routes->counts->h2_connections++;
	lws_dll2_add_head(&fs->list, &f->h2_sessions);
	log_debug("an HTTP/2 connection (%s)", f->tls ? "TLS, ALPN h2" : "h2c");
	if (f->tls) {
		fs->ssl = SSL_new(f->h2_tls);
		if (fs->ssl == NULL || SSL_set_fd(fs->ssl, lws_get_socket_fd(wsi)) != 1)
			return -1;
		SSL_set_accept_state(fs->ssl);
	}
	sockopt_no_delay(lws_get_socket_fd(wsi));
	return h2_read(f, wsi, fs);
}

static void session_close(struct front_session *fs)
{
	lws_sul_cancel(&fs->retry);
	lws_dll2_remove(&fs->list);     /* nothing when it never spoke HTTP/2 */
	h2_conn_free(fs->h2);
	fs->h2 = NULL;
	SSL_free(fs->ssl);
	fs->ssl = NULL;
}

int front_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			size_t len)
{
	struct front_session *fs = user;
	struct front *f;

	(void)in, (void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT_FILE:
		f = front_of(wsi);
		memset(fs, 0, sizeof(*fs));
		fs->wsi = wsi;
		front_conn_opened(f->conns, wsi);
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, f->timeouts.header_s);
		return 0;
	case LWS_CALLBACK_RAW_RX_FILE:
		f = front_of(wsi);
		return fs->h2 ? h2_read(f, wsi, fs) : sniff_connection(f, wsi, fs);
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (fs->h2 == NULL)
			return 0;
		/* Subscriptions pull what came due since they last waited. */
		h2_conn_wake(fs->h2, clock_wall_ms());
		return h2_flush(front_of(wsi), wsi, fs);
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		session_close(fs);
		return 0;
	default:
		return 0;
	}
}

void front_wake(struct front *f)
{
	for (struct lws_dll2 *d = lws_dll2_get_head(&f->h2_sessions); d; d = d->next) {
		struct front_session *fs = lws_container_of(d, struct front_session, list);

		if (h2_conn_subscriptions(fs->h2) > 0)
			lws_callback_on_writable(fs->wsi);
	}
}

/* ------------------------------------------------------------------ */
/* Starting                                                            */
/* ------------------------------------------------------------------ */

/* What a person can do about a port that cannot be had. */
static const char *bind_hint(int error)
{
	switch (error) {
	case EADDRINUSE: return " (another program listens there: --listen another port)";
	case EADDRNOTAVAIL: return " (not an address of this machine: try 127.0.0.1 or 0.0.0.0)";
	case EACCES: return " (ports below 1024 need privileges: --listen a higher port)";
	default: return "";
	}
}

static int bind_listener(const char *host, int port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE }, *res;
	char service[16], address[256];
	int fd, one = 1, rc;

	snprintf(service, sizeof(service), "%d", port);
	endpoint_address(host, address, sizeof(address));
	rc = getaddrinfo(address, service, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s%s", host, port, strerror(errno),
			 bind_hint(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int front_listen(struct front *f, const char *host, int port, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);

	f->listen_fd = bind_listener(host, port, err, errlen);
	if (f->listen_fd < 0)
		return -1;
	f->port = port;
	if (getsockname(f->listen_fd, (struct sockaddr *)&addr, &len) == 0)
		f->port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
							   : ((struct sockaddr_in *)&addr)->sin_port);
	return 0;
}

int front_port(const struct front *f)
{
	return f->port;
}

/* Both protocols find f through their per-vhost data. */
static int attach(struct lws_vhost *vhost, const char *protocol, struct front *f)
{
	const struct lws_protocols *p = lws_vhost_name_to_protocol(vhost, protocol);
	struct front **slot = p ? lws_protocol_vh_priv_zalloc(vhost, p, sizeof(*slot)) : NULL;

	if (slot == NULL)
		return -1;
	*slot = f;
	return 0;
}

int front_start(struct front *f, struct lws_context *context)
{
	struct lws_vhost *vhost = lws_get_vhost_by_name(context, "default");
	lws_sock_file_fd_type desc = { .filefd = f->listen_fd };

	if (vhost == NULL || attach(vhost, FRONT_PROTOCOL_LISTENER, f) < 0 ||
	    attach(vhost, FRONT_PROTOCOL_CONN, f) < 0)
		return -1;
	f->listener = lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, desc,
						 FRONT_PROTOCOL_LISTENER, NULL);
	return f->listener ? 0 : -1;
}

void front_release(struct front *f)
{
	/* Once adopted, lws closed it with its context. */
	if (f->listen_fd >= 0 && f->listener == NULL)
		close(f->listen_fd);
	f->listen_fd = -1;
	SSL_CTX_free(f->h2_tls);
	f->h2_tls = NULL;
}
