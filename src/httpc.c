#include "config.h"
#include "httpc.h"

#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sigv4.h"
#include "strbuf.h"

#define HTTPC_RESPONSE_MAX (64u * 1024 * 1024)

struct request {
	struct strbuf headers;          /* "name:\0value\0" pairs */
	size_t header_count;
	char *body;
	size_t len, sent;
	struct strbuf response;
	httpc_done_fn done;
	void *user;
	char host[256];
	char host_header[300];
	bool has_body;                  /* POST: a Content-Length and a body follow */
	bool connecting;                /* inside lws_client_connect_via_info */
	bool failed_early;              /* it failed there: httpc_post reports it */
};

static void request_free(struct request *r)
{
	strbuf_free(&r->headers);
	strbuf_free(&r->response);
	free(r->body);
	free(r);
}

/* Reports the outcome once and lets go of the request. */
static void finish(struct lws *wsi, struct request *r, int status, const char *error)
{
	lws_set_opaque_user_data(wsi, NULL);
	if (r->connecting) {
		r->failed_early = true;
		return;
	}
	r->done(r->user, status, r->response.data ? r->response.data : "", r->response.len, error);
	request_free(r);
}

static int add_headers(struct lws *wsi, struct request *r, unsigned char **p, unsigned char *end)
{
	const char *h = r->headers.data;
	char length[32];

	for (size_t i = 0; i < r->header_count; i++) {
		const char *name = h, *value = h + strlen(h) + 1;
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
						(const unsigned char *)value, (int)strlen(value), p,
						end))
			return -1;
		h = value + strlen(value) + 1;
	}
	if (!r->has_body)
		return 0;
	snprintf(length, sizeof(length), "%zu", r->len);
	return lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
					    (const unsigned char *)length, (int)strlen(length), p,
					    end);
}

static int write_body(struct lws *wsi, struct request *r)
{
	size_t chunk = r->len - r->sent;
	unsigned char *buf;
	int final;

	if (chunk > 65536)
		chunk = 65536;
	final = r->sent + chunk == r->len;
	buf = malloc(LWS_PRE + chunk + 1);
	if (buf == NULL)
		return -1;
	memcpy(buf + LWS_PRE, r->body + r->sent, chunk);
	if (final)
		lws_client_http_body_pending(wsi, 0);
	int n = lws_write(wsi, buf + LWS_PRE, chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
	free(buf);
	if (n < (int)chunk)
		return -1;
	r->sent += chunk;
	if (!final)
		lws_callback_on_writable(wsi);
	return 0;
}

void httpc_no_delay(struct lws *wsi)
{
	int one = 1;
	int fd = lws_get_socket_fd(wsi);

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int httpc_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct request *r = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	char buf[LWS_PRE + 16384], *p;
	int n;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (r == NULL)
			return -1;
		httpc_no_delay(wsi);
		if (add_headers(wsi, r, (unsigned char **)in, *(unsigned char **)in + len) < 0)
			return -1;
		if (r->has_body) {
			lws_client_http_body_pending(wsi, 1);
			lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		if (r == NULL || r->sent == r->len)
			return 0;
		return write_body(wsi, r);
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
		p = buf + LWS_PRE;
		n = sizeof(buf) - LWS_PRE;
		return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (r == NULL)
			return 0;
		if (r->response.len + len > HTTPC_RESPONSE_MAX)
			return -1;
		strbuf_append(&r->response, in, len);
		return r->response.failed ? -1 : 0;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (r)
			finish(wsi, r, (int)lws_http_client_http_response(wsi), NULL);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (r)
			finish(wsi, r, 0, in ? (const char *)in : "cannot connect");
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (r)
			finish(wsi, r, 0, "the connection closed before the answer was complete");
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static void add_header(struct request *r, const char *name, const char *value)
{
	strbuf_printf(&r->headers, "%s:", name);
	strbuf_append(&r->headers, "", 1);
	strbuf_puts(&r->headers, value);
	strbuf_append(&r->headers, "", 1);
	r->header_count++;
}

/* Adds the SigV4 headers: the request's own headers and its host signed. */
static int sign(struct request *r, const struct sigv4_credentials *cred, const char *method,
		const char *path, const struct httpc_header *headers, size_t header_count,
		const void *body, size_t len)
{
	struct sigv4_header signed_headers[16];
	char date[SIGV4_DATE_LEN], auth[SIGV4_AUTH_MAX];

	if (header_count > 16)
		return -1;
	for (size_t i = 0; i < header_count; i++)
		signed_headers[i] = (struct sigv4_header){ headers[i].name, headers[i].value };
	if (sigv4_sign(cred, method, path, r->host_header, signed_headers, header_count, body, len,
		       date, auth) < 0)
		return -1;
	add_header(r, "x-amz-date", date);
	add_header(r, "authorization", auth);
	if (cred->session_token)
		add_header(r, "x-amz-security-token", cred->session_token);
	return 0;
}

static int request(struct lws_context *context, const struct endpoint *ep, const char *method,
		   const char *path, const struct httpc_header *headers, size_t header_count,
		   const void *body, size_t len, httpc_done_fn done, void *user)
{
	struct lws_client_connect_info info;
	struct request *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	for (size_t i = 0; i < header_count; i++)
		add_header(r, headers[i].name, headers[i].value);
	endpoint_host_header(ep, r->host_header, sizeof(r->host_header));
	if (ep->credentials && sign(r, ep->credentials, method, path, headers, header_count, body,
				    len) < 0) {
		request_free(r);
		return -1;
	}
	r->body = malloc(len + 1);
	if (r->body == NULL || r->headers.failed) {
		request_free(r);
		return -1;
	}
	if (len > 0)
		memcpy(r->body, body, len);
	r->len = len;
	r->has_body = strcmp(method, "POST") == 0;
	r->done = done;
	r->user = user;
	snprintf(r->host, sizeof(r->host), "%s", ep->host);

	memset(&info, 0, sizeof(info));
	info.context = context;
	info.address = r->host;
	info.port = ep->port;
	info.path = path;
	info.host = r->host_header;
	info.origin = r->host_header;
	info.method = method;
	info.alpn = "http/1.1";
	info.ssl_connection = endpoint_ssl_flags(ep);
	info.protocol = HTTPC_PROTOCOL_NAME;
	info.opaque_user_data = r;
	r->connecting = true;
	if (lws_client_connect_via_info(&info) == NULL || r->failed_early) {
		request_free(r);
		return -1;
	}
	r->connecting = false;
	return 0;
}

int httpc_post(struct lws_context *context, const struct endpoint *ep, const char *path,
	       const struct httpc_header *headers, size_t header_count, const void *body,
	       size_t len, httpc_done_fn done, void *user)
{
	return request(context, ep, "POST", path, headers, header_count, body, len, done, user);
}

int httpc_get(struct lws_context *context, const struct endpoint *ep, const char *path,
	      httpc_done_fn done, void *user)
{
	return request(context, ep, "GET", path, NULL, 0, "", 0, done, user);
}

struct lws_context *httpc_context_new(const struct lws_protocols *protocols, const char *ca_file,
				      unsigned fd_limit)
{
	struct lws_context_creation_info info;

	log_capture_lws();
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.client_ssl_ca_filepath = ca_file;
	info.fd_limit_per_thread = fd_limit;
	return lws_create_context(&info);
}
