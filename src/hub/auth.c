#include "config.h"
#include "hub/auth.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/strbuf.h"
#include "wire/sigv4.h"

#define SKEW_MS (15 * 60 * 1000)
#define KEY_MAX 128
#define HEADER_MAX 2048
#define SIGNED_MAX 32

struct key {
	char id[KEY_MAX];
	char secret[KEY_MAX];
};

struct auth {
	struct key *keys;
	size_t count;
};

/* ---- the credentials file ------------------------------------------------ */

static int add_key(struct auth *a, const char *id, const char *secret)
{
	struct key *grown = realloc(a->keys, (a->count + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	a->keys = grown;
	snprintf(a->keys[a->count].id, KEY_MAX, "%s", id);
	snprintf(a->keys[a->count].secret, KEY_MAX, "%s", secret);
	a->count++;
	return 0;
}

/* A section is complete when it has both halves of a key. */
static int finish_section(struct auth *a, char *id, char *secret, const char *path, int line,
			  char *err, size_t errlen)
{
	if (id[0] == '\0' && secret[0] == '\0')
		return 0;
	if (id[0] == '\0' || secret[0] == '\0') {
		snprintf(err, errlen, "%s:%d: a section needs aws_access_key_id and "
				      "aws_secret_access_key", path, line);
		return -1;
	}
	if (add_key(a, id, secret) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	id[0] = secret[0] = '\0';
	return 0;
}

struct auth *auth_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct auth *a;
	char line[1024], id[KEY_MAX] = "", secret[KEY_MAX] = "";
	int number = 0;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s: %m", path);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	while (a && fgets(line, sizeof(line), f)) {
		char *s = str_trim(line), *eq;

		number++;
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (finish_section(a, id, secret, path, number, err, errlen) < 0)
				goto fail;
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: a setting is written 'name = value'", path, number);
			goto fail;
		}
		*eq = '\0';
		if (strcmp(str_trim(s), "aws_access_key_id") == 0)
			snprintf(id, sizeof(id), "%s", str_trim(eq + 1));
		else if (strcmp(str_trim(s), "aws_secret_access_key") == 0)
			snprintf(secret, sizeof(secret), "%s", str_trim(eq + 1));
	}
	if (a == NULL || finish_section(a, id, secret, path, number, err, errlen) < 0)
		goto fail;
	fclose(f);
	if (a->count == 0) {
		snprintf(err, errlen, "%s holds no keys", path);
		auth_free(a);
		return NULL;
	}
	return a;
fail:
	fclose(f);
	if (a == NULL)
		snprintf(err, errlen, "out of memory");
	auth_free(a);
	return NULL;
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	/* Secrets do not linger in freed memory. */
	for (size_t i = 0; i < a->count; i++)
		memset(a->keys[i].secret, 0, KEY_MAX);
	free(a->keys);
	free(a);
}

/* ---- the Authorization header -------------------------------------------- */

struct parsed {
	char key[KEY_MAX];
	char date[9], region[64], service[64];
	char signed_headers[512];
	char signature[65];
};

/* Copies the value of "name=" up to ',' or the end. */
static bool field(const char *auth, const char *name, char *out, size_t size)
{
	const char *p = strstr(auth, name);
	size_t n;

	if (p == NULL)
		return false;
	p += strlen(name);
	n = strcspn(p, ", ");
	if (n == 0 || n >= size)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static bool parse(const char *auth, struct parsed *p)
{
	char credential[512];
	char *parts[5], *save = NULL, *tok;
	int n = 0;

	if (strncmp(auth, "AWS4-HMAC-SHA256 ", 17) != 0 ||
	    !field(auth, "Credential=", credential, sizeof(credential)) ||
	    !field(auth, "SignedHeaders=", p->signed_headers, sizeof(p->signed_headers)) ||
	    !field(auth, "Signature=", p->signature, sizeof(p->signature)))
		return false;
	for (tok = strtok_r(credential, "/", &save); tok && n < 5; tok = strtok_r(NULL, "/", &save))
		parts[n++] = tok;
	if (n != 5 || strcmp(parts[4], "aws4_request") != 0 || strlen(parts[1]) != 8)
		return false;
	snprintf(p->key, sizeof(p->key), "%s", parts[0]);
	snprintf(p->date, sizeof(p->date), "%s", parts[1]);
	snprintf(p->region, sizeof(p->region), "%s", parts[2]);
	snprintf(p->service, sizeof(p->service), "%s", parts[3]);
	return true;
}

int auth_signed_headers(const char *authorization, char *out, size_t size)
{
	struct parsed p;

	if (!parse(authorization, &p) || strlen(p.signed_headers) >= size)
		return -1;
	memcpy(out, p.signed_headers, strlen(p.signed_headers) + 1);
	return 0;
}

static const struct key *find_key(const struct auth *a, const char *id)
{
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->keys[i].id, id) == 0)
			return &a->keys[i];
	return NULL;
}

