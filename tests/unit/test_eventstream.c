/* The event stream codec against AWS's published vectors
 * (tests/vectors/eventstream, see its README): every positive message
 * decodes to its published fields and encodes back to its bytes, whole and
 * split at every byte; every negative one is refused for its published
 * reason. Then what the vectors do not cover: lengths that contradict each
 * other behind a valid prelude CRC, headers that do not parse, a decoder
 * that never holds more than one message, and the encoder's limits. */
#include "config.h"

#include <dirent.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "util/base64.h"
#include "util/strbuf.h"
#include "wire/eventstream.h"

#include "testfile.h"

#define MAX_VECTORS 64

struct vector {
	char name[256];
	uint8_t *bytes;
	size_t len;
	char *expected;                 /* the decoded file's text */
};

static char *vector_path(const char *kind, const char *name)
{
	const char *top = getenv("top_srcdir");
	char *path;

	assert_true(asprintf(&path, "%s/tests/vectors/eventstream/%s%s%s", top ? top : "..", kind,
			     name ? "/" : "", name ? name : "") > 0);
	return path;
}

/* Reads every vector of a kind ("positive", "negative"), sorted by name. */
static size_t load(const char *kind, struct vector *v)
{
	char sub[64];
	char *dir, *path;
	struct dirent **names;
	size_t len, count = 0;
	int n;

	snprintf(sub, sizeof(sub), "encoded/%s", kind);
	dir = vector_path(sub, NULL);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("cannot read %s (set top_srcdir to the source tree)", dir);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && count < MAX_VECTORS) {
			snprintf(v[count].name, sizeof(v[count].name), "%s", names[i]->d_name);
			path = vector_path(sub, v[count].name);
			v[count].bytes = (uint8_t *)testfile_read(path, &v[count].len);
			free(path);
			snprintf(sub, sizeof(sub), "decoded/%s", kind);
			path = vector_path(sub, v[count].name);
			v[count].expected = testfile_read(path, &len);
			free(path);
			snprintf(sub, sizeof(sub), "encoded/%s", kind);
			count++;
		}
		free(names[i]);
	}
	free(names);
	free(dir);
	assert_true(count > 0);
	return count;
}

static void unload(struct vector *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].bytes);
		free(v[i].expected);
	}
}

static size_t unbase64(json_t *j, uint8_t *out, size_t cap)
{
	const char *text = json_string_value(j), *reason;
	size_t n;

	assert_non_null(text);
	assert_true(base64_decoded_max(strlen(text)) <= cap);
	assert_int_equal(base64_decode(text, strlen(text), out, &n, &reason), 0);
	return n;
}

/* One published header against the decoded one. */
static void check_header(const char *vector, json_t *want, const struct eventstream_header *h)
{
	const char *name = json_string_value(json_object_get(want, "name"));
	json_t *value = json_object_get(want, "value");
	uint8_t bytes[256];
	size_t n;

	assert_int_equal(h->name_len, strlen(name));
	assert_memory_equal(h->name, name, h->name_len);
	assert_int_equal(h->type, json_integer_value(json_object_get(want, "type")));
	if (json_is_boolean(value)) {
		assert_int_equal(h->integer, json_is_true(value));
	} else if (json_is_integer(value)) {
		/* aws-sdk-go prints a byte unsigned (207), the decoder gives it signed. */
		int64_t v = json_integer_value(value);
		assert_int_equal(h->type == EVENTSTREAM_BYTE ? (uint8_t)h->integer : h->integer,
				 h->type == EVENTSTREAM_BYTE ? (uint8_t)v : v);
	} else {
		n = unbase64(value, bytes, sizeof(bytes));
		assert_int_equal(h->bytes_len, n);
		assert_memory_equal(h->bytes, bytes, n);
	}
	(void)vector;
}

