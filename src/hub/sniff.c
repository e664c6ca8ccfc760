#include "config.h"
#include "hub/sniff.h"

#include <stdbool.h>
#include <string.h>

#include "hub/h2.h"

#define TLS_HANDSHAKE 0x16
#define TLS_CLIENT_HELLO 0x01
#define TLS_EXT_ALPN 0x0010
#define TLS_RECORD_MAX 16384

enum sniff_verdict sniff_plain(const uint8_t *p, size_t n)
{
	size_t k = n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN;

	if (memcmp(p, H2_PREFACE, k) != 0)
		return SNIFF_HTTP1;
	return n >= H2_PREFACE_LEN ? SNIFF_H2 : SNIFF_MORE;
}

/* A cursor over untrusted bytes: every read is checked against the end. */
struct cursor {
	const uint8_t *p, *end;
};

static bool take(struct cursor *c, size_t n, const uint8_t **at)
{
	if ((size_t)(c->end - c->p) < n)
		return false;
	if (at)
		*at = c->p;
	c->p += n;
	return true;
}

static bool take_uint(struct cursor *c, size_t bytes, size_t *value)
{
	const uint8_t *at;

	if (!take(c, bytes, &at))
		return false;
	*value = 0;
	for (size_t i = 0; i < bytes; i++)
		*value = *value << 8 | at[i];
	return true;
}

/* Skips a vector whose length takes len_bytes bytes. */
static bool skip_vector(struct cursor *c, size_t len_bytes)
{
	size_t n;

	return take_uint(c, len_bytes, &n) && take(c, n, NULL);
}

/* The ALPN extension's protocol list: does it name "h2"? */
static bool alpn_offers_h2(struct cursor ext)
{
	size_t list_len, name_len;
	const uint8_t *name;

	if (!take_uint(&ext, 2, &list_len) || list_len > (size_t)(ext.end - ext.p))
		return false;
	ext.end = ext.p + list_len;
	while (take_uint(&ext, 1, &name_len) && take(&ext, name_len, &name))
		if (name_len == 2 && memcmp(name, "h2", 2) == 0)
			return true;
	return false;
}

/* The ClientHello body (RFC 8446 4.1.2), from its legacy_version on. */
static bool hello_offers_h2(struct cursor c)
{
	size_t ext_len, type, len;
	const uint8_t *body;

	if (!take(&c, 2 + 32, NULL) || !skip_vector(&c, 1) || !skip_vector(&c, 2) ||
	    !skip_vector(&c, 1) || !take_uint(&c, 2, &ext_len) || ext_len > (size_t)(c.end - c.p))
		return false;
	c.end = c.p + ext_len;
	while (take_uint(&c, 2, &type) && take_uint(&c, 2, &len) && take(&c, len, &body))
		if (type == TLS_EXT_ALPN)
			return alpn_offers_h2((struct cursor){ body, body + len });
	return false;
}

enum sniff_verdict sniff_tls(const uint8_t *p, size_t n)
{
	size_t record_len, type, hello_len;
	struct cursor c;

	if (n < 1)
		return SNIFF_MORE;
	if (p[0] != TLS_HANDSHAKE)
		return SNIFF_HTTP1;
	if (n < 5)
		return SNIFF_MORE;
	record_len = (size_t)p[3] << 8 | p[4];
	if (record_len > TLS_RECORD_MAX)
		return SNIFF_HTTP1;
	if (n < 5 + record_len)
		return SNIFF_MORE;
	c = (struct cursor){ p + 5, p + 5 + record_len };
	if (!take_uint(&c, 1, &type) || type != TLS_CLIENT_HELLO ||
	    !take_uint(&c, 3, &hello_len) || hello_len > (size_t)(c.end - c.p))
		return SNIFF_HTTP1;
	c.end = c.p + hello_len;
	return hello_offers_h2(c) ? SNIFF_H2 : SNIFF_HTTP1;
}
