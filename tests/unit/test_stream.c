/* Resharding in src/hub/stream.c: UpdateShardCount as Kinesis does it, a
 * sequence of splits and pairwise merges, so that every shard's lineage
 * names all the shards its keys came from and a reader that reads a child
 * only after its parents sees every key's records in order. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/stream.h"

#define MAX_COUNT 16            /* N -> M for N in 1..16, M in half..double */
#define MAX_KEYS 512
#define NOW_MS 1000             /* when records are put and shards resharded */

/* Records for hash keys at every shard boundary of the counts a test goes
 * through: each overlap of an old shard and a new range holds one. */
struct keys {
	hashkey_t hash[MAX_KEYS];
	char name[MAX_KEYS][8];
	size_t count;
};

static void add_key(struct keys *k, hashkey_t hash)
{
	for (size_t i = 0; i < k->count; i++)
		if (k->hash[i] == hash)
			return;
	assert_true(k->count < MAX_KEYS);
	k->hash[k->count] = hash;
	snprintf(k->name[k->count], sizeof(k->name[0]), "%zu", k->count);
	k->count++;
}

static void add_boundaries(struct keys *k, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		add_key(k, hashkey_shard_start(i, count));
		add_key(k, hashkey_shard_end(i, count));
	}
}

/* Puts one record for every key at now_ms, with no write limits. */
static void put_all_at(struct stream *s, const struct keys *k, struct seqno_gen *gen,
		       int64_t now_ms)
{
	static const struct stream_limits unlimited = { 0, 0 };
	struct put_entry entries[MAX_KEYS];
	struct put_result results[MAX_KEYS];

	for (size_t i = 0; i < k->count; i++)
		entries[i] = (struct put_entry){ .key = k->name[i], .key_len = strlen(k->name[i]),
						 .hash = k->hash[i], .data = "x", .data_len = 1 };
	stream_admit(s, &unlimited, entries, k->count, results, gen, now_ms);
	stream_store(s, entries, k->count, results, now_ms);
	for (size_t i = 0; i < k->count; i++)
		assert_int_equal(results[i].status, PUT_OK);
}

static void put_all(struct stream *s, const struct keys *k, struct seqno_gen *gen)
{
	put_all_at(s, k, gen, NOW_MS);
}

static void reshard_at(struct stream *s, size_t target, struct seqno_gen *gen, int64_t now_ms)
{
	const char *why = NULL;

	if (stream_update_shard_count(s, target, gen, now_ms, &why) < 0)
		fail_msg("UpdateShardCount to %zu failed: %s", target, why);
}

static void reshard(struct stream *s, size_t target, struct seqno_gen *gen)
{
	reshard_at(s, target, gen, NOW_MS);
}

/* ------------------------------------------------------------------ */
/* What every stream's shards must satisfy                              */
/* ------------------------------------------------------------------ */

static void check_ids(const struct stream *s)
{
	char id[SHARD_ID_LEN];

	for (size_t i = 0; i < s->shard_count; i++) {
		snprintf(id, sizeof(id), "shardId-%012zu", i);
		assert_string_equal(s->shards[i].id, id);
	}
}

/* A child's range is its parent's part (a split) or exactly its parent's
 * range followed by its adjacent parent's (a merge); parents come first,
 * are closed, and ended before the child started. */
static void check_parents(const struct stream *s, size_t i)
{
	const struct shard *ch = &s->shards[i];
	const struct shard *p = ch->parent >= 0 ? &s->shards[ch->parent] : NULL;
	const struct shard *adj = ch->adjacent_parent >= 0 ? &s->shards[ch->adjacent_parent] : NULL;

	if (p == NULL) {
		assert_null(adj);
		return;
	}
	assert_true(ch->parent < (int)i && ch->adjacent_parent < (int)i);
	assert_true(!seqno_is_zero(p->ending_seq) && seqno_lt(p->ending_seq, ch->starting_seq));
	if (adj == NULL) {
		assert_true(p->start <= ch->start && ch->end <= p->end);
		return;
	}
	assert_true(!seqno_is_zero(adj->ending_seq) && seqno_lt(adj->ending_seq, ch->starting_seq));
	assert_true(p->start == ch->start && p->end + 1 == adj->start && adj->end == ch->end);
}

