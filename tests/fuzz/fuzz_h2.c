/* Fuzz target: what an HTTP/2 client can send the hub, from its first byte.
 *
 * Input: the bytes of a connection. They are sniffed as a plain port and as
 * a TLS port would sniff them (sniff.h), then fed to an HTTP/2 session
 * (h2.h) after the connection preface, in two pieces (split at the first
 * byte's value) so that frames straddling reads are exercised; everything
 * the session answers is drained. Requests reach the API of a hub with the
 * stream "alleycat", on a fixed clock. */
#include "config.h"
#include "fuzz.h"

#include <stdlib.h>

#include "hub/connlimit.h"
#include "hub/h2.h"
#include "hub/push.h"
#include "hub/metrics.h"
#include "hub/routes.h"
#include "hub/sniff.h"

static void drain(struct h2_conn *c)
{
	const uint8_t *out;

	for (int i = 0; i < 1000 && h2_conn_output(c, &out) > 0; i++)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hub *hub = fuzz_hub(0);
	struct push push;
	struct conn_limit conns;
	struct http_counts counts = { 0 };
	struct routes routes = { .hub = hub, .push = &push, .conns = &conns, .counts = &counts,
				 .max_body = 65536 };
	struct h2_conn *c;
	size_t split = size > 0 ? data[0] % (size + 1) : 0;

	(void)sniff_plain(data, size);
	(void)sniff_tls(data, size);
	push_init(&push, hub);
	connlimit_init(&conns, 4);
	c = h2_conn_new(&routes);
	if (c == NULL)
		abort();
	if (h2_conn_receive(c, (const uint8_t *)H2_PREFACE, H2_PREFACE_LEN, FUZZ_NOW_MS) == 0 &&
	    h2_conn_receive(c, data, split, FUZZ_NOW_MS) == 0) {
		drain(c);
		h2_conn_receive(c, data + split, size - split, FUZZ_NOW_MS);
	}
	drain(c);
	h2_conn_free(c);
	hub_close(hub);
	return 0;
}
