/* The HTTP client on libcurl's multi interface.
 *
 * Each request is an easy handle added to the client's multi handle; the
 * multi handle owns the connection cache, so a request finds the
 * connection the previous one left open (keep-alive) and libcurl opens a
 * new one when the server has closed it. Requests end in finish(), which
 * takes the handle out, runs the callback and frees everything: a
 * callback may start new requests, never finds its own still listed. */
#include "config.h"
#include "client/httpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/strbuf.h"
#include "wire/sigv4.h"

#define HTTPC_RESPONSE_MAX (64u * 1024 * 1024)
#define HTTPC_MAX_CONNECTIONS 64        /* idle connections kept for reuse */
#define HTTPC_HEADERS_MAX 16

struct request {
	struct request *prev, *next;    /* the client's list of requests in flight */
	struct httpc *client;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	struct strbuf response;
	httpc_done_fn done;
	httpc_data_fn data;             /* a streaming answer's bytes (NULL: collect) */
	void *user;
	bool ended_by_reader;           /* data asked to end */
	bool paused;                    /* data could not take bytes: wait for httpc_resume */
	bool too_large;                 /* the answer passed HTTPC_RESPONSE_MAX */
	int idle_s;                     /* a stream: end it after this long without a
					 * byte (0: never) */
	int64_t heard_ms;               /* a stream: its last byte (or start, or resume) */
	char where[300];                /* host:port, for messages */
	char error[CURL_ERROR_SIZE];
};

struct httpc {
	CURLM *multi;
	struct request *requests;
	int in_flight;
	int timeout_s;
	int stream_idle_s;              /* httpc_set_stream_idle */
	bool closing;                   /* in httpc_free: no new requests */
};

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void request_free(struct request *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	strbuf_free(&r->response);
	free(r->body);
	free(r);
}

static void unlink_request(struct httpc *c, struct request *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		c->requests = r->next;
	if (r->next)
		r->next->prev = r->prev;
	c->in_flight--;
}

/* Takes a request out of the client, reports its outcome once and frees
 * it. */
static void finish(struct request *r, int status, const char *error)
{
	struct httpc *c = r->client;

	curl_multi_remove_handle(c->multi, r->easy);
	unlink_request(c, r);
	r->done(r->user, status, r->response.data ? r->response.data : "", r->response.len,
		error);
	request_free(r);
}

/* A 2xx answer of a streaming request goes to its reader as it comes. */
static bool streams_now(struct request *r)
{
	long status = 0;

	if (r->data == NULL)
		return false;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	return status >= 200 && status < 300;
}

static size_t on_data(char *data, size_t size, size_t n, void *user)
{
	struct request *r = user;

	r->heard_ms = clock_mono_ms();
	if (streams_now(r)) {
		int rc = r->data(r->user, data, n);
		if (rc == 0)
			return size * n;
		if (rc == 1) {
			r->paused = true;
			return CURL_WRITEFUNC_PAUSE;
		}
		r->ended_by_reader = true;
		return 0;
	}
	if (r->response.len + n > HTTPC_RESPONSE_MAX) {
		r->too_large = true;
		return 0;       /* libcurl ends the transfer with CURLE_WRITE_ERROR */
	}
	strbuf_append(&r->response, data, n);
	return r->response.failed ? 0 : size * n;
}

/* Why a request got no answer, in words a user can act on. */
static void describe_failure(const struct request *r, CURLcode rc, char *out, size_t size)
{
	const char *detail = r->error[0] ? r->error : curl_easy_strerror(rc);
	long os_errno = 0;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(out, size, HTTPC_ERROR_TIMEOUT "%d s (--timeout)", r->client->timeout_s);
		break;
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		snprintf(out, size, HTTPC_ERROR_CLOSED);
		break;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &os_errno);
		snprintf(out, size, HTTPC_ERROR_CONNECT "%s: %s", r->where,
			 os_errno ? strerror((int)os_errno) : detail);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(out, size, HTTPC_ERROR_NO_HOST "%s", r->where);
		break;
	case CURLE_WRITE_ERROR:
		snprintf(out, size, r->ended_by_reader ? HTTPC_ENDED_BY_READER
				    : r->too_large ? "the answer is larger than 64 MiB"
						 : "out of memory for the answer");
		break;
	default:
		snprintf(out, size, "%s", detail);
	}
}

