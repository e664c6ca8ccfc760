#include "config.h"
#include "ui/terminal.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How an element looks in a colour tier: -1 is the terminal's default. */
struct term_style {
	short fg, bg;
	attr_t attr;
};

static const struct term_style scheme_256[TERM_ELEM_COUNT] = {
	[TERM_NORMAL] = { -1, -1, A_NORMAL },
	[TERM_TITLE] = { 231, 24, A_BOLD },
	[TERM_TAB] = { 252, 24, A_NORMAL },
	[TERM_TAB_ACTIVE] = { 16, 117, A_BOLD },
	[TERM_HEADING] = { 117, -1, A_BOLD },
	[TERM_LABEL] = { 245, -1, A_NORMAL },
	[TERM_TABLE_HEAD] = { 16, 109, A_NORMAL },
	[TERM_SELECTED] = { 16, 250, A_NORMAL },
	[TERM_FOLLOWED] = { 16, 221, A_BOLD },
	[TERM_CHANGED] = { 231, 238, A_NORMAL },
	[TERM_RANK_UP] = { 114, -1, A_BOLD },
	[TERM_RANK_DOWN] = { 203, -1, A_NORMAL },
	[TERM_BEATS_BEST] = { 220, -1, A_BOLD },
	[TERM_SPARK] = { 75, -1, A_NORMAL },
	[TERM_BAR_DONE] = { 114, -1, A_NORMAL },
	[TERM_BAR_TODO] = { 240, -1, A_NORMAL },
	[TERM_DIM] = { 244, -1, A_NORMAL },
	[TERM_OK] = { 114, -1, A_NORMAL },
	[TERM_WARN] = { 221, -1, A_NORMAL },
	[TERM_ERROR] = { 203, -1, A_BOLD },
	[TERM_BANNER] = { 231, 160, A_BOLD },
	[TERM_KEY] = { 16, 117, A_BOLD },
	[TERM_KEY_TEXT] = { -1, -1, A_NORMAL },
	[TERM_PROMPT] = { 231, 236, A_NORMAL },
};

static const struct term_style scheme_8[TERM_ELEM_COUNT] = {
	[TERM_NORMAL] = { -1, -1, A_NORMAL },
	[TERM_TITLE] = { COLOR_WHITE, COLOR_BLUE, A_BOLD },
	[TERM_TAB] = { COLOR_WHITE, COLOR_BLUE, A_NORMAL },
	[TERM_TAB_ACTIVE] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL },
	[TERM_HEADING] = { COLOR_CYAN, -1, A_BOLD },
	[TERM_LABEL] = { -1, -1, A_NORMAL },
	[TERM_TABLE_HEAD] = { COLOR_BLACK, COLOR_GREEN, A_NORMAL },
	[TERM_SELECTED] = { COLOR_BLACK, COLOR_WHITE, A_NORMAL },
	[TERM_FOLLOWED] = { COLOR_BLACK, COLOR_YELLOW, A_NORMAL },
	/* With a background of its own: bold white on the default one vanishes
	 * on a light terminal. */
	[TERM_CHANGED] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL },
	[TERM_RANK_UP] = { COLOR_GREEN, -1, A_BOLD },
	[TERM_RANK_DOWN] = { COLOR_RED, -1, A_NORMAL },
	[TERM_BEATS_BEST] = { COLOR_YELLOW, -1, A_BOLD },
	[TERM_SPARK] = { COLOR_CYAN, -1, A_NORMAL },
	[TERM_BAR_DONE] = { COLOR_GREEN, -1, A_NORMAL },
	[TERM_BAR_TODO] = { -1, -1, A_DIM },
	[TERM_DIM] = { -1, -1, A_DIM },
	[TERM_OK] = { COLOR_GREEN, -1, A_NORMAL },
	[TERM_WARN] = { COLOR_YELLOW, -1, A_NORMAL },
	[TERM_ERROR] = { COLOR_RED, -1, A_BOLD },
	[TERM_BANNER] = { COLOR_WHITE, COLOR_RED, A_BOLD },
	[TERM_KEY] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL },
	[TERM_KEY_TEXT] = { -1, -1, A_NORMAL },
	[TERM_PROMPT] = { COLOR_BLACK, COLOR_WHITE, A_NORMAL },
};

