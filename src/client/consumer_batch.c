/* Batches: the records of one read, decoded (consumer_batch.h).
 *
 * Records are decoded into the batch in place: each into its own slot, on
 * the lane its partition key picks, then the good ones are packed to the
 * front in shard order. One event is scanned once (push_event.c); Data is
 * decoded on the stack when it is small, as telemetry records are. */
#include "config.h"
#include "client/consumer_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/parallel.h"
#include "util/base64.h"
#include "wire/kpl.h"

/* An arrival time in epoch seconds as milliseconds, rounded. A double
 * beyond int64_t makes the conversion undefined, so far-off times from a
 * broken hub are clamped (+-1e15 s is 30 million years). */
static int64_t arrival_ms(double seconds)
{
	if (!(seconds > -1e15))
		return (int64_t)-1e18;
	if (seconds > 1e15)
		return (int64_t)1e18;
	return (int64_t)(seconds * 1000.0 + 0.5);
}

/* Data as base64 text: a span of the event, or unescaped into *copy when
 * the hub escaped a character (JSON allows "\/" for "/"). */
static const char *data_text(const struct js_token *data, size_t *len, char **copy)
{
	*copy = NULL;
	*len = data->len;
	if (!data->escaped)
		return data->text;
	if ((*copy = malloc(data->len)) != NULL)
		*len = jsonscan_unescape(data, *copy, data->len);
	return *copy;
}

/* Why a record was not decoded when it is a KPL aggregate: not bad, but
 * expanded afterwards into its user records (compared as a pointer). */
static const char aggregate[] = "a KPL aggregate";

/* A record's Data, base64-decoded into small when it fits, else into
 * *raw malloc'd (free it when it is not small). 0, or -1 with *reason. */
static int record_bytes(const struct push_event_record *rec, unsigned char *small,
			size_t small_size, unsigned char **raw, size_t *n, const char **reason)
{
	size_t len;
	char *copy;
	const char *data;
	int rc;

	data = data_text(&rec->data, &len, &copy);
	*raw = data == NULL                             ? NULL
	       : base64_decoded_max(len) < small_size ? small
						      : malloc(base64_decoded_max(len) + 1);
	if (*raw == NULL) {
		free(copy);
		*reason = "out of memory";
		return -1;
	}
	rc = base64_decode(data, len, *raw, n, reason);
	free(copy);
	if (rc < 0 && *raw != small) {
		free(*raw);
		*raw = NULL;
	}
	return rc;
}

static int decode_record(const struct push_event_record *rec, struct consumer_record *out,
			 uint64_t *bytes, const char **reason)
{
	const struct js_token *ts = &rec->arrival;
	unsigned char small[2048], *raw;  /* telemetry records are small: the stack */
	size_t n;
	int rc;

	if (rec->data.type != JS_STRING || (ts->type != JS_INTEGER && ts->type != JS_REAL)) {
		*reason = "record without Data or ApproximateArrivalTimestamp";
		return -1;
	}
	rc = record_bytes(rec, small, sizeof(small), &raw, &n, reason);
	if (rc == 0) {
		*bytes += n;
		if (kpl_is_aggregate(raw, n))
			*reason = aggregate, rc = -1;
		else
			rc = telemetry_decode(raw, n, &out->t, reason);
	}
	if (raw != small)
		free(raw);
	out->arrival_ms = arrival_ms(jsonscan_double(ts));
	return rc;
}

/* The records of one event being decoded, each into its own slot of the
 * batch, on the lane its partition key picks. */
struct decoding {
	const struct push_event *ev;
	struct consumer_batch *b;
	const char **why;               /* per record: NULL when it is good */
	uint64_t bytes[PARALLEL_MAX];      /* per lane: no sharing between threads */
};

/* Copies a string field of the event: false when absent or too long. */
static bool take_string(const struct js_token *t, char *out, size_t size)
{
	size_t n;

	if (t->type != JS_STRING || (n = jsonscan_unescape(t, out, size)) >= size)
		return false;
	out[n] = '\0';
	return true;
}

static void decode_one(void *ctx, unsigned lane, size_t i)
{
	struct decoding *d = ctx;
	struct consumer_record *r = &d->b->records[i];

	if (!take_string(&d->ev->records[i].seq, d->b->origins[i], CONSUMER_SEQ_MAX))
		d->b->origins[i][0] = '\0';
	r->origin = (uint32_t)i;
	r->sub = 0;
	r->more = false;
	if (decode_record(&d->ev->records[i], r, &d->bytes[lane], &d->why[i]) == 0)
		d->why[i] = NULL;
}