static void complete(CURLMsg *msg)
{
	struct request *r = NULL;
	long status = 0;
	char why[CURL_ERROR_SIZE + 400];

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
	if (msg->data.result == CURLE_OK) {
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		finish(r, (int)status, NULL);
		return;
	}
	describe_failure(r, msg->data.result, why, sizeof(why));
	finish(r, 0, why);
}

/* ------------------------------------------------------------------ */
/* Starting a request                                                  */
/* ------------------------------------------------------------------ */

static int add_header(struct request *r, const char *name, const char *value)
{
	char line[SIGV4_AUTH_MAX + 320];
	struct curl_slist *grown;

	snprintf(line, sizeof(line), "%s: %s", name, value);
	grown = curl_slist_append(r->headers, line);
	if (grown == NULL)
		return -1;
	r->headers = grown;
	return 0;
}

/* Adds the SigV4 headers: the request's own headers and its host signed. */
static int sign(struct request *r, const struct sigv4_credentials *cred, const char *method,
		const char *path, const char *host, const struct httpc_header *headers,
		size_t header_count, const void *body, size_t len)
{
	struct sigv4_header signed_headers[HTTPC_HEADERS_MAX];
	char date[SIGV4_DATE_LEN], auth[SIGV4_AUTH_MAX];

	if (header_count > HTTPC_HEADERS_MAX)
		return -1;
	for (size_t i = 0; i < header_count; i++)
		signed_headers[i] = (struct sigv4_header){ headers[i].name, headers[i].value };
	if (sigv4_sign(cred, method, path, host, signed_headers, header_count, body, len, date,
		       auth) < 0)
		return -1;
	if (add_header(r, "x-amz-date", date) < 0 || add_header(r, "authorization", auth) < 0)
		return -1;
	return cred->session_token ? add_header(r, "x-amz-security-token", cred->session_token)
				   : 0;
}

/* The headers as sent: the caller's, the Host that was signed, the
 * signature, and no "Expect: 100-continue" (a server that does not answer
 * it would cost every large PutRecords a second). */
static int build_headers(struct request *r, const struct endpoint *ep, const char *method,
			 const char *path, const struct httpc_header *headers,
			 size_t header_count, const void *body, size_t len)
{
	char host[300];

	endpoint_host_header(ep, host, sizeof(host));
	snprintf(r->where, sizeof(r->where), "%s:%d", ep->host, ep->port);
	for (size_t i = 0; i < header_count; i++)
		if (add_header(r, headers[i].name, headers[i].value) < 0)
			return -1;
	if (add_header(r, "host", host) < 0 || add_header(r, "expect", "") < 0)
		return -1;
	return ep->credentials ? sign(r, ep->credentials, method, path, host, headers,
				      header_count, body, len)
			       : 0;
}

static void set_transport(CURL *easy, const struct endpoint *ep, int timeout_s, bool stream)
{
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	if (stream)
		curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_s * 1000L);
	else
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout_s * 1000L);
	curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	/* HTTP/2 where TLS negotiates it, HTTP/1.1 otherwise; a request waits
	 * for a connection that may carry it alongside others. */
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
	if (ep->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, ep->ca_file);
	if (ep->insecure) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static int configure(struct request *r, const struct endpoint *ep, const char *method,
		     const char *path, size_t len)
{
	char url[600];
	CURL *easy = r->easy;

	snprintf(url, sizeof(url), "%s://%s:%d%s", ep->tls ? "https" : "http", ep->host, ep->port,
		 path);
	if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK)
		return -1;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->error);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, r->headers);
	set_transport(easy, ep, r->client->timeout_s, r->data != NULL);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r->body);
	} else {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	}
	return 0;
}

