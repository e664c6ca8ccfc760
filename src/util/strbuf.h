/* A growable byte buffer for building text (JSON events, metrics pages). */
#ifndef ALLEYCAT_STRBUF_H
#define ALLEYCAT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *data;
	size_t len, cap;
	bool failed;            /* an allocation failed: the contents are incomplete */
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);

/* Makes room for n more bytes and returns where they go (NULL on failure). */
char *strbuf_reserve(struct strbuf *sb, size_t n);

void strbuf_append(struct strbuf *sb, const void *bytes, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);

/* Appends a string literal, its length known at compile time. */
#define strbuf_lit(sb, literal) strbuf_append((sb), (literal), sizeof(literal) - 1)
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the decimal digits of v (faster than strbuf_printf on hot paths). */
void strbuf_uint(struct strbuf *sb, uint64_t v);

/* Appends s as a quoted JSON string, escaping what JSON requires. */
void strbuf_json_string(struct strbuf *sb, const char *s, size_t n);

/* Cuts the white space off both ends of a line read from a file, in place:
 * the start of what is left. */
char *str_trim(char *s);

#endif