/* A light background: the elements drawn in a colour on the terminal's
 * own background take darker colours (yellow and light cyan vanish on
 * white); the ones with a background of their own stay. */
struct term_light {
	enum term_elem elem;
	short fg_256, fg_8;
};

static const struct term_light light_fg[] = {
	{ TERM_HEADING, 25, COLOR_BLUE },
	{ TERM_LABEL, 240, -1 },
	{ TERM_RANK_UP, 28, COLOR_GREEN },
	{ TERM_RANK_DOWN, 160, COLOR_RED },
	{ TERM_BEATS_BEST, 130, COLOR_MAGENTA },
	{ TERM_SPARK, 25, COLOR_BLUE },
	{ TERM_BAR_DONE, 28, COLOR_GREEN },
	{ TERM_BAR_TODO, 250, -1 },
	{ TERM_DIM, 242, -1 },
	{ TERM_OK, 28, COLOR_GREEN },
	{ TERM_WARN, 130, COLOR_MAGENTA },
	{ TERM_ERROR, 160, COLOR_RED },
};

/* Monochrome: the elements told apart by attributes alone. */
static const attr_t scheme_mono[TERM_ELEM_COUNT] = {
	[TERM_NORMAL] = A_NORMAL,
	[TERM_TITLE] = A_REVERSE,
	[TERM_TAB] = A_REVERSE,
	[TERM_TAB_ACTIVE] = A_BOLD,
	[TERM_HEADING] = A_BOLD,
	[TERM_LABEL] = A_NORMAL,
	[TERM_TABLE_HEAD] = A_REVERSE,
	[TERM_SELECTED] = A_REVERSE,
	[TERM_FOLLOWED] = A_REVERSE | A_BOLD,
	[TERM_CHANGED] = A_BOLD,
	[TERM_RANK_UP] = A_BOLD,
	[TERM_RANK_DOWN] = A_NORMAL,
	[TERM_BEATS_BEST] = A_BOLD,
	[TERM_SPARK] = A_NORMAL,
	[TERM_BAR_DONE] = A_NORMAL,
	[TERM_BAR_TODO] = A_DIM,
	[TERM_DIM] = A_DIM,
	[TERM_OK] = A_NORMAL,
	[TERM_WARN] = A_BOLD,
	[TERM_ERROR] = A_BOLD,
	[TERM_BANNER] = A_REVERSE | A_BOLD,
	[TERM_KEY] = A_REVERSE,
	[TERM_KEY_TEXT] = A_NORMAL,
	[TERM_PROMPT] = A_UNDERLINE,
};

static const struct term_glyphs glyphs_utf8 = {
	.up = "\u25b2", .down = "\u25bc", .best = "\u2605", .ellipsis = "\u2026",
	.bar_done = "\u2588", .bar_todo = "\u2591", .state_ok = "\u25cf", .state_bad = "\u25cb",
	.dash = "\u2014",
	.spark = { "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" },
	.spark_levels = 8,
};

static const struct term_glyphs glyphs_ascii = {
	.up = "^", .down = "v", .best = "*", .ellipsis = "~", .bar_done = "#", .bar_todo = ".",
	.state_ok = "*", .state_bad = "o", .dash = "-",
	.spark = { ".", ":", "-", "=", "+", "*", "#", "%", "@" },
	.spark_levels = 9,
};

/* The screen an exit() would leave in raw mode. This is the module's one
 * piece of process state: atexit handlers take no argument. */
static SCREEN *active_screen;

static void term_atexit(void)
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

static enum term_tier pick_tier(bool color)
{
	const char *no_color = getenv("NO_COLOR");

	if (!color || (no_color && no_color[0]) || !has_colors() || start_color() == ERR)
		return TERM_TIER_MONO;
	if (COLORS >= 256 && COLOR_PAIRS > TERM_ELEM_COUNT)
		return TERM_TIER_256;
	if (COLORS >= 8 && COLOR_PAIRS > TERM_ELEM_COUNT)
		return TERM_TIER_8;
	return TERM_TIER_MONO;
}

static short light_colour(const struct terminal *term, int e, short fg)
{
	for (size_t i = 0; i < sizeof(light_fg) / sizeof(light_fg[0]); i++)
		if ((int)light_fg[i].elem == e)
			return term->tier == TERM_TIER_256 ? light_fg[i].fg_256 : light_fg[i].fg_8;
	return fg;
}

