#include "config.h"
#include "hub/subscribe.h"

#include <jansson.h>
#include <string.h>

#include "wire/cborjson.h"
#include "wire/eventstream.h"

static int refuse(struct subscribe_refusal *refusal, int status, const char *type,
		  const char *message)
{
	*refusal = (struct subscribe_refusal){ status, type, message };
	return -1;
}

/* The request as the API reads it, from JSON or from CBOR (the AWS SDK
 * for Java's default); NULL if it is neither. */
static json_t *load_request(const char *content_type, const char *body, size_t len)
{
	char why[160];

	if (cborjson_is_cbor(content_type))
		return cborjson_load(body, len, why, sizeof(why));
	return json_loadb(body, len, 0, NULL);
}

int subscribe_start(struct push *push, struct subscribe_session *s, const char *content_type,
		    const char *body, size_t len, int64_t now_ms, struct subscribe_refusal *refusal)
{
	json_t *request = load_request(content_type, body, len);
	const char *type, *message;
	struct push_sub *sub;

	memset(s, 0, sizeof(*s));
	s->conn.framing = PUSH_FRAMING_EVENTSTREAM;
	if (!json_is_object(request)) {
		json_decref(request);
		return refuse(refusal, 400, "SerializationException",
			      cborjson_is_cbor(content_type) ?
			      "The request body is not a valid CBOR map." :
			      "The request body is not a JSON object.");
	}
	sub = push_subscribe(push, &s->conn, request, now_ms, &type, &message);
	json_decref(request);
	if (sub == NULL)
		return refuse(refusal, strcmp(type, "InternalFailure") == 0 ? 500 : 400, type,
			      message);
	return 0;
}

/* The first message of every answer: botocore and the AWS SDKs read the
 * operation's output from it (SubscribeToShard has none but the stream). */
static void initial_response(struct strbuf *out)
{
	struct eventstream_header h[] = {
		eventstream_string(":message-type", "event"),
		eventstream_string(":event-type", "initial-response"),
		eventstream_string(":content-type", "application/json"),
	};

	if (eventstream_encode(out, h, sizeof(h) / sizeof(h[0]), "{}", 2) < 0)
		out->failed = true;
}

enum subscribe_step subscribe_next(struct push *push, struct subscribe_session *s, int64_t now_ms,
				   struct strbuf *out)
{
	if (!s->greeted) {
		s->greeted = true;
		initial_response(out);
		return SUBSCRIBE_MESSAGE;
	}
	if (s->conn.overflowed)
		return SUBSCRIBE_END;
	if (push_next_event(push, &s->conn, now_ms, out))
		return SUBSCRIBE_MESSAGE;
	return push_has_work(&s->conn) ? SUBSCRIBE_WAIT : SUBSCRIBE_END;
}

void subscribe_close(struct push *push, struct subscribe_session *s)
{
	push_conn_close(push, &s->conn);
}
