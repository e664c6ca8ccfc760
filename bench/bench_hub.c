/* The hub over HTTP on loopback, side by side with kinesalite.
 *
 *   ingest         PutRecords of 500 records of 200 B (telemetry JSON
 *                  padded with an ignored field), back to back on 1, 4 and
 *                  8 keep-alive connections, one thread each; records/s
 *                  acknowledged (a request with a failed record stops the
 *                  run). The hub runs with no write limits, 4 shards. Then
 *                  4 connections again on a stream resharded 4 -> 3 -> 4
 *                  ... (about 50 closed shards beside its 4 open ones,
 *                  which writes must pass over).
 *   memory         a fresh hub's VmRSS before and after taking 1,000,000
 *                  such records, per million, and against the 200 MB of data
 *   kinesalite     the same load on 4 connections (its figures are
 *                  skipped, with a note, when bench/node is not installed)
 *   polling        a record a 10 ms on a 1-shard stream, read back by a
 *                  GetRecords loop, back to back and every 200 ms (the
 *                  per-shard 5 reads/s of Kinesis): PutRecords acknowledged
 *                  -> record in a GetRecords answer, p50 / p99 / max
 *   reader         the same with telemetry records read by the consumer's
 *                  own polling reader (--read polling, consumer_poll.c:
 *                  its pacing, 200 ms after records, 500 ms idle):
 *                  acknowledged -> in a batch the caller takes
 *
 *   in process     the same PutRecords bodies through kinesis_handle with no
 *                  network (what the API itself costs), and jansson's parse
 *                  of such a body alone (json_loadb then json_decref); then
 *                  kinesis_handle on the resharded stream of the ingest row,
 *                  and on a stream at its byte limit (64 MiB), where every
 *                  write drops old records, resharded and not
 *
 * The client is plain sockets and prebuilt requests, so what is measured
 * is the server. Usage: bench_hub [--quick] (shorter runs, 200,000 records)
 * [--polling] (the polling rows alone) */
#include "config.h"

#include <pthread.h>
#include <unistd.h>

#include "bench.h"
#include "client/consumer.h"
#include "hub/hub.h"
#include "hub/kinesis.h"
#include "net.h"
#include "util/base64.h"
#include "util/errtext.h"
#include "wire/protocol.h"
#include "wire/sigv4.h"

#define BATCH 500
#define DATA_BYTES 200
#define POLL_PERIOD_MS 10

static double run_seconds = 2.0;

/* ------------------------------------------------------------------ */
/* Ingest                                                              */
/* ------------------------------------------------------------------ */

struct client {
	pthread_t thread;
	int port;
	const char *stream;
	char *body;
	size_t len;
	uint64_t requests;              /* 0: run until the deadline */
	int64_t deadline_ns;
	uint64_t records;
	bool failed;
};

static void *client_run(void *arg)
{
	struct client *c = arg;
	struct http_conn conn = { .fd = -1 };

	if (http_connect(&conn, c->port) < 0) {
		c->failed = true;
		return NULL;
	}
	for (uint64_t i = 0; c->requests ? i < c->requests : bench_ns() < c->deadline_ns; i++) {
		int status = http_kinesis(&conn, "PutRecords", c->body, c->len);

		if (status != 200 || !strstr(conn.body, "\"FailedRecordCount\":0")) {
			bench_note("bench_hub: PutRecords answered %d: %.200s", status,
				   conn.body ? conn.body : "");
			c->failed = true;
			break;
		}
		c->records += BATCH;
	}
	http_close(&conn);
	return NULL;
}

/* n clients in parallel; either each sends `requests`, or all run for
 * run_seconds. Records per second, 0 when a request failed. */
