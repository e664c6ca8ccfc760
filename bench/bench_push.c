/* Push (enhanced fan-out): latency and fan-out throughput, over the hub's
 * WebSocket push and over SubscribeToShard as AWS serves it (an event
 * stream over HTTP/2, h2c), side by side.
 *
 *   latency     a producer puts records at a steady rate (a PutRecords
 *               every 5 ms, each record a unique partition key, 200 B of
 *               data) while 1 or 20 registered consumers are subscribed
 *               (LATEST) to all 4 shards, one connection each (a
 *               WebSocket, or an HTTP/2 connection with a stream per
 *               shard). Latency is
 *               PutRecords acknowledged (the producer has read the answer)
 *               -> the event carrying the record read by the consumer,
 *               over every (consumer, record); a record pushed before the
 *               producer read its answer counts 0.
 *   fan-out     200,000 records put first, then 20 consumers subscribe at
 *               TRIM_HORIZON: records delivered to all of them together
 *               per second, from the subscriptions sent to the last record
 *               read.
 *
 * With --mirror, the same through a mirror (hub --mirror, its upstream a
 * second hub, reading it with one consumer over the push):
 *
 *   mirror lag  the producer puts to the upstream at 1k and 10k records/s,
 *               one consumer subscribed to the mirror (WebSocket, LATEST):
 *               upstream PutRecords acknowledged -> the record read from
 *               the mirror.
 *   fan-out     200 consumers (ten times the upstream's limit of 20) read
 *               20,000 records the mirror holds already from TRIM_HORIZON
 *               over WebSockets: records delivered to all of them together
 *               per second.
 *
 * The hub runs with no write or push limits (--push-bytes-per-sec 0; by
 * default each consumer and shard gets 2 MiB/s). Clients share one thread
 * for all WebSockets (epoll) and one for the producer, on the core the hub
 * does not use. Usage: bench_push [--quick] [--mirror]   (--quick: 1k and
 * 10k/s only, shorter) */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench.h"
#include "h2sub.h"
#include "net.h"

#define SHARDS 4
#define CONSUMERS_MAX 20
#define MIRROR_CONSUMERS 200
#define CONNS_MAX MIRROR_CONSUMERS
#define TICK_MS 5
#define DATA_BYTES 200
#define FANOUT_RECORDS 200000

enum transport { WEBSOCKET, HTTP2 };

struct push_run;

struct sub_conn {
	struct ws_conn ws;
	struct h2sub h2;
	struct push_run *run;
	int index;
	int events;                     /* events read */
	uint64_t records;
	bool closed;
};

/* Where the records go and where they are read: one hub, or a mirror's
 * upstream and the mirror. */
struct target {
	const char *bench;              /* the rows' benchmark: push or mirror */
	int put_port, sub_port;
};

struct push_run {
	enum transport transport;
	int port, sub_port, consumers, rate, records;
	const char *stream;
	char **arns;                    /* consumer ARNs */
	char **shards;
	struct sub_conn conns[CONNS_MAX];
	int64_t *ack_ns;                /* per record id */
	int64_t *sent_ns;               /* when its PutRecords went out */
	int64_t *seen_ns;               /* per consumer and record id */
	atomic_bool stop;               /* set by the main thread, read by consumers_run */
	uint64_t exceptions;
	int64_t last_ns;                /* when the last record arrived */
};

/* ------------------------------------------------------------------ */
/* Set up                                                              */
/* ------------------------------------------------------------------ */

