/* Mirroring in src/hub/stream.c: a mirrored stream copies the upstream's
 * shard layout, lineage and sequence numbers, follows its reshards, takes
 * a replayed record once, and refuses what does not fit the upstream's
 * layout without changing what it holds. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/hub.h"
#include "hub/stream.h"
#include "util/errtext.h"

#define NOW_MS 5000

/* The upstream's numbers: n above a number of Amazon Kinesis, 56 digits,
 * so that every comparison and copy here takes the whole width. */
static seqno_t W(uint64_t n)
{
	seqno_t seq;

	assert_int_equal(seqno_parse("49654183049498290934127734893407271634858925398213394434",
				     &seq), SEQNO_OK);
	while (n-- > 0)
		seq = seqno_next(seq);
	return seq;
}

static void expect_seq(seqno_t got, uint64_t n)
{
	char a[SEQNO_TEXT_MAX], b[SEQNO_TEXT_MAX];

	seqno_format(got, a);
	seqno_format(W(n), b);
	assert_string_equal(a, b);
}

/* A shard as an upstream would list it: index i of count even shards. */
static struct stream_mirror_shard even(size_t i, size_t count, uint64_t starting)
{
	struct stream_mirror_shard m = { .start = hashkey_shard_start(i, count),
					 .end = hashkey_shard_end(i, count),
					 .starting_seq = W(starting) };

	snprintf(m.id, sizeof(m.id), "shardId-%012zu", i);
	return m;
}

/* A local stream as `hub --mirror` creates it before the upstream answers. */
static struct stream *fresh_stream(void)
{
	struct seqno_gen gen;
	struct stream *s;

	seqno_gen_init(&gen, 0, 1);
	s = stream_new("race", "arn:aws:kinesis:us-east-1:000000000000", 1, 1, &gen, NOW_MS);
	assert_non_null(s);
	return s;
}

static void append(struct stream *s, size_t shard, uint64_t seq, int expect)
{
	const char *why = NULL;

	assert_int_equal(stream_mirror_append(s, shard, W(seq), NOW_MS, "k", 1, "d", 1, &why),
			 expect);
	if (expect < 0)
		assert_non_null(why);
}

static void test_fresh_stream_takes_upstream_layout(void **state)
{
	struct stream_mirror_shard up[2] = { even(0, 2, 100), even(1, 2, 200) };
	struct stream *s = fresh_stream();
	const char *why;

	(void)state;
	assert_int_equal(stream_mirror_shards(s, up, 2, NOW_MS, &why), 2);
	assert_true(s->mirrored);
	assert_int_equal(s->shard_count, 2);
	assert_int_equal(stream_open_shards(s), 2);
	assert_string_equal(s->shards[1].id, "shardId-000000000001");
	assert_true(s->shards[1].start == up[1].start);
	expect_seq(s->shards[1].starting_seq, 200);
	/* The same list again changes nothing. */
	assert_int_equal(stream_mirror_shards(s, up, 2, NOW_MS, &why), 0);
	stream_free(s);
}

static void test_records_keep_upstream_numbers_once(void **state)
{
	struct stream_mirror_shard up[1] = { even(0, 1, 100) };
	struct stream *s = fresh_stream();
	const char *why;

	(void)state;
	assert_int_equal(stream_mirror_shards(s, up, 1, NOW_MS, &why), 1);
	assert_true(seqno_is_zero(stream_mirror_position(s, 0)));
	append(s, 0, 150, 1);
	append(s, 0, 170, 1);
	/* A replay after a reconnect: already held, not repeated. */
	append(s, 0, 150, 0);
	append(s, 0, 170, 0);
	append(s, 0, 50, 0);
	append(s, 0, 180, 1);
	assert_int_equal(s->shards[0].log.count, 3);
	expect_seq(stream_mirror_position(s, 0), 180);
	expect_seq(shardlog_last(&s->shards[0].log)->seq, 180);
	stream_free(s);
}

static void test_reshard_upstream_appears_with_lineage(void **state)
{
	struct stream_mirror_shard up[4] = { even(0, 2, 100), even(1, 2, 200) };
	struct stream *s = fresh_stream();
	const char *why;

	(void)state;
	assert_int_equal(stream_mirror_shards(s, up, 2, NOW_MS, &why), 2);
	append(s, 1, 250, 1);
	/* Upstream splits shard 1: it closes, two children name it. */
	up[1].ending_seq = W(300);
	up[2] = even(2, 4, 301);
	up[2].start = up[1].start;
	up[2].end = up[1].start + (up[1].end - up[1].start) / 2;
	up[3] = even(3, 4, 302);
	up[3].start = up[2].end + 1;
	up[3].end = up[1].end;
	strcpy(up[2].parent, up[1].id);
	strcpy(up[3].parent, up[1].id);
	assert_int_equal(stream_mirror_shards(s, up, 4, NOW_MS, &why), 3);
	assert_int_equal(s->shard_count, 4);
	assert_int_equal(stream_open_shards(s), 3);
	expect_seq(s->shards[1].ending_seq, 300);
	assert_int_equal(s->shards[3].parent, 1);
	assert_int_equal(s->shards[3].adjacent_parent, -1);
	/* A closed shard takes nothing at or beyond its end. */
	append(s, 1, 300, -1);
	append(s, 3, 303, 1);
	stream_free(s);
}

