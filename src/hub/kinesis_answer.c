/* The API's one entry point for every transport (HTTP/1.1 today, HTTP/2
 * beside it): the body's Content-Type picks JSON or CBOR. kinesis.c speaks
 * JSON only; a CBOR request is converted to the JSON it means, answered,
 * and the answer converted back, so both encodings share every rule of the
 * API and differ only on the wire (wire/cborjson.h says how). */
#include "config.h"
#include "hub/kinesis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/cborjson.h"

/* Rewrites a JSON reply's body as CBOR. On failure (memory) the body is
 * NULL, which the transports answer as InternalFailure. */
static void reply_as_cbor(struct kinesis_reply *reply)
{
	unsigned char *cbor = NULL;
	size_t len = 0;

	if (reply->body)
		cbor = cborjson_encode(reply->body, reply->len, &len);
	free(reply->body);
	reply->body = (char *)cbor;
	reply->len = cbor ? len : 0;
	reply->content_type = KINESIS_CBOR_CONTENT_TYPE;
}

static void json_error_reply(int status, const char *type, const char *message,
			     struct kinesis_reply *reply)
{
	reply->status = status;
	reply->error = type;
	reply->body = kinesis_error_body(type, message);
	reply->len = reply->body ? strlen(reply->body) : 0;
	reply->content_type = KINESIS_CONTENT_TYPE;
}

void kinesis_error_reply(const char *content_type, int status, const char *type,
			 const char *message, struct kinesis_reply *reply)
{
	json_error_reply(status, type, message, reply);
	if (cborjson_is_cbor(content_type))
		reply_as_cbor(reply);
}

/* A CBOR request: decoded to JSON text for kinesis_handle. An unknown
 * operation is named as such before the body is judged, as with JSON. */
static void answer_cbor(struct hub *hub, const char *target, const char *body, size_t len,
			int64_t now_ms, struct kinesis_reply *reply)
{
	char why[160], message[200];
	char *text = NULL;
	size_t text_len = 0;

	if (kinesis_knows(target) &&
	    (text = cborjson_decode(body, len, &text_len, why, sizeof(why))) == NULL) {
		snprintf(message, sizeof(message), "The request body is not valid CBOR: %s.", why);
		if (strncmp(why, CBORJSON_OUT_OF_MEMORY, strlen(CBORJSON_OUT_OF_MEMORY)) == 0)
			json_error_reply(500, "InternalFailure", "Out of memory.", reply);
		else
			json_error_reply(400, "SerializationException", message, reply);
	} else {
		kinesis_handle(hub, target, text ? text : "{}", text ? text_len : 2, now_ms, reply);
	}
	free(text);
	reply_as_cbor(reply);
}

void kinesis_answer(struct hub *hub, const char *target, const char *content_type,
		    const char *body, size_t len, int64_t now_ms, struct kinesis_reply *reply)
{
	if (cborjson_is_cbor(content_type))
		answer_cbor(hub, target, body, len, now_ms, reply);
	else
		kinesis_handle(hub, target, body, len, now_ms, reply);
}