/* A closed shard ends above where it starts, and its children, taken in
 * order and cut to its range, tile it: every key of it continues in one. */
static void check_children(const struct stream *s, size_t i)
{
	const struct shard *sh = &s->shards[i];
	hashkey_t next = sh->start;
	bool whole = false;

	if (seqno_is_zero(sh->ending_seq))
		return;
	assert_true(seqno_lt(sh->starting_seq, sh->ending_seq));
	for (size_t k = i + 1; k < s->shard_count; k++) {
		const struct shard *ch = &s->shards[k];
		if (ch->parent != (int)i && ch->adjacent_parent != (int)i)
			continue;
		hashkey_t lo = ch->start > sh->start ? ch->start : sh->start;
		hashkey_t hi = ch->end < sh->end ? ch->end : sh->end;
		assert_false(whole);
		assert_true(lo == next);
		whole = hi == sh->end;
		next = hi + 1;          /* wraps only past the last key, once whole */
	}
	assert_true(whole);
}

/* The open shards are the even split into count, in order, which covers the
 * key space without gaps or overlaps. */
static void check_open_ranges(const struct stream *s, size_t count)
{
	size_t n = 0;

	assert_int_equal(stream_open_shards(s), count);
	for (size_t i = 0; i < count; i++) {
		hashkey_t start = hashkey_shard_start(i, count), end = hashkey_shard_end(i, count);
		for (size_t k = 0; k < s->shard_count; k++) {
			const struct shard *sh = &s->shards[k];
			if (seqno_is_zero(sh->ending_seq) && sh->start == start) {
				assert_true(sh->end == end);
				n++;
			}
		}
	}
	assert_int_equal(n, count);
	assert_true(hashkey_shard_start(0, count) == 0);
	assert_true(hashkey_shard_end(count - 1, count) == HASHKEY_MAX);
}

/* The index writes use lists exactly the open shards, in hash key order,
 * and finds each one's keys in it, at both ends of its range. */
static void check_open_index(const struct stream *s)
{
	size_t open = 0;

	for (size_t i = 0; i < s->shard_count; i++)
		open += seqno_is_zero(s->shards[i].ending_seq);
	assert_int_equal(s->open_count, open);
	assert_true(s->shards[s->open[0]].start == 0);
	for (size_t k = 0; k < s->open_count; k++) {
		const struct shard *sh = &s->shards[s->open[k]];
		assert_true(seqno_is_zero(sh->ending_seq));
		if (k + 1 < s->open_count)
			assert_true(sh->end + 1 == s->shards[s->open[k + 1]].start);
		else
			assert_true(sh->end == HASHKEY_MAX);
		assert_int_equal(stream_shard_for(s, sh->start), s->open[k]);
		assert_int_equal(stream_shard_for(s, sh->end), s->open[k]);
	}
}

/* Shards a step made and closed again were only a step: they hold nothing. */
static void check_intermediates_empty(const struct stream *s, size_t first_new)
{
	for (size_t i = first_new; i < s->shard_count; i++)
		if (!seqno_is_zero(s->shards[i].ending_seq))
			assert_int_equal(s->shards[i].log.count, 0);
}

static void check_structure(const struct stream *s)
{
	check_ids(s);
	check_open_index(s);
	for (size_t i = 0; i < s->shard_count; i++) {
		check_parents(s, i);
		check_children(s, i);
	}
}

static void check_lineage(const struct stream *s, size_t open_count)
{
	check_structure(s);
	check_open_ranges(s, open_count);
}

/* ------------------------------------------------------------------ */
/* A reader that honours the lineage and nothing more                   */
/* ------------------------------------------------------------------ */

static bool ready(const struct stream *s, const bool *done, size_t i)
{
	const struct shard *sh = &s->shards[i];

	return !done[i] && (sh->parent < 0 || done[sh->parent]) &&
	       (sh->adjacent_parent < 0 || done[sh->adjacent_parent]);
}

/* The shard to read next, the way most likely to overtake a parent the
 * lineage forgot: the newest ready child at once, else the first ready
 * shard of the stream's creation, lowest or highest range first. */
