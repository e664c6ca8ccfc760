/* Unit tests for src/hub/shardlog.c: the in-memory log of one shard.
 *
 * Linked with -Wl,--wrap=malloc (see failalloc.h), so allocations of the
 * log can be made to fail one at a time. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failalloc.h"
#include "hub/shardlog.h"

/* ------------------------------------------------------------------------
 * Helpers: every record's key and data follow from its sequence number, so a
 * record read back can be checked without remembering what was written.
 * ------------------------------------------------------------------------ */

#define DATA_MAX 64

/* The shard log's numbers are seqno_t; these tests use small ones. */
static seqno_t S(uint64_t v)
{
	return seqno_from_u64(v);
}

static uint64_t U(seqno_t seq)
{
	assert_true(seqno_fits_u64(seq));
	return seq.w[0];
}

static size_t key_for(uint64_t seq, char *key)
{
	return (size_t)sprintf(key, "pk-%llu", (unsigned long long)seq);
}

/* 0..DATA_MAX-1 bytes: empty data included. */
static size_t data_for(uint64_t seq, unsigned char *data)
{
	size_t len = (size_t)(seq * 7 % DATA_MAX);

	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(seq * 31 + i);
	return len;
}

static uint64_t size_for(uint64_t seq)
{
	char key[32];
	unsigned char data[DATA_MAX];

	return key_for(seq, key) + data_for(seq, data);
}

static void append_seq(struct shardlog *log, uint64_t seq, int64_t arrival_ms)
{
	char key[32];
	unsigned char data[DATA_MAX];
	size_t key_len = key_for(seq, key), data_len = data_for(seq, data);

	if (shardlog_append(log, S(seq), arrival_ms, key, key_len, data, data_len) != 0)
		fail_msg("append of seq %llu failed", (unsigned long long)seq);
}

static void check_record(const struct shardlog_record *r, uint64_t seq)
{
	char key[32];
	unsigned char data[DATA_MAX];
	size_t key_len = key_for(seq, key), data_len = data_for(seq, data);

	if (r == NULL)
		fail_msg("no record where seq %llu should be", (unsigned long long)seq);
	if (U(r->seq) != seq)
		fail_msg("record has seq %llu, expected %llu", (unsigned long long)U(r->seq),
			 (unsigned long long)seq);
	assert_int_equal(r->key_len, key_len);
	assert_int_equal(r->data_len, data_len);
	assert_memory_equal(shardlog_record_key(r), key, key_len);
	if (data_len > 0)
		assert_memory_equal(shardlog_record_data(r), data, data_len);
}

/* Sum of key and data bytes of the retained records, counted afresh. */
static uint64_t retained_bytes(const struct shardlog *log)
{
	uint64_t sum = 0;

	for (uint64_t pos = log->first; pos < shardlog_end(log); pos++) {
		const struct shardlog_record *r = shardlog_at(log, pos);

		assert_non_null(r);
		sum += (uint64_t)r->key_len + r->data_len;
	}
	return sum;
}

/* The invariants that hold after any sequence of operations. */
static void check_invariants(const struct shardlog *log)
{
	const struct shardlog_record *prev = NULL;

	assert_true(log->count <= log->capacity);
	if (log->capacity > 0)
		assert_int_equal(log->capacity & (log->capacity - 1), 0);
	assert_true(log->first == log->trimmed);
	assert_true(log->bytes == retained_bytes(log));
	if (log->first > 0)
		assert_null(shardlog_at(log, log->first - 1));
	assert_null(shardlog_at(log, shardlog_end(log)));
	for (uint64_t pos = log->first; pos < shardlog_end(log); pos++) {
		const struct shardlog_record *r = shardlog_at(log, pos);

		if (prev) {
			assert_true(U(r->seq) > U(prev->seq));
			assert_true(r->arrival_ms >= prev->arrival_ms);
		}
		prev = r;
	}
	if (log->count == 0)
		assert_null(shardlog_last(log));
	else
		assert_ptr_equal(shardlog_last(log), shardlog_at(log, shardlog_end(log) - 1));
}

static int setup(void **state)
{
	static struct shardlog log;

	failalloc_reset();
	shardlog_init(&log);
	*state = &log;
	return 0;
}

static int teardown(void **state)
{
	struct shardlog *log = *state;

	failalloc_reset();
	shardlog_free(log);
	assert_int_equal(log->count, 0);
	assert_null(log->ring);
	return 0;
}

/* ------------------------------------------------------------------------
 * Appending and reading
 * ------------------------------------------------------------------------ */

