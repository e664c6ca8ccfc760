#include "config.h"
#include "hub/routes.h"

#include <string.h>

#include "hub/kinesis.h"
#include "hub/metrics.h"
#include "util/strbuf.h"

void routes_error(struct route_answer *out, int status, const char *type, const char *message)
{
	char *body = kinesis_error_body(type, message);

	*out = (struct route_answer){ .status = status, .content_type = KINESIS_CONTENT_TYPE,
				      .body = body, .len = body ? strlen(body) : 0 };
}

void routes_not_api(struct route_answer *out)
{
	routes_error(out, 404, "UnknownOperationException", "The API is served by POST / only.");
}

void routes_too_large(struct route_answer *out)
{
	routes_error(out, 413, "ValidationException",
		     "The request body is larger than the hub accepts.");
}

static void page(struct route_answer *out, const char *content_type, struct strbuf *text)
{
	if (text->failed) {
		strbuf_free(text);
		routes_error(out, 500, "InternalFailure", "Out of memory.");
		return;
	}
	*out = (struct route_answer){ .status = 200, .content_type = content_type,
				      .body = text->data, .len = text->len };
}

void routes_get(const struct routes *r, const char *path, int64_t now_ms,
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
		page(out, "text/plain; version=0.0.4", &text);
	} else {
		routes_error(out, 404, "ResourceNotFoundException", "No such page.");
	}
}

/* An answer of kinesis.h as a route's; one without a body (out of
 * memory) is a 500. */
static void take_reply(struct route_answer *out, struct kinesis_reply *reply)
{
	if (reply->body == NULL) {
		routes_error(out, 500, "InternalFailure", "Out of memory.");
		return;
	}
	*out = (struct route_answer){ .status = reply->status, .content_type = reply->content_type,
				      .body = reply->body, .len = reply->len };
}

void routes_refusal(struct route_answer *out, const char *content_type, int status,
		    const char *type, const char *message)
{
	struct kinesis_reply reply;

	kinesis_error_reply(content_type, status, type, message, &reply);
	take_reply(out, &reply);
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
	routes_refusal(out, content_type, 400, denied, message);
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
