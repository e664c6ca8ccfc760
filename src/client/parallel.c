#include "config.h"
#include "client/parallel.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* The job every lane works on, published under the lock with a new
 * generation number; a worker runs each generation once. */
struct job {
	const uint8_t *lane_of;
	size_t count;
	parallel_fn fn;
	void *ctx;
};

struct worker {
	struct parallel *owner;
	unsigned lane;
	pthread_t thread;
};

struct parallel {
	unsigned n;
	pthread_mutex_t lock;
	pthread_cond_t start, finished;
	uint64_t generation;
	unsigned busy;                  /* workers still on this generation */
	bool stopping;
	struct job job;
	struct worker workers[PARALLEL_MAX];
};

static void run_lane(const struct job *job, unsigned lane)
{
	for (size_t i = 0; i < job->count; i++)
		if (job->lane_of[i] == lane)
			job->fn(job->ctx, lane, i);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct parallel *l = w->owner;
	uint64_t seen = 0;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		while (!l->stopping && l->generation == seen)
			pthread_cond_wait(&l->start, &l->lock);
		if (l->stopping)
			break;
		seen = l->generation;
		struct job job = l->job;
		pthread_mutex_unlock(&l->lock);
		run_lane(&job, w->lane);
		pthread_mutex_lock(&l->lock);
		if (--l->busy == 0)
			pthread_cond_signal(&l->finished);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

static void stop_workers(struct parallel *l, unsigned started)
{
	pthread_mutex_lock(&l->lock);
	l->stopping = true;
	pthread_cond_broadcast(&l->start);
	pthread_mutex_unlock(&l->lock);
	for (unsigned i = 1; i < started; i++)
		pthread_join(l->workers[i].thread, NULL);
}

struct parallel *parallel_new(unsigned n)
{
	struct parallel *l;

	if (n < 1 || n > PARALLEL_MAX || (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->n = n;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->start, NULL);
	pthread_cond_init(&l->finished, NULL);
	for (unsigned i = 1; i < n; i++) {
		l->workers[i] = (struct worker){ .owner = l, .lane = i };
		if (pthread_create(&l->workers[i].thread, NULL, work, &l->workers[i]) != 0) {
			l->n = i;
			parallel_free(l);
			return NULL;
		}
	}
	return l;
}

void parallel_free(struct parallel *l)
{
	if (l == NULL)
		return;
	stop_workers(l, l->n);
	pthread_cond_destroy(&l->finished);
	pthread_cond_destroy(&l->start);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

unsigned parallel_count(const struct parallel *l)
{
	return l->n;
}

/* FNV-1a: cheap, and spreads racer ids and race ids evenly enough. */
unsigned parallel_pick(const struct parallel *l, const char *key, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h % l->n;
}

void parallel_run(struct parallel *l, const uint8_t *lane_of, size_t count, parallel_fn fn, void *ctx)
{
	struct job job = { lane_of, count, fn, ctx };

	if (l->n > 1) {
		pthread_mutex_lock(&l->lock);
		l->job = job;
		l->busy = l->n - 1;
		l->generation++;
		pthread_cond_broadcast(&l->start);
		pthread_mutex_unlock(&l->lock);
	}
	run_lane(&job, 0);
	if (l->n > 1) {
		pthread_mutex_lock(&l->lock);
		while (l->busy > 0)
			pthread_cond_wait(&l->finished, &l->lock);
		pthread_mutex_unlock(&l->lock);
	}
}