static void test_empty(void **state)
{
	struct shardlog *log = *state;
	uint64_t pos = 0, lost = 99;

	assert_int_equal(log->count, 0);
	assert_int_equal(shardlog_end(log), 0);
	assert_null(shardlog_at(log, 0));
	assert_null(shardlog_last(log));
	assert_null(shardlog_next(log, &pos, &lost));
	assert_int_equal(pos, 0);
	assert_int_equal(lost, 0);
	assert_int_equal(shardlog_position(log, SHARDLOG_TRIM_HORIZON, S(0), 0), 0);
	assert_int_equal(shardlog_position(log, SHARDLOG_LATEST, S(0), 0), 0);
	assert_int_equal(shardlog_position(log, SHARDLOG_AT_SEQUENCE_NUMBER, S(5), 0), 0);
	assert_int_equal(shardlog_position(log, SHARDLOG_AFTER_SEQUENCE_NUMBER, S(5), 0), 0);
	assert_int_equal(shardlog_position(log, SHARDLOG_AFTER_SEQUENCE_NUMBER, S(UINT64_MAX), 0),
			 0);
	assert_int_equal(shardlog_position(log, SHARDLOG_AT_TIMESTAMP, S(0), 1000), 0);
	assert_int_equal(shardlog_drop_oldest(log), 0);
	assert_int_equal(shardlog_trim_older(log, INT64_MAX), 0);
	assert_int_equal(log->trimmed, 0);
	assert_int_equal(log->bytes, 0);
	check_invariants(log);
}

static void test_append_read_in_order(void **state)
{
	struct shardlog *log = *state;
	uint64_t pos, lost, bytes = 0;
	int64_t arrival = 1620240672076;
	const struct shardlog_record *r;
	uint64_t seq;

	for (seq = 10; seq <= 1000; seq += 10) {
		append_seq(log, seq, arrival + (int64_t)seq);
		bytes += size_for(seq);
		assert_int_equal(log->bytes, bytes);
		check_record(shardlog_last(log), seq);
	}
	assert_int_equal(log->count, 100);
	assert_int_equal(log->first, 0);
	assert_int_equal(shardlog_end(log), 100);
	check_invariants(log);

	/* shardlog_next from the start reads every record once, in order. */
	pos = shardlog_position(log, SHARDLOG_TRIM_HORIZON, S(0), 0);
	assert_int_equal(pos, 0);
	for (seq = 10; seq <= 1000; seq += 10) {
		uint64_t before = pos;

		lost = 99;
		r = shardlog_next(log, &pos, &lost);
		check_record(r, seq);
		assert_int_equal(r->arrival_ms, arrival + (int64_t)seq);
		assert_int_equal(lost, 0);
		assert_int_equal(pos, before + 1);
		assert_ptr_equal(shardlog_at(log, before), r);
	}
	/* At the end: NULL, and the cursor stays put. */
	assert_null(shardlog_next(log, &pos, &lost));
	assert_int_equal(pos, 100);
	assert_null(shardlog_next(log, &pos, NULL));
	assert_int_equal(pos, 100);
	assert_null(shardlog_at(log, 100));
	assert_null(shardlog_at(log, UINT64_MAX));

	/* A cursor at the end sees what is appended later. */
	append_seq(log, 1010, arrival + 2000);
	check_record(shardlog_next(log, &pos, &lost), 1010);
	assert_int_equal(pos, 101);
	check_invariants(log);
}

static void test_record_layout(void **state)
{
	struct shardlog *log = *state;
	const struct shardlog_record *r;

	assert_int_equal(shardlog_append(log, S(7), 100, "key", 3, "payload", 7), 0);
	r = shardlog_last(log);
	assert_non_null(r);
	assert_int_equal(U(r->seq), 7);
	assert_int_equal(r->arrival_ms, 100);
	assert_int_equal(r->key_len, 3);
	assert_int_equal(r->data_len, 7);
	assert_memory_equal(shardlog_record_key(r), "key", 3);
	assert_memory_equal(shardlog_record_data(r), "payload", 7);
	assert_int_equal(log->bytes, 10);
	/* The log holds copies, not the caller's buffers. */
	{
		char key[] = "abc", data[] = "defgh";

		assert_int_equal(shardlog_append(log, S(8), 100, key, 3, data, 5), 0);
		memset(key, 'X', 3);
		memset(data, 'X', 5);
		r = shardlog_last(log);
		assert_memory_equal(shardlog_record_key(r), "abc", 3);
		assert_memory_equal(shardlog_record_data(r), "defgh", 5);
	}
}

