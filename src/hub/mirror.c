#include "config.h"
#include "hub/mirror.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/api_call.h"
#include "client/consumer.h"
#include "client/endpoint.h"
#include "client/httpc.h"
#include "hub/hub.h"
#include "hub/stream.h"
#include "util/log.h"
#include "wire/hashkey.h"
#include "wire/seqno.h"

#define LIST_EVERY_MS 1000
/* Batches held for shards not listed yet, at most: beyond it the mirror
 * stops taking batches, and the consumer stops reading (it lets the
 * upstream hold the records) instead of the mirror buffering without
 * bound while a shard list is late or does not fit. */
#define PENDING_MAX 1024

/* The upstream's shard list as the lister last read it. */
struct listing {
	struct stream_mirror_shard *shards;
	size_t count;
};

struct mirror {
	struct mirror_config config;
	char url[1024], upstream[STREAM_NAME_MAX + 1], stream[STREAM_NAME_MAX + 1];
	char consumer_name[CONSUMER_NAME_MAX + 1];
	struct endpoint endpoint;
	struct hub *hub;
	struct consumer *consumer;
	struct consumer_batch *pending; /* for shards the local stream does not know yet */
	size_t pending_count;

	/* The lister thread and what it hands over, under the lock. */
	pthread_t lister;
	bool lister_running;
	volatile sig_atomic_t stop;
	pthread_mutex_t lock;
	struct listing fresh;           /* a list not applied yet (count 0: none) */
	void (*wake)(void *user);       /* mirror_wake_with's */
	void *wake_user;
};

/* ------------------------------------------------------------------ */
/* The upstream's shard list                                           */
/* ------------------------------------------------------------------ */

static bool copy_id(json_t *j, char *out, size_t size)
{
	const char *v = json_string_value(j);

	if (j == NULL || json_is_null(j)) {
		out[0] = '\0';
		return true;
	}
	return v && (size_t)snprintf(out, size, "%s", v) < size;
}

/* A sequence number member: absent or null is 0 (an open shard's end). */
static bool read_seq(json_t *range, const char *member, seqno_t *out)
{
	json_t *j = json_object_get(range, member);

	*out = SEQNO_ZERO;
	if (j == NULL || json_is_null(j))
		return true;
	return json_is_string(j) && seqno_parse(json_string_value(j), out) == SEQNO_OK;
}

static bool read_hashkey(json_t *range, const char *member, hashkey_t *out)
{
	const char *text = json_string_value(json_object_get(range, member));
	const char *reason;

	return text && hashkey_parse(text, out, &reason) == 0;
}

/* One element of ListShards' Shards; false when it is not one. */
static bool parse_shard(json_t *j, struct stream_mirror_shard *m)
{
	json_t *keys = json_object_get(j, "HashKeyRange");
	json_t *seqs = json_object_get(j, "SequenceNumberRange");

	memset(m, 0, sizeof(*m));
	return json_is_string(json_object_get(j, "ShardId")) &&
	       copy_id(json_object_get(j, "ShardId"), m->id, sizeof(m->id)) &&
	       copy_id(json_object_get(j, "ParentShardId"), m->parent, sizeof(m->parent)) &&
	       copy_id(json_object_get(j, "AdjacentParentShardId"), m->adjacent_parent,
		       sizeof(m->adjacent_parent)) &&
	       read_hashkey(keys, "StartingHashKey", &m->start) &&
	       read_hashkey(keys, "EndingHashKey", &m->end) &&
	       read_seq(seqs, "StartingSequenceNumber", &m->starting_seq) &&
	       read_seq(seqs, "EndingSequenceNumber", &m->ending_seq);
}

/* Whether a shard's sequence numbers are well formed but wider than the
 * hub's 256 bits (the API allows 129 digits; Amazon Kinesis uses 56). */
static bool too_wide(json_t *shard)
{
	json_t *seqs = json_object_get(shard, "SequenceNumberRange");
	const char *members[] = { "StartingSequenceNumber", "EndingSequenceNumber" };
	seqno_t seq;

	for (size_t i = 0; i < 2; i++) {
		const char *text = json_string_value(json_object_get(seqs, members[i]));
		if (text && seqno_parse(text, &seq) == SEQNO_TOO_LARGE)
			return true;
	}
	return false;
}