static int request(struct httpc *c, const struct endpoint *ep, const char *method,
		   const char *path, const struct httpc_header *headers, size_t header_count,
		   const void *body, size_t len, httpc_data_fn data, httpc_done_fn done,
		   void *user)
{
	struct request *r;

	if (c->closing || (r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->client = c;
	r->data = data;
	r->done = done;
	r->user = user;
	r->idle_s = data ? c->stream_idle_s : 0;
	r->heard_ms = clock_mono_ms();
	r->body = malloc(len + 1);
	r->easy = curl_easy_init();
	if (r->body == NULL || r->easy == NULL ||
	    build_headers(r, ep, method, path, headers, header_count, body, len) < 0) {
		request_free(r);
		return -1;
	}
	memcpy(r->body, body, len);
	if (configure(r, ep, method, path, len) < 0 ||
	    curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
		request_free(r);
		return -1;
	}
	r->next = c->requests;
	if (c->requests)
		c->requests->prev = r;
	c->requests = r;
	c->in_flight++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

struct httpc *httpc_new(int timeout_s)
{
	struct httpc *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->timeout_s = timeout_s > 0 ? timeout_s : HTTPC_DEFAULT_TIMEOUT_S;
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)HTTPC_MAX_CONNECTIONS);
	return c;
}

void httpc_cancel_all(struct httpc *c)
{
	/* A callback may start requests: they are not cancelled here. */
	struct request *r = c->requests, *next;
	int n = c->in_flight;

	for (; r && n > 0; r = next, n--) {
		next = r->next;
		finish(r, HTTPC_CANCELLED, "cancelled");
	}
}

void httpc_free(struct httpc *c)
{
	if (c == NULL)
		return;
	c->closing = true;
	while (c->requests)
		httpc_cancel_all(c);
	curl_multi_cleanup(c->multi);
	free(c);
}

int httpc_post(struct httpc *c, const struct endpoint *ep, const char *path,
	       const struct httpc_header *headers, size_t header_count, const void *body,
	       size_t len, httpc_done_fn done, void *user)
{
	return request(c, ep, "POST", path, headers, header_count, body, len, NULL, done, user);
}

int httpc_post_stream(struct httpc *c, const struct endpoint *ep, const char *path,
		      const struct httpc_header *headers, size_t header_count, const void *body,
		      size_t len, httpc_data_fn data, httpc_done_fn done, void *user)
{
	return request(c, ep, "POST", path, headers, header_count, body, len, data, done, user);
}

int httpc_get(struct httpc *c, const struct endpoint *ep, const char *path, httpc_done_fn done,
	      void *user)
{
	return request(c, ep, "GET", path, NULL, 0, "", 0, NULL, done, user);
}

void httpc_resume(struct httpc *c)
{
	for (struct request *r = c->requests; r; r = r->next)
		if (r->paused) {
			r->paused = false;
			r->heard_ms = clock_mono_ms();
			/* The held bytes are written again now: data may pause again. */
			curl_easy_pause(r->easy, CURLPAUSE_CONT);
		}
}

/* The first stream gone quiet for longer than its idle time, or NULL. */
static struct request *quiet_stream(struct httpc *c, int64_t now_ms)
{
	for (struct request *r = c->requests; r; r = r->next)
		if (r->idle_s && !r->paused && now_ms - r->heard_ms >= (int64_t)r->idle_s * 1000)
			return r;
	return NULL;
}

/* Ends the streams gone quiet: one at a time, as each callback may start
 * or end requests. */
static void end_quiet_streams(struct httpc *c)
{
	struct request *r;
	char error[64];

	while ((r = quiet_stream(c, clock_mono_ms())) != NULL) {
		snprintf(error, sizeof(error), HTTPC_ERROR_IDLE "%d s", r->idle_s);
		finish(r, 0, error);
	}
}

int httpc_perform(struct httpc *c)
{
	int running = 0, left;
	CURLMsg *msg;

	curl_multi_perform(c->multi, &running);
	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			complete(msg);
	end_quiet_streams(c);
	return c->in_flight;
}

void httpc_set_stream_idle(struct httpc *c, int seconds)
{
	c->stream_idle_s = seconds;
}

int httpc_poll(struct httpc *c, int timeout_ms)
{
	curl_multi_poll(c->multi, NULL, 0, timeout_ms > 0 ? timeout_ms : 0, NULL);
	return httpc_perform(c);
}

int httpc_in_flight(const struct httpc *c)
{
	return c->in_flight;
}

void httpc_wakeup(struct httpc *c)
{
	curl_multi_wakeup(c->multi);
}

int httpc_timeout(const struct httpc *c)
{
	return c->timeout_s;
}
