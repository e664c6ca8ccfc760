/* Fuzz target: the Kinesis API request handler.
 *
 * Input: one byte choosing the X-Amz-Target (an operation of the API, or
 * one of a few targets it must refuse), then the request body. Every input
 * runs on a fresh hub holding the stream "alleycat", the consumer "board"
 * and a few records, at a fixed time, so a crash reproduces from its input.
 * Beyond what the sanitizers catch, every answer must be well formed: a
 * JSON object, status 200 without an error type or 400/500 with one, and
 * the body's __type that type. */
#include "config.h"
#include "fuzz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/kinesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kinesis_reply reply;
	json_t *answer;

	if (size < 1)
		return 0;
	fuzz_api_call(data, size, KINESIS_CONTENT_TYPE, &reply);
	if (reply.body == NULL || reply.len != strlen(reply.body)) {
		fprintf(stderr, "fuzz_kinesis: no body, or one with a NUL byte\n");
		abort();
	}
	answer = json_loadb(reply.body, reply.len, JSON_REJECT_DUPLICATES, NULL);
	fuzz_check_answer("kinesis", &reply, answer);
	json_decref(answer);
	free(reply.body);
	return 0;
}
