/* The hub's HTTP/2 as a client sees it, in one process: an nghttp2 client
 * session talks to h2_conn through memory. Every answer must be the one
 * HTTP/1.1 gives (routes.h), and bad input (a bad preface, broken frames,
 * headers or bodies over the bounds) must end in a clear error. */
#include "config.h"

#include <nghttp2/nghttp2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/auth.h"
#include "hub/connlimit.h"
#include "hub/h2.h"
#include "hub/hub.h"
#include "hub/kinesis.h"
#include "hub/metrics.h"
#include "hub/push.h"
#include "hub/routes.h"
#include "hub/stream.h"
#include "hub/subscribe.h"
#include "util/strbuf.h"
#include "wire/cborjson.h"
#include "wire/eventstream.h"
#include "wire/protocol.h"

#define NOW 1795659501000LL
#define MAX_BODY 4096
#define STREAMS_MAX 64

struct answer {
	int status;
	char content_type[64];
	char error_type[64];            /* x-amzn-errortype */
	struct strbuf cors;             /* its access-control-* headers, "name: value\n" each */
	struct strbuf body;
	bool closed;
	uint32_t error;                 /* RST_STREAM code, if reset */
};

struct fixture {
	struct hub *hub;
	struct push push;
	struct conn_limit conns;
	struct http_counts counts;
	struct routes routes;
	struct h2_conn *server;
	nghttp2_session *client;
	const char *content_type;       /* of the requests sent */
	struct answer answers[STREAMS_MAX];
	int writes;                     /* wake calls */
	int64_t now_ms;                 /* the server's clock */
	bool goaway;                    /* the client saw a GOAWAY */
	uint32_t goaway_error;
};

/* ------------------------------------------------------------------ */
/* The client                                                          */
/* ------------------------------------------------------------------ */

static struct answer *answer_of(struct fixture *fx, int32_t id)
{
	assert_true(id > 0 && id / 2 < STREAMS_MAX);
	return &fx->answers[id / 2];
}

static int client_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
			 size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
			 void *user)
{
	struct answer *a = answer_of(user, frame->hd.stream_id);

	(void)s, (void)flags;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		a->status = atoi((const char *)value);
	else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
		snprintf(a->content_type, sizeof(a->content_type), "%.*s", (int)valuelen, value);
	else if (namelen == 16 && memcmp(name, "x-amzn-errortype", 16) == 0)
		snprintf(a->error_type, sizeof(a->error_type), "%.*s", (int)valuelen, value);
	else if (namelen > 15 && memcmp(name, "access-control-", 15) == 0) {
		strbuf_append(&a->cors, name, namelen);
		strbuf_lit(&a->cors, ": ");
		strbuf_append(&a->cors, value, valuelen);
		strbuf_lit(&a->cors, "\n");
	}
	return 0;
}

static int client_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
		       size_t len, void *user)
{
	(void)s, (void)flags;
	strbuf_append(&answer_of(user, id)->body, data, len);
	return 0;
}

static int client_close(nghttp2_session *s, int32_t id, uint32_t error, void *user)
{
	struct answer *a = answer_of(user, id);

	(void)s;
	a->closed = true;
	a->error = error;
	return 0;
}

static int client_frame(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	struct fixture *fx = user;

	(void)s;
	if (frame->hd.type == NGHTTP2_GOAWAY) {
		fx->goaway = true;
		fx->goaway_error = frame->goaway.error_code;
	}
	return 0;
}

static nghttp2_session *client_new(struct fixture *fx)
{
	nghttp2_session_callbacks *cb;
	nghttp2_session *client;

	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_on_header_callback(cb, client_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, client_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, client_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, client_frame);
	assert_int_equal(nghttp2_session_client_new(&client, cb, fx), 0);
	nghttp2_session_callbacks_del(cb);
	assert_int_equal(nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, NULL, 0), 0);
	return client;
}

