/* The Kinesis Data Streams JSON 1.1 API over the hub: one request in, one
 * response out. The server supplies the operation (from X-Amz-Target) and
 * the body; this module validates, applies and answers exactly as AWS does,
 * errors included. No network I/O here.
 *
 * kinesis_answer (kinesis_answer.c) is what every transport calls: it also
 * takes CBOR bodies, converting them to the JSON that kinesis_handle reads
 * and its answer back (wire/cborjson.h). */
#ifndef ALLEYCAT_KINESIS_H
#define ALLEYCAT_KINESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/protocol.h"

struct hub;

#define KINESIS_ITERATOR_TTL_MS (5 * 60 * 1000)

struct kinesis_reply {
	int status;             /* HTTP status: 200, 400, or 500 */
	char *body;             /* JSON text, malloc'd: the caller frees it */
	size_t len;
	const char *error;      /* the error type, or NULL on success */
	const char *content_type; /* of the body: KINESIS_CONTENT_TYPE or KINESIS_CBOR_CONTENT_TYPE */
};

/* Answers one API call whatever its body's encoding: the Content-Type
 * header (NULL if none) picks CBOR or JSON, and the answer comes in the
 * same encoding, errors included. reply->body is NULL only when memory ran
 * out. */
void kinesis_answer(struct hub *hub, const char *target, const char *content_type,
		    const char *body, size_t len, int64_t now_ms, struct kinesis_reply *reply);

/* An error answer in the encoding content_type names, for a refusal made
 * before the API is asked (a bad signature). */
void kinesis_error_reply(const char *content_type, int status, const char *type,
			 const char *message, struct kinesis_reply *reply);

/* Answers one API call with a JSON body. target is the X-Amz-Target header
 * (NULL if none). */
void kinesis_handle(struct hub *hub, const char *target, const char *body, size_t len,
		    int64_t now_ms, struct kinesis_reply *reply);

struct stream;
struct json_t;

/* The children of a closed shard as ChildShards lists them (new reference). */
struct json_t *kinesis_child_shards(const struct stream *s, size_t shard);

/* True when target names an operation of the API. */
bool kinesis_knows(const char *target);

/* An error body {"__type":TYPE,"message":MESSAGE}, malloc'd. */
char *kinesis_error_body(const char *type, const char *message);

#endif
