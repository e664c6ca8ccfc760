/* The hub's cap on open connections (--max-connections).
 *
 * A connection counts from its accept to its close. Until it has asked
 * something (a whole HTTP request, or a push connection's first message),
 * and again while a kept-alive HTTP connection waits for its next request,
 * it is waiting, and waiting connections go first: at the cap, a new
 * connection takes the place of the one that has waited longest, so a
 * flood of connections that do not ask cannot lock out clients that do.
 * Only when every place is held by a connection that has asked is the
 * newcomer refused. Nothing here does network I/O. */
#ifndef ALLEYCAT_CONNLIMIT_H
#define ALLEYCAT_CONNLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn_slot {
	struct conn_slot *prev, *next;  /* the waiting list, oldest first */
	void *handle;                   /* the caller's connection */
	bool waiting, evicted;
};

struct conn_limit {
	size_t max;
	size_t open;                    /* admitted and not yet closed */
	size_t evicting;                /* of those, evicted but not yet closed */
	struct conn_slot *oldest, *newest;
	uint64_t refused, evicted;      /* since start */
};

void connlimit_init(struct conn_limit *cl, size_t max);

/* A connection was accepted: true to admit it, false to refuse it. When
 * it is admitted at the cap, *evict is the slot of the waiting connection
 * to close in its place (else NULL); that one still counts until
 * connlimit_close. */
bool connlimit_admit(struct conn_limit *cl, struct conn_slot **evict);

/* The admitted connection is open; slot is the caller's, zeroed or not. */
void connlimit_open(struct conn_limit *cl, struct conn_slot *slot, void *handle);

/* The connection asked something: it no longer waits. */
void connlimit_asked(struct conn_limit *cl, struct conn_slot *slot);

/* It was answered and waits for its next request: it waits again, as the
 * newest. */
void connlimit_idle(struct conn_limit *cl, struct conn_slot *slot);

void connlimit_close(struct conn_limit *cl, struct conn_slot *slot);

#endif
