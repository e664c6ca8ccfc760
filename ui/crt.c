#include "config.h"
#include "crt.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How an element looks in a colour tier: -1 is the terminal's default. */
struct crt_style {
	short fg, bg;
	attr_t attr;
};

static const struct crt_style scheme_256[CRT_ELEM_COUNT] = {
	[CRT_NORMAL] = { -1, -1, A_NORMAL },
	[CRT_TITLE] = { 231, 24, A_BOLD },
	[CRT_TAB] = { 252, 24, A_NORMAL },
	[CRT_TAB_ACTIVE] = { 16, 117, A_BOLD },
	[CRT_HEADING] = { 117, -1, A_BOLD },
	[CRT_LABEL] = { 245, -1, A_NORMAL },
	[CRT_TABLE_HEAD] = { 16, 109, A_NORMAL },
	[CRT_SELECTED] = { 16, 250, A_NORMAL },
	[CRT_FOLLOWED] = { 16, 221, A_BOLD },
	[CRT_CHANGED] = { 231, 238, A_NORMAL },
	[CRT_RANK_UP] = { 114, -1, A_BOLD },
	[CRT_RANK_DOWN] = { 203, -1, A_NORMAL },
	[CRT_BEATS_BEST] = { 220, -1, A_BOLD },
	[CRT_SPARK] = { 75, -1, A_NORMAL },
	[CRT_BAR_DONE] = { 114, -1, A_NORMAL },
	[CRT_BAR_TODO] = { 240, -1, A_NORMAL },
	[CRT_DIM] = { 244, -1, A_NORMAL },
	[CRT_OK] = { 114, -1, A_NORMAL },
	[CRT_WARN] = { 221, -1, A_NORMAL },
	[CRT_ERROR] = { 203, -1, A_BOLD },
	[CRT_BANNER] = { 231, 160, A_BOLD },
	[CRT_KEY] = { 16, 117, A_BOLD },
	[CRT_KEY_TEXT] = { -1, -1, A_NORMAL },
	[CRT_PROMPT] = { 231, 236, A_NORMAL },
};

static const struct crt_style scheme_8[CRT_ELEM_COUNT] = {
	[CRT_NORMAL] = { -1, -1, A_NORMAL },
	[CRT_TITLE] = { COLOR_WHITE, COLOR_BLUE, A_BOLD },
	[CRT_TAB] = { COLOR_WHITE, COLOR_BLUE, A_NORMAL },
	[CRT_TAB_ACTIVE] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL },
	[CRT_HEADING] = { COLOR_CYAN, -1, A_BOLD },
	[CRT_LABEL] = { -1, -1, A_NORMAL },
	[CRT_TABLE_HEAD] = { COLOR_BLACK, COLOR_GREEN, A_NORMAL },
	[CRT_SELECTED] = { COLOR_BLACK, COLOR_WHITE, A_NORMAL },
	[CRT_FOLLOWED] = { COLOR_BLACK, COLOR_YELLOW, A_NORMAL },
	[CRT_CHANGED] = { COLOR_WHITE, -1, A_BOLD },
	[CRT_RANK_UP] = { COLOR_GREEN, -1, A_BOLD },
	[CRT_RANK_DOWN] = { COLOR_RED, -1, A_NORMAL },
	[CRT_BEATS_BEST] = { COLOR_YELLOW, -1, A_BOLD },
	[CRT_SPARK] = { COLOR_CYAN, -1, A_NORMAL },
	[CRT_BAR_DONE] = { COLOR_GREEN, -1, A_NORMAL },
	[CRT_BAR_TODO] = { -1, -1, A_DIM },
	[CRT_DIM] = { -1, -1, A_DIM },
	[CRT_OK] = { COLOR_GREEN, -1, A_NORMAL },
	[CRT_WARN] = { COLOR_YELLOW, -1, A_NORMAL },
	[CRT_ERROR] = { COLOR_RED, -1, A_BOLD },
	[CRT_BANNER] = { COLOR_WHITE, COLOR_RED, A_BOLD },
	[CRT_KEY] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL },
	[CRT_KEY_TEXT] = { -1, -1, A_NORMAL },
	[CRT_PROMPT] = { COLOR_BLACK, COLOR_WHITE, A_NORMAL },
};

/* Monochrome: the elements told apart by attributes alone. */
static const attr_t scheme_mono[CRT_ELEM_COUNT] = {
	[CRT_NORMAL] = A_NORMAL,
	[CRT_TITLE] = A_REVERSE,
	[CRT_TAB] = A_REVERSE,
	[CRT_TAB_ACTIVE] = A_BOLD,
	[CRT_HEADING] = A_BOLD,
	[CRT_LABEL] = A_NORMAL,
	[CRT_TABLE_HEAD] = A_REVERSE,
	[CRT_SELECTED] = A_REVERSE,
	[CRT_FOLLOWED] = A_REVERSE | A_BOLD,
	[CRT_CHANGED] = A_BOLD,
	[CRT_RANK_UP] = A_BOLD,
	[CRT_RANK_DOWN] = A_NORMAL,
	[CRT_BEATS_BEST] = A_BOLD,
	[CRT_SPARK] = A_NORMAL,
	[CRT_BAR_DONE] = A_NORMAL,
	[CRT_BAR_TODO] = A_DIM,
	[CRT_DIM] = A_DIM,
	[CRT_OK] = A_NORMAL,
	[CRT_WARN] = A_BOLD,
	[CRT_ERROR] = A_BOLD,
	[CRT_BANNER] = A_REVERSE | A_BOLD,
	[CRT_KEY] = A_REVERSE,
	[CRT_KEY_TEXT] = A_NORMAL,
	[CRT_PROMPT] = A_UNDERLINE,
};

