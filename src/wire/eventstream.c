/* The event stream encoding: see eventstream.h for the layout.
 *
 * Nothing read from the wire is believed before its CRC says the bytes are
 * the sender's: the prelude's CRC is checked before its lengths are used to
 * size anything, and the message's before its headers are parsed. */
#include "config.h"
#include "wire/eventstream.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/utf8.h"

#define UUID_LEN 16

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(0L, p, (uInt)n);
}

static int fail(struct eventstream_error *err, enum eventstream_status status, size_t offset,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct eventstream_error *err, enum eventstream_status status, size_t offset,
		const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */
/* ------------------------------------------------------------------ */

/* Checks the 12 bytes of a prelude against max (the largest message the
 * reader takes): its CRC first, then that its lengths hold together. */
static int check_prelude(const uint8_t *p, size_t max, struct eventstream_error *err)
{
	uint32_t total = get32(p), headers = get32(p + 4), crc = get32(p + 8);

	if (crc_of(p, 8) != crc)
		return fail(err, EVENTSTREAM_BAD_PRELUDE_CRC, 8,
			    "prelude CRC mismatch: the message says %08x, its prelude gives %08x",
			    crc, crc_of(p, 8));
	if (total < EVENTSTREAM_OVERHEAD)
		return fail(err, EVENTSTREAM_BAD_LENGTH, 0,
			    "total length %u is below the 16 bytes of prelude and CRC", total);
	if (total > max)
		return fail(err, EVENTSTREAM_BAD_LENGTH, 0,
			    "total length %u is over the %zu bytes a message may have", total, max);
	if (headers > EVENTSTREAM_HEADERS_BYTES_MAX)
		return fail(err, EVENTSTREAM_BAD_LENGTH, 4,
			    "headers length %u is over the %u bytes headers may have", headers,
			    EVENTSTREAM_HEADERS_BYTES_MAX);
	if (headers > total - EVENTSTREAM_OVERHEAD)
		return fail(err, EVENTSTREAM_BAD_LENGTH, 4,
			    "headers length %u does not fit in a message of %u bytes", headers, total);
	if (total - EVENTSTREAM_OVERHEAD - headers > EVENTSTREAM_PAYLOAD_MAX)
		return fail(err, EVENTSTREAM_BAD_LENGTH, 0,
			    "a payload of %u bytes is over the %u a message may carry",
			    total - EVENTSTREAM_OVERHEAD - headers, EVENTSTREAM_PAYLOAD_MAX);
	return 0;
}

/* Bytes of a fixed-size value of type t; 0 for the two that hold a length. */
static size_t fixed_size(enum eventstream_type t)
{
	static const size_t sizes[] = { 0, 0, 1, 2, 4, 8, 0, 0, 8, UUID_LEN };

	return sizes[t];
}

/* Reads the value of h (its type set) at p[*pos], before end. */
static int read_value(const uint8_t *p, size_t *pos, size_t end, struct eventstream_header *h,
		      struct eventstream_error *err)
{
	size_t at = *pos, n = fixed_size(h->type);

	if (h->type == EVENTSTREAM_BYTES || h->type == EVENTSTREAM_STRING) {
		if (end - at < 2)
			return fail(err, EVENTSTREAM_BAD_HEADER, at, "header value length cut short");
		n = (size_t)p[at] << 8 | p[at + 1];
		at += 2;
	}
	if (end - at < n)
		return fail(err, EVENTSTREAM_BAD_HEADER, at,
			    "header value of %zu bytes runs past the headers", n);
	switch (h->type) {
	case EVENTSTREAM_TRUE:
	case EVENTSTREAM_FALSE:
		h->integer = h->type == EVENTSTREAM_TRUE;
		break;
	case EVENTSTREAM_BYTE:
		h->integer = (int8_t)p[at];
		break;
	case EVENTSTREAM_SHORT:
		h->integer = (int16_t)((uint16_t)p[at] << 8 | p[at + 1]);
		break;
	case EVENTSTREAM_INT:
		h->integer = (int32_t)get32(p + at);
		break;
	case EVENTSTREAM_LONG:
	case EVENTSTREAM_TIMESTAMP:
		h->integer = (int64_t)get64(p + at);
		break;
	default:
		h->bytes = p + at;
		h->bytes_len = n;
	}
	if (h->type == EVENTSTREAM_STRING && !utf8_valid((const char *)h->bytes, n))
		return fail(err, EVENTSTREAM_BAD_HEADER, at, "string header is not UTF-8");
	*pos = at + n;
	return 0;
}

static bool seen_before(const struct eventstream_message *msg, const struct eventstream_header *h)
{
	for (size_t i = 0; i < msg->header_count; i++)
		if (msg->headers[i].name_len == h->name_len &&
		    memcmp(msg->headers[i].name, h->name, h->name_len) == 0)
			return true;
	return false;
}

/* Reads one header at p[*pos], before end, into the message's next place. */
static int read_header(const uint8_t *p, size_t *pos, size_t end, struct eventstream_message *msg,
		       struct eventstream_error *err)
{
	struct eventstream_header h = { 0 };
	size_t at = *pos;

	if (msg->header_count == EVENTSTREAM_HEADERS_MAX)
		return fail(err, EVENTSTREAM_BAD_HEADER, at, "more than %d headers",
			    EVENTSTREAM_HEADERS_MAX);
	h.name_len = p[at++];
	if (h.name_len == 0 || end - at < h.name_len + 1)
		return fail(err, EVENTSTREAM_BAD_HEADER, at - 1,
			    h.name_len ? "header name runs past the headers" : "empty header name");
	h.name = (const char *)p + at;
	at += h.name_len;
	if (p[at] > EVENTSTREAM_UUID)
		return fail(err, EVENTSTREAM_BAD_HEADER, at, "unknown header value type %u", p[at]);
	h.type = (enum eventstream_type)p[at++];
	if (read_value(p, &at, end, &h, err) < 0)
		return -1;
	if (seen_before(msg, &h))
		return fail(err, EVENTSTREAM_DUPLICATE_HEADER, *pos, "header '%.*s' appears twice",
			    (int)h.name_len, h.name);
	msg->headers[msg->header_count++] = h;
	*pos = at;
	return 0;
}

long eventstream_decode(const uint8_t *data, size_t len, struct eventstream_message *msg,
			struct eventstream_error *err)
{
	size_t pos = EVENTSTREAM_PRELUDE_LEN, headers_end;

	memset(msg, 0, offsetof(struct eventstream_message, headers));
	msg->header_count = 0;
	err->status = EVENTSTREAM_OK;
	if (len < EVENTSTREAM_PRELUDE_LEN)
		return fail(err, EVENTSTREAM_TRUNCATED, len, "%zu bytes: a prelude has 12", len);
	if (check_prelude(data, EVENTSTREAM_MESSAGE_MAX, err) < 0)
		return -1;
	msg->total_len = get32(data);
	msg->headers_len = get32(data + 4);
	msg->prelude_crc = get32(data + 8);
	if (len < msg->total_len)
		return fail(err, EVENTSTREAM_TRUNCATED, len, "%zu bytes of a message of %u", len,
			    msg->total_len);
	msg->message_crc = get32(data + msg->total_len - 4);
	if (crc_of(data, msg->total_len - 4) != msg->message_crc)
		return fail(err, EVENTSTREAM_BAD_MESSAGE_CRC, msg->total_len - 4,
			    "message CRC mismatch: the message says %08x, its bytes give %08x",
			    msg->message_crc, crc_of(data, msg->total_len - 4));
	headers_end = pos + msg->headers_len;
	while (pos < headers_end)
		if (read_header(data, &pos, headers_end, msg, err) < 0)
			return -1;
	msg->payload = data + headers_end;
	msg->payload_len = msg->total_len - EVENTSTREAM_OVERHEAD - msg->headers_len;
	return (long)msg->total_len;
}

const struct eventstream_header *eventstream_find(const struct eventstream_message *msg,
						  const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < msg->header_count; i++)
		if (msg->headers[i].name_len == n && memcmp(msg->headers[i].name, name, n) == 0)
			return &msg->headers[i];
	return NULL;
}

