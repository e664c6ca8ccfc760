#include "config.h"
#include "hub/push.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "hub/kinesis.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/log.h"
#include "wire/eventstream.h"

void push_init(struct push *push, struct hub *hub)
{
	memset(push, 0, sizeof(*push));
	push->hub = hub;
}

/* ------------------------------------------------------------------ */
/* Framing: the one place where the two kinds of connection differ     */
/* ------------------------------------------------------------------ */

/* Starts a field of the open JSON object: a comma unless it is the first. */
static void field(struct strbuf *out, const char *name)
{
	if (out->len > 0 && out->data[out->len - 1] != '{')
		strbuf_lit(out, ",");
	strbuf_printf(out, "\"%s\":", name);
}

static void json_field(struct strbuf *out, const char *name, const char *value)
{
	field(out, name);
	strbuf_json_string(out, value, strlen(value));
}

/* An event-stream message's headers, its JSON object opened. */
static size_t message_open(struct strbuf *out, const char *message_type, const char *type_header,
			   const char *type)
{
	struct eventstream_header h[] = {
		eventstream_string(":message-type", message_type),
		eventstream_string(type_header, type),
		eventstream_string(":content-type", "application/json"),
	};
	size_t start = eventstream_begin(out, h, sizeof(h) / sizeof(h[0]));

	strbuf_lit(out, "{");
	return start;
}

/* Opens an event: the JSON dialect names the event and the subscription
 * (arn and shard_id, either NULL for a message that named none) inside
 * the object; the event stream names the event in a header and leaves the
 * object to the event's own fields. Returns where the event starts, for
 * event_close. */
static size_t event_open(struct strbuf *out, const struct push_conn *conn, const char *event,
			 const char *arn, const char *shard_id)
{
	size_t start = out->len;

	if (conn->framing == PUSH_FRAMING_EVENTSTREAM)
		return message_open(out, "event", ":event-type", event);
	strbuf_lit(out, "{");
	json_field(out, "Event", event);
	if (arn)
		json_field(out, "ConsumerARN", arn);
	if (shard_id)
		json_field(out, "ShardId", shard_id);
	return start;
}

static void event_close(struct strbuf *out, const struct push_conn *conn, size_t start)
{
	strbuf_lit(out, "}");
	if (conn->framing == PUSH_FRAMING_EVENTSTREAM && eventstream_end(out, start) < 0)
		out->failed = true;
}

/* An exception: in the JSON dialect an "Exception" event with the AWS
 * error type; in the event stream an exception message, as AWS sends one. */
static void exception_event(struct strbuf *out, const struct push_conn *conn, const char *arn,
			    const char *shard_id, const char *type, const char *message)
{
	size_t start;

	if (conn->framing == PUSH_FRAMING_EVENTSTREAM) {
		start = message_open(out, "exception", ":exception-type", type);
	} else {
		start = event_open(out, conn, "Exception", arn, shard_id);
		json_field(out, "__type", type);
	}
	json_field(out, "message", message);
	event_close(out, conn, start);
}

/* ------------------------------------------------------------------ */
/* Control events: exceptions and endings                               */
/* ------------------------------------------------------------------ */

static void queue_exception(struct push_conn *conn, const char *consumer_arn,
			    const char *shard_id, const char *type, const char *message)
{
	struct strbuf event;

	strbuf_init(&event);
	exception_event(&event, conn, consumer_arn, shard_id, type, message);
	if (event.failed || conn->pending_count == PUSH_PENDING_MAX) {
		strbuf_free(&event);
		conn->overflowed = true;
		return;
	}
	conn->pending[conn->pending_count++] = (struct push_pending){ event.data, event.len };
}

/* ------------------------------------------------------------------ */
/* Subscriptions                                                        */
/* ------------------------------------------------------------------ */

static struct stream *find_stream_uid(struct hub *hub, uint64_t uid)
{
	for (size_t i = 0; i < hub->stream_count; i++)
		if (hub->streams[i]->uid == uid)
			return hub->streams[i];
	return NULL;
}

static void shard_id(unsigned shard, char id[SHARD_ID_LEN])
{
	snprintf(id, SHARD_ID_LEN, "shardId-%012u", shard);
}

