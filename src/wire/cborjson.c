/* CBOR <-> JSON for the Kinesis API's bodies (see cborjson.h).
 *
 * Decoding runs libcbor's stateless decoder one item at a time and writes
 * the JSON text as the items arrive (no tree: the API reads text, and its
 * PutRecords path reads it fastest), so nothing is allocated from a length
 * the input declares: a map claiming 2^60 pairs costs nothing until its
 * pairs come, and each of them takes at least a byte of the body. The open
 * maps and arrays live on a fixed stack (KINESIS_REQUEST_DEPTH_MAX deep);
 * an indefinite-length string is gathered into one buffer, never longer
 * than the body; the text is at most a few times the body. Encoding reads
 * the answer's JSON text the same way, one value at a time (jsonscan), and
 * writes maps and arrays with indefinite lengths, as AWS does. */
#include "config.h"
#include "wire/cborjson.h"

#include <cbor.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/base64.h"
#include "util/jsonscan.h"
#include "util/strbuf.h"
#include "util/utf8.h"
#include "wire/protocol.h"

/* The members of the Kinesis model (2013-12-02) whose shape is a timestamp,
 * and the one whose shape is a blob. */
static const char *const timestamp_members[] = {
	"ApproximateArrivalTimestamp", "ConsumerCreationTimestamp", "EarliestAllowedEndAt",
	"EndedAt", "StartedAt", "StreamCreationTimestamp", "Timestamp",
};
#define BLOB_MEMBER "Data"

static bool is_timestamp_member_n(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(timestamp_members) / sizeof(timestamp_members[0]); i++)
		if (strlen(timestamp_members[i]) == len && memcmp(name, timestamp_members[i], len) == 0)
			return true;
	return false;
}

bool cborjson_is_cbor(const char *content_type)
{
	size_t n = strlen(KINESIS_CBOR_CONTENT_TYPE);

	if (content_type == NULL)
		return false;
	content_type += strspn(content_type, " \t");
	if (strncasecmp(content_type, KINESIS_CBOR_CONTENT_TYPE, n) != 0)
		return false;
	content_type += n;
	content_type += strspn(content_type, " \t");
	return *content_type == '\0' || *content_type == ';';
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */
/* ------------------------------------------------------------------ */

#define INDEFINITE SIZE_MAX

/* A map or array being written. */
struct level {
	bool map;
	bool first;             /* no item written yet: no comma before the next */
	bool key_due;           /* a map's next item is a key */
	bool timestamp;         /* a map's value due is a timestamp member's */
	size_t left;            /* items still to come, or INDEFINITE */
};

enum chunks { NO_CHUNKS, TEXT_CHUNKS, BYTE_CHUNKS };

struct reader {
	struct level stack[KINESIS_REQUEST_DEPTH_MAX];
	size_t depth;
	bool started, done;     /* the top-level map opened, and closed */
	struct strbuf out;      /* the JSON text */
	size_t items;           /* items decoded so far, for the bound */
	size_t offset;          /* where the current item starts */
	size_t rest;            /* bytes from there to the end of the body */
	enum chunks chunks;     /* an indefinite-length string being gathered */
	struct strbuf gathered;
	bool tagged;            /* a tag waits for its item */
	bool failed;
	char *why;
	size_t why_size;
};

static void fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->failed)
		return;
	r->failed = true;
	va_start(ap, fmt);
	n = vsnprintf(r->why, r->why_size, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < r->why_size)
		snprintf(r->why + n, r->why_size - (size_t)n, " at byte %zu", r->offset);
}

static struct level *top(struct reader *r)
{
	return r->depth > 0 ? &r->stack[r->depth - 1] : NULL;
}