static char **register_consumers(int port, const char *stream, int n)
{
	struct http_conn c = { .fd = -1 };
	char **arns = bench_alloc(n * sizeof(*arns));
	json_t *j;
	const char *stream_arn;

	if (http_connect(&c, port) < 0 || net_create_stream(&c, stream, SHARDS) < 0)
		exit(1);
	j = net_call(&c, "DescribeStreamSummary", "{\"StreamName\":\"%s\"}", stream);
	stream_arn = json_string_value(
		json_object_get(json_object_get(j, "StreamDescriptionSummary"), "StreamARN"));
	for (int i = 0; i < n && stream_arn; i++) {
		json_t *r = net_call(&c, "RegisterStreamConsumer",
				     "{\"StreamARN\":\"%s\",\"ConsumerName\":\"bench-%d-%d\"}",
				     stream_arn, n, i);
		const char *arn = json_string_value(
			json_object_get(json_object_get(r, "Consumer"), "ConsumerARN"));

		if (arn == NULL) {
			fprintf(stderr, "bench_push: cannot register a consumer\n");
			exit(1);
		}
		arns[i] = strdup(arn);
		json_decref(r);
	}
	json_decref(j);
	http_close(&c);
	return arns;
}

static void on_message(void *user, const char *msg, size_t len);

/* An event-stream message: its payload is what a WebSocket event says. */
static void on_h2_message(void *user, const char *payload, size_t len, bool exception)
{
	struct sub_conn *s = user;

	if (exception) {
		s->run->exceptions++;
		bench_note("bench_push: exception over HTTP/2: %.*s", (int)(len < 300 ? len : 300),
			   payload);
		return;
	}
	on_message(s, payload, len);
}

static void subscribe_h2(struct push_run *run, struct sub_conn *s, const char *position)
{
	if (h2sub_connect(&s->h2, run->sub_port, on_h2_message, s) < 0) {
		fprintf(stderr, "bench_push: HTTP/2 connection refused\n");
		exit(1);
	}
	for (int i = 0; i < SHARDS; i++)
		h2sub_subscribe(&s->h2, run->arns[s->index], run->shards[i], position);
}

static void subscribe_all(struct push_run *run, const char *position)
{
	char msg[1024];

	for (int k = 0; k < run->consumers; k++) {
		struct sub_conn *s = &run->conns[k];

		memset(s, 0, sizeof(*s));
		s->index = k;
		s->run = run;
		if (run->transport == HTTP2) {
			subscribe_h2(run, s, position);
			continue;
		}
		if (ws_connect(&s->ws, run->sub_port) < 0) {
			fprintf(stderr, "bench_push: WebSocket connection refused\n");
			exit(1);
		}
		for (int i = 0; i < SHARDS; i++) {
			int n = snprintf(msg, sizeof(msg),
					 "{\"Action\":\"SubscribeToShard\",\"ConsumerARN\":\"%s\","
					 "\"ShardId\":\"%s\",\"StartingPosition\":{\"Type\":\"%s\"}}",
					 run->arns[k], run->shards[i], position);
			ws_send_text(&s->ws, msg, (size_t)n);
		}
	}
}

/* ------------------------------------------------------------------ */
/* The consumers' thread                                               */
/* ------------------------------------------------------------------ */

/* Every "PartitionKey":"ID" of an event is a record: ids are keys. */
static void on_message(void *user, const char *msg, size_t len)
{
	static const char mark[] = "\"PartitionKey\":\"";
	struct sub_conn *conn = user;
	struct push_run *run = conn->run;
	int64_t now = bench_ns();
	const char *p = msg, *end = msg + len;
	uint64_t n = 0;

	conn->events++;
	if (len > 10 && memmem(msg, len < 64 ? len : 64, "Exception", 9)) {
		run->exceptions++;
		bench_note("bench_push: %.*s", (int)(len < 300 ? len : 300), msg);
		return;
	}
	while ((p = memmem(p, (size_t)(end - p), mark, sizeof(mark) - 1)) != NULL) {
		long id = strtol(p + sizeof(mark) - 1, NULL, 10);
		int64_t *seen;

		p += sizeof(mark) - 1;
		n++;
		if (run->seen_ns == NULL || id < 0 || id >= run->records)
			continue;
		seen = &run->seen_ns[(size_t)conn->index * run->records + (size_t)id];
		if (*seen == 0)
			*seen = now;
	}
	if (n) {
		conn->records += n;
		run->last_ns = now;
	}
}

