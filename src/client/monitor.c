#include "config.h"
#include "client/monitor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/httpc.h"
#include "util/clock.h"
#include "util/log.h"

#define FETCH_MS 1000

struct monitor {
	struct endpoint hub;
	struct httpc *http;             /* the network thread's own */
	pthread_t thread;
	atomic_bool stop;               /* set by monitor_stop, read by the network thread */
	bool fetching;
	int64_t fetched_at_ms;          /* monotonic time of the last good fetch */
	pthread_mutex_t lock;
	struct monitor_view view;       /* under the lock */
	struct monitor_view scratch;    /* the network thread's own */
};

/* ---- parsing the metrics page ------------------------------------------ */

/* Reads the value of label `name` from a {a="x",b="y"} list into out. */
static bool label(const char *labels, const char *name, char *out, size_t size)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "%s=\"", name);
	p = strstr(labels, key);
	if (p == NULL)
		return false;
	p += strlen(key);
	size_t n = strcspn(p, "\"");
	if (n >= size)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static struct monitor_shard *shard_of(struct monitor_view *v, const char *labels)
{
	char stream[129], shard[32];

	if (!label(labels, "stream", stream, sizeof(stream)) ||
	    !label(labels, "shard", shard, sizeof(shard)))
		return NULL;
	for (size_t i = 0; i < v->shard_count; i++)
		if (strcmp(v->shards[i].stream, stream) == 0 &&
		    strcmp(v->shards[i].shard_id, shard) == 0)
			return &v->shards[i];
	if (v->shard_count == MONITOR_SHARDS_MAX)
		return NULL;
	struct monitor_shard *s = &v->shards[v->shard_count++];
	memset(s, 0, sizeof(*s));
	snprintf(s->stream, sizeof(s->stream), "%s", stream);
	snprintf(s->shard_id, sizeof(s->shard_id), "%s", shard);
	for (int i = 0; i < MONITOR_HISTORY; i++)
		s->records_history[i] = s->throttled_history[i] = -1;
	return s;
}

static struct monitor_mirror *mirror_of(struct monitor_view *v, const char *labels)
{
	char stream[129];
	struct monitor_mirror *m;

	if (!label(labels, "stream", stream, sizeof(stream)))
		return NULL;
	for (size_t i = 0; i < v->mirror_count; i++)
		if (strcmp(v->mirrors[i].stream, stream) == 0)
			return &v->mirrors[i];
	if (v->mirror_count == MONITOR_MIRRORS_MAX)
		return NULL;
	m = &v->mirrors[v->mirror_count++];
	memset(m, 0, sizeof(*m));
	snprintf(m->stream, sizeof(m->stream), "%s", stream);
	return m;
}

/* alleycat_mirror_lag_ms and alleycat_mirror_records_total by outcome. */
static void take_mirror_sample(struct monitor_view *v, const char *name, const char *labels,
			       double value)
{
	struct monitor_mirror *m = mirror_of(v, labels);
	char outcome[16];

	if (m == NULL)
		return;
	if (strcmp(name, "lag_ms") == 0) {
		m->lag_ms = (int64_t)value;
		return;
	}
	if (strcmp(name, "records_total") != 0 ||
	    !label(labels, "outcome", outcome, sizeof(outcome)))
		return;
	if (strcmp(outcome, "stored") == 0)
		m->stored = (uint64_t)value;
	else if (strcmp(outcome, "repeated") == 0)
		m->repeated = (uint64_t)value;
	else if (strcmp(outcome, "bad") == 0)
		m->bad = (uint64_t)value;
	else if (strcmp(outcome, "unreadable") == 0)
		m->unreadable = (uint64_t)value;
}

static void take_sample(struct monitor_view *v, const char *name, const char *labels,
			double value)
{
	struct monitor_shard *s;

	if (strncmp(name, "alleycat_mirror_", 16) == 0) {
		take_mirror_sample(v, name + 16, labels, value);
		return;
	}

	if (strcmp(name, "alleycat_consumer_lag_ms") == 0) {
		struct monitor_lag *l;
		if (v->lag_count == MONITOR_LAGS_MAX)
			return;
		l = &v->lags[v->lag_count];
		if (label(labels, "stream", l->stream, sizeof(l->stream)) &&
		    label(labels, "consumer", l->consumer, sizeof(l->consumer)) &&
		    label(labels, "shard", l->shard_id, sizeof(l->shard_id))) {
			l->lag_ms = (int64_t)value;
			v->lag_count++;
		}
		return;
	}
	if (strncmp(name, "alleycat_shard_", 15) != 0 || (s = shard_of(v, labels)) == NULL)
		return;
	name += 15;
	if (strcmp(name, "records_in_total") == 0)
		s->records_total = (uint64_t)value;
	else if (strcmp(name, "bytes_in_total") == 0)
		s->bytes_total = (uint64_t)value;
	else if (strcmp(name, "throttled_total") == 0)
		s->throttled_total = (uint64_t)value;
	else if (strcmp(name, "retained_records") == 0)
		s->retained_records = (uint64_t)value;
	else if (strcmp(name, "retained_bytes") == 0)
		s->retained_bytes = (uint64_t)value;
	else if (strcmp(name, "subscriptions") == 0)
		s->subscriptions = (int)value;
	else if (strcmp(name, "info") == 0 &&
		 !label(labels, "last_sequence_number", s->last_sequence, sizeof(s->last_sequence)))
		s->last_sequence[0] = '\0';
}

static double rate(uint64_t now, uint64_t before, double seconds)
{
	return now >= before && seconds > 0 ? (double)(now - before) / seconds : 0.0;
}