/* ------------------------------------------------------------------------
 * Starting positions
 * ------------------------------------------------------------------------ */

static uint64_t at_seq(const struct shardlog *log, uint64_t seq)
{
	return shardlog_position(log, SHARDLOG_AT_SEQUENCE_NUMBER, S(seq), 0);
}

static uint64_t after_seq(const struct shardlog *log, uint64_t seq)
{
	return shardlog_position(log, SHARDLOG_AFTER_SEQUENCE_NUMBER, S(seq), 0);
}

static uint64_t at_time(const struct shardlog *log, int64_t ms)
{
	return shardlog_position(log, SHARDLOG_AT_TIMESTAMP, S(0), ms);
}

static void test_position_by_sequence(void **state)
{
	struct shardlog *log = *state;
	uint64_t pos;

	/* Positions 0..9 hold seqs 10, 20, ..., 100. */
	for (uint64_t seq = 10; seq <= 100; seq += 10)
		append_seq(log, seq, 1000);

	assert_int_equal(shardlog_position(log, SHARDLOG_TRIM_HORIZON, S(55), 55), 0);
	assert_int_equal(shardlog_position(log, SHARDLOG_LATEST, S(55), 55), 10);

	/* Below every stored number. */
	assert_int_equal(at_seq(log, 0), 0);
	assert_int_equal(at_seq(log, 9), 0);
	assert_int_equal(after_seq(log, 0), 0);
	assert_int_equal(after_seq(log, 9), 0);
	/* Equal to stored numbers. */
	assert_int_equal(at_seq(log, 10), 0);
	assert_int_equal(after_seq(log, 10), 1);
	assert_int_equal(at_seq(log, 50), 4);
	assert_int_equal(after_seq(log, 50), 5);
	assert_int_equal(at_seq(log, 100), 9);
	assert_int_equal(after_seq(log, 100), 10);
	/* Between stored numbers: both start at the next one. */
	assert_int_equal(at_seq(log, 11), 1);
	assert_int_equal(after_seq(log, 11), 1);
	assert_int_equal(at_seq(log, 55), 5);
	assert_int_equal(after_seq(log, 55), 5);
	assert_int_equal(at_seq(log, 99), 9);
	assert_int_equal(after_seq(log, 99), 9);
	/* Above every stored number, up to the largest there is. */
	assert_int_equal(at_seq(log, 101), 10);
	assert_int_equal(after_seq(log, 101), 10);
	assert_int_equal(at_seq(log, UINT64_MAX - 1), 10);
	assert_int_equal(after_seq(log, UINT64_MAX - 1), 10);
	assert_int_equal(at_seq(log, UINT64_MAX), 10);
	assert_int_equal(after_seq(log, UINT64_MAX), 10);

	/* Every position found agrees with a scan. */
	for (uint64_t seq = 0; seq <= 110; seq++) {
		uint64_t want_at = 0, want_after = 0;

		for (uint64_t p = 0; p < 10; p++) {
			want_at += U(shardlog_at(log, p)->seq) < seq;
			want_after += U(shardlog_at(log, p)->seq) <= seq;
		}
		assert_int_equal(at_seq(log, seq), want_at);
		assert_int_equal(after_seq(log, seq), want_after);
	}

	/* The reader gets the right record from there. */
	pos = after_seq(log, 30);
	check_record(shardlog_next(log, &pos, NULL), 40);
	pos = at_seq(log, 30);
	check_record(shardlog_next(log, &pos, NULL), 30);

	/* After trimming, numbers that were trimmed start at the oldest left. */
	assert_int_equal(shardlog_trim_older(log, 1001), 10);
	for (uint64_t seq = 110; seq <= 200; seq += 10)
		append_seq(log, seq, 2000);
	for (int i = 0; i < 3; i++)
		shardlog_drop_oldest(log);
	/* Positions 13..19 hold 140..200. */
	assert_int_equal(log->first, 13);
	assert_int_equal(shardlog_position(log, SHARDLOG_TRIM_HORIZON, S(0), 0), 13);
	assert_int_equal(shardlog_position(log, SHARDLOG_LATEST, S(0), 0), 20);
	assert_int_equal(at_seq(log, 10), 13);
	assert_int_equal(after_seq(log, 10), 13);
	assert_int_equal(at_seq(log, 130), 13);
	assert_int_equal(after_seq(log, 130), 13);
	assert_int_equal(at_seq(log, 140), 13);
	assert_int_equal(after_seq(log, 140), 14);
	assert_int_equal(at_seq(log, 145), 14);
	assert_int_equal(at_seq(log, 200), 19);
	assert_int_equal(after_seq(log, 200), 20);
	assert_int_equal(after_seq(log, UINT64_MAX), 20);
	check_invariants(log);

	/* All trimmed: every start is the end. */
	shardlog_trim_older(log, INT64_MAX);
	assert_int_equal(log->count, 0);
	assert_int_equal(shardlog_position(log, SHARDLOG_TRIM_HORIZON, S(0), 0), 20);
	assert_int_equal(shardlog_position(log, SHARDLOG_LATEST, S(0), 0), 20);
	assert_int_equal(at_seq(log, 0), 20);
	assert_int_equal(after_seq(log, 0), 20);
	assert_int_equal(at_time(log, 0), 20);
}

