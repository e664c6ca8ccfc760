/* The log ring: while ncurses owns the screen, log messages (ours and
 * libwebsockets') land here instead of on stderr, which would scribble
 * over the dashboard. The monitor view lists them; the status line shows
 * the newest. Messages arrive from any thread. */
#ifndef ALLEYCAT_LOGRING_H
#define ALLEYCAT_LOGRING_H

#include <stddef.h>
#include <stdint.h>

#include "util/log.h"

#define LOGRING_SIZE 64                 /* messages kept */
#define LOGRING_TEXT_MAX 256            /* bytes of one message kept */

struct logring_entry {
	enum log_level level;
	int64_t at_ms;                  /* wall time it arrived */
	char text[LOGRING_TEXT_MAX];    /* as logged: untrusted, sanitize to draw */
};

struct logring;

struct logring *logring_new(void);
void logring_free(struct logring *r);

/* Makes the ring the logger's sink; logring_detach gives stderr back.
 * The ring must outlive the attachment. */
void logring_attach(struct logring *r);
void logring_detach(struct logring *r);

/* Counts every message ever added: it changes when there is news. */
uint64_t logring_serial(struct logring *r);

/* Copies up to max of the newest messages into out, newest first;
 * returns how many. */
size_t logring_newest(struct logring *r, struct logring_entry *out, size_t max);

#endif
