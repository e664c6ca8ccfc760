#include "config.h"
#include "wire/hashkey.h"

#include <openssl/evp.h>
#include <string.h>

hashkey_t hashkey_of_partition_key(const char *key, size_t len)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	hashkey_t value = 0;

	/* MD5 cannot fail on a valid context; a failure here means a broken
	 * libcrypto, and the zeroed digest still gives a valid shard. */
	if (!EVP_Digest(key, len, digest, &digest_len, EVP_md5(), NULL))
		memset(digest, 0, sizeof(digest));
	for (int i = 0; i < 16; i++)
		value = (value << 8) | digest[i];
	return value;
}

int hashkey_parse(const char *text, hashkey_t *out, const char **reason)
{
	hashkey_t value = 0;
	size_t len = strlen(text);

	if (len == 0) {
		*reason = "must not be empty";
		return -1;
	}
	if (len > 1 && text[0] == '0') {
		*reason = "must not have leading zeros";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9') {
			*reason = "must be a decimal integer";
			return -1;
		}
		unsigned digit = (unsigned)(text[i] - '0');
		if (value > (HASHKEY_MAX - digit) / 10) {
			*reason = "must be at most 2^128-1";
			return -1;
		}
		value = value * 10 + digit;
	}
	*out = value;
	return 0;
}

void hashkey_format(hashkey_t key, char buf[HASHKEY_TEXT_MAX])
{
	char tmp[HASHKEY_TEXT_MAX];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + (int)(key % 10));
		key /= 10;
	} while (key != 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

/* floor(2^128 / count), computed without a 129-bit intermediate. */
static hashkey_t shard_step(size_t count)
{
	hashkey_t c = count;
	hashkey_t step = HASHKEY_MAX / c;

	/* 2^128 = HASHKEY_MAX + 1: the quotient grows by one exactly when
	 * the remainder of HASHKEY_MAX wraps to count - 1. */
	if (HASHKEY_MAX % c == c - 1)
		step++;
	return step;
}

hashkey_t hashkey_shard_start(size_t index, size_t count)
{
	return count <= 1 ? 0 : shard_step(count) * index;
}

hashkey_t hashkey_shard_end(size_t index, size_t count)
{
	if (index + 1 >= count)
		return HASHKEY_MAX;
	return hashkey_shard_start(index + 1, count) - 1;
}

size_t hashkey_shard_index(hashkey_t key, size_t count)
{
	if (count <= 1)
		return 0;
	hashkey_t index = key / shard_step(count);
	return index >= count ? count - 1 : (size_t)index;
}
