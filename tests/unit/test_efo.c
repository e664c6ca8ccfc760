/* The enhanced fan-out reader (src/client/consumer_efo.c) against a small
 * HTTP/1.1 server that answers as Kinesis does: the consumer is registered
 * (CREATING, then ACTIVE after a DescribeStreamConsumer), the shard is
 * subscribed to, and its event stream decoded into batches. A subscription
 * that ends is renewed from the last ContinuationSequenceNumber; a broken
 * event stream (a bad CRC) is dropped and the shard subscribed again from
 * the same place, nothing lost or repeated; the last event of a closed
 * shard ends it. The server reads each request whole, answers it and
 * closes the connection. */
#include "config.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/consumer.h"
#include "client/consumer_queue.h"
#include "util/base64.h"
#include "util/errtext.h"
#include "util/strbuf.h"
#include "wire/eventstream.h"

#define WAIT_TURNS 500                  /* of 20 ms: 10 s */
#define SHARD "shardId-000000000000"

struct fake {
	int listener, port;
	pthread_t thread;
	int subscriptions;              /* SubscribeToShard requests so far */
	char positions[4][64];          /* each one's starting position */
	int described;                  /* DescribeStreamConsumer requests */
	int flood;                      /* > 0: the first subscription sends this many
					 * one-record events, then the shard's end */
	bool breaks;                    /* the subscriptions break as broken_stream says */
};

/* ---- the server's answers ------------------------------------------------ */

static void record_json(struct strbuf *out, int racer, const char *seq)
{
	char data[256], b64[400];

	snprintf(data, sizeof(data),
		 "{\"event\":\"update\",\"second\":1,\"raceId\":77,\"name\":\"R%d\","
		 "\"racerId\":%d,\"classId\":3,\"cadence\":81.0,\"resistance\":79.0}",
		 racer, racer);
	base64_encode(data, strlen(data), b64);
	strbuf_printf(out, "{\"SequenceNumber\":\"%s\",\"ApproximateArrivalTimestamp\":1.7e9,"
			   "\"Data\":\"%s\",\"PartitionKey\":\"%d\"}", seq, b64, racer);
}

static void message(struct strbuf *out, const char *event_type, const char *payload)
{
	struct eventstream_header h[] = {
		eventstream_string(":message-type", "event"),
		eventstream_string(":event-type", event_type),
		eventstream_string(":content-type", "application/json"),
	};

	assert_int_equal(eventstream_encode(out, h, 3, payload, strlen(payload)), 0);
}

/* The n-th subscription's event stream: two records, then (after a broken
 * message, the second time) the closed shard's last record and its end. */
/* flood one-record events (racers 1, 2, ... in turn), then the end. */
static void flood_stream(struct strbuf *out, int flood)
{
	struct strbuf p;
	char seq[16];

	strbuf_init(&p);
	message(out, "initial-response", "{}");
	for (int i = 1; i <= flood; i++) {
		strbuf_reset(&p);
		snprintf(seq, sizeof(seq), "%d", i);
		strbuf_lit(&p, "{\"Records\":[");
		record_json(&p, i, seq);
		strbuf_printf(&p, "],\"ContinuationSequenceNumber\":%s%s%s,\"MillisBehindLatest\":0%s}",
			      i < flood ? "\"" : "", i < flood ? seq : "null", i < flood ? "\"" : "",
			      i < flood ? "" : ",\"ChildShards\":[]");
		message(out, "SubscribeToShardEvent", p.data);
	}
	strbuf_free(&p);
}

static void event_stream(struct strbuf *out, int n)
{
	struct strbuf p;

	strbuf_init(&p);
	message(out, "initial-response", "{}");
	if (n == 0) {
		strbuf_lit(&p, "{\"Records\":[");
		record_json(&p, 1, "1");
		strbuf_lit(&p, ",");
		record_json(&p, 2, "2");
		strbuf_lit(&p, "],\"ContinuationSequenceNumber\":\"2\",\"MillisBehindLatest\":0}");
		message(out, "SubscribeToShardEvent", p.data);
	} else {
		strbuf_lit(&p, "{\"Records\":[");
		record_json(&p, 3, "3");
		strbuf_lit(&p, "],\"ContinuationSequenceNumber\":null,\"MillisBehindLatest\":0,"
			       "\"ChildShards\":[]}");
		message(out, "SubscribeToShardEvent", p.data);
		if (n == 1)
			out->data[out->len - 1] ^= 0x55;        /* the message CRC broken */
	}
	strbuf_free(&p);
}