static void unlink_sub(struct push *push, struct push_sub *sub)
{
	struct push_conn *conn = sub->conn;
	struct push_sub **p = &conn->subs;

	while (*p != sub)
		p = &(*p)->next;
	*p = sub->next;
	conn->sub_count--;
	if (conn->turn == sub)
		conn->turn = sub->next;
	if (sub->prev_all)
		sub->prev_all->next_all = sub->next_all;
	else
		push->all = sub->next_all;
	if (sub->next_all)
		sub->next_all->prev_all = sub->prev_all;
	free(sub);
}

static struct push_sub *find_sub(struct push *push, const char *arn, uint64_t uid,
				 unsigned shard)
{
	for (struct push_sub *s = push->all; s; s = s->next_all)
		if (s->stream_uid == uid && s->shard == shard && strcmp(s->consumer_arn, arn) == 0)
			return s;
	return NULL;
}

static void add_sub(struct push *push, struct push_conn *conn, struct push_sub *sub)
{
	struct push_sub **p = &conn->subs;

	while (*p)
		p = &(*p)->next;
	*p = sub;
	sub->conn = conn;
	conn->sub_count++;
	sub->next_all = push->all;
	if (push->all)
		push->all->prev_all = sub;
	push->all = sub;
	push->subscriptions_total++;
}

static const char *const position_types[] = {
	"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP",
};

/* Where a subscription starts; -1 with a message when the position is bad. */
static int starting_point(struct hub *hub, const struct stream *s, size_t shard,
			  json_t *position, seqno_t *from, const char **error)
{
	const char *type = NULL, *seq_text = NULL;
	json_t *ts = NULL;
	seqno_t seq = SEQNO_ZERO;
	int t;

	if (!json_is_object(position) ||
	    json_unpack(position, "{s:s, s?s, s?o}", "Type", &type, "SequenceNumber", &seq_text,
			"Timestamp", &ts) < 0) {
		*error = "StartingPosition must be an object with a Type";
		return -1;
	}
	for (t = 0; t < 5 && strcmp(type, position_types[t]) != 0; t++)
		;
	if (t == 5) {
		*error = "StartingPosition.Type must be one of TRIM_HORIZON, LATEST, "
			 "AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP";
		return -1;
	}
	if (t == SHARDLOG_AT_SEQUENCE_NUMBER || t == SHARDLOG_AFTER_SEQUENCE_NUMBER) {
		if (seq_text == NULL || seqno_parse(seq_text, &seq) == SEQNO_MALFORMED) {
			*error = "StartingPosition.SequenceNumber must be a sequence number";
			return -1;
		}
		if (seqno_parse(seq_text, &seq) == SEQNO_TOO_LARGE)
			seq = SEQNO_MAX;
	}
	if (t == SHARDLOG_AT_TIMESTAMP && !json_is_number(ts)) {
		*error = "StartingPosition.Timestamp must be epoch seconds";
		return -1;
	}
	switch (t) {
	case SHARDLOG_TRIM_HORIZON:
		*from = SEQNO_ZERO;
		break;
	case SHARDLOG_LATEST:
		*from = stream_latest(s, shard, hub->gen.last);
		break;
	case SHARDLOG_AT_SEQUENCE_NUMBER:
		*from = seq;
		break;
	case SHARDLOG_AFTER_SEQUENCE_NUMBER:
		*from = seqno_next(seq);
		break;
	default: {
		int64_t ms = clock_seconds_to_ms(json_number_value(ts));
		uint64_t pos = shardlog_position(&s->shards[shard].log, SHARDLOG_AT_TIMESTAMP, SEQNO_ZERO,
						 ms);
		const struct shardlog_record *r = shardlog_at(&s->shards[shard].log, pos);
		*from = r ? r->seq : stream_latest(s, shard, hub->gen.last);
	}
	}
	return 0;
}

static struct push_sub *refuse(const char **type, const char **message, const char *t,
			       const char *m)
{
	*type = t;
	*message = m;
	return NULL;
}