/* Appends a page's shards to l; -1 with *why on a malformed page. */
static int add_page(struct listing *l, json_t *shards, const char **why)
{
	size_t n = json_array_size(shards);
	struct stream_mirror_shard *grown;

	if (!json_is_array(shards)) {
		*why = "ListShards answered without Shards";
		return -1;
	}
	grown = realloc(l->shards, (l->count + n + 1) * sizeof(*grown));
	if (grown == NULL) {
		*why = "out of memory";
		return -1;
	}
	l->shards = grown;
	for (size_t i = 0; i < n; i++) {
		if (!parse_shard(json_array_get(shards, i), &l->shards[l->count])) {
			*why = too_wide(json_array_get(shards, i))
				       ? "its sequence numbers are wider than the 77 digits a hub "
					 "keeps: it cannot be mirrored"
				       : "ListShards answered a malformed shard";
			return -1;
		}
		l->count++;
	}
	return 0;
}

/* One page of ListShards: the answer's JSON, or NULL with *why. */
static json_t *list_page(struct mirror *m, struct httpc *http, const char *token,
			 const char **why)
{
	json_t *body = token ? json_pack("{s:s}", "NextToken", token)
			     : json_pack("{s:s}", "StreamName", m->upstream);
	struct api_call_result r;
	json_t *answer = NULL;

	if (api_call(http, &m->endpoint, "ListShards", body, &m->stop, &r) == 0 &&
	    r.status == 200 && r.body)
		answer = json_loads(r.body, 0, NULL);
	*why = answer ? NULL : r.status ? "ListShards failed upstream" : "the upstream did not answer";
	api_call_free(&r);
	return answer;
}

/* The whole shard list, every page; -1 with *why. */
static int list_shards(struct mirror *m, struct httpc *http, struct listing *l, const char **why)
{
	char token[2048] = "";
	json_t *page;
	int rc = 0;

	*l = (struct listing){ 0 };
	do {
		if ((page = list_page(m, http, token[0] ? token : NULL, why)) == NULL)
			rc = -1;
		else if ((rc = add_page(l, json_object_get(page, "Shards"), why)) == 0)
			copy_id(json_object_get(page, "NextToken"), token, sizeof(token));
		json_decref(page);
	} while (rc == 0 && token[0]);
	if (rc < 0) {
		free(l->shards);
		*l = (struct listing){ 0 };
	}
	return rc;
}