static size_t next_to_read(const struct stream *s, const bool *done, bool highest_first)
{
	size_t child = SIZE_MAX, root = SIZE_MAX;

	for (size_t i = 0; i < s->shard_count; i++) {
		if (!ready(s, done, i))
			continue;
		if (s->shards[i].parent >= 0)
			child = i;
		else if (root == SIZE_MAX || highest_first)
			root = i;
	}
	assert_true(child != SIZE_MAX || root != SIZE_MAX);   /* some shard is ready */
	return child != SIZE_MAX ? child : root;
}

/* Reads whole shards, each once its recorded parents are read; checks that
 * each key's sequence numbers rise and that every record is read once. */
static void read_in_lineage_order(const struct stream *s, const struct keys *k,
				  size_t records_put, bool highest_first)
{
	bool *done = calloc(s->shard_count, sizeof(*done));
	seqno_t last[MAX_KEYS] = { 0 };
	size_t read = 0;

	assert_non_null(done);
	for (size_t round = 0; round < s->shard_count; round++) {
		size_t i = next_to_read(s, done, highest_first);
		const struct shardlog *log = &s->shards[i].log;
		uint64_t pos = log->first;
		const struct shardlog_record *r;
		while ((r = shardlog_next(log, &pos, NULL)) != NULL) {
			size_t key = (size_t)atoi(shardlog_record_key(r));
			assert_true(key < k->count);
			if (!seqno_lt(last[key], r->seq))
				fail_msg("key %zu: %s gave a record older than one already read",
					 key, s->shards[i].id);
			last[key] = r->seq;
			read++;
		}
		done[i] = true;
	}
	assert_int_equal(read, records_put);
	free(done);
}

static void read_both_ways(const struct stream *s, const struct keys *k, size_t records_put)
{
	read_in_lineage_order(s, k, records_put, false);
	read_in_lineage_order(s, k, records_put, true);
}

/* ------------------------------------------------------------------ */

static struct stream *new_stream(size_t count, struct seqno_gen *gen)
{
	struct stream *s;

	seqno_gen_init(gen, 0, NOW_MS);
	s = stream_new("reshard", "arn:aws:kinesis:us-east-1:000000000000", 1, count, gen, NOW_MS);
	assert_non_null(s);
	return s;
}

/* N -> M with records before and after: lineage, ranges and read order. */
static void check_one_step(size_t from, size_t to)
{
	struct seqno_gen gen;
	struct stream *s = new_stream(from, &gen);
	struct keys k = { .count = 0 };
	size_t before;

	add_boundaries(&k, from);
	add_boundaries(&k, to);
	put_all(s, &k, &gen);
	before = s->shard_count;
	reshard(s, to, &gen);
	check_intermediates_empty(s, before);
	put_all(s, &k, &gen);
	check_lineage(s, to);
	read_both_ways(s, &k, 2 * k.count);
	stream_free(s);
}

static void test_every_uniform_scaling_keeps_lineage_and_order(void **state)
{
	for (size_t from = 1; from <= MAX_COUNT; from++)
		for (size_t to = (from + 1) / 2; to <= 2 * from; to++)
			check_one_step(from, to);
}

/* 5 -> 3, the case that needs an intermediate shard with three old shards
 * under one new range, spelled out. */
static void test_five_to_three(void **state)
{
	static const int parents[][2] = {
		{ -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 },
		{ 1, -1 }, { 1, -1 },   /* 1 split at the first new boundary */
		{ 3, -1 }, { 3, -1 },   /* 3 split at the second */
		{ 0, 5 },               /* new range 0 */
		{ 6, 2 }, { 10, 7 },    /* new range 1: merge(merge(6, 2), 7) */
		{ 8, 4 },               /* new range 2 */
	};
	struct seqno_gen gen;
	struct stream *s = new_stream(5, &gen);

	reshard(s, 3, &gen);
	assert_int_equal(s->shard_count, 13);
	for (size_t i = 0; i < s->shard_count; i++) {
		assert_int_equal(s->shards[i].parent, parents[i][0]);
		assert_int_equal(s->shards[i].adjacent_parent, parents[i][1]);
	}
	/* The one intermediate merge closed at once; the three last are open. */
	assert_true(seqno_lt(s->shards[10].starting_seq, s->shards[10].ending_seq));
	for (size_t i = 9; i < 13; i++)
		assert_int_equal(seqno_is_zero(s->shards[i].ending_seq), i != 10);
	stream_free(s);
}

