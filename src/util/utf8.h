/* UTF-8 as RFC 3629 defines it, the one check every decoder here shares:
 * no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
 * U+10FFFF. jansson refuses anything looser, so a name we accept is a name
 * every JSON reader of our records accepts. */
#ifndef ALLEYCAT_UTF8_H
#define ALLEYCAT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the valid UTF-8 sequence at s (at most n bytes, n >= 1), with
 * its code point in *cp; 0 when the bytes there are not valid UTF-8 or the
 * sequence is cut short by n. An ASCII byte, NUL included, is 1. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* True when the n bytes at s are valid UTF-8; NUL bytes count as valid. */
bool utf8_valid(const char *s, size_t n);

#endif