/* Hands a list to the loop, replacing one it has not applied yet. */
static void offer_listing(struct mirror *m, struct listing *l)
{
	pthread_mutex_lock(&m->lock);
	free(m->fresh.shards);
	m->fresh = *l;
	pthread_mutex_unlock(&m->lock);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The lister thread: the shard list about once a second, so a reshard
 * upstream appears here within about a second of it. */
static void *lister_main(void *arg)
{
	struct mirror *m = arg;
	struct httpc *http = httpc_new(m->config.timeout_s);
	struct listing l;
	const char *why;
	bool failing = false;

	while (http && !m->stop) {
		if (list_shards(m, http, &l, &why) == 0) {
			offer_listing(m, &l);
			if (failing)
				log_info("mirror of %s: the upstream answers again", m->upstream);
			failing = false;
		} else if (!m->stop && !failing) {
			/* Once per outage: the consumer reports its own retries. */
			log_warn("mirror of %s: %s", m->upstream, why);
			failing = true;
		}
		for (int waited = 0; waited < LIST_EVERY_MS && !m->stop; waited += 50)
			sleep_ms(50);
	}
	httpc_free(http);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Applying what arrived                                               */
/* ------------------------------------------------------------------ */

static struct stream *local_stream(struct mirror *m)
{
	return hub_find_stream(m->hub, m->stream);
}

static void apply_listing(struct mirror *m, int64_t now_ms)
{
	struct listing l;
	struct stream *s = local_stream(m);
	const char *why;

	pthread_mutex_lock(&m->lock);
	l = m->fresh;
	m->fresh = (struct listing){ 0 };
	pthread_mutex_unlock(&m->lock);
	if (l.count && s && hub_mirror_shards(m->hub, s, l.shards, l.count, now_ms, &why) < 0)
		log_warn("mirror of %s: the upstream's shards do not fit: %s", m->upstream, why);
	free(l.shards);
}

/* The batch's records as the hub stores them; malformed sequence numbers
 * are counted as bad and left out. */
static size_t batch_records(struct stream *s, const struct consumer_batch *b,
			    struct mirror_record *out)
{
	size_t n = 0;

	for (size_t i = 0; i < b->count; i++) {
		const struct consumer_raw *r = &b->raw[i];
		if (seqno_parse(r->seq, &out[n].seq) != SEQNO_OK) {
			s->mirror.bad++;
			continue;
		}
		out[n].arrival_ms = r->arrival_ms;
		out[n].key = r->key;
		out[n].key_len = r->key_len;
		out[n].data = r->data;
		out[n].data_len = r->data_len;
		n++;
	}
	return n;
}

/* Stores one batch: 0, or -1 when it is to be applied again later (its
 * shard is not known yet, or the journal failed). */
static int apply_batch(struct mirror *m, struct stream *s, struct consumer_batch *b,
		       int64_t now_ms)
{
	struct mirror_record *recs;
	size_t n;
	int shard, rc;

	/* A shard gone upstream has nothing to store; the copy keeps it
	 * until its own retention forgets it. */
	if (b->gone || b->raw == NULL)
		return 0;
	if ((shard = stream_find_shard(s, b->shard_id)) < 0)
		return -1;
	if ((recs = malloc((b->count + 1) * sizeof(*recs))) == NULL)
		return -1;
	n = batch_records(s, b, recs);
	rc = hub_mirror_records(m->hub, s, (size_t)shard, recs, n);
	free(recs);
	if (rc < 0)
		return -1;
	s->shards[shard].upstream_behind_ms = b->millis_behind;
	/* Clocks of two hosts may disagree: a record never arrives early. */
	if (b->count)
		s->mirror.lag_ms = now_ms > b->raw[b->count - 1].arrival_ms
					   ? now_ms - b->raw[b->count - 1].arrival_ms
					   : 0;
	else if (b->millis_behind == 0)
		s->mirror.lag_ms = 0;
	return 0;
}

/* Applies a list of batches in order; those that must wait stay in
 * order, so a shard's records are still stored in sequence. */
static struct consumer_batch *apply_batches(struct mirror *m, struct consumer_batch *list,
					    int64_t now_ms)
{
	struct consumer_batch *waiting = NULL, **tail = &waiting;
	struct stream *s = local_stream(m);

	while (list) {
		struct consumer_batch *b = list;
		list = b->next;
		b->next = NULL;
		if (s && apply_batch(m, s, b, now_ms) == 0) {
			consumer_batch_free(b);
			continue;
		}
		*tail = b;
		tail = &b->next;
	}
	return waiting;
}

/* Records the consumer left out (no SequenceNumber, Data not base64)
 * never reach the stream: their count comes from the consumer's. */
static void count_unreadable(struct mirror *m)
{
	struct consumer_stats *st = malloc(sizeof(*st));
	struct stream *s = local_stream(m);
	uint64_t bad = 0;

	if (st == NULL || s == NULL) {
		free(st);
		return;
	}
	consumer_stats(m->consumer, st);
	for (size_t i = 0; i < st->shard_count; i++)
		bad += st->shards[i].bad;
	s->mirror.unreadable = bad;
	free(st);
}

void mirror_tick(struct mirror *m, int64_t now_ms)
{
	struct consumer_batch **end = &m->pending;

	apply_listing(m, now_ms);
	while (*end)
		end = &(*end)->next;
	if (m->pending_count < PENDING_MAX)
		*end = consumer_take(m->consumer);
	m->pending = apply_batches(m, m->pending, now_ms);
	m->pending_count = 0;
	for (struct consumer_batch *b = m->pending; b; b = b->next)
		m->pending_count++;
	count_unreadable(m);
}

/* ------------------------------------------------------------------ */
/* Starting and stopping                                               */
/* ------------------------------------------------------------------ */

/* Where the consumer resumes: after the newest record held in each
 * shard; shards with none are read from their start. */
static struct consumer_checkpoint *checkpoints(const struct stream *s, size_t *n)
{
	struct consumer_checkpoint *cp = calloc(s->shard_count + 1, sizeof(*cp));

	*n = 0;
	for (size_t i = 0; cp && i < s->shard_count; i++) {
		seqno_t at = stream_mirror_position(s, i);
		if (seqno_is_zero(at) || s->shards[i].forgotten)
			continue;
		snprintf(cp[*n].shard_id, sizeof(cp[*n].shard_id), "%s", s->shards[i].id);
		seqno_format(at, cp[*n].sequence_number);
		(*n)++;
	}
	return cp;
}

/* The local stream with the upstream's layout, created when needed. */
static struct stream *prepare_stream(struct mirror *m, struct httpc *http, int64_t now_ms,
				     char *err, size_t errlen)
{
	struct stream *s = local_stream(m);
	bool restarted = s != NULL;
	struct listing l;
	const char *why;

	if (s == NULL && (s = hub_create_stream(m->hub, m->stream, 1, now_ms)) == NULL) {
		snprintf(err, errlen, "cannot create stream %s", m->stream);
		return NULL;
	}
	if (list_shards(m, http, &l, &why) < 0 && restarted) {
		/* A copy from before a restart serves what it holds while the
		 * upstream is away; the lister and the consumer keep trying. */
		log_warn("--mirror %s: stream %s: %s; serving the copy kept", m->url, m->upstream,
			 why);
		s->mirrored = true;
		return s;
	}
	if (l.shards && l.count == 0)
		why = "the upstream listed no shards";
	if (l.count == 0 ||
	    hub_mirror_shards(m->hub, s, l.shards, l.count, now_ms, &why) < 0) {
		snprintf(err, errlen, "--mirror %s: stream %s: %s", m->url, m->upstream, why);
		free(l.shards);
		return NULL;
	}
	free(l.shards);
	return s;
}

/* The consumer queued a batch: the loop applies it now rather than at
 * its next tick, a tenth of a second away. */
static void on_batch(void *arg)
{
	struct mirror *m = arg;

	pthread_mutex_lock(&m->lock);
	if (m->wake)
		m->wake(m->wake_user);
	pthread_mutex_unlock(&m->lock);
}

void mirror_wake_with(struct mirror *m, void (*wake)(void *user), void *user)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->wake = wake;
	m->wake_user = user;
	pthread_mutex_unlock(&m->lock);
}

static int start_consumer(struct mirror *m, const struct stream *s, char *err, size_t errlen)
{
	size_t n;
	struct consumer_checkpoint *cp = checkpoints(s, &n);
	struct consumer_config cc = {
		.endpoint = m->endpoint, .stream = m->upstream, .name = m->consumer_name,
		.read = (enum consumer_read)m->config.read,
		.from = CONSUMER_FROM_TRIM_HORIZON, .checkpoints = cp, .checkpoint_count = n,
		.parallel = 1, .timeout_s = m->config.timeout_s, .raw = true,
		.on_batch = on_batch, .batch_user = m,
	};

	if (cp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->consumer = consumer_start(&cc, err, errlen);
	free(cp);
	return m->consumer ? 0 : -1;
}

static void copy_config(struct mirror *m, const struct mirror_config *config)
{
	m->config = *config;
	snprintf(m->url, sizeof(m->url), "%s", config->url);
	snprintf(m->upstream, sizeof(m->upstream), "%s", config->upstream_stream);
	snprintf(m->stream, sizeof(m->stream), "%s", config->stream);
	snprintf(m->consumer_name, sizeof(m->consumer_name), "%s", config->consumer);
}

/* The upstream as the readers reach one: trust for TLS, and signed calls. */
static int upstream_endpoint(struct mirror *m, char *err, size_t errlen)
{
	if (endpoint_parse(m->url, &m->endpoint, err, errlen) < 0)
		return -1;
	m->endpoint.credentials = m->config.credentials;
	m->endpoint.ca_file = m->config.ca_file;
	m->endpoint.insecure = m->config.insecure;
	return 0;
}

struct mirror *mirror_start(struct hub *hub, const struct mirror_config *config, int64_t now_ms,
			    char *err, size_t errlen)
{
	struct mirror *m = calloc(1, sizeof(*m));
	struct httpc *http = httpc_new(config->timeout_s);
	struct stream *s = NULL;

	if (m == NULL || http == NULL) {
		snprintf(err, errlen, "out of memory");
		free(m);
		httpc_free(http);
		return NULL;
	}
	copy_config(m, config);
	m->hub = hub;
	pthread_mutex_init(&m->lock, NULL);
	if (upstream_endpoint(m, err, errlen) == 0 &&
	    (s = prepare_stream(m, http, now_ms, err, errlen)) != NULL &&
	    start_consumer(m, s, err, errlen) == 0 &&
	    pthread_create(&m->lister, NULL, lister_main, m) == 0)
		m->lister_running = true;
	httpc_free(http);
	if (m->lister_running) {
		log_info("mirroring stream %s of %s as %s (%s)", m->upstream, m->url, m->stream,
			 consumer_read_name((enum consumer_read)m->config.read));
		return m;
	}
	if (s && m->consumer && !err[0])
		snprintf(err, errlen, "cannot start the mirror's thread");
	mirror_stop(m);
	return NULL;
}

void mirror_stop(struct mirror *m)
{
	if (m == NULL)
		return;
	m->stop = 1;
	if (m->lister_running)
		pthread_join(m->lister, NULL);
	if (m->consumer)
		consumer_stop(m->consumer);
	consumer_batch_free(m->pending);
	free(m->fresh.shards);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