static int conn_fd(const struct sub_conn *s)
{
	return s->run->transport == HTTP2 ? s->h2.fd : s->ws.fd;
}

static void *consumers_run(void *arg)
{
	struct push_run *run = arg;
	struct epoll_event ev, events[CONNS_MAX];
	int ep = epoll_create1(0);

	for (int k = 0; k < run->consumers; k++) {
		ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &run->conns[k] };
		epoll_ctl(ep, EPOLL_CTL_ADD, conn_fd(&run->conns[k]), &ev);
	}
	while (!atomic_load(&run->stop)) {
		int n = epoll_wait(ep, events, CONNS_MAX, 50);

		for (int i = 0; i < n; i++) {
			struct sub_conn *s = events[i].data.ptr;
			int rc = run->transport == HTTP2 ? h2sub_pump(&s->h2)
							 : ws_pump(&s->ws, on_message, s);

			if (!s->closed && rc < 0) {
				s->closed = true;
				epoll_ctl(ep, EPOLL_CTL_DEL, conn_fd(s), NULL);
			}
		}
	}
	close(ep);
	return NULL;
}

/* Waits until every connection has read `events` events; false after 5 s. */
static bool wait_events(struct push_run *run, int events)
{
	for (int waited = 0; waited < 5000; waited += 5) {
		int ready = 0;

		for (int k = 0; k < run->consumers; k++)
			ready += __atomic_load_n(&run->conns[k].events, __ATOMIC_RELAXED) >= events;
		if (ready == run->consumers)
			return true;
		usleep(5000);
	}
	return false;
}

static void close_all(struct push_run *run)
{
	for (int k = 0; k < run->consumers; k++) {
		if (run->transport == HTTP2)
			h2sub_close(&run->conns[k].h2);
		else
			ws_close(&run->conns[k].ws);
	}
}

/* ------------------------------------------------------------------ */
/* Latency                                                             */
/* ------------------------------------------------------------------ */

/* Sends the records in PutRecords of `batch`, one every TICK_MS. */
static void produce(struct push_run *run, int batch, double *achieved)
{
	struct http_conn c = { .fd = -1 };
	int64_t start = bench_ns(), next = start;
	int batches = run->records / batch;
	char **bodies = bench_alloc(batches * sizeof(*bodies));
	size_t *lens = bench_alloc(batches * sizeof(*lens));

	for (int b = 0; b < batches; b++)
		bodies[b] = net_put_body(run->stream, (size_t)batch, DATA_BYTES,
					 (uint64_t)b * batch, &lens[b]);
	if (http_connect(&c, run->port) < 0)
		exit(1);
	start = next = bench_ns();
	for (int b = 0; b < batches; b++) {
		int64_t now = bench_ns();

		for (int i = 0; i < batch; i++)
			run->sent_ns[b * batch + i] = now;
		if (http_kinesis(&c, "PutRecords", bodies[b], lens[b]) != 200)
			bench_note("bench_push: PutRecords failed: %.200s", c.body ? c.body : "");
		now = bench_ns();
		for (int i = 0; i < batch; i++)
			run->ack_ns[b * batch + i] = now;
		next += TICK_MS * 1000000LL;
		if ((now = bench_ns()) < next)
			usleep((useconds_t)((next - now) / 1000));
	}
	*achieved = (double)run->records / bench_seconds(start);
	http_close(&c);
	for (int b = 0; b < batches; b++)
		free(bodies[b]);
	free(bodies);
	free(lens);
}

/* Latencies from the acknowledgement, or with from_sent from the request
 * going out (which does not hide pushes that beat the answer). */
