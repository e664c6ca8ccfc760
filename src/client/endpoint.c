#include "config.h"
#include "client/endpoint.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/sigv4.h"

static const struct {
	const char *name, *prefix;
	bool tls;
	int port;
} schemes[] = {
	{ "http", "http://", false, 80 },
	{ "https", "https://", true, 443 },
	{ "ws", "ws://", false, 80 },
	{ "wss", "wss://", true, 443 },
};

int endpoint_parse(const char *url, struct endpoint *ep, char *err, size_t errlen)
{
	const char *rest = NULL, *colon, *end;
	size_t host_len;

	ep->ca_file = NULL;
	ep->insecure = false;
	ep->credentials = NULL;
	ep->credentials_source = NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].prefix);
		if (strncmp(url, schemes[i].prefix, n) == 0) {
			rest = url + n;
			ep->scheme = schemes[i].name;
			ep->tls = schemes[i].tls;
			ep->port = schemes[i].port;
		}
	}
	if (rest == NULL) {
		snprintf(err, errlen, "'%s' is not an http://, https://, ws:// or wss:// URL", url);
		return -1;
	}
	end = rest + strcspn(rest, "/");
	if (*end == '/' && end[1] != '\0') {
		snprintf(err, errlen, "'%s' has a path; give only the scheme, host and port", url);
		return -1;
	}
	if (*rest == '[') {
		/* An IPv6 address, as URLs write it: [::1]:4999. */
		const char *close = memchr(rest, ']', (size_t)(end - rest));

		if (close == NULL || close == rest + 1 || (close + 1 != end && close[1] != ':')) {
			snprintf(err, errlen, "'%s' has a bad IPv6 address (write it as [::1]:PORT)",
				 url);
			return -1;
		}
		colon = close + 1 != end ? close + 1 : NULL;
		host_len = (size_t)(close + 1 - rest);
	} else {
		colon = memchr(rest, ':', (size_t)(end - rest));
		host_len = (size_t)((colon ? colon : end) - rest);
	}
	if (host_len == 0 || host_len >= sizeof(ep->host)) {
		snprintf(err, errlen, "'%s' has no host", url);
		return -1;
	}
	if (colon) {
		char *stop;
		long port = strtol(colon + 1, &stop, 10);
		if (stop != end || port < 1 || port > 65535) {
			snprintf(err, errlen, "'%s' has a bad port", url);
			return -1;
		}
		ep->port = (int)port;
	}
	memcpy(ep->host, rest, host_len);
	ep->host[host_len] = '\0';
	return 0;
}

void endpoint_address(const char *host, char *out, size_t size)
{
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		snprintf(out, size, "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(out, size, "%s", host);
}

void endpoint_url(const struct endpoint *ep, char *out, size_t size)
{
	const char *scheme = ep->scheme ? ep->scheme : ep->tls ? "https" : "http";

	snprintf(out, size, "%s://%s:%d", scheme, ep->host, ep->port);
}

void endpoint_host_header(const struct endpoint *ep, char *out, size_t size)
{
	if (ep->port == (ep->tls ? 443 : 80))
		snprintf(out, size, "%s", ep->host);
	else
		snprintf(out, size, "%s:%d", ep->host, ep->port);
}

int endpoint_ssl_flags(const struct endpoint *ep)
{
	if (!ep->tls)
		return 0;
	if (ep->insecure)
		return LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
		       LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
	return LCCSCF_USE_SSL;
}

int endpoint_from_options(struct endpoint *ep, const char *url, const char *ca_file,
			  bool insecure, struct sigv4_credentials *cred, const char *region,
			  char *err, size_t errlen)
{
	if (endpoint_parse(url, ep, err, errlen) < 0)
		return -1;
	ep->ca_file = ca_file;
	ep->insecure = insecure;
	/* A hub that checks signatures gets them from the usual AWS variables. */
	if (sigv4_credentials_from_env(cred, region, "kinesis") == 0)
		ep->credentials = cred;
	return 0;
}
