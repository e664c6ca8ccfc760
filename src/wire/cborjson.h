/* CBOR bodies of the Kinesis API (application/x-amz-cbor-1.1), turned into
 * the JSON 1.1 bodies that the rest of Alleycat speaks, and back.
 *
 * This is what the AWS SDK for Java (v1 and v2, hence the KCL) sends by
 * default: the same members as the JSON protocol, in CBOR, with two
 * differences that need the API's shapes:
 *
 *   blob       JSON: base64 text        CBOR: a byte string
 *   timestamp  JSON: epoch seconds      CBOR: tag 1 and epoch MILLISECONDS
 *                    (a number)               as an integer (not RFC 8949's
 *                                             seconds: the SDK's own rule)
 *
 * In the Kinesis model every blob member is named Data and every timestamp
 * member is one of a few names (ApproximateArrivalTimestamp, Timestamp,
 * StreamCreationTimestamp, ...), and no other member has those names, so
 * the member's name says how to convert it.
 *
 * Requests come from the network: decoding never trusts a declared length,
 * allocates in proportion to the body only, and refuses input nested
 * deeper or holding more items than any request of the API
 * (KINESIS_REQUEST_DEPTH_MAX, KINESIS_REQUEST_ITEMS_MAX). */
#ifndef ALLEYCAT_CBORJSON_H
#define ALLEYCAT_CBORJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* True when a Content-Type header names CBOR bodies (parameters after ';'
 * and the case of the letters do not matter). NULL is not CBOR. */
bool cborjson_is_cbor(const char *content_type);

/* What why says when decoding failed for want of memory, not of the body. */
#define CBORJSON_OUT_OF_MEMORY "out of memory"

/* Decodes a request body, which must be one CBOR map, into the JSON text
 * it means (malloc'd and terminated, the caller frees it; its length in
 * *json_len). Byte strings become base64 text; numbers under a timestamp
 * member become epoch seconds. Returns NULL when the body is not such
 * CBOR, with the reason and its byte offset in why (always terminated), or
 * when memory runs out (why then starts with CBORJSON_OUT_OF_MEMORY). */
char *cborjson_decode(const void *body, size_t len, size_t *json_len, char *why,
		      size_t why_size);

/* The same, read into a JSON value (new reference), for readers that want
 * a tree. NULL as cborjson_decode says. */
json_t *cborjson_load(const void *body, size_t len, char *why, size_t why_size);

/* Encodes an answer, given as JSON text, in CBOR: base64 text under Data
 * becomes a byte string, a number under a timestamp member tag 1 and epoch
 * milliseconds; objects and arrays become indefinite-length maps and
 * arrays. Returns the bytes (malloc'd, the caller frees them) and their
 * count in *out_len, or NULL when memory runs out, the text is not JSON,
 * or a Data member is not base64 text. */
unsigned char *cborjson_encode(const char *json, size_t len, size_t *out_len);

#endif