/* Counts one more item against the bound; false (and failed) past it. */
static bool count_item(struct reader *r)
{
	if (r->failed)
		return false;
	if (++r->items > KINESIS_REQUEST_ITEMS_MAX) {
		fail(r, "more than %d items", KINESIS_REQUEST_ITEMS_MAX);
		return false;
	}
	if (r->chunks != NO_CHUNKS) {
		fail(r, "an indefinite-length string holds an item of another type");
		return false;
	}
	r->tagged = false;
	return true;
}

/* Makes room for a value where the next item of the input goes: the one
 * top-level map, the next element of an array (after a comma), or a map's
 * value (its key is written). False (and failed) where no value can go. */
static bool value_due(struct reader *r, bool is_map)
{
	struct level *l = top(r);

	if (l == NULL) {
		if (r->done)
			fail(r, "more than one item at the top level");
		else if (!is_map)
			fail(r, "the body is not a map");
		return !r->failed;
	}
	if (l->map && l->key_due) {
		fail(r, "a map key is not a text string");
		return false;
	}
	if (!l->map && !l->first)
		strbuf_lit(&r->out, ",");
	l->first = false;
	if (l->left != INDEFINITE)
		l->left--;
	l->key_due = l->map;
	return true;
}

/* Closes every definite container that the last item completed, the way
 * up; the top-level map closing ends the body. */
static void close_complete(struct reader *r)
{
	struct level *l;

	while ((l = top(r)) != NULL && l->left == 0) {
		strbuf_append(&r->out, l->map ? "}" : "]", 1);
		if (--r->depth == 0)
			r->done = true;
	}
}

/* Is the value due a timestamp member's? (Its numbers are milliseconds.) */
static bool timestamp_due(struct reader *r)
{
	struct level *l = top(r);

	return l && l->map && l->timestamp;
}

/* A real as JSON writes it: enough digits to read back the same double,
 * and a point or exponent so that it stays a real. printf follows
 * LC_NUMERIC (main sets it to "C", but a library cannot count on it): a
 * comma it writes is the decimal point. */
static void put_real(struct strbuf *out, double v)
{
	char text[32], *comma;
	int n = snprintf(text, sizeof(text), "%.17g", v);

	if ((comma = strchr(text, ',')) != NULL)
		*comma = '.';
	strbuf_append(out, text, (size_t)n);
	if (strpbrk(text, ".e") == NULL)
		strbuf_lit(out, ".0");
}

static void number(struct reader *r, double as_real, const char *as_text)
{
	if (!count_item(r) || !value_due(r, false))
		return;
	if (timestamp_due(r))
		put_real(&r->out, as_real / 1000.0);
	else if (as_text)
		strbuf_puts(&r->out, as_text);
	else
		put_real(&r->out, as_real);
	close_complete(r);
}

/* A map key: written with its colon, and its shape remembered. */
static void put_key(struct reader *r, struct level *l, const char *text, size_t len)
{
	if (!l->first)
		strbuf_lit(&r->out, ",");
	l->first = false;
	strbuf_json_string(&r->out, text, len);
	strbuf_lit(&r->out, ":");
	l->key_due = false;
	l->timestamp = is_timestamp_member_n(text, len);
	if (l->left != INDEFINITE)
		l->left--;
}

/* A text string: a map's key when a key is due, else a value. A NUL is
 * refused as the JSON protocol refuses \u0000. */
static void place_text(struct reader *r, const char *text, size_t len)
{
	struct level *l = top(r);
	bool is_key = l && l->map && l->key_due;

	if (!utf8_valid(text, len)) {
		fail(r, is_key ? "a map key is not valid UTF-8" : "a text string is not valid UTF-8");
	} else if (memchr(text, '\0', len) != NULL) {
		fail(r, is_key ? "a map key holds a NUL byte" : "a text string holds a NUL byte");
	} else if (is_key) {
		put_key(r, l, text, len);
	} else if (value_due(r, false)) {
		strbuf_json_string(&r->out, text, len);
		close_complete(r);
	}
}