/* The n-th subscription of a stream that breaks every way but a bad CRC:
 * two records, then silence; an exception message; half a message; the
 * closed shard's last record. Returns whether the server then waits,
 * silent, for the reader to hang up. */
static bool broken_stream(struct strbuf *out, int n)
{
	struct strbuf p;
	struct eventstream_header exception[] = {
		eventstream_string(":message-type", "exception"),
		eventstream_string(":exception-type", "InternalFailureException"),
		eventstream_string(":content-type", "application/json"),
	};
	const char *failure = "{\"message\":\"try again\"}";

	if (n == 0 || n == 3) {
		event_stream(out, n == 0 ? 0 : 2);
		return n == 0;
	}
	strbuf_init(&p);
	message(out, "initial-response", "{}");
	if (n == 1) {
		assert_int_equal(eventstream_encode(out, exception, 3, failure, strlen(failure)), 0);
	} else {
		event_stream(&p, 2);
		strbuf_append(out, p.data, p.len / 2);  /* the connection closes in a message */
	}
	strbuf_free(&p);
	return false;
}

/* Holds a connection open, saying nothing, until the reader closes it. */
static void stay_silent(int fd)
{
	struct timeval limit = { .tv_sec = 30 };
	char buf[256];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static const char *answer_to(struct fake *f, const char *target, const char *body)
{
	if (strstr(target, "DescribeStreamSummary"))
		return "{\"StreamDescriptionSummary\":{\"StreamARN\":\"arn:aws:kinesis:us-east-1:1:"
		       "stream/s\"}}";
	if (strstr(target, "RegisterStreamConsumer"))
		return "{\"Consumer\":{\"ConsumerARN\":\"arn:c\",\"ConsumerStatus\":\"CREATING\"}}";
	if (strstr(target, "DescribeStreamConsumer")) {
		f->described++;
		return "{\"ConsumerDescription\":{\"ConsumerARN\":\"arn:c\",\"ConsumerStatus\":"
		       "\"ACTIVE\"}}";
	}
	if (strstr(target, "ListShards"))
		return "{\"Shards\":[{\"ShardId\":\"" SHARD "\"}]}";
	(void)body;
	return NULL;
}

/* The starting position a SubscribeToShard names: its sequence number, or
 * its type. */
static void note_position(struct fake *f, const char *body)
{
	json_t *j = json_loads(body, 0, NULL), *pos = json_object_get(j, "StartingPosition");
	const char *seq = json_string_value(json_object_get(pos, "SequenceNumber"));
	const char *type = json_string_value(json_object_get(pos, "Type"));

	if (f->subscriptions < 4)
		snprintf(f->positions[f->subscriptions], sizeof(f->positions[0]), "%s",
			 seq ? seq : type ? type : "?");
	json_decref(j);
}

static void send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Reads one request: headers and Content-Length bytes of body. */
static int read_request(int fd, struct strbuf *in, const char **body)
{
	char buf[4096], *end;
	long want = -1;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return -1;
		strbuf_append(in, buf, (size_t)n);
		if ((end = strstr(in->data, "\r\n\r\n")) == NULL)
			continue;
		if (want < 0) {
			const char *cl = strcasestr(in->data, "content-length:");
			want = cl ? strtol(cl + 15, NULL, 10) : 0;
		}
		if ((long)(in->len - (size_t)(end + 4 - in->data)) >= want) {
			*body = end + 4;
			return 0;
		}
	}
}

