/* What watch, kiosk and demo share: running the dashboard over a live
 * consumer (and the hub monitor) until the user or a signal stops it. */
#ifndef ALLEYCAT_WATCH_H
#define ALLEYCAT_WATCH_H

#include <signal.h>

#include "race/live.h"
#include "ui/dashboard.h"

/* Colours from NO_COLOR, glyphs from the locale, and default timings. */
void watch_terminal_defaults(struct dashboard_config *dash);

/* Opens the live consumer and the monitor, runs the dashboard, and closes
 * both (committing the last window). Returns an exit status. */
int watch_dashboard(const struct dashboard_config *dash, const struct live_config *lc,
		    volatile sig_atomic_t *stop);

#endif