static void test_position_by_timestamp(void **state)
{
	struct shardlog *log = *state;
	static const int64_t arrivals[] = { 100, 100, 200, 200, 200, 300, 400, 400 };
	uint64_t pos;

	for (size_t i = 0; i < 8; i++)
		append_seq(log, i + 1, arrivals[i]);

	assert_int_equal(at_time(log, INT64_MIN), 0);
	assert_int_equal(at_time(log, 0), 0);
	assert_int_equal(at_time(log, 99), 0);
	/* Equal timestamps: the first record that arrived at that time. */
	assert_int_equal(at_time(log, 100), 0);
	assert_int_equal(at_time(log, 101), 2);
	assert_int_equal(at_time(log, 200), 2);
	assert_int_equal(at_time(log, 250), 5);
	assert_int_equal(at_time(log, 300), 5);
	assert_int_equal(at_time(log, 301), 6);
	assert_int_equal(at_time(log, 400), 6);
	/* After the newest: the end. */
	assert_int_equal(at_time(log, 401), 8);
	assert_int_equal(at_time(log, INT64_MAX), 8);

	pos = at_time(log, 200);
	check_record(shardlog_next(log, &pos, NULL), 3);
	check_record(shardlog_next(log, &pos, NULL), 4);

	/* After trimming: earlier times start at the oldest record left. */
	assert_int_equal(shardlog_trim_older(log, 200), 2);
	assert_int_equal(at_time(log, 0), 2);
	assert_int_equal(at_time(log, 150), 2);
	assert_int_equal(at_time(log, 200), 2);
	assert_int_equal(at_time(log, 350), 6);
}

static void test_arrival_never_decreases(void **state)
{
	struct shardlog *log = *state;

	append_seq(log, 1, 1000);
	append_seq(log, 2, 900);        /* a clock that stepped back */
	append_seq(log, 3, 1100);
	append_seq(log, 4, 1050);
	append_seq(log, 5, INT64_MIN);
	append_seq(log, 6, 1100);
	assert_int_equal(shardlog_at(log, 0)->arrival_ms, 1000);
	assert_int_equal(shardlog_at(log, 1)->arrival_ms, 1000);
	assert_int_equal(shardlog_at(log, 2)->arrival_ms, 1100);
	assert_int_equal(shardlog_at(log, 3)->arrival_ms, 1100);
	assert_int_equal(shardlog_at(log, 4)->arrival_ms, 1100);
	assert_int_equal(shardlog_at(log, 5)->arrival_ms, 1100);
	check_invariants(log);
	/* So AT_TIMESTAMP finds the raised records too. */
	assert_int_equal(at_time(log, 900), 0);
	assert_int_equal(at_time(log, 1001), 2);
	assert_int_equal(at_time(log, 1050), 2);
	/* And trimming by age keeps them in order. */
	assert_int_equal(shardlog_trim_older(log, 1001), 2);
	check_record(shardlog_at(log, 2), 3);
}

/* ------------------------------------------------------------------------
 * Trimming
 * ------------------------------------------------------------------------ */

