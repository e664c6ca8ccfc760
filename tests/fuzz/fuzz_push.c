/* Fuzz target: the push protocol, as a client drives it.
 *
 * Input: steps separated by NUL bytes. Each step is one control byte and a
 * payload:
 *   bit 0      which of two connections the step is about
 *   bits 1-4   how far the clock moves first, in 400 ms units (heartbeats,
 *              takeover grace and expiry all come within reach)
 *   bits 5-6   0 or 1: the payload is a message from the client
 *              (push_receive); 2: a producer writes the payload as a record;
 *              3: the payload "D..." deletes the stream, an empty payload
 *              deregisters the consumer, anything else closes the
 *              connection (it comes back empty for later steps)
 * After every step both connections are drained as the server would drain
 * them, and every event must be a JSON object with an Event. The hub starts
 * with the stream "alleycat", the consumer "board" and a few records, on a
 * fixed clock, with subscriptions that expire after 5 seconds. */
#include "config.h"
#include "fuzz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/push.h"
#include "util/strbuf.h"
#include "wire/hashkey.h"

#define EVENTS_PER_DRAIN 64

struct run {
	struct hub *hub;
	struct push push;
	struct push_conn conns[2];
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
	default:
		push_receive(&r->push, conn, (const char *)data, len, r->now_ms);
	}
	drain(r, &r->conns[0]);
	drain(r, &r->conns[1]);
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
	strbuf_free(&r.out);
	hub_close(r.hub);
	return 0;
}
