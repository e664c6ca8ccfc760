/* Where a client connects: parsed from --endpoint. http://, https://, ws://
 * and wss:// of the same host and port all name the same hub. */
#ifndef ALLEYCAT_ENDPOINT_H
#define ALLEYCAT_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

struct sigv4_credentials;

struct endpoint {
	const char *scheme;             /* "http", "https", "ws" or "wss", as given
					 * (static); NULL means http or https */
	char host[256];
	int port;
	bool tls;
	const char *ca_file;            /* trust this CA bundle (NULL: the system's) */
	bool insecure;                  /* accept any certificate: for testing only */
	const struct sigv4_credentials *credentials; /* sign requests with these (NULL: don't) */
	const char *credentials_source; /* where their key came from, for messages: a
					 * profile's ("profile 'NAME' of FILE"), or NULL
					 * for the environment's */
};

/* An endpoint as the commands take it: the URL, trust (--ca, --insecure),
 * and SigV4 credentials from the usual AWS variables when they hold a key
 * (stored in cred, which must outlive ep). -1 with a message on a bad URL. */
int endpoint_from_options(struct endpoint *ep, const char *url, const char *ca_file,
			  bool insecure, struct sigv4_credentials *cred, const char *region,
			  char *err, size_t errlen);

/* The lws connection flags for a connection to ep. */
int endpoint_ssl_flags(const struct endpoint *ep);

/* Parses SCHEME://HOST[:PORT][/]; -1 with a message in err otherwise. */
int endpoint_parse(const char *url, struct endpoint *ep, char *err, size_t errlen);

/* The address to resolve or connect to for a host as a URL writes it: an
 * IPv6 address loses its brackets ([::1] -> ::1). */
void endpoint_address(const char *host, char *out, size_t size);

/* The endpoint as a user names it, for messages: SCHEME://HOST:PORT. */
void endpoint_url(const struct endpoint *ep, char *out, size_t size);

/* The Host header for requests to it: the host, with the port when it is
 * not the scheme's default. */
void endpoint_host_header(const struct endpoint *ep, char *out, size_t size);

#endif
