/* Fuzz target: the push protocol, as clients drive it: two WebSocket
 * connections and two SubscribeToShard event streams, in one registry.
 *
 * Input: steps separated by NUL bytes. Each step is one control byte and a
 * payload:
 *   bit 0      which of two connections (and of two streams) the step is about
 *   bits 1-4   how far the clock moves first, in 400 ms units (heartbeats,
 *              takeover grace and expiry all come within reach)
 *   bits 5-6   1: the payload is a message from the client (push_receive);
 *              0: the payload is the body of a SubscribeToShard request
 *              that starts an event stream (subscribe_start), in the place
 *              of the one before; 2: a producer writes the payload as a
 *              record; 3: the payload "D..." deletes the stream, an empty
 *              payload deregisters the consumer, anything else closes the
 *              connection and the stream (they come back empty)
 * After every step everything is drained as the server would drain it: a
 * WebSocket event must be a JSON object with an Event; a stream's messages
 * must decode, an initial-response first, then events and exceptions with
 * JSON object payloads, until the stream ends. The hub starts with the
 * stream "alleycat", the consumer "board" and a few records, on a fixed
 * clock, with subscriptions that expire after 5 seconds. */
#include "config.h"
#include "fuzz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/push.h"
#include "hub/subscribe.h"
#include "util/strbuf.h"
#include "wire/eventstream.h"
#include "wire/hashkey.h"

#define EVENTS_PER_DRAIN 64

struct run {
	struct hub *hub;
	struct push push;
	struct push_conn conns[2];
	struct subscribe_session streams[2];
	bool streaming[2];
	struct strbuf out;
	int64_t now_ms;
};

static void check_event(const struct strbuf *out)
{
	json_t *j = json_loadb(out->data, out->len, JSON_REJECT_DUPLICATES, NULL);

	if (out->failed || !json_is_string(json_object_get(j, "Event"))) {
		fprintf(stderr, "fuzz_push: a malformed event: %.*s\n",
			(int)(out->len > 500 ? 500 : out->len), out->data ? out->data : "");
		abort();
	}
	json_decref(j);
}

/* What the server does when a connection can write: take events until
 * none is due. An overflowed connection is closed, as the server does. */
static void drain(struct run *r, struct push_conn *conn)
{
	for (int i = 0; i < EVENTS_PER_DRAIN; i++) {
		strbuf_reset(&r->out);
		if (!push_next_event(&r->push, conn, r->now_ms, &r->out))
			break;
		check_event(&r->out);
	}
	if (conn->overflowed) {
		push_conn_close(&r->push, conn);
		memset(conn, 0, sizeof(*conn));
	}
}

static void malformed(const char *what, const struct strbuf *out)
{
	fprintf(stderr, "fuzz_push: %s (%zu bytes)\n", what, out->len);
	abort();
}

/* One message of an event stream: decodes whole, says what it is in its
 * headers, and carries a JSON object. */
static void check_message(const struct strbuf *out, bool first)
{
	struct eventstream_message m;
	struct eventstream_error err;
	json_t *j;

	if (out->failed || eventstream_decode((const uint8_t *)out->data, out->len, &m, &err) !=
				   (long)out->len)
		malformed("a stream message that does not decode", out);
	if (first != eventstream_header_is(&m, ":event-type", "initial-response"))
		malformed("no initial-response first", out);
	if (!eventstream_header_is(&m, ":message-type", "event") &&
	    !eventstream_header_is(&m, ":message-type", "exception"))
		malformed("a stream message neither event nor exception", out);
	j = json_loadb((const char *)m.payload, m.payload_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j))
		malformed("a stream message without a JSON object", out);
	json_decref(j);
}

static void end_stream(struct run *r, int i)
{
	if (r->streaming[i])
		subscribe_close(&r->push, &r->streams[i]);
	r->streaming[i] = false;
}

