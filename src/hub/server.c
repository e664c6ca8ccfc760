#include "config.h"
#include "hub/server.h"

#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "hub/auth.h"
#include "hub/connlimit.h"
#include "hub/front.h"
#include "hub/h2tls.h"
#include "hub/hub.h"
#include "hub/metrics.h"
#include "hub/push.h"
#include "hub/routes.h"
#include "hub/subscribe.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/sockopt.h"
#include "util/strbuf.h"
#include "util/utf8.h"
#include "wire/eventstream.h"
#include "wire/protocol.h"

#define TICK_MS 100
#define SERVER_DEFAULT_MAX_BODY ROUTES_MAX_BODY_DEFAULT
#define SERVER_DEFAULT_MAX_CONNECTIONS 1024
#define HTTP_CHUNK 65536
/* Room before a streamed message for its chunk-size line: up to 8 hex
 * digits (a message is at most 16 MiB and some) and CRLF. */
#define CHUNK_SIZE_LINE 10
#define REFUSED_CLOSE_SECONDS 5   /* for a refused client's close to answer the hub's */
/* Bounds on connections that hold a place without asking anything: the
 * request line and headers must arrive within HEADER_SECONDS of the
 * connection (or of the previous answer: KEEPALIVE_SECONDS), a body within
 * BODY_SECONDS of its headers however it trickles in, and a push
 * connection's first subscription (or the next, after its last ended)
 * within SUBSCRIBE_SECONDS. */
#define HEADER_SECONDS 10
#define KEEPALIVE_SECONDS 5
#define BODY_SECONDS 30
#define SUBSCRIBE_SECONDS 30
/* An HTTP/2 client keeps its one connection for all its calls: idle, it
 * waits longer than a kept-alive HTTP/1.1 one (and is evicted first at the
 * cap all the same); with requests open, bytes must keep moving. */
#define H2_IDLE_SECONDS 60
#define H2_STALLED_SECONDS 30
#define FDS_BESIDES_CONNECTIONS 64  /* listener, data files, logs, lws's own */
/* A close frame, written by hand: lws-write.h keeps value 4 out of its
 * public enum (it is lws's own, for lws_close_reason) but in its ABI. */
#define WS_WRITE_CLOSE ((enum lws_write_protocol)4)

struct http_session;

struct server {
	struct hub *hub;
	struct push push;
	struct http_session *streams;   /* connections streaming a SubscribeToShard answer */
	struct conn_limit conns;
	struct http_counts counts;
	struct routes routes;
	struct front front;
	struct server_config config;
	struct lws_context *context;
	lws_sorted_usec_list_t tick;
	int64_t last_expire_ms;
	volatile sig_atomic_t stopping;
	int port;
};

/* One HTTP exchange: the body coming in, then the reply going out. */
struct http_session {
	struct strbuf body;
	size_t expected;
	int64_t headers_ms;             /* when the request's headers were in */
	char target[128];
	char body_type[64];             /* the request's Content-Type: JSON or CBOR */
	int status;
	const char *content_type;
	const char *error_type;         /* an error answer's, for x-amzn-ErrorType */
	char *reply;
	size_t reply_len, sent;
	bool headers_sent;
	bool close_after;
	struct strbuf signed_headers;   /* "name\0value\0" pairs, read before the body */
	struct route_cors cors;         /* a browser page's request: Access-Control-* */
	/* A SubscribeToShard answer: an event stream in HTTP/1.1 chunks. */
	bool streaming;
	struct subscribe_session sub;
	struct strbuf chunk;            /* the one message being written, as a chunk */
	size_t chunk_sent;              /* from here on it is still to write */
	struct lws *wsi;
	struct http_session *next_stream, **prev_stream;
};

struct push_session {
	struct push_conn conn;
	struct strbuf in;               /* a message arriving in fragments */
	struct strbuf out;              /* the one event being written */
	enum lws_close_status refused;  /* the close code owed for a refused message, or 0 */
	const char *refused_why;
	bool close_sent;                /* the close frame went out: the next is the client's */
	bool holding;                   /* it holds a subscription: its place is taken */
};

static struct server *server_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

static const struct lws_protocols protocols[];

/* Every subscriber may have an event due: the WebSocket push connections
 * and the SubscribeToShard streams, over HTTP/1.1 and over HTTP/2. */
static void wake_push(struct server *server)
{
	lws_callback_on_writable_all_protocol(server->context, &protocols[1]);
	for (struct http_session *h = server->streams; h; h = h->next_stream)
		lws_callback_on_writable(h->wsi);
	front_wake(&server->front);
}

