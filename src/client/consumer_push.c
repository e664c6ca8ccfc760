/* The consumer's push connection (consumer_private.h): one WebSocket to
 * the hub's /subscribe, carrying a subscription to every shard that is
 * ready to be read. Subscribe messages wait in c->out for the writable
 * callback; events are reassembled in c->in, decoded into batches and
 * handed over. A shard read to its end lets its children be read. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/consumer_private.h"
#include "client/push_event.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/sockopt.h"
#include "wire/protocol.h"

#define RETRY_IN_USE_MS 5000
#define MESSAGE_MAX (64u * 1024 * 1024)

/* ------------------------------------------------------------------ */
/* Events                                                             */
/* ------------------------------------------------------------------ */

static void on_established(struct consumer *c)
{
	consumer_now_streaming(c);
	for (size_t i = 0; i < c->shard_count; i++)
		if (consumer_shard_ready(c, &c->shards[i]))
			consumer_push_subscribe(c, &c->shards[i]);
}

/* A closed shard was read to its end: its children may now be read. */
static void resubscribe_ready(struct consumer *c)
{
	for (size_t k = 0; k < c->shard_count; k++)
		if (!c->shards[k].subscribed && consumer_shard_ready(c, &c->shards[k]))
			consumer_push_subscribe(c, &c->shards[k]);
}

static void handle_records_event(struct consumer *c, const struct push_event *ev,
				 const char *text, size_t len)
{
	char shard[CONSUMER_SHARD_ID_MAX];
	struct subscription *s;

	if (consumer_take_event(c, ev, text, len, shard) == 1 &&
	    (s = consumer_find_shard(c, shard)) != NULL) {
		s->subscribed = false;
		resubscribe_ready(c);
	}
}

/* Messages other than records: expiries and exceptions. */
static void handle_control_message(struct consumer *c, const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	const char *event = json_string_value(json_object_get(j, "Event"));
	const char *shard_id = json_string_value(json_object_get(j, "ShardId"));
	struct subscription *s = shard_id ? consumer_find_shard(c, shard_id) : NULL;

	if (event == NULL) {
		log_warn("consumer %s: a message that is not an event", c->name);
	} else if (strcmp(event, "SubscriptionExpired") == 0 && s) {
		const char *cont = json_string_value(json_object_get(j, "ContinuationSequenceNumber"));
		if (cont && strlen(cont) < sizeof(s->position))
			consumer_shard_moved(s, cont);
		consumer_push_subscribe(c, s);
	} else if (strcmp(event, "Exception") == 0) {
		const char *type = consumer_error_type(j);
		if (s && strcmp(type, "ResourceInUseException") == 0) {
			/* Another subscription holds the shard: try again later. */
			s->subscribed = false;
			s->want_subscribe = true;
			s->retry_at_ms = clock_wall_ms() + RETRY_IN_USE_MS;
		} else {
			consumer_call_failed(c, "SubscribeToShard", 400, text, len, NULL);
		}
	}
	json_decref(j);
}

static void handle_message(struct consumer *c, const char *text, size_t len)
{
	struct push_event ev;
	const char *reason;

	if (push_event_scan(text, len, &ev, &reason) < 0) {
		if (strcmp(reason, "out of memory") == 0)
			consumer_fail_and_retry(c, "out of memory while reading an event");
		else
			log_warn("consumer %s: %s", c->name, reason);
	} else if (push_event_is(&ev.event, "SubscribeToShardEvent")) {
		handle_records_event(c, &ev, text, len);
	} else {
		handle_control_message(c, text, len);
	}
	push_event_free(&ev);
}

/* ------------------------------------------------------------------ */
/* The connection                                                     */
/* ------------------------------------------------------------------ */

static int write_pending(struct consumer *c, struct lws *wsi)
{
	size_t n;
	unsigned char *buf;

	if (c->out.len == 0)
		return 0;
	n = strlen(c->out.data);
	buf = malloc(LWS_PRE + n);
	if (buf == NULL)
		return -1;
	memcpy(buf + LWS_PRE, c->out.data, n);
	if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n) {
		free(buf);
		return -1;
	}
	free(buf);
	memmove(c->out.data, c->out.data + n + 1, c->out.len - n - 1);
	c->out.len -= n + 1;
	if (c->out.len)
		lws_callback_on_writable(wsi);
	return 0;
}

