/* The event stream encoding (application/vnd.amazon.eventstream): how AWS
 * frames the messages of a streaming answer such as SubscribeToShard's, over
 * HTTP/1.1 and HTTP/2 alike. Encoder and decoder; no I/O.
 *
 * A message, every integer big-endian:
 *
 *   total length    4   the whole message, these 4 bytes and the CRCs too
 *   headers length  4
 *   prelude CRC     4   CRC32 of the 8 bytes above
 *   headers         *   each: name length (1), name, type (1), value
 *   payload         *   total - headers - 16 bytes
 *   message CRC     4   CRC32 of everything before it, prelude CRC included
 *
 * Header values by type: 0 true and 1 false (no bytes), 2 byte (1), 3 short
 * (2), 4 int (4), 5 long (8), 6 bytes and 7 string (2-byte length, then the
 * bytes; a string is UTF-8), 8 timestamp (8: epoch milliseconds), 9 uuid
 * (16). The CRC is zlib's crc32 (the gzip polynomial).
 *
 * Limits, as AWS's own decoders keep them: a payload of at most 16 MiB,
 * headers of at most 128 KiB; a decoder takes no more than EVENTSTREAM_
 * HEADERS_MAX headers and refuses a name twice, so a message is one
 * unambiguous map. */
#ifndef ALLEYCAT_EVENTSTREAM_H
#define ALLEYCAT_EVENTSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

#define EVENTSTREAM_CONTENT_TYPE "application/vnd.amazon.eventstream"
#define EVENTSTREAM_PRELUDE_LEN 12
#define EVENTSTREAM_OVERHEAD 16         /* prelude and message CRC */
#define EVENTSTREAM_PAYLOAD_MAX (16u * 1024 * 1024)
#define EVENTSTREAM_HEADERS_BYTES_MAX (128u * 1024)
#define EVENTSTREAM_MESSAGE_MAX \
	(EVENTSTREAM_OVERHEAD + EVENTSTREAM_HEADERS_BYTES_MAX + EVENTSTREAM_PAYLOAD_MAX)
#define EVENTSTREAM_HEADERS_MAX 32

enum eventstream_type {
	EVENTSTREAM_TRUE = 0,
	EVENTSTREAM_FALSE = 1,
	EVENTSTREAM_BYTE = 2,
	EVENTSTREAM_SHORT = 3,
	EVENTSTREAM_INT = 4,
	EVENTSTREAM_LONG = 5,
	EVENTSTREAM_BYTES = 6,
	EVENTSTREAM_STRING = 7,
	EVENTSTREAM_TIMESTAMP = 8,
	EVENTSTREAM_UUID = 9,
};

/* One header. Decoded, name and bytes are borrowed from the message's
 * bytes; to encode, the caller's. */
struct eventstream_header {
	const char *name;
	size_t name_len;                /* 1..255 */
	enum eventstream_type type;
	int64_t integer;                /* byte, short, int, long, timestamp (ms) */
	const uint8_t *bytes;           /* bytes, string (not NUL-terminated), uuid */
	size_t bytes_len;               /* bytes and string: at most 65535; uuid: 16 */
};

struct eventstream_message {
	uint32_t total_len, headers_len, prelude_crc, message_crc;
	struct eventstream_header headers[EVENTSTREAM_HEADERS_MAX];
	size_t header_count;
	const uint8_t *payload;         /* borrowed from the message's bytes */
	size_t payload_len;
};

enum eventstream_status {
	EVENTSTREAM_OK,
	EVENTSTREAM_TRUNCATED,          /* fewer bytes than the prelude says */
	EVENTSTREAM_BAD_PRELUDE_CRC,
	EVENTSTREAM_BAD_LENGTH,         /* lengths that contradict each other or the limits */
	EVENTSTREAM_BAD_MESSAGE_CRC,
	EVENTSTREAM_BAD_HEADER,         /* a header that does not parse, or too many */
	EVENTSTREAM_DUPLICATE_HEADER,
	EVENTSTREAM_NO_MEMORY,          /* the stream decoder could not hold the message */
};

/* Why a message was refused: the status, a sentence, and the offset in the
 * message where the trouble is. */
struct eventstream_error {
	enum eventstream_status status;
	size_t offset;
	char text[128];
};

/* Decodes the one message at the start of data (len bytes, which may hold
 * more after it). Returns the message's length, or -1 with err filled in;
 * msg's pointers borrow from data. Both CRCs are checked, the prelude's
 * before any length is believed. */
long eventstream_decode(const uint8_t *data, size_t len, struct eventstream_message *msg,
			struct eventstream_error *err);

/* The header of that name, borrowed from msg, or NULL. */
const struct eventstream_header *eventstream_find(const struct eventstream_message *msg,
						  const char *name);

/* Whether the header of that name is a string equal to value. */
bool eventstream_header_is(const struct eventstream_message *msg, const char *name,
			   const char *value);

/* ------------------------------------------------------------------ */
/* Incremental decoding of a byte stream                               */
/* ------------------------------------------------------------------ */

/* Turns bytes as they arrive (any split) into messages. It holds at most one
 * message's bytes (and no more than max_message), and none when messages
 * arrive whole: those are decoded where they lie. A refused prelude is
 * refused as soon as its 12 bytes are in. After an error the stream cannot
 * be resynchronised: every later call fails the same way. */
struct eventstream_decoder {
	uint8_t *buf;
	size_t len, cap, need;          /* need: bytes the message in buf will have */
	size_t max_message;
	struct eventstream_error error; /* status OK until the stream fails */
};

enum eventstream_step {
	EVENTSTREAM_STEP_MORE,          /* every byte given was taken: give more */
	EVENTSTREAM_STEP_MESSAGE,       /* msg holds a message */
	EVENTSTREAM_STEP_ERROR,         /* see decoder->error */
};

/* max_message: 0 for EVENTSTREAM_MESSAGE_MAX. */
void eventstream_decoder_init(struct eventstream_decoder *d, size_t max_message);
void eventstream_decoder_free(struct eventstream_decoder *d);

/* Takes bytes from data until a message is complete: *used says how many it
 * took (call again with the rest). On STEP_MESSAGE msg borrows from data or
 * from the decoder, valid until the next call. */
enum eventstream_step eventstream_decoder_step(struct eventstream_decoder *d, const uint8_t *data,
					       size_t len, size_t *used,
					       struct eventstream_message *msg);

/* True when no partial message is held: the stream may end here. */
bool eventstream_decoder_idle(const struct eventstream_decoder *d);

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

/* Appends a message's prelude (lengths still to come) and its headers to
 * out, and returns where the message begins: append the payload, then
 * call eventstream_end. The payload is never copied twice. */
size_t eventstream_begin(struct strbuf *out, const struct eventstream_header *headers, size_t n);

/* Completes the message begun at start: both lengths, both CRCs. -1 when
 * out failed (out of memory) or the message breaks a limit. */
int eventstream_end(struct strbuf *out, size_t start);

/* Appends one whole message; 0 or -1 as eventstream_end. */
int eventstream_encode(struct strbuf *out, const struct eventstream_header *headers, size_t n,
		       const void *payload, size_t payload_len);

/* A string header for encoding: value borrowed. */
struct eventstream_header eventstream_string(const char *name, const char *value);

#endif