/* x-amz-date as epoch milliseconds, or -1. */
static int64_t amz_date_ms(const char *text)
{
	struct tm tm = { 0 };
	const char *end = strptime(text, "%Y%m%dT%H%M%SZ", &tm);

	if (end == NULL || *end != '\0')
		return -1;
	return (int64_t)timegm(&tm) * 1000;
}

/* Compares two hex signatures in constant time. */
static bool same(const char *a, const char *b)
{
	size_t n = strlen(a);
	unsigned char diff = n != strlen(b);

	for (size_t i = 0; i < n && i < strlen(b); i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

const char *auth_check(const struct auth *a, const char *method, const char *path,
		       auth_header_fn header, void *user, const void *body, size_t len,
		       int64_t now_ms, char *message, size_t size)
{
	char authorization[HEADER_MAX], date[64], expected[SIGV4_AUTH_MAX], names[512];
	char values[SIGNED_MAX][HEADER_MAX];
	struct sigv4_header signed_headers[SIGNED_MAX];
	struct sigv4_credentials cred;
	const struct key *key;
	struct parsed p;
	char *save = NULL, *name;
	size_t n = 0;
	int64_t when;

	if (header(user, "authorization", authorization, sizeof(authorization)) < 0) {
		snprintf(message, size, "Missing Authentication Token");
		return "MissingAuthenticationTokenException";
	}
	if (!parse(authorization, &p) ||
	    header(user, "x-amz-date", date, sizeof(date)) < 0 ||
	    (strstr(p.signed_headers, "host") == NULL &&
	     strstr(p.signed_headers, ":authority") == NULL)) {
		snprintf(message, size, "Authorization header requires Credential, SignedHeaders "
					"(with host) and Signature, and an X-Amz-Date header.");
		return "IncompleteSignatureException";
	}
	key = find_key(a, p.key);
	if (key == NULL) {
		snprintf(message, size, "The security token included in the request is invalid.");
		return "UnrecognizedClientException";
	}
	when = amz_date_ms(date);
	if (when < 0 || strncmp(date, p.date, 8) != 0 || when < now_ms - SKEW_MS ||
	    when > now_ms + SKEW_MS) {
		snprintf(message, size, "Signature expired or not yet valid: %.40s is not within 15 "
					"minutes of the server's time.", date);
		return "InvalidSignatureException";
	}
	snprintf(names, sizeof(names), "%s", p.signed_headers);
	for (name = strtok_r(names, ";", &save); name; name = strtok_r(NULL, ";", &save)) {
		if (n == SIGNED_MAX || header(user, name, values[n], sizeof(values[n])) < 0) {
			snprintf(message, size, "A signed header is missing: %.60s", name);
			return "IncompleteSignatureException";
		}
		signed_headers[n].name = name;
		signed_headers[n].value = values[n];
		n++;
	}
	cred = (struct sigv4_credentials){ .access_key = key->id, .secret_key = key->secret,
					   .region = p.region, .service = p.service };
	if (sigv4_authorization(&cred, method, path, "", signed_headers, n, body, len, date,
				expected) < 0 ||
	    !same(strstr(expected, "Signature=") + 10, p.signature)) {
		snprintf(message, size, "The request signature we calculated does not match the "
					"signature you provided.");
		return "InvalidSignatureException";
	}
	return NULL;
}
