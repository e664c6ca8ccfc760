/* Unit tests for src/hub/journal.c: round trips through a reopened journal, the
 * control-plane file, torn and corrupt tails, rotation and retention, failed
 * syncs, and directories that cannot be used. Each test works in its own
 * temporary directory under /tmp. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/journal.h"
#include "journal_v1.h"
#include "util/errtext.h"
#include "util/log.h"

#define SEQ_BASE 0xf000000000000000ull
#define ARRIVAL_BASE 1700000000000ll
#define DATA_MAX_TEST 300
#define HEADER_SIZE 20
#define VERSION_NOW 2           /* the segment version written */

/* ------------------------------------------------------------------ */
/* Records: record i is a pure function of i                           */
/* ------------------------------------------------------------------ */

struct rec {
	uint64_t uid;
	uint32_t shard;
	seqno_t seq;
	int64_t arrival;
	char key[JOURNAL_KEY_MAX];
	size_t key_len;
	unsigned char data[DATA_MAX_TEST];
	size_t data_len;
};

static void make_record(size_t i, struct rec *r)
{
	r->uid = 0x8000000000000000ull + i / 1000;
	r->shard = (uint32_t)(i % 7) * 0x01010101u;
	/* Every third number as wide as Amazon Kinesis's. */
	r->seq = seqno_from_u64(SEQ_BASE + i);
	if (i % 3 == 1)
		r->seq.w[SEQNO_WORDS - 1] = 0x0123456789abcdefull;
	r->arrival = ARRIVAL_BASE + (int64_t)i * 10;
	if (i % 1000 == 999) {
		r->key_len = JOURNAL_KEY_MAX;
		memset(r->key, 'a' + (int)(i % 26), r->key_len);
	} else {
		r->key_len = (size_t)snprintf(r->key, sizeof(r->key), "racer-%zu", i);
	}
	r->data_len = (i * 37) % (DATA_MAX_TEST + 1);
	for (size_t k = 0; k < r->data_len; k++)
		r->data[k] = (unsigned char)(i * 31 + k * 7 + (k >> 3));
}

static int64_t arrival_of(size_t i)
{
	return ARRIVAL_BASE + (int64_t)i * 10;
}

static void append_one(struct journal *j, size_t i)
{
	struct rec r;

	make_record(i, &r);
	assert_int_equal(journal_append(j, r.uid, r.shard, r.seq, r.arrival, r.key, r.key_len,
					r.data, r.data_len), 0);
}

/* Appends records [from, to), syncing after every batch records. */
static void append_range(struct journal *j, size_t from, size_t to, size_t batch)
{
	for (size_t i = from; i < to; i++) {
		append_one(j, i);
		if ((i - from + 1) % batch == 0 || i + 1 == to)
			assert_int_equal(journal_sync(j), 0);
	}
}

/* What a replay delivered: the index of every record, and how many did not
 * match the record their sequence number names. */
struct got {
	size_t *idx;
	size_t n, cap;
	size_t mismatches;
	size_t stop_after;
	int stop_rc;
};

static int collect(void *user, uint64_t stream_uid, uint32_t shard, seqno_t seq,
		   int64_t arrival_ms, const char *key, size_t key_len, const void *data,
		   size_t data_len)
{
	struct got *g = user;
	struct rec want;
	size_t i;

	if (seq.w[0] < SEQ_BASE || seq.w[0] - SEQ_BASE > 100000000) {
		g->mismatches++;
		return 0;
	}
	i = (size_t)(seq.w[0] - SEQ_BASE);
	make_record(i, &want);
	if (!seqno_eq(seq, want.seq) || stream_uid != want.uid || shard != want.shard || arrival_ms != want.arrival ||
	    key_len != want.key_len || memcmp(key, want.key, key_len) != 0 ||
	    data_len != want.data_len || (data_len > 0 && memcmp(data, want.data, data_len) != 0))
		g->mismatches++;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 256;
		g->idx = realloc(g->idx, g->cap * sizeof(*g->idx));
		if (g->idx == NULL)
			abort();
	}
	g->idx[g->n++] = i;
	if (g->stop_after != 0 && g->n == g->stop_after)
		return g->stop_rc;
	return 0;
}

static void got_free(struct got *g)
{
	free(g->idx);
	memset(g, 0, sizeof(*g));
}

static void replay_ok(struct journal *j, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(journal_replay(j, collect, g), 0);
	assert_int_equal(g->mismatches, 0);
}

