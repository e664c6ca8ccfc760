#include "config.h"
#include "client/producer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/httpc.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "wire/protocol.h"

#define BACKOFF_BASE_MS 50
#define BACKOFF_MAX_MS 2000
/* How far into the queue a batch looks for ready records. */
#define SCAN_MAX 20000

struct producer_record {
	bool in_flight;
	bool duplicate;
	int attempts;
	int64_t ready_ms;               /* not before this time (backoff) */
	size_t key_len, data_len;
	uint64_t key_hash;
	char *key;                      /* key, NUL, then data */
};

struct producer {
	struct producer_config config;
	struct httpc *http;
	struct producer_record **queue; /* a ring, in the order records came */
	size_t head, count, capacity;
	int in_flight;
	uint64_t rng;
	struct producer_stats stats;
	struct failure failure;         /* the last request that failed as a whole */
	int64_t failing_since_ms;       /* 0 while answers are good */
	uint64_t failures;
	/* Keys held back during one scan: an open-addressed set of hashes. */
	uint64_t *held;
	size_t held_capacity;
};

/* One PutRecords in flight. */
struct request {
	struct producer *p;
	size_t n;
	struct producer_record *batch[];
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h | 1; /* 0 marks an empty slot */
}

static uint64_t next_random(struct producer *p)
{
	/* splitmix64: enough for jitter, and repeatable with a seed. */
	uint64_t z = (p->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct producer *producer_new(struct httpc *http, const struct producer_config *config)
{
	struct producer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->config = *config;
	if (p->config.batch == 0 || p->config.batch > PRODUCER_BATCH_MAX)
		p->config.batch = PRODUCER_BATCH_MAX;
	if (p->config.max_in_flight < 1)
		p->config.max_in_flight = 1;
	p->http = http;
	p->rng = config->seed;
	p->held_capacity = 4096;
	p->held = calloc(p->held_capacity, sizeof(*p->held));
	if (p->held == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

static struct producer_record **at(const struct producer *p, size_t i)
{
	return &p->queue[(p->head + i) % p->capacity];
}

void producer_free(struct producer *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->count; i++) {
		struct producer_record *r = *at(p, i);
		free(r->key);
		free(r);
	}
	free(p->queue);
	free(p->held);
	free(p);
}

static int grow(struct producer *p)
{
	size_t capacity = p->capacity ? p->capacity * 2 : 1024;
	struct producer_record **queue = malloc(capacity * sizeof(*queue));

	if (queue == NULL)
		return -1;
	for (size_t i = 0; i < p->count; i++)
		queue[i] = *at(p, i);
	free(p->queue);
	p->queue = queue;
	p->capacity = capacity;
	p->head = 0;
	return 0;
}

int producer_add(struct producer *p, const char *key, const void *data, size_t len,
		 bool duplicate)
{
	struct producer_record *r;
	size_t key_len = strlen(key);

	if (p->count == p->capacity && grow(p) < 0)
		return -1;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->key = malloc(key_len + 1 + len)) == NULL) {
		free(r);
		return -1;
	}
	memcpy(r->key, key, key_len + 1);
	memcpy(r->key + key_len + 1, data, len);
	r->key_len = key_len;
	r->data_len = len;
	r->key_hash = fnv1a(key, key_len);
	r->duplicate = duplicate;
	*at(p, p->count++) = r;
	if (duplicate)
		p->stats.duplicates++;
	else
		p->stats.sent++;
	return 0;
}

size_t producer_pending(const struct producer *p)
{
	return p->count;
}

const struct producer_stats *producer_stats(const struct producer *p)
{
	return &p->stats;
}

const struct failure *producer_failure(const struct producer *p, int64_t *since_ms,
				       uint64_t *count)
{
	*since_ms = p->failing_since_ms;
	*count = p->failures;
	return &p->failure;
}

const char *producer_record_key(const struct producer_record *r)
{
	return r->key;
}

/* ------------------------------------------------------------------ */
/* Choosing a batch                                                     */
/* ------------------------------------------------------------------ */

static void held_clear(struct producer *p)
{
	memset(p->held, 0, p->held_capacity * sizeof(*p->held));
}

/* Adds a key hash to the held set; false when it was there already. */
static bool held_add(struct producer *p, uint64_t h)
{
	size_t mask = p->held_capacity - 1, i = h & mask;

	while (p->held[i] && p->held[i] != h)
		i = (i + 1) & mask;
	if (p->held[i])
		return false;
	p->held[i] = h;
	return true;
}

static bool held_has(const struct producer *p, uint64_t h)
{
	size_t mask = p->held_capacity - 1, i = h & mask;

	while (p->held[i] && p->held[i] != h)
		i = (i + 1) & mask;
	return p->held[i] == h;
}

static void drop(struct producer *p, struct producer_record *r)
{
	/* Settled records are freed when they reach the front: the queue
	 * keeps the order of everything behind them. */
	r->in_flight = false;
	r->ready_ms = INT64_MAX;
	r->data_len = (size_t)-1;
}

static bool dropped(const struct producer_record *r)
{
	return r->data_len == (size_t)-1;
}

uint64_t producer_unanswered(const struct producer *p)
{
	uint64_t n = 0;

	for (size_t i = 0; i < p->count; i++) {
		const struct producer_record *r = *at(p, i);
		n += !r->duplicate && !dropped(r);
	}
	return n;
}

size_t producer_take(struct producer *p, int64_t now_ms, struct producer_record **batch,
		     size_t max)
{
	size_t n = 0, bytes = 0, held = 0, scan = p->count < SCAN_MAX ? p->count : SCAN_MAX;

	held_clear(p);
	for (size_t i = 0; i < scan && n < max; i++) {
		struct producer_record *r = *at(p, i);
		size_t size = r->key_len + r->data_len;

		if (dropped(r) || held_has(p, r->key_hash))
			continue;
		if (r->in_flight || r->ready_ms > now_ms) {
			/* Later records of this key wait behind this one. The set
			 * stays under half full, or the scan ends. */
			if (held * 2 >= p->held_capacity)
				break;
			held += held_add(p, r->key_hash);
			continue;
		}
		if (n > 0 && bytes + size > PRODUCER_BATCH_BYTES_MAX)
			break;
		/* A retry counts when it is made, not when it is planned: a
		 * run that gives up or stops first did not send it again. */
		if (r->attempts > 0)
			p->stats.retried++;
		r->in_flight = true;
		batch[n++] = r;
		bytes += size;
	}
	return n;
}

static void compact(struct producer *p)
{
	while (p->count > 0 && dropped(*at(p, 0))) {
		struct producer_record *r = *at(p, 0);
		free(r->key);
		free(r);
		p->head = (p->head + 1) % p->capacity;
		p->count--;
	}
}

void producer_give_up(struct producer *p)
{
	for (size_t i = 0; i < p->count; i++) {
		struct producer_record *r = *at(p, i);

		/* In flight: whether it lands is up to the endpoint. */
		if (dropped(r) || r->in_flight)
			continue;
		if (!r->duplicate)
			p->stats.failed++;
		drop(p, r);
	}
	compact(p);
}

static int64_t backoff_ms(struct producer *p, int attempts)
{
	int64_t cap = BACKOFF_BASE_MS << (attempts < 6 ? attempts : 6);

	if (cap > BACKOFF_MAX_MS)
		cap = BACKOFF_MAX_MS;
	/* Full jitter: anywhere up to the cap, so retries spread out. */
	return 1 + (int64_t)(next_random(p) % (uint64_t)cap);
}

void producer_settle(struct producer *p, struct producer_record **batch, size_t n,
		     const enum producer_outcome *outcomes, int64_t now_ms)
{
	for (size_t i = 0; i < n; i++) {
		struct producer_record *r = batch[i];

		r->in_flight = false;
		if (outcomes[i] == PRODUCER_LANDED) {
			if (!r->duplicate)
				p->stats.landed++;
			drop(p, r);
			continue;
		}
		if (outcomes[i] == PRODUCER_THROTTLED)
			p->stats.throttled++;
		r->attempts++;
		if (outcomes[i] == PRODUCER_REJECTED ||
		    (p->config.max_retries > 0 && r->attempts > p->config.max_retries)) {
			if (!r->duplicate)
				p->stats.failed++;
			drop(p, r);
			continue;
		}
		r->ready_ms = now_ms + backoff_ms(p, r->attempts);
	}
	compact(p);
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

static void build_body(const struct producer *p, struct producer_record **batch, size_t n,
		       struct strbuf *body)
{
	strbuf_puts(body, "{\"StreamName\":");
	strbuf_json_string(body, p->config.stream, strlen(p->config.stream));
	strbuf_puts(body, ",\"Records\":[");
	for (size_t i = 0; i < n; i++) {
		const struct producer_record *r = batch[i];
		char *data;

		strbuf_puts(body, i ? ",{\"Data\":\"" : "{\"Data\":\"");
		data = strbuf_reserve(body, base64_encoded_len(r->data_len));
		if (data) {
			base64_encode(r->key + r->key_len + 1, r->data_len, data);
			body->len += base64_encoded_len(r->data_len);
		}
		strbuf_puts(body, "\",\"PartitionKey\":");
		strbuf_json_string(body, r->key, r->key_len);
		strbuf_puts(body, "}");
	}
	strbuf_puts(body, "]}");
}

/* A request failed as a whole: worded for the user, and timed, so that
 * the caller can tell a hub that is starting from one that is not there. */
static void note_failure(struct producer *p, int status, const char *text, size_t len,
			 const char *error)
{
	struct failure_call call = {
		.endpoint = &p->config.endpoint, .op = "PutRecords", .stream = p->config.stream,
		.can_create = p->config.can_create,
	};

	/* A 2xx answer that does not read as PutRecords' counts as none. */
	if (status >= 200 && status < 300)
		failure_classify(&p->failure, &call, 0, NULL, 0,
				 "the answer is not a PutRecords answer");
	else
		failure_classify(&p->failure, &call, status, text, len, error);
	snprintf(p->stats.last_error, sizeof(p->stats.last_error), "%s", p->failure.text);
	if (p->failing_since_ms == 0)
		p->failing_since_ms = clock_wall_ms();
	p->failures++;
}

/* Reads PutRecords' answer into one outcome per record. */
static void read_outcomes(struct producer *p, int status, const char *text, size_t len,
			  const char *error, enum producer_outcome *outcomes, size_t n)
{
	json_t *root = status ? json_loadb(text, len, 0, NULL) : NULL;
	json_t *records = json_object_get(root, "Records");
	enum producer_outcome all = PRODUCER_RETRY;
	const char *type = json_string_value(json_object_get(root, "__type"));

	if (status == 200 && json_array_size(records) == n) {
		p->failing_since_ms = 0;
		for (size_t i = 0; i < n; i++) {
			json_t *r = json_array_get(records, i);
			const char *code = json_string_value(json_object_get(r, "ErrorCode"));
			outcomes[i] = code == NULL ? PRODUCER_LANDED
				      : strcmp(code, "ProvisionedThroughputExceededException") == 0
					      ? PRODUCER_THROTTLED
					      : PRODUCER_RETRY;
		}
		json_decref(root);
		return;
	}
	note_failure(p, status, text, len, error);
	if (type && strcmp(type, "ProvisionedThroughputExceededException") == 0)
		all = PRODUCER_THROTTLED;
	else if (status >= 400 && status < 500)
		/* The endpoint refused the request itself (credentials, the
		 * stream, the request): sending it again changes nothing. */
		all = PRODUCER_REJECTED;
	for (size_t i = 0; i < n; i++)
		outcomes[i] = all;
	json_decref(root);
}

/* A request cancelled while the program stops has no outcome: its
 * records stay queued, unanswered, and are not counted as retried. */
static void release(struct request *req)
{
	for (size_t i = 0; i < req->n; i++)
		req->batch[i]->in_flight = false;
	req->p->in_flight--;
	free(req);
}

static void on_answer(void *user, int status, const char *body, size_t len, const char *error)
{
	struct request *req = user;
	struct producer *p = req->p;
	enum producer_outcome *outcomes;

	if (status == HTTPC_CANCELLED) {
		release(req);
		return;
	}
	outcomes = malloc(req->n * sizeof(*outcomes));
	if (outcomes == NULL) {
		/* Without room to read the answer, try the whole batch again. */
		static const enum producer_outcome retry = PRODUCER_RETRY;
		for (size_t i = 0; i < req->n; i++)
			producer_settle(p, &req->batch[i], 1, &retry, clock_wall_ms());
	} else {
		read_outcomes(p, status, body, len, error, outcomes, req->n);
		producer_settle(p, req->batch, req->n, outcomes, clock_wall_ms());
	}
	free(outcomes);
	p->in_flight--;
	free(req);
}

static int send_batch(struct producer *p, struct request *req)
{
	struct strbuf body;
	char target[64];
	struct httpc_header headers[] = {
		{ "content-type", KINESIS_CONTENT_TYPE },
		{ "x-amz-target", target },
	};
	int rc;

	strbuf_init(&body);
	build_body(p, req->batch, req->n, &body);
	if (body.failed) {
		strbuf_free(&body);
		return -1;
	}
	snprintf(target, sizeof(target), "%sPutRecords", KINESIS_TARGET_PREFIX);
	rc = httpc_post(p->http, &p->config.endpoint, "/", headers, 2, body.data, body.len,
			on_answer, req);
	strbuf_free(&body);
	return rc;
}

void producer_pump(struct producer *p, int64_t now_ms)
{
	while (p->in_flight < p->config.max_in_flight) {
		struct request *req = malloc(sizeof(*req) + p->config.batch * sizeof(req->batch[0]));
		if (req == NULL)
			return;
		req->p = p;
		req->n = producer_take(p, now_ms, req->batch, p->config.batch);
		if (req->n == 0) {
			free(req);
			return;
		}
		p->stats.requests++;
		p->in_flight++;
		if (send_batch(p, req) < 0) {
			on_answer(req, 0, "", 0, "cannot start a request to the endpoint");
			return;
		}
	}
}