static size_t collect(struct push_run *run, double *lat, size_t *missing, bool from_sent)
{
	size_t n = 0;

	*missing = 0;
	for (int k = 0; k < run->consumers; k++) {
		for (int i = 0; i < run->records; i++) {
			int64_t seen = run->seen_ns[(size_t)k * run->records + (size_t)i];
			int64_t ack = from_sent ? run->sent_ns[i] : run->ack_ns[i];

			if (seen == 0 || ack == 0) {
				(*missing)++;
				continue;
			}
			lat[n++] = seen > ack ? (double)(seen - ack) / 1e6 : 0.0;
		}
	}
	return n;
}

/* How a row names its transport. */
static const char *transport_name(enum transport t)
{
	return t == HTTP2 ? "SubscribeToShard/HTTP2" : "push";
}

static void latency_row(enum transport transport, const struct target *to, char **arns,
			char **shards, int rate, int consumers, double seconds)
{
	static struct push_run run;
	int batch = rate * TICK_MS / 1000;
	double achieved = 0, *lat, p50, p99, max, sent99, early;
	size_t n, missing;
	pthread_t thread;
	char figure[160], target[32] = "";

	memset(&run, 0, sizeof(run));
	run.transport = transport;
	run.port = to->put_port;
	run.sub_port = to->sub_port;
	run.consumers = consumers;
	run.rate = rate;
	run.records = (int)(rate * seconds) / batch * batch;
	run.stream = "alleycat";
	run.arns = arns;
	run.shards = shards;
	run.ack_ns = bench_alloc(run.records * sizeof(*run.ack_ns));
	run.sent_ns = bench_alloc(run.records * sizeof(*run.sent_ns));
	run.seen_ns = bench_alloc((size_t)consumers * run.records * sizeof(*run.seen_ns));
	lat = bench_alloc((size_t)consumers * run.records * sizeof(*lat));
	subscribe_all(&run, "LATEST");
	pthread_create(&thread, NULL, consumers_run, &run);
	if (!wait_events(&run, SHARDS))
		bench_note("bench_push: not every subscription was acknowledged");
	produce(&run, batch, &achieved);
	for (int waited = 0; waited < 3000; waited += 10) {
		uint64_t got = 0;

		for (int k = 0; k < consumers; k++)
			got += run.conns[k].records;
		if (got >= (uint64_t)consumers * run.records)
			break;
		usleep(10000);
	}
	atomic_store(&run.stop, true);
	pthread_join(thread, NULL);
	close_all(&run);
	n = collect(&run, lat, &missing, true);
	sent99 = bench_quantile(lat, n, 0.99, false);
	n = collect(&run, lat, &missing, false);
	p50 = bench_quantile(lat, n, 0.5, false);
	p99 = bench_quantile(lat, n, 0.99, true);
	max = n ? lat[n - 1] : 0.0;
	early = 0;
	for (size_t i = 0; i < n && lat[i] == 0.0; i++)
		early++;
	if (rate == 10000 && consumers == 20)
		snprintf(target, sizeof(target), "p99 <= 2 ms");
	if (to->sub_port != to->put_port)
		snprintf(figure, sizeof(figure),
			 "mirror lag at %dk records/s (put upstream -> read from the mirror): "
			 "p50 / p99 / max", rate / 1000);
	else
		snprintf(figure, sizeof(figure),
			 "%s latency at %dk records/s, %d consumer%s: p50 / p99 / max",
			 transport_name(transport), rate / 1000, consumers, consumers > 1 ? "s" : "");
	if (achieved < rate * 0.95)
		bench_row(to->bench, figure, target, "%.2f / %.2f / %.2f ms (put only %.0fk/s)", p50,
			  p99, max, achieved / 1000);
	else
		bench_row(to->bench, figure, target, "%.2f / %.2f / %.2f ms", p50, p99, max);
	bench_row(to->bench,
		  "  same, from the request sent: p99; share pushed before the answer was read", "",
		  "%.2f ms; %.0f%%", sent99, n ? 100.0 * early / n : 0.0);
	bench_note("bench_push: %s %d/s x %d: %zu deliveries, %zu missing, put rate %.0f/s",
		   transport_name(transport), rate, consumers, n, missing, achieved);
	usleep(100000);         /* the hub notices the closed connections */
	free(lat);
	free(run.ack_ns);
	free(run.sent_ns);
	free(run.seen_ns);
}