/* Several steps in a row, from a stream a manual split left uneven, with
 * records between them: the lineage still leads back through every step. */
static void test_steps_in_a_row(void **state)
{
	static const size_t counts[] = { 6, 11, 7, 4, 8, 5, 3, 2, 1, 2 };
	struct seqno_gen gen;
	struct stream *s = new_stream(3, &gen);
	struct keys k = { .count = 0 };
	const char *why;
	size_t puts = 0;

	add_boundaries(&k, 3);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		add_boundaries(&k, counts[i]);
	put_all(s, &k, &gen);
	puts++;
	assert_int_equal(stream_split(s, 1, hashkey_shard_start(1, 3) + 12345, &gen, NOW_MS, &why), 0);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		put_all(s, &k, &gen);
		puts++;
		reshard(s, counts[i], &gen);
		check_lineage(s, counts[i]);
	}
	read_both_ways(s, &k, puts * k.count);
	stream_free(s);
}

/* A target whose ranges the open shards already have changes nothing. */
static void test_same_count_changes_nothing(void **state)
{
	struct seqno_gen gen;
	struct stream *s = new_stream(4, &gen);

	reshard(s, 4, &gen);
	assert_int_equal(s->shard_count, 4);
	check_lineage(s, 4);
	stream_free(s);
}

/* MergeShards names the lower shard the parent whichever is named first. */
static void test_merge_orders_parents_by_range(void **state)
{
	struct seqno_gen gen;
	struct stream *s = new_stream(3, &gen);
	const char *why;

	assert_int_equal(stream_merge(s, 2, 1, &gen, NOW_MS, &why), 0);
	assert_int_equal(s->shards[3].parent, 1);
	assert_int_equal(s->shards[3].adjacent_parent, 2);
	assert_int_equal(stream_merge(s, 0, 2, &gen, NOW_MS, &why), -1);
	assert_string_equal(why, "ResourceInUseException");
	check_structure(s);
	stream_free(s);
}

/* ------------------------------------------------------------------ */
/* Closed shards are forgotten once the retention has passed            */
/* ------------------------------------------------------------------ */

#define RETENTION_MS 60000

/* What put_all stores: every key and its one byte of data. */
static uint64_t round_bytes(const struct keys *k)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < k->count; i++)
		bytes += strlen(k->name[i]) + 1;
	return bytes;
}

static uint64_t retained_bytes(const struct stream *s)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < s->shard_count; i++)
		bytes += s->shards[i].log.bytes;
	return bytes;
}

/* Every shard closed at closed_ms is forgotten (its id unknown, its ring
 * freed) exactly when forget is true; open shards never are. */
static void check_forgotten(const struct stream *s, int64_t closed_ms, bool forget)
{
	for (size_t i = 0; i < s->shard_count; i++) {
		const struct shard *sh = &s->shards[i];
		bool gone = !seqno_is_zero(sh->ending_seq) && sh->closed_ms == closed_ms && forget;
		assert_int_equal(sh->forgotten, gone);
		assert_int_equal(stream_find_shard(s, sh->id) == (int)i, !gone);
		assert_int_equal(stream_shard_known(s, i), !gone);
		if (gone)
			assert_true(sh->log.ring == NULL && sh->log.count == 0 && sh->log.bytes == 0);
	}
	assert_int_equal(s->bytes, retained_bytes(s));
}

/* Shards closed by a reshard at NOW_MS + 1000 (their records put at NOW_MS,
 * the open shards' a retention later) are kept through a retention after
 * closing, then forgotten; the open shards keep taking and holding records. */