static void check_decoded(const struct vector *v, const struct eventstream_message *m)
{
	json_t *want = json_loads(v->expected, 0, NULL);
	json_t *headers = json_object_get(want, "headers");
	uint8_t payload[256];
	size_t n;

	assert_non_null(want);
	assert_int_equal(m->total_len, json_integer_value(json_object_get(want, "total_length")));
	assert_int_equal(m->headers_len, json_integer_value(json_object_get(want, "headers_length")));
	assert_int_equal(m->prelude_crc, json_integer_value(json_object_get(want, "prelude_crc")));
	assert_int_equal(m->message_crc, json_integer_value(json_object_get(want, "message_crc")));
	assert_int_equal(m->header_count, json_array_size(headers));
	for (size_t i = 0; i < m->header_count; i++)
		check_header(v->name, json_array_get(headers, i), &m->headers[i]);
	n = unbase64(json_object_get(want, "payload"), payload, sizeof(payload));
	assert_int_equal(m->payload_len, n);
	if (n)
		assert_memory_equal(m->payload, payload, n);
	json_decref(want);
}

static void test_positive_vectors_decode(void **state)
{
	struct vector v[MAX_VECTORS];
	struct eventstream_message m;
	struct eventstream_error err;
	size_t n = load("positive", v);

	for (size_t i = 0; i < n; i++) {
		print_message("positive: %s\n", v[i].name);
		assert_int_equal(eventstream_decode(v[i].bytes, v[i].len, &m, &err), (long)v[i].len);
		check_decoded(&v[i], &m);
	}
	unload(v, n);
}

/* The decoded message, written again, is the published bytes. */
static void test_positive_vectors_encode(void **state)
{
	struct vector v[MAX_VECTORS];
	struct eventstream_message m;
	struct eventstream_error err;
	struct strbuf out;
	size_t n = load("positive", v);

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(eventstream_decode(v[i].bytes, v[i].len, &m, &err), (long)v[i].len);
		strbuf_init(&out);
		assert_int_equal(eventstream_encode(&out, m.headers, m.header_count, m.payload,
						    m.payload_len), 0);
		assert_int_equal(out.len, v[i].len);
		assert_memory_equal(out.data, v[i].bytes, v[i].len);
		strbuf_free(&out);
	}
	unload(v, n);
}

/* Feeds bytes in pieces of `piece`; returns the messages decoded, each
 * checked against the vector it came from. */
static size_t feed(struct eventstream_decoder *d, const uint8_t *bytes, size_t len, size_t piece,
		   const struct vector *expect, size_t expect_n)
{
	struct eventstream_message m;
	size_t got = 0, at = 0, used;

	while (at < len) {
		size_t n = len - at < piece ? len - at : piece, off = 0;
		while (off < n) {
			enum eventstream_step s = eventstream_decoder_step(d, bytes + at + off, n - off,
									   &used, &m);
			assert_int_not_equal(s, EVENTSTREAM_STEP_ERROR);
			off += used;
			if (s == EVENTSTREAM_STEP_MESSAGE) {
				assert_true(got < expect_n);
				check_decoded(&expect[got++], &m);
			} else {
				assert_int_equal(off, n);
			}
		}
		at += n;
	}
	return got;
}

/* All positive messages back to back, split every which way. */
static void test_incremental_every_split(void **state)
{
	struct vector v[MAX_VECTORS];
	struct eventstream_decoder d;
	struct strbuf all;
	size_t n = load("positive", v);
	size_t pieces[] = { 1, 2, 3, 5, 7, 11, 12, 13, 16, 64, 1000, 1u << 20 };

	strbuf_init(&all);
	for (size_t i = 0; i < n; i++)
		strbuf_append(&all, v[i].bytes, v[i].len);
	for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
		eventstream_decoder_init(&d, 0);
		assert_int_equal(feed(&d, (uint8_t *)all.data, all.len, pieces[p], v, n), n);
		assert_true(eventstream_decoder_idle(&d));
		/* Never more than one message held. */
		assert_true(d.cap <= 4096);
		eventstream_decoder_free(&d);
	}
	strbuf_free(&all);
	unload(v, n);
}

static enum eventstream_status reason_status(const char *reason)
{
	if (strncmp(reason, "prelude-crc", 11) == 0)
		return EVENTSTREAM_BAD_PRELUDE_CRC;
	if (strncmp(reason, "message-crc", 11) == 0)
		return EVENTSTREAM_BAD_MESSAGE_CRC;
	if (strncmp(reason, "duplicate-header", 16) == 0)
		return EVENTSTREAM_DUPLICATE_HEADER;
	fail_msg("unknown reason '%s' in a negative vector", reason);
	return EVENTSTREAM_OK;
}