static void serve_one(struct fake *f, int fd)
{
	struct strbuf in, out;
	const char *body, *target, *json;
	char head[256];

	strbuf_init(&in);
	strbuf_init(&out);
	if (read_request(fd, &in, &body) == 0) {
		target = strcasestr(in.data, "x-amz-target:");
		json = target ? answer_to(f, target, body) : NULL;
		if (json) {
			snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: "
				 "application/x-amz-json-1.1\r\nContent-Length: %zu\r\nConnection: "
				 "close\r\n\r\n", strlen(json));
			send_all(fd, head, strlen(head));
			send_all(fd, json, strlen(json));
		} else {
			bool silent = false;
			note_position(f, body);
			if (f->flood)
				flood_stream(&out, f->flood);
			else if (f->breaks)
				silent = broken_stream(&out, f->subscriptions);
			else
				event_stream(&out, f->subscriptions);
			f->subscriptions++;
			snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: "
				 EVENTSTREAM_CONTENT_TYPE "\r\nConnection: close\r\n\r\n");
			send_all(fd, head, strlen(head));
			send_all(fd, out.data, out.len);
			if (silent)
				stay_silent(fd);
		}
	}
	close(fd);
	strbuf_free(&in);
	strbuf_free(&out);
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	int fd;

	while ((fd = accept(f->listener, NULL, NULL)) >= 0)
		serve_one(f, fd);
	return NULL;
}

static void fake_start(struct fake *f, int flood, bool breaks)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	memset(f, 0, sizeof(*f));
	f->flood = flood;
	f->breaks = breaks;
	f->listener = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->listener >= 0);
	assert_int_equal(bind(f->listener, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->listener, 16), 0);
	assert_int_equal(getsockname(f->listener, (struct sockaddr *)&a, &len), 0);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->listener, SHUT_RDWR);
	close(f->listener);
	pthread_join(f->thread, NULL);
}

/* ---- the test ------------------------------------------------------------- */

/* A consumer of cc reading the fake. */
static struct consumer *consumer_against(const struct fake *f, struct consumer_config *cc)
{
	char url[64], err[ERR_TEXT_MAX];
	struct consumer *c;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->port);
	assert_int_equal(endpoint_parse(url, &cc->endpoint, err, sizeof(err)), 0);
	c = consumer_start(cc, err, sizeof(err));
	assert_non_null(c);
	return c;
}

/* Takes batches until the shard's end (or WAIT_TURNS), counting each of
 * racers 1 to 3 in seen; the records taken. */
static size_t read_to_end(struct consumer *c, int seen[4], bool *ended)
{
	size_t records = 0;

	*ended = false;
	for (int turn = 0; turn < WAIT_TURNS && !*ended; turn++) {
		struct consumer_batch *b = consumer_take(c), *p;

		for (p = b; p; p = p->next) {
			for (size_t i = 0; i < p->count; i++)
				if (p->records[i].t.racer_id >= 1 && p->records[i].t.racer_id <= 3)
					seen[p->records[i].t.racer_id]++;
			records += p->count;
			*ended = *ended || strcmp(p->continuation, CONSUMER_SHARD_END) == 0;
		}
		consumer_batch_free(b);
		usleep(20000);
	}
	return records;
}

/* The shard's stats: broken streams, and how the last broke. */
static uint64_t broken_streams(struct consumer *c, char *last, size_t size)
{
	struct consumer_stats *st = malloc(sizeof(*st));
	uint64_t n;

	assert_non_null(st);
	consumer_stats(c, st);
	assert_int_equal(st->shard_count, 1);
	n = st->shards[0].broken;
	snprintf(last, size, "%s", st->shards[0].last_broken);
	free(st);
	return n;
}

/* Silence, an exception message, an end inside a message: each is counted
 * as a broken stream, and the shard is subscribed again from the last
 * continuation, every record read once. */