/* One colour pair per element, pair numbers from 1 (0 is the default). */
static void scheme_apply(struct terminal *term, bool light)
{
	const struct term_style *scheme = term->tier == TERM_TIER_256 ? scheme_256 : scheme_8;
	bool defaults = term->tier != TERM_TIER_MONO && use_default_colors() == OK;

	for (int e = 0; e < TERM_ELEM_COUNT; e++) {
		if (term->tier == TERM_TIER_MONO) {
			term->attrs[e] = scheme_mono[e];
			continue;
		}
		short fg = light ? light_colour(term, e, scheme[e].fg) : scheme[e].fg;
		short bg = scheme[e].bg;
		/* Without default colours, -1 means white on black. */
		if (!defaults) {
			fg = fg < 0 ? COLOR_WHITE : fg;
			bg = bg < 0 ? COLOR_BLACK : bg;
		}
		init_pair((short)(e + 1), fg, bg);
		term->attrs[e] = (attr_t)COLOR_PAIR(e + 1) | scheme[e].attr;
	}
}

/* Clicks are reported as the button goes down, not after a wait for a
 * second click: a click follows a racer at once. */
static void mouse_on(void)
{
	mouseinterval(0);
	mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
}

struct term_mouse term_mouse_read(void)
{
	struct term_mouse m = { TERM_MOUSE_NONE, 0, 0 };
	MEVENT ev;

	if (getmouse(&ev) != OK)
		return m;
	m.y = ev.y;
	m.x = ev.x;
	if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED))
		m.kind = TERM_MOUSE_CLICK;
	else if (ev.bstate & BUTTON4_PRESSED)
		m.kind = TERM_MOUSE_WHEEL_UP;
	else if (ev.bstate & BUTTON5_PRESSED)
		m.kind = TERM_MOUSE_WHEEL_DOWN;
	return m;
}

int term_init(struct terminal *term, const struct term_options *options, char *err,
	      size_t errlen)
{
	const char *type = getenv("TERM");

	memset(term, 0, sizeof(*term));
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "the dashboard needs a terminal on standard input and output");
		return -1;
	}
	if (type == NULL || type[0] == '\0') {
		snprintf(err, errlen, "TERM is not set: cannot draw the dashboard");
		return -1;
	}
	/* newterm, unlike initscr, returns on failure instead of exiting. */
	term->screen = newterm(NULL, stdout, stdin);
	if (term->screen == NULL) {
		snprintf(err, errlen, "cannot use the terminal type '%s'", type);
		return -1;
	}
	set_term(term->screen);
	/* A terminal that cannot place the cursor (TERM=dumb) would get the
	 * frames one after another: refuse it. */
	if (!can_address()) {
		endwin();
		delscreen(term->screen);
		term->screen = NULL;
		snprintf(err, errlen, "the terminal type '%s' cannot move the cursor", type);
		return -1;
	}
	if (active_screen == NULL) {
		static bool registered;
		if (!registered && atexit(term_atexit) == 0)
			registered = true;
	}
	active_screen = term->screen;
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	if (options->mouse)
		mouse_on();
	term->unicode = options->unicode && locale_is_utf8();
	term->glyphs = term->unicode ? &glyphs_utf8 : &glyphs_ascii;
	term->tier = pick_tier(options->color);
	scheme_apply(term, options->light);
	erase();
	return 0;
}

void term_done(struct terminal *term)
{
	if (term->screen == NULL)
		return;
	set_term(term->screen);
	curs_set(1);
	endwin();
	delscreen(term->screen);
	term->screen = NULL;
	active_screen = NULL;
	fflush(stdout);
}

int term_read_key(struct terminal *term, int timeout_ms)
{
	wint_t ch;
	int rc;

	(void)term;
	timeout(timeout_ms);
	rc = get_wch(&ch);
	if (rc == ERR)
		return TERM_KEY_NONE;
	if (rc == KEY_CODE_YES)
		return TERM_FN((int)ch);
	return (int)ch;
}

void term_force_redraw(struct terminal *term)
{
	(void)term;
	clearok(curscr, TRUE);
}

void term_flush(struct terminal *term)
{
	(void)term;
	wnoutrefresh(stdscr);
	doupdate();
}