static void test_trim_older(void **state)
{
	struct shardlog *log = *state;
	uint64_t bytes_kept = 0;

	/* seq i + 1 arrives at 10 * i: 0, 10, ..., 990. */
	for (int i = 0; i < 100; i++) {
		append_seq(log, (uint64_t)i + 1, 10 * i);
		if (i >= 50)
			bytes_kept += size_for((uint64_t)i + 1);
	}

	assert_int_equal(shardlog_trim_older(log, INT64_MIN), 0);
	assert_int_equal(shardlog_trim_older(log, 0), 0);
	assert_int_equal(log->count, 100);
	/* Strictly before the limit: the record arriving at 500 stays. */
	assert_int_equal(shardlog_trim_older(log, 500), 50);
	assert_int_equal(log->count, 50);
	assert_int_equal(log->first, 50);
	assert_int_equal(log->trimmed, 50);
	assert_int_equal(log->bytes, bytes_kept);
	assert_null(shardlog_at(log, 49));
	check_record(shardlog_at(log, 50), 51);
	assert_int_equal(shardlog_at(log, 50)->arrival_ms, 500);
	assert_int_equal(shardlog_trim_older(log, 500), 0);
	assert_int_equal(shardlog_trim_older(log, 501), 1);
	check_invariants(log);

	/* Everything: positions keep counting from where they were. */
	assert_int_equal(shardlog_trim_older(log, INT64_MAX), 49);
	assert_int_equal(log->count, 0);
	assert_int_equal(log->first, 100);
	assert_int_equal(log->trimmed, 100);
	assert_int_equal(log->bytes, 0);
	assert_null(shardlog_last(log));
	assert_int_equal(shardlog_end(log), 100);
	append_seq(log, 101, 2000);
	assert_int_equal(shardlog_position(log, SHARDLOG_TRIM_HORIZON, S(0), 0), 100);
	check_record(shardlog_at(log, 100), 101);
	check_invariants(log);
}

static void test_drop_oldest(void **state)
{
	struct shardlog *log = *state;

	for (uint64_t seq = 1; seq <= 20; seq++)
		append_seq(log, seq, 0);
	for (uint64_t seq = 1; seq <= 20; seq++) {
		uint64_t before = log->bytes;

		check_record(shardlog_at(log, log->first), seq);
		assert_int_equal(shardlog_drop_oldest(log), size_for(seq));
		assert_int_equal(log->bytes, before - size_for(seq));
		assert_int_equal(log->first, seq);
		assert_int_equal(log->count, 20 - seq);
		check_invariants(log);
	}
	assert_int_equal(shardlog_drop_oldest(log), 0);
	assert_int_equal(log->trimmed, 20);
	assert_int_equal(log->first, 20);
	assert_int_equal(log->bytes, 0);
}

static void test_drop_oldest_empty_record(void **state)
{
	struct shardlog *log = *state;

	/* A record with empty key and data still counts as a record. */
	assert_int_equal(shardlog_append(log, S(1), 0, "", 0, "", 0), 0);
	assert_int_equal(log->count, 1);
	assert_int_equal(log->bytes, 0);
	assert_int_equal(shardlog_drop_oldest(log), 0);
	assert_int_equal(log->count, 0);
	assert_int_equal(log->trimmed, 1);
	assert_int_equal(log->first, 1);
}

static void test_cursor_lost_records(void **state)
{
	struct shardlog *log = *state;
	uint64_t pos = 0, lost = 99, latest;

	for (uint64_t seq = 1; seq <= 20; seq++)
		append_seq(log, seq, (int64_t)seq * 100);

	/* A reader takes three records, then falls behind the trimming. */
	for (uint64_t seq = 1; seq <= 3; seq++)
		check_record(shardlog_next(log, &pos, &lost), seq);
	assert_int_equal(pos, 3);
	assert_int_equal(shardlog_trim_older(log, 1100), 10);

	check_record(shardlog_next(log, &pos, &lost), 11);
	assert_int_equal(lost, 7);
	assert_int_equal(pos, 11);
	/* Only once: the next read loses nothing. */
	check_record(shardlog_next(log, &pos, &lost), 12);
	assert_int_equal(lost, 0);
	assert_int_equal(pos, 12);

	/* Without room for the count it still continues at the oldest. */
	pos = 2;
	check_record(shardlog_next(log, &pos, NULL), 11);
	assert_int_equal(pos, 11);

	/* A cursor at a trimmed position before an empty log: all lost. */
	latest = shardlog_position(log, SHARDLOG_LATEST, S(0), 0);
	assert_int_equal(latest, 20);
	pos = 15;
	assert_int_equal(shardlog_trim_older(log, INT64_MAX), 10);
	assert_null(shardlog_next(log, &pos, &lost));
	assert_int_equal(lost, 5);
	assert_int_equal(pos, 20);
	/* A LATEST cursor taken before the trim lost nothing, and reads on. */
	assert_null(shardlog_next(log, &latest, &lost));
	assert_int_equal(lost, 0);
	append_seq(log, 21, 5000);
	check_record(shardlog_next(log, &latest, &lost), 21);
	assert_int_equal(lost, 0);
	assert_int_equal(latest, 21);
	check_record(shardlog_next(log, &pos, &lost), 21);
	assert_int_equal(lost, 0);
}

