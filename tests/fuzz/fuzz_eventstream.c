/* Fuzz target: the event stream decoder (the bytes of a SubscribeToShard
 * answer as they come off the wire), whole and incrementally.
 *
 * The input's first byte chooses how the stream decoder receives the rest:
 * in pieces of 1 to 256 bytes. Whatever the bytes, a refusal comes with a
 * reason; a message the one-shot decoder accepts lies inside the input and
 * encodes back to exactly its bytes; the stream decoder finds the same
 * messages in the same order however the bytes are split, and never holds
 * more than the one message it is assembling. */
#include "config.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "wire/eventstream.h"

/* The stream decoder's bound here: small, so that inputs reach it. */
#define FUZZ_MESSAGE_MAX 4096

static void check(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_eventstream: %s\n", what);
	abort();
}

/* Decodes one message at data, checks it; its length, or 0 when refused. */
static size_t decode_one(const uint8_t *data, size_t size)
{
	struct eventstream_message m;
	struct eventstream_error err;
	struct strbuf again;
	long n = eventstream_decode(data, size, &m, &err);

	if (n < 0) {
		check(err.status != EVENTSTREAM_OK && err.text[0] != '\0', "refused without a reason");
		return 0;
	}
	check((size_t)n <= size && (size_t)n == m.total_len, "a length outside the input");
	check(m.payload + m.payload_len <= data + n - 4, "a payload outside the message");
	strbuf_init(&again);
	check(eventstream_encode(&again, m.headers, m.header_count, m.payload, m.payload_len) == 0,
	      "a decoded message does not encode");
	check(again.len == (size_t)n && memcmp(again.data, data, again.len) == 0,
	      "a decoded message encodes to other bytes");
	strbuf_free(&again);
	return (size_t)n;
}

/* Feeds the stream decoder in pieces; every message it yields must be the
 * next one the one-shot decoder finds. */
static void decode_stream(const uint8_t *data, size_t size, size_t piece)
{
	struct eventstream_decoder d;
	struct eventstream_message m;
	size_t at = 0, expect = 0, used;

	eventstream_decoder_init(&d, FUZZ_MESSAGE_MAX);
	while (at < size) {
		size_t n = size - at < piece ? size - at : piece;
		enum eventstream_step s = eventstream_decoder_step(&d, data + at, n, &used, &m);
		check(used <= n, "took more bytes than given");
		check(d.cap <= 2 * FUZZ_MESSAGE_MAX, "held more than one message");
		at += used;
		if (s == EVENTSTREAM_STEP_ERROR) {
			check(d.error.text[0] != '\0', "a stream refused without a reason");
			break;
		}
		if (s == EVENTSTREAM_STEP_MESSAGE) {
			size_t len = decode_one(data + expect, size - expect);
			check(len == m.total_len, "the stream decoder found another message");
			expect += len;
			check(expect == at, "the stream decoder lost its place");
		}
	}
	eventstream_decoder_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t piece;

	if (size == 0)
		return 0;
	piece = (size_t)data[0] + 1;
	decode_one(data + 1, size - 1);
	decode_stream(data + 1, size - 1, piece);
	return 0;
}
