#include "config.h"
#include "wire/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

static void hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL);
	hex(digest, 32, out);
}

static void hmac(const unsigned char *key, size_t key_len, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &n);
}

void sigv4_date(time_t t, char out[SIGV4_DATE_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, SIGV4_DATE_LEN, "%Y%m%dT%H%M%SZ", &tm);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sigv4_header *)a)->name, ((const struct sigv4_header *)b)->name);
}

/* A header value as SigV4 wants it: trimmed, inner runs of spaces as one. */
static void canonical_value(struct strbuf *sb, const char *v)
{
	int space = 0;

	while (*v == ' ')
		v++;
	for (; *v; v++) {
		if (*v == ' ') {
			space = 1;
			continue;
		}
		if (space)
			strbuf_append(sb, " ", 1);
		space = 0;
		strbuf_append(sb, v, 1);
	}
}

int sigv4_authorization(const struct sigv4_credentials *cred, const char *method,
			const char *path, const char *query, const struct sigv4_header *headers,
			size_t header_count, const void *body, size_t body_len,
			const char *amz_date, char out[SIGV4_AUTH_MAX])
{
	struct sigv4_header *sorted = malloc(header_count * sizeof(*sorted));
	struct strbuf canonical, signed_names, to_sign;
	char body_hash[65], request_hash[65], date[9], scope[256], signature[65];
	unsigned char k[32], secret[256];
	int rc = -1, n;

	if (sorted == NULL)
		return -1;
	memcpy(sorted, headers, header_count * sizeof(*sorted));
	qsort(sorted, header_count, sizeof(*sorted), by_name);
	strbuf_init(&canonical);
	strbuf_init(&signed_names);
	strbuf_init(&to_sign);

	sha256_hex(body, body_len, body_hash);
	strbuf_printf(&canonical, "%s\n%s\n%s\n", method, path, query ? query : "");
	for (size_t i = 0; i < header_count; i++) {
		strbuf_printf(&canonical, "%s:", sorted[i].name);
		canonical_value(&canonical, sorted[i].value);
		strbuf_puts(&canonical, "\n");
		strbuf_printf(&signed_names, "%s%s", i ? ";" : "", sorted[i].name);
	}
	strbuf_printf(&canonical, "\n%s\n%s", signed_names.data ? signed_names.data : "", body_hash);
	sha256_hex(canonical.data, canonical.len, request_hash);

	memcpy(date, amz_date, 8);
	date[8] = '\0';
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, cred->region, cred->service);
	strbuf_printf(&to_sign, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, request_hash);

	n = snprintf((char *)secret, sizeof(secret), "AWS4%s", cred->secret_key);
	if (n < 0 || (size_t)n >= sizeof(secret) || canonical.failed || to_sign.failed ||
	    signed_names.failed)
		goto out;
	hmac(secret, (size_t)n, date, k);
	hmac(k, 32, cred->region, k);
	hmac(k, 32, cred->service, k);
	hmac(k, 32, "aws4_request", k);
	hmac(k, 32, to_sign.data, k);
	hex(k, 32, signature);
	n = snprintf(out, SIGV4_AUTH_MAX,
		     "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		     cred->access_key, scope, signed_names.data, signature);
	rc = n > 0 && n < SIGV4_AUTH_MAX ? 0 : -1;
out:
	free(sorted);
	strbuf_free(&canonical);
	strbuf_free(&signed_names);
	strbuf_free(&to_sign);
	return rc;
}

#define SIGN_HEADERS_MAX 16

int sigv4_sign(const struct sigv4_credentials *cred, const char *method, const char *path,
	       const char *host, const struct sigv4_header *headers, size_t header_count,
	       const void *body, size_t body_len, char date[SIGV4_DATE_LEN],
	       char authorization[SIGV4_AUTH_MAX])
{
	struct sigv4_header all[SIGN_HEADERS_MAX + 3];
	size_t n = 0;

	if (header_count > SIGN_HEADERS_MAX)
		return -1;
	sigv4_date(time(NULL), date);
	for (size_t i = 0; i < header_count; i++)
		all[n++] = headers[i];
	all[n++] = (struct sigv4_header){ "host", host };
	all[n++] = (struct sigv4_header){ "x-amz-date", date };
	if (cred->session_token)
		all[n++] = (struct sigv4_header){ "x-amz-security-token", cred->session_token };
	return sigv4_authorization(cred, method, path, "", all, n, body, body_len, date,
				   authorization);
}

int sigv4_credentials_from_env(struct sigv4_credentials *cred, const char *region,
			       const char *service)
{
	memset(cred, 0, sizeof(*cred));
	cred->access_key = getenv("AWS_ACCESS_KEY_ID");
	cred->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
	cred->session_token = getenv("AWS_SESSION_TOKEN");
	cred->region = region;
	cred->service = service;
	return cred->access_key && cred->secret_key && *cred->access_key ? 0 : -1;
}
