#include "config.h"
#include "ui/logring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/clock.h"

struct logring {
	pthread_mutex_t lock;           /* the sink runs on whichever thread logs */
	struct logring_entry entries[LOGRING_SIZE];
	uint64_t serial;                /* messages added; the newest is serial - 1 */
};

struct logring *logring_new(void)
{
	struct logring *r = calloc(1, sizeof(*r));

	if (r && pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

void logring_free(struct logring *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Called by the logger with its own lock held: it must not log. */
static void logring_sink(enum log_level level, const char *message, void *user)
{
	struct logring *r = user;
	struct logring_entry *e;

	pthread_mutex_lock(&r->lock);
	e = &r->entries[r->serial % LOGRING_SIZE];
	e->level = level;
	e->at_ms = clock_wall_ms();
	snprintf(e->text, sizeof(e->text), "%s", message);
	r->serial++;
	pthread_mutex_unlock(&r->lock);
}

void logring_attach(struct logring *r)
{
	log_set_sink(logring_sink, r);
}

void logring_detach(struct logring *r)
{
	(void)r;
	log_set_sink(NULL, NULL);
}

uint64_t logring_serial(struct logring *r)
{
	uint64_t serial;

	pthread_mutex_lock(&r->lock);
	serial = r->serial;
	pthread_mutex_unlock(&r->lock);
	return serial;
}

size_t logring_newest(struct logring *r, struct logring_entry *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&r->lock);
	while (n < max && n < LOGRING_SIZE && n < r->serial) {
		out[n] = r->entries[(r->serial - 1 - n) % LOGRING_SIZE];
		n++;
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}