static void decode_records(struct decoding *d, struct parallel *lanes, uint8_t *lane_of)
{
	size_t n = d->ev->count;

	if (lanes == NULL || parallel_count(lanes) == 1) {
		for (size_t i = 0; i < n; i++)
			decode_one(d, 0, i);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct js_token *key = &d->ev->records[i].key;
		lane_of[i] = key->type == JS_STRING ? parallel_pick(lanes, key->text, key->len) : 0;
	}
	parallel_run(lanes, lane_of, n, decode_one, d);
}

/* A batch for the event's shard and continuation, with room for slots
 * decoded records. */
static struct consumer_batch *new_batch(const struct push_event *ev, size_t slots,
					const char **reason)
{
	struct consumer_batch *b = calloc(1, sizeof(*b) + slots * sizeof(b->records[0]));

	if (b == NULL) {
		*reason = "out of memory";
		return NULL;
	}
	bool ok = ev->has_records && take_string(&ev->shard_id, b->shard_id, sizeof(b->shard_id));
	/* A null continuation ends a closed shard: that is what to checkpoint. */
	if (ok && ev->continuation.type == JS_NULL)
		snprintf(b->continuation, sizeof(b->continuation), "%s", CONSUMER_SHARD_END);
	else
		ok = ok && take_string(&ev->continuation, b->continuation, sizeof(b->continuation));
	if (!ok) {
		free(b);
		*reason = "malformed SubscribeToShardEvent";
		return NULL;
	}
	if (ev->millis_behind.type == JS_INTEGER)
		b->millis_behind = jsonscan_int(&ev->millis_behind);
	return b;
}

/* The good records packed to the front, in shard order; the others counted. */
static void pack(struct decoding *d, size_t *bad, char *last_bad, size_t last_bad_size)
{
	for (size_t i = 0; i < d->ev->count; i++) {
		if (d->why[i] == NULL) {
			d->b->records[d->b->count++] = d->b->records[i];
		} else {
			(*bad)++;
			snprintf(last_bad, last_bad_size, "%s", d->why[i]);
		}
	}
}

/* KPL aggregates: each is replaced, where it stands, by its user records,
 * all with its arrival time. A first pass counts them, the second decodes
 * them into a batch of that size. */
struct expansion {
	struct consumer_batch *out;     /* NULL while counting */
	size_t count;
	uint32_t origin;                /* the aggregate's index in the event */
	uint32_t last_sub;              /* of its user records, the last one's */
	int64_t arrival_ms;
	size_t *bad;
	char *last_bad;
	size_t last_bad_size;
};

static int take_user_record(void *user, uint64_t sub_sequence, const uint8_t *data, size_t len,
			    const char *key, size_t key_len)
{
	struct expansion *x = user;
	struct consumer_record *r;
	const char *why;

	(void)key;
	(void)key_len;
	if (x->out == NULL) {
		x->count++;
		return 0;
	}
	x->last_sub = (uint32_t)sub_sequence;
	r = &x->out->records[x->out->count];
	if (telemetry_decode(data, len, &r->t, &why) == 0) {
		r->arrival_ms = x->arrival_ms;
		r->origin = x->origin;
		r->sub = (uint32_t)sub_sequence;
		x->out->count++;
	} else {
		(*x->bad)++;
		snprintf(x->last_bad, x->last_bad_size, "%s", why);
	}
	return 0;
}

/* Runs x over the user records of rec's aggregate; -1 with *why for a bad
 * aggregate, or when memory runs out. */
static int each_user_record(const struct push_event_record *rec, struct expansion *x,
			    const char **why)
{
	unsigned char small[2048], *raw;
	size_t n;
	int rc;

	if (record_bytes(rec, small, sizeof(small), &raw, &n, why) < 0)
		return -1;
	rc = kpl_each(raw, n, take_user_record, x, why);
	if (raw != small)
		free(raw);
	return rc;
}

/* The batch with every aggregate expanded and the bad records (bad
 * aggregates among them) counted; NULL when memory runs out. */
