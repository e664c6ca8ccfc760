#include "config.h"
#include "util/log.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* The logger is the process's one shared sink: threads log through it, so
 * its settings are guarded by a lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level current_level = LOG_WARN;
static log_sink_fn current_sink;
static void *current_user;

/* Warnings and errors told on stderr while no sink was set, under the
 * lock: the next sink hears them too. A dashboard's screen hides what was
 * printed before it opened, and a warning nobody reads warns nobody. */
static struct {
	enum log_level level;
	char text[LOG_MESSAGE_MAX];
} held[LOG_HELD_MAX];
static size_t held_count;

/* The last message that went out and its repeats since, under the lock. */
static struct {
	bool valid;
	enum log_level level;
	char text[LOG_MESSAGE_MAX];
	unsigned long repeats;          /* not reported yet */
	double interval_ms;             /* the wait before the next report */
	double next_report_ms;          /* on the monotonic clock */
} last;

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

static void report_repeats(void);

/* Under the lock. The first ones are kept: they are what went wrong first. */
static void hold(enum log_level level, const char *message)
{
	if (level > LOG_WARN || held_count == LOG_HELD_MAX)
		return;
	held[held_count].level = level;
	snprintf(held[held_count].text, sizeof(held[held_count].text), "%s", message);
	held_count++;
}

void log_set_sink(log_sink_fn sink, void *user)
{
	pthread_mutex_lock(&lock);
	/* The old sink hears how its last message ended; the new one hears
	 * the next message, repeat or not. */
	report_repeats();
	last.valid = false;
	current_sink = sink;
	current_user = user;
	if (sink) {
		for (size_t i = 0; i < held_count; i++)
			sink(held[i].level, held[i].text, user);
		held_count = 0;
	}
	pthread_mutex_unlock(&lock);
}

void log_keep(enum log_level level, const char *message)
{
	pthread_mutex_lock(&lock);
	hold(level, message);
	pthread_mutex_unlock(&lock);
}

/* Under the lock. */
static void write_out(enum log_level level, const char *message)
{
	if (current_sink) {
		current_sink(level, message, current_user);
	} else {
		fprintf(stderr, "alleycat: %s: %s\n", level_names[level], message);
		hold(level, message);
	}
}

/* Under the lock. */
static void report_repeats(void)
{
	char line[LOG_MESSAGE_MAX + 40];

	if (!last.valid || last.repeats == 0)
		return;
	snprintf(line, sizeof(line), "%s (repeated %lu time%s)", last.text, last.repeats,
		 last.repeats == 1 ? "" : "s");
	write_out(last.level, line);
	last.repeats = 0;
}

/* Under the lock: counts a repeat, and reports the count once it has
 * waited long enough, waiting twice as long for the next. */
static void repeat(double now)
{
	last.repeats++;
	if (now < last.next_report_ms)
		return;
	report_repeats();
	last.interval_ms = last.interval_ms * 2 > LOG_REPEAT_MAX_MS ? LOG_REPEAT_MAX_MS
								    : last.interval_ms * 2;
	last.next_report_ms = now + last.interval_ms;
}

static void emit(enum log_level level, const char *message)
{
	double now = clock_mono_ms();

	pthread_mutex_lock(&lock);
	if (level > current_level) {
		pthread_mutex_unlock(&lock);
		return;
	}
	if (last.valid && level == last.level && strcmp(message, last.text) == 0) {
		repeat(now);
	} else {
		report_repeats();
		write_out(level, message);
		last.valid = true;
		last.level = level;
		snprintf(last.text, sizeof(last.text), "%s", message);
		last.interval_ms = LOG_REPEAT_FIRST_MS;
		last.next_report_ms = now + LOG_REPEAT_FIRST_MS;
	}
	pthread_mutex_unlock(&lock);
}

void log_flush(void)
{
	pthread_mutex_lock(&lock);
	report_repeats();
	pthread_mutex_unlock(&lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char message[LOG_MESSAGE_MAX];
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
	char message[LOG_MESSAGE_MAX];
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
