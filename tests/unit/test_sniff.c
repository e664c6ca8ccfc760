/* Telling HTTP/2 from HTTP/1.1 by a connection's first bytes: the preface
 * on a plain port, ALPN in real ClientHellos (made by OpenSSL's client) on
 * a TLS port; every prefix waits for more, and broken hellos never read
 * past their bytes (ASan) and go to HTTP/1.1. */
#include "config.h"

#include <openssl/ssl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/h2.h"
#include "hub/sniff.h"

/* The first record a TLS client sends, offering alpn (wire format, may be
 * NULL); returns its length. */
static size_t client_hello(const unsigned char *alpn, size_t alpn_len, uint8_t *out, size_t size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	int n;

	SSL_set_bio(ssl, rbio, wbio);
	if (alpn)
		assert_int_equal(SSL_set_alpn_protos(ssl, alpn, (unsigned)alpn_len), 0);
	SSL_set_tlsext_host_name(ssl, "localhost");
	assert_true(SSL_connect(ssl) <= 0);    /* wants the server's answer */
	n = BIO_read(wbio, out, (int)size);
	assert_true(n > 5);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return (size_t)n;
}

static void test_plain(void **state)
{
	const uint8_t *preface = (const uint8_t *)H2_PREFACE;

	(void)state;
	for (size_t n = 0; n < H2_PREFACE_LEN; n++)
		assert_int_equal(sniff_plain(preface, n), SNIFF_MORE);
	assert_int_equal(sniff_plain(preface, H2_PREFACE_LEN), SNIFF_H2);
	assert_int_equal(sniff_plain((const uint8_t *)"GET / HTTP/1.1\r\n", 16), SNIFF_HTTP1);
	assert_int_equal(sniff_plain((const uint8_t *)"POST / HTTP/1.1\r\n", 17), SNIFF_HTTP1);
	assert_int_equal(sniff_plain((const uint8_t *)"PRI * HTTP/1.1\r\n", 16), SNIFF_HTTP1);
	assert_int_equal(sniff_plain((const uint8_t *)"P", 1), SNIFF_MORE);
}

static void test_tls_alpn(void **state)
{
	uint8_t hello[SNIFF_MAX];
	size_t n;

	(void)state;
	n = client_hello((const unsigned char *)"\x02h2\x08http/1.1", 12, hello, sizeof(hello));
	assert_int_equal(sniff_tls(hello, n), SNIFF_H2);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(sniff_tls(hello, k), SNIFF_MORE);
	n = client_hello((const unsigned char *)"\x08http/1.1\x02h2", 12, hello, sizeof(hello));
	assert_int_equal(sniff_tls(hello, n), SNIFF_H2);
	n = client_hello((const unsigned char *)"\x08http/1.1", 9, hello, sizeof(hello));
	assert_int_equal(sniff_tls(hello, n), SNIFF_HTTP1);
	n = client_hello(NULL, 0, hello, sizeof(hello));
	assert_int_equal(sniff_tls(hello, n), SNIFF_HTTP1);
	/* "h2c" and "h2x" are not "h2". */
	n = client_hello((const unsigned char *)"\x03h2c", 4, hello, sizeof(hello));
	assert_int_equal(sniff_tls(hello, n), SNIFF_HTTP1);
}

static void test_tls_not_a_hello(void **state)
{
	static const uint8_t http1[] = "GET / HTTP/1.1\r\n";
	static const uint8_t too_long[] = { 0x16, 3, 1, 0x7f, 0xff };
	static const uint8_t not_hello[] = { 0x16, 3, 1, 0, 4, 2, 0, 0, 0 };

	(void)state;
	assert_int_equal(sniff_tls(http1, sizeof(http1) - 1), SNIFF_HTTP1);
	assert_int_equal(sniff_tls(too_long, sizeof(too_long)), SNIFF_HTTP1);
	assert_int_equal(sniff_tls(not_hello, sizeof(not_hello)), SNIFF_HTTP1);
}

/* Every byte of a real hello flipped in turn, and every length field
 * overstated: a verdict, never a read past the record. */
static void test_tls_mutations(void **state)
{
	uint8_t hello[SNIFF_MAX];
	size_t n = client_hello((const unsigned char *)"\x02h2", 3, hello, sizeof(hello));

	(void)state;
	for (size_t i = 0; i < n; i++) {
		uint8_t *copy = malloc(n);
		memcpy(copy, hello, n);
		copy[i] ^= 0xff;
		enum sniff_verdict v = sniff_tls(copy, n);
		assert_true(v == SNIFF_MORE || v == SNIFF_HTTP1 || v == SNIFF_H2);
		copy[i] = 0xff;
		v = sniff_tls(copy, n);
		assert_true(v == SNIFF_MORE || v == SNIFF_HTTP1 || v == SNIFF_H2);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_tls_alpn),
		cmocka_unit_test(test_tls_not_a_hello),
		cmocka_unit_test(test_tls_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
