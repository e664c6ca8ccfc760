/* Unit tests for src/wire/hashkey.c, mostly against the vector files in
 * tests/vectors (computed independently of this code). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/hashkey.h"

#define MAX_FIELDS 8
#define LINE_MAX_LEN 2048

/* 2^128 - 1 and 2^128 in decimal. */
#define MAX_TEXT "340282366920938463463374607431768211455"
#define OVER_TEXT "340282366920938463463374607431768211456"

/* Opens tests/vectors/NAME under $top_srcdir (default "."): fails the test
 * when it cannot. */
static FILE *open_vectors(const char *name, char *path, size_t path_size)
{
	const char *top = getenv("top_srcdir");
	FILE *f;

	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(path, path_size, "%s/tests/vectors/%s", top, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open vector file %s (set top_srcdir to the source tree)", path);
	return f;
}

/* Reads the next data line, skipping comments and blank lines, and splits it
 * at tabs. Returns the number of fields, 0 at the end of the file. */
static int next_row(FILE *f, const char *path, int *lineno, char *line, char *fields[])
{
	while (fgets(line, LINE_MAX_LEN, f) != NULL) {
		size_t len = strlen(line);
		int n = 0;

		(*lineno)++;
		if (len > 0 && line[len - 1] != '\n' && !feof(f))
			fail_msg("%s:%d: line too long", path, *lineno);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[0] == '#' || len == 0)
			continue;
		fields[n++] = line;
		for (char *p = line; *p; p++) {
			if (*p != '\t')
				continue;
			*p = '\0';
			if (n == MAX_FIELDS)
				fail_msg("%s:%d: too many fields", path, *lineno);
			fields[n++] = p + 1;
		}
		return n;
	}
	return 0;
}

static hashkey_t parse_ok(const char *text, const char *path, int lineno)
{
	hashkey_t key = 0;
	const char *reason = NULL;

	if (hashkey_parse(text, &key, &reason) != 0)
		fail_msg("%s:%d: \"%s\" does not parse: %s", path, lineno, text, reason);
	return key;
}

static size_t parse_size(const char *text, const char *path, int lineno)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (end == text || *end != '\0')
		fail_msg("%s:%d: \"%s\" is not a number", path, lineno, text);
	return (size_t)v;
}

static void expect_format(hashkey_t key, const char *want, const char *path, int lineno)
{
	char buf[HASHKEY_TEXT_MAX];

	hashkey_format(key, buf);
	if (strcmp(buf, want) != 0)
		fail_msg("%s:%d: formats as %s, expected %s", path, lineno, buf, want);
}