static struct consumer_batch *expand(struct decoding *d, size_t *bad, char *last_bad,
				     size_t last_bad_size)
{
	struct expansion x = { .bad = bad, .last_bad = last_bad, .last_bad_size = last_bad_size };
	size_t total = 0;
	const char *why;

	for (size_t i = 0; i < d->ev->count; i++) {
		x.count = d->why[i] == NULL ? 1 : 0;
		if (d->why[i] == aggregate && each_user_record(&d->ev->records[i], &x, &why) < 0)
			x.count = 0;
		total += x.count;
	}
	x.out = malloc(sizeof(*x.out) + total * sizeof(x.out->records[0]));
	if (x.out == NULL)
		return NULL;
	memcpy(x.out, d->b, sizeof(*x.out));
	x.out->count = 0;
	for (size_t i = 0; i < d->ev->count; i++) {
		if (d->why[i] == NULL) {
			x.out->records[x.out->count++] = d->b->records[i];
			continue;
		}
		why = d->why[i];
		x.arrival_ms = d->b->records[i].arrival_ms;
		x.origin = (uint32_t)i;
		size_t first = x.out->count;
		if (why == aggregate && each_user_record(&d->ev->records[i], &x, &why) == 0) {
			/* Known only now: which of them end the aggregate. */
			for (size_t k = first; k < x.out->count; k++)
				x.out->records[k].more = x.out->records[k].sub < x.last_sub;
			continue;
		}
		if (strcmp(why, "out of memory") == 0) {
			free(x.out);
			return NULL;
		}
		(*bad)++;
		snprintf(last_bad, last_bad_size, "%s", why);
	}
	return x.out;
}

struct consumer_batch *consumer_batch_decode(const struct push_event *ev, struct parallel *lanes,
					    size_t *bad, char *last_bad, size_t last_bad_size,
					    uint64_t *bytes, const char **reason)
{
	struct decoding d = { .ev = ev };
	uint8_t *lane_of;
	bool aggregates = false;

	*bad = 0;
	if ((d.b = new_batch(ev, ev->count, reason)) == NULL)
		return NULL;
	d.b->origins = malloc((ev->count + 1) * sizeof(*d.b->origins));
	d.why = malloc(ev->count * (sizeof(*d.why) + 1) + 1);
	if (d.why == NULL || d.b->origins == NULL) {
		free(d.why);
		consumer_batch_free(d.b);
		*reason = "out of memory";
		return NULL;
	}
	lane_of = (uint8_t *)(d.why + ev->count);
	decode_records(&d, lanes, lane_of);
	for (size_t i = 0; i < ev->count; i++) {
		if (d.why[i] && d.why[i] != aggregate && strcmp(d.why[i], "out of memory") == 0) {
			/* Not a bad record: the whole event waits to be read again. */
			*reason = d.why[i];
			free(d.why);
			consumer_batch_free(d.b);
			return NULL;
		}
		aggregates = aggregates || d.why[i] == aggregate;
	}
	if (aggregates) {
		struct consumer_batch *whole = expand(&d, bad, last_bad, last_bad_size);
		if (whole == NULL)
			free(d.b->origins);
		free(d.b);      /* its origins are whole's now */
		d.b = whole;
	} else {
		pack(&d, bad, last_bad, last_bad_size);
	}
	if (d.b == NULL) {
		*reason = "out of memory";
		free(d.why);
		return NULL;
	}
	for (unsigned k = 0; k < PARALLEL_MAX; k++)
		*bytes += d.bytes[k];
	free(d.why);
	return d.b;
}

struct consumer_batch *consumer_batch_decode_event(const char *json, size_t len,
						  struct parallel *lanes, size_t *bad, char *last_bad,
						  size_t last_bad_size, uint64_t *bytes,
						  const char **reason)
{
	struct push_event ev;
	struct consumer_batch *b = NULL;

	*bad = 0;
	if (push_event_scan(json, len, &ev, reason) == 0) {
		if (push_event_is(&ev.event, "SubscribeToShardEvent"))
			b = consumer_batch_decode(&ev, lanes, bad, last_bad, last_bad_size, bytes,
						  reason);
		else
			*reason = "malformed SubscribeToShardEvent";
	}
	push_event_free(&ev);
	return b;
}

/* The continuation of a GetRecords answer, as a push event would carry it:
 * null at the end of a closed shard, else the last sequence number. */
static struct js_token records_continuation(const struct push_event *ev)
{
	struct js_token none = { .type = JS_STRING, .text = "", .len = 0 };

	if (ev->next_iterator.type != JS_STRING)
		return (struct js_token){ .type = JS_NULL, .text = "null", .len = 4 };
	for (size_t i = ev->count; i > 0; i--)
		if (ev->records[i - 1].seq.type == JS_STRING)
			return ev->records[i - 1].seq;
	return none;
}