/* The owner's work (a mirror's records, which wake the subscriptions at
 * once), on every tick and at server_wake. */
static void owner_work(struct server *server, int64_t now)
{
	if (server->config.on_tick)
		server->config.on_tick(server->config.tick_user, now);
	if (server->push.all)
		wake_push(server);
}

/* ------------------------------------------------------------------ */
/* Request headers, for signature checks                               */
/* ------------------------------------------------------------------ */

/* Headers lws parses itself; every other one is a "custom" header. */
static const struct {
	const char *name;
	enum lws_token_indexes token;
} known_headers[] = {
	{ "host", WSI_TOKEN_HOST },
	{ "content-type", WSI_TOKEN_HTTP_CONTENT_TYPE },
	{ "content-length", WSI_TOKEN_HTTP_CONTENT_LENGTH },
	{ "authorization", WSI_TOKEN_HTTP_AUTHORIZATION },
	{ "user-agent", WSI_TOKEN_HTTP_USER_AGENT },
	{ "accept", WSI_TOKEN_HTTP_ACCEPT },
	{ "accept-encoding", WSI_TOKEN_HTTP_ACCEPT_ENCODING },
	{ "connection", WSI_TOKEN_CONNECTION },
	{ "upgrade", WSI_TOKEN_UPGRADE },
	{ "origin", WSI_TOKEN_ORIGIN },
	{ "access-control-request-headers", WSI_TOKEN_HTTP_AC_REQUEST_HEADERS },
	{ "sec-websocket-key", WSI_TOKEN_KEY },
	{ "sec-websocket-version", WSI_TOKEN_VERSION },
	{ "sec-websocket-protocol", WSI_TOKEN_PROTOCOL },
	{ "sec-websocket-extensions", WSI_TOKEN_EXTENSIONS },
};

static int read_header(struct lws *wsi, const char *name, char *out, size_t size)
{
	char custom[80];
	int n;

	for (size_t i = 0; i < sizeof(known_headers) / sizeof(known_headers[0]); i++)
		if (strcmp(known_headers[i].name, name) == 0)
			return lws_hdr_total_length(wsi, known_headers[i].token) > 0
				       ? lws_hdr_copy(wsi, out, (int)size, known_headers[i].token)
				       : -1;
	snprintf(custom, sizeof(custom), "%s:", name);
	n = lws_hdr_custom_length(wsi, custom, (int)strlen(custom));
	if (n < 0 || (size_t)n >= size)
		return -1;
	return lws_hdr_custom_copy(wsi, out, (int)size, custom, (int)strlen(custom));
}

static int wsi_header(void *user, const char *name, char *out, size_t size)
{
	return read_header(user, name, out, size);
}

/* Keeps what a signature check of this request needs: the body comes
 * later, and lws may let go of the headers by then. */
static void capture_signed_headers(struct lws *wsi, struct strbuf *sb)
{
	char auth[2048], names[512], value[2048], *save = NULL, *name;

	if (read_header(wsi, "authorization", auth, sizeof(auth)) < 0)
		return;
	routes_keep_header(sb, "authorization", 13, auth, strlen(auth));
	if (read_header(wsi, "x-amz-date", value, sizeof(value)) >= 0)
		routes_keep_header(sb, "x-amz-date", 10, value, strlen(value));
	if (auth_signed_headers(auth, names, sizeof(names)) < 0)
		return;
	for (name = strtok_r(names, ";", &save); name; name = strtok_r(NULL, ";", &save))
		if (read_header(wsi, name, value, sizeof(value)) >= 0)
			routes_keep_header(sb, name, strlen(name), value, strlen(value));
}

/* Every connection counts in the cap (front.h), whatever serves it. */
static void connection_asked(struct lws *wsi)
{
	front_conn_asked(&server_of(wsi)->conns, wsi);
}

static void connection_idle(struct lws *wsi)
{
	front_conn_idle(&server_of(wsi)->conns, wsi);
}

/* ------------------------------------------------------------------ */
/* HTTP: the Kinesis API, /metrics and /healthz                         */
/* ------------------------------------------------------------------ */

static void reply(struct lws *wsi, struct http_session *h, const struct route_answer *a)
{
	h->status = a->status;
	h->content_type = a->content_type;
	h->error_type = a->error;
	h->reply = a->body;
	h->reply_len = a->len;
	h->sent = 0;
	h->headers_sent = false;
	lws_callback_on_writable(wsi);
}

