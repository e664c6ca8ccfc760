/* TLS for the hub's HTTP/2 connections. libwebsockets terminates TLS for
 * HTTP/1.1 and WebSockets; a connection whose ClientHello offers "h2" (see
 * sniff.h) is served by this context instead, which selects "h2" by ALPN,
 * with the same certificate and key. */
#ifndef ALLEYCAT_H2TLS_H
#define ALLEYCAT_H2TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

/* A server context for cert and key (PEM files); NULL with a message. */
SSL_CTX *h2tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen);

#endif
