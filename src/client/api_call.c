#include "config.h"
#include "client/api_call.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/protocol.h"

/* How often a waiting call looks at *stop. */
#define API_CALL_POLL_MS 100

struct pending {
	bool done;
	const char *op;
	struct api_call_result *r;
};

static void on_answer(void *user, int status, const char *body, size_t len, const char *error)
{
	struct pending *p = user;

	p->done = true;
	p->r->status = status > 0 ? status : 0;
	p->r->body = status > 0 ? strndup(body, len) : NULL;
	if (status <= 0)
		snprintf(p->r->error, sizeof(p->r->error), "%s: %s", p->op, error);
}

int api_call_start(struct httpc *http, const struct endpoint *ep, const char *op, json_t *body,
		   httpc_done_fn done, void *user)
{
	char target[64];
	struct httpc_header headers[] = {
		{ "content-type", KINESIS_CONTENT_TYPE },
		{ "x-amz-target", target },
	};
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int rc;

	json_decref(body);
	if (text == NULL)
		return -1;
	snprintf(target, sizeof(target), "%s%s", KINESIS_TARGET_PREFIX, op);
	rc = httpc_post(http, ep, "/", headers, 2, text, strlen(text), done, user);
	free(text);
	return rc;
}

int api_call(struct httpc *http, const struct endpoint *ep, const char *op, json_t *body,
	     volatile sig_atomic_t *stop, struct api_call_result *r)
{
	struct pending p = { .op = op, .r = r };

	memset(r, 0, sizeof(*r));
	if (body == NULL) {
		snprintf(r->error, sizeof(r->error),
			 "%s: cannot build the request (text that is not UTF-8?)", op);
		return -1;
	}
	if (api_call_start(http, ep, op, body, on_answer, &p) < 0) {
		snprintf(r->error, sizeof(r->error), "%s: cannot start a request to %s:%d", op,
			 ep->host, ep->port);
		return -1;
	}
	while (!p.done && !(stop && *stop))
		httpc_poll(http, API_CALL_POLL_MS);
	/* p lives on this stack: no callback may run after the return. */
	if (!p.done)
		httpc_cancel_all(http);
	return r->status ? 0 : -1;
}

const char *api_call_error_type(const struct api_call_result *r)
{
	static char type[128];
	json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
	const char *t = json_string_value(json_object_get(j, "__type"));

	snprintf(type, sizeof(type), "%s", t ? t : "");
	json_decref(j);
	return type;
}

long long api_call_number(const struct api_call_result *r, const char *object, const char *member)
{
	json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
	json_t *o = object ? json_object_get(j, object) : j;
	long long v = (long long)json_integer_value(json_object_get(o, member));

	json_decref(j);
	return v;
}

void api_call_free(struct api_call_result *r)
{
	free(r->body);
	r->body = NULL;
}