static const struct crt_glyphs glyphs_utf8 = {
	.up = "\u25b2", .down = "\u25bc", .best = "\u2605", .ellipsis = "\u2026",
	.bar_done = "\u2588", .bar_todo = "\u2591", .state_ok = "\u25cf", .state_bad = "\u25cb",
	.dash = "\u2014",
	.spark = { "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" },
	.spark_levels = 8,
};

static const struct crt_glyphs glyphs_ascii = {
	.up = "^", .down = "v", .best = "*", .ellipsis = "~", .bar_done = "#", .bar_todo = ".",
	.state_ok = "*", .state_bad = "o", .dash = "-",
	.spark = { ".", ":", "-", "=", "+", "*", "#", "%", "@" },
	.spark_levels = 9,
};

/* The screen an exit() would leave in raw mode. This is the module's one
 * piece of process state: atexit handlers take no argument. */
static SCREEN *active_screen;

static void crt_atexit(void)
{
	if (active_screen) {
		set_term(active_screen);
		endwin();
		active_screen = NULL;
	}
}

static bool locale_is_utf8(void)
{
	const char *codeset = nl_langinfo(CODESET);

	return codeset && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

static bool can_address(void)
{
	char *cup = tigetstr("cup");

	return cup != NULL && cup != (char *)-1;
}

static enum crt_tier pick_tier(bool color)
{
	const char *no_color = getenv("NO_COLOR");

	if (!color || (no_color && no_color[0]) || !has_colors() || start_color() == ERR)
		return CRT_TIER_MONO;
	if (COLORS >= 256 && COLOR_PAIRS > CRT_ELEM_COUNT)
		return CRT_TIER_256;
	if (COLORS >= 8 && COLOR_PAIRS > CRT_ELEM_COUNT)
		return CRT_TIER_8;
	return CRT_TIER_MONO;
}

/* One colour pair per element, pair numbers from 1 (0 is the default). */
static void scheme_apply(struct crt *crt)
{
	const struct crt_style *scheme = crt->tier == CRT_TIER_256 ? scheme_256 : scheme_8;
	bool defaults = use_default_colors() == OK;

	for (int e = 0; e < CRT_ELEM_COUNT; e++) {
		if (crt->tier == CRT_TIER_MONO) {
			crt->attrs[e] = scheme_mono[e];
			continue;
		}
		short fg = scheme[e].fg, bg = scheme[e].bg;
		/* Without default colours, -1 means white on black. */
		if (!defaults) {
			fg = fg < 0 ? COLOR_WHITE : fg;
			bg = bg < 0 ? COLOR_BLACK : bg;
		}
		init_pair((short)(e + 1), fg, bg);
		crt->attrs[e] = (attr_t)COLOR_PAIR(e + 1) | scheme[e].attr;
	}
}

int crt_init(struct crt *crt, bool color, bool unicode, char *err, size_t errlen)
{
	const char *term = getenv("TERM");

	memset(crt, 0, sizeof(*crt));
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "the dashboard needs a terminal on standard input and output");
		return -1;
	}
	if (term == NULL || term[0] == '\0') {
		snprintf(err, errlen, "TERM is not set: cannot draw the dashboard");
		return -1;
	}
	/* newterm, unlike initscr, returns on failure instead of exiting. */
	crt->screen = newterm(NULL, stdout, stdin);
	if (crt->screen == NULL) {
		snprintf(err, errlen, "cannot use the terminal type '%s'", term);
		return -1;
	}
	set_term(crt->screen);
	/* A terminal that cannot place the cursor (TERM=dumb) would get the
	 * frames one after another: refuse it. */
	if (!can_address()) {
		endwin();
		delscreen(crt->screen);
		crt->screen = NULL;
		snprintf(err, errlen, "the terminal type '%s' cannot move the cursor", term);
		return -1;
	}
	if (active_screen == NULL) {
		static bool registered;
		if (!registered && atexit(crt_atexit) == 0)
			registered = true;
	}
	active_screen = crt->screen;
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	crt->unicode = unicode && locale_is_utf8();
	crt->glyphs = crt->unicode ? &glyphs_utf8 : &glyphs_ascii;
	crt->tier = pick_tier(color);
	scheme_apply(crt);
	erase();
	return 0;
}

void crt_done(struct crt *crt)
{
	if (crt->screen == NULL)
		return;
	set_term(crt->screen);
	curs_set(1);
	endwin();
	delscreen(crt->screen);
	crt->screen = NULL;
	active_screen = NULL;
	fflush(stdout);
}

int crt_read_key(struct crt *crt, int timeout_ms)
{
	wint_t ch;
	int rc;

	(void)crt;
	timeout(timeout_ms);
	rc = get_wch(&ch);
	if (rc == ERR)
		return CRT_KEY_NONE;
	if (rc == KEY_CODE_YES)
		return CRT_FN((int)ch);
	return (int)ch;
}

void crt_force_redraw(struct crt *crt)
{
	(void)crt;
	clearok(curscr, TRUE);
}

void crt_flush(struct crt *crt)
{
	(void)crt;
	wnoutrefresh(stdscr);
	doupdate();
}