/* A byte string: base64 text, as the JSON protocol carries blobs. */
static void place_bytes(struct reader *r, const unsigned char *bytes, size_t len)
{
	size_t n = base64_encoded_len(len);
	char *p;

	if (!value_due(r, false))
		return;
	strbuf_lit(&r->out, "\"");
	if ((p = strbuf_reserve(&r->out, n)) != NULL) {
		base64_encode(bytes, len, p);
		r->out.len += n;
	}
	strbuf_lit(&r->out, "\"");
	close_complete(r);
}

static void literal(struct reader *r, const char *text)
{
	if (!count_item(r) || !value_due(r, false))
		return;
	strbuf_puts(&r->out, text);
	close_complete(r);
}

/* Opens a map or array of count items (INDEFINITE when it ends at a break). */
static void open_container(struct reader *r, bool map, size_t count)
{
	if (!count_item(r))
		return;
	/* Every item takes a byte at least: a longer count is a lie. */
	if (count != INDEFINITE && count > r->rest) {
		fail(r, "a %s declares %zu items, more than the body holds",
		     map ? "map" : "array", count);
		return;
	}
	if (r->depth == KINESIS_REQUEST_DEPTH_MAX) {
		fail(r, "maps and arrays nested deeper than %d", KINESIS_REQUEST_DEPTH_MAX);
		return;
	}
	if (!value_due(r, map))
		return;
	strbuf_append(&r->out, map ? "{" : "[", 1);
	r->started = true;
	r->stack[r->depth++] = (struct level){ .map = map, .first = true, .key_due = map,
					       .left = count };
	close_complete(r);
}

static void on_string(void *ctx, cbor_data data, size_t len, enum chunks type)
{
	struct reader *r = ctx;

	if (r->failed)
		return;
	if (r->chunks != NO_CHUNKS) {
		if (r->chunks != type) {
			fail(r, "an indefinite-length string holds a chunk of another type");
			return;
		}
		strbuf_append(&r->gathered, data, len);
		return;
	}
	if (!count_item(r))
		return;
	if (type == TEXT_CHUNKS)
		place_text(r, (const char *)data, len);
	else
		place_bytes(r, data, len);
}

static void on_text(void *ctx, cbor_data data, size_t len)
{
	on_string(ctx, data, len, TEXT_CHUNKS);
}

static void on_bytes(void *ctx, cbor_data data, size_t len)
{
	on_string(ctx, data, len, BYTE_CHUNKS);
}

static void start_chunks(struct reader *r, enum chunks type)
{
	if (!count_item(r))
		return;
	r->chunks = type;
	strbuf_reset(&r->gathered);
}

static void on_text_start(void *ctx)
{
	start_chunks(ctx, TEXT_CHUNKS);
}

static void on_bytes_start(void *ctx)
{
	start_chunks(ctx, BYTE_CHUNKS);
}

/* The end of an indefinite-length string: its chunks make one value. */
static void end_chunks(struct reader *r)
{
	enum chunks type = r->chunks;
	const char *data = r->gathered.data ? r->gathered.data : "";

	r->chunks = NO_CHUNKS;
	if (r->gathered.failed)
		fail(r, CBORJSON_OUT_OF_MEMORY);
	else if (type == TEXT_CHUNKS)
		place_text(r, data, r->gathered.len);
	else
		place_bytes(r, (const unsigned char *)data, r->gathered.len);
}

static void on_break(void *ctx)
{
	struct reader *r = ctx;
	struct level *l = top(r);

	if (r->failed)
		return;
	if (r->tagged) {
		fail(r, "a tag without its item");
	} else if (r->chunks != NO_CHUNKS) {
		end_chunks(r);
	} else if (l == NULL || l->left != INDEFINITE) {
		fail(r, "a break outside an indefinite-length map or array");
	} else if (l->map && !l->key_due) {
		fail(r, "a map ends between a key and its value");
	} else {
		l->left = 0;
		close_complete(r);
	}
}