bool eventstream_header_is(const struct eventstream_message *msg, const char *name,
			   const char *value)
{
	const struct eventstream_header *h = eventstream_find(msg, name);
	size_t n = strlen(value);

	return h && h->type == EVENTSTREAM_STRING && h->bytes_len == n &&
	       memcmp(h->bytes, value, n) == 0;
}

/* ------------------------------------------------------------------ */
/* Incremental decoding                                                */
/* ------------------------------------------------------------------ */

void eventstream_decoder_init(struct eventstream_decoder *d, size_t max_message)
{
	memset(d, 0, sizeof(*d));
	d->max_message = max_message ? max_message : EVENTSTREAM_MESSAGE_MAX;
}

void eventstream_decoder_free(struct eventstream_decoder *d)
{
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = d->need = 0;
}

/* Buffers bytes of data from *used on, until the buffer holds upto bytes
 * or data runs out. -1 when out of memory. */
static int take(struct eventstream_decoder *d, const uint8_t *data, size_t len, size_t *used,
		size_t upto)
{
	size_t n = upto - d->len;

	if (n > len - *used)
		n = len - *used;
	if (upto > d->cap) {
		size_t cap = d->cap ? d->cap : 4096;
		while (cap < upto)
			cap *= 2;
		uint8_t *bigger = realloc(d->buf, cap);
		if (bigger == NULL)
			return fail(&d->error, EVENTSTREAM_NO_MEMORY, d->len,
				    "out of memory for a message of %zu bytes", upto);
		d->buf = bigger;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, data + *used, n);
	d->len += n;
	*used += n;
	return 0;
}