/* An error in the request's encoding, as the API's own are. */
static void reply_error(struct lws *wsi, struct http_session *h, int status, const char *type,
			const char *message)
{
	struct route_answer a;

	routes_error(&a, h->body_type, status, type, message);
	reply(wsi, h, &a);
}

static void begin_stream(struct lws *wsi, struct http_session *h);

static void answer_api(struct lws *wsi, struct http_session *h)
{
	struct server *server = server_of(wsi);
	const char *body = h->body.data ? h->body.data : "";
	struct route_answer a;

	/* A request refused for its signature asked nothing: it keeps waiting. */
	if (strcmp(h->target, SUBSCRIBE_TARGET) == 0) {
		if (routes_check_signature(&server->routes, h->body_type, routes_header,
					   &h->signed_headers, body, h->body.len, clock_wall_ms(),
					   &a) == 0) {
			connection_asked(wsi);
			begin_stream(wsi, h);
			return;
		}
	} else if (routes_api(&server->routes, h->target[0] ? h->target : NULL, h->body_type,
			      routes_header, &h->signed_headers, body, h->body.len, clock_wall_ms(),
			      &a) == 0) {
		connection_asked(wsi);
	}
	strbuf_free(&h->body);
	reply(wsi, h, &a);
}

/* The method lws found: it keeps the path under the method's token. */
static const char *request_method(struct lws *wsi)
{
	static const struct {
		enum lws_token_indexes token;
		const char *name;
	} methods[] = {
		{ WSI_TOKEN_GET_URI, "GET" },         { WSI_TOKEN_POST_URI, "POST" },
		{ WSI_TOKEN_OPTIONS_URI, "OPTIONS" }, { WSI_TOKEN_PUT_URI, "PUT" },
		{ WSI_TOKEN_PATCH_URI, "PATCH" },     { WSI_TOKEN_DELETE_URI, "DELETE" },
		{ WSI_TOKEN_HEAD_URI, "HEAD" },
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (lws_hdr_total_length(wsi, methods[i].token) > 0)
			return methods[i].name;
	return "";
}

/* Answers at once what is not an API call: there is no body to wait for.
 * A 403 to a request with a body, and a 404 to a method or path that is
 * not ours, close the connection so that an unread body never reaches
 * another request. */
static void answer_other(struct lws *wsi, struct http_session *h, enum route_kind kind,
			 const char *uri)
{
	struct route_answer a;

	if (kind == ROUTE_GET)
		connection_asked(wsi);
	h->close_after = kind == ROUTE_NOT_API ||
			 (kind == ROUTE_DENIED &&
			  lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0);
	routes_answer(&server_of(wsi)->routes, kind, uri, h->body_type, clock_wall_ms(), &a);
	reply(wsi, h, &a);
}

static void begin_request(struct lws *wsi, struct http_session *h, const char *uri)
{
	struct server *server = server_of(wsi);
	char length[32] = "";
	enum route_kind kind;
	int target_len;

	memset(h, 0, sizeof(*h));
	h->headers_ms = clock_wall_ms();
	/* Even a request refused before the API runs is answered in its
	 * body's encoding. */
	if (read_header(wsi, "content-type", h->body_type, sizeof(h->body_type)) < 0)
		h->body_type[0] = '\0';
	h->cors.origin = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;
	kind = routes_classify(request_method(wsi), uri, &h->cors, wsi_header, wsi);
	if (kind != ROUTE_API) {
		answer_other(wsi, h, kind, uri);
		return;
	}
	if (server->config.auth)
		capture_signed_headers(wsi, &h->signed_headers);
	target_len = lws_hdr_custom_length(wsi, "x-amz-target:", 13);
	if (target_len > 0 && target_len < (int)sizeof(h->target))
		lws_hdr_custom_copy(wsi, h->target, sizeof(h->target), "x-amz-target:", 13);
	if (lws_hdr_copy(wsi, length, sizeof(length), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
		h->close_after = true;
		reply_error(wsi, h, 411, "SerializationException",
			    "A Content-Length header is required.");
		return;
	}
	h->expected = strtoull(length, NULL, 10);
	if (h->expected > server->config.max_body) {
		/* Refused before any of it is buffered; the connection closes
		 * so the unread body never reaches another request. */
		struct route_answer a;

		h->close_after = true;
		routes_too_large(&a, h->body_type);
		reply(wsi, h, &a);
		return;
	}
	if (h->expected == 0)
		answer_api(wsi, h);
}

/* The Access-Control-* headers of an answer to a browser page (routes.h). */
static int add_cors_headers(struct lws *wsi, struct http_session *h, unsigned char **p,
			    unsigned char *end)
{
	struct route_header cors[ROUTES_CORS_MAX];
	size_t n = routes_cors_headers(&h->cors, cors);
	char name[64];

	for (size_t i = 0; i < n; i++) {
		/* lws writes an HTTP/1.1 header's name as given, colon and all. */
		snprintf(name, sizeof(name), "%s:", cors[i].name);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
						(const unsigned char *)cors[i].value,
						(int)strlen(cors[i].value), p, end))
			return -1;
	}
	return 0;
}