static void test_a_listing_of_only_new_shards_is_enough(void **state)
{
	struct stream_mirror_shard up[3] = { even(0, 2, 100), even(1, 2, 200), even(2, 1, 400) };
	struct stream *s = fresh_stream();
	const char *why;

	(void)state;
	assert_int_equal(stream_mirror_shards(s, up, 2, NOW_MS, &why), 2);
	/* A merge: both close, the child names the lower as parent. */
	up[0].ending_seq = W(390);
	up[1].ending_seq = W(391);
	strcpy(up[2].parent, up[0].id);
	strcpy(up[2].adjacent_parent, up[1].id);
	assert_int_equal(stream_mirror_shards(s, up, 3, NOW_MS, &why), 3);
	assert_int_equal(s->shards[2].parent, 0);
	assert_int_equal(s->shards[2].adjacent_parent, 1);
	assert_int_equal(stream_open_shards(s), 1);
	stream_free(s);
}

static void test_bad_upstream_layouts_are_refused(void **state)
{
	struct stream_mirror_shard up[2] = { even(0, 2, 100), even(1, 2, 200) };
	struct stream_mirror_shard bad;
	struct stream *s = fresh_stream();
	const char *why = NULL;

	(void)state;
	assert_int_equal(stream_mirror_shards(s, up, 2, NOW_MS, &why), 2);
	bad = up[0];
	bad.starting_seq = W(99);
	assert_int_equal(stream_mirror_shards(s, &bad, 1, NOW_MS, &why), -1);
	assert_non_null(why);
	bad = even(2, 4, 500);
	strcpy(bad.parent, "shardId-000000000009");
	assert_int_equal(stream_mirror_shards(s, &bad, 1, NOW_MS, &why), -1);
	bad = even(0, 1, 100);
	strcpy(bad.id, "shard-zero");
	assert_int_equal(stream_mirror_shards(s, &bad, 1, NOW_MS, &why), -1);
	bad = even(7, 8, 100);
	assert_int_equal(stream_mirror_shards(s, &bad, 1, NOW_MS, &why), -1);
	up[0].ending_seq = W(150);
	assert_int_equal(stream_mirror_shards(s, up, 1, NOW_MS, &why), 1);
	up[0].ending_seq = W(160);
	assert_int_equal(stream_mirror_shards(s, up, 1, NOW_MS, &why), -1);
	/* Nothing of it changed the shards held. */
	assert_int_equal(s->shard_count, 2);
	expect_seq(s->shards[0].ending_seq, 150);
	stream_free(s);
}

static void test_written_stream_keeps_its_shards(void **state)
{
	struct stream_mirror_shard up[1] = { even(0, 1, 100) };
	struct stream *s = fresh_stream();
	const char *why = NULL;

	(void)state;
	/* A stream that already held records is not silently replaced: its
	 * shard 0 must match the upstream's. */
	s->shards[0].records_in = 1;
	assert_int_equal(stream_mirror_shards(s, up, 1, NOW_MS, &why), -1);
	assert_non_null(why);
	stream_free(s);
}

static struct hub *open_hub_at(const char *dir, int64_t now_ms)
{
	struct hub_config config;
	char err[ERR_TEXT_MAX];
	struct hub *hub;

	hub_config_defaults(&config);
	config.data_dir = dir;
	hub = hub_open(&config, now_ms, err, sizeof(err));
	assert_non_null(hub);
	return hub;
}

static struct hub *open_hub(const char *dir)
{
	return open_hub_at(dir, NOW_MS);
}

/* A hub on dir with stream race mirroring up (n shards). */
static struct hub *mirror_hub(const char *dir, const struct stream_mirror_shard *up, size_t n,
			      struct stream **s)
{
	struct hub *hub = open_hub(dir);
	const char *why;

	*s = hub_create_stream(hub, "race", 1, NOW_MS);
	assert_non_null(*s);
	assert_int_equal(hub_mirror_shards(hub, *s, up, n, NOW_MS, &why), (int)n);
	return hub;
}

static void remove_dir(const char *dir)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* What hub_mirror_records stores is journaled: after the hub reopens its
 * data directory the copy holds the same records and resumes after the
 * newest, and a replay of them is skipped, not stored twice. */
