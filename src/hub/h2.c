/* One HTTP/2 connection of the hub, over nghttp2.
 *
 * A stream gathers its request (pseudo-headers, X-Amz-Target, the headers a
 * signature covers, the body) and is answered through routes.h once its
 * client ends it, or earlier when the request is refused before its body
 * (too large, headers too large): the rest of such a body is discarded as it
 * arrives, never kept. The answer is handed to nghttp2 as a data source that
 * reads straight from the one copy of the body, so what goes out follows the
 * client's flow-control window without any further buffering here.
 *
 * SubscribeToShard answers with an event stream (subscribe.h) instead: its
 * data source pulls the next message from the subscription only when
 * nghttp2 asks for bytes, which it does only while the client's window is
 * open. A client that stops reading thus stops the reading of its shard:
 * the stream holds the one message being sent, never more. When no message
 * is due the source defers, and h2_conn_wake resumes it. */
#include "config.h"
#include "hub/h2.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/metrics.h"
#include "hub/routes.h"
#include "hub/subscribe.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "wire/eventstream.h"

/* The bytes HPACK counts for a field besides its name and value. */
#define HEADER_FIELD_OVERHEAD 32

struct h2_stream {
	struct h2_stream *prev, *next;          /* every stream of the connection */
	int32_t id;
	char method[8];
	char path[64];
	char target[ROUTES_TARGET_MAX];
	char content_type[64];                  /* JSON or CBOR: the answer's too */
	struct route_cors cors;                 /* a browser page's request: Access-Control-* */
	struct strbuf headers;                  /* "name\0value\0", for the signature */
	size_t header_bytes;
	struct strbuf body;
	bool answered;                          /* later DATA is discarded */
	int64_t started_ms;                     /* when its headers began */
	struct route_answer answer;
	size_t sent;
	char length[24];
	char status[12];
	bool subscribing;                       /* sub is open: an event stream goes out */
	bool deferred;                          /* its source waits for h2_conn_wake */
	struct subscribe_session sub;
	struct strbuf message;                  /* the one event-stream message being sent */
	size_t message_sent;
};

struct h2_conn {
	nghttp2_session *session;
	const struct routes *routes;
	struct h2_stream *streams;
	size_t stream_count;
	size_t buffered;                        /* request body bytes held, every stream */
	size_t subscriptions;                   /* streams answering SubscribeToShard */
	int64_t now_ms;
	bool broken;                            /* nghttp2 failed: nothing more to do */
};

/* ------------------------------------------------------------------ */
/* Streams                                                             */
/* ------------------------------------------------------------------ */

static struct h2_stream *req_new(struct h2_conn *c, int32_t id)
{
	struct h2_stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->id = id;
	strbuf_init(&s->headers);
	strbuf_init(&s->body);
	strbuf_init(&s->message);
	s->next = c->streams;
	if (c->streams)
		c->streams->prev = s;
	c->streams = s;
	c->stream_count++;
	return s;
}

static void req_drop_body(struct h2_conn *c, struct h2_stream *s)
{
	c->buffered -= s->body.len;
	strbuf_free(&s->body);
}

static void end_subscription(struct h2_conn *c, struct h2_stream *s)
{
	if (!s->subscribing)
		return;
	s->subscribing = false;
	c->subscriptions--;
	subscribe_close(c->routes->push, &s->sub);
}

static void req_free(struct h2_conn *c, struct h2_stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	c->stream_count--;
	req_drop_body(c, s);
	end_subscription(c, s);
	strbuf_free(&s->headers);
	strbuf_free(&s->message);
	free(s->answer.body);
	free(s);
}

