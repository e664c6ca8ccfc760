#include "config.h"
#include "hub/routes.h"

#include <stdlib.h>
#include <string.h>

#include "hub/kinesis.h"
#include "hub/metrics.h"
#include "util/strbuf.h"

/* An answer of kinesis.h as a route's; one without a body (out of
 * memory) is a 500, in JSON, the plainest there is. */
static void take_reply(struct route_answer *out, struct kinesis_reply *reply)
{
	if (reply->body == NULL)
		kinesis_error_reply(NULL, 500, "InternalFailure", "Out of memory.", reply);
	*out = (struct route_answer){ .status = reply->status, .content_type = reply->content_type,
				      .body = reply->body, .len = reply->len,
				      .error = reply->error };
}

void routes_error(struct route_answer *out, const char *content_type, int status,
		  const char *type, const char *message)
{
	struct kinesis_reply reply;

	kinesis_error_reply(content_type, status, type, message, &reply);
	take_reply(out, &reply);
}

static void not_api(struct route_answer *out, const char *content_type)
{
	routes_error(out, content_type, 404, "UnknownOperationException",
		     "The API is served by POST / only.");
}

/* The API is POST only; another method there gets AWS's answer, which is
 * not JSON. */
static void denied(struct route_answer *out)
{
	static const char xml[] = "<AccessDeniedException>\n  <Message>Unable to determine "
				  "service/operation name to be authorized</Message>\n"
				  "</AccessDeniedException>\n";
	char *body = strdup(xml);

	if (body == NULL) {
		routes_error(out, NULL, 500, "InternalFailure", "Out of memory.");
		return;
	}
	*out = (struct route_answer){ .status = 403, .content_type = "application/xml",
				      .body = body, .len = strlen(body),
				      .error = "AccessDeniedException" };
}

void routes_too_large(struct route_answer *out, const char *content_type)
{
	routes_error(out, content_type, 413, "ValidationException",
		     "The request body is larger than the hub accepts.");
}

static void page(struct route_answer *out, const char *content_type, struct strbuf *text)
{
	if (text->failed) {
		strbuf_free(text);
		routes_error(out, NULL, 500, "InternalFailure", "Out of memory.");
		return;
	}
	*out = (struct route_answer){ .status = 200, .content_type = content_type,
				      .body = text->data, .len = text->len };
}

/* GET PATH: /healthz, /metrics, or 404. */
static void get_page(const struct routes *r, const char *path, int64_t now_ms,
		     struct route_answer *out)
{
	struct strbuf text;

	strbuf_init(&text);
	if (strcmp(path, "/healthz") == 0) {
		strbuf_puts(&text, "ok\n");
		page(out, "text/plain", &text);
	} else if (strcmp(path, "/metrics") == 0) {
		metrics_render(r->hub, r->push, now_ms, &text);
		metrics_render_connections(r->conns, &text);
		metrics_render_http(r->counts, &text);
		page(out, "text/plain; version=0.0.4", &text);
	} else {
		routes_error(out, NULL, 404, "ResourceNotFoundException", "No such page.");
	}
}

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static enum route_kind classify(const char *method, const char *path, bool origin)
{
	if (is(method, "OPTIONS") && origin)
		return ROUTE_PREFLIGHT;
	if (is(method, "PUT") || is(method, "DELETE") || is(method, "PATCH") ||
	    is(method, "OPTIONS") || (is(method, "GET") && is(path, "/")))
		return ROUTE_DENIED;
	if (is(method, "GET"))
		return ROUTE_GET;
	return is(method, "POST") && is(path, "/") ? ROUTE_API : ROUTE_NOT_API;
}

/* A header too long for its buffer is as good as none. */
static void read_or_empty(auth_header_fn header, void *user, const char *name, char *out,
			  size_t size)
{
	if (header(user, name, out, size) < 0)
		out[0] = '\0';
}

