/* The dashboard: the ncurses face of a consumer, for `watch`, `kiosk` and
 * `demo`. It owns the terminal while it runs and gives it back as it found
 * it on every way out. This header does not include curses: src/ calls it. */
#ifndef ALLEYCAT_DASHBOARD_H
#define ALLEYCAT_DASHBOARD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct live;
struct monitor;

enum dashboard_mode {
	DASHBOARD_WATCH,        /* interactive */
	DASHBOARD_KIOSK,        /* read-only, rotating views, never exits on errors */
};

struct dashboard_config {
	enum dashboard_mode mode;
	int delay_tenths;               /* redraw period, tenths of a second (default 5) */
	int64_t race_id;                /* the race to show, 0 = the busiest live race */
	int64_t racer_id;               /* the racer followed, 0 = none */
	bool color;                     /* false with --no-color or NO_COLOR */
	bool unicode;                   /* false with --no-unicode or a non-UTF-8 locale */
	bool mouse;                     /* false with --no-mouse */
	bool light;                     /* --theme light: colours for a light background */
	int rotate_s;                   /* kiosk: seconds per view (default 15) */
	int unlock_key;                 /* kiosk: the key that quits, 0 = none */
	const char *stream;             /* shown in the header */
	const char *endpoint;           /* shown in the header */
	const char *consumer;           /* the registered consumer name: the monitor
					 * picks out its lag; NULL when not known */
	const char *banner;             /* a line shown at the top, e.g. "demo", or NULL */
};

/* Runs until the user quits (watch), or until *stop becomes non-zero (set
 * from a signal handler). Calls live_poll on every pass: the engine and
 * store are used from this thread only. Returns 0, or -1 when the terminal
 * cannot be set up (with a message on stderr). */
int dashboard_run(const struct dashboard_config *config, struct live *live,
		  struct monitor *monitor, volatile sig_atomic_t *stop);

#endif