static void test_bytes_accounting(void **state)
{
	struct shardlog *log = *state;
	char key[SHARDLOG_KEY_MAX];
	unsigned char data[1000];
	uint64_t want = 0;

	memset(key, 'k', sizeof(key));
	memset(data, 'd', sizeof(data));
	for (uint64_t seq = 1; seq <= 200; seq++) {
		size_t key_len = 1 + seq * 13 % SHARDLOG_KEY_MAX;
		size_t data_len = seq * 101 % sizeof(data);

		assert_int_equal(shardlog_append(log, S(seq), (int64_t)seq, key, key_len, data,
						 data_len), 0);
		want += key_len + data_len;
		assert_int_equal(log->bytes, want);
		if (seq % 3 == 0) {
			size_t dropped = shardlog_drop_oldest(log);

			want -= dropped;
			assert_int_equal(log->bytes, want);
		}
	}
	check_invariants(log);
	shardlog_trim_older(log, 150);
	assert_int_equal(log->bytes, retained_bytes(log));
	check_invariants(log);
	while (log->count)
		shardlog_drop_oldest(log);
	assert_int_equal(log->bytes, 0);
}

/* ------------------------------------------------------------------------
 * Growth and wrap-around
 * ------------------------------------------------------------------------ */

static void check_all(const struct shardlog *log)
{
	for (uint64_t pos = log->first; pos < shardlog_end(log); pos++)
		check_record(shardlog_at(log, pos), pos + 1);
}

static void test_growth_and_wrap(void **state)
{
	enum { TOTAL = 10000 };
	struct shardlog *log = *state;
	int grew_wrapped = 0, wrapped_reads = 0;
	size_t max_capacity = 0;
	uint64_t cursor = 0, lost, total_read = 0, total_lost = 0;
	uint64_t read_seq = 0;

	/* seq = position + 1; arrival = seq / 10. Every fourth append drops
	 * two of the oldest, so the ring wraps and grows while wrapped. */
	for (uint64_t seq = 1; seq <= TOTAL; seq++) {
		const struct shardlog_record *r;

		if (log->count == log->capacity && log->head != 0)
			grew_wrapped = 1;
		append_seq(log, seq, (int64_t)(seq / 10));
		if (seq % 4 == 0) {
			shardlog_drop_oldest(log);
			shardlog_drop_oldest(log);
		}
		if (log->head + log->count > log->capacity)
			wrapped_reads++;
		if (log->capacity > max_capacity)
			max_capacity = log->capacity;
		/* A reader that takes two records every fifth append: slower
		 * than the trimming, so it loses records now and then. */
		if (seq % 5 == 0) {
			for (int i = 0; i < 2; i++) {
				r = shardlog_next(log, &cursor, &lost);
				if (r == NULL)
					break;
				assert_true(U(r->seq) == read_seq + 1 + lost);
				assert_true(cursor == U(r->seq));
				read_seq = U(r->seq);
				total_read++;
				total_lost += lost;
			}
		}
		if (seq % 997 == 0)
			check_all(log);
	}
	assert_true(grew_wrapped);
	assert_true(wrapped_reads > 0);
	assert_true(max_capacity >= 4096);
	assert_true(total_lost > 0);
	assert_true(total_read + total_lost == read_seq);
	assert_int_equal(log->count, TOTAL / 2);
	assert_int_equal(log->first, TOTAL / 2);
	check_all(log);
	check_invariants(log);

	/* Binary search over a wrapped ring. */
	for (uint64_t seq = 1; seq <= TOTAL + 1; seq += 37) {
		uint64_t want = seq - 1 < log->first ? log->first : seq - 1;

		assert_int_equal(at_seq(log, seq), want);
		want = seq < log->first ? log->first : seq;
		if (want > shardlog_end(log))
			want = shardlog_end(log);
		assert_int_equal(after_seq(log, seq), want);
	}
	assert_int_equal(at_time(log, 0), log->first);
	assert_int_equal(at_time(log, 600), 5999);
	assert_int_equal(at_time(log, TOTAL), TOTAL);

	/* Trim by age to a point in the middle of the ring. */
	assert_int_equal(shardlog_trim_older(log, 800), 7999 - 5000);
	assert_int_equal(log->first, 7999);
	check_all(log);
	check_invariants(log);
}

