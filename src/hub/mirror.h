/* The mirror: a hub serving a copy of an upstream stream (hub --mirror).
 *
 * One registered consumer reads the upstream (client/consumer.h, raw
 * batches: any reader that hands over batches will do), and a lister
 * thread follows the upstream's shard list (ListShards about once a
 * second). The server's loop calls mirror_tick: the shard list and the
 * records are applied to the local stream there, on the thread that owns
 * the hub, under the upstream's own shard ids and sequence numbers.
 *
 * Resuming: the mirror's checkpoint in a shard is the newest record the
 * local stream stored (stream_mirror_position), which with a data
 * directory is what the journal made durable or the saved state kept
 * after retention trimmed it; a replay from before it is skipped, so
 * after a crash nothing is lost or repeated downstream. */
#ifndef ALLEYCAT_MIRROR_H
#define ALLEYCAT_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hub;
struct mirror;
struct sigv4_credentials;

struct mirror_config {
	const char *url;                /* the upstream: ws://, wss://, http://, https:// */
	const char *upstream_stream;    /* its stream name */
	const char *stream;             /* the local stream that copies it */
	const char *consumer;           /* the consumer name registered upstream */
	int read;                       /* how: an enum consumer_read */
	int timeout_s;                  /* an upstream call's wait (0: the default) */
	const struct sigv4_credentials *credentials; /* sign the calls (NULL: don't);
						      * they must outlive the mirror */
	const char *ca_file;            /* trust for https:// and wss:// (NULL: the system's) */
	bool insecure;                  /* accept any certificate: for testing only */
};

/* Reads the upstream's shard list once (so the local stream has it before
 * anyone reads), creates the local stream when needed, and starts the
 * consumer and the lister. NULL with a message in err on failure. */
struct mirror *mirror_start(struct hub *hub, const struct mirror_config *config, int64_t now_ms,
			    char *err, size_t errlen);

/* Applies what arrived: a new shard list, then the records. Call it on
 * the thread that owns the hub. */
void mirror_tick(struct mirror *m, int64_t now_ms);

/* wake(user) is called, from the consumer's thread, whenever records
 * arrive: it should have mirror_tick called soon (server_wake). NULL
 * stops the calls; once it returns, wake is called no more. */
void mirror_wake_with(struct mirror *m, void (*wake)(void *user), void *user);

/* Stops the threads and frees the mirror; NULL is ignored. */
void mirror_stop(struct mirror *m);

#endif
