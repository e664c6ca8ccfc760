/* Telemetry decode: what the consumer does to every record it receives.
 *
 * The records are the simulator's own (racer model, 200 racers over a
 * 300-second race), JSON-encoded and base64'd as they travel. Figures:
 *   base64 only          base64_decode
 *   JSON only            telemetry_decode (parse, validate, output)
 *   record               both: the per-record path (the figure)
 *   push event           consumer_batch_decode_event on 500-record events: the
 *                        outer JSON too, as the consumer really does it,
 *                        with the records decoded on 1, 2, 4 and 10 lanes
 *                        (--parallel N: the gain is bounded by the cores)
 *   event stream         the same records as SubscribeToShard sends them
 *                        (--read efo): one byte stream of event-stream
 *                        messages, handed over in 16 KiB reads, each message
 *                        framed and CRC-checked (wire/eventstream), its
 *                        payload scanned and decoded into a batch, as
 *                        consumer_efo.c does
 *
 * Usage: bench_decode [--quick] */
#include "config.h"

#include <jansson.h>

#include "util/base64.h"
#include "util/strbuf.h"
#include "bench.h"
#include "client/consumer_batch.h"
#include "client/parallel.h"
#include "wire/eventstream.h"

#define RACERS 200
#define DURATION 300
#define EVENT_RECORDS 500
#define READ_BYTES 16384                /* what one read of the stream hands over */

struct corpus {
	size_t count;
	char **b64;             /* base64 of each record's JSON */
	size_t *b64_len;
	char **json;
	size_t *json_len;
	size_t json_bytes;
	char **events;          /* push events of EVENT_RECORDS records */
	size_t *event_len;
	size_t event_count;
	struct strbuf stream;   /* the same records as one SubscribeToShard answer */
};

static void corpus_add(struct corpus *c, const struct telemetry *t)
{
	char json[512];
	size_t n = telemetry_encode(t, json, sizeof(json)), i = c->count++;

	c->json[i] = strdup(json);
	c->json_len[i] = n;
	c->json_bytes += n;
	c->b64[i] = bench_alloc(base64_encoded_len(n) + 1);
	base64_encode(json, n, c->b64[i]);
	c->b64_len[i] = base64_encoded_len(n);
}

/* One event as push.c writes it; efo: as the payload of a
 * SubscribeToShardEvent message, which has no Event, ConsumerARN or ShardId. */
static char *event_of(const struct corpus *c, size_t first, size_t n, bool efo, size_t *len)
{
	size_t size = 512;
	char *e, *p;

	for (size_t i = first; i < first + n; i++)
		size += c->b64_len[i] + 160;
	p = e = bench_alloc(size);
	p += sprintf(p, "%s", efo ? "{\"Records\":["
				  : "{\"Event\":\"SubscribeToShardEvent\",\"ConsumerARN\":"
				    "\"arn:aws:kinesis:us-east-1:000000000000:stream/alleycat/"
				    "consumer/bench:1620240600\",\"ShardId\":"
				    "\"shardId-000000000001\",\"Records\":[");
	for (size_t i = first; i < first + n; i++)
		p += sprintf(p, "%s{\"SequenceNumber\":\"%zu\",\"ApproximateArrivalTimestamp\":"
				"1620240672.%03zu,\"Data\":\"%s\",\"PartitionKey\":\"%zu\"}",
			     i > first ? "," : "", 49000000000 + i, i % 1000, c->b64[i],
			     5400800 + i % 7);
	p += sprintf(p, "],\"ContinuationSequenceNumber\":\"%zu\",\"MillisBehindLatest\":0,"
			"\"ChildShards\":[]}", 49000000000 + first + n - 1);
	*len = (size_t)(p - e);
	return e;
}

/* The SubscribeToShard answer of the same events: the initial response,
 * then one message per event. */
static void stream_make(struct corpus *c)
{
	struct eventstream_header h[] = {
		eventstream_string(":message-type", "event"),
		eventstream_string(":event-type", "initial-response"),
		eventstream_string(":content-type", "application/json"),
	};

	strbuf_init(&c->stream);
	eventstream_encode(&c->stream, h, 3, "{}", 2);
	h[1] = eventstream_string(":event-type", "SubscribeToShardEvent");
	for (size_t k = 0; k < c->event_count; k++) {
		size_t len;
		char *payload = event_of(c, k * EVENT_RECORDS, EVENT_RECORDS, true, &len);
		if (eventstream_encode(&c->stream, h, 3, payload, len) < 0)
			exit(1);
		free(payload);
	}
}

