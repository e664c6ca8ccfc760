#include "config.h"
#include "hub/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void shard_init(struct shard *sh, size_t index, hashkey_t start, hashkey_t end,
		       seqno_t starting_seq)
{
	memset(sh, 0, sizeof(*sh));
	snprintf(sh->id, sizeof(sh->id), "shardId-%012zu", index);
	sh->start = start;
	sh->end = end;
	sh->starting_seq = starting_seq;
	sh->parent = sh->adjacent_parent = -1;
	shardlog_init(&sh->log);
}

struct stream *stream_new(const char *name, const char *arn_prefix, uint64_t uid,
			  size_t shard_count, struct seqno_gen *gen, int64_t now_ms)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->shards = calloc(shard_count, sizeof(*s->shards));
	s->open = malloc(shard_count * sizeof(*s->open));
	if (s->shards == NULL || s->open == NULL) {
		free(s->shards);
		free(s->open);
		free(s);
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->arn, sizeof(s->arn), "%s:stream/%s", arn_prefix, name);
	s->uid = uid;
	s->created_ms = now_ms;
	s->retention_ms = 24 * STREAM_HOUR_MS;
	s->shard_count = s->open_count = shard_count;
	s->max_record_kib = STREAM_RECORD_KIB_DEFAULT;
	for (size_t i = 0; i < shard_count; i++) {
		shard_init(&s->shards[i], i, hashkey_shard_start(i, shard_count),
			   hashkey_shard_end(i, shard_count), seqno_gen_next(gen));
		s->open[i] = i;
	}
	return s;
}

/* Frees what a consumer owns (not the consumer: it lives in an array). */
static void consumer_release(struct stream_consumer *c)
{
	tagset_free(&c->tags);
	free(c->policy);
}

void stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->shard_count; i++)
		shardlog_free(&s->shards[i].log);
	free(s->shards);
	free(s->open);
	for (size_t i = 0; i < s->consumer_count; i++)
		consumer_release(&s->consumers[i]);
	free(s->consumers);
	tagset_free(&s->tags);
	free(s->policy);
	free(s);
}

/* ------------------------------------------------------------------ */
/* The open shards by hash key range                                   */
/* ------------------------------------------------------------------ */