/* Capacity stays bounded when appends and trims balance. */
static void test_steady_state_capacity(void **state)
{
	struct shardlog *log = *state;
	size_t capacity;

	for (uint64_t seq = 1; seq <= 50; seq++)
		append_seq(log, seq, 0);
	capacity = log->capacity;
	for (uint64_t seq = 51; seq <= 20000; seq++) {
		append_seq(log, seq, 0);
		shardlog_drop_oldest(log);
	}
	assert_int_equal(log->capacity, capacity);
	assert_int_equal(log->count, 50);
	check_all(log);
	check_invariants(log);
}

/* ------------------------------------------------------------------------
 * Limits
 * ------------------------------------------------------------------------ */

static void test_key_length_limit(void **state)
{
	struct shardlog *log = *state;
	char key[SHARDLOG_KEY_MAX + 2];

	memset(key, 'k', sizeof(key));
	append_seq(log, 1, 0);
	assert_int_equal(shardlog_append(log, S(2), 0, key, SHARDLOG_KEY_MAX, "d", 1), 0);
	assert_int_equal(shardlog_last(log)->key_len, SHARDLOG_KEY_MAX);
	assert_memory_equal(shardlog_record_key(shardlog_last(log)), key, SHARDLOG_KEY_MAX);
	assert_int_equal(log->bytes, size_for(1) + SHARDLOG_KEY_MAX + 1);

	assert_int_equal(shardlog_append(log, S(3), 0, key, SHARDLOG_KEY_MAX + 1, "d", 1), -1);
	assert_int_equal(shardlog_append(log, S(3), 0, key, SHARDLOG_KEY_MAX + 2, "", 0), -1);
	assert_int_equal(log->count, 2);
	assert_int_equal(log->bytes, size_for(1) + SHARDLOG_KEY_MAX + 1);
	assert_int_equal(U(shardlog_last(log)->seq), 2);
	/* The refused seq can still be appended with a key that fits. */
	assert_int_equal(shardlog_append(log, S(3), 0, key, 1, "", 0), 0);
	check_invariants(log);
}

static void test_data_sizes(void **state)
{
	enum { MIB = 1024 * 1024 };
	struct shardlog *log = *state;
	unsigned char *big = malloc(MIB);
	const struct shardlog_record *r;

	assert_non_null(big);
	for (size_t i = 0; i < MIB; i++)
		big[i] = (unsigned char)(i * 2654435761u >> 24);

	assert_int_equal(shardlog_append(log, S(1), 0, "k", 1, big, MIB), 0);
	r = shardlog_last(log);
	assert_int_equal(r->data_len, MIB);
	assert_memory_equal(shardlog_record_data(r), big, MIB);
	assert_int_equal(log->bytes, 1 + MIB);
	free(big);

	/* Empty data, with and without a buffer. */
	assert_int_equal(shardlog_append(log, S(2), 0, "key", 3, "", 0), 0);
	assert_int_equal(shardlog_last(log)->data_len, 0);
	assert_int_equal(shardlog_append(log, S(3), 0, "key", 3, NULL, 0), 0);
	assert_int_equal(shardlog_last(log)->data_len, 0);
	assert_memory_equal(shardlog_record_key(shardlog_last(log)), "key", 3);
	assert_int_equal(log->bytes, 1 + MIB + 6);
	assert_int_equal(shardlog_drop_oldest(log), 1 + MIB);
	assert_int_equal(log->bytes, 6);
	check_invariants(log);
}

/* ------------------------------------------------------------------------
 * Allocation failure
 * ------------------------------------------------------------------------ */

struct snapshot {
	uint64_t first, count, bytes, trimmed;
	uint64_t seqs[256];
	const struct shardlog_record *records[256];
};

static void take_snapshot(const struct shardlog *log, struct snapshot *s)
{
	assert_true(log->count <= 256);
	s->first = log->first;
	s->count = log->count;
	s->bytes = log->bytes;
	s->trimmed = log->trimmed;
	for (uint64_t i = 0; i < log->count; i++) {
		s->records[i] = shardlog_at(log, log->first + i);
		s->seqs[i] = U(s->records[i]->seq);
	}
}

static void check_unchanged(const struct shardlog *log, const struct snapshot *s)
{
	assert_int_equal(log->first, s->first);
	assert_int_equal(log->count, s->count);
	assert_int_equal(log->bytes, s->bytes);
	assert_int_equal(log->trimmed, s->trimmed);
	for (uint64_t i = 0; i < s->count; i++) {
		const struct shardlog_record *r = shardlog_at(log, s->first + i);

		assert_ptr_equal(r, s->records[i]);
		check_record(r, s->seqs[i]);
	}
	assert_null(shardlog_at(log, s->first + s->count));
	check_invariants(log);
}