/* Checks that the records from *pos on are exactly [from, to), in order. */
static void expect_range(const struct got *g, size_t *pos, size_t from, size_t to)
{
	assert_true(*pos + (to - from) <= g->n);
	for (size_t i = from; i < to; i++)
		assert_int_equal(g->idx[(*pos)++], i);
}

static void expect_only(const struct got *g, size_t from, size_t to)
{
	size_t pos = 0;

	expect_range(g, &pos, from, to);
	assert_int_equal(pos, g->n);
}

/* ------------------------------------------------------------------ */
/* Files and directories                                               */
/* ------------------------------------------------------------------ */

static int warnings;
static char last_warning[1024];

static void count_sink(enum log_level level, const char *message, void *user)
{
	(void)user;
	if (level <= LOG_WARN) {
		warnings++;
		snprintf(last_warning, sizeof(last_warning), "%s", message);
	}
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	char *dir = strdup("/tmp/alleycat-journal-XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	warnings = 0;
	last_warning[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	char *dir = *state;
	int rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(dir);
	return rc;
}

static void path_in(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	assert_true(n > 0 && n < PATH_MAX);
}

static void segment_path(char *buf, const char *dir, uint64_t number)
{
	char name[64];

	snprintf(name, sizeof(name), "records-%012llu.log", (unsigned long long)number);
	path_in(buf, dir, name);
}

static int64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* How many segment files dir holds, and their bytes. */
static size_t count_segments(const char *dir, uint64_t *bytes)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	if (bytes)
		*bytes = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "records-", 8) != 0)
			continue;
		n++;
		path_in(path, dir, de->d_name);
		if (bytes)
			*bytes += (uint64_t)file_size(path);
	}
	closedir(d);
	return n;
}

static uint64_t max_segment_number(const char *dir)
{
	struct dirent *de;
	uint64_t max = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "records-", 8) == 0) {
			uint64_t n = strtoull(de->d_name + 8, NULL, 10);
			if (n > max)
				max = n;
		}
	}
	closedir(d);
	return max;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void flip_byte(const char *path, int64_t offset)
{
	unsigned char b;
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, offset), 1);
	b ^= 0xff;
	assert_int_equal(pwrite(fd, &b, 1, offset), 1);
	close(fd);
}

static struct journal *open_ok(const char *dir)
{
	char err[ERR_TEXT_MAX] = "";
	struct journal *j = journal_open(dir, err, sizeof(err));

	if (j == NULL)
		fail_msg("journal_open(%s): %s", dir, err);
	return j;
}

static struct journal_stats stats_of(const struct journal *j)
{
	struct journal_stats st;

