/* The wording of failed calls. Transport failures are told apart by the
 * phrases httpc starts its errors with (httpc.h names them); error answers
 * by their __type, then by their HTTP status, as the AWS SDKs do. */
#include "config.h"
#include "client/failure.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client/httpc.h"
#include "util/sanitize.h"
#include "wire/protocol.h"

/* The server's own words are untrusted: this many characters at most. */
#define SERVER_WORDS_MAX 200

static const char *const denied_types[] = {
	"UnrecognizedClientException", "AccessDeniedException", "InvalidSignatureException",
	"IncompleteSignatureException", "MissingAuthenticationTokenException",
	"ExpiredTokenException",
};

static const char *const busy_types[] = {
	"ProvisionedThroughputExceededException", "LimitExceededException",
	"ServiceUnavailableException", "ServiceUnavailable", "InternalFailure",
	"ThrottlingException", "KMSThrottlingException",
};

static bool listed(const char *type, const char *const *types, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

static enum failure_kind set(struct failure *f, enum failure_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum failure_kind set(struct failure *f, enum failure_kind kind, const char *fmt, ...)
{
	va_list ap;

	f->kind = kind;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	return kind;
}

/* ------------------------------------------------------------------ */
/* No answer                                                           */
/* ------------------------------------------------------------------ */

/* The command that would serve this endpoint: a hub listening on its
 * host and port (the hub's own default needs no option). */
static void hub_hint(const struct endpoint *ep, char *out, size_t size)
{
	char where[300];

	snprintf(where, sizeof(where), "%s:%d", ep->host, ep->port);
	if (strcmp(where, HUB_DEFAULT_ADDRESS) == 0)
		snprintf(out, size, "alleycat hub");
	else
		snprintf(out, size, "alleycat hub --listen %.280s", where);
}

/* "cannot connect to HOST:PORT: Connection refused": why, in lower case. */
static void connect_cause(const char *error, char *out, size_t size)
{
	const char *why = strstr(error + strlen(HTTPC_ERROR_CONNECT), ": ");

	snprintf(out, size, "%s", why ? why + 2 : "cannot connect");
	out[0] = (char)tolower((unsigned char)out[0]);
}

/* The region of an AWS Kinesis endpoint (kinesis.REGION.amazonaws.com),
 * into out; false for any other host. */
static bool aws_region(const struct endpoint *ep, char *out, size_t size)
{
	const char *prefix = "kinesis.", *suffix = ".amazonaws.com";
	size_t n = strlen(ep->host), p = strlen(prefix), s = strlen(suffix);

	if (n <= p + s || strncmp(ep->host, prefix, p) != 0 || strcmp(ep->host + n - s, suffix) != 0 ||
	    n - p - s >= size)
		return false;
	memcpy(out, ep->host + p, n - p - s);
	out[n - p - s] = '\0';
	return true;
}

/* A host that does not resolve: on AWS the region it was made of is what
 * is wrong (the endpoint comes from --region when --endpoint is absent). */
static enum failure_kind no_host(struct failure *f, const struct endpoint *ep, const char *url)
{
	char region[sizeof(ep->host)];

	if (aws_region(ep, region, sizeof(region)))
		return set(f, FAILURE_NO_HOST, "cannot reach %s: no such host; the region %s is "
			   "probably wrong: check --region, AWS_REGION or the profile's region",
			   url, region);
	return set(f, FAILURE_NO_HOST, "cannot reach %s: no such host; check the host name in "
		   "--endpoint", url);
}

static enum failure_kind no_answer(struct failure *f, const struct failure_call *call,
				   const char *url, const char *error)
{
	char cause[256], hint[320];

	if (strncmp(error, HTTPC_ERROR_CONNECT, strlen(HTTPC_ERROR_CONNECT)) == 0) {
		connect_cause(error, cause, sizeof(cause));
		if (strstr(cause, "refused") == NULL)
			return set(f, FAILURE_UNREACHABLE, "cannot reach %s: %s; check the host "
				   "and port in --endpoint, and the network", url, cause);
		hub_hint(call->endpoint, hint, sizeof(hint));
		return set(f, FAILURE_UNREACHABLE, "cannot reach %s: %s; is a hub running? start "
			   "one with %s", url, cause, hint);
	}
	if (strncmp(error, HTTPC_ERROR_NO_HOST, strlen(HTTPC_ERROR_NO_HOST)) == 0)
		return no_host(f, call->endpoint, url);
	if (strncmp(error, HTTPC_ERROR_TIMEOUT, strlen(HTTPC_ERROR_TIMEOUT)) == 0)
		return set(f, FAILURE_TIMEOUT, "%s: %s: %s; check --endpoint, or raise --timeout "
			   "for a slow endpoint", url, call->op, error);
	/* The endpoint was reached, and may have done what the call asked:
	 * the call is named, as for a time-out. */
	if (strcmp(error, HTTPC_ERROR_CLOSED) == 0)
		return set(f, FAILURE_LOST, "%s: %s: %s; check that --endpoint is a Kinesis "
			   "endpoint or an alleycat hub", url, call->op, error);
	return set(f, FAILURE_LOST, "cannot reach %s: %s; check --endpoint%s", url, error,
		   call->endpoint->tls ? ", and --ca for its certificate" : "");
}

/* ------------------------------------------------------------------ */
/* Error answers                                                       */
/* ------------------------------------------------------------------ */

/* The __type of an error answer without its namespace
 * ("com.amazonaws.kinesis#ResourceNotFoundException"); "" for none. */
static const char *error_type(json_t *j)
{
	const char *type = json_string_value(json_object_get(j, "__type"));
	const char *hash = type ? strrchr(type, '#') : NULL;

	return hash ? hash + 1 : type ? type : "";
}

/* The error's message, printable and clamped. */
static void error_message(json_t *j, char *out, size_t size)
{
	const char *m = json_string_value(json_object_get(j, "message"));

	if (m == NULL)
		m = json_string_value(json_object_get(j, "Message"));
	sanitize_text(m ? m : "", out, size, SERVER_WORDS_MAX, true);
}

static enum failure_kind no_stream(struct failure *f, const struct failure_call *call,
				   const char *url)
{
	char stream[160];

	sanitize_text(call->stream ? call->stream : "", stream, sizeof(stream), 128, true);
	if (call->can_create)
		return set(f, FAILURE_NO_STREAM, "no stream %s at %s: create it with "
			   "--create-stream or alleycat hub --stream %s", stream, url, stream);
	return set(f, FAILURE_NO_STREAM, "no stream %s at %s: create it with alleycat hub "
		   "--stream %s, or alleycat sim --create-stream --stream %s", stream, url, stream,
		   stream);
}

/* What to do about credentials refused: mend them where they came from. */
static void credentials_fix(const struct endpoint *ep, char *out, size_t size)
{
	if (ep->credentials == NULL)
		snprintf(out, size, "the requests were not signed: set AWS_ACCESS_KEY_ID and "
			 "AWS_SECRET_ACCESS_KEY, or name a --profile that has a key");
	else if (ep->credentials_source)
		snprintf(out, size, "the key comes from %.1100s: correct it there, or name "
			 "another --profile", ep->credentials_source);
	else
		snprintf(out, size, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to a key it "
			 "takes");
}

static enum failure_kind denied(struct failure *f, const struct failure_call *call,
				const char *url, const char *why)
{
	char fix[1300];

	credentials_fix(call->endpoint, fix, sizeof(fix));
	return set(f, FAILURE_DENIED, "%s refuses the credentials (%s); %s", url, why, fix);
}

/* An answer without a Kinesis error in it: a busy proxy, or a server
 * that is not a Kinesis endpoint at all. */
static enum failure_kind untyped(struct failure *f, const struct failure_call *call,
				 const char *url, int status)
{
	/* 501 and 505: a server that does not do what a Kinesis endpoint does. */
	if (status == 429 || (status >= 500 && status != 501 && status != 505))
		return set(f, FAILURE_BUSY, "%s is unavailable: %s answered HTTP %d; try again "
			   "later", url, call->op, status);
	if (status == 401 || status == 403) {
		char why[16];

		snprintf(why, sizeof(why), "HTTP %d", status);
		return denied(f, call, url, why);
	}
	return set(f, FAILURE_NOT_KINESIS, "%s is not a Kinesis endpoint: %s answered HTTP %d "
		   "without a Kinesis error; check --endpoint", url, call->op, status);
}

static enum failure_kind error_answer(struct failure *f, const struct failure_call *call,
				      const char *url, int status, json_t *j)
{
	const char *type = error_type(j);
	char message[SERVER_WORDS_MAX * 4 + 1], words[SERVER_WORDS_MAX * 4 + 8];

	if (type[0] == '\0')
		return untyped(f, call, url, status);
	if (strcmp(type, "ResourceNotFoundException") == 0)
		return no_stream(f, call, url);
	error_message(j, message, sizeof(message));
	snprintf(words, sizeof(words), "%s%s%s", type, message[0] ? ": " : "", message);
	if (listed(type, denied_types, sizeof(denied_types) / sizeof(denied_types[0])) ||
	    status == 401 || status == 403)
		return denied(f, call, url, words);
	if (listed(type, busy_types, sizeof(busy_types) / sizeof(busy_types[0])) ||
	    status >= 500)
		return set(f, FAILURE_BUSY, "%s is busy (%s); try again later", url, words);
	return set(f, FAILURE_REFUSED, "%s refused %s: %s", url, call->op, words);
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

enum failure_kind failure_classify(struct failure *f, const struct failure_call *call,
				   int status, const char *body, size_t len, const char *error)
{
	char url[320];
	json_t *j;
	enum failure_kind kind;

	if (status >= 200 && status < 300)
		return set(f, FAILURE_NONE, "%s", "");
	endpoint_url(call->endpoint, url, sizeof(url));
	if (status <= 0)
		return no_answer(f, call, url, error ? error : "");
	j = body ? json_loadb(body, len, 0, NULL) : NULL;
	kind = error_answer(f, call, url, status, j);
	json_decref(j);
	return kind;
}

bool failure_transient(enum failure_kind kind)
{
	return kind == FAILURE_UNREACHABLE || kind == FAILURE_LOST || kind == FAILURE_BUSY ||
	       kind == FAILURE_TIMEOUT;
}

bool failure_give_up(enum failure_kind kind, int64_t since_ms, int64_t now_ms, int timeout_s)
{
	int64_t timeout_ms = (int64_t)timeout_s * 1000;

	switch (kind) {
	case FAILURE_NONE:
		return false;
	case FAILURE_BUSY:
		/* A server that asks to be tried later may: for --timeout. */
		return now_ms - since_ms >= timeout_ms;
	case FAILURE_UNREACHABLE:
	case FAILURE_LOST:
		return now_ms - since_ms >= (timeout_ms < FAILURE_CONNECT_GRACE_MS
						     ? timeout_ms : FAILURE_CONNECT_GRACE_MS);
	default:
		return true;
	}
}