/* ------------------------------------------------------------------ */
/* Fan-out throughput                                                  */
/* ------------------------------------------------------------------ */

static void preload(int port, const char *stream, int records)
{
	struct http_conn c = { .fd = -1 };
	size_t len;
	char *body = net_put_body(stream, 500, DATA_BYTES, 0, &len);

	if (http_connect(&c, port) < 0)
		exit(1);
	for (int i = 0; i < records / 500; i++)
		if (http_kinesis(&c, "PutRecords", body, len) != 200)
			bench_note("bench_push: preload failed");
	http_close(&c);
	free(body);
}

/* The records a mirror stored, as its /metrics says; -1 unreadable. */
static long mirror_stored(int port)
{
	static const char mark[] = "outcome=\"stored\"} ";
	char page[65536];
	int fd = net_tcp_connect(port);
	size_t len = 0;
	ssize_t n;
	const char *at;

	if (fd >= 0 && write(fd, "GET /metrics HTTP/1.0\r\n\r\n", 26) == 26)
		while (len < sizeof(page) - 1 && (n = read(fd, page + len, sizeof(page) - 1 - len)) > 0)
			len += (size_t)n;
	if (fd >= 0)
		close(fd);
	page[len] = '\0';
	return (at = strstr(page, mark)) ? strtol(at + sizeof(mark) - 1, NULL, 10) : -1;
}

/* Waits until a mirror has stored `records` records; a note after a minute. */
static void mirror_holds(int port, long records)
{
	for (int waited = 0; waited < 60000; waited += 50) {
		if (mirror_stored(port) >= records)
			return;
		usleep(50000);
	}
	bench_note("bench_push: the mirror did not copy %ld records within a minute", records);
}

/* consumers read `records` records put before from TRIM_HORIZON; on a
 * mirror once it holds them (and the `before` records put earlier). */
static void fanout_row(enum transport transport, const struct target *to, const char *stream,
		       int consumers, int records, long before)
{
	static struct push_run run;
	char **arns = register_consumers(to->sub_port, stream, consumers), **shards;
	char figure[128];
	struct http_conn c = { .fd = -1 };
	uint64_t got = 0;
	int64_t start;
	double seconds;
	pthread_t thread;
	char buf[32];

	http_connect(&c, to->sub_port);
	net_shards(&c, stream, &shards);
	http_close(&c);
	preload(to->put_port, stream, records);
	if (to->sub_port != to->put_port)
		mirror_holds(to->sub_port, before + records);
	memset(&run, 0, sizeof(run));
	run = (struct push_run){ .transport = transport, .port = to->put_port,
				 .sub_port = to->sub_port, .consumers = consumers,
				 .records = records, .stream = stream, .arns = arns,
				 .shards = shards };
	start = bench_ns();
	subscribe_all(&run, "TRIM_HORIZON");
	pthread_create(&thread, NULL, consumers_run, &run);
	for (int waited = 0; waited < 60000; waited += 5) {
		got = 0;
		for (int k = 0; k < consumers; k++)
			got += __atomic_load_n(&run.conns[k].records, __ATOMIC_RELAXED);
		if (got >= (uint64_t)consumers * (uint64_t)(before + records))
			break;
		usleep(5000);
	}
	atomic_store(&run.stop, true);
	pthread_join(thread, NULL);
	seconds = (double)(run.last_ns - start) / 1e9;
	close_all(&run);
	snprintf(figure, sizeof(figure), "%s fan-out%s: records/s delivered to %d consumers together",
		 transport_name(transport), to->sub_port != to->put_port ? " from a mirror" : "",
		 consumers);
	bench_row(to->bench, figure, consumers == CONSUMERS_MAX ? ">= 1,000,000/s" : "", "%s",
		  bench_count((double)got / seconds, buf));
	bench_note("bench_push: %s fan-out to %d: %" PRIu64 " deliveries in %.2f s",
		   transport_name(transport), consumers, got, seconds);
}