/* How many open shards start at or below hash: a binary search. */
static size_t open_upper(const struct stream *s, hashkey_t hash)
{
	size_t lo = 0, hi = s->open_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->shards[s->open[mid]].start <= hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Where in s->open the shard holding hash is. The open shards cover the
 * key space, the first from 0, so one starts at or below any hash. */
static size_t open_position(const struct stream *s, hashkey_t hash)
{
	return open_upper(s, hash) - 1;
}

/* There must be room: s->open has room for every shard. */
static void open_insert(struct stream *s, size_t shard)
{
	size_t pos = open_upper(s, s->shards[shard].start);

	memmove(&s->open[pos + 1], &s->open[pos], (s->open_count - pos) * sizeof(*s->open));
	s->open[pos] = shard;
	s->open_count++;
}

static void open_remove(struct stream *s, size_t shard)
{
	size_t pos = open_position(s, s->shards[shard].start);

	memmove(&s->open[pos], &s->open[pos + 1], (s->open_count - pos - 1) * sizeof(*s->open));
	s->open_count--;
}

int stream_index_open(struct stream *s)
{
	free(s->open);
	s->open = malloc(s->shard_count * sizeof(*s->open));
	s->open_count = 0;
	if (s->open == NULL)
		return -1;
	for (size_t i = 0; i < s->shard_count; i++)
		if (seqno_is_zero(s->shards[i].ending_seq))
			open_insert(s, i);
	/* Writes need an open shard for every key, from 0 up. */
	return s->open_count > 0 && s->shards[s->open[0]].start == 0 ? 0 : -1;
}

size_t stream_shard_for(const struct stream *s, hashkey_t hash)
{
	return s->open[open_position(s, hash)];
}

int stream_find_shard(const struct stream *s, const char *shard_id)
{
	for (size_t i = 0; i < s->shard_count; i++)
		if (!s->shards[i].forgotten && strcmp(s->shards[i].id, shard_id) == 0)
			return (int)i;
	return -1;
}

bool stream_shard_known(const struct stream *s, size_t shard)
{
	return shard < s->shard_count && !s->shards[shard].forgotten;
}

const char *stream_status(const struct stream *s, int64_t now_ms)
{
	return now_ms < s->updating_until_ms ? "UPDATING" : "ACTIVE";
}

bool stream_encrypted(const struct stream *s, seqno_t seq)
{
	return s->key_id[0] != '\0' && !seqno_lt(seq, s->encrypted_from);
}

/* AWS's write limits of an on-demand stream: 200,000 records/s and
 * 200 MiB/s for the stream, or its warm throughput when that is more
 * (with records of at least 1 KiB, as AWS counts them). The hub limits
 * writes per shard, so the stream's limit is shared evenly among its open
 * shards. */
#define ON_DEMAND_RECORDS_PER_SEC 200000ull
#define ON_DEMAND_MIBPS 200ull

uint64_t stream_write_mibps(const struct stream *s)
{
	return s->warm_mibps > ON_DEMAND_MIBPS ? s->warm_mibps : ON_DEMAND_MIBPS;
}

struct stream_limits stream_mode_limits(const struct stream *s, const struct stream_limits *hub)
{
	struct stream_limits on_demand;
	uint64_t open = s->open_count ? s->open_count : 1;
	uint64_t mibps = stream_write_mibps(s);
	uint64_t records = mibps * 1024 > ON_DEMAND_RECORDS_PER_SEC ? mibps * 1024
								     : ON_DEMAND_RECORDS_PER_SEC;

	if (s->mode != STREAM_ON_DEMAND)
		return *hub;
	on_demand.shard_records_per_sec = records / open;
	on_demand.shard_bytes_per_sec = mibps * 1024 * 1024 / open;
	return on_demand;
}

int stream_retention_hours(const struct stream *s)
{
	int64_t hours = (s->retention_ms + STREAM_HOUR_MS - 1) / STREAM_HOUR_MS;

	return hours > 0 ? (int)hours : 1;
}

void stream_admit(struct stream *s, const struct stream_limits *limits,
		  const struct put_entry *entries, size_t n, struct put_result *results,
		  struct seqno_gen *gen, int64_t now_ms)
{
	/* The open shards (by position in s->open) that refused an entry of
	 * this request. */
	bool *refused = calloc(s->open_count, sizeof(*refused));

	for (size_t i = 0; i < n; i++) {
		struct put_result *r = &results[i];
		size_t pos = open_position(s, entries[i].hash);
		struct shard *sh;

		r->shard = s->open[pos];
		sh = &s->shards[r->shard];
		r->seq = SEQNO_ZERO;
		if (refused == NULL) {
			r->status = PUT_FAILED;
		} else if (refused[pos] ||
			   !throttle_admit(&sh->writes, now_ms, limits->shard_records_per_sec,
					   limits->shard_bytes_per_sec,
					   entries[i].key_len + entries[i].data_len)) {
			refused[pos] = true;
			r->status = PUT_THROTTLED;
			sh->throttled++;
		} else {
			r->status = PUT_OK;
			r->seq = seqno_gen_next(gen);
		}
	}
	free(refused);
}

void stream_store(struct stream *s, const struct put_entry *entries, size_t n,
		  struct put_result *results, int64_t now_ms)
{
	for (size_t i = 0; i < n; i++) {
		const struct put_entry *e = &entries[i];
		struct shard *sh = &s->shards[results[i].shard];

		if (results[i].status != PUT_OK)
			continue;
		if (shardlog_append(&sh->log, results[i].seq, now_ms, e->key, e->key_len, e->data,
				    e->data_len) < 0) {
			results[i].status = PUT_FAILED;
			continue;
		}
		sh->records_in++;
		sh->bytes_in += e->key_len + e->data_len;
		s->bytes += e->key_len + e->data_len;
	}
}

/* Of the shards listed, the one whose oldest record arrived first, or -1
 * when all are empty. */
static int oldest_shard(const struct stream *s, const size_t *shards, size_t n)
{
	int best = -1;
	int64_t best_ms = 0;

	for (size_t k = 0; k < n; k++) {
		const struct shardlog *log = &s->shards[shards[k]].log;
		const struct shardlog_record *r = shardlog_at(log, log->first);
		if (r && (best < 0 || r->arrival_ms < best_ms)) {
			best = (int)shards[k];
			best_ms = r->arrival_ms;
		}
	}
	return best;
}

/* Drops the oldest records across shards beyond max_bytes. The oldest is
 * looked for, record after record, among the shards that hold any, found
 * once: the closed shards a reshard leaves are mostly empty. */
static size_t trim_bytes(struct stream *s, uint64_t max_bytes)
{
	size_t *holding, n = 0, dropped = 0;
	int i;

	if (max_bytes == 0 || s->bytes <= max_bytes)
		return 0;
	holding = malloc((s->shard_count - s->first_known) * sizeof(*holding));
	if (holding == NULL)
		return 0;       /* out of memory: the next write trims */
	for (size_t k = s->first_known; k < s->shard_count; k++)
		if (s->shards[k].log.count > 0)
			holding[n++] = k;
	while (s->bytes > max_bytes && (i = oldest_shard(s, holding, n)) >= 0) {
		s->bytes -= shardlog_drop_oldest(&s->shards[i].log);
		dropped++;
	}
	free(holding);
	return dropped;
}

/* Kinesis forgets a closed shard once the retention has passed since it
 * closed: by then every record it held has expired. Its records were
 * trimmed with the others; what goes now is the log's ring. */
static void forget_expired_shards(struct stream *s, int64_t horizon)
{
	for (size_t i = s->first_known; i < s->shard_count; i++) {
		struct shard *sh = &s->shards[i];
		if (seqno_is_zero(sh->ending_seq) || sh->forgotten || sh->closed_ms >= horizon)
			continue;
		s->bytes -= sh->log.bytes;
		shardlog_release(&sh->log);
		sh->forgotten = true;
	}
	/* Shards close, and so are forgotten, mostly oldest first: the
	 * writes' passes over the shards then start past nearly all the
	 * forgotten ones. */
	while (s->first_known < s->shard_count && s->shards[s->first_known].forgotten)
		s->first_known++;
}

size_t stream_trim(struct stream *s, int64_t now_ms, uint64_t max_bytes)
{
	int64_t horizon = now_ms - s->retention_ms;
	size_t dropped = 0;

	for (size_t i = s->first_known; i < s->shard_count; i++) {
		struct shardlog *log = &s->shards[i].log;
		uint64_t before = log->bytes;
		dropped += shardlog_trim_older(log, horizon);
		s->bytes -= before - log->bytes;
	}
	dropped += trim_bytes(s, max_bytes);
	forget_expired_shards(s, horizon);
	return dropped;
}

/* ------------------------------------------------------------------ */
/* Resharding                                                          */
/* ------------------------------------------------------------------ */

size_t stream_open_shards(const struct stream *s)
{
	return s->open_count;
}

/* Makes room for more shards at the end, in the index of open shards too;
 * the arrays may move. */
static int reserve_shards(struct stream *s, size_t more)
{
	struct shard *grown = realloc(s->shards, (s->shard_count + more) * sizeof(*grown));
	size_t *open;

	if (grown == NULL)
		return -1;
	s->shards = grown;
	open = realloc(s->open, (s->shard_count + more) * sizeof(*open));
	if (open == NULL)
		return -1;
	s->open = open;
	return 0;
}

static void add_child(struct stream *s, hashkey_t start, hashkey_t end, int parent, int adjacent,
		      struct seqno_gen *gen)
{
	struct shard *sh = &s->shards[s->shard_count];

	shard_init(sh, s->shard_count, start, end, seqno_gen_next(gen));
	sh->parent = parent;
	sh->adjacent_parent = adjacent;
	open_insert(s, s->shard_count++);
}

static void close_shard(struct stream *s, size_t shard, struct seqno_gen *gen, int64_t now_ms)
{
	struct shard *sh = &s->shards[shard];

	/* Above every record the shard holds: readers end at it. */
	sh->ending_seq = seqno_gen_next(gen);
	sh->closed_ms = now_ms;
	open_remove(s, shard);
}

/* SplitShard's step: closes the shard and appends its two halves, the
 * lower ending just below new_start. There must be room for them. */
static void split_at(struct stream *s, size_t shard, hashkey_t new_start, struct seqno_gen *gen,
		     int64_t now_ms)
{
	hashkey_t start = s->shards[shard].start, end = s->shards[shard].end;

	close_shard(s, shard, gen, now_ms);
	add_child(s, start, new_start - 1, (int)shard, -1, gen);
	add_child(s, new_start, end, (int)shard, -1, gen);
}

/* MergeShards' step: closes two adjacent shards and appends the one that
 * covers both. Whichever order they are named in, the lower range is the
 * child's parent and the higher its adjacent parent, as in Kinesis, so a
 * lineage reads the same however it was made. There must be room for it. */
static void merge_pair(struct stream *s, size_t a, size_t b, struct seqno_gen *gen,
		       int64_t now_ms)
{
	size_t lower = s->shards[a].start < s->shards[b].start ? a : b;
	size_t higher = lower == a ? b : a;

	close_shard(s, lower, gen, now_ms);
	close_shard(s, higher, gen, now_ms);
	add_child(s, s->shards[lower].start, s->shards[higher].end, (int)lower, (int)higher, gen);
}

int stream_split(struct stream *s, size_t shard, hashkey_t new_start, struct seqno_gen *gen,
		 int64_t now_ms, const char **why)
{
	const struct shard *sh = &s->shards[shard];

	if (!seqno_is_zero(sh->ending_seq)) {
		*why = "ResourceInUseException";
		return -1;
	}
	if (new_start <= sh->start || new_start > sh->end) {
		*why = "InvalidArgumentException";
		return -1;
	}
	if (reserve_shards(s, 2) < 0) {
		*why = "InternalFailure";
		return -1;
	}
	split_at(s, shard, new_start, gen, now_ms);
	return 0;
}

int stream_merge(struct stream *s, size_t shard, size_t adjacent, struct seqno_gen *gen,
		 int64_t now_ms, const char **why)
{
	const struct shard *a = &s->shards[shard], *b = &s->shards[adjacent];

	if (!seqno_is_zero(a->ending_seq) || !seqno_is_zero(b->ending_seq)) {
		*why = "ResourceInUseException";
		return -1;
	}
	if (shard == adjacent || (a->end + 1 != b->start && b->end + 1 != a->start)) {
		*why = "InvalidArgumentException";
		return -1;
	}
	if (reserve_shards(s, 1) < 0) {
		*why = "InternalFailure";
		return -1;
	}
	merge_pair(s, shard, adjacent, gen, now_ms);
	return 0;
}

/* UpdateShardCount is a sequence of SplitShard and MergeShards steps, as in
 * Kinesis: a shard records at most two parents, so a new range that
 * overlaps three or more old shards must come from merging pieces pairwise,
 * each intermediate shard closing at once, empty. Then every shard's
 * parents are all the shards its range came from, and a reader that reads
 * a child only after its parents keeps every key's records in order. */

/* Whether a boundary of the even split falls strictly inside an open shard
 * (the open shards cover the key space: it is inside one or starts one). */
static bool inside_open_shard(const struct stream *s, hashkey_t boundary)
{
	return s->shards[stream_shard_for(s, boundary)].start != boundary;
}

/* How many shards going to target open shards appends: two per split, one
 * per merge. Splitting at every boundary inside a shard leaves pieces that
 * each lie in one new range; merging n pieces into one range takes n-1. */
static size_t shards_appended(const struct stream *s, size_t target)
{
	size_t splits = 0;

	for (size_t i = 1; i < target; i++)
		splits += inside_open_shard(s, hashkey_shard_start(i, target));
	return 2 * splits + (stream_open_shards(s) + splits - target);
}

/* Splits the open shards at the even split's boundaries, lowest first: a
 * shard holding several is split again in its upper half. */
static void split_at_boundaries(struct stream *s, size_t target, struct seqno_gen *gen,
				int64_t now_ms)
{
	for (size_t i = 1; i < target; i++) {
		hashkey_t boundary = hashkey_shard_start(i, target);
		if (inside_open_shard(s, boundary))
			split_at(s, stream_shard_for(s, boundary), boundary, gen, now_ms);
	}
}

/* Merges the pieces of each new range from the lowest up, one at a time:
 * three pieces a, b, c become merge(merge(a, b), c). A range that is
 * already one open shard keeps it. */
static void merge_into_ranges(struct stream *s, size_t target, struct seqno_gen *gen,
			      int64_t now_ms)
{
	for (size_t i = 0; i < target; i++) {
		hashkey_t end = hashkey_shard_end(i, target);
		size_t merged = stream_shard_for(s, hashkey_shard_start(i, target));

		while (s->shards[merged].end < end) {
			merge_pair(s, merged, stream_shard_for(s, s->shards[merged].end + 1), gen,
				   now_ms);
			merged = s->shard_count - 1;
		}
	}
}

int stream_update_shard_count(struct stream *s, size_t target, struct seqno_gen *gen,
			      int64_t now_ms, const char **why)
{
	/* Room for every step first: the reshard happens whole or not at all. */
	if (reserve_shards(s, shards_appended(s, target)) < 0) {
		*why = "InternalFailure";
		return -1;
	}
	split_at_boundaries(s, target, gen, now_ms);
	merge_into_ranges(s, target, gen, now_ms);
	return 0;
}

struct stream_consumer *stream_find_consumer(struct stream *s, const char *name)
{
	for (size_t i = 0; i < s->consumer_count; i++)
		if (strcmp(s->consumers[i].name, name) == 0)
			return &s->consumers[i];
	return NULL;
}

struct stream_consumer *stream_add_consumer(struct stream *s, const char *name, int64_t now_s)
{
	struct stream_consumer *grown = realloc(s->consumers, (s->consumer_count + 1) * sizeof(*grown));
	struct stream_consumer *c;

	if (grown == NULL)
		return NULL;
	s->consumers = grown;
	c = &s->consumers[s->consumer_count++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->created = now_s;
	snprintf(c->arn, sizeof(c->arn), "%s/consumer/%s:%lld", s->arn, name, (long long)now_s);
	return c;
}

void stream_remove_consumer(struct stream *s, struct stream_consumer *c)
{
	size_t i = (size_t)(c - s->consumers);

	consumer_release(c);
	memmove(&s->consumers[i], &s->consumers[i + 1],
		(s->consumer_count - i - 1) * sizeof(*c));
	s->consumer_count--;
}

/* ------------------------------------------------------------------ */
/* Mirroring                                                          */
/* ------------------------------------------------------------------ */

/* A mirror takes its shards and sequence numbers from the upstream rather
 * than making them: the resharding above decides a layout, this only
 * copies one, so a consumer's checkpoints and lineage mean the same on
 * both sides. */

/* The index a shard id names ("shardId-000000000007": 7), or -1. */
static long shard_id_index(const char *id)
{
	char *end;
	long v;

	if (strncmp(id, "shardId-", 8) != 0 || id[8] < '0' || id[8] > '9')
		return -1;
	v = strtol(id + 8, &end, 10);
	return *end == '\0' && v >= 0 ? v : -1;
}

/* A parent's index, or -1 for none; *bad when it names no known shard. */
static int mirror_parent(const struct stream *s, const char *id, bool *bad)
{
	long i;

	if (id[0] == '\0')
		return -1;
	i = shard_id_index(id);
	if (i < 0 || (size_t)i >= s->shard_count) {
		*bad = true;
		return -1;
	}
	return (int)i;
}

static bool stream_never_written(const struct stream *s)
{
	for (size_t i = 0; i < s->shard_count; i++)
		if (s->shards[i].records_in || s->shards[i].log.count || s->shards[i].log.trimmed ||
		    !seqno_is_zero(s->shards[i].mirrored_to))
			return false;
	return true;
}

/* Drops the stream's own shards, so the upstream's take their places. */
static void mirror_reset(struct stream *s)
{
	for (size_t i = 0; i < s->shard_count; i++)
		shardlog_free(&s->shards[i].log);
	s->shard_count = s->open_count = s->first_known = 0;
}

static int mirror_add(struct stream *s, const struct stream_mirror_shard *m, int64_t now_ms,
		      const char **why)
{
	bool bad = false;
	int parent = mirror_parent(s, m->parent, &bad);
	int adjacent = mirror_parent(s, m->adjacent_parent, &bad);
	struct shard *sh;

	if (bad) {
		*why = "a parent shard is not known";
		return -1;
	}
	if (m->start > m->end) {
		*why = "the hash key range is empty";
		return -1;
	}
	if (reserve_shards(s, 1) < 0) {
		*why = "out of memory";
		return -1;
	}
	sh = &s->shards[s->shard_count];
	shard_init(sh, s->shard_count, m->start, m->end, m->starting_seq);
	sh->parent = parent;
	sh->adjacent_parent = adjacent;
	s->shard_count++;
	if (seqno_is_zero(m->ending_seq)) {
		open_insert(s, s->shard_count - 1);
		return 1;
	}
	/* Closed before the mirror saw it: retention counts from now, as the
	 * upstream's closing time is not listed. */
	sh->ending_seq = m->ending_seq;
	sh->closed_ms = now_ms;
	return 1;
}

/* A known shard: the same range and start, and perhaps closed since. */
static int mirror_update(struct stream *s, size_t i, const struct stream_mirror_shard *m,
			 int64_t now_ms, const char **why)
{
	struct shard *sh = &s->shards[i];

	if (sh->start != m->start || sh->end != m->end || !seqno_eq(sh->starting_seq, m->starting_seq)) {
		*why = "a known shard changed its range or starting sequence number";
		return -1;
	}
	if (seqno_is_zero(m->ending_seq) || seqno_eq(sh->ending_seq, m->ending_seq))
		return 0;
	if (!seqno_is_zero(sh->ending_seq)) {
		*why = "a closed shard changed its ending sequence number";
		return -1;
	}
	sh->ending_seq = m->ending_seq;
	sh->closed_ms = now_ms;
	open_remove(s, i);
	return 1;
}

/* The entry of list naming shard index want, or NULL. */
static const struct stream_mirror_shard *mirror_entry(const struct stream_mirror_shard *list,
						      size_t n, size_t want)
{
	for (size_t k = 0; k < n; k++)
		if (shard_id_index(list[k].id) == (long)want)
			return &list[k];
	return NULL;
}

int stream_mirror_shards(struct stream *s, const struct stream_mirror_shard *list, size_t n,
			 int64_t now_ms, const char **why)
{
	int changed = 0, rc;

	for (size_t k = 0; k < n; k++) {
		long i = shard_id_index(list[k].id);
		if (i < 0 || (size_t)i >= n + s->shard_count) {
			*why = "a shard id is not shardId- and a number in sequence";
			return -1;
		}
	}
	if (!s->mirrored && stream_never_written(s))
		mirror_reset(s);
	s->mirrored = true;
	/* By index, so parents always come before their children. */
	for (size_t i = 0; i < s->shard_count + n; i++) {
		const struct stream_mirror_shard *m = mirror_entry(list, n, i);
		if (m == NULL && i >= s->shard_count)
			break;
		if (m == NULL)
			continue;
		rc = i < s->shard_count ? mirror_update(s, i, m, now_ms, why) : mirror_add(s, m, now_ms, why);
		if (rc < 0)
			return -1;
		changed += rc;
	}
	return changed;
}

int stream_mirror_fits(const struct stream *s, size_t shard, seqno_t seq, const char **why)
{
	const struct shard *sh = &s->shards[shard];

	if (!seqno_lt(stream_mirror_position(s, shard), seq))
		return 0;
	if (seqno_lt(seq, sh->starting_seq) ||
	    (!seqno_is_zero(sh->ending_seq) && !seqno_lt(seq, sh->ending_seq))) {
		*why = "the sequence number is outside the shard's range";
		return -1;
	}
	return 1;
}

int stream_mirror_append(struct stream *s, size_t shard, seqno_t seq, int64_t arrival_ms,
			 const char *key, size_t key_len, const void *data, size_t data_len,
			 const char **why)
{
	struct shard *sh = &s->shards[shard];
	int rc = stream_mirror_fits(s, shard, seq, why);

	if (rc <= 0)
		return rc;
	if (shardlog_append(&sh->log, seq, arrival_ms, key, key_len, data, data_len) < 0) {
		*why = "out of memory, or a key too long";
		return -1;
	}
	sh->records_in++;
	sh->bytes_in += key_len + data_len;
	s->bytes += key_len + data_len;
	sh->mirrored_to = seq;
	return 1;
}

/* The journal's replay brings records back without mirrored_to: the
 * newest held counts too. */
seqno_t stream_mirror_position(const struct stream *s, size_t shard)
{
	const struct shardlog_record *last = shardlog_last(&s->shards[shard].log);
	seqno_t held = last ? last->seq : SEQNO_ZERO;

	return seqno_max(held, s->shards[shard].mirrored_to);
}

seqno_t stream_latest(const struct stream *s, size_t shard, uint64_t hub_last)
{
	return seqno_next(s->mirrored ? stream_mirror_position(s, shard) : seqno_from_u64(hub_last));
}

bool stream_mirror_unsaved(const struct stream *s, size_t shard)
{
	const struct shard *sh = &s->shards[shard];
	const struct shardlog_record *last = shardlog_last(&sh->log);

	return seqno_lt(sh->mirror_saved, sh->mirrored_to) &&
	       (last == NULL || seqno_lt(last->seq, sh->mirrored_to));
}
