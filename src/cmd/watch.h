/* What watch, kiosk and demo share: running the dashboard over a live
 * consumer (and the hub monitor) until the user or a signal stops it. */
#ifndef ALLEYCAT_WATCH_H
#define ALLEYCAT_WATCH_H

#include <signal.h>

#include "race/live.h"
#include "ui/dashboard.h"

/* Colours from NO_COLOR, glyphs from the locale, the mouse on, and
 * default timings. */
void watch_terminal_defaults(struct dashboard_config *dash);

/* The options of how the dashboard looks and what it takes, shared by
 * watch, kiosk and demo: their getopt entries (numbered from
 * TERMINAL_OPT_FIRST, above every command's own), their help lines, and
 * their parser, which returns 1 when it took opt, 0 when opt is not one
 * of them, -1 on a bad value (with a message). */
enum {
	TERMINAL_OPT_NO_COLOR = 900,
	TERMINAL_OPT_NO_UNICODE,
	TERMINAL_OPT_NO_MOUSE,
	TERMINAL_OPT_THEME,
};

#define TERMINAL_OPTIONS                                                        \
	{ "no-color", no_argument, NULL, TERMINAL_OPT_NO_COLOR },               \
	{ "no-unicode", no_argument, NULL, TERMINAL_OPT_NO_UNICODE },           \
	{ "no-mouse", no_argument, NULL, TERMINAL_OPT_NO_MOUSE },               \
	{ "theme", required_argument, NULL, TERMINAL_OPT_THEME }

#define TERMINAL_OPTIONS_USAGE                                                             \
	"  --no-color            no colours (also when NO_COLOR is set)\n"                 \
	"  --no-unicode          plain ASCII drawing\n"                                    \
	"  --no-mouse            leave the mouse to the terminal (no clicks or wheel)\n"   \
	"  --theme THEME         dark or light: colours for the terminal's background\n"   \
	"                        (default dark)\n"

int watch_terminal_option(const char *command, int opt, const char *arg,
			  struct dashboard_config *dash);

/* Opens the live consumer and the monitor, runs the dashboard, and closes
 * both (committing the last window). Returns an exit status. */
int watch_dashboard(const struct dashboard_config *dash, const struct live_config *lc,
		    volatile sig_atomic_t *stop);

#endif