static double ingest(int port, const char *stream, int n, uint64_t requests)
{
	struct client *c = bench_alloc(n * sizeof(*c));
	uint64_t records = 0;
	bool failed = false;
	int64_t start;
	double elapsed;

	for (int i = 0; i < n; i++) {
		c[i] = (struct client){ .port = port, .stream = stream, .requests = requests };
		c[i].body = net_put_body(stream, BATCH, DATA_BYTES, (uint64_t)i * 1000003, &c[i].len);
	}
	start = bench_ns();
	for (int i = 0; i < n; i++) {
		c[i].deadline_ns = start + (int64_t)(run_seconds * 1e9);
		pthread_create(&c[i].thread, NULL, client_run, &c[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(c[i].thread, NULL);
		records += c[i].records;
		failed |= c[i].failed;
		free(c[i].body);
	}
	elapsed = bench_seconds(start);
	free(c);
	return failed ? 0 : (double)records / elapsed;
}

static void ingest_rows(const char *server, int port, const int *clients, size_t n, double *at4)
{
	char figure[128], buf[32];

	for (size_t i = 0; i < n; i++) {
		double r = ingest(port, "bench", clients[i], 0);

		snprintf(figure, sizeof(figure),
			 "%s ingest, PutRecords 500 x 200 B, %d connection%s, records/s", server,
			 clients[i], clients[i] > 1 ? "s" : "");
		bench_row("hub", figure, strcmp(server, "hub") == 0 ? ">= 300,000/s" : "", "%s",
			  r > 0 ? bench_count(r, buf) : "failed");
		if (clients[i] == 4)
			*at4 = r;
	}
}

/* UpdateShardCount 4 -> 3 -> 4 ... RESHARD_STEPS times: each step leaves
 * closed parents and intermediate shards behind. */
#define RESHARD_STEPS 8

/* A stream resharded RESHARD_STEPS times; how many shards it lists. */
static size_t resharded_stream(int port, const char *stream)
{
	struct http_conn c = { .fd = -1 };
	char **ids;
	size_t n;

	if (http_connect(&c, port) < 0 || net_create_stream(&c, stream, 4) < 0)
		return 0;
	for (int step = 0; step < RESHARD_STEPS; step++)
		json_decref(net_call(&c, "UpdateShardCount",
				     "{\"StreamName\":\"%s\",\"TargetShardCount\":%d,"
				     "\"ScalingType\":\"UNIFORM_SCALING\"}",
				     stream, step % 2 ? 4 : 3));
	n = net_shards(&c, stream, &ids);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	http_close(&c);
	return n;
}

/* On a fresh hub, as the 4-shard rows start nearly fresh. */
static void resharded_row(void)
{
	int port;
	pid_t hub = net_start_hub(&port, NULL);
	size_t shards = resharded_stream(port, "resharded");
	double r = shards > 4 ? ingest(port, "resharded", 4, 0) : 0;
	char figure[160], buf[32];

	net_stop(hub);

	snprintf(figure, sizeof(figure),
		 "hub ingest, 4 connections, a stream resharded %d times (%zu closed shards), "
		 "records/s", RESHARD_STEPS, shards > 4 ? shards - 4 : 0);
	bench_row("hub", figure, "as with 4 shards", "%s", r > 0 ? bench_count(r, buf) : "failed");
}

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

static void memory_rows(bool quick)
{
	uint64_t records = quick ? 200000 : 1000000, before, after;
	int port;
	pid_t pid = net_start_hub(&port, NULL);
	double per_million;

	usleep(200000);
	before = bench_rss(pid);
	if (ingest(port, "alleycat", 2, records / BATCH / 2) <= 0) {
		bench_row("hub", "RSS per million retained 200-byte records", "<= 1.5x payload",
			  "failed");
		net_stop(pid);
		return;
	}
	usleep(200000);
	after = bench_rss(pid);
	per_million = (double)(after - before) * 1e6 / (double)records;
	bench_row("hub", "RSS per million retained 200-byte records (data 200 MB)",
		  "<= 1.5x payload", "%.0f MB (%.2fx)", per_million / 1e6,
		  per_million / (1e6 * DATA_BYTES));
	net_stop(pid);
}

/* ------------------------------------------------------------------ */
/* Polling latency                                                     */
/* ------------------------------------------------------------------ */

struct poll_run {
	int port;
	int records;
	int64_t *ack_ns, *seen_ns;
	bool failed;
	bool telemetry;                 /* Data is a telemetry record, racer id = record id */
};

static char *one_record_body(int id, bool telemetry, size_t *len)
{
	char data[DATA_BYTES + 1], b64[base64_encoded_len(DATA_BYTES) + 1], *body;
	int n = telemetry ? snprintf(data, sizeof(data),
				     "{\"event\":\"update\",\"second\":1,\"raceId\":77,"
				     "\"name\":\"R%d\",\"racerId\":%d,\"classId\":3,"
				     "\"cadence\":81.0,\"resistance\":79.0}", id, id)
			  : snprintf(data, sizeof(data), "id=%08d;", id);

	if (!telemetry)
		memset(data + n, 'x', DATA_BYTES - (size_t)n);
	n = telemetry ? n : DATA_BYTES;
	base64_encode(data, (size_t)n, b64);
	*len = (size_t)asprintf(&body, "{\"StreamName\":\"poll\",\"Records\":[{\"Data\":\"%s\","
				"\"PartitionKey\":\"%d\"}]}", b64, id);
	return body;
}

static void *producer_run(void *arg)
{
	struct poll_run *p = arg;
	struct http_conn conn = { .fd = -1 };
	int64_t next = bench_ns();

	if (http_connect(&conn, p->port) < 0) {
		p->failed = true;
		return NULL;
	}
	for (int i = 0; i < p->records; i++) {
		size_t len;
		char *body = one_record_body(i, p->telemetry, &len);
		int64_t now;

		if (http_kinesis(&conn, "PutRecords", body, len) != 200)
			p->failed = true;
		__atomic_store_n(&p->ack_ns[i], bench_ns(), __ATOMIC_RELEASE);
		free(body);
		next += POLL_PERIOD_MS * 1000000LL;
		if ((now = bench_ns()) < next)
			usleep((useconds_t)((next - now) / 1000));
	}
	http_close(&conn);
	return NULL;
}

/* Notes the records of a GetRecords answer; how many were new. */
static int note_records(struct poll_run *p, json_t *answer, int64_t now)
{
	json_t *records = json_object_get(answer, "Records"), *r;
	size_t i;
	int fresh = 0;

	json_array_foreach(records, i, r) {
		const char *data = json_string_value(json_object_get(r, "Data"));
		unsigned char raw[DATA_BYTES + 8];
		size_t n;
		int id;

		if (data == NULL || strlen(data) > base64_encoded_len(DATA_BYTES) ||
		    base64_decode(data, strlen(data), raw, &n, NULL) < 0 || n < 12)
			continue;
		raw[n - 1] = '\0';
		if (sscanf((char *)raw, "id=%d;", &id) == 1 && id >= 0 && id < p->records &&
		    p->seen_ns[id] == 0) {
			p->seen_ns[id] = now;
			fresh++;
		}
	}
	return fresh;
}

static char *shard_iterator(struct http_conn *c, const char *shard)
{
	json_t *j = net_call(c, "GetShardIterator", "{\"StreamName\":\"poll\",\"ShardId\":\"%s\","
				 "\"ShardIteratorType\":\"LATEST\"}", shard);
	const char *it = json_string_value(json_object_get(j, "ShardIterator"));
	char *copy = it ? strdup(it) : NULL;

	json_decref(j);
	return copy;
}

/* The GetRecords loop; its calls' round trips go to calls_ms. */
static void poller(struct poll_run *p, struct http_conn *c, char *it, int interval_ms,
		   double *calls_ms, size_t *calls)
{
	int seen = 0;
	int64_t stop = bench_ns() + (int64_t)(p->records * POLL_PERIOD_MS + 3000) * 1000000;

	while (seen < p->records && bench_ns() < stop && it) {
		int64_t start = bench_ns(), now;
		json_t *j = net_call(c, "GetRecords", "{\"ShardIterator\":\"%s\",\"Limit\":10000}", it);
		const char *next = json_string_value(json_object_get(j, "NextShardIterator"));

		now = bench_ns();
		if (*calls < 100000)
			calls_ms[(*calls)++] = (double)(now - start) / 1e6;
		seen += note_records(p, j, now);
		free(it);
		it = next ? strdup(next) : NULL;
		json_decref(j);
		if (j == NULL)
			p->failed = true;
		if (interval_ms > 0 && (now = bench_ns()) < start + interval_ms * 1000000LL)
			usleep((useconds_t)((start + interval_ms * 1000000LL - now) / 1000));
	}
	free(it);
}

static void latencies(const struct poll_run *p, double *lat, size_t *n, int *missing)
{
	*n = 0;
	*missing = 0;
	for (int i = 0; i < p->records; i++) {
		int64_t ack = __atomic_load_n(&p->ack_ns[i], __ATOMIC_ACQUIRE);

		if (p->seen_ns[i] == 0 || ack == 0) {
			(*missing)++;
			continue;
		}
		/* Seen before the producer read its acknowledgement: 0. */
		lat[(*n)++] = p->seen_ns[i] > ack ? (double)(p->seen_ns[i] - ack) / 1e6 : 0.0;
	}
}

static void poll_row(const char *server, int port, int interval_ms)
{
	struct poll_run p = { .port = port, .records = (int)(run_seconds * 1000 / POLL_PERIOD_MS) };
	struct http_conn c = { .fd = -1 };
	double *lat = bench_alloc(p.records * sizeof(*lat)), *calls_ms, p50, p99, call50;
	size_t n, calls = 0;
	char **shards, figure[160];
	int missing;
	pthread_t producer;

	p.ack_ns = bench_alloc(p.records * sizeof(*p.ack_ns));
	p.seen_ns = bench_alloc(p.records * sizeof(*p.seen_ns));
	calls_ms = bench_alloc(100000 * sizeof(*calls_ms));
	if (http_connect(&c, port) < 0 || net_create_stream(&c, "poll", 1) < 0 ||
	    net_shards(&c, "poll", &shards) < 1) {
		bench_row("hub", "polling", "", "failed");
		return;
	}
	char *it = shard_iterator(&c, shards[0]);
	pthread_create(&producer, NULL, producer_run, &p);
	poller(&p, &c, it, interval_ms, calls_ms, &calls);
	pthread_join(producer, NULL);
	latencies(&p, lat, &n, &missing);
	p50 = bench_quantile(lat, n, 0.5, false);
	p99 = bench_quantile(lat, n, 0.99, true);
	call50 = bench_quantile(calls_ms, calls, 0.5, false);
	snprintf(figure, sizeof(figure), "%s GetRecords polling %s: put acked -> read, p50 / p99 / max",
		 server, interval_ms ? "every 200 ms" : "back to back");
	bench_row("hub", figure, "side by side", "%.2f / %.2f / %.2f ms%s", p50, p99,
		  n ? lat[n - 1] : 0.0, p.failed || missing ? " (some lost)" : "");
	bench_note("bench_hub: %s polling %d ms: %zu calls, GetRecords round trip p50 %.2f ms, "
		   "%d missing", server, interval_ms, calls, call50, missing);
	http_close(&c);
	free(lat);
	free(calls_ms);
	free(p.ack_ns);
	free(p.seen_ns);
}

/* ------------------------------------------------------------------ */
/* In process                                                          */
/* ------------------------------------------------------------------ */

static double in_process_rate(struct hub *hub, const char *body, size_t len, bool parse_only)
{
	int64_t start = bench_ns(), now_ms = BENCH_START_MS;
	uint64_t records = 0;
	double elapsed;

	do {
		if (parse_only) {
			json_decref(json_loadb(body, len, 0, NULL));
		} else {
			struct kinesis_reply reply;

			kinesis_handle(hub, KINESIS_TARGET_PREFIX "PutRecords", body, len, now_ms++,
				       &reply);
			if (reply.status != 200)
				bench_note("bench_hub: in process: %.200s", reply.body);
			free(reply.body);
		}
		records += BATCH;
	} while ((elapsed = bench_seconds(start)) < run_seconds / 2);
	return (double)records / elapsed;
}

/* Bytes a stream retains in the in-process rows at the byte limit: every
 * write then drops as many old records as it adds, as on a busy hub. */
#define FULL_STREAM_BYTES (64u << 20)

/* A hub in this process with no write limits, and a stream of 4 shards;
 * NULL (with the row failed) when it cannot be. */
static struct hub *in_process_hub(const char *stream, uint64_t retention_bytes)
{
	struct hub_config config;
	struct hub *hub;
	char err[ERR_TEXT_MAX];

	hub_config_defaults(&config);
	config.limits.shard_records_per_sec = 0;
	config.limits.shard_bytes_per_sec = 0;
	config.retention_bytes = retention_bytes;
	hub = hub_open(&config, BENCH_START_MS, err, sizeof(err));
	if (hub == NULL || hub_create_stream(hub, stream, 4, BENCH_START_MS) == NULL) {
		bench_row("hub", "in process", "", "failed: %s", hub ? "stream" : err);
		hub_close(hub);
		return NULL;
	}
	return hub;
}

static void in_process_rows(void)
{
	struct hub *hub = in_process_hub("bench", 0);
	char buf[32];
	size_t len;
	char *body = net_put_body("bench", BATCH, DATA_BYTES, 0, &len);

	if (hub) {
		bench_row("hub", "in process: kinesis_handle PutRecords 500 x 200 B, records/s", "",
			  "%s", bench_count(in_process_rate(hub, body, len, false), buf));
		bench_row("hub", "in process: json_loadb of the same body alone, records/s", "", "%s",
			  bench_count(in_process_rate(hub, body, len, true), buf));
	}
	hub_close(hub);
	free(body);
}

/* kinesis_handle on a fresh stream, resharded as resharded_stream does
 * `steps` times, with a byte limit (0 for none). */
static void in_process_resharded_row(int steps, uint64_t retention_bytes)
{
	struct hub *hub = in_process_hub("resharded", retention_bytes);
	struct stream *s = hub ? hub_find_stream(hub, "resharded") : NULL;
	const char *why;
	char figure[200], shape[96] = "of 4 shards", limit[64] = "", buf[32];
	size_t len;
	char *body = net_put_body("resharded", BATCH, DATA_BYTES, 0, &len);

	for (int step = 0; s && step < steps; step++)
		hub_update_shard_count(hub, s, step % 2 ? 4 : 3, BENCH_START_MS, &why);
	if (retention_bytes)
		snprintf(limit, sizeof(limit), ", at its byte limit (%" PRIu64 " MiB)",
			 retention_bytes >> 20);
	if (s && steps)
		snprintf(shape, sizeof(shape), "resharded %d times (%zu closed shards)", steps,
			 s->shard_count - stream_open_shards(s));
	if (s) {
		snprintf(figure, sizeof(figure), "in process: kinesis_handle on a stream %s%s, records/s",
			 shape, limit);
		bench_row("hub", figure, "", "%s",
			  bench_count(in_process_rate(hub, body, len, false), buf));
	}
	hub_close(hub);
	free(body);
}

/* ------------------------------------------------------------------ */

static void prepare(int port, const char *stream)
{
	struct http_conn c = { .fd = -1 };

	if (http_connect(&c, port) < 0 || net_create_stream(&c, stream, 4) < 0) {
		fprintf(stderr, "bench_hub: cannot create stream %s\n", stream);
		exit(1);
	}
	http_close(&c);
}

/* The consumer's polling reader takes the records: their arrival in a
 * batch the caller takes. */
static void reader_poll(struct poll_run *p, struct consumer *c)
{
	int seen = 0;
	int64_t stop = bench_ns() + (int64_t)(p->records * POLL_PERIOD_MS + 5000) * 1000000;

	while (seen < p->records && bench_ns() < stop) {
		struct consumer_batch *b = consumer_take(c);
		int64_t now = bench_ns();

		for (struct consumer_batch *x = b; x; x = x->next)
			for (size_t i = 0; i < x->count; i++) {
				int64_t id = x->records[i].t.racer_id;
				if (id >= 0 && id < p->records && p->seen_ns[id] == 0) {
					p->seen_ns[id] = now;
					seen++;
				}
			}
		consumer_batch_free(b);
		usleep(1000);
	}
}

static void reader_row(const char *server, int port)
{
	struct sigv4_credentials key = { "bench", "bench", NULL, "us-east-1", "kinesis" };
	struct poll_run p = { .port = port, .records = (int)(run_seconds * 1000 / POLL_PERIOD_MS),
			      .telemetry = true };
	struct consumer_config cc = { .stream = "poll", .name = "bench",
				      .read = CONSUMER_READ_POLLING, .from = CONSUMER_FROM_LATEST };
	double *lat = bench_alloc(p.records * sizeof(*lat)), p50, p99;
	char url[64], err[ERR_TEXT_MAX], figure[160];
	struct consumer *c;
	size_t n;
	int missing;
	pthread_t producer;

	p.ack_ns = bench_alloc(p.records * sizeof(*p.ack_ns));
	p.seen_ns = bench_alloc(p.records * sizeof(*p.seen_ns));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	c = NULL;
	if (endpoint_parse(url, &cc.endpoint, err, sizeof(err)) == 0) {
		cc.endpoint.credentials = &key;         /* kinesalite wants a signature */
		c = consumer_start(&cc, err, sizeof(err));
	}
	if (c == NULL) {
		bench_row("hub", "polling reader", "", "failed: %s", err);
		return;
	}
	sleep(2);       /* its first iterator is LATEST: taken before the first record */
	pthread_create(&producer, NULL, producer_run, &p);
	reader_poll(&p, c);
	pthread_join(producer, NULL);
	consumer_stop(c);
	latencies(&p, lat, &n, &missing);
	p50 = bench_quantile(lat, n, 0.5, false);
	p99 = bench_quantile(lat, n, 0.99, true);
	snprintf(figure, sizeof(figure), "%s, the polling reader (--read polling): put acked -> "
		 "batch taken, p50 / p99 / max", server);
	bench_row("hub", figure, "side by side", "%.1f / %.1f / %.1f ms%s", p50, p99,
		  n ? lat[n - 1] : 0.0, p.failed || missing ? " (some lost)" : "");
	free(lat);
}

/* The polling rows: GetRecords loops, then the consumer's reader, on a
 * fresh hub and a fresh kinesalite (no ingest backlog). */
static void polling_rows(void)
{
	int port, peer_port;
	pid_t hub = net_start_hub(&port, NULL), peer;

	poll_row("hub", port, 0);
	poll_row("hub", port, 200);
	reader_row("hub", port);
	net_stop(hub);
	peer = net_start_kinesalite(&peer_port);
	if (peer > 0) {
		poll_row("kinesalite", peer_port, 0);
		poll_row("kinesalite", peer_port, 200);
		reader_row("kinesalite", peer_port);
		net_stop(peer);
	}
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	static const int hub_clients[] = { 1, 4, 8 }, peer_clients[] = { 4 };
	double hub4 = 0, peer4 = 0;
	int port, peer_port;
	pid_t hub, peer;

	if (quick)
		run_seconds = 0.5;
	bench_table_head();
	if (argc > 1 && strcmp(argv[argc - 1], "--polling") == 0) {
		polling_rows();
		return 0;
	}
	hub = net_start_hub(&port, NULL);
	prepare(port, "bench");
	ingest_rows("hub", port, hub_clients, 3, &hub4);
	net_stop(hub);
	resharded_row();
	in_process_rows();
	in_process_resharded_row(RESHARD_STEPS, 0);
	in_process_resharded_row(0, FULL_STREAM_BYTES);
	in_process_resharded_row(RESHARD_STEPS, FULL_STREAM_BYTES);
	memory_rows(quick);
	peer = net_start_kinesalite(&peer_port);
	if (peer > 0) {
		prepare(peer_port, "bench");
		ingest_rows("kinesalite", peer_port, peer_clients, 1, &peer4);
		bench_row("hub", "hub vs kinesalite ingest, 4 connections", ">= 30x kinesalite",
			  "%.1fx", peer4 > 0 ? hub4 / peer4 : 0.0);
	}
	if (peer > 0)
		net_stop(peer);
	polling_rows();
	return 0;
}
