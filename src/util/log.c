#include "config.h"
#include "util/log.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* The logger is the process's one shared sink: threads log through it, so
 * its settings are guarded by a lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level current_level = LOG_WARN;
static log_sink_fn current_sink;
static void *current_user;

int log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void log_set_level(enum log_level level)
{
	pthread_mutex_lock(&lock);
	current_level = level;
	pthread_mutex_unlock(&lock);
	log_capture_lws();
}

enum log_level log_get_level(void)
{
	pthread_mutex_lock(&lock);
	enum log_level level = current_level;
	pthread_mutex_unlock(&lock);
	return level;
}

void log_set_sink(log_sink_fn sink, void *user)
{
	pthread_mutex_lock(&lock);
	current_sink = sink;
	current_user = user;
	pthread_mutex_unlock(&lock);
}

static void emit(enum log_level level, const char *message)
{
	pthread_mutex_lock(&lock);
	if (level <= current_level) {
		if (current_sink)
			current_sink(level, message, current_user);
		else
			fprintf(stderr, "alleycat: %s: %s\n", level_names[level], message);
	}
	pthread_mutex_unlock(&lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	emit(level, message);
}

static void lws_emit(int lws_level, const char *line)
{
	enum log_level level = lws_level == LLL_ERR    ? LOG_ERROR
			       : lws_level == LLL_WARN ? LOG_WARN
			       : lws_level == LLL_NOTICE ? LOG_INFO
							 : LOG_DEBUG;
	char message[1024];
	size_t len;

	/* lws lines carry their own timestamp prefix and trailing newline. */
	snprintf(message, sizeof(message), "lws: %s", line);
	len = strlen(message);
	while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == '\r'))
		message[--len] = '\0';
	emit(level, message);
}

void log_capture_lws(void)
{
	int mask = LLL_ERR;
	enum log_level level = log_get_level();

	if (level >= LOG_WARN)
		mask |= LLL_WARN;
	if (level >= LOG_INFO)
		mask |= LLL_NOTICE;
	if (level >= LOG_DEBUG)
		mask |= LLL_INFO;
	lws_set_log_level(mask, lws_emit);
}