static void derive_mirrors(struct monitor_view *v, const struct monitor_view *previous,
			   double seconds)
{
	for (size_t i = 0; i < v->mirror_count; i++)
		for (size_t k = 0; previous && k < previous->mirror_count; k++)
			if (strcmp(previous->mirrors[k].stream, v->mirrors[i].stream) == 0)
				v->mirrors[i].stored_per_sec =
					rate(v->mirrors[i].stored, previous->mirrors[k].stored, seconds);
}

/* Rates against the previous view, and the history slid by one sample. */
static void derive(struct monitor_view *v, const struct monitor_view *previous, double seconds)
{
	derive_mirrors(v, previous, seconds);
	for (size_t i = 0; i < v->shard_count; i++) {
		struct monitor_shard *s = &v->shards[i];
		const struct monitor_shard *p = NULL;

		for (size_t k = 0; previous && k < previous->shard_count; k++)
			if (strcmp(previous->shards[k].stream, s->stream) == 0 &&
			    strcmp(previous->shards[k].shard_id, s->shard_id) == 0)
				p = &previous->shards[k];
		if (p == NULL)
			continue;
		s->records_per_sec = rate(s->records_total, p->records_total, seconds);
		s->bytes_per_sec = rate(s->bytes_total, p->bytes_total, seconds);
		s->throttled_per_sec = rate(s->throttled_total, p->throttled_total, seconds);
		memcpy(s->records_history, p->records_history + 1,
		       (MONITOR_HISTORY - 1) * sizeof(double));
		memcpy(s->throttled_history, p->throttled_history + 1,
		       (MONITOR_HISTORY - 1) * sizeof(double));
		s->records_history[MONITOR_HISTORY - 1] = s->records_per_sec;
		s->throttled_history[MONITOR_HISTORY - 1] = s->throttled_per_sec;
	}
}

int monitor_parse(const char *text, size_t len, const struct monitor_view *previous,
		  double seconds, struct monitor_view *view)
{
	const char *p = text, *end = text + len;
	size_t samples = 0;

	memset(view, 0, sizeof(*view));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char line[1024], name[128], labels[768] = "";
		double value;
		size_t n = (size_t)((eol ? eol : end) - p);

		if (n > 0 && n < sizeof(line) && *p != '#') {
			memcpy(line, p, n);
			line[n] = '\0';
			if (sscanf(line, "%127[a-z_]{%767[^}]} %lf", name, labels, &value) == 3 ||
			    sscanf(line, "%127[a-z_] %lf", name, &value) == 2) {
				take_sample(view, name, labels, value);
				samples++;
			}
		}
		p = eol ? eol + 1 : end;
	}
	if (samples == 0)
		return -1;
	derive(view, previous, seconds);
	return 0;
}

/* ---- fetching ------------------------------------------------------------ */

static void on_page(void *user, int status, const char *body, size_t len, const char *error)
{
	struct monitor *m = user;
	int64_t now = (int64_t)clock_mono_ms();

	m->fetching = false;
	if (status == HTTPC_CANCELLED)
		return;                 /* stopping: the view no longer matters */
	pthread_mutex_lock(&m->lock);
	if (status == 200 && monitor_parse(body, len, &m->view, (now - m->fetched_at_ms) / 1000.0,
					   &m->scratch) == 0) {
		m->scratch.reachable = true;
		m->scratch.fetched_ms = clock_wall_ms();
		m->view = m->scratch;
		m->fetched_at_ms = now;
	} else {
		m->view.reachable = false;
		snprintf(m->view.error, sizeof(m->view.error), "%s",
			 status ? "the hub's /metrics page is unreadable" : error);
	}
	pthread_mutex_unlock(&m->lock);
}

static void fetch(struct monitor *m)
{
	m->fetching = httpc_get(m->http, &m->hub, "/metrics", on_page, m) == 0;
	if (!m->fetching) {
		pthread_mutex_lock(&m->lock);
		m->view.reachable = false;
		snprintf(m->view.error, sizeof(m->view.error), "cannot reach the hub");
		pthread_mutex_unlock(&m->lock);
	}
}

/* A fetch a second, one at a time: the wait is libcurl's, cut short by
 * monitor_stop. */
static void *run(void *arg)
{
	struct monitor *m = arg;
	int64_t next = 0;

	while (!atomic_load(&m->stop)) {
		int64_t now = (int64_t)clock_mono_ms();
		if (!m->fetching && now >= next) {
			fetch(m);
			next = now + FETCH_MS;
		}
		httpc_poll(m->http, (int)(next > now ? next - now : FETCH_MS));
	}
	return NULL;
}

struct monitor *monitor_start(const struct endpoint *hub, int timeout_s, char *err,
			      size_t errlen)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->hub = *hub;
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->view.error, sizeof(m->view.error), "not fetched yet");
	m->http = httpc_new(timeout_s);
	if (m->http == NULL || pthread_create(&m->thread, NULL, run, m) != 0) {
		snprintf(err, errlen, "cannot start the monitor");
		httpc_free(m->http);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return NULL;
	}
	return m;
}

void monitor_stop(struct monitor *m)
{
	if (m == NULL)
		return;
	atomic_store(&m->stop, true);
	httpc_wakeup(m->http);
	pthread_join(m->thread, NULL);
	/* A fetch in flight is cancelled before the monitor it reports to goes. */
	httpc_free(m->http);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void monitor_snapshot(struct monitor *m, struct monitor_view *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->view;
	pthread_mutex_unlock(&m->lock);
}