static void test_broken_streams_counted_and_resubscribed(void **state)
{
	struct fake f;
	struct consumer_config cc = { .stream = "s", .name = "efo-test",
				      .read = CONSUMER_READ_EFO, .timeout_s = 5, .efo_idle_s = 1 };
	char last[128];
	struct consumer *c;
	size_t records;
	bool ended;
	int racers_seen[4] = { 0 };

	(void)state;
	fake_start(&f, 0, true);
	c = consumer_against(&f, &cc);
	records = read_to_end(c, racers_seen, &ended);
	assert_true(ended);
	assert_int_equal(broken_streams(c, last, sizeof(last)), 3);
	assert_non_null(strstr(last, "ended inside a message"));
	consumer_stop(c);
	fake_stop(&f);
	assert_int_equal(records, 3);
	for (int r = 1; r <= 3; r++)
		assert_int_equal(racers_seen[r], 1);
	assert_int_equal(f.subscriptions, 4);
	assert_string_equal(f.positions[0], "TRIM_HORIZON");
	for (int i = 1; i < 4; i++)
		assert_string_equal(f.positions[i], "2");
}

static void test_subscribe_renew_and_end(void **state)
{
	struct fake f;
	struct consumer_config cc = { .stream = "s", .name = "efo-test",
				      .read = CONSUMER_READ_EFO, .timeout_s = 5 };
	char last[128];
	struct consumer *c;
	size_t records = 0;
	bool ended = false;
	int racers_seen[4] = { 0 };

	(void)state;
	fake_start(&f, 0, false);
	c = consumer_against(&f, &cc);
	records = read_to_end(c, racers_seen, &ended);
	/* The bad CRC is counted. */
	assert_int_equal(broken_streams(c, last, sizeof(last)), 1);
	assert_non_null(strstr(last, "CRC"));
	assert_true(consumer_caught_up(c));
	consumer_stop(c);
	fake_stop(&f);
	assert_true(ended);
	assert_int_equal(records, 3);
	for (int r = 1; r <= 3; r++)
		assert_int_equal(racers_seen[r], 1);
	assert_true(f.described >= 1);  /* waited for ACTIVE */
	assert_int_equal(f.subscriptions, 3);
	assert_string_equal(f.positions[0], "TRIM_HORIZON");
	assert_string_equal(f.positions[1], "2");
	assert_string_equal(f.positions[2], "2");       /* the broken stream read again */
}

/* A caller that does not take batches pauses the event stream: the queue
 * stops near its limit instead of growing with the stream; taken, every
 * record arrives once, in order. */
static void test_untaken_batches_pause_the_stream(void **state)
{
	enum { FLOOD = 2000 };
	struct fake f;
	struct consumer_config cc = { .stream = "s", .name = "efo-test",
				      .read = CONSUMER_READ_EFO, .timeout_s = 5 };
	struct consumer_stats *st = malloc(sizeof(*st));
	struct consumer *c;
	int64_t next = 1;
	bool ended = false, in_order = true;

	(void)state;
	assert_non_null(st);
	fake_start(&f, FLOOD, false);
	c = consumer_against(&f, &cc);
	sleep(2);
	consumer_stats(c, st);
	/* Paused at the limit, give or take what one read of the socket held. */
	assert_true(st->events >= CONSUMER_QUEUE_MAX);
	assert_true(st->events < CONSUMER_QUEUE_MAX + 200);
	for (int turn = 0; turn < WAIT_TURNS && !ended; turn++) {
		struct consumer_batch *b = consumer_take(c), *p;

		for (p = b; p; p = p->next) {
			for (size_t i = 0; i < p->count; i++)
				in_order = in_order && p->records[i].t.racer_id == next++;
			ended = ended || strcmp(p->continuation, CONSUMER_SHARD_END) == 0;
		}
		consumer_batch_free(b);
		usleep(20000);
	}
	consumer_stop(c);
	fake_stop(&f);
	free(st);
	assert_true(ended);
	assert_true(in_order);
	assert_int_equal(next, FLOOD + 1);
	assert_int_equal(f.subscriptions, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subscribe_renew_and_end),
		cmocka_unit_test(test_untaken_batches_pause_the_stream),
		cmocka_unit_test(test_broken_streams_counted_and_resubscribed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