static void test_partition_key_vectors(void **state)
{
	char path[4096], line[LINE_MAX_LEN], *fields[MAX_FIELDS];
	int lineno = 0, rows = 0, n;
	FILE *f = open_vectors("hashkeys.tsv", path, sizeof(path));

	while ((n = next_row(f, path, &lineno, line, fields)) > 0) {
		const char *key_text = fields[0], *hash_text = fields[1];
		hashkey_t want, got;
		char *indexes, *save = NULL, *tok;
		size_t count = 0;

		if (n != 3)
			fail_msg("%s:%d: %d fields, expected 3", path, lineno, n);
		want = parse_ok(hash_text, path, lineno);
		got = hashkey_of_partition_key(key_text, strlen(key_text));
		if (got != want) {
			char buf[HASHKEY_TEXT_MAX];

			hashkey_format(got, buf);
			fail_msg("%s:%d: key \"%s\" hashes to %s, expected %s", path, lineno,
				 key_text, buf, hash_text);
		}
		expect_format(got, hash_text, path, lineno);

		indexes = fields[2];
		for (tok = strtok_r(indexes, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			size_t shard = parse_size(tok, path, lineno);

			count++;
			if (hashkey_shard_index(got, count) != shard)
				fail_msg("%s:%d: key \"%s\" with N=%zu is in shard %zu, expected %zu",
					 path, lineno, key_text, count,
					 hashkey_shard_index(got, count), shard);
			/* The index agrees with the ranges. */
			assert_true(hashkey_shard_start(shard, count) <= got);
			assert_true(got <= hashkey_shard_end(shard, count));
		}
		if (count != 8)
			fail_msg("%s:%d: %zu shard indexes, expected 8 (N=1..8)", path, lineno, count);
		rows++;
	}
	fclose(f);
	if (rows == 0)
		fail_msg("%s: no vectors", path);
}

static void test_shard_range_vectors(void **state)
{
	char path[4096], line[LINE_MAX_LEN], *fields[MAX_FIELDS];
	int lineno = 0, rows = 0, n;
	FILE *f = open_vectors("shard_ranges.tsv", path, sizeof(path));

	while ((n = next_row(f, path, &lineno, line, fields)) > 0) {
		size_t count, index;
		hashkey_t start, end;

		if (n != 4)
			fail_msg("%s:%d: %d fields, expected 4", path, lineno, n);
		count = parse_size(fields[0], path, lineno);
		index = parse_size(fields[1], path, lineno);
		start = parse_ok(fields[2], path, lineno);
		end = parse_ok(fields[3], path, lineno);
		if (hashkey_shard_start(index, count) != start)
			fail_msg("%s:%d: wrong start of shard %zu of %zu", path, lineno, index, count);
		if (hashkey_shard_end(index, count) != end)
			fail_msg("%s:%d: wrong end of shard %zu of %zu", path, lineno, index, count);
		expect_format(hashkey_shard_start(index, count), fields[2], path, lineno);
		expect_format(hashkey_shard_end(index, count), fields[3], path, lineno);
		/* Both ends, and their neighbours outside, land where they should. */
		assert_int_equal(hashkey_shard_index(start, count), index);
		assert_int_equal(hashkey_shard_index(end, count), index);
		if (index > 0)
			assert_int_equal(hashkey_shard_index(start - 1, count), index - 1);
		if (index + 1 < count)
			assert_int_equal(hashkey_shard_index(end + 1, count), index + 1);
		rows++;
	}
	fclose(f);
	if (rows == 0)
		fail_msg("%s: no vectors", path);
}

/* For every split, the ranges are contiguous and cover the whole space. */
static void test_shard_ranges_cover_space(void **state)
{
	for (size_t count = 1; count <= 64; count++) {
		assert_true(hashkey_shard_start(0, count) == 0);
		assert_true(hashkey_shard_end(count - 1, count) == HASHKEY_MAX);
		for (size_t i = 0; i < count; i++) {
			hashkey_t start = hashkey_shard_start(i, count);
			hashkey_t end = hashkey_shard_end(i, count);

			assert_true(start < end);
			if (i + 1 < count)
				assert_true(hashkey_shard_start(i + 1, count) == end + 1);
			assert_int_equal(hashkey_shard_index(start, count), i);
			assert_int_equal(hashkey_shard_index(end, count), i);
			assert_int_equal(hashkey_shard_index(start + (end - start) / 2, count), i);
		}
	}
	assert_int_equal(hashkey_shard_index(HASHKEY_MAX, 1), 0);
	assert_int_equal(hashkey_shard_index(0, 1), 0);
}

static void expect_parse(const char *text, hashkey_t want)
{
	hashkey_t got = 0;
	const char *reason = NULL;

	if (hashkey_parse(text, &got, &reason) != 0)
		fail_msg("\"%s\" rejected: %s", text, reason);
	assert_true(got == want);
}

static void expect_parse_fails(const char *text)
{
	hashkey_t got = 12345;
	const char *reason = NULL;

	if (hashkey_parse(text, &got, &reason) != -1)
		fail_msg("\"%s\" accepted", text);
	assert_non_null(reason);
	assert_true(strlen(reason) > 0);
	/* The output is left alone on failure. */
	assert_true(got == 12345);
}

static void test_parse_boundaries(void **state)
{
	expect_parse("0", 0);
	expect_parse("1", 1);
	expect_parse("9", 9);
	expect_parse("10", 10);
	expect_parse("18446744073709551616", (hashkey_t)1 << 64);
	expect_parse(MAX_TEXT, HASHKEY_MAX);
	expect_parse("340282366920938463463374607431768211454", HASHKEY_MAX - 1);

	expect_parse_fails(OVER_TEXT);
	expect_parse_fails("340282366920938463463374607431768211460");
	expect_parse_fails("999999999999999999999999999999999999999");
	expect_parse_fails("-1");
	expect_parse_fails("+1");
	expect_parse_fails("");
	expect_parse_fails("01");
	expect_parse_fails("00");
	expect_parse_fails("12a");
	expect_parse_fails("a12");
	expect_parse_fails(" 12");
	expect_parse_fails("12 ");
	expect_parse_fails("1.0");
	expect_parse_fails("1e3");
	/* The neighbours of '0' and '9'. */
	expect_parse_fails("/");
	expect_parse_fails(":");
	expect_parse_fails("1:");
	expect_parse_fails("1/");
	/* 40 digits: beyond 2^128-1 whatever they are. */
	expect_parse_fails("1000000000000000000000000000000000000000");
	expect_parse_fails("3402823669209384634633746074317682114550");
	expect_parse_fails("9999999999999999999999999999999999999999");
	expect_parse_fails("0000000000000000000000000000000000000001");
}

static void test_parse_reasons_differ(void **state)
{
	hashkey_t key;
	const char *empty = NULL, *lead = NULL, *digit = NULL, *big = NULL;

	assert_int_equal(hashkey_parse("", &key, &empty), -1);
	assert_int_equal(hashkey_parse("01", &key, &lead), -1);
	assert_int_equal(hashkey_parse("12a", &key, &digit), -1);
	assert_int_equal(hashkey_parse(OVER_TEXT, &key, &big), -1);
	/* Each problem is named for what it is. */
	assert_string_not_equal(empty, lead);
	assert_string_not_equal(empty, digit);
	assert_string_not_equal(empty, big);
	assert_string_not_equal(lead, digit);
	assert_string_not_equal(lead, big);
	assert_string_not_equal(digit, big);
}

static void round_trip(hashkey_t key)
{
	char buf[HASHKEY_TEXT_MAX];
	hashkey_t back = 0;
	const char *reason = NULL;

	hashkey_format(key, buf);
	assert_true(strlen(buf) >= 1 && strlen(buf) <= HASHKEY_TEXT_MAX - 1);
	if (hashkey_parse(buf, &back, &reason) != 0)
		fail_msg("formatted key \"%s\" does not parse: %s", buf, reason);
	assert_true(back == key);
}

static void test_format_round_trip(void **state)
{
	char buf[HASHKEY_TEXT_MAX];
	hashkey_t key = 1;

	hashkey_format(0, buf);
	assert_string_equal(buf, "0");
	hashkey_format(HASHKEY_MAX, buf);
	assert_string_equal(buf, MAX_TEXT);
	hashkey_format(1000, buf);
	assert_string_equal(buf, "1000");
	hashkey_format(~(hashkey_t)0 >> 64, buf);
	assert_string_equal(buf, "18446744073709551615");

	round_trip(0);
	round_trip(HASHKEY_MAX);
	round_trip(HASHKEY_MAX - 1);
	for (int i = 0; i < 128; i++) {
		round_trip((hashkey_t)1 << i);
		round_trip(((hashkey_t)1 << i) - 1);
	}
	/* Powers of ten and their neighbours: every length of 1..39 digits. */
	for (int i = 0; i < 39; i++) {
		round_trip(key);
		round_trip(key - 1);
		round_trip(key + 1);
		key *= 10;
	}
	for (int i = 0; i < 1000; i++)
		round_trip(hashkey_of_partition_key((const char *)&i, sizeof(i)));
}

static void test_partition_key_hashing(void **state)
{
	char key[257];
	hashkey_t a, b;

	/* MD5("") = d41d8cd98f00b204e9800998ecf8427e. */
	a = hashkey_of_partition_key("", 0);
	assert_true(a >> 64 == 0xd41d8cd98f00b204ull);
	assert_true((unsigned long long)a == 0xe9800998ecf8427eull);
	/* MD5("abc") = 900150983cd24fb0d6963f7d28e17f72. */
	a = hashkey_of_partition_key("abc", 3);
	assert_true(a >> 64 == 0x900150983cd24fb0ull);
	assert_true((unsigned long long)a == 0xd6963f7d28e17f72ull);
	/* Only the len bytes count. */
	assert_true(hashkey_of_partition_key("abcdef", 3) == a);

	/* The longest partition key, 256 characters, hashes like any other. */
	memset(key, 'x', 256);
	key[256] = '\0';
	a = hashkey_of_partition_key(key, 256);
	b = hashkey_of_partition_key(key, 256);
	assert_true(a == b);
	assert_true(a != hashkey_of_partition_key(key, 255));
	key[255] = 'y';
	assert_true(a != hashkey_of_partition_key(key, 256));
	/* MD5 of 256 'x' characters, as computed by Python's hashlib. */
	expect_format(a, "265353499944959180620795534685136097465", "256 x", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partition_key_vectors),
		cmocka_unit_test(test_shard_range_vectors),
		cmocka_unit_test(test_shard_ranges_cover_space),
		cmocka_unit_test(test_parse_boundaries),
		cmocka_unit_test(test_parse_reasons_differ),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_partition_key_hashing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
