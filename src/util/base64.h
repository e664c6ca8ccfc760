/* Base64 (RFC 4648, standard alphabet, padded): how Kinesis carries record
 * data in JSON. Decoding is strict: anything but canonical base64 is an error. */
#ifndef ALLEYCAT_BASE64_H
#define ALLEYCAT_BASE64_H

#include <stddef.h>

/* Characters needed to encode n bytes, without the terminating NUL. */
static inline size_t base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Largest number of bytes that len characters of base64 can decode to. */
static inline size_t base64_decoded_max(size_t len)
{
	return len / 4 * 3;
}

/* Encodes n bytes into dst, which holds base64_encoded_len(n) + 1 chars. */
void base64_encode(const void *src, size_t n, char *dst);

/* Decodes len characters into dst (base64_decoded_max(len) bytes) and sets
 * *out_len. Returns 0, or -1 with *reason set when the input is not
 * canonical base64 (bad length, character, padding or trailing bits). */
int base64_decode(const char *src, size_t len, unsigned char *dst, size_t *out_len,
		  const char **reason);

#endif