/* Moves bytes both ways until neither side has anything to say. */
static void pump(struct fixture *fx)
{
	for (int round = 0; round < 10000; round++) {
		const uint8_t *out;
		ssize_t n;
		size_t m;
		bool moved = false;

		while ((n = nghttp2_session_mem_send(fx->client, &out)) > 0) {
			h2_conn_receive(fx->server, out, (size_t)n, fx->now_ms);
			moved = true;
		}
		while ((m = h2_conn_output(fx->server, &out)) > 0) {
			nghttp2_session_mem_recv(fx->client, out, m);
			moved = true;
		}
		if (!moved)
			return;
	}
	fail_msg("the sessions never went quiet");
}

#define CNV(name, value)                                                                      \
	{ (uint8_t *)(name), (uint8_t *)(value), strlen(name), strlen(value), NGHTTP2_NV_FLAG_NONE }

struct body_source {
	const char *data;
	size_t len, sent;
};

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
			 uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct body_source *b = source->ptr;
	size_t n = b->len - b->sent;

	(void)s, (void)id, (void)user;
	if (n > length)
		n = length;
	memcpy(buf, b->data + b->sent, n);
	b->sent += n;
	if (b->sent == b->len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* Sends one request; extra headers come as name, value pairs, NULL-ended. */
static int32_t request(struct fixture *fx, const char *method, const char *path, const char *target,
		       struct body_source *body, ...)
{
	nghttp2_nv nva[16] = {
		CNV(":method", method), CNV(":scheme", "http"), CNV(":path", path),
		CNV(":authority", "localhost"), CNV("content-type", fx->content_type),
	};
	size_t n = 5;
	nghttp2_data_provider prd = { .source.ptr = body, .read_callback = read_body };
	va_list ap;
	const char *name;

	if (target)
		nva[n++] = (nghttp2_nv)CNV("x-amz-target", target);
	va_start(ap, body);
	while ((name = va_arg(ap, const char *)) != NULL && n < 16) {
		const char *value = va_arg(ap, const char *);
		nva[n++] = (nghttp2_nv)CNV(name, value);
	}
	va_end(ap);
	int32_t id = nghttp2_submit_request(fx->client, NULL, nva, n, body ? &prd : NULL, NULL);
	assert_true(id > 0);
	return id;
}

static struct answer *call(struct fixture *fx, const char *op, const char *json)
{
	char target[128];
	struct body_source body = { json, strlen(json), 0 };
	int32_t id;

	snprintf(target, sizeof(target), "%s%s", KINESIS_TARGET_PREFIX, op);
	id = request(fx, "POST", "/", target, &body, NULL);
	pump(fx);
	assert_true(answer_of(fx, id)->closed);
	return answer_of(fx, id);
}

/* An error answer names its type in the body and in x-amzn-errortype. */
static void assert_error(struct answer *a, int status, const char *type)
{
	char want[128];

	assert_int_equal(a->status, status);
	assert_string_equal(a->error_type, type);
	snprintf(want, sizeof(want), "\"__type\":\"%s\"", type);
	strbuf_append(&a->body, "", 1);
	if (strstr(a->body.data, want) == NULL)
		fail_msg("expected %s, got %s", want, a->body.data);
}

/* The same, for a request in CBOR: the answer is CBOR too. */
static void assert_cbor_error(struct answer *a, int status, const char *type)
{
	char why[160], *json;
	size_t len;

	assert_string_equal(a->content_type, KINESIS_CBOR_CONTENT_TYPE);
	json = cborjson_decode(a->body.data, a->body.len, &len, why, sizeof(why));
	if (json == NULL)
		fail_msg("the answer is not CBOR: %s", why);
	strbuf_reset(&a->body);
	strbuf_append(&a->body, json, len);
	free(json);
	assert_error(a, status, type);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */
/* ------------------------------------------------------------------ */

static void count_write(void *user)
{
	((struct fixture *)user)->writes++;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct hub_config config;
	char err[256];

	hub_config_defaults(&config);
	fx->hub = hub_open(&config, NOW, err, sizeof(err));
	assert_non_null(fx->hub);
	assert_non_null(hub_create_stream(fx->hub, "alleycat", 2, NOW));
	push_init(&fx->push, fx->hub);
	connlimit_init(&fx->conns, 16);
	fx->routes = (struct routes){ .hub = fx->hub, .push = &fx->push, .conns = &fx->conns,
				      .counts = &fx->counts, .max_body = MAX_BODY,
				      .wake = count_write, .user = fx };
	fx->server = h2_conn_new(&fx->routes);
	assert_non_null(fx->server);
	fx->client = client_new(fx);
	fx->content_type = KINESIS_CONTENT_TYPE;
	fx->now_ms = NOW;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	nghttp2_session_del(fx->client);
	h2_conn_free(fx->server);
	for (int i = 0; i < STREAMS_MAX; i++) {
		strbuf_free(&fx->answers[i].body);
		strbuf_free(&fx->answers[i].cors);
	}
	hub_close(fx->hub);
	free(fx);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_pages(void **state)
{
	struct fixture *fx = *state;
	int32_t health = request(fx, "GET", "/healthz", NULL, NULL, NULL);
	int32_t metrics = request(fx, "GET", "/metrics", NULL, NULL, NULL);
	int32_t missing = request(fx, "GET", "/nothing", NULL, NULL, NULL);
	/* The query is no part of the path, as over HTTP/1.1. */
	int32_t query = request(fx, "GET", "/healthz?probe=1", NULL, NULL, NULL);
	int32_t root = request(fx, "GET", "/?probe=1", NULL, NULL, NULL);

	pump(fx);
	assert_int_equal(answer_of(fx, query)->status, 200);
	assert_int_equal(answer_of(fx, root)->status, 403);
	assert_int_equal(answer_of(fx, health)->status, 200);
	assert_int_equal(answer_of(fx, health)->body.len, 3);
	assert_memory_equal(answer_of(fx, health)->body.data, "ok\n", 3);
	assert_int_equal(answer_of(fx, metrics)->status, 200);
	strbuf_append(&answer_of(fx, metrics)->body, "", 1);
	assert_non_null(strstr(answer_of(fx, metrics)->body.data, "alleycat_connections"));
	assert_error(answer_of(fx, missing), 404, "ResourceNotFoundException");
	assert_int_equal(h2_conn_streams(fx->server), 0);
}

static void test_api(void **state)
{
	struct fixture *fx = *state;
	struct answer *a = call(fx, "ListStreams", "{}");

	assert_int_equal(a->status, 200);
	strbuf_append(&a->body, "", 1);
	assert_non_null(strstr(a->body.data, "\"StreamNames\":[\"alleycat\"]"));

	assert_string_equal(a->error_type, "");
	a = call(fx, "PutRecord", "{\"StreamName\":\"alleycat\",\"PartitionKey\":\"k\",\"Data\":\"eA==\"}");
	assert_int_equal(a->status, 200);
	assert_int_equal(fx->writes, 1);        /* the push was told */

	assert_error(call(fx, "FlyToTheMoon", "{}"), 400, "UnknownOperationException");
	assert_error(call(fx, "ListStreams", "{\"Limit\":"), 400, "SerializationException");
	assert_error(call(fx, "ListShards", "{\"StreamName\":\"nope\"}"), 400,
		     "ResourceNotFoundException");
}

/* AWS's 403 for a method the API does not take, in XML as AWS sends it. */
static void assert_denied(struct answer *a)
{
	static const char xml[] = "<AccessDeniedException>\n  <Message>Unable to determine "
				  "service/operation name to be authorized</Message>\n"
				  "</AccessDeniedException>\n";

	assert_int_equal(a->status, 403);
	assert_string_equal(a->content_type, "application/xml");
	assert_string_equal(a->error_type, "AccessDeniedException");
	assert_int_equal(a->body.len, sizeof(xml) - 1);
	assert_memory_equal(a->body.data, xml, sizeof(xml) - 1);
}

/* The access-control-* headers of an answer, one "name: value" a line. */
static void assert_cors(struct answer *a, const char *want)
{
	strbuf_append(&a->cors, "", 1);
	assert_string_equal(a->cors.data, want);
}

static void test_not_the_api(void **state)
{
	struct fixture *fx = *state;
	struct body_source body = { "{}", 2, 0 };
	int32_t put = request(fx, "PUT", "/", NULL, &body, NULL);
	int32_t root = request(fx, "GET", "/", NULL, NULL, NULL);
	int32_t del = request(fx, "DELETE", "/healthz", NULL, NULL, NULL);
	int32_t patch = request(fx, "PATCH", "/", NULL, NULL, NULL);
	int32_t options = request(fx, "OPTIONS", "/", NULL, NULL, NULL);
	int32_t elsewhere = request(fx, "POST", "/elsewhere", NULL, NULL, NULL);
	int32_t head = request(fx, "HEAD", "/", NULL, NULL, NULL);

	pump(fx);
	assert_denied(answer_of(fx, put));
	assert_denied(answer_of(fx, root));
	assert_denied(answer_of(fx, del));
	assert_denied(answer_of(fx, patch));
	assert_denied(answer_of(fx, options));  /* no Origin: no preflight */
	assert_error(answer_of(fx, elsewhere), 404, "UnknownOperationException");
	/* HEAD: the 404's headers, no data, and a stream that ends cleanly. */
	assert_int_equal(answer_of(fx, head)->status, 404);
	assert_int_equal(answer_of(fx, head)->body.len, 0);
	assert_int_equal(answer_of(fx, head)->error, NGHTTP2_NO_ERROR);
	/* No Origin, no CORS. */
	assert_cors(answer_of(fx, put), "");
	assert_cors(answer_of(fx, elsewhere), "");
}

#define EXPOSE                                                                                 \
	"access-control-expose-headers: x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,"  \
	"x-amz-id-2,x-amzn-ErrorMessage,Date\n"

/* A browser page's preflight is allowed what it asks, for two days. */
static void test_preflight(void **state)
{
	struct fixture *fx = *state;
	int32_t asks = request(fx, "OPTIONS", "/", NULL, NULL, "origin", "https://example.org",
			       "access-control-request-method", "POST",
			       "access-control-request-headers", "content-type,x-amz-target",
			       NULL);
	int32_t plain = request(fx, "OPTIONS", "/anywhere", NULL, NULL, "origin",
				"https://example.org", NULL);

	pump(fx);
	assert_int_equal(answer_of(fx, asks)->status, 200);
	assert_int_equal(answer_of(fx, asks)->body.len, 0);
	assert_string_equal(answer_of(fx, asks)->error_type, "");
	assert_cors(answer_of(fx, asks), "access-control-allow-origin: *\n"
					 "access-control-allow-methods: POST\n"
					 "access-control-allow-headers: content-type,x-amz-target\n"
					 "access-control-max-age: 172800\n");
	/* One that asks nothing is answered as any request with an Origin. */
	assert_int_equal(answer_of(fx, plain)->status, 200);
	assert_cors(answer_of(fx, plain), "access-control-allow-origin: *\n" EXPOSE);
}

/* Every answer to a request with an Origin lets the page read it, errors
 * (and their x-amzn-ErrorType) included. */
static void test_cors_answers(void **state)
{
	struct fixture *fx = *state;
	struct body_source list = { "{}", 2, 0 }, bad = { "{}", 2, 0 };
	int32_t ok = request(fx, "POST", "/", "Kinesis_20131202.ListStreams", &list, "origin",
			     "https://example.org", NULL);
	int32_t error = request(fx, "POST", "/", "Kinesis_20131202.FlyToTheMoon", &bad, "origin",
				"https://example.org", NULL);
	int32_t denied = request(fx, "GET", "/", NULL, NULL, "origin", "https://example.org",
				 NULL);
	int32_t page = request(fx, "GET", "/healthz", NULL, NULL, "origin", "https://example.org",
			       NULL);

	pump(fx);
	assert_int_equal(answer_of(fx, ok)->status, 200);
	assert_cors(answer_of(fx, ok), "access-control-allow-origin: *\n" EXPOSE);
	assert_error(answer_of(fx, error), 400, "UnknownOperationException");
	assert_cors(answer_of(fx, error), "access-control-allow-origin: *\n" EXPOSE);
	assert_denied(answer_of(fx, denied));
	assert_cors(answer_of(fx, denied), "access-control-allow-origin: *\n" EXPOSE);
	assert_int_equal(answer_of(fx, page)->status, 200);
	assert_cors(answer_of(fx, page), "access-control-allow-origin: *\n" EXPOSE);
}

/* A CBOR request refused before the API runs is answered in CBOR, as the
 * API's own errors are. */
static void test_refusals_in_cbor(void **state)
{
	struct fixture *fx = *state;
	char *big = calloc(1, MAX_BODY + 1);
	struct body_source b = { big, MAX_BODY + 1, 0 };
	int32_t elsewhere, large;

	fx->content_type = KINESIS_CBOR_CONTENT_TYPE;
	elsewhere = request(fx, "POST", "/elsewhere", NULL, NULL, NULL);
	large = request(fx, "POST", "/", "Kinesis_20131202.ListStreams", &b, NULL);
	pump(fx);
	assert_cbor_error(answer_of(fx, elsewhere), 404, "UnknownOperationException");
	assert_cbor_error(answer_of(fx, large), 413, "ValidationException");
	assert_cbor_error(call(fx, "FlyToTheMoon", ""), 400, "UnknownOperationException");
	free(big);
}

/* Refused before the body is read when Content-Length says so; refused
 * once too much arrived when it does not. The connection goes on. */
static void test_body_too_large(void **state)
{
	struct fixture *fx = *state;
	char *big = malloc(MAX_BODY + 100);
	struct body_source b1 = { big, MAX_BODY + 100, 0 }, b2 = { big, MAX_BODY + 100, 0 };
	int32_t said, unsaid;

	memset(big, 'x', MAX_BODY + 100);
	said = request(fx, "POST", "/", "Kinesis_20131202.PutRecord", &b1, "content-length", "4196",
		       NULL);
	unsaid = request(fx, "POST", "/", "Kinesis_20131202.PutRecord", &b2, NULL);
	pump(fx);
	assert_error(answer_of(fx, said), 413, "ValidationException");
	assert_error(answer_of(fx, unsaid), 413, "ValidationException");
	assert_int_equal(call(fx, "ListStreams", "{}")->status, 200);
	free(big);
}

static void test_headers_too_large(void **state)
{
	struct fixture *fx = *state;
	char *huge = malloc(H2_HEADER_BYTES + 1);
	int32_t id;

	memset(huge, 'a', H2_HEADER_BYTES);
	huge[H2_HEADER_BYTES] = '\0';
	id = request(fx, "GET", "/healthz", NULL, NULL, "x-padding", huge, NULL);
	pump(fx);
	assert_error(answer_of(fx, id), 431, "ValidationException");
	assert_int_equal(call(fx, "ListStreams", "{}")->status, 200);
	free(huge);
}

/* A body that takes longer than H2_BODY_MS after its headers: the stream
 * is reset, the connection goes on. */
static void test_slow_body(void **state)
{
	struct fixture *fx = *state;
	nghttp2_nv nva[] = {
		CNV(":method", "POST"), CNV(":scheme", "http"), CNV(":path", "/"),
		CNV(":authority", "localhost"), CNV("x-amz-target", "Kinesis_20131202.ListStreams"),
	};
	struct body_source body = { "{}", 2, 0 };
	nghttp2_data_provider prd = { .source.ptr = &body, .read_callback = read_body };
	int32_t id = nghttp2_submit_headers(fx->client, NGHTTP2_FLAG_NONE, -1, NULL, nva,
					    sizeof(nva) / sizeof(nva[0]), NULL);

	pump(fx);
	fx->now_ms += H2_BODY_MS + 1000;
	assert_int_equal(nghttp2_submit_data(fx->client, NGHTTP2_FLAG_END_STREAM, id, &prd), 0);
	pump(fx);
	assert_true(answer_of(fx, id)->closed);
	assert_int_equal(answer_of(fx, id)->error, NGHTTP2_CANCEL);
	assert_int_equal(fx->counts.h2_resets_by_hub, 1);
	assert_int_equal(call(fx, "ListStreams", "{}")->status, 200);
}

/* /metrics counts streams as they open and as either side resets them. */
static void test_stream_counts(void **state)
{
	struct fixture *fx = *state;
	nghttp2_nv nva[] = {
		CNV(":method", "POST"), CNV(":scheme", "http"), CNV(":path", "/"),
		CNV(":authority", "localhost"), CNV("x-amz-target", "Kinesis_20131202.ListStreams"),
	};
	int32_t id = nghttp2_submit_headers(fx->client, NGHTTP2_FLAG_NONE, -1, NULL, nva,
					    sizeof(nva) / sizeof(nva[0]), NULL);
	struct answer *metrics;

	pump(fx);
	nghttp2_submit_rst_stream(fx->client, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
	pump(fx);
	assert_int_equal(fx->counts.h2_resets_by_client, 1);
	assert_int_equal(fx->counts.h2_resets_by_hub, 0);
	metrics = answer_of(fx, request(fx, "GET", "/metrics", NULL, NULL, NULL));
	pump(fx);
	strbuf_append(&metrics->body, "", 1);
	assert_non_null(strstr(metrics->body.data, "\nalleycat_h2_streams_total 2\n"));
	assert_non_null(strstr(metrics->body.data,
			       "\nalleycat_h2_streams_reset_total{by=\"client\"} 1\n"));
	assert_non_null(strstr(metrics->body.data,
			       "\nalleycat_connections_accepted_total{protocol=\"h2\"} 0\n"));
}

/* More requests than the connection takes at once: the client waits for
 * room (SETTINGS_MAX_CONCURRENT_STREAMS), and every one is answered. */
static void test_many_streams(void **state)
{
	struct fixture *fx = *state;
	int32_t ids[H2_MAX_STREAMS + 8];

	pump(fx);       /* the client learns the server's SETTINGS */
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ids[i] = request(fx, "GET", "/healthz", NULL, NULL, NULL);
	pump(fx);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_int_equal(answer_of(fx, ids[i])->status, 200);
}

static void test_signature_required(void **state)
{
	struct fixture *fx = *state;
	char path[] = "/tmp/alleycat-h2-credsXXXXXX", err[256];
	int fd = mkstemp(path);
	struct auth *keys;

	assert_true(fd >= 0);
	assert_true(write(fd, "[k]\naws_access_key_id = AKID\naws_secret_access_key = S\n", 55) == 55);
	close(fd);
	keys = auth_load(path, err, sizeof(err));
	unlink(path);
	assert_non_null(keys);
	fx->routes.auth = keys;
	assert_error(call(fx, "ListStreams", "{}"), 400, "MissingAuthenticationTokenException");
	struct body_source body = { "{}", 2, 0 };
	int32_t id = request(fx, "POST", "/", "Kinesis_20131202.ListStreams", &body, "authorization",
			     "AWS4-HMAC-SHA256 Credential=NOPE/20260101/us-east-1/kinesis/aws4_request, "
			     "SignedHeaders=host;x-amz-date, Signature=00",
			     "x-amz-date", "20260101T000000Z", NULL);
	pump(fx);
	assert_int_equal(answer_of(fx, id)->status, 400);
	fx->routes.auth = NULL;
	auth_free(keys);
}

/* Bytes that are not HTTP/2: a GOAWAY, then the session is over. */
static void expect_goaway_after(const uint8_t *junk, size_t len, bool preface)
{
	struct fixture fx = { 0 };
	struct hub_config config;
	char err[256];
	const uint8_t *out;
	size_t n;
	bool saw_goaway = false;

	hub_config_defaults(&config);
	fx.hub = hub_open(&config, NOW, err, sizeof(err));
	fx.routes = (struct routes){ .hub = fx.hub, .push = &fx.push, .conns = &fx.conns,
				     .counts = &fx.counts, .max_body = MAX_BODY };
	push_init(&fx.push, fx.hub);
	connlimit_init(&fx.conns, 4);
	fx.server = h2_conn_new(&fx.routes);
	if (preface)
		assert_int_equal(h2_conn_receive(fx.server, (const uint8_t *)H2_PREFACE,
						 H2_PREFACE_LEN, NOW), 0);
	/* nghttp2 reports some errors, and only queues the GOAWAY for others. */
	h2_conn_receive(fx.server, junk, len, NOW);
	while ((n = h2_conn_output(fx.server, &out)) > 0)
		for (size_t i = 0; i + 9 <= n; i += 9 + ((size_t)out[i] << 16 | out[i + 1] << 8 | out[i + 2]))
			saw_goaway |= out[i + 3] == NGHTTP2_GOAWAY;
	assert_true(saw_goaway);
	assert_true(h2_conn_done(fx.server));
	h2_conn_free(fx.server);
	hub_close(fx.hub);
}

static void test_bad_input(void **state)
{
	/* An HTTP/1.1 request where the preface should be. */
	static const uint8_t http1[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	/* A DATA frame on stream 0 (a connection error). */
	static const uint8_t data0[] = { 0, 0, 1, NGHTTP2_DATA, 0, 0, 0, 0, 0, 'x' };
	/* A HEADERS frame of 16 MiB - 1, over the frame size. */
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, NGHTTP2_HEADERS, 4, 0, 0, 0, 1 };
	/* SETTINGS with a length that is not a multiple of 6. */
	static const uint8_t settings[] = { 0, 0, 5, NGHTTP2_SETTINGS, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5 };

	(void)state;
	expect_goaway_after(http1, sizeof(http1) - 1, false);
	expect_goaway_after(data0, sizeof(data0), true);
	expect_goaway_after(huge, sizeof(huge), true);
	expect_goaway_after(settings, sizeof(settings), true);
}

/* The peer's bytes a byte at a time, and every prefix of a session cut
 * off: nothing breaks, nothing leaks (ASan). */
static void test_piecemeal(void **state)
{
	struct fixture *fx = *state;
	struct body_source body = { "{}", 2, 0 };
	const uint8_t *out;
	ssize_t n;
	int32_t id = request(fx, "POST", "/", "Kinesis_20131202.ListStreams", &body, NULL);

	while ((n = nghttp2_session_mem_send(fx->client, &out)) > 0)
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(h2_conn_receive(fx->server, out + i, 1, NOW), 0);
	pump(fx);
	assert_int_equal(answer_of(fx, id)->status, 200);
}

/* Subscribes "board" to shard 0 from TRIM_HORIZON; the stream's id. */
/* A SubscribeToShard from shard 0's start; from a page when origin is
 * not NULL. */
static int32_t subscribe(struct fixture *fx, const char *origin)
{
	struct stream *st = hub_find_stream(fx->hub, "alleycat");
	static char body[1024];
	static struct body_source b;

	if (st->consumer_count == 0)
		assert_non_null(hub_register_consumer(fx->hub, st, "board", NOW));
	snprintf(body, sizeof(body),
		 "{\"ConsumerARN\":\"%s\",\"ShardId\":\"shardId-000000000000\","
		 "\"StartingPosition\":{\"Type\":\"TRIM_HORIZON\"}}", st->consumers[0].arn);
	b = (struct body_source){ body, strlen(body), 0 };
	if (origin)
		return request(fx, "POST", "/", SUBSCRIBE_TARGET, &b, "origin", origin, NULL);
	return request(fx, "POST", "/", SUBSCRIBE_TARGET, &b, NULL);
}

/* The event-type of the index-th message of an event stream. */
static bool event_is(const struct answer *a, int index, const char *type)
{
	struct eventstream_message m;
	struct eventstream_error e;
	size_t at = 0;
	long n = 0;

	for (int i = 0; i <= index; i++, at += (size_t)n) {
		n = eventstream_decode((const uint8_t *)a->body.data + at, a->body.len - at, &m, &e);
		if (n < 0)
			return false;
	}
	return eventstream_header_is(&m, ":event-type", type);
}

static void test_subscribe(void **state)
{
	struct fixture *fx = *state;
	int32_t id = subscribe(fx, NULL);
	struct answer *a = answer_of(fx, id);

	pump(fx);
	assert_int_equal(a->status, 200);
	assert_false(a->closed);
	assert_true(event_is(a, 0, "initial-response"));
	assert_true(event_is(a, 1, "SubscribeToShardEvent"));
	assert_int_equal(h2_conn_subscriptions(fx->server), 1);
	assert_non_null(fx->push.all);
	/* The client cancels: the subscription ends with its stream. */
	nghttp2_submit_rst_stream(fx->client, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
	pump(fx);
	assert_int_equal(h2_conn_subscriptions(fx->server), 0);
	assert_null(fx->push.all);
}

/* A page's subscription gets the CORS headers every answer to a page
 * gets; one that is not a page's gets none. */
static void test_subscribe_cors(void **state)
{
	struct fixture *fx = *state;
	int32_t page = subscribe(fx, "https://example.org"), plain = subscribe(fx, NULL);

	pump(fx);
	assert_int_equal(answer_of(fx, page)->status, 200);
	assert_true(event_is(answer_of(fx, page), 0, "initial-response"));
	assert_cors(answer_of(fx, page), "access-control-allow-origin: *\n" EXPOSE);
	assert_cors(answer_of(fx, plain), "");
}

/* A client whose window is closed gets nothing, and its subscription
 * reads nothing of the shard, however many records arrive; once the
 * window opens the records flow. */
static void test_subscribe_window(void **state)
{
	struct fixture *fx = *state;
	nghttp2_settings_entry closed = { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0 };
	nghttp2_settings_entry open = { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 };
	int32_t id;

	nghttp2_submit_settings(fx->client, NGHTTP2_FLAG_NONE, &closed, 1);
	id = subscribe(fx, NULL);
	pump(fx);
	/* Straight into the hub: over this connection no answer could come. */
	for (int i = 0; i < 20; i++) {
		static const char put[] = "{\"StreamName\":\"alleycat\",\"PartitionKey\":\"a\","
					  "\"Data\":\"eA==\"}";
		struct kinesis_reply reply;

		kinesis_handle(fx->hub, KINESIS_TARGET_PREFIX "PutRecord", put, sizeof(put) - 1, NOW,
			       &reply);
		assert_int_equal(reply.status, 200);
		free(reply.body);
	}
	h2_conn_wake(fx->server, NOW + 2000);
	pump(fx);
	assert_int_equal(answer_of(fx, id)->status, 200);
	assert_int_equal(answer_of(fx, id)->body.len, 0);
	assert_int_equal(fx->push.all->records_out, 0);
	nghttp2_submit_settings(fx->client, NGHTTP2_FLAG_NONE, &open, 1);
	pump(fx);
	h2_conn_wake(fx->server, NOW + 3000);
	pump(fx);
	assert_true(fx->push.all->records_out > 0);
	assert_true(event_is(answer_of(fx, id), 1, "SubscribeToShardEvent"));
}

static void test_subscribe_refused(void **state)
{
	struct fixture *fx = *state;

	assert_error(call(fx, "SubscribeToShard", "{\"ConsumerARN\":\"arn:nothing\"}"), 400,
		     "ValidationException");
	assert_int_equal(h2_conn_subscriptions(fx->server), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_the_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preflight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cors_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_in_cbor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_piecemeal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_cors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_refused, setup, teardown),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
