#include "config.h"
#include "client/push_event.h"

#include <stdlib.h>
#include <string.h>

bool push_event_is(const struct js_token *t, const char *s)
{
	size_t n = strlen(s);
	char buf[64];

	if (t->type != JS_STRING)
		return false;
	if (!t->escaped)
		return t->len == n && memcmp(t->text, s, n) == 0;
	/* An escaped spelling of a name is the same name, as JSON compares. */
	return n <= sizeof(buf) && jsonscan_unescape(t, buf, sizeof(buf)) == n &&
	       memcmp(buf, s, n) == 0;
}

/* One element of Records: the members the consumer and a relay use. */
static int scan_record(struct jsonscan *s, struct push_event_record *r)
{
	struct js_token v, key, other;
	int rc;

	memset(r, 0, sizeof(*r));
	if (jsonscan_value(s, &v) < 0)
		return -1;
	if (v.type != JS_OBJECT)
		return jsonscan_skip(s, &v);
	while ((rc = jsonscan_member(s, &key)) > 0) {
		struct js_token *t = push_event_is(&key, "Data")                          ? &r->data
				     : push_event_is(&key, "ApproximateArrivalTimestamp") ? &r->arrival
				     : push_event_is(&key, "PartitionKey")                ? &r->key
				     : push_event_is(&key, "SequenceNumber")              ? &r->seq
											 : &other;
		if (jsonscan_value(s, t) < 0 || jsonscan_skip(s, t) < 0)
			return -1;
	}
	return rc;
}

static int grow(struct push_event *ev)
{
	size_t cap = ev->capacity ? ev->capacity * 2 : 64;
	struct push_event_record *more = realloc(ev->records, cap * sizeof(*more));

	if (more == NULL)
		return -1;
	ev->records = more;
	ev->capacity = cap;
	return 0;
}

static int scan_records(struct jsonscan *s, struct push_event *ev)
{
	struct js_token v;
	int rc;

	ev->count = 0;          /* a repeated member: the last one counts */
	if (jsonscan_value(s, &v) < 0)
		return -1;
	ev->has_records = v.type == JS_ARRAY;
	if (!ev->has_records)
		return jsonscan_skip(s, &v);
	while ((rc = jsonscan_element(s)) > 0) {
		if (ev->count == ev->capacity && grow(ev) < 0) {
			s->out_of_memory = true;
			return -1;
		}
		if (scan_record(s, &ev->records[ev->count++]) < 0)
			return -1;
	}
	return rc;
}

static int scan_member(struct jsonscan *s, const struct js_token *key, struct push_event *ev)
{
	struct js_token other;
	struct js_token *t = push_event_is(key, "Event")                        ? &ev->event
			     : push_event_is(key, "ShardId")                    ? &ev->shard_id
			     : push_event_is(key, "ContinuationSequenceNumber") ? &ev->continuation
			     : push_event_is(key, "MillisBehindLatest")         ? &ev->millis_behind
			     : push_event_is(key, "NextShardIterator")          ? &ev->next_iterator
									       : &other;

	if (push_event_is(key, "Records"))
		return scan_records(s, ev);
	return jsonscan_value(s, t) < 0 || jsonscan_skip(s, t) < 0 ? -1 : 0;
}

int push_event_scan(const char *text, size_t len, struct push_event *ev, const char **reason)
{
	struct jsonscan s;
	struct js_token root, key;
	int rc = -1;

	memset(ev, 0, sizeof(*ev));
	jsonscan_init(&s, text, len, false);
	if (jsonscan_value(&s, &root) == 0 && root.type == JS_OBJECT) {
		while ((rc = jsonscan_member(&s, &key)) > 0)
			if (scan_member(&s, &key, ev) < 0) {
				rc = -1;
				break;
			}
		if (rc == 0)
			rc = jsonscan_end(&s);
	}
	*reason = s.out_of_memory ? "out of memory" : "a message that is not a JSON object";
	jsonscan_free(&s);
	return rc < 0 ? -1 : 0;
}

void push_event_free(struct push_event *ev)
{
	free(ev->records);
	ev->records = NULL;
	ev->count = ev->capacity = 0;
}