/* Refused whole, and refused by the stream decoder fed a byte at a time,
 * each with its reason in words. */
static void test_negative_vectors(void **state)
{
	struct vector v[MAX_VECTORS];
	struct eventstream_message m;
	struct eventstream_error err;
	struct eventstream_decoder d;
	size_t n = load("negative", v), used;

	for (size_t i = 0; i < n; i++) {
		enum eventstream_status want = reason_status(v[i].expected);
		enum eventstream_step s = EVENTSTREAM_STEP_MORE;
		print_message("negative: %s\n", v[i].name);
		assert_int_equal(eventstream_decode(v[i].bytes, v[i].len, &m, &err), -1);
		assert_int_equal(err.status, want);
		assert_true(strlen(err.text) > 10);
		eventstream_decoder_init(&d, 0);
		for (size_t at = 0; at < v[i].len && s == EVENTSTREAM_STEP_MORE; at++)
			s = eventstream_decoder_step(&d, v[i].bytes + at, 1, &used, &m);
		assert_int_equal(s, EVENTSTREAM_STEP_ERROR);
		assert_int_equal(d.error.status, want);
		/* The failure sticks: the stream cannot be trusted again. */
		assert_int_equal(eventstream_decoder_step(&d, v[0].bytes, 16, &used, &m),
				 EVENTSTREAM_STEP_ERROR);
		eventstream_decoder_free(&d);
	}
	unload(v, n);
}

/* A prelude with a valid CRC over the given lengths. */
static void prelude(uint8_t *p, uint32_t total, uint32_t headers)
{
	uint32_t crc;

	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(total >> (24 - 8 * i));
		p[4 + i] = (uint8_t)(headers >> (24 - 8 * i));
	}
	crc = (uint32_t)crc32(0L, p, 8);
	for (int i = 0; i < 4; i++)
		p[8 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

static enum eventstream_status decode_status(const uint8_t *bytes, size_t len)
{
	struct eventstream_message m;
	struct eventstream_error err;

	if (eventstream_decode(bytes, len, &m, &err) >= 0)
		return EVENTSTREAM_OK;
	assert_true(strlen(err.text) > 10);
	return err.status;
}

static void test_bad_lengths(void **state)
{
	uint8_t msg[64] = { 0 };

	prelude(msg, 15, 0);
	assert_int_equal(decode_status(msg, sizeof(msg)), EVENTSTREAM_BAD_LENGTH);
	prelude(msg, 32, 17);
	assert_int_equal(decode_status(msg, sizeof(msg)), EVENTSTREAM_BAD_LENGTH);
	prelude(msg, 0xffffffffu, 0);
	assert_int_equal(decode_status(msg, sizeof(msg)), EVENTSTREAM_BAD_LENGTH);
	prelude(msg, 200000, 150000);
	assert_int_equal(decode_status(msg, sizeof(msg)), EVENTSTREAM_BAD_LENGTH);
	prelude(msg, 32, 0);
	assert_int_equal(decode_status(msg, 31), EVENTSTREAM_TRUNCATED);
	assert_int_equal(decode_status(msg, 11), EVENTSTREAM_TRUNCATED);
}

/* A message with these header bytes, CRCs and all. */
static size_t with_headers(uint8_t *msg, const void *headers, size_t n)
{
	uint32_t crc;

	prelude(msg, (uint32_t)(n + 16), (uint32_t)n);
	memcpy(msg + 12, headers, n);
	crc = (uint32_t)crc32(0L, msg, (uInt)(n + 12));
	for (int i = 0; i < 4; i++)
		msg[n + 12 + i] = (uint8_t)(crc >> (24 - 8 * i));
	return n + 16;
}

static void test_bad_headers(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
	} bad[] = {
		{ "\x01" "a" "\x0a", 3 },                /* type 10 */
		{ "\x00" "\x00", 2 },                    /* empty name */
		{ "\x05" "ab", 3 },                      /* name past the end */
		{ "\x01" "a" "\x07" "\x00\x05" "abc", 8 }, /* string past the end */
		{ "\x01" "a" "\x07" "\x00", 4 },         /* string length cut */
		{ "\x01" "a" "\x07" "\x00\x02" "\xc3\x28", 7 }, /* not UTF-8 */
		{ "\x01" "a" "\x05" "\x00\x00\x00", 6 }, /* long cut short */
		{ "\x01" "a" "\x09" "0123456789", 13 },  /* uuid cut short */
	};
	uint8_t msg[64 * 4 + 32], many[64 * 4];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = with_headers(msg, bad[i].bytes, bad[i].len);
		assert_int_equal(decode_status(msg, n), EVENTSTREAM_BAD_HEADER);
	}
	/* One more header than a message may hold: distinct names, no values. */
	for (size_t i = 0; i <= EVENTSTREAM_HEADERS_MAX; i++) {
		many[3 * i] = 1;
		many[3 * i + 1] = (uint8_t)('A' + i);
		many[3 * i + 2] = EVENTSTREAM_TRUE;
	}
	n = with_headers(msg, many, 3 * (EVENTSTREAM_HEADERS_MAX + 1));
	assert_int_equal(decode_status(msg, n), EVENTSTREAM_BAD_HEADER);
	n = with_headers(msg, many, 3 * EVENTSTREAM_HEADERS_MAX);
	assert_int_equal(decode_status(msg, n), EVENTSTREAM_OK);
}