static void test_mirrored_records_survive_a_restart(void **state)
{
	struct stream_mirror_shard up[2] = { even(0, 2, 100), even(1, 2, 200) };
	struct mirror_record recs[4] = {
		{ .seq = W(150), .key = "a", .key_len = 1, .data = "x", .data_len = 1 },
		{ .seq = W(160), .key = "b", .key_len = 1, .data = "y", .data_len = 1 },
		{ .seq = W(150), .key = "a", .key_len = 1, .data = "x", .data_len = 1 },
		{ .seq = W(250), .key = "c", .key_len = 1, .data = "z", .data_len = 1 },
	};
	char dir[] = "/tmp/alleycat-mirror-XXXXXX";
	struct hub *hub;
	struct stream *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	hub = mirror_hub(dir, up, 2, &s);
	/* The replay of 150 is skipped; 250 is beyond shard 0's records but
	 * inside its range: stored. */
	assert_int_equal(hub_mirror_records(hub, s, 0, recs, 4), 0);
	assert_int_equal(s->mirror.records, 3);
	assert_int_equal(s->mirror.repeated, 1);
	hub_close(hub);

	hub = open_hub(dir);
	s = hub_find_stream(hub, "race");
	assert_non_null(s);
	assert_int_equal(s->shard_count, 2);
	expect_seq(s->shards[1].starting_seq, 200);
	assert_int_equal(s->shards[0].log.count, 3);
	expect_seq(stream_mirror_position(s, 0), 250);
	assert_int_equal(hub_mirror_records(hub, s, 0, recs, 2), 0);
	assert_int_equal(s->shards[0].log.count, 3);
	hub_close(hub);
	remove_dir(dir);
}

/* Retention trims every record a mirrored shard held: its checkpoint is
 * saved before the journal forgets them, so the copy reopened later (its
 * records expired on replay too) still resumes after the newest it
 * stored, and still is a mirror. */
static void test_checkpoint_outlives_retention(void **state)
{
	struct stream_mirror_shard up[1] = { even(0, 1, 100) };
	struct mirror_record recs[2] = {
		{ .seq = W(150), .arrival_ms = NOW_MS, .key = "a", .key_len = 1, .data = "x",
		  .data_len = 1 },
		{ .seq = W(160), .arrival_ms = NOW_MS, .key = "b", .key_len = 1, .data = "y",
		  .data_len = 1 },
	};
	char dir[] = "/tmp/alleycat-mirror-XXXXXX";
	int64_t later;
	struct hub *hub;
	struct stream *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	hub = mirror_hub(dir, up, 1, &s);
	assert_int_equal(hub_mirror_records(hub, s, 0, recs, 2), 0);
	assert_false(stream_mirror_unsaved(s, 0));
	later = NOW_MS + s->retention_ms + 1000;
	hub_expire(hub, later);
	assert_int_equal(s->shards[0].log.count, 0);
	expect_seq(stream_mirror_position(s, 0), 160);
	assert_false(stream_mirror_unsaved(s, 0));
	hub_close(hub);

	hub = open_hub_at(dir, later);
	s = hub_find_stream(hub, "race");
	assert_non_null(s);
	assert_true(s->mirrored);
	assert_int_equal(s->shards[0].log.count, 0);
	expect_seq(stream_mirror_position(s, 0), 160);
	/* The upstream sends them again: held already, not stored twice. */
	assert_int_equal(hub_mirror_records(hub, s, 0, recs, 2), 0);
	assert_int_equal(s->mirror.repeated, 2);
	assert_int_equal(s->mirror.records, 0);
	hub_close(hub);
	remove_dir(dir);
}

/* A crash after records were journaled but before the checkpoint was
 * saved: the replayed records move the checkpoint on, and it is saved
 * when retention trims them at the reopening. */
static void test_replay_moves_the_checkpoint(void **state)
{
	struct stream_mirror_shard up[1] = { even(0, 1, 100) };
	struct mirror_record rec = { .seq = W(170), .arrival_ms = NOW_MS, .key = "a", .key_len = 1,
				     .data = "x", .data_len = 1 };
	char dir[] = "/tmp/alleycat-mirror-XXXXXX";
	int64_t later;
	struct hub *hub;
	struct stream *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	hub = mirror_hub(dir, up, 1, &s);
	assert_int_equal(hub_mirror_records(hub, s, 0, &rec, 1), 0);
	later = NOW_MS + s->retention_ms + 1000;
	hub_close(hub);

	hub = open_hub_at(dir, later);
	s = hub_find_stream(hub, "race");
	assert_int_equal(s->shards[0].log.count, 0);
	expect_seq(stream_mirror_position(s, 0), 170);
	assert_false(stream_mirror_unsaved(s, 0));
	hub_close(hub);
	hub = open_hub_at(dir, later);
	expect_seq(stream_mirror_position(hub_find_stream(hub, "race"), 0), 170);
	hub_close(hub);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_stream_takes_upstream_layout),
		cmocka_unit_test(test_records_keep_upstream_numbers_once),
		cmocka_unit_test(test_reshard_upstream_appears_with_lineage),
		cmocka_unit_test(test_a_listing_of_only_new_shards_is_enough),
		cmocka_unit_test(test_bad_upstream_layouts_are_refused),
		cmocka_unit_test(test_written_stream_keeps_its_shards),
		cmocka_unit_test(test_mirrored_records_survive_a_restart),
		cmocka_unit_test(test_checkpoint_outlives_retention),
		cmocka_unit_test(test_replay_moves_the_checkpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