static void on_unsigned(struct reader *r, uint64_t v)
{
	char text[24];

	if (v > INT64_MAX) {
		fail(r, "an integer out of range");
		return;
	}
	snprintf(text, sizeof(text), "%" PRIu64, v);
	number(r, (double)v, text);
}

/* CBOR's negative integers carry n for the value -1 - n. */
static void on_negative(struct reader *r, uint64_t n)
{
	char text[24];

	if (n > INT64_MAX) {
		fail(r, "an integer out of range");
		return;
	}
	snprintf(text, sizeof(text), "%" PRId64, -1 - (int64_t)n);
	number(r, -1.0 - (double)n, text);
}

static void on_uint8(void *ctx, uint8_t v) { on_unsigned(ctx, v); }
static void on_uint16(void *ctx, uint16_t v) { on_unsigned(ctx, v); }
static void on_uint32(void *ctx, uint32_t v) { on_unsigned(ctx, v); }
static void on_uint64(void *ctx, uint64_t v) { on_unsigned(ctx, v); }
static void on_negint8(void *ctx, uint8_t v) { on_negative(ctx, v); }
static void on_negint16(void *ctx, uint16_t v) { on_negative(ctx, v); }
static void on_negint32(void *ctx, uint32_t v) { on_negative(ctx, v); }
static void on_negint64(void *ctx, uint64_t v) { on_negative(ctx, v); }

static void on_double(void *ctx, double v)
{
	struct reader *r = ctx;

	if (!isfinite(v)) {
		fail(r, "a number that is not finite");
		return;
	}
	number(r, v, NULL);
}

static void on_float(void *ctx, float v)
{
	on_double(ctx, v);
}

static void on_null(void *ctx)
{
	literal(ctx, "null");
}

static void on_bool(void *ctx, bool v)
{
	literal(ctx, v ? "true" : "false");
}

/* A count of SIZE_MAX is no indefinite length: it is merely too long. */
static void on_array(void *ctx, size_t count)
{
	open_container(ctx, false, count == INDEFINITE ? INDEFINITE - 1 : count);
}

static void on_indef_array(void *ctx)
{
	open_container(ctx, false, INDEFINITE);
}

/* A map of n pairs holds 2n items; a count that cannot be is caught by
 * open_container's check against the body's length. */
static void on_map(void *ctx, size_t pairs)
{
	open_container(ctx, true, pairs > SIZE_MAX / 2 - 1 ? SIZE_MAX - 1 : 2 * pairs);
}

static void on_indef_map(void *ctx)
{
	open_container(ctx, true, INDEFINITE);
}

/* Tags change nothing: a timestamp is known by its member's name, and the
 * SDK's tag 1 holds milliseconds, not what RFC 8949 says it holds. */
static void on_tag(void *ctx, uint64_t tag)
{
	struct reader *r = ctx;

	(void)tag;
	if (r->failed)
		return;
	if (r->chunks != NO_CHUNKS) {
		fail(r, "an indefinite-length string holds a tag");
		return;
	}
	r->tagged = true;
}

static const struct cbor_callbacks callbacks = {
	.uint8 = on_uint8, .uint16 = on_uint16, .uint32 = on_uint32, .uint64 = on_uint64,
	.negint8 = on_negint8, .negint16 = on_negint16, .negint32 = on_negint32,
	.negint64 = on_negint64,
	.byte_string = on_bytes, .byte_string_start = on_bytes_start,
	.string = on_text, .string_start = on_text_start,
	.array_start = on_array, .indef_array_start = on_indef_array,
	.map_start = on_map, .indef_map_start = on_indef_map,
	.tag = on_tag,
	.float2 = on_float, .float4 = on_float, .float8 = on_double,
	.undefined = on_null, .null = on_null, .boolean = on_bool,
	.indef_break = on_break,
};

