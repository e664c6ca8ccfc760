/* A JSON scanner that builds no tree: it reads a text one value at a time,
 * validating as it goes, and hands back scalars as spans of the text, so the
 * hot paths (telemetry records, PutRecords bodies) parse without allocating.
 *
 * It accepts exactly what jansson's json_loadb accepts, because those paths
 * must agree with the jansson code they replace: strict UTF-8 in the whole
 * text, no \u0000, lone surrogates refused, integers (no fraction, no
 * exponent) within int64, reals that do not overflow a double, at most
 * JSONSCAN_DEPTH_MAX values deep. Duplicate keys can be refused as
 * JSON_REJECT_DUPLICATES does; remembering keys allocates only beyond
 * JSONSCAN_INLINE_KEYS of them (the caller tracks the keys it knows).
 *
 *	jsonscan_init(&s, text, len, true);
 *	if (jsonscan_value(&s, &v) < 0 || v.type != JS_OBJECT) ...
 *	while ((rc = jsonscan_member(&s, &key)) > 0) {
 *		if (jsonscan_value(&s, &v) < 0 || jsonscan_skip(&s, &v) < 0) ...
 *	}
 *	if (rc < 0 || jsonscan_end(&s) < 0) ...
 *	jsonscan_free(&s);
 */
#ifndef ALLEYCAT_JSONSCAN_H
#define ALLEYCAT_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONSCAN_DEPTH_MAX 2048         /* jansson's JSON_PARSER_MAX_DEPTH */
#define JSONSCAN_INLINE_KEYS 16

enum js_type {
	JS_NONE,                        /* no value (a field that is absent) */
	JS_OBJECT,
	JS_ARRAY,
	JS_STRING,
	JS_INTEGER,
	JS_REAL,
	JS_TRUE,
	JS_FALSE,
	JS_NULL,
};

struct js_token {
	enum js_type type;
	bool escaped;                   /* a string holding backslash escapes */
	const char *text;               /* as written; a string without its quotes */
	size_t len;
};

struct js_key {
	const char *text;
	size_t len;
	uint32_t object, hash;          /* object 0: an empty slot */
	bool escaped;
};

struct jsonscan {
	const char *p, *end;
	const char *error;              /* why the text is not JSON (NULL: it is, so far) */
	bool out_of_memory;
	bool reject_duplicates;
	bool opened;                    /* the container just opened has no item yet */
	unsigned depth;                 /* containers open */
	uint32_t objects;               /* objects opened so far, their serial numbers */
	uint32_t open[JSONSCAN_DEPTH_MAX]; /* per open container: object serial, 0 for arrays */
	struct js_key *keys;            /* open addressing; inline until it grows */
	size_t key_count, key_cap;
	struct js_key inline_keys[2 * JSONSCAN_INLINE_KEYS];
};

void jsonscan_init(struct jsonscan *s, const void *text, size_t len, bool reject_duplicates);
void jsonscan_free(struct jsonscan *s);

/* Reads the next value: a scalar whole, a container only its opening
 * bracket (read its items with jsonscan_member or jsonscan_element, or pass
 * them with jsonscan_skip). Returns 0, or -1 with s->error set. */
int jsonscan_value(struct jsonscan *s, struct js_token *t);

/* In the object being read: 1 with the next key (and its ':' read), 0 when
 * the object closes, -1 on error. Keys are not remembered: see
 * jsonscan_duplicate. */
int jsonscan_member(struct jsonscan *s, struct js_token *key);

/* In the array being read: 1 when another element follows, 0 at its end. */
int jsonscan_element(struct jsonscan *s);

/* Reads the rest of a value jsonscan_value began (nothing for a scalar),
 * validating it and refusing duplicate keys inside if so initialised. */
int jsonscan_skip(struct jsonscan *s, const struct js_token *t);

/* Remembers a key of the object being read: 0, or -1 (s->error set) when
 * that object already had it or memory ran out (s->out_of_memory). */
int jsonscan_duplicate(struct jsonscan *s, const struct js_token *key);

/* After the top value: 0 if only whitespace is left, else -1. */
int jsonscan_end(struct jsonscan *s);

/* The value of a JS_INTEGER token (always in range: the scanner checked). */
int64_t jsonscan_int(const struct js_token *t);

/* The value of a JS_INTEGER or JS_REAL as jansson's json_number_value gives
 * it: integers through int64, reals exactly as strtod rounds them. */
double jsonscan_double(const struct js_token *t);

/* Writes the decoded bytes of a JS_STRING into out, at most size of them
 * (no NUL added), and returns how many it decodes to in all. */
size_t jsonscan_unescape(const struct js_token *t, char *out, size_t size);

#endif