/* Appends seq, failing each of its allocations in turn first; returns how
 * many different allocations were failed. A failed record allocation may
 * leave a grown ring behind (that is no change a reader can see), so the
 * append that finally succeeds can make fewer calls than were failed. */
static long append_failing_each(struct shardlog *log, uint64_t seq)
{
	struct snapshot before;
	char key[32];
	unsigned char data[DATA_MAX];
	size_t key_len = key_for(seq, key), data_len = data_for(seq, data);

	take_snapshot(log, &before);
	for (long k = 0; k < 16; k++) {
		int rc;

		failalloc_reset();
		failalloc_after(k);
		rc = shardlog_append(log, S(seq), 0, key, key_len, data, data_len);
		if (failalloc_failures() == 0) {
			/* Every allocation has failed once: now it goes through. */
			assert_int_equal(rc, 0);
			assert_true(failalloc_calls() >= 1 && failalloc_calls() <= k);
			failalloc_reset();
			check_record(shardlog_last(log), seq);
			assert_int_equal(log->count, before.count + 1);
			assert_int_equal(log->bytes, before.bytes + size_for(seq));
			check_invariants(log);
			return k;
		}
		if (rc != -1)
			fail_msg("append succeeded although allocation %ld failed", k);
		assert_int_equal(failalloc_calls(), k + 1);
		check_unchanged(log, &before);
	}
	fail_msg("append kept allocating");
	return -1;
}

static void test_alloc_failure(void **state)
{
	struct shardlog *log = *state;
	uint64_t seq = 1;
	uint64_t old;

	/* The wrapper sees our allocations (or this test means nothing). */
	failalloc_reset();
	append_seq(log, seq++, 0);
	assert_int_equal(failalloc_calls(), 2);    /* the ring and the record */
	shardlog_free(log);

	/* Into an empty log: the ring, then the record. */
	assert_int_equal(append_failing_each(log, seq++), 2);
	/* Into a log with room: only the record. */
	assert_int_equal(append_failing_each(log, seq++), 1);

	/* Into a full ring that has wrapped: growth, then the record. */
	while (log->count < 40)
		append_seq(log, seq++, 0);
	for (int i = 0; i < 30; i++)
		shardlog_drop_oldest(log);
	while (log->count < log->capacity)
		append_seq(log, seq++, 0);
	assert_true(log->head != 0);
	assert_int_equal(append_failing_each(log, seq++), 2);
	/* The grown ring has room again. */
	assert_int_equal(append_failing_each(log, seq++), 1);

	/* Still usable: reads, appends, trims. */
	{
		uint64_t pos = shardlog_position(log, SHARDLOG_TRIM_HORIZON, S(0), 0), lost;
		const struct shardlog_record *r, *prev = NULL;

		while ((r = shardlog_next(log, &pos, &lost)) != NULL) {
			assert_int_equal(lost, 0);
			if (prev)
				assert_int_equal(U(r->seq), U(prev->seq) + 1);
			check_record(r, U(r->seq));
			prev = r;
		}
		assert_non_null(prev);
		assert_int_equal(U(prev->seq), seq - 1);
	}
	old = log->count;
	for (int i = 0; i < 200; i++)
		append_seq(log, seq++, 1000);
	assert_int_equal(shardlog_trim_older(log, 1000), old);
	assert_int_equal(log->count, 200);
	/* seq 1 went with the shardlog_free: position p holds seq p + 2. */
	for (uint64_t pos = log->first; pos < shardlog_end(log); pos++)
		check_record(shardlog_at(log, pos), pos + 2);
	check_invariants(log);
}

/* failalloc_after(n) lets n calls through, fails the next one, only once. */
static void test_alloc_failure_later(void **state)
{
	struct shardlog *log = *state;

	failalloc_reset();
	failalloc_after(2);
	append_seq(log, 1, 0);          /* ring and record succeed */
	assert_int_equal(shardlog_append(log, S(2), 0, "k", 1, "d", 1), -1);
	assert_int_equal(failalloc_failures(), 1);
	assert_int_equal(log->count, 1);
	append_seq(log, 2, 0);          /* one-shot: the next try works */
	assert_int_equal(log->count, 2);
	check_all(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_read_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_position_by_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_position_by_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arrival_never_decreases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trim_older, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_oldest_empty_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_lost_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth_and_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steady_state_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_length_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_failure_later, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