/* The upgrade request carries a SigV4 signature, as the API calls do. */
static int sign_upgrade(struct consumer *c, struct lws *wsi, void *in, size_t len)
{
	unsigned char **p = in, *end = *p + len;
	const struct sigv4_credentials *cred = c->config.endpoint.credentials;

	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-amz-date:",
					(const unsigned char *)c->ws_date, (int)strlen(c->ws_date),
					p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"authorization:",
					(const unsigned char *)c->ws_auth, (int)strlen(c->ws_auth),
					p, end))
		return -1;
	if (cred->session_token &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-amz-security-token:",
					(const unsigned char *)cred->session_token,
					(int)strlen(cred->session_token), p, end))
		return -1;
	return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	struct consumer *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return c && c->ws_auth[0] ? sign_upgrade(c, wsi, in, len) : 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (c == NULL)
			return -1;
		sockopt_no_delay(lws_get_socket_fd(wsi));
		on_established(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c == NULL)
			return -1;
		if (c->in.len + len > MESSAGE_MAX)
			return -1;
		strbuf_append(&c->in, in, len);
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			handle_message(c, c->in.data ? c->in.data : "", c->in.len);
			strbuf_reset(&c->in);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return c ? write_pending(c, wsi) : 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c) {
			c->ws = NULL;
			consumer_fail_and_retry(c, "cannot subscribe: %s", in ? (char *)in : "connection error");
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c) {
			c->ws = NULL;
			consumer_fail_and_retry(c, "the hub closed the connection");
		}
		return 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Public (to the consumer's files)                                   */
/* ------------------------------------------------------------------ */

void consumer_push_subscribe(struct consumer *c, struct subscription *s)
{
	json_t *pos = consumer_starting_position(c, s);
	json_t *msg = json_pack("{s:s, s:s, s:s, s:o}", "Action", "SubscribeToShard", "ConsumerARN",
				c->consumer_arn, "ShardId", s->id, "StartingPosition", pos);
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

	json_decref(msg);
	if (text) {
		/* Messages wait in `out`, NUL-separated, for the writable callback. */
		strbuf_puts(&c->out, text);
		strbuf_append(&c->out, "", 1);
		free(text);
	}
	s->subscribed = true;
	s->want_subscribe = false;
	if (c->ws)
		lws_callback_on_writable(c->ws);
}

void consumer_push_connect(struct consumer *c)
{
	struct lws_client_connect_info info;
	char host[300], address[256];

	endpoint_host_header(&c->config.endpoint, host, sizeof(host));
	endpoint_address(c->config.endpoint.host, address, sizeof(address));
	memset(&info, 0, sizeof(info));
	info.context = c->context;
	info.address = address;
	info.port = c->config.endpoint.port;
	info.path = PUSH_PATH;
	info.host = host;
	info.origin = host;
	info.protocol = PUSH_SUBPROTOCOL;
	info.ssl_connection = endpoint_ssl_flags(&c->config.endpoint);
	info.opaque_user_data = c;
	info.pwsi = &c->ws;
	c->step = STEP_CONNECT;
	c->next_attempt_ms = INT64_MAX;
	strbuf_reset(&c->in);
	strbuf_reset(&c->out);
	c->ws_auth[0] = '\0';
	if (c->config.endpoint.credentials &&
	    sigv4_sign(c->config.endpoint.credentials, "GET", PUSH_PATH, host, NULL, 0, "", 0,
		       c->ws_date, c->ws_auth) < 0)
		c->ws_auth[0] = '\0';
	if (lws_client_connect_via_info(&info) == NULL) {
		c->ws = NULL;
		consumer_fail_and_retry(c, "cannot open the push connection");
	}
}

const struct lws_protocols consumer_push_protocols[] = {
	{ PUSH_SUBPROTOCOL, ws_callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};