static void corpus_make(struct corpus *c)
{
	struct roster roster;
	struct race_model m;
	struct telemetry *t = bench_alloc(RACERS * sizeof(*t));
	size_t total = (size_t)RACERS * DURATION;

	bench_roster(&roster);
	c->b64 = bench_alloc(total * sizeof(*c->b64));
	c->b64_len = bench_alloc(total * sizeof(*c->b64_len));
	c->json = bench_alloc(total * sizeof(*c->json));
	c->json_len = bench_alloc(total * sizeof(*c->json_len));
	bench_model(&m, &roster, 0, 0, RACERS, DURATION);
	for (int s = 1; s <= DURATION; s++) {
		racemodel_second(&m, s, t);
		for (size_t i = 0; i < RACERS; i++)
			corpus_add(c, &t[i]);
	}
	racemodel_free(&m);
	c->event_count = c->count / EVENT_RECORDS;
	c->events = bench_alloc(c->event_count * sizeof(*c->events));
	c->event_len = bench_alloc(c->event_count * sizeof(*c->event_len));
	for (size_t k = 0; k < c->event_count; k++)
		c->events[k] = event_of(c, k * EVENT_RECORDS, EVENT_RECORDS, false, &c->event_len[k]);
	stream_make(c);
	free(t);
	roster_free(&roster);
}

static void die_bad(const char *what, const char *reason)
{
	fprintf(stderr, "bench_decode: %s failed: %s\n", what, reason);
	exit(1);
}

/* Each pass decodes the whole corpus one way; returns records decoded. */
static size_t pass_base64(const struct corpus *c, int64_t *sink)
{
	unsigned char raw[512];
	const char *reason;
	size_t n;

	for (size_t i = 0; i < c->count; i++) {
		if (base64_decode(c->b64[i], c->b64_len[i], raw, &n, &reason) < 0)
			die_bad("base64_decode", reason);
		*sink += raw[n / 2];
	}
	return c->count;
}

static size_t pass_json(const struct corpus *c, int64_t *sink)
{
	struct telemetry t;
	const char *reason;

	for (size_t i = 0; i < c->count; i++) {
		if (telemetry_decode(c->json[i], c->json_len[i], &t, &reason) < 0)
			die_bad("telemetry_decode", reason);
		*sink += t.output;
	}
	return c->count;
}

static size_t pass_record(const struct corpus *c, int64_t *sink)
{
	unsigned char raw[512];
	struct telemetry t;
	const char *reason;
	size_t n;

	for (size_t i = 0; i < c->count; i++) {
		if (base64_decode(c->b64[i], c->b64_len[i], raw, &n, &reason) < 0 ||
		    telemetry_decode(raw, n, &t, &reason) < 0)
			die_bad("record decode", reason);
		*sink += t.output;
	}
	return c->count;
}

static struct parallel *lanes;             /* pass_event's, NULL for none */

static size_t pass_event(const struct corpus *c, int64_t *sink)
{
	size_t records = 0;

	for (size_t k = 0; k < c->event_count; k++) {
		char last_bad[128] = "";
		const char *reason = NULL;
		uint64_t bytes = 0;
		size_t bad = 0;
		struct consumer_batch *b =
			consumer_batch_decode_event(c->events[k], c->event_len[k], lanes, &bad,
						    last_bad, sizeof(last_bad), &bytes, &reason);

		if (b == NULL || bad > 0)
			die_bad("consumer_batch_decode_event", b ? last_bad : reason);
		records += b->count;
		*sink += b->records[b->count - 1].t.output;
		consumer_batch_free(b);
	}
	return records;
}

/* One SubscribeToShardEvent message, as consumer_efo.c takes it: the
 * payload scanned, the shard named by the subscription, decoded. */
static size_t take_message(const struct eventstream_message *m, int64_t *sink)
{
	const char *reason = NULL;
	char last_bad[128] = "";
	uint64_t bytes = 0;
	size_t bad = 0, n;
	struct push_event ev;
	struct consumer_batch *b = NULL;

	if (!eventstream_header_is(m, ":event-type", "SubscribeToShardEvent"))
		return 0;
	if (push_event_scan((const char *)m->payload, m->payload_len, &ev, &reason) == 0) {
		ev.shard_id = (struct js_token){ .type = JS_STRING, .text = "shardId-000000000001",
						 .len = 20 };
		b = consumer_batch_decode(&ev, lanes, &bad, last_bad, sizeof(last_bad), &bytes,
					  &reason);
	}
	push_event_free(&ev);
	if (b == NULL || bad > 0)
		die_bad("an event-stream message", b ? last_bad : reason);
	n = b->count;
	*sink += b->records[n - 1].t.output;
	consumer_batch_free(b);
	return n;
}

