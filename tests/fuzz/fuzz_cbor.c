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

/* What decodes is JSON, and must encode again (Data given as text may not
 * be base64, the one thing the encoder refuses). */
static void check_converter(const uint8_t *body, size_t len)
{
	char why[160];
	size_t text_len;
	char *text = cborjson_decode(body, len, &text_len, why, sizeof(why));
	json_error_t err;
	json_t *j;
	unsigned char *cbor;
	size_t n;

	if (text == NULL) {
		if (why[0] == '\0')
			abort();
		return;
	}
	j = json_loadb(text, text_len, 0, &err);
	if (j == NULL) {
		fprintf(stderr, "fuzz_cbor: the JSON written is refused: %s: %.300s\n", err.text, text);
		abort();
	}
	cbor = cborjson_encode(text, text_len, &n);
	free(cbor);
	json_decref(j);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kinesis_reply reply;
	json_t *answer;
	char why[160];

	if (size < 1)
		return 0;
	check_converter(data + 1, size - 1);
	fuzz_api_call(data, size, KINESIS_CBOR_CONTENT_TYPE, &reply);
	if (reply.body == NULL || strcmp(reply.content_type, KINESIS_CBOR_CONTENT_TYPE) != 0) {
		fprintf(stderr, "fuzz_cbor: no body, or not CBOR\n");
		abort();
	}
	answer = cborjson_load(reply.body, reply.len, why, sizeof(why));
	fuzz_check_answer("cbor", &reply, answer);
	json_decref(answer);
	free(reply.body);
	return 0;
}
