/* Text from devices made safe to show: names arrive from bikes and are
 * untrusted. Every control character, escape sequence introducer and
 * invalid UTF-8 byte becomes a replacement character, so nothing a device
 * sends can move the cursor, change colours or confuse a CSV reader. */
#ifndef ALLEYCAT_SANITIZE_H
#define ALLEYCAT_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes a printable copy of text into out (NUL-terminated, at most
 * max_chars characters, and never more than size bytes), with U+FFFD as
 * the replacement when unicode is true. When it is false the copy is
 * ASCII: accented Latin letters lose their accents (ğ is g, ß is ss) and
 * what has no ASCII spelling becomes '?'. Returns the number of
 * characters written. */
size_t sanitize_text(const char *text, char *out, size_t size, size_t max_chars, bool unicode);

#endif