static struct push_sub *new_sub(struct push *push, struct push_conn *conn, const char *arn,
				const struct stream *s, int shard, seqno_t from, int64_t now_ms)
{
	struct push_sub *sub = calloc(1, sizeof(*sub));

	if (sub == NULL)
		return NULL;
	snprintf(sub->consumer_arn, sizeof(sub->consumer_arn), "%s", arn);
	sub->stream_uid = s->uid;
	sub->shard = (unsigned)shard;
	sub->from = from;
	sub->continuation = seqno_lt(s->shards[shard].starting_seq, from)
				    ? seqno_prev(from) : s->shards[shard].starting_seq;
	sub->started_ms = now_ms;
	sub->expires_ms = now_ms + (int64_t)push->hub->config.subscription_seconds * 1000;
	add_sub(push, conn, sub);
	return sub;
}

struct push_sub *push_subscribe(struct push *push, struct push_conn *conn, json_t *request,
				int64_t now_ms, const char **type, const char **message)
{
	const char *arn = NULL, *shard_text = NULL, *error;
	json_t *position = NULL;
	struct stream *s = NULL;
	struct push_sub *old, *sub;
	seqno_t from;
	int shard;

	if (json_unpack(request, "{s:s, s:s, s:o}", "ConsumerARN", &arn, "ShardId", &shard_text,
			"StartingPosition", &position) < 0)
		return refuse(type, message, "ValidationException",
			      "SubscribeToShard needs ConsumerARN, ShardId and StartingPosition");
	if (hub_find_consumer_arn(push->hub, arn, &s) == NULL)
		return refuse(type, message, "ResourceNotFoundException",
			      "The consumer is not registered.");
	shard = stream_find_shard(s, shard_text);
	if (shard < 0)
		return refuse(type, message, "ResourceNotFoundException",
			      "The shard does not exist in the consumer's stream.");
	if (starting_point(push->hub, s, (size_t)shard, position, &from, &error) < 0)
		return refuse(type, message, "InvalidArgumentException", error);
	old = find_sub(push, arn, s->uid, (unsigned)shard);
	if (conn->sub_count >= PUSH_SUBS_PER_CONN_MAX && (old == NULL || old->conn != conn))
		return refuse(type, message, "LimitExceededException",
			      "This connection holds as many subscriptions as one may.");
	if (old && now_ms - old->started_ms < PUSH_TAKEOVER_GRACE_MS)
		return refuse(type, message, "ResourceInUseException",
			      "Another subscription to this shard by this consumer started less "
			      "than 5 seconds ago.");
	if (old) {
		queue_exception(old->conn, arn, shard_text, "ResourceInUseException",
				"A newer subscription of this consumer took this shard over.");
		unlink_sub(push, old);
	}
	sub = new_sub(push, conn, arn, s, shard, from, now_ms);
	if (sub == NULL)
		return refuse(type, message, "InternalFailure", "Out of memory.");
	log_debug("subscription of %s to %s", arn, shard_text);
	return sub;
}

/* A subscription asked for on a WebSocket: a refusal is an exception event
 * on the same connection. */
static void subscribe(struct push *push, struct push_conn *conn, json_t *msg, int64_t now_ms)
{
	const char *arn = NULL, *shard_text = NULL, *type, *message;

	if (push_subscribe(push, conn, msg, now_ms, &type, &message) != NULL)
		return;
	json_unpack(msg, "{s?s, s?s}", "ConsumerARN", &arn, "ShardId", &shard_text);
	queue_exception(conn, arn, shard_text, type, message);
}

