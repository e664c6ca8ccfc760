#include "config.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->failed = false;
}

char *strbuf_reserve(struct strbuf *sb, size_t n)
{
	if (sb->failed)
		return NULL;
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 256;
		while (cap < sb->len + n + 1)
			cap *= 2;
		char *data = realloc(sb->data, cap);
		if (data == NULL) {
			sb->failed = true;
			return NULL;
		}
		sb->data = data;
		sb->cap = cap;
	}
	return sb->data + sb->len;
}

void strbuf_append(struct strbuf *sb, const void *bytes, size_t n)
{
	char *p = strbuf_reserve(sb, n);

	if (p == NULL)
		return;
	memcpy(p, bytes, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = strbuf_reserve(sb, (size_t)n)) == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void strbuf_uint(struct strbuf *sb, uint64_t v)
{
	char digits[20], *p = digits + sizeof(digits);

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	strbuf_append(sb, p, (size_t)(digits + sizeof(digits) - p));
}

void strbuf_json_string(struct strbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *p, *start;
	size_t plain = 0;

	/* Most strings (keys, names) need no escape: copy them whole. */
	while (plain < n && (unsigned char)s[plain] >= 0x20 && s[plain] != '"' && s[plain] != '\\')
		plain++;
	if (plain == n) {
		p = strbuf_reserve(sb, n + 2);
		if (p == NULL)
			return;
		p[0] = '"';
		memcpy(p + 1, s, n);
		p[n + 1] = '"';
		sb->len += n + 2;
		sb->data[sb->len] = '\0';
		return;
	}
	/* Worst case: every byte becomes a six-character \u escape. */
	p = strbuf_reserve(sb, n * 6 + 2);
	start = p;
	if (p == NULL)
		return;
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			*p++ = '\\';
			*p++ = (char)ch;
		} else if (ch < 0x20) {
			*p++ = '\\';
			*p++ = 'u';
			*p++ = '0';
			*p++ = '0';
			*p++ = hex[ch >> 4];
			*p++ = hex[ch & 15];
		} else {
			*p++ = (char)ch;
		}
	}
	*p++ = '"';
	sb->len += (size_t)(p - start);
	sb->data[sb->len] = '\0';
}

char *str_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}
