/* The fuzz targets: one libFuzzer entry point each, built two ways.
 *
 * `make fuzz` links each target with clang's libFuzzer and sanitizers and
 * runs it for a bounded time; `make check` links the same target with
 * replay.c and the normal compiler and feeds it the seed corpus and every
 * crash found so far (tests/fuzz/regressions/), so a bug once found stays
 * fixed in every build. */
#ifndef ALLEYCAT_FUZZ_H
#define ALLEYCAT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "hub/hub.h"

/* The fixed clock of every target: runs must not depend on the time. */
#define FUZZ_NOW_MS 1795659501000LL
#define FUZZ_STREAM "alleycat"
#define FUZZ_SHARDS 4
#define FUZZ_CONSUMER_ARN \
	"arn:aws:kinesis:us-east-1:000000000000:stream/alleycat/consumer/board:1795659501"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fresh in-memory hub with the stream "alleycat" (4 shards, no write
 * limits) and the consumer "board" registered; subscription_seconds as
 * given (0: the default). Aborts when it cannot be built: that is a bug of
 * the harness, not a finding. */
struct hub *fuzz_hub(int subscription_seconds);

/* The X-Amz-Target an input's first byte chooses: an operation of the API,
 * one of a few targets it must refuse, or none (NULL). */
const char *fuzz_target(uint8_t choice);

struct kinesis_reply;
struct json_t;

/* Answers an input as the Kinesis targets read it: the first byte chooses
 * the X-Amz-Target (fuzz_target), the rest is the body, in the encoding
 * content_type names; on a fresh hub (fuzz_hub) holding 8 records. size
 * must be at least 1. The caller frees reply->body. */
void fuzz_api_call(const uint8_t *data, size_t size, const char *content_type,
		   struct kinesis_reply *reply);

/* Aborts, saying so on stderr under the target's name, unless an answer is
 * well formed: answer (the reply's body decoded, borrowed; NULL when it did
 * not decode) an object, status 200 without an error type or 400/500 with
 * one, and then __type that type beside a message. */
void fuzz_check_answer(const char *target, const struct kinesis_reply *reply,
		       const struct json_t *answer);

/* Puts n small telemetry records under partition keys "racer-0".. */
void fuzz_put_records(struct hub *hub, int n, int64_t now_ms);

#endif