/* The rows through a mirror: a second hub copying the first's stream. */
static void mirror_rows(bool quick)
{
	static const int rates[] = { 1000, 10000 };
	char upstream[64], **shards;
	/* Push, named: an http:// upstream is read by SubscribeToShard unless
	 * --read says otherwise, and that reader's libcurl is driven by a timer
	 * (up to 16 ms between turns), which would be what the rows measure. */
	const char *extra[] = { "--mirror", upstream, "--read", "push", "--max-consumers", "250",
				"--push-bytes-per-sec", "0", NULL };
	static const char *const unlimited[] = { "--push-bytes-per-sec", "0", NULL };
	struct http_conn c = { .fd = -1 };
	struct target to = { .bench = "mirror" };
	pid_t up = net_start_hub(&to.put_port, unlimited), mirror;
	char **arns;
	const int warm = 500;

	snprintf(upstream, sizeof(upstream), "http://127.0.0.1:%d", to.put_port);
	mirror = net_start_hub(&to.sub_port, extra);
	/* The mirror reads the upstream before the clock starts. */
	preload(to.put_port, "alleycat", warm);
	mirror_holds(to.sub_port, warm);
	arns = register_consumers(to.sub_port, "alleycat", 1);
	http_connect(&c, to.sub_port);
	net_shards(&c, "alleycat", &shards);
	http_close(&c);
	for (size_t r = 0; r < 2; r++)
		latency_row(WEBSOCKET, &to, arns, shards, rates[r], 1, quick ? 1.0 : 3.0);
	fanout_row(WEBSOCKET, &to, "alleycat", MIRROR_CONSUMERS, quick ? 5000 : 20000,
		   mirror_stored(to.sub_port));
	net_stop(mirror);
	net_stop(up);
}

int main(int argc, char **argv)
{
	bool quick = false, mirror = false;
	static const char *const extra[] = { "--push-bytes-per-sec", "0", NULL };
	static const int rates[] = { 1000, 10000, 100000 }, consumers[] = { 1, 20 };
	struct http_conn c = { .fd = -1 };
	struct target to = { .bench = "push" };
	char **arns, **shards;
	pid_t hub;

	for (int i = 1; i < argc; i++) {
		quick |= strcmp(argv[i], "--quick") == 0;
		mirror |= strcmp(argv[i], "--mirror") == 0;
	}
	bench_table_head();
	if (mirror) {
		mirror_rows(quick);
		return 0;
	}
	hub = net_start_hub(&to.put_port, extra);
	to.sub_port = to.put_port;
	arns = register_consumers(to.put_port, "alleycat", CONSUMERS_MAX);
	http_connect(&c, to.put_port);
	net_shards(&c, "alleycat", &shards);
	http_close(&c);
	for (size_t r = 0; r < (quick ? 2u : 3u); r++)
		for (size_t k = 0; k < 2; k++)
			for (enum transport t = WEBSOCKET; t <= HTTP2; t++)
				latency_row(t, &to, arns, shards, rates[r], consumers[k],
					    quick ? 1.0 : 2.0);
	for (enum transport t = WEBSOCKET; t <= HTTP2; t++)
		fanout_row(t, &to, t == HTTP2 ? "fanout-h2" : "fanout", CONSUMERS_MAX,
			   quick ? FANOUT_RECORDS / 4 : FANOUT_RECORDS, 0);
	net_stop(hub);
	return 0;
}
