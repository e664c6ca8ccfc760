/* KPL aggregates (kpl.h): a protobuf reader of the three fields that
 * matter, in two passes over the message: the first checks every field and
 * collects the partition key table, the second hands the records out, so
 * that a bad aggregate hands out nothing. */
#include "config.h"
#include "wire/kpl.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t magic[KPL_MAGIC_LEN] = { 0xF3, 0x89, 0x9A, 0xC2 };

enum { WIRE_VARINT = 0, WIRE_64 = 1, WIRE_BYTES = 2, WIRE_32 = 5 };

struct span {
	const uint8_t *p;
	size_t len;
};

struct reader {
	const uint8_t *p, *end;
};

static int varint(struct reader *r, uint64_t *out)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* One field: its number and wire type, and its value (a varint in *num,
 * bytes in *bytes; fixed-width values are passed over). */
static int field(struct reader *r, uint64_t *number, int *type, uint64_t *num, struct span *bytes)
{
	uint64_t key, len;

	if (varint(r, &key) < 0)
		return -1;
	*number = key >> 3;
	*type = (int)(key & 7);
	switch (*type) {
	case WIRE_VARINT:
		return varint(r, num);
	case WIRE_BYTES:
		if (varint(r, &len) < 0 || len > (uint64_t)(r->end - r->p))
			return -1;
		*bytes = (struct span){ r->p, (size_t)len };
		r->p += len;
		return 0;
	case WIRE_64:
	case WIRE_32:
		len = *type == WIRE_64 ? 8 : 4;
		if (len > (uint64_t)(r->end - r->p))
			return -1;
		r->p += len;
		return 0;
	default:
		return -1;      /* groups are not in this message */
	}
}

/* A Record: its key index and data. -1 when it does not parse or lacks
 * either. */
static int record(struct span in, uint64_t *key_index, struct span *data)
{
	struct reader r = { in.p, in.p + in.len };
	bool has_key = false, has_data = false;

	while (r.p < r.end) {
		uint64_t number, num = 0;
		struct span bytes = { NULL, 0 };
		int type;

		if (field(&r, &number, &type, &num, &bytes) < 0)
			return -1;
		if (number == 1 && type == WIRE_VARINT) {
			*key_index = num;
			has_key = true;
		} else if (number == 3 && type == WIRE_BYTES) {
			*data = bytes;
			has_data = true;
		}
	}
	return has_key && has_data ? 0 : -1;
}

bool kpl_is_aggregate(const void *data, size_t len)
{
	return len >= KPL_MAGIC_LEN + KPL_MD5_LEN && memcmp(data, magic, KPL_MAGIC_LEN) == 0;
}

static bool md5_matches(const uint8_t *msg, size_t len, const uint8_t *want)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	return EVP_Digest(msg, len, digest, &n, EVP_md5(), NULL) == 1 && n == KPL_MD5_LEN &&
	       memcmp(digest, want, KPL_MD5_LEN) == 0;
}

/* Pass one: the key table (malloc'd into *keys) and a check of every
 * record. */
static int check(struct span msg, struct span **keys, size_t *key_count, const char **reason)
{
	struct reader r = { msg.p, msg.p + msg.len };
	size_t cap = 0;

	*keys = NULL;
	*key_count = 0;
	while (r.p < r.end) {
		uint64_t number, num, index;
		struct span bytes = { NULL, 0 }, data;
		int type;

		if (field(&r, &number, &type, &num, &bytes) < 0)
			return *reason = "an aggregate that does not parse", -1;
		if (number == 1 && type == WIRE_BYTES) {
			if (*key_count == cap) {
				size_t grown_cap = cap ? cap * 2 : 16;
				struct span *grown = realloc(*keys, grown_cap * sizeof(*grown));
				if (grown == NULL)
					return *reason = "out of memory", -1;
				*keys = grown;
				cap = grown_cap;
			}
			(*keys)[(*key_count)++] = bytes;
		} else if (number == 3 && type == WIRE_BYTES && record(bytes, &index, &data) < 0) {
			return *reason = "an aggregated record that does not parse", -1;
		}
	}
	return 0;
}

int kpl_each(const void *data, size_t len, kpl_record_fn fn, void *user, const char **reason)
{
	const uint8_t *bytes = data;
	struct span msg = { bytes + KPL_MAGIC_LEN, len - KPL_MAGIC_LEN - KPL_MD5_LEN }, *keys;
	struct reader r = { msg.p, msg.p + msg.len };
	size_t key_count;
	uint64_t sub = 0;
	int rc = 0;

	if (!kpl_is_aggregate(data, len))
		return *reason = "not an aggregate", -1;
	if (!md5_matches(msg.p, msg.len, msg.p + msg.len))
		return *reason = "an aggregate whose MD5 does not match", -1;
	if (check(msg, &keys, &key_count, reason) < 0) {
		free(keys);
		return -1;
	}
	while (rc == 0 && r.p < r.end) {
		uint64_t number, num, index = 0;
		struct span field_bytes = { NULL, 0 }, d = { NULL, 0 };
		int type;

		field(&r, &number, &type, &num, &field_bytes);  /* checked in pass one */
		if (number != 3 || type != WIRE_BYTES)
			continue;
		record(field_bytes, &index, &d);
		const struct span *key = index < key_count ? &keys[index] : NULL;
		if (fn(user, sub++, d.p, d.len, key ? (const char *)key->p : "", key ? key->len : 0))
			rc = -1, *reason = "stopped";
	}
	free(keys);
	return rc;
}