/* A message that lies whole in data is decoded where it is. */
static bool whole_in_data(struct eventstream_decoder *d, const uint8_t *data, size_t len)
{
	return d->len == 0 && len >= EVENTSTREAM_PRELUDE_LEN &&
	       check_prelude(data, d->max_message, &d->error) == 0 && len >= get32(data);
}

enum eventstream_step eventstream_decoder_step(struct eventstream_decoder *d, const uint8_t *data,
					       size_t len, size_t *used,
					       struct eventstream_message *msg)
{
	*used = 0;
	if (d->error.status == EVENTSTREAM_OK && whole_in_data(d, data, len)) {
		long n = eventstream_decode(data, len, msg, &d->error);
		if (n < 0)
			return EVENTSTREAM_STEP_ERROR;
		*used = (size_t)n;
		return EVENTSTREAM_STEP_MESSAGE;
	}
	if (d->error.status != EVENTSTREAM_OK)
		return EVENTSTREAM_STEP_ERROR;
	if (d->len < EVENTSTREAM_PRELUDE_LEN) {
		if (take(d, data, len, used, EVENTSTREAM_PRELUDE_LEN) < 0)
			return EVENTSTREAM_STEP_ERROR;
		if (d->len < EVENTSTREAM_PRELUDE_LEN)
			return EVENTSTREAM_STEP_MORE;
		if (check_prelude(d->buf, d->max_message, &d->error) < 0)
			return EVENTSTREAM_STEP_ERROR;
		d->need = get32(d->buf);
	}
	if (take(d, data, len, used, d->need) < 0)
		return EVENTSTREAM_STEP_ERROR;
	if (d->len < d->need)
		return EVENTSTREAM_STEP_MORE;
	/* The buffer is reused from the next call on; msg borrows it till then. */
	d->len = d->need = 0;
	return eventstream_decode(d->buf, get32(d->buf), msg, &d->error) < 0
		       ? EVENTSTREAM_STEP_ERROR
		       : EVENTSTREAM_STEP_MESSAGE;
}