enum route_kind routes_classify(const char *method, const char *path, struct route_cors *cors,
				auth_header_fn header, void *user)
{
	enum route_kind kind = classify(method, path, cors->origin);

	cors->preflight = kind == ROUTE_PREFLIGHT;
	if (cors->preflight) {
		read_or_empty(header, user, "access-control-request-method", cors->method,
			      sizeof(cors->method));
		read_or_empty(header, user, "access-control-request-headers", cors->headers,
			      sizeof(cors->headers));
	}
	return kind;
}

void routes_answer(const struct routes *r, enum route_kind kind, const char *path,
		   const char *content_type, int64_t now_ms, struct route_answer *out)
{
	switch (kind) {
	case ROUTE_PREFLIGHT:
		*out = (struct route_answer){ .status = 200, .content_type = "text/plain" };
		return;
	case ROUTE_DENIED:
		denied(out);
		return;
	case ROUTE_GET:
		get_page(r, path, now_ms, out);
		return;
	default:        /* ROUTE_API is routes_api's: here it could only be a mistake */
		not_api(out, content_type);
	}
}

/* What AWS lets a page read of an answer besides the simple headers:
 * x-amzn-ErrorType above all, where some SDKs read an error's name. */
static const char cors_expose[] = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,"
				  "x-amz-id-2,x-amzn-ErrorMessage,Date";

size_t routes_cors_headers(const struct route_cors *cors, struct route_header out[ROUTES_CORS_MAX])
{
	size_t n = 0;

	if (!cors->origin)
		return 0;
	out[n++] = (struct route_header){ "access-control-allow-origin", "*" };
	/* A preflight that asks for something is allowed exactly that, for
	 * two days, as AWS answers it. */
	if (cors->preflight && (cors->method[0] || cors->headers[0])) {
		out[n++] = (struct route_header){ "access-control-allow-methods", cors->method };
		out[n++] = (struct route_header){ "access-control-allow-headers", cors->headers };
		out[n++] = (struct route_header){ "access-control-max-age", "172800" };
		return n;
	}
	out[n++] = (struct route_header){ "access-control-expose-headers", cors_expose };
	return n;
}

int routes_check_signature(const struct routes *r, const char *content_type,
			   auth_header_fn header, void *user, const char *body, size_t len,
			   int64_t now_ms, struct route_answer *out)
{
	char message[256];
	const char *denied;

	if (r->auth == NULL)
		return 0;
	denied = auth_check(r->auth, "POST", "/", header, user, body, len, now_ms, message,
			    sizeof(message));
	if (denied == NULL)
		return 0;
	/* Refused in the encoding the request came in. */
	routes_error(out, content_type, 400, denied, message);
	return -1;
}

int routes_api(const struct routes *r, const char *target, const char *content_type,
	       auth_header_fn header, void *user, const char *body, size_t len, int64_t now_ms,
	       struct route_answer *out)
{
	struct kinesis_reply reply;

	if (routes_check_signature(r, content_type, header, user, body, len, now_ms, out) < 0)
		return -1;
	kinesis_answer(r->hub, target, content_type, body, len, now_ms, &reply);
	take_reply(out, &reply);
	if (target && strstr(target, "PutRecord") && r->wake)
		r->wake(r->user);
	return 0;
}

void routes_keep_header(struct strbuf *sb, const char *name, size_t name_len, const char *value,
			size_t value_len)
{
	static const char nul = '\0';

	strbuf_append(sb, name, name_len);
	strbuf_append(sb, &nul, 1);
	strbuf_append(sb, value, value_len);
	strbuf_append(sb, &nul, 1);
}

int routes_header(void *user, const char *name, char *out, size_t size)
{
	const struct strbuf *sb = user;
	const char *p = sb->data, *end = sb->data ? sb->data + sb->len : NULL;

	while (p && p < end) {
		const char *value = p + strlen(p) + 1;
		if (strcmp(p, name) == 0) {
			size_t n = strlen(value);
			if (n >= size)
				return -1;
			memcpy(out, value, n + 1);
			return (int)n;
		}
		p = value + strlen(value) + 1;
	}
	return -1;
}