/* Why a body that decoded without error is still not a request. */
static void check_complete(struct reader *r, size_t len)
{
	r->offset = len;
	if (r->failed)
		return;
	if (r->chunks != NO_CHUNKS || r->tagged || (r->started && !r->done))
		fail(r, "the body ends inside an item");
	else if (!r->started)
		fail(r, "an empty body");
	else if (r->out.failed)
		fail(r, CBORJSON_OUT_OF_MEMORY);
}

char *cborjson_decode(const void *body, size_t len, size_t *json_len, char *why,
		      size_t why_size)
{
	struct reader r = { .why = why, .why_size = why_size };
	const unsigned char *p = body;
	struct cbor_decoder_result res;

	if (why_size > 0)
		why[0] = '\0';
	strbuf_init(&r.out);
	strbuf_init(&r.gathered);
	while (!r.failed && r.offset < len) {
		r.rest = len - r.offset;
		res = cbor_stream_decode(p + r.offset, r.rest, &callbacks, &r);
		if (res.status == CBOR_DECODER_NEDATA)
			fail(&r, "the body ends inside an item");
		else if (res.status != CBOR_DECODER_FINISHED)
			fail(&r, "a reserved or unassigned initial byte 0x%02x", p[r.offset]);
		else
			r.offset += res.read;
	}
	check_complete(&r, len);
	strbuf_free(&r.gathered);
	if (r.failed) {
		strbuf_free(&r.out);
		return NULL;
	}
	*json_len = r.out.len;
	return r.out.data;
}

/* The text is JSON by construction (the fuzz target and the unit tests
 * hold jansson to that), so jansson refusing it means its memory ran out,
 * which it does not always say in so many words. */