bool eventstream_decoder_idle(const struct eventstream_decoder *d)
{
	return d->len == 0;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

static void put_value(struct strbuf *out, const struct eventstream_header *h)
{
	uint8_t v[8];
	size_t n = fixed_size(h->type);

	if (h->type == EVENTSTREAM_BYTES || h->type == EVENTSTREAM_STRING) {
		v[0] = (uint8_t)(h->bytes_len >> 8);
		v[1] = (uint8_t)h->bytes_len;
		strbuf_append(out, v, 2);
	}
	if (h->type == EVENTSTREAM_BYTES || h->type == EVENTSTREAM_STRING) {
		strbuf_append(out, h->bytes, h->bytes_len);
		return;
	}
	if (h->type == EVENTSTREAM_UUID) {
		strbuf_append(out, h->bytes, UUID_LEN);
		return;
	}
	/* Big-endian, the low n bytes of the integer. */
	for (size_t i = 0; i < n; i++)
		v[i] = (uint8_t)((uint64_t)h->integer >> (8 * (n - 1 - i)));
	strbuf_append(out, v, n);
}

/* A header that cannot be written fails out as running out of memory
 * would: encoding stops with a clear -1, never a malformed message. */
static void put_header(struct strbuf *out, const struct eventstream_header *h)
{
	uint8_t b;
	bool sized = h->type == EVENTSTREAM_BYTES || h->type == EVENTSTREAM_STRING ||
		     h->type == EVENTSTREAM_UUID;

	if (h->name_len == 0 || h->name_len > 255 || (unsigned)h->type > EVENTSTREAM_UUID ||
	    (sized && h->bytes == NULL) || h->bytes_len > 65535) {
		out->failed = true;
		return;
	}
	b = (uint8_t)h->name_len;
	strbuf_append(out, &b, 1);
	strbuf_append(out, h->name, h->name_len);
	b = (uint8_t)h->type;
	strbuf_append(out, &b, 1);
	put_value(out, h);
}

size_t eventstream_begin(struct strbuf *out, const struct eventstream_header *headers, size_t n)
{
	static const uint8_t prelude[EVENTSTREAM_PRELUDE_LEN];
	size_t start = out->len;

	strbuf_append(out, prelude, sizeof(prelude));
	for (size_t i = 0; i < n; i++)
		put_header(out, &headers[i]);
	/* The headers' length waits in the prelude for eventstream_end. */
	if (!out->failed)
		put32((uint8_t *)out->data + start + 4,
		      (uint32_t)(out->len - start - EVENTSTREAM_PRELUDE_LEN));
	return start;
}

int eventstream_end(struct strbuf *out, size_t start)
{
	uint8_t crc[4];
	uint8_t *p;
	size_t total, headers;

	if (out->failed || out->len < start + EVENTSTREAM_PRELUDE_LEN)
		return -1;
	p = (uint8_t *)out->data + start;
	total = out->len - start + 4;
	headers = get32(p + 4);
	if (headers > EVENTSTREAM_HEADERS_BYTES_MAX ||
	    total - EVENTSTREAM_OVERHEAD - headers > EVENTSTREAM_PAYLOAD_MAX)
		return -1;
	put32(p, (uint32_t)total);
	put32(p + 8, crc_of(p, 8));
	put32(crc, crc_of(p, total - 4));
	strbuf_append(out, crc, sizeof(crc));
	return out->failed ? -1 : 0;
}

int eventstream_encode(struct strbuf *out, const struct eventstream_header *headers, size_t n,
		       const void *payload, size_t payload_len)
{
	size_t start = eventstream_begin(out, headers, n);

	strbuf_append(out, payload, payload_len);
	return eventstream_end(out, start);
}

struct eventstream_header eventstream_string(const char *name, const char *value)
{
	return (struct eventstream_header){ .name = name, .name_len = strlen(name),
					    .type = EVENTSTREAM_STRING,
					    .bytes = (const uint8_t *)value,
					    .bytes_len = strlen(value) };
}