static size_t pass_eventstream(const struct corpus *c, int64_t *sink)
{
	struct eventstream_decoder d;
	struct eventstream_message m;
	const uint8_t *bytes = (const uint8_t *)c->stream.data;
	size_t records = 0;

	eventstream_decoder_init(&d, 0);
	for (size_t at = 0; at < c->stream.len;) {
		size_t len = c->stream.len - at < READ_BYTES ? c->stream.len - at : READ_BYTES;
		const uint8_t *p = bytes + at;

		at += len;
		while (len > 0) {
			size_t used;
			enum eventstream_step step = eventstream_decoder_step(&d, p, len, &used, &m);
			if (step == EVENTSTREAM_STEP_ERROR)
				die_bad("eventstream_decoder_step", d.error.text);
			if (step == EVENTSTREAM_STEP_MESSAGE)
				records += take_message(&m, sink);
			p += used;
			len -= used;
		}
	}
	eventstream_decoder_free(&d);
	return records;
}

/* This thread's CPU time: what other work on a loaded machine does not
 * add to, as it adds to the wall time. */
static int64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Push events and the event stream in turn, pass after pass, for
 * `seconds`: records per second of this thread's CPU time, each. */
static void cpu_rates(const struct corpus *c, double seconds, int64_t *sink, double *push,
		      double *efo)
{
	int64_t push_ns = 0, efo_ns = 0, start = bench_ns();
	size_t push_n = 0, efo_n = 0;

	do {
		int64_t t0 = thread_ns(), t1;
		push_n += pass_event(c, sink);
		t1 = thread_ns();
		efo_n += pass_eventstream(c, sink);
		efo_ns += thread_ns() - t1;
		push_ns += t1 - t0;
	} while (bench_seconds(start) < 2 * seconds);
	*push = (double)push_n * 1e9 / (double)push_ns;
	*efo = (double)efo_n * 1e9 / (double)efo_ns;
}

/* Passes until `seconds` have gone by; records per second. */
static double rate(size_t (*pass)(const struct corpus *, int64_t *), const struct corpus *c,
		   double seconds, int64_t *sink)
{
	int64_t start;
	size_t records = 0;
	double elapsed;

	pass(c, sink);                  /* warm the caches */
	start = bench_ns();
	do {
		records += pass(c, sink);
		elapsed = bench_seconds(start);
	} while (elapsed < seconds);
	return (double)records / elapsed;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 0.2 : 1.5;
	struct corpus c = { 0 };
	int64_t sink = 0;
	char buf[32];
	double r;

	corpus_make(&c);
	bench_note("bench_decode: %zu records of %.0f B JSON (%.0f B base64), %zu events",
		   c.count, (double)c.json_bytes / (double)c.count,
		   (double)base64_encoded_len(c.json_bytes / c.count), c.event_count);
	bench_table_head();
	r = rate(pass_base64, &c, seconds, &sink);
	bench_row("decode", "base64 only, records/s", "", "%s", bench_count(r, buf));
	r = rate(pass_json, &c, seconds, &sink);
	bench_row("decode", "JSON parse + validate + output only, records/s", "", "%s",
		  bench_count(r, buf));
	r = rate(pass_record, &c, seconds, &sink);
	bench_row("decode", "telemetry decode (base64 + JSON + validate + output), records/s",
		  ">= 1,000,000/s", "%s", bench_count(r, buf));
	r = rate(pass_event, &c, seconds, &sink);
	bench_row("decode", "push event decode (consumer_batch_decode_event, 500 records), records/s",
		  "", "%s", bench_count(r, buf));
	for (unsigned n = 1; n <= PARALLEL_MAX; n = n == 4 ? PARALLEL_MAX : n * 2) {
		char what[96];
		if ((lanes = parallel_new(n)) == NULL)
			die_bad("parallel_new", "cannot start threads");
		r = rate(pass_event, &c, seconds, &sink);
		snprintf(what, sizeof(what), "  the same on %u lane%s (--parallel %u), records/s", n,
			 n == 1 ? "" : "s", n);
		bench_row("decode", what, n == 2 ? "grows with N (2 cores)" : "", "%s",
			  bench_count(r, buf));
		parallel_free(lanes);
		lanes = NULL;
	}
	r = rate(pass_eventstream, &c, seconds, &sink);
	bench_row("decode", "push events' records from an event stream (efo: framing, CRC, payload), "
		  "records/s", "", "%s", bench_count(r, buf));
	{
		double push, efo;
		char buf2[32];
		cpu_rates(&c, seconds, &sink, &push, &efo);
		bench_row("decode", "  push events / event stream, in turn, records per CPU second",
			  "", "%s / %s (%.2fx)", bench_count(push, buf), bench_count(efo, buf2),
			  efo / push);
	}
	bench_note("bench_decode: checksum %" PRId64, sink);
	return 0;
}
