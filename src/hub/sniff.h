/* Which HTTP a new connection speaks, from its first bytes, so that one
 * port serves HTTP/1.1 (and WebSockets) through libwebsockets and HTTP/2
 * through nghttp2. On a plain port an HTTP/2 client opens with the
 * connection preface; on a TLS port the client's ClientHello offers "h2"
 * in its ALPN extension (RFC 7301). Bytes in, a verdict out: no I/O. */
#ifndef ALLEYCAT_SNIFF_H
#define ALLEYCAT_SNIFF_H

#include <stddef.h>
#include <stdint.h>

enum sniff_verdict {
	SNIFF_MORE,     /* not enough bytes yet to tell */
	SNIFF_HTTP1,    /* anything but HTTP/2: libwebsockets answers it */
	SNIFF_H2,
};

/* The most bytes a verdict needs: one whole TLS record. */
#define SNIFF_MAX (5 + 16384)

/* A plain port: HTTP/2 when the bytes are the connection preface. */
enum sniff_verdict sniff_plain(const uint8_t *p, size_t n);

/* A TLS port: HTTP/2 when the ClientHello in the first record offers
 * "h2". A ClientHello split over several records goes to HTTP/1.1, as
 * does anything that is not a ClientHello (libwebsockets refuses it). */
enum sniff_verdict sniff_tls(const uint8_t *p, size_t n);

#endif