/* A prelude announcing more than the reader takes is refused at its 12th
 * byte, before anything is buffered for it. */
static void test_decoder_bound(void **state)
{
	struct eventstream_decoder d;
	struct eventstream_message m;
	uint8_t msg[12];
	size_t used;

	eventstream_decoder_init(&d, 1024);
	prelude(msg, 1025, 0);
	assert_int_equal(eventstream_decoder_step(&d, msg, 11, &used, &m), EVENTSTREAM_STEP_MORE);
	assert_int_equal(eventstream_decoder_step(&d, msg + 11, 1, &used, &m),
			 EVENTSTREAM_STEP_ERROR);
	assert_int_equal(d.error.status, EVENTSTREAM_BAD_LENGTH);
	assert_true(d.cap <= 4096);
	eventstream_decoder_free(&d);
	eventstream_decoder_init(&d, 1024);
	assert_int_equal(eventstream_decoder_step(&d, msg, 12, &used, &m), EVENTSTREAM_STEP_ERROR);
	assert_int_equal(d.error.status, EVENTSTREAM_BAD_LENGTH);
	eventstream_decoder_free(&d);
}

/* What SubscribeToShard sends: string headers, found by name. */
static void test_encode_event(void **state)
{
	struct eventstream_header h[] = {
		eventstream_string(":event-type", "SubscribeToShardEvent"),
		eventstream_string(":content-type", "application/json"),
		eventstream_string(":message-type", "event"),
	};
	struct eventstream_message m;
	struct eventstream_error err;
	struct strbuf out;
	size_t start;

	strbuf_init(&out);
	strbuf_lit(&out, "before");
	start = eventstream_begin(&out, h, 3);
	strbuf_lit(&out, "{\"Records\":[]}");
	assert_int_equal(eventstream_end(&out, start), 0);
	assert_int_equal(start, 6);
	assert_int_equal(eventstream_decode((uint8_t *)out.data + start, out.len - start, &m, &err),
			 (long)(out.len - start));
	assert_true(eventstream_header_is(&m, ":event-type", "SubscribeToShardEvent"));
	assert_true(eventstream_header_is(&m, ":message-type", "event"));
	assert_false(eventstream_header_is(&m, ":message-type", "exception"));
	assert_null(eventstream_find(&m, ":exception-type"));
	assert_int_equal(m.payload_len, 14);
	assert_memory_equal(m.payload, "{\"Records\":[]}", 14);
	strbuf_free(&out);
}

static void test_encode_refuses_bad_header(void **state)
{
	struct eventstream_header h = eventstream_string("", "x");
	struct strbuf out;

	strbuf_init(&out);
	assert_int_equal(eventstream_encode(&out, &h, 1, "", 0), -1);
	strbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positive_vectors_decode),
		cmocka_unit_test(test_positive_vectors_encode),
		cmocka_unit_test(test_incremental_every_split),
		cmocka_unit_test(test_negative_vectors),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_decoder_bound),
		cmocka_unit_test(test_encode_event),
		cmocka_unit_test(test_encode_refuses_bad_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
