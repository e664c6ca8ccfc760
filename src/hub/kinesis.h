/* The Kinesis Data Streams JSON 1.1 API over the hub: one request in, one
 * response out. The server supplies the operation (from X-Amz-Target) and
 * the body; this module validates, applies and answers exactly as AWS does,
 * errors included. No network I/O here. */
#ifndef ALLEYCAT_KINESIS_H
#define ALLEYCAT_KINESIS_H

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
};

/* Answers one API call. target is the X-Amz-Target header (NULL if none). */
void kinesis_handle(struct hub *hub, const char *target, const char *body, size_t len,
		    int64_t now_ms, struct kinesis_reply *reply);

struct stream;
struct json_t;

/* The children of a closed shard as ChildShards lists them (new reference). */
struct json_t *kinesis_child_shards(const struct stream *s, size_t shard);

/* An error body {"__type":TYPE,"message":MESSAGE}, malloc'd. */
char *kinesis_error_body(const char *type, const char *message);

#endif
