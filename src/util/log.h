/* The logger: leveled messages for operators.
 *
 * Messages go to stderr as "alleycat: LEVEL: text" until a sink is set (the
 * dashboard sets one while ncurses owns the screen). libwebsockets' own log
 * is routed here too, so nothing writes to the terminal behind our back.
 *
 * A message the same as the one before it (a retry failing the same way)
 * goes out once; its repeats are counted and reported as "TEXT (repeated N
 * times)": when another message comes, at log_flush, and while they go on
 * after LOG_REPEAT_FIRST_MS, then after twice as long each time, up to
 * LOG_REPEAT_MAX_MS. A program that retries for hours says so a few lines
 * a day, not a line per attempt. */
#ifndef ALLEYCAT_LOG_H
#define ALLEYCAT_LOG_H

#define LOG_MESSAGE_MAX 1024
#define LOG_REPEAT_FIRST_MS 10000
#define LOG_REPEAT_MAX_MS 600000
#define LOG_HELD_MAX 8                  /* messages kept for a sink set later */

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

typedef void (*log_sink_fn)(enum log_level level, const char *message, void *user);

/* Parses "error", "warn", "info" or "debug"; -1 when it is none of them. */
int log_level_parse(const char *name);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Sends messages to sink instead of stderr; NULL restores stderr. A
 * sink set hears first the warnings and errors that went to stderr while
 * there was none (the first LOG_HELD_MAX of them): a full-screen sink
 * hides what was printed before it. */
void log_set_sink(log_sink_fn sink, void *user);

/* Keeps a warning or error told on stderr some other way (the command
 * line's own messages) for the next sink, as if it had been logged. */
void log_keep(enum log_level level, const char *message);

/* Routes libwebsockets' log into ours at the current level. */
void log_capture_lws(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reports the repeats of the last message not reported yet, if any: before
 * a program's last words, and before the sink changes. */
void log_flush(void);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
