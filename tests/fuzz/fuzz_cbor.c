/* Fuzz target: the Kinesis API with CBOR bodies (application/x-amz-cbor-1.1).
 *
 * Input: one byte choosing the X-Amz-Target, as fuzz_kinesis reads it, then
 * the request body in CBOR. Every input runs on a fresh hub like
 * fuzz_kinesis's. Beyond what the sanitizers catch, every answer must be a
 * CBOR map with CBOR's content type, status 200 without an error type or
 * 400/500 with one, and the map's __type that type; and whatever the
 * decoder accepts, the encoder must take back. */
#include "config.h"
#include "fuzz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/kinesis.h"
#include "wire/cborjson.h"

static void check(int ok, const char *what, const struct kinesis_reply *reply)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_cbor: %s: status %d, error %s, %zu bytes\n", what, reply->status,
		reply->error ? reply->error : "(none)", reply->len);
	abort();
}

static void check_reply(const struct kinesis_reply *reply)
{
	char why[160];
	json_t *j, *type;

	check(reply->body != NULL, "no body", reply);
	check(strcmp(reply->content_type, KINESIS_CBOR_CONTENT_TYPE) == 0, "not CBOR", reply);
	check(reply->status == 200 ? reply->error == NULL
				   : (reply->status == 400 || reply->status == 500) && reply->error,
	      "status and error type disagree", reply);
	j = cborjson_decode(reply->body, reply->len, why, sizeof(why));
	check(json_is_object(j), "the answer is not a CBOR map", reply);
	type = json_object_get(j, "__type");
	if (reply->error)
		check(json_is_string(type) && strcmp(json_string_value(type), reply->error) == 0 &&
			      json_is_string(json_object_get(j, "message")),
		      "an error without its __type and message", reply);
	else
		check(type == NULL, "a success with a __type", reply);
	json_decref(j);
}

/* What decodes must encode again (Data given as text may not be base64,
 * the one thing the encoder refuses). */
static void check_converter(const uint8_t *body, size_t len)
{
	char why[160];
	json_t *j = cborjson_decode(body, len, why, sizeof(why));
	unsigned char *cbor;
	size_t n;

	if (j == NULL) {
		if (why[0] == '\0')
			abort();
		return;
	}
	cbor = cborjson_encode(j, &n);
	free(cbor);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kinesis_reply reply;
	struct hub *hub;

	if (size < 1)
		return 0;
	check_converter(data + 1, size - 1);
	hub = fuzz_hub(0);
	fuzz_put_records(hub, 8, FUZZ_NOW_MS);
	kinesis_answer(hub, fuzz_target(data[0]), KINESIS_CBOR_CONTENT_TYPE,
		       (const char *)data + 1, size - 1, FUZZ_NOW_MS + 1000, &reply);
	check_reply(&reply);
	free(reply.body);
	hub_close(hub);
	return 0;
}