	journal_stats(j, &st);
	return st;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static uint32_t crc32c_bitwise(const unsigned char *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static void test_crc32c(void **state)
{
	unsigned char buf[300];
	uint32_t seed = 12345;

	(void)state;
	assert_int_equal(journal_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(journal_crc32c(0, "", 0), 0);
	/* RFC 3720's vector: 32 bytes of zeros. */
	memset(buf, 0, 32);
	assert_int_equal(journal_crc32c(0, buf, 32), 0x8a9136aau);
	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	/* Every length and alignment against the bit-at-a-time definition,
	 * and in two pieces. */
	for (size_t start = 0; start < 8; start++) {
		for (size_t len = 0; start + len <= sizeof(buf); len += 1 + len / 16) {
			uint32_t want = crc32c_bitwise(buf + start, len);
			size_t half = len / 3;

			assert_int_equal(journal_crc32c(0, buf + start, len), want);
			assert_int_equal(journal_crc32c(journal_crc32c(0, buf + start, half),
							buf + start + half, len - half),
					 want);
		}
	}
}

static void test_round_trip(void **state)
{
	char dir[PATH_MAX];
	struct journal *j;
	struct got g;
	uint64_t bytes;

	path_in(dir, *state, "data/nested/dir");
	j = open_ok(dir);
	replay_ok(j, &g);
	assert_int_equal(g.n, 0);
	got_free(&g);
	append_range(j, 0, 1000, 100);
	assert_int_equal(count_segments(dir, &bytes), 1);
	assert_int_equal(journal_bytes(j), bytes);
	assert_true(bytes > 1000 * 42);
	journal_close(j);

	j = open_ok(dir);
	assert_int_equal(journal_bytes(j), bytes);
	replay_ok(j, &g);
	expect_only(&g, 0, 1000);
	got_free(&g);
	assert_int_equal(stats_of(j).records_replayed, 1000);
	assert_int_equal(stats_of(j).corrupt_tails, 0);
	/* Appends continue the same segment after a replay. */
	append_range(j, 1000, 1100, 30);
	journal_close(j);
	assert_int_equal(count_segments(dir, NULL), 1);

	j = open_ok(dir);
	replay_ok(j, &g);
	expect_only(&g, 0, 1100);
	got_free(&g);
	/* A second replay on the same journal sees the same records. */
	append_range(j, 1100, 1110, 5);
	replay_ok(j, &g);
	expect_only(&g, 0, 1110);
	got_free(&g);
	journal_close(j);
	assert_int_equal(warnings, 0);
}

static void test_replay_no_files(void **state)
{
	struct journal *j = open_ok(*state);
	struct got g;

	replay_ok(j, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(journal_bytes(j), 0);
	assert_int_equal(stats_of(j).segments, 0);
	/* A sync with nothing to write creates nothing. */
	assert_int_equal(journal_sync(j), 0);
	journal_expire(j, INT64_MAX);
	assert_int_equal(count_segments(*state, NULL), 0);
	journal_close(j);

	j = open_ok(*state);
	replay_ok(j, &g);
	assert_int_equal(g.n, 0);
	journal_close(j);
	assert_int_equal(warnings, 0);
}

static void test_replay_stops(void **state)
{
	struct journal *j = open_ok(*state);
	struct got g;

	journal_set_segment_limit(j, 512);
	append_range(j, 0, 40, 7);
	journal_close(j);
	j = open_ok(*state);
	memset(&g, 0, sizeof(g));
	g.stop_after = 25;
	g.stop_rc = 7;
	assert_int_equal(journal_replay(j, collect, &g), 7);
	assert_int_equal(g.n, 25);
	assert_int_equal(g.mismatches, 0);
	got_free(&g);
	/* Nothing was cut: a full replay still has every record. */
	replay_ok(j, &g);
	expect_only(&g, 0, 40);
	got_free(&g);
	journal_close(j);
}

static void test_meta(void **state)
{
	char path[PATH_MAX];
	struct journal *j = open_ok(*state);
	size_t big_len = 200000;
	char *big = malloc(big_len + 1), *text;

	assert_non_null(big);
	errno = 0;
	assert_null(journal_load_meta(j));
	assert_int_equal(errno, ENOENT);

	assert_int_equal(journal_save_meta(j, "{\"streams\":[]}"), 0);
	text = journal_load_meta(j);
	assert_non_null(text);
	assert_string_equal(text, "{\"streams\":[]}");
	free(text);

	/* Replacing with a longer text, then a shorter one, leaves no trace
	 * of the old. */
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	big[big_len] = '\0';
	assert_int_equal(journal_save_meta(j, big), 0);
	text = journal_load_meta(j);
	assert_non_null(text);
	assert_string_equal(text, big);
	free(text);
	assert_int_equal(journal_save_meta(j, "{\"v\":2}"), 0);
	text = journal_load_meta(j);
	assert_string_equal(text, "{\"v\":2}");
	free(text);
	journal_close(j);

	j = open_ok(*state);
	text = journal_load_meta(j);
	assert_non_null(text);
	assert_string_equal(text, "{\"v\":2}");
	free(text);
	assert_int_equal(journal_save_meta(j, ""), 0);
	text = journal_load_meta(j);
	assert_string_equal(text, "");
	free(text);
	journal_close(j);

	path_in(path, *state, "meta.json.tmp");
	assert_false(file_exists(path));
	path_in(path, *state, "meta.json");
	assert_int_equal(file_size(path), 0);
	/* Meta and records do not disturb each other. */
	j = open_ok(*state);
	struct got g;
	replay_ok(j, &g);
	assert_int_equal(g.n, 0);
	journal_close(j);
	free(big);
}

/* Writes records 0..9 to a fresh journal in dir, one sync each; returns the
 * size of the segment before and after the last record. */
static void write_ten(const char *dir, int64_t *before_last, int64_t *after_last)
{
	char seg[PATH_MAX];
	struct journal *j = open_ok(dir);

	segment_path(seg, dir, 1);
	append_range(j, 0, 9, 1);
	*before_last = file_size(seg);
	append_range(j, 9, 10, 1);
	*after_last = file_size(seg);
	assert_int_equal(journal_bytes(j), *after_last);
	journal_close(j);
}

/* A journal whose last record was damaged: replay gives 0..8, reports it,
 * cuts it off; later appends and replays work. */
static void expect_recovered(const char *dir, int64_t before_last, int64_t damaged_size)
{
	char seg[PATH_MAX];
	struct journal *j = open_ok(dir);
	struct got g;
	int warned = warnings;

	segment_path(seg, dir, 1);
	replay_ok(j, &g);
	expect_only(&g, 0, 9);
	got_free(&g);
	assert_int_equal(stats_of(j).corrupt_tails, 1);
	assert_int_equal(stats_of(j).truncated_bytes, damaged_size - before_last);
	assert_true(warnings > warned);
	assert_int_equal(file_size(seg), before_last);
	assert_int_equal(journal_bytes(j), before_last);
	append_range(j, 10, 15, 2);
	journal_close(j);

	warned = warnings;
	j = open_ok(dir);
	replay_ok(j, &g);
	{
		size_t pos = 0;
		expect_range(&g, &pos, 0, 9);
		expect_range(&g, &pos, 10, 15);
		assert_int_equal(pos, g.n);
	}
	got_free(&g);
	assert_int_equal(stats_of(j).corrupt_tails, 0);
	assert_int_equal(warnings, warned);
	journal_close(j);
	assert_int_equal(count_segments(dir, NULL), 1);
}

static void test_torn_tail(void **state)
{
	/* Cuts inside the length, inside the CRC, inside the fields, inside the
	 * data, and one byte short. */
	const int64_t cuts[] = { 1, 3, 4, 7, 8, 20, 42, -1 };

	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		char dir[PATH_MAX], name[32], seg[PATH_MAX];
		int64_t before, after, cut;

		snprintf(name, sizeof(name), "cut-%zu", c);
		path_in(dir, *state, name);
		write_ten(dir, &before, &after);
		cut = cuts[c] > 0 ? before + cuts[c] : after + cuts[c];
		assert_true(cut > before && cut < after);
		segment_path(seg, dir, 1);
		assert_int_equal(truncate(seg, cut), 0);
		expect_recovered(dir, before, cut);
	}
}

static void test_corrupt_tail(void **state)
{
	/* Offsets in the last record: length (low and high byte), CRC, stream,
	 * shard, sequence number, arrival, key length, data length, key, last
	 * data byte. */
	const int64_t offsets[] = { 0, 3, 4, 8, 16, 20, 51, 52, 60, 62, 66, -1 };

	for (size_t c = 0; c < sizeof(offsets) / sizeof(offsets[0]); c++) {
		char dir[PATH_MAX], name[32], seg[PATH_MAX];
		int64_t before, after;

		snprintf(name, sizeof(name), "flip-%zu", c);
		path_in(dir, *state, name);
		write_ten(dir, &before, &after);
		segment_path(seg, dir, 1);
		flip_byte(seg, offsets[c] >= 0 ? before + offsets[c] : after + offsets[c]);
		expect_recovered(dir, before, after);
	}
}

/* Garbage after the last record, as a crash leaves after an extending write
 * whose data never reached the disk: zeros, or stale bytes. */
static void test_garbage_tail(void **state)
{
	char dir[PATH_MAX], seg[PATH_MAX];
	unsigned char junk[5000];
	int64_t before, after;
	int fd;

	path_in(dir, *state, "zeros");
	write_ten(dir, &before, &after);
	segment_path(seg, dir, 1);
	/* Drop record 9, then add zeros in its place and beyond. */
	assert_int_equal(truncate(seg, before), 0);
	assert_int_equal(truncate(seg, before + (int64_t)sizeof(junk)), 0);
	expect_recovered(dir, before, before + (int64_t)sizeof(junk));

	path_in(dir, *state, "stale");
	write_ten(dir, &before, &after);
	segment_path(seg, dir, 1);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	fd = open(seg, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), before), (ssize_t)sizeof(junk));
	close(fd);
	expect_recovered(dir, before, before + (int64_t)sizeof(junk));
}

/* A record copied verbatim from another segment does not pass for one of
 * this segment: each has its own salt. */
static void test_foreign_record(void **state)
{
	char seg1[PATH_MAX], seg2[PATH_MAX];
	unsigned char rec[1024];
	struct journal *j = open_ok(*state);
	int64_t s1, s2, len;
	struct got g;
	int fd;

	journal_set_segment_limit(j, 1);        /* one record a segment */
	append_range(j, 0, 3, 1);
	journal_close(j);
	segment_path(seg1, *state, 1);
	segment_path(seg2, *state, 2);
	s1 = file_size(seg1);
	s2 = file_size(seg2);
	len = s1 - HEADER_SIZE;
	assert_true(len > 0 && len <= (int64_t)sizeof(rec));
	fd = open(seg1, O_RDONLY);
	assert_int_equal(pread(fd, rec, (size_t)len, HEADER_SIZE), len);
	close(fd);
	fd = open(seg2, O_WRONLY);
	assert_int_equal(pwrite(fd, rec, (size_t)len, s2), len);
	close(fd);

	j = open_ok(*state);
	replay_ok(j, &g);
	expect_only(&g, 0, 3);
	got_free(&g);
	assert_int_equal(stats_of(j).corrupt_tails, 1);
	journal_close(j);
}

static void test_corrupt_earlier_segment(void **state)
{
	char seg[PATH_MAX];
	struct journal *j = open_ok(*state);
	size_t segments;
	int64_t size;
	struct got g;

	journal_set_segment_limit(j, 1024);
	append_range(j, 0, 60, 5);
	journal_close(j);
	segments = count_segments(*state, NULL);
	assert_true(segments >= 3);
	segment_path(seg, *state, 1);
	size = file_size(seg);
	flip_byte(seg, size - 1);

	j = open_ok(*state);
	replay_ok(j, &g);
	/* Only the damaged record is missing; replay went on with the next
	 * segments. */
	assert_int_equal(g.n, 59);
	for (size_t i = 1; i < g.n; i++)
		assert_true(g.idx[i] > g.idx[i - 1]);
	assert_int_equal(g.idx[g.n - 1], 59);
	got_free(&g);
	assert_int_equal(stats_of(j).corrupt_tails, 1);
	assert_true(warnings > 0);
	/* An earlier segment is left as it is. */
	assert_int_equal(file_size(seg), size);
	append_range(j, 60, 70, 5);
	journal_close(j);

	j = open_ok(*state);
	replay_ok(j, &g);
	assert_int_equal(g.n, 69);
	assert_int_equal(g.idx[g.n - 1], 69);
	for (size_t i = 1; i < g.n; i++)
		assert_true(g.idx[i] > g.idx[i - 1]);
	got_free(&g);
	journal_close(j);
}

static void test_rotation_and_expire(void **state)
{
	enum { N = 200, CUT = 101, LIMIT = 1024 };
	size_t seg_of[N], first_kept, later_cut;
	char seg[PATH_MAX];
	struct journal *j = open_ok(*state);
	uint64_t bytes, newest;
	size_t files;
	struct got g;

	journal_set_segment_limit(j, LIMIT);
	/* One sync per record, so the files say which segment holds which. */
	for (size_t i = 0; i < N; i++) {
		append_range(j, i, i + 1, 1);
		seg_of[i] = count_segments(*state, NULL);
	}
	files = count_segments(*state, &bytes);
	assert_true(files > 5);
	assert_int_equal(seg_of[N - 1], files);
	assert_int_equal(journal_bytes(j), bytes);
	assert_int_equal(stats_of(j).segments, files);
	for (uint64_t n = 1; n <= files; n++) {
		segment_path(seg, *state, n);
		assert_true(file_size(seg) > HEADER_SIZE);
		assert_true(file_size(seg) <= LIMIT);
	}

	/* Segments whose newest record is older than record CUT go, the
	 * segment holding CUT stays, whole. */
	first_kept = CUT;
	while (first_kept > 0 && seg_of[first_kept - 1] == seg_of[CUT])
		first_kept--;
	assert_true(first_kept > 0 && first_kept < CUT);
	journal_expire(j, arrival_of(CUT));
	assert_int_equal(count_segments(*state, &bytes), files - (seg_of[CUT] - 1));
	assert_int_equal(journal_bytes(j), bytes);
	assert_int_equal(stats_of(j).expired_segments, seg_of[CUT] - 1);
	segment_path(seg, *state, seg_of[CUT] - 1);
	assert_false(file_exists(seg));
	segment_path(seg, *state, seg_of[CUT]);
	assert_true(file_exists(seg));
	append_range(j, N, N + 10, 5);
	journal_close(j);

	/* Before a replay arrival times are unknown: nothing is deleted. */
	j = open_ok(*state);
	files = count_segments(*state, NULL);
	journal_expire(j, INT64_MAX);
	assert_int_equal(count_segments(*state, NULL), files);
	replay_ok(j, &g);
	expect_only(&g, first_kept, N + 10);
	got_free(&g);

	/* After it they are known. */
	later_cut = 150;
	while (later_cut > 0 && seg_of[later_cut - 1] == seg_of[150])
		later_cut--;
	journal_expire(j, arrival_of(150));
	replay_ok(j, &g);
	expect_only(&g, later_cut, N + 10);
	got_free(&g);

	/* Everything expires, the segment being appended to included; appends
	 * go on in a new one. */
	newest = max_segment_number(*state);
	journal_expire(j, INT64_MAX);
	assert_int_equal(count_segments(*state, NULL), 0);
	assert_int_equal(journal_bytes(j), 0);
	append_range(j, 300, 305, 5);
	journal_close(j);
	assert_int_equal(count_segments(*state, NULL), 1);
	assert_true(max_segment_number(*state) > newest);       /* numbers never go back */
	j = open_ok(*state);
	replay_ok(j, &g);
	expect_only(&g, 300, 305);
	got_free(&g);
	journal_close(j);
	assert_int_equal(warnings, 0);
}

static void test_big_records(void **state)
{
	char key[JOURNAL_KEY_MAX + 1];
	unsigned char *data = malloc(JOURNAL_DATA_MAX + 1);
	struct journal *j = open_ok(*state);
	struct got g;

	assert_non_null(data);
	memset(key, 'k', sizeof(key));
	for (size_t i = 0; i <= JOURNAL_DATA_MAX; i++)
		data[i] = (unsigned char)(i * 13);
	errno = 0;
	assert_int_equal(journal_append(j, 1, 0, seqno_from_u64(1), 0, key, JOURNAL_KEY_MAX + 1,
					data, 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(journal_append(j, 1, 0, seqno_from_u64(1), 0, key, 1, data,
					JOURNAL_DATA_MAX + 1), -1);
	assert_int_equal(errno, EINVAL);
	/* A record over the segment limit gets a segment of its own. */
	journal_set_segment_limit(j, 4096);
	append_range(j, 0, 3, 3);
	assert_int_equal(journal_append(j, 7, 1, seqno_from_u64(SEQ_BASE - 1), 5, key,
					JOURNAL_KEY_MAX, data, JOURNAL_DATA_MAX), 0);
	assert_int_equal(journal_append(j, 7, 1, seqno_from_u64(SEQ_BASE - 2), 5, NULL, 0, NULL, 0),
			 0);
	append_range(j, 3, 6, 3);
	journal_close(j);
	assert_int_equal(count_segments(*state, NULL), 3);

	j = open_ok(*state);
	memset(&g, 0, sizeof(g));
	assert_int_equal(journal_replay(j, collect, &g), 0);
	/* The two records outside the scheme count as mismatches, in place. */
	assert_int_equal(g.n, 6);
	assert_int_equal(g.mismatches, 2);
	got_free(&g);
	journal_close(j);
	free(data);
}

struct big_check {
	size_t calls;
	size_t ok;
};

static int check_big(void *user, uint64_t stream_uid, uint32_t shard, seqno_t seq,
		     int64_t arrival_ms, const char *key, size_t key_len, const void *data,
		     size_t data_len)
{
	struct big_check *c = user;
	const unsigned char *d = data;
	bool good = stream_uid == 7 && shard == 1 && seqno_eq(seq, seqno_from_u64(1)) && arrival_ms == -5 &&
		    key_len == JOURNAL_KEY_MAX && data_len == JOURNAL_DATA_MAX;

	for (size_t i = 0; good && i < key_len; i++)
		good = key[i] == 'k';
	for (size_t i = 0; good && i < data_len; i++)
		good = d[i] == (unsigned char)(i * 13);
	c->calls++;
	c->ok += good;
	return 0;
}

static void test_max_record(void **state)
{
	char key[JOURNAL_KEY_MAX];
	unsigned char *data = malloc(JOURNAL_DATA_MAX);
	struct journal *j = open_ok(*state);
	struct big_check c = { 0, 0 };

	assert_non_null(data);
	memset(key, 'k', sizeof(key));
	for (size_t i = 0; i < JOURNAL_DATA_MAX; i++)
		data[i] = (unsigned char)(i * 13);
	assert_int_equal(journal_append(j, 7, 1, seqno_from_u64(1), -5, key, sizeof(key), data,
					JOURNAL_DATA_MAX), 0);
	assert_int_equal(journal_sync(j), 0);
	journal_close(j);
	j = open_ok(*state);
	assert_int_equal(journal_replay(j, check_big, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.ok, 1);
	journal_close(j);
	free(data);
}

static void test_many_records(void **state)
{
	enum { N = 100000 };
	struct journal *j = open_ok(*state);
	struct got g;

	journal_set_segment_limit(j, 4u << 20);
	append_range(j, 0, N, 500);
	journal_close(j);
	assert_true(count_segments(*state, NULL) > 1);
	j = open_ok(*state);
	replay_ok(j, &g);
	expect_only(&g, 0, N);
	got_free(&g);
	assert_int_equal(stats_of(j).corrupt_tails, 0);
	journal_close(j);
}

static void test_unsynced_not_kept(void **state)
{
	struct journal *j = open_ok(*state);
	struct got g;

	append_range(j, 0, 5, 5);
	append_one(j, 5);
	append_one(j, 6);
	journal_close(j);
	j = open_ok(*state);
	replay_ok(j, &g);
	expect_only(&g, 0, 5);
	got_free(&g);
	journal_close(j);
}

/* Appends without a replay first go to a new segment after the others. */
static void test_append_without_replay(void **state)
{
	struct journal *j = open_ok(*state);
	struct got g;

	append_range(j, 0, 10, 4);
	journal_close(j);
	j = open_ok(*state);
	append_range(j, 10, 20, 4);
	journal_close(j);
	assert_int_equal(count_segments(*state, NULL), 2);
	j = open_ok(*state);
	replay_ok(j, &g);
	expect_only(&g, 0, 20);
	got_free(&g);
	journal_close(j);
}

static void test_cannot_create(void **state)
{
	char file[PATH_MAX], dir[PATH_MAX], err[ERR_TEXT_MAX];

	path_in(file, *state, "plain-file");
	write_file(file, "x", 1);
	path_in(dir, file, "sub");
	err[0] = '\0';
	assert_null(journal_open(dir, err, sizeof(err)));
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "cannot create"));

	err[0] = '\0';
	assert_null(journal_open(file, err, sizeof(err)));
	assert_non_null(strstr(err, file));

	err[0] = '\0';
	assert_null(journal_open("", err, sizeof(err)));
	assert_true(strlen(err) > 0);
	/* No room for a message is not a crash. */
	assert_null(journal_open(dir, NULL, 0));
}

static void test_locked(void **state)
{
	char err[ERR_TEXT_MAX] = "";
	struct journal *j = open_ok(*state);

	assert_null(journal_open(*state, err, sizeof(err)));
	assert_non_null(strstr(err, "in use"));
	journal_close(j);
	j = open_ok(*state);
	journal_close(j);
}

static void make_header(unsigned char h[HEADER_SIZE], uint32_t version)
{
	journal_v1_header(h, version);
}

static void test_bad_segments(void **state)
{
	char path[PATH_MAX], bad[PATH_MAX], err[ERR_TEXT_MAX] = "";
	unsigned char h[HEADER_SIZE], garbage[100];
	struct journal *j = open_ok(*state);
	struct got g;

	append_range(j, 0, 10, 10);
	journal_close(j);
	/* 3: cut short while being created; 4: its header never reached the
	 * disk; 5: not a segment at all. */
	segment_path(path, *state, 3);
	write_file(path, "ALLEY", 5);
	segment_path(path, *state, 4);
	memset(h, 0, sizeof(h));
	write_file(path, h, sizeof(h));
	segment_path(bad, *state, 5);
	memset(garbage, 'g', sizeof(garbage));
	write_file(bad, garbage, sizeof(garbage));

	j = open_ok(*state);
	assert_int_equal(stats_of(j).bad_segments, 1);
	assert_int_equal(stats_of(j).corrupt_tails, 2);
	segment_path(path, *state, 3);
	assert_false(file_exists(path));
	segment_path(path, *state, 4);
	assert_false(file_exists(path));
	replay_ok(j, &g);
	expect_only(&g, 0, 10);
	got_free(&g);
	append_range(j, 10, 20, 10);
	journal_close(j);
	segment_path(path, *state, 6);
	assert_true(file_exists(path));
	assert_int_equal(file_size(bad), sizeof(garbage));

	j = open_ok(*state);
	replay_ok(j, &g);
	expect_only(&g, 0, 20);
	got_free(&g);
	journal_close(j);

	/* A segment from a newer version is not touched: open fails. */
	make_header(h, VERSION_NOW + 1);
	segment_path(path, *state, 9);
	write_file(path, h, sizeof(h));
	assert_null(journal_open(*state, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(file_size(path), HEADER_SIZE);
	/* The same header with our version is an empty segment, where
	 * appends continue. */
	make_header(h, VERSION_NOW);
	write_file(path, h, sizeof(h));
	j = open_ok(*state);
	replay_ok(j, &g);
	expect_only(&g, 0, 20);
	got_free(&g);
	append_range(j, 20, 25, 5);
	assert_true(file_size(path) > HEADER_SIZE);
	journal_expire(j, INT64_MAX);
	assert_true(file_exists(bad));  /* never ours to delete */
	assert_int_equal(count_segments(*state, NULL), 1);
	journal_close(j);
}

/* Record i framed as version 1 wrote it, with a u64 sequence number, into
 * buf; returns its size. */
static size_t v1_record(unsigned char *buf, size_t i)
{
	struct rec r;

	make_record(i, &r);
	assert_true(seqno_fits_u64(r.seq));
	return journal_v1_record(buf, r.uid, r.shard, r.seq.w[0], r.arrival, r.key, r.key_len,
				 r.data, r.data_len);
}

/* A data directory of the version before wide sequence numbers: its
 * segment is read, and new records go to a segment of the new version
 * rather than being appended to it. */
static void test_version1_segment(void **state)
{
	static const size_t old[] = { 0, 3, 6, 9 };
	unsigned char buf[HEADER_SIZE + 4 * (42 + JOURNAL_KEY_MAX + DATA_MAX_TEST)];
	char path[PATH_MAX];
	size_t len = HEADER_SIZE;
	struct journal *j;
	struct got g;

	make_header(buf, 1);
	for (size_t k = 0; k < 4; k++)
		len += v1_record(buf + len, old[k]);
	segment_path(path, *state, 1);
	write_file(path, buf, len);

	j = open_ok(*state);
	replay_ok(j, &g);
	assert_int_equal(g.n, 4);
	for (size_t k = 0; k < 4; k++)
		assert_int_equal(g.idx[k], old[k]);
	got_free(&g);
	append_range(j, 10, 13, 3);     /* 10 has a wide number */
	journal_close(j);
	assert_int_equal(file_size(path), (int64_t)len);
	assert_int_equal(count_segments(*state, NULL), 2);

	j = open_ok(*state);
	replay_ok(j, &g);
	assert_int_equal(g.n, 7);
	assert_int_equal(g.idx[3], 9);
	assert_int_equal(g.idx[4], 10);
	assert_int_equal(g.idx[6], 12);
	got_free(&g);
	journal_close(j);
}

/* A write that fails part way leaves nothing a replay could trip over, and
 * later syncs still make their records durable. The file size limit makes
 * write(2) fail with EFBIG after a partial write. */
static void test_sync_failure(void **state)
{
	char seg[PATH_MAX], dir[PATH_MAX];
	struct rlimit old, lim;
	void (*old_handler)(int);
	struct journal *j = open_ok(*state);
	int64_t size;
	struct got g;
	int rc, e;

	if (getrlimit(RLIMIT_FSIZE, &old) != 0 || old.rlim_cur != RLIM_INFINITY)
		skip();
	append_range(j, 0, 10, 10);
	segment_path(seg, *state, 1);
	size = file_size(seg);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (size_t i = 10; i < 20; i++)
		append_one(j, i);
	rc = journal_sync(j);
	e = errno;
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rc, -1);
	assert_int_equal(e, EFBIG);
	assert_int_equal(stats_of(j).sync_failures, 1);
	assert_int_equal(file_size(seg), size);         /* cut back */
	append_range(j, 20, 30, 5);
	journal_close(j);
	assert_int_equal(count_segments(*state, NULL), 2);

	j = open_ok(*state);
	replay_ok(j, &g);
	{
		size_t pos = 0;
		expect_range(&g, &pos, 0, 10);
		expect_range(&g, &pos, 20, 30);
		assert_int_equal(pos, g.n);
	}
	got_free(&g);
	assert_int_equal(stats_of(j).corrupt_tails, 0);
	journal_close(j);

	/* Creating a segment fails: no file is left behind. */
	path_in(dir, *state, "create");
	j = open_ok(dir);
	for (size_t i = 0; i < 5; i++)
		append_one(j, i);
	lim.rlim_cur = 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = journal_sync(j);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rc, -1);
	assert_int_equal(count_segments(dir, NULL), 0);
	append_range(j, 5, 10, 5);
	journal_close(j);
	signal(SIGXFSZ, old_handler);
	j = open_ok(dir);
	replay_ok(j, &g);
	expect_only(&g, 5, 10);
	got_free(&g);
	assert_int_equal(stats_of(j).corrupt_tails, 0);
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_no_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_earlier_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_and_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsynced_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_without_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cannot_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version1_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_failure, setup, teardown),
	};

	log_set_sink(count_sink, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