/* AWS names an error's type in a header as well as in the body. */
static int add_error_type(struct lws *wsi, struct http_session *h, unsigned char **p,
			  unsigned char *end)
{
	if (h->error_type == NULL)
		return 0;
	return lws_add_http_header_by_name(wsi, (const unsigned char *)"x-amzn-ErrorType:",
					   (const unsigned char *)h->error_type,
					   (int)strlen(h->error_type), p, end);
}

/* An answer is out: the connection closes, or waits for the next request. */
static int answered(struct lws *wsi, struct http_session *h)
{
	if (h->close_after || lws_http_transaction_completed(wsi))
		return -1;
	/* Kept alive, it holds a place for nothing until it asks again. */
	connection_idle(wsi);
	return 0;
}

static int write_reply(struct lws *wsi, struct http_session *h)
{
	unsigned char buf[LWS_PRE + 1024];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	size_t chunk;
	enum lws_write_protocol mode;

	if (!h->headers_sent) {
		if (lws_add_http_common_headers(wsi, (unsigned)h->status, h->content_type,
						h->reply_len, &p, end) ||
		    add_cors_headers(wsi, h, &p, end) || add_error_type(wsi, h, &p, end) ||
		    (h->close_after &&
		     lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
						  (const unsigned char *)"close", 5, &p, end)) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		h->headers_sent = true;
		if (h->reply_len > 0) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	chunk = h->reply_len - h->sent;
	if (chunk > HTTP_CHUNK)
		chunk = HTTP_CHUNK;
	mode = h->sent + chunk == h->reply_len ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP;
	if (chunk > 0) {
		/* lws needs LWS_PRE bytes of headroom before what it writes. */
		unsigned char *out = malloc(LWS_PRE + chunk);
		if (out == NULL)
			return -1;
		memcpy(out + LWS_PRE, h->reply + h->sent, chunk);
		int n = lws_write(wsi, out + LWS_PRE, chunk, mode);
		free(out);
		if (n < (int)chunk)
			return -1;
		h->sent += chunk;
	}
	if (h->sent < h->reply_len) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	free(h->reply);
	h->reply = NULL;
	return answered(wsi, h);
}

/* ------------------------------------------------------------------ */
/* SubscribeToShard: an event stream in HTTP/1.1 chunks                 */
/* ------------------------------------------------------------------ */

/* The stream's messages come from a subscribe session (subscribe.h), one
 * at a time and only when lws says the socket can take more: a client
 * that stops reading holds the one message being written, and its
 * subscription's cursor waits. */

static void stream_close(struct server *server, struct http_session *h)
{
	if (!h->streaming)
		return;
	h->streaming = false;
	*h->prev_stream = h->next_stream;
	if (h->next_stream)
		h->next_stream->prev_stream = h->prev_stream;
	subscribe_close(&server->push, &h->sub);
	strbuf_free(&h->chunk);
}

/* Answers SubscribeToShard: a stream, or an error as any API call gets
 * (AWS refuses before the stream starts). */
static void begin_stream(struct lws *wsi, struct http_session *h)
{
	struct server *server = server_of(wsi);
	struct subscribe_refusal refusal;
	int started = subscribe_start(&server->push, &h->sub, h->body_type,
				      h->body.data ? h->body.data : "", h->body.len, clock_wall_ms(),
				      &refusal);

	strbuf_free(&h->body);
	if (started < 0) {
		subscribe_close(&server->push, &h->sub);
		reply_error(wsi, h, refusal.status, refusal.type, refusal.message);
		return;
	}
	h->streaming = true;
	h->wsi = wsi;
	h->next_stream = server->streams;
	if (server->streams)
		server->streams->prev_stream = &h->next_stream;
	h->prev_stream = &server->streams;
	server->streams = h;
	lws_callback_on_writable(wsi);
	/* A takeover may have queued an exception on another connection. */
	wake_push(server);
}

/* The event stream's headers: a page's subscription gets the CORS headers
 * every other answer gets. */
static int write_stream_headers(struct lws *wsi, struct http_session *h)
{
	unsigned char buf[LWS_PRE + 1024];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;

	if (lws_add_http_header_status(wsi, HTTP_STATUS_OK, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)EVENTSTREAM_CONTENT_TYPE,
					 (int)strlen(EVENTSTREAM_CONTENT_TYPE), &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING,
					 (const unsigned char *)"chunked", 7, &p, end) ||
	    add_cors_headers(wsi, h, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	/* Lives as long as the subscription: no idle timeout, and the request's
	 * headers, all read, are let go (lws drops a connection that holds them
	 * for minutes). */
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	lws_http_headers_detach(wsi);
	return 0;
}

/* Pulls the next message into h->chunk, framed as an HTTP chunk. It is
 * built after LWS_PRE and CHUNK_SIZE_LINE bytes of room, and the size
 * line goes right before it: nothing is copied. */
static enum subscribe_step next_chunk(struct server *server, struct http_session *h)
{
	static const char room[LWS_PRE + CHUNK_SIZE_LINE];
	char line[CHUNK_SIZE_LINE + 1];
	enum subscribe_step step;
	int n;

	strbuf_reset(&h->chunk);
	strbuf_append(&h->chunk, room, sizeof(room));
	h->chunk_sent = h->chunk.len;   /* nothing to write unless a message comes */
	step = subscribe_next(&server->push, &h->sub, clock_wall_ms(), &h->chunk);
	if (step != SUBSCRIBE_MESSAGE || h->chunk.failed)
		return step;
	n = snprintf(line, sizeof(line), "%zx\r\n", h->chunk.len - sizeof(room));
	memcpy(h->chunk.data + sizeof(room) - n, line, (size_t)n);
	h->chunk_sent = sizeof(room) - (size_t)n;
	strbuf_lit(&h->chunk, "\r\n");
	return step;
}

/* Writes the next piece of the chunk in place: the LWS_PRE bytes lws may
 * use before it are room or already sent. */
static int write_chunk_piece(struct lws *wsi, struct http_session *h)
{
	size_t n = h->chunk.len - h->chunk_sent;

	if (n > HTTP_CHUNK)
		n = HTTP_CHUNK;
	if (lws_write(wsi, (unsigned char *)h->chunk.data + h->chunk_sent, n, LWS_WRITE_HTTP) <
	    (int)n)
		return -1;
	h->chunk_sent += n;
	/* The rest of it, or the next message once it has drained. */
	lws_callback_on_writable(wsi);
	return 0;
}

static int end_stream(struct lws *wsi, struct http_session *h)
{
	unsigned char last[LWS_PRE + 5];

	stream_close(server_of(wsi), h);
	memcpy(last + LWS_PRE, "0\r\n\r\n", 5);
	if (lws_write(wsi, last + LWS_PRE, 5, LWS_WRITE_HTTP_FINAL) < 5)
		return -1;
	return answered(wsi, h);
}

static int write_stream(struct lws *wsi, struct http_session *h)
{
	if (!h->headers_sent) {
		h->headers_sent = true;
		lws_callback_on_writable(wsi);
		return write_stream_headers(wsi, h);
	}
	if (h->chunk_sent < h->chunk.len)
		return write_chunk_piece(wsi, h);
	switch (next_chunk(server_of(wsi), h)) {
	case SUBSCRIBE_WAIT:
		return 0;
	case SUBSCRIBE_END:
		return end_stream(wsi, h);
	default:
		return h->chunk.failed ? -1 : write_chunk_piece(wsi, h);
	}
}

static void session_free(struct lws *wsi, struct http_session *h)
{
	stream_close(server_of(wsi), h);
	strbuf_free(&h->body);
	strbuf_free(&h->signed_headers);
	free(h->reply);
	h->reply = NULL;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct http_session *h = user;
	struct server *server;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* server_wake (or server_stop): the owner's work, now. */
		owner_work(server_of(wsi), clock_wall_ms());
		return 0;
	case LWS_CALLBACK_HTTP:
		sockopt_no_delay(lws_get_socket_fd(wsi));
		begin_request(wsi, h, in);
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		server = server_of(wsi);
		/* A request already refused is answered; its body is not read. */
		if (h->reply)
			return 0;
		if (h->body.len + len > h->expected || h->body.len + len > server->config.max_body)
			return -1;
		/* lws restarts its timeout at every piece: a body sent a byte at
		 * a time would hold the connection for ever. */
		if (clock_wall_ms() - h->headers_ms > BODY_SECONDS * 1000) {
			log_info("a request body still incomplete after %d s: closing", BODY_SECONDS);
			return -1;
		}
		strbuf_append(&h->body, in, len);
		return h->body.failed ? -1 : 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (h->reply == NULL && !h->headers_sent)
			answer_api(wsi, h);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (h->streaming)
			return write_stream(wsi, h);
		if (h->reply == NULL && !h->headers_sent && h->status == 0)
			return 0;
		return write_reply(wsi, h);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* A WebSocket upgrade without our subprotocol lands here. */
		return -1;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (h)
			session_free(wsi, h);
		return 0;
	/* A connection the front door handed over (admitted there). */
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		front_conn_opened(&server_of(wsi)->conns, wsi);
		return 0;
	/* Every wsi passes here (lws tells the vhost's first protocol),
	 * whatever protocol served it. */
	case LWS_CALLBACK_WSI_DESTROY:
		front_conn_closed(&server_of(wsi)->conns, wsi);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ------------------------------------------------------------------ */
/* WebSocket push                                                      */
/* ------------------------------------------------------------------ */

/* Refuses a client's message with a WebSocket close code (RFC 6455
 * 7.4.1). The hub writes the close frame itself and reads on, discarding,
 * until the client's close answers it: lws's own closing handshake drops
 * a connection that receives data frames meanwhile, or that fails in the
 * receive callback, without the close frame, and closing a socket with
 * unread data resets it; either way the client would see 1006 instead of
 * the code. A client that does not answer is cut off after the timeout. */
static void refuse_message(struct lws *wsi, struct push_session *ps, enum lws_close_status code,
			   const char *why)
{
	if (ps->refused)
		return;
	ps->refused = code;
	ps->refused_why = why;
	strbuf_free(&ps->in);
	push_conn_close(&server_of(wsi)->push, &ps->conn);
	lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, REFUSED_CLOSE_SECONDS);
	lws_callback_on_writable(wsi);
}

static int write_close(struct lws *wsi, struct push_session *ps)
{
	unsigned char frame[LWS_PRE + 125];
	unsigned char *p = frame + LWS_PRE;
	size_t len = strlen(ps->refused_why);

	if (len > 123)
		len = 123;
	p[0] = (unsigned char)(ps->refused >> 8);
	p[1] = (unsigned char)(ps->refused & 0xff);
	memcpy(p + 2, ps->refused_why, len);
	ps->close_sent = true;
	return lws_write(wsi, p, len + 2, WS_WRITE_CLOSE) < (int)len + 2 ? -1 : 0;
}

/* A push connection holds its place while it has a subscription. Without
 * one (none yet, or its last ended: refused, expired, taken over, shard
 * ended) it waits as an HTTP connection between requests does: the first
 * to be evicted at the cap, and closed unless it subscribes within
 * SUBSCRIBE_SECONDS. Messages alone do not hold a place, or a flood
 * of connections sending junk would. */
static void update_standing(struct lws *wsi, struct push_session *ps)
{
	bool holding = ps->conn.sub_count > 0;

	if (holding == ps->holding || ps->refused)      /* a refusal times its own close */
		return;
	ps->holding = holding;
	if (holding) {
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		connection_asked(wsi);
	} else {
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, SUBSCRIBE_SECONDS);
		connection_idle(wsi);
	}
}

/* Keeps one piece of a client's message; a whole message goes to push. */
static void take_piece(struct lws *wsi, struct push_session *ps, const void *in, size_t len,
		       bool last)
{
	struct server *server = server_of(wsi);

	if (lws_frame_is_binary(wsi)) {
		refuse_message(wsi, ps, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
			       "messages are JSON text frames");
		return;
	}
	if (ps->in.len + len > PUSH_MESSAGE_MAX) {
		refuse_message(wsi, ps, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
		return;
	}
	strbuf_append(&ps->in, in, len);
	if (ps->in.failed) {
		refuse_message(wsi, ps, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return;
	}
	if (!last)
		return;
	/* A character may straddle fragments: only the whole message is checked. */
	if (!utf8_valid(ps->in.data, ps->in.len)) {
		refuse_message(wsi, ps, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "text is not UTF-8");
		return;
	}
	push_receive(&server->push, &ps->conn, ps->in.data, ps->in.len, clock_wall_ms());
	strbuf_reset(&ps->in);
	update_standing(wsi, ps);
	/* A takeover may have queued an event on another connection. */
	wake_push(server);
}

static void receive_piece(struct lws *wsi, struct push_session *ps, const void *in, size_t len)
{
	if (!ps->refused)       /* after a refusal everything is discarded */
		take_piece(wsi, ps, in, len,
			   lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0);
}

static int write_event(struct lws *wsi, struct push_session *ps)
{
	struct server *server = server_of(wsi);
	static const unsigned char headroom[LWS_PRE];

	if (ps->conn.overflowed)
		refuse_message(wsi, ps, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many answers unread");
	if (ps->refused)
		return ps->close_sent ? 0 : write_close(wsi, ps);
	strbuf_reset(&ps->out);
	strbuf_append(&ps->out, headroom, LWS_PRE);
	bool due = push_next_event(&server->push, &ps->conn, clock_wall_ms(), &ps->out);
	update_standing(wsi, ps);
	if (!due)
		return 0;
	if (ps->out.failed)
		return -1;
	size_t n = ps->out.len - LWS_PRE;
	if (lws_write(wsi, (unsigned char *)ps->out.data + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
		return -1;
	/* There may be more due: ask again once this event has drained. */
	lws_callback_on_writable(wsi);
	return 0;
}

static int push_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct push_session *ps = user;
	struct server *server = wsi ? server_of(wsi) : NULL;
	char uri[64] = "";

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
		if (strcmp(uri, PUSH_PATH) != 0)
			return -1;
		if (server->config.auth) {
			/* The upgrade request carries the same signature as an API call. */
			char message[256];
			const char *denied = auth_check(server->config.auth, "GET", PUSH_PATH,
							wsi_header, wsi, "", 0, clock_wall_ms(),
							message, sizeof(message));
			if (denied) {
				log_info("push connection refused: %s: %s", denied, message);
				return -1;
			}
		}
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		sockopt_no_delay(lws_get_socket_fd(wsi));
		memset(ps, 0, sizeof(*ps));
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, SUBSCRIBE_SECONDS);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		receive_piece(wsi, ps, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return write_event(wsi, ps);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* After the hub's close the client's ends the connection; else
		 * lws answers the client's close. */
		return ps->close_sent ? -1 : 0;
	case LWS_CALLBACK_CLOSED:
		push_conn_close(&server->push, &ps->conn);
		strbuf_free(&ps->in);
		strbuf_free(&ps->out);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{ "http", http_callback, sizeof(struct http_session), 0, 0, NULL, 0 },
	{ PUSH_SUBPROTOCOL, push_callback, sizeof(struct push_session), 4096, 0, NULL, 0 },
	FRONT_PROTOCOLS,
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* ------------------------------------------------------------------ */
/* The loop                                                            */
/* ------------------------------------------------------------------ */

/* Every tick: the owner's work (a mirror's records, which wake the
 * subscriptions at once), heartbeats and rate-limited events become due,
 * and about once a second retention is applied. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct server *server = lws_container_of(sul, struct server, tick);
	int64_t now = clock_wall_ms();

	owner_work(server, now);
	if (now - server->last_expire_ms >= 1000) {
		hub_expire(server->hub, now);
		server->last_expire_ms = now;
	}
	lws_sul_schedule(server->context, 0, &server->tick, on_tick, TICK_MS * LWS_US_PER_MS);
}

/* Each connection takes a file descriptor: the soft limit is raised
 * towards the hard one when the cap needs it, or the cap could not be
 * reached (accept fails with EMFILE first). */
static void make_room_for_connections(size_t connections)
{
	rlim_t want = (rlim_t)connections + FDS_BESIDES_CONNECTIONS;
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) < 0 || lim.rlim_cur >= want)
		return;
	lim.rlim_cur = lim.rlim_max == RLIM_INFINITY || lim.rlim_max > want ? want : lim.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &lim) < 0 || lim.rlim_cur < want)
		log_warn("only %llu file descriptors for --max-connections %zu: connections past "
			 "about %llu will fail (raise ulimit -n)",
			 (unsigned long long)lim.rlim_cur, connections,
			 (unsigned long long)(lim.rlim_cur > FDS_BESIDES_CONNECTIONS
						      ? lim.rlim_cur - FDS_BESIDES_CONNECTIONS : 0));
}

void server_config_defaults(struct server_config *config)
{
	*config = (struct server_config){ .max_body = SERVER_DEFAULT_MAX_BODY,
					  .max_connections = SERVER_DEFAULT_MAX_CONNECTIONS };
	server_config_listen(config, HUB_DEFAULT_ADDRESS);
}

int server_config_listen(struct server_config *config, const char *text)
{
	const char *colon = strrchr(text, ':');
	char *end;
	long port;

	if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof(config->host))
		return -1;
	/* An IPv6 address goes in brackets, as in a URL: [::1]:4999. */
	if (memchr(text, ':', (size_t)(colon - text)) &&
	    (text[0] != '[' || colon[-1] != ']' || colon - text < 3))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	memcpy(config->host, text, (size_t)(colon - text));
	config->host[colon - text] = '\0';
	config->port = (int)port;
	return 0;
}

static void wake_subscribers(void *user)
{
	wake_push(user);
}

static struct server *server_new(struct hub *hub, const struct server_config *config)
{
	struct server *server = calloc(1, sizeof(*server));

	if (server == NULL)
		return NULL;
	server->hub = hub;
	server->config = *config;
	push_init(&server->push, hub);
	connlimit_init(&server->conns, config->max_connections);
	server->routes = (struct routes){ .hub = hub, .push = &server->push,
					  .conns = &server->conns, .counts = &server->counts,
					  .auth = config->auth,
					  .max_body = config->max_body,
					  .wake = wake_subscribers, .user = server };
	server->front = (struct front){ .routes = &server->routes, .conns = &server->conns,
					.tls = config->tls_cert != NULL, .listen_fd = -1,
					.timeouts = { HEADER_SECONDS, H2_IDLE_SECONDS,
						      H2_STALLED_SECONDS } };
	return server;
}

/* The one port, and TLS for its HTTP/2 connections. */
static int open_front(struct server *server, char *err, size_t errlen)
{
	const struct server_config *config = &server->config;

	if (config->tls_cert) {
		server->front.h2_tls = h2tls_ctx_new(config->tls_cert, config->tls_key, err, errlen);
		if (server->front.h2_tls == NULL)
			return -1;
	}
	return front_listen(&server->front, config->host, config->port, err, errlen);
}

/* lws serves what the front door hands it: it listens on nothing itself. */
static struct lws_context *create_context(struct server *server)
{
	const struct server_config *config = &server->config;
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.user = server;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	if (config->tls_cert) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = config->tls_cert;
		info.ssl_private_key_filepath = config->tls_key;
		/* A client offering h2 never reaches lws (front.h), and lws's
		 * own HTTP/2 could not read X-Amz-Target anyway. */
		info.alpn = "http/1.1";
	}
	info.pt_serv_buf_size = 64 * 1024;
	info.timeout_secs = 30;
	info.timeout_secs_ah_idle = HEADER_SECONDS;
	info.keepalive_timeout = KEEPALIVE_SECONDS;
	info.max_http_header_data = 8192;
	return lws_create_context(&info);
}