void push_receive(struct push *push, struct push_conn *conn, const char *msg, size_t len,
		  int64_t now_ms)
{
	json_error_t jerr;
	json_t *root = json_loadb(msg, len, 0, &jerr);
	const char *action = NULL;

	if (root == NULL || !json_is_object(root)) {
		queue_exception(conn, NULL, NULL, "SerializationException",
				"The message is not a JSON object.");
	} else if (json_unpack(root, "{s:s}", "Action", &action) < 0) {
		queue_exception(conn, NULL, NULL, "ValidationException",
				"The message has no Action.");
	} else if (strcmp(action, "SubscribeToShard") != 0) {
		queue_exception(conn, NULL, NULL, "UnknownOperationException",
				"The only action is SubscribeToShard.");
	} else {
		subscribe(push, conn, root, now_ms);
	}
	json_decref(root);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static void put_seq(struct strbuf *out, seqno_t seq)
{
	char text[SEQNO_TEXT_MAX];
	size_t len = seqno_format(seq, text);

	strbuf_append(out, "\"", 1);
	strbuf_append(out, text, len);
	strbuf_append(out, "\"", 1);
}

/* Epoch seconds with milliseconds: 1620240672.076. Written by hand, as
 * this runs for every record sent to every consumer. */
static void put_timestamp(struct strbuf *out, int64_t ms)
{
	char frac[4] = { '.', (char)('0' + ms % 1000 / 100), (char)('0' + ms % 100 / 10),
			 (char)('0' + ms % 10) };

	strbuf_uint(out, (uint64_t)(ms / 1000));
	strbuf_append(out, frac, sizeof(frac));
}

static void put_record(struct strbuf *out, const struct shardlog_record *r)
{
	char *p;

	strbuf_lit(out, "{\"SequenceNumber\":");
	put_seq(out, r->seq);
	strbuf_lit(out, ",\"ApproximateArrivalTimestamp\":");
	put_timestamp(out, r->arrival_ms);
	strbuf_lit(out, ",\"Data\":\"");
	p = strbuf_reserve(out, base64_encoded_len(r->data_len));
	if (p) {
		base64_encode(shardlog_record_data(r), r->data_len, p);
		out->len += base64_encoded_len(r->data_len);
	}
	strbuf_lit(out, "\",\"PartitionKey\":");
	strbuf_json_string(out, shardlog_record_key(r), r->key_len);
	strbuf_lit(out, "}");
}

/* Opens an event of a subscription (see event_open). */
static size_t sub_event_open(struct strbuf *out, const struct push_sub *sub, const char *event)
{
	char id[SHARD_ID_LEN];

	shard_id(sub->shard, id);
	return event_open(out, sub->conn, event, sub->consumer_arn, id);
}

/* A SubscribeToShardEvent with the records due (at most 1 MiB, within the
 * subscription's rate), or none as an acknowledgement or heartbeat. At the
 * end of a closed shard it is the last one: no continuation, the child
 * shards; returns true then. */
static bool records_event(struct push *push, struct push_sub *sub, const struct stream *s,
			  const struct shard *sh, int64_t now_ms, struct strbuf *out)
{
	uint64_t pos = shardlog_position(&sh->log, SHARDLOG_AT_SEQUENCE_NUMBER, sub->from, 0);
	const struct shardlog_record *r;
	size_t bytes = 0, start = sub_event_open(out, sub, "SubscribeToShardEvent");
	int n = 0;

	field(out, "Records");
	strbuf_lit(out, "[");
	while ((r = shardlog_at(&sh->log, pos)) != NULL) {
		size_t size = (size_t)r->key_len + r->data_len;
		/* What the record adds to the event as sent: base64 data, key
		 * and its JSON framing. */
		size_t wire = base64_encoded_len(r->data_len) + 2 * r->key_len + 128;
		if (n > 0 && bytes + wire > PUSH_EVENT_BYTES_MAX)
			break;
		if (!throttle_admit(&sub->rate, now_ms, 0, push->hub->config.push_bytes_per_sec,
				    size))
			break;
		if (n++ > 0)
			strbuf_lit(out, ",");
		put_record(out, r);
		bytes += wire;
		sub->from = seqno_next(r->seq);
		sub->continuation = r->seq;
		pos++;
	}
	sub->records_out += (uint64_t)n;
	r = shardlog_at(&sh->log, pos);
	sub->lag_ms = r ? now_ms - r->arrival_ms : 0;
	if (sub->lag_ms < 0)
		sub->lag_ms = 0;
	sub->lag_ms += sh->upstream_behind_ms;
	sub->acknowledged = true;
	sub->last_event_ms = now_ms;
	if (r == NULL && !seqno_is_zero(sh->ending_seq)) {
		json_t *children = kinesis_child_shards(s, (size_t)(sh - s->shards));
		char *text = children ? json_dumps(children, JSON_COMPACT) : NULL;
		strbuf_puts(out, "],\"ContinuationSequenceNumber\":null,\"MillisBehindLatest\":0,"
				 "\"ChildShards\":");
		strbuf_puts(out, text ? text : "[]");
		event_close(out, sub->conn, start);
		free(text);
		json_decref(children);
		return true;
	}
	strbuf_puts(out, "],\"ContinuationSequenceNumber\":");
	put_seq(out, sub->continuation);
	strbuf_printf(out, ",\"MillisBehindLatest\":%" PRId64 ",\"ChildShards\":[]", sub->lag_ms);
	event_close(out, sub->conn, start);
	return false;
}

static bool records_due(struct push *push, struct push_sub *sub, const struct shard *sh,
			int64_t now_ms)
{
	uint64_t pos = shardlog_position(&sh->log, SHARDLOG_AT_SEQUENCE_NUMBER, sub->from, 0);
	const struct shardlog_record *r = shardlog_at(&sh->log, pos);
	uint64_t limit = push->hub->config.push_bytes_per_sec;

	if (r == NULL)
		return false;
	return limit == 0 ||
	       throttle_bytes(&sub->rate, now_ms) + r->key_len + r->data_len <= limit;
}

/* Builds the event one subscription needs now, if any. The subscription
 * may end (and be freed) on the way. */
static bool sub_event(struct push *push, struct push_sub *sub, int64_t now_ms,
		      struct strbuf *out)
{
	struct stream *s = find_stream_uid(push->hub, sub->stream_uid);
	struct stream *owner = NULL;
	const struct shard *sh;
	char id[SHARD_ID_LEN];
	bool said;

	if (s == NULL || !stream_shard_known(s, sub->shard) ||
	    hub_find_consumer_arn(push->hub, sub->consumer_arn, &owner) == NULL || owner != s) {
		shard_id(sub->shard, id);
		exception_event(out, sub->conn, sub->consumer_arn, id, "ResourceNotFoundException",
				"The stream, shard or consumer no longer exists.");
		unlink_sub(push, sub);
		return true;
	}
	if (now_ms >= sub->expires_ms) {
		/* An event stream just ends, as AWS's does: the client knows its
		 * continuation from the last event. */
		said = sub->conn->framing == PUSH_FRAMING_JSON;
		if (said) {
			size_t start = sub_event_open(out, sub, "SubscriptionExpired");
			field(out, "ContinuationSequenceNumber");
			put_seq(out, sub->continuation);
			event_close(out, sub->conn, start);
		}
		unlink_sub(push, sub);
		return said;
	}
	sh = &s->shards[sub->shard];
	if (!sub->acknowledged || records_due(push, sub, sh, now_ms) ||
	    now_ms - sub->last_event_ms >= PUSH_HEARTBEAT_MS) {
		if (records_event(push, sub, s, sh, now_ms, out))
			unlink_sub(push, sub);  /* read to its end: the subscription is over */
		return true;
	}
	return false;
}

bool push_next_event(struct push *push, struct push_conn *conn, int64_t now_ms,
		     struct strbuf *out)
{
	struct push_sub *sub, *next;
	size_t count = 0;

	if (conn->pending_count > 0) {
		strbuf_append(out, conn->pending[0].data, conn->pending[0].len);
		free(conn->pending[0].data);
		memmove(&conn->pending[0], &conn->pending[1],
			--conn->pending_count * sizeof(conn->pending[0]));
		return true;
	}
	for (sub = conn->subs; sub; sub = sub->next)
		count++;
	/* Round robin: start after the subscription served last. */
	sub = conn->turn ? conn->turn : conn->subs;
	for (size_t i = 0; i < count && sub; i++, sub = next) {
		next = sub->next ? sub->next : conn->subs;
		if (sub_event(push, sub, now_ms, out)) {
			conn->turn = next == sub ? NULL : next;
			return true;
		}
	}
	return false;
}

bool push_has_work(const struct push_conn *conn)
{
	return conn->pending_count > 0 || conn->subs != NULL;
}

void push_conn_close(struct push *push, struct push_conn *conn)
{
	while (conn->subs)
		unlink_sub(push, conn->subs);
	for (size_t i = 0; i < conn->pending_count; i++)
		free(conn->pending[i].data);
	conn->pending_count = 0;
}

size_t push_count_shard(const struct push *push, uint64_t stream_uid, unsigned shard)
{
	size_t n = 0;

	for (const struct push_sub *s = push->all; s; s = s->next_all)
		n += s->stream_uid == stream_uid && s->shard == shard;
	return n;
}