static void test_closed_shards_forgotten_after_retention(void **state)
{
	int64_t closed = NOW_MS + 1000, later = closed + RETENTION_MS;
	struct seqno_gen gen;
	struct stream *s = new_stream(4, &gen);
	struct keys k = { .count = 0 };

	s->retention_ms = RETENTION_MS;
	add_boundaries(&k, 4);
	add_boundaries(&k, 3);
	put_all(s, &k, &gen);
	reshard_at(s, 3, &gen, closed);
	put_all_at(s, &k, &gen, later);

	stream_trim(s, later, 0);
	check_forgotten(s, closed, false);
	assert_true(!seqno_is_zero(s->shards[0].ending_seq) && s->shards[0].log.count == 0);   /* records expired */
	assert_true(s->shards[0].log.ring != NULL);

	stream_trim(s, later + 1, 0);
	check_forgotten(s, closed, true);
	assert_int_equal(s->bytes, round_bytes(&k));    /* the second round's */
	check_open_ranges(s, 3);
	put_all_at(s, &k, &gen, later + 2);             /* writes still find the open shards */
	assert_int_equal(s->bytes, 2 * round_bytes(&k));
	stream_free(s);
}

/* A reader's position in a shard that is then forgotten stays valid: it
 * learns what it lost and reads nothing more. */
static void test_forgotten_shard_keeps_positions(void **state)
{
	struct seqno_gen gen;
	struct stream *s = new_stream(2, &gen);
	struct keys k = { .count = 0 };
	uint64_t pos, lost, held;

	s->retention_ms = RETENTION_MS;
	add_boundaries(&k, 2);
	put_all(s, &k, &gen);
	held = s->shards[0].log.count;
	assert_true(held > 1);
	pos = s->shards[0].log.first + 1;
	reshard(s, 1, &gen);
	stream_trim(s, NOW_MS + RETENTION_MS + 1, 0);
	check_forgotten(s, NOW_MS, true);
	assert_null(shardlog_next(&s->shards[0].log, &pos, &lost));
	assert_int_equal(lost, held - 1);
	stream_free(s);
}

/* An open shard that stays while its neighbour is split and merged back
 * again and again sits before every shard those steps add: the lookup
 * still finds both. */
static void test_open_shard_before_many_closed(void **state)
{
	struct seqno_gen gen;
	struct stream *s = new_stream(2, &gen);
	const char *why;

	for (int i = 0; i < 50; i++) {
		size_t last = s->shard_count - 1;
		hashkey_t mid = s->shards[last].start + (s->shards[last].end - s->shards[last].start) / 2;
		assert_int_equal(stream_split(s, last, mid, &gen, NOW_MS, &why), 0);
		assert_int_equal(stream_merge(s, s->shard_count - 2, s->shard_count - 1, &gen, NOW_MS,
					      &why), 0);
	}
	assert_int_equal(s->shard_count, 2 + 50 * 3);
	check_structure(s);
	assert_int_equal(stream_shard_for(s, 0), 0);
	assert_int_equal(stream_shard_for(s, HASHKEY_MAX), s->shard_count - 1);
	stream_free(s);
}

/* Beyond the byte limit the oldest records go first, across the shards
 * that hold any: a closed parent's before its children's. */
static void test_byte_limit_drops_oldest_across_closed_and_open(void **state)
{
	struct seqno_gen gen;
	struct stream *s = new_stream(1, &gen);
	struct keys k = { .count = 0 };
	uint64_t round;

	add_boundaries(&k, 2);
	put_all_at(s, &k, &gen, NOW_MS);
	reshard(s, 2, &gen);
	put_all_at(s, &k, &gen, NOW_MS + 1);
	round = round_bytes(&k);
	stream_trim(s, NOW_MS + 2, round);
	assert_int_equal(s->shards[0].log.count, 0);
	assert_int_equal(s->shards[1].log.count + s->shards[2].log.count, k.count);
	stream_trim(s, NOW_MS + 2, round / 2);
	assert_true(s->bytes <= round / 2 && s->bytes == retained_bytes(s));
	stream_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_uniform_scaling_keeps_lineage_and_order),
		cmocka_unit_test(test_five_to_three),
		cmocka_unit_test(test_steps_in_a_row),
		cmocka_unit_test(test_same_count_changes_nothing),
		cmocka_unit_test(test_merge_orders_parents_by_range),
		cmocka_unit_test(test_closed_shards_forgotten_after_retention),
		cmocka_unit_test(test_forgotten_shard_keeps_positions),
		cmocka_unit_test(test_open_shard_before_many_closed),
		cmocka_unit_test(test_byte_limit_drops_oldest_across_closed_and_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