static struct h2_stream *req_of(struct h2_conn *c, int32_t id)
{
	return nghttp2_session_get_stream_user_data(c->session, id);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

static ssize_t read_answer(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
			   uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct h2_stream *s = source->ptr;
	size_t n = s->answer.len - s->sent;

	(void)session, (void)id, (void)user;
	if (n > length)
		n = length;
	if (n > 0)      /* an empty answer (a preflight's) has no body at all */
		memcpy(buf, s->answer.body + s->sent, n);
	s->sent += n;
	if (s->sent == s->answer.len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

#define NV(name, value)                                                                       \
	{ (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, strlen(value),              \
	  NGHTTP2_NV_FLAG_NO_COPY_NAME }

/* The Access-Control-* headers routes.h gives the request, in nva. */
static size_t cors_headers(const struct h2_stream *s, nghttp2_nv *nva)
{
	struct route_header cors[ROUTES_CORS_MAX];
	size_t n = routes_cors_headers(&s->cors, cors);

	for (size_t i = 0; i < n; i++)
		nva[i] = (nghttp2_nv){ (uint8_t *)cors[i].name, (uint8_t *)cors[i].value,
				       strlen(cors[i].name), strlen(cors[i].value),
				       NGHTTP2_NV_FLAG_NO_COPY_NAME };
	return n;
}

/* Queues the stream's answer; the body it still receives is discarded.
 * An error names its type in x-amzn-ErrorType, as AWS's do. The answer to
 * HEAD has its headers only (RFC 9110 9.3.2): a client resets a stream
 * whose HEAD answer carries data. */
static void submit_answer(struct h2_conn *c, struct h2_stream *s)
{
	nghttp2_data_provider data = { .source.ptr = s, .read_callback = read_answer };
	nghttp2_nv nva[4 + ROUTES_CORS_MAX];
	size_t n = 0;

	s->answered = true;
	req_drop_body(c, s);
	snprintf(s->status, sizeof(s->status), "%03d", s->answer.status % 1000);
	snprintf(s->length, sizeof(s->length), "%zu", s->answer.len);
	nva[n++] = (nghttp2_nv)NV(":status", s->status);
	nva[n++] = (nghttp2_nv)NV("content-type", s->answer.content_type);
	nva[n++] = (nghttp2_nv)NV("content-length", s->length);
	if (s->answer.error)
		nva[n++] = (nghttp2_nv)NV("x-amzn-errortype", s->answer.error);
	n += cors_headers(s, nva + n);
	if (nghttp2_submit_response(c->session, s->id, nva, n,
				    strcmp(s->method, "HEAD") == 0 ? NULL : &data) != 0)
		nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id,
					  NGHTTP2_INTERNAL_ERROR);
}

static void answer_error(struct h2_conn *c, struct h2_stream *s, int status, const char *type,
			 const char *message)
{
	routes_error(&s->answer, s->content_type, status, type, message);
	submit_answer(c, s);
}

/* ------------------------------------------------------------------ */
/* SubscribeToShard: an event stream                                   */
/* ------------------------------------------------------------------ */

/* The next bytes of the event stream: the rest of the message being sent,
 * or the next message due; deferred when none is. */
static ssize_t read_events(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
			   uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct h2_conn *c = user;
	struct h2_stream *s = source->ptr;
	size_t n;

	(void)session, (void)id;
	if (s->message_sent == s->message.len) {
		strbuf_reset(&s->message);
		s->message_sent = 0;
		switch (subscribe_next(c->routes->push, &s->sub, c->now_ms, &s->message)) {
		case SUBSCRIBE_WAIT:
			s->deferred = true;
			return NGHTTP2_ERR_DEFERRED;
		case SUBSCRIBE_END:
			end_subscription(c, s);
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			return 0;
		default:
			if (s->message.failed)
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;   /* resets the stream */
		}
	}
	n = s->message.len - s->message_sent;
	if (n > length)
		n = length;
	memcpy(buf, s->message.data + s->message_sent, n);
	s->message_sent += n;
	return (ssize_t)n;
}

/* Answers SubscribeToShard with a stream, or with an error as any API
 * call gets one (AWS refuses before the stream starts). */
static void start_subscription(struct h2_conn *c, struct h2_stream *s)
{
	const struct routes *r = c->routes;
	const char *body = s->body.data ? s->body.data : "";
	nghttp2_data_provider data = { .source.ptr = s, .read_callback = read_events };
	nghttp2_nv nva[2 + ROUTES_CORS_MAX] = { NV(":status", "200"),
						NV("content-type", EVENTSTREAM_CONTENT_TYPE) };
	struct subscribe_refusal refusal;
	size_t n = 2;

	if (routes_check_signature(r, s->content_type, routes_header, &s->headers, body,
				   s->body.len, c->now_ms, &s->answer) < 0) {
		submit_answer(c, s);
		return;
	}
	s->subscribing = true;
	c->subscriptions++;
	if (subscribe_start(r->push, &s->sub, s->content_type, body, s->body.len, c->now_ms,
			    &refusal) < 0) {
		end_subscription(c, s);
		routes_error(&s->answer, s->content_type, refusal.status, refusal.type,
			     refusal.message);
		submit_answer(c, s);
		return;
	}
	s->answered = true;
	req_drop_body(c, s);
	n += cors_headers(s, nva + n);
	if (nghttp2_submit_response(c->session, s->id, nva, n, &data) != 0)
		nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id,
					  NGHTTP2_INTERNAL_ERROR);
	/* A takeover may have queued an exception on another connection. */
	if (r->wake)
		r->wake(r->user);
}

/* The request is whole: the same routes as HTTP/1.1. A :method or :path
 * too long to be kept is empty, which is no method or path of ours. */
static void answer_request(struct h2_conn *c, struct h2_stream *s)
{
	const struct routes *r = c->routes;
	enum route_kind kind;

	if (s->body.failed) {
		answer_error(c, s, 500, "InternalFailure", "Out of memory.");
		return;
	}
	kind = routes_classify(s->method, s->path, &s->cors, routes_header, &s->headers);
	if (kind == ROUTE_API && strcmp(s->target, SUBSCRIBE_TARGET) == 0) {
		start_subscription(c, s);
		return;
	}
	if (kind == ROUTE_API)
		routes_api(r, s->target[0] ? s->target : NULL, s->content_type, routes_header,
			   &s->headers, s->body.data ? s->body.data : "", s->body.len, c->now_ms,
			   &s->answer);
	else
		routes_answer(r, kind, s->path, s->content_type, c->now_ms, &s->answer);
	submit_answer(c, s);
}

/* The headers are in: refuse now what the body would not change. */
static void headers_complete(struct h2_conn *c, struct h2_stream *s)
{
	char length[32];

	if (s->header_bytes > H2_HEADER_BYTES) {
		answer_error(c, s, 431, "ValidationException",
			     "The request headers are larger than the hub accepts.");
		return;
	}
	if (routes_header(&s->headers, "content-length", length, sizeof(length)) >= 0 &&
	    strtoull(length, NULL, 10) > c->routes->max_body) {
		routes_too_large(&s->answer, s->content_type);
		submit_answer(c, s);
	}
}

/* ------------------------------------------------------------------ */
/* nghttp2 callbacks                                                    */
/* ------------------------------------------------------------------ */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct h2_conn *c = user;
	struct h2_stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = req_new(c, frame->hd.stream_id);
	if (s == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;   /* resets the stream */
	s->started_ms = c->now_ms;
	c->routes->counts->h2_streams++;
	nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s);
	return 0;
}

/* A value too long for dst leaves it empty. */
static void copy_value(char *dst, size_t size, const uint8_t *value, size_t len)
{
	if (len >= size)
		return;
	memcpy(dst, value, len);
	dst[len] = '\0';
}

/* :path carries the query too; lws gives HTTP/1.1's path without it, and
 * the routes look at the path alone. */
static size_t path_length(const uint8_t *path, size_t len)
{
	const uint8_t *query = memchr(path, '?', len);

	return query ? (size_t)(query - path) : len;
}

static bool name_is(const uint8_t *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
	struct h2_conn *c = user;
	struct h2_stream *s = req_of(c, frame->hd.stream_id);

	(void)session, (void)flags;
	if (s == NULL || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	/* Past the bound nothing more is kept: the request is refused when
	 * its headers end. */
	s->header_bytes += namelen + valuelen + HEADER_FIELD_OVERHEAD;
	if (s->header_bytes > H2_HEADER_BYTES)
		return 0;
	if (name_is(name, namelen, ":method"))
		copy_value(s->method, sizeof(s->method), value, valuelen);
	else if (name_is(name, namelen, ":path"))
		copy_value(s->path, sizeof(s->path), value, path_length(value, valuelen));
	else if (name_is(name, namelen, "x-amz-target"))
		copy_value(s->target, sizeof(s->target), value, valuelen);
	else if (name_is(name, namelen, "content-type"))
		copy_value(s->content_type, sizeof(s->content_type), value, valuelen);
	else if (name_is(name, namelen, "origin"))
		s->cors.origin = valuelen > 0;  /* an empty Origin is none, as lws reads it */
	/* A signature covers the host: HTTP/2 carries it as :authority, which
	 * a client signs under that name or as "host". */
	if (name_is(name, namelen, ":authority"))
		routes_keep_header(&s->headers, "host", 4, (const char *)value, valuelen);
	if (namelen > 0 && (name[0] != ':' || name_is(name, namelen, ":authority")))
		routes_keep_header(&s->headers, (const char *)name, namelen, (const char *)value,
				   valuelen);
	return 0;
}

/* Ends a stream without an answer; the rest of its body is discarded. */
static void reset_stream(struct h2_conn *c, struct h2_stream *s, uint32_t code)
{
	req_drop_body(c, s);
	s->answered = true;
	nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, code);
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
		   size_t len, void *user)
{
	struct h2_conn *c = user;
	struct h2_stream *s = req_of(c, id);

	(void)session, (void)flags;
	if (s == NULL || s->answered)
		return 0;
	/* A body trickled in a byte at a time would hold its stream for ever. */
	if (c->now_ms - s->started_ms > H2_BODY_MS) {
		log_info("an HTTP/2 request body still incomplete after %d s: reset",
			 H2_BODY_MS / 1000);
		reset_stream(c, s, NGHTTP2_CANCEL);
		return 0;
	}
	if (s->body.len + len > c->routes->max_body) {
		routes_too_large(&s->answer, s->content_type);
		submit_answer(c, s);
		return 0;
	}
	/* Many streams each short of the limit could still add up: past twice
	 * the limit a stream is refused, and the client may send it again. */
	if (c->buffered + len > 2 * c->routes->max_body) {
		reset_stream(c, s, NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	strbuf_append(&s->body, data, len);
	c->buffered += len;
	return 0;
}

static int on_frame(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct h2_conn *c = user;
	struct h2_stream *s;

	(void)session;
	if (frame->hd.type == NGHTTP2_RST_STREAM)
		c->routes->counts->h2_resets_by_client++;
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	s = req_of(c, frame->hd.stream_id);
	if (s == NULL || s->answered)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS)
		headers_complete(c, s);
	if (!s->answered && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		answer_request(c, s);
	return 0;
}

/* Every reset the hub sends, whether h2.c asked for it or nghttp2 itself
 * refused a stream, passes here. */
static int on_frame_sent(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct h2_conn *c = user;

	(void)session;
	if (frame->hd.type == NGHTTP2_RST_STREAM)
		c->routes->counts->h2_resets_by_hub++;
	return 0;
}

static int on_close(nghttp2_session *session, int32_t id, uint32_t error, void *user)
{
	struct h2_conn *c = user;
	struct h2_stream *s = req_of(c, id);

	(void)session, (void)error;
	if (s)
		req_free(c, s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The connection                                                      */
/* ------------------------------------------------------------------ */

static nghttp2_session_callbacks *callbacks_new(void)
{
	nghttp2_session_callbacks *cb;

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return NULL;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_sent);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	return cb;
}

static int send_settings(nghttp2_session *session)
{
	const nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2_HEADER_BYTES },
	};

	if (nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings,
				    sizeof(settings) / sizeof(settings[0])) != 0)
		return -1;
	return nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
						     H2_CONN_WINDOW) != 0 ? -1 : 0;
}

