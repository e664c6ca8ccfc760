#include "config.h"
#include "client/api_call.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "wire/protocol.h"

/* How often a waiting call looks at *stop. */
#define API_CALL_POLL_MS 100
/* The wait before a call is tried again. */
#define API_CALL_RETRY_US 200000
/* Why a call with no body (a json_pack that failed) went nowhere. */
#define API_CALL_UNBUILT "cannot build the request (text that is not UTF-8?)"

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
	if (status <= 0) {
		int n = snprintf(p->r->error, sizeof(p->r->error), "%s: ", p->op);
		snprintf(p->r->error + n, sizeof(p->r->error) - (size_t)n, "%s", error);
		p->r->cause = p->r->error + n;
	}
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
		snprintf(r->error, sizeof(r->error), "%s: %s", op, API_CALL_UNBUILT);
		r->cause = r->error + strlen(op) + 2;
		return -1;
	}
	if (api_call_start(http, ep, op, body, on_answer, &p) < 0) {
		snprintf(r->error, sizeof(r->error), "%s: cannot start a request to %s:%d", op,
			 ep->host, ep->port);
		r->cause = r->error + strlen(op) + 2;
		return -1;
	}
	while (!p.done && !(stop && *stop))
		httpc_poll(http, API_CALL_POLL_MS);
	/* p lives on this stack: no callback may run after the return. */
	if (!p.done)
		httpc_cancel_all(http);
	return r->status ? 0 : -1;
}

long long api_call_number(const struct api_call_result *r, const char *object, const char *member)
{
	json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
	json_t *o = object ? json_object_get(j, object) : j;
	long long v = (long long)json_integer_value(json_object_get(o, member));

	json_decref(j);
	return v;
}

enum failure_kind api_call_failure(const struct api_call_result *r,
				   const struct failure_call *call, struct failure *f)
{
	return failure_classify(f, call, r->status, r->body, r->body ? strlen(r->body) : 0,
				r->cause ? r->cause : r->error);
}

int api_call_patiently(struct httpc *http, const struct failure_call *call, json_t *body,
		       volatile sig_atomic_t *stop, struct api_call_result *r, struct failure *f)
{
	int64_t since = clock_wall_ms();
	int rc = -1;

	memset(r, 0, sizeof(*r));
	*f = (struct failure){ .kind = FAILURE_NONE };
	if (body == NULL) {
		/* No endpoint can mend a request that cannot be written. */
		f->kind = FAILURE_REFUSED;
		snprintf(f->text, sizeof(f->text), "%s: %s", call->op, API_CALL_UNBUILT);
		return -1;
	}
	while (!(stop && *stop)) {
		api_call(http, call->endpoint, call->op, json_incref(body), stop, r);
		if (stop && *stop)
			break;
		if (api_call_failure(r, call, f) == FAILURE_NONE) {
			rc = 0;
			goto out;
		}
		api_call_free(r);
		if (failure_give_up(f->kind, since, clock_wall_ms(), httpc_timeout(http)))
			goto out;
		usleep(API_CALL_RETRY_US);
	}
	api_call_free(r);
	*f = (struct failure){ .kind = FAILURE_NONE };
out:
	json_decref(body);
	return rc;
}

void api_call_free(struct api_call_result *r)
{
	free(r->body);
	r->body = NULL;
}
