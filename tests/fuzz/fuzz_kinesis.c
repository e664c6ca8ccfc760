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

static void check(int ok, const char *what, const struct kinesis_reply *reply)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_kinesis: %s: status %d, error %s, body %.*s\n", what, reply->status,
		reply->error ? reply->error : "(none)", (int)(reply->len > 500 ? 500 : reply->len),
		reply->body ? reply->body : "");
	abort();
}

static void check_reply(const struct kinesis_reply *reply)
{
	json_t *j, *type;

	check(reply->body != NULL && reply->len == strlen(reply->body), "no body", reply);
	check(reply->status == 200 ? reply->error == NULL
				   : (reply->status == 400 || reply->status == 500) && reply->error,
	      "status and error type disagree", reply);
	j = json_loadb(reply->body, reply->len, JSON_REJECT_DUPLICATES, NULL);
	check(json_is_object(j), "the answer is not a JSON object", reply);
	type = json_object_get(j, "__type");
	if (reply->error)
		check(json_is_string(type) && strcmp(json_string_value(type), reply->error) == 0 &&
			      json_is_string(json_object_get(j, "message")),
		      "an error without its __type and message", reply);
	else
		check(type == NULL, "a success with a __type", reply);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kinesis_reply reply;
	struct hub *hub;

	if (size < 1)
		return 0;
	hub = fuzz_hub(0);
	fuzz_put_records(hub, 8, FUZZ_NOW_MS);
	kinesis_handle(hub, fuzz_target(data[0]), (const char *)data + 1, size - 1,
		       FUZZ_NOW_MS + 1000, &reply);
	check_reply(&reply);
	free(reply.body);
	hub_close(hub);
	return 0;
}