/* Pulls a stream's messages until none is due; at its end it is closed. */
static void drain_stream(struct run *r, int i)
{
	for (int n = 0; n < EVENTS_PER_DRAIN && r->streaming[i]; n++) {
		bool first = !r->streams[i].greeted;
		strbuf_reset(&r->out);
		switch (subscribe_next(&r->push, &r->streams[i], r->now_ms, &r->out)) {
		case SUBSCRIBE_MESSAGE:
			check_message(&r->out, first);
			break;
		case SUBSCRIBE_END:
			end_stream(r, i);
			return;
		default:
			return;
		}
	}
}

static void start_stream(struct run *r, int i, const uint8_t *data, size_t len)
{
	struct subscribe_refusal refusal;

	end_stream(r, i);
	if (subscribe_start(&r->push, &r->streams[i], NULL, (const char *)data, len, r->now_ms,
			    &refusal) == 0) {
		r->streaming[i] = true;
		return;
	}
	subscribe_close(&r->push, &r->streams[i]);
	if (refusal.status < 400 || refusal.type == NULL || refusal.message == NULL) {
		fprintf(stderr, "fuzz_push: a refusal without a status, type and message\n");
		abort();
	}
}

static void put(struct run *r, const uint8_t *data, size_t len)
{
	struct stream *s = hub_find_stream(r->hub, FUZZ_STREAM);
	struct put_entry e = { .key = "fuzz", .key_len = 4, .data = data, .data_len = len };
	struct put_result res;

	if (s == NULL)
		return;
	e.hash = hashkey_of_partition_key(e.key, e.key_len);
	hub_put(r->hub, s, &e, 1, &res, r->now_ms);
}

static void special(struct run *r, struct push_conn *conn, const uint8_t *data, size_t len)
{
	struct stream *s = hub_find_stream(r->hub, FUZZ_STREAM);
	struct stream_consumer *c = s ? stream_find_consumer(s, "board") : NULL;

	if (len > 0 && data[0] == 'D') {
		if (s)
			hub_delete_stream(r->hub, s);
	} else if (len == 0) {
		if (c)
			hub_deregister_consumer(r->hub, s, c);
	} else {
		push_conn_close(&r->push, conn);
		memset(conn, 0, sizeof(*conn));
		end_stream(r, (int)(conn - r->conns));
	}
}

static void step(struct run *r, const uint8_t *data, size_t len)
{
	unsigned control = data[0];
	struct push_conn *conn = &r->conns[control & 1];

	r->now_ms += (int64_t)((control >> 1) & 15) * 400;
	data++;
	len--;
	switch ((control >> 5) & 3) {
	case 2:
		put(r, data, len);
		break;
	case 3:
		special(r, conn, data, len);
		break;
	case 0:
		start_stream(r, (int)(control & 1), data, len);
		break;
	default:
		push_receive(&r->push, conn, (const char *)data, len, r->now_ms);
	}
	drain(r, &r->conns[0]);
	drain(r, &r->conns[1]);
	drain_stream(r, 0);
	drain_stream(r, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r;
	const uint8_t *end = data + size;

	memset(&r, 0, sizeof(r));
	r.hub = fuzz_hub(5);
	r.now_ms = FUZZ_NOW_MS;
	push_init(&r.push, r.hub);
	strbuf_init(&r.out);
	fuzz_put_records(r.hub, 12, r.now_ms);
	while (data < end) {
		const uint8_t *nul = memchr(data, '\0', (size_t)(end - data));
		const uint8_t *stop = nul ? nul : end;

		if (stop > data)
			step(&r, data, (size_t)(stop - data));
		data = nul ? nul + 1 : end;
	}
	push_conn_close(&r.push, &r.conns[0]);
	push_conn_close(&r.push, &r.conns[1]);
	end_stream(&r, 0);
	end_stream(&r, 1);
	strbuf_free(&r.out);
	hub_close(r.hub);
	return 0;
}