struct consumer_batch *consumer_batch_decode_records(const char *shard_id, const char *json,
						    size_t len, bool raw, struct parallel *lanes, size_t *bad,
						    char *last_bad, size_t last_bad_size,
						    uint64_t *bytes, char *next, size_t next_size,
						    const char **reason)
{
	struct push_event ev;
	struct consumer_batch *b = NULL;

	*bad = 0;
	next[0] = '\0';
	if (push_event_scan(json, len, &ev, reason) == 0) {
		ev.shard_id = (struct js_token){ .type = JS_STRING, .text = shard_id,
						 .len = strlen(shard_id) };
		ev.continuation = records_continuation(&ev);
		if (ev.next_iterator.type == JS_STRING &&
		    !take_string(&ev.next_iterator, next, next_size))
			ev.has_records = false;         /* an iterator too long to keep */
		b = raw ? consumer_batch_decode_raw(&ev, bad, last_bad, last_bad_size, bytes, reason)
			: consumer_batch_decode(&ev, lanes, bad, last_bad, last_bad_size, bytes,
						reason);
	}
	if (b == NULL && strcmp(*reason, "out of memory") != 0)
		*reason = "malformed GetRecords answer";
	push_event_free(&ev);
	return b;
}

/* One record kept whole: -1 with *reason when it lacks a member or its
 * Data is not base64 ("out of memory" when that is why). */
static int take_raw(const struct push_event_record *rec, struct consumer_raw *out,
		    uint64_t *bytes, const char **reason)
{
	size_t len;
	char *copy;
	const char *data;
	int rc;

	if (rec->data.type != JS_STRING || rec->key.type != JS_STRING ||
	    (rec->arrival.type != JS_INTEGER && rec->arrival.type != JS_REAL) ||
	    !take_string(&rec->seq, out->seq, sizeof(out->seq))) {
		*reason = "record without SequenceNumber, Data, PartitionKey or arrival time";
		return -1;
	}
	data = data_text(&rec->data, &len, &copy);
	out->key = data ? malloc(rec->key.len + 1 + base64_decoded_max(len) + 1) : NULL;
	if (out->key == NULL) {
		free(copy);
		*reason = "out of memory";
		return -1;
	}
	out->key_len = jsonscan_unescape(&rec->key, out->key, rec->key.len);
	out->key[out->key_len] = '\0';
	out->data = (unsigned char *)out->key + out->key_len + 1;
	rc = base64_decode(data, len, out->data, &out->data_len, reason);
	free(copy);
	if (rc < 0) {
		free(out->key);
		return -1;
	}
	*bytes += out->data_len;
	out->arrival_ms = arrival_ms(jsonscan_double(&rec->arrival));
	return 0;
}

struct consumer_batch *consumer_batch_decode_raw(const struct push_event *ev, size_t *bad,
						char *last_bad, size_t last_bad_size,
						uint64_t *bytes, const char **reason)
{
	struct consumer_batch *b = new_batch(ev, 0, reason);
	const char *why;

	*bad = 0;
	if (b == NULL)
		return NULL;
	if ((b->raw = calloc(ev->count + 1, sizeof(*b->raw))) == NULL) {
		free(b);
		*reason = "out of memory";
		return NULL;
	}
	for (size_t i = 0; i < ev->count; i++) {
		if (take_raw(&ev->records[i], &b->raw[b->count], bytes, &why) == 0) {
			b->count++;
		} else if (strcmp(why, "out of memory") == 0) {
			/* Not a bad record: the whole event waits to be read again. */
			consumer_batch_free(b);
			*reason = why;
			return NULL;
		} else {
			(*bad)++;
			snprintf(last_bad, last_bad_size, "%s", why);
		}
	}
	return b;
}

struct consumer_batch *consumer_batch_gone(const char *shard_id)
{
	struct consumer_batch *b = calloc(1, sizeof(*b));

	if (b) {
		snprintf(b->shard_id, sizeof(b->shard_id), "%s", shard_id);
		b->gone = true;
	}
	return b;
}

bool consumer_batch_position_after(const struct consumer_batch *b, const struct consumer_record *r,
				   const char **seq, uint64_t *sub_sequence)
{
	if (b->origins == NULL || b->origins[r->origin][0] == '\0')
		return false;
	*seq = b->origins[r->origin];
	*sub_sequence = r->more ? (uint64_t)r->sub + 1 : 0;
	return true;
}

void consumer_batch_free(struct consumer_batch *b)
{
	while (b) {
		struct consumer_batch *next = b->next;
		for (size_t i = 0; b->raw && i < b->count; i++)
			free(b->raw[i].key);
		free(b->raw);
		free(b->origins);
		free(b);
		b = next;
	}
}
