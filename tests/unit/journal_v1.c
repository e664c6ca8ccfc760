#include "config.h"
#include "journal_v1.h"

#include <string.h>

#include "hub/journal.h"

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void journal_v1_header(unsigned char h[JOURNAL_V1_HEADER], uint32_t version)
{
	memcpy(h, "ALLEYJNL", 8);
	put_le(h + 8, version, 4);
	put_le(h + 12, JOURNAL_V1_SALT, 4);
	put_le(h + 16, journal_crc32c(0, h, 16), 4);
}

size_t journal_v1_record(unsigned char *buf, uint64_t uid, uint32_t shard, uint64_t seq,
			 int64_t arrival_ms, const char *key, size_t key_len, const void *data,
			 size_t data_len)
{
	size_t len = JOURNAL_V1_FIXED - 8 + key_len + data_len;
	uint32_t crc;

	put_le(buf, len, 4);
	put_le(buf + 8, uid, 8);
	put_le(buf + 16, shard, 4);
	put_le(buf + 20, seq, 8);
	put_le(buf + 28, (uint64_t)arrival_ms, 8);
	put_le(buf + 36, key_len, 2);
	put_le(buf + 38, data_len, 4);
	memcpy(buf + JOURNAL_V1_FIXED, key, key_len);
	memcpy(buf + JOURNAL_V1_FIXED + key_len, data, data_len);
	/* The CRC covers the length and what follows the CRC. */
	crc = journal_crc32c(JOURNAL_V1_SALT, buf, 4);
	put_le(buf + 4, journal_crc32c(crc, buf + 8, len), 4);
	return 8 + len;
}