json_t *cborjson_load(const void *body, size_t len, char *why, size_t why_size)
{
	size_t text_len;
	char *text = cborjson_decode(body, len, &text_len, why, why_size);
	json_t *j;

	if (text == NULL)
		return NULL;
	j = json_loadb(text, text_len, 0, NULL);
	if (j == NULL)
		snprintf(why, why_size, "%s", CBORJSON_OUT_OF_MEMORY);
	free(text);
	return j;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

/* How a value is written: by the member it is the value of. */
enum shape { PLAIN, BLOB, TIMESTAMP };

static enum shape member_shape(const char *name, size_t len)
{
	if (len == strlen(BLOB_MEMBER) && memcmp(name, BLOB_MEMBER, len) == 0)
		return BLOB;
	return is_timestamp_member_n(name, len) ? TIMESTAMP : PLAIN;
}

/* Appends one item's head, as libcbor writes it (at most 9 bytes). */
#define HEAD_MAX 9
#define put_head(sb, encoder, ...)                                                        \
	do {                                                                               \
		unsigned char head_[HEAD_MAX];                                             \
		strbuf_append((sb), head_, encoder(__VA_ARGS__, head_, sizeof(head_)));    \
	} while (0)

static void put_int(struct strbuf *sb, int64_t v)
{
	if (v >= 0)
		put_head(sb, cbor_encode_uint, (uint64_t)v);
	else
		put_head(sb, cbor_encode_negint, (uint64_t)(-1 - v));
}

/* A timestamp: tag 1 and epoch milliseconds as an integer, which is what
 * the SDK's parser reads (Long.parseLong of the number's text). */
static void put_timestamp(struct strbuf *sb, double seconds)
{
	put_head(sb, cbor_encode_tag, 1);
	put_int(sb, (int64_t)llround(seconds * 1000.0));
}

/* A JSON string's bytes, unescaped: the token's own text when it has no
 * escape, else a copy (*copy, malloc'd; the caller frees it). NULL when
 * memory ran out. */
static const char *string_bytes(const struct js_token *t, size_t *len, char **copy)
{
	*copy = NULL;
	if (!t->escaped) {
		*len = t->len;
		return t->text;
	}
	/* An escape is longer than the byte it stands for. */
	if ((*copy = malloc(t->len + 1)) == NULL)
		return NULL;
	*len = jsonscan_unescape(t, *copy, t->len);
	return *copy;
}

/* A string: text, or under Data the bytes its base64 stands for. */
static int put_string(struct strbuf *sb, const struct js_token *t, enum shape shape)
{
	char *copy;
	size_t len, n;
	const char *s = string_bytes(t, &len, &copy), *reason;
	unsigned char *bytes = NULL;
	int rc = -1;

	if (s != NULL && shape != BLOB) {
		put_head(sb, cbor_encode_string_start, len);
		strbuf_append(sb, s, len);
		rc = 0;
	} else if (s != NULL && (bytes = malloc(base64_decoded_max(len) + 1)) != NULL &&
		   base64_decode(s, len, bytes, &n, &reason) == 0) {
		put_head(sb, cbor_encode_bytestring_start, n);
		strbuf_append(sb, bytes, n);
		rc = 0;
	}
	free(bytes);
	free(copy);
	return rc;
}

static int put_value(struct jsonscan *s, struct strbuf *sb, const struct js_token *t,
		     enum shape shape);

/* An object, as an indefinite-length map (as AWS writes its own). */
static int put_object(struct jsonscan *s, struct strbuf *sb)
{
	struct js_token key, v;
	char *copy;
	const char *name;
	size_t len;
	int rc;

	strbuf_lit(sb, "\xbf");
	while ((rc = jsonscan_member(s, &key)) > 0) {
		if ((name = string_bytes(&key, &len, &copy)) == NULL)
			return -1;
		put_head(sb, cbor_encode_string_start, len);
		strbuf_append(sb, name, len);
		rc = jsonscan_value(s, &v) < 0 ? -1 : put_value(s, sb, &v, member_shape(name, len));
		free(copy);
		if (rc < 0)
			return -1;
	}
	strbuf_lit(sb, "\xff");
	return rc;
}

static int put_array(struct jsonscan *s, struct strbuf *sb)
{
	struct js_token v;
	int rc;

	strbuf_lit(sb, "\x9f");
	while ((rc = jsonscan_element(s)) > 0)
		if (jsonscan_value(s, &v) < 0 || put_value(s, sb, &v, PLAIN) < 0)
			return -1;
	strbuf_lit(sb, "\xff");
	return rc;
}

static int put_value(struct jsonscan *s, struct strbuf *sb, const struct js_token *t,
		     enum shape shape)
{
	if (shape == TIMESTAMP && (t->type == JS_INTEGER || t->type == JS_REAL)) {
		put_timestamp(sb, jsonscan_double(t));
		return 0;
	}
	switch (t->type) {
	case JS_OBJECT:
		return put_object(s, sb);
	case JS_ARRAY:
		return put_array(s, sb);
	case JS_STRING:
		return put_string(sb, t, shape);
	case JS_INTEGER:
		put_int(sb, jsonscan_int(t));
		return 0;
	case JS_REAL:
		put_head(sb, cbor_encode_double, jsonscan_double(t));
		return 0;
	case JS_TRUE:
	case JS_FALSE:
		put_head(sb, cbor_encode_bool, t->type == JS_TRUE);
		return 0;
	case JS_NULL:
		strbuf_lit(sb, "\xf6");        /* CBOR's null */
		return 0;
	default:
		return -1;
	}
}

unsigned char *cborjson_encode(const char *json, size_t len, size_t *out_len)
{
	struct jsonscan s;
	struct js_token t;
	struct strbuf sb;
	int rc;

	strbuf_init(&sb);
	jsonscan_init(&s, json, len, false);
	rc = jsonscan_value(&s, &t) < 0 || put_value(&s, &sb, &t, PLAIN) < 0 ||
	     jsonscan_end(&s) < 0 ? -1 : 0;
	jsonscan_free(&s);
	if (rc < 0 || sb.failed || sb.data == NULL) {
		strbuf_free(&sb);
		return NULL;
	}
	*out_len = sb.len;
	return (unsigned char *)sb.data;
}