struct server *server_start(struct hub *hub, const struct server_config *config, char *err,
			    size_t errlen)
{
	struct server *server = server_new(hub, config);

	if (server == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	make_room_for_connections(config->max_connections);
	log_capture_lws();
	if (open_front(server, err, errlen) < 0)
		goto fail;
	server->context = create_context(server);
	if (server->context == NULL) {
		snprintf(err, errlen, "cannot serve on %s:%d%s", config->host, config->port,
			 config->tls_cert ? " (is the certificate or key unreadable?)" : "");
		goto fail;
	}
	if (front_start(&server->front, server->context) < 0) {
		snprintf(err, errlen, "cannot serve on %s:%d", config->host, config->port);
		goto fail;
	}
	server->port = front_port(&server->front);
	lws_sul_schedule(server->context, 0, &server->tick, on_tick, TICK_MS * LWS_US_PER_MS);
	return server;
fail:
	server_free(server);
	return NULL;
}

int server_port(const struct server *server)
{
	return server->port;
}

void server_run(struct server *server)
{
	while (!server->stopping)
		if (lws_service(server->context, 0) < 0)
			break;
}

void server_stop(struct server *server)
{
	server->stopping = 1;
	lws_cancel_service(server->context);
}

void server_wake(struct server *server)
{
	lws_cancel_service(server->context);
}

void server_free(struct server *server)
{
	if (server == NULL)
		return;
	if (server->context)
		lws_context_destroy(server->context);
	front_release(&server->front);
	free(server);
}