struct h2_conn *h2_conn_new(const struct routes *routes)
{
	struct h2_conn *c = calloc(1, sizeof(*c));
	nghttp2_session_callbacks *cb = callbacks_new();

	if (c == NULL || cb == NULL)
		goto fail;
	c->routes = routes;
	if (nghttp2_session_server_new(&c->session, cb, c) != 0) {
		c->session = NULL;
		goto fail;
	}
	nghttp2_session_callbacks_del(cb);
	if (send_settings(c->session) < 0) {
		h2_conn_free(c);
		return NULL;
	}
	return c;
fail:
	if (cb)
		nghttp2_session_callbacks_del(cb);
	free(c);
	return NULL;
}

void h2_conn_free(struct h2_conn *c)
{
	if (c == NULL)
		return;
	/* nghttp2 does not close the streams it still has when it is freed. */
	while (c->streams)
		req_free(c, c->streams);
	nghttp2_session_del(c->session);
	free(c);
}

int h2_conn_receive(struct h2_conn *c, const uint8_t *in, size_t len, int64_t now_ms)
{
	ssize_t n;

	c->now_ms = now_ms;
	n = nghttp2_session_mem_recv(c->session, in, len);
	if (n >= 0)
		return 0;
	log_info("HTTP/2 connection: %s: closing", nghttp2_strerror((int)n));
	/* nghttp2 queues a GOAWAY for most errors itself, not for a bad
	 * preface; either way the client learns why. */
	nghttp2_session_terminate_session(c->session, NGHTTP2_PROTOCOL_ERROR);
	return -1;
}

size_t h2_conn_output(struct h2_conn *c, const uint8_t **out)
{
	ssize_t n = nghttp2_session_mem_send(c->session, out);

	if (n >= 0)
		return (size_t)n;
	log_info("HTTP/2 connection: %s: closing", nghttp2_strerror((int)n));
	c->broken = true;
	return 0;
}

size_t h2_conn_streams(const struct h2_conn *c)
{
	return c->stream_count;
}

size_t h2_conn_subscriptions(const struct h2_conn *c)
{
	return c->subscriptions;
}

void h2_conn_wake(struct h2_conn *c, int64_t now_ms)
{
	c->now_ms = now_ms;
	for (struct h2_stream *s = c->streams; s; s = s->next)
		if (s->subscribing && s->deferred) {
			s->deferred = false;
			nghttp2_session_resume_data(c->session, s->id);
		}
}

bool h2_conn_done(const struct h2_conn *c)
{
	return c->broken ||
	       (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session));
}

void h2_conn_goaway(struct h2_conn *c)
{
	nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
}
