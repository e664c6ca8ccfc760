/* The terminal: ncurses set up and torn down, keys read, and the colour
 * schemes and glyph tables the widgets draw with.
 *
 * Widgets never ask for a colour: they ask for an element ("the followed
 * racer's row", "beats the best") and the scheme of the terminal's tier
 * (256 colours, 8 colours, or monochrome from bold and reverse) says how it
 * looks. Glyphs come in two tables, UTF-8 and ASCII; the UTF-8 one is used
 * only in a UTF-8 locale. */
#ifndef ALLEYCAT_TERMINAL_H
#define ALLEYCAT_TERMINAL_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

/* Semantic colour elements. */
enum term_elem {
	TERM_NORMAL,
	TERM_TITLE,              /* the top bar */
	TERM_TAB,                /* a view's name in the top bar */
	TERM_TAB_ACTIVE,         /* the view shown */
	TERM_HEADING,            /* a view's own header line */
	TERM_LABEL,              /* words beside values: "second", "racers" */
	TERM_TABLE_HEAD,
	TERM_SELECTED,           /* the cursor row */
	TERM_FOLLOWED,           /* the followed racer's row */
	TERM_CHANGED,            /* a row that changed rank a moment ago */
	TERM_RANK_UP,
	TERM_RANK_DOWN,
	TERM_BEATS_BEST,         /* a racer above the class best at this second */
	TERM_SPARK,
	TERM_BAR_DONE,
	TERM_BAR_TODO,
	TERM_DIM,                /* less important text */
	TERM_OK,
	TERM_WARN,
	TERM_ERROR,
	TERM_BANNER,             /* "reconnecting to the hub" */
	TERM_KEY,                /* a key in the footer */
	TERM_KEY_TEXT,           /* what it does */
	TERM_PROMPT,             /* the search line being typed */
	TERM_ELEM_COUNT
};

enum term_tier {
	TERM_TIER_MONO,
	TERM_TIER_8,
	TERM_TIER_256,
};

#define TERM_SPARK_LEVELS_MAX 9

/* Glyphs: every one is one terminal column wide. */
struct term_glyphs {
	const char *up, *down;          /* rank change */
	const char *best;               /* beats the class best */
	const char *ellipsis;           /* text cut short */
	const char *bar_done, *bar_todo;
	const char *state_ok, *state_bad; /* connection state mark */
	const char *dash;               /* nothing to show */
	const char *spark[TERM_SPARK_LEVELS_MAX];
	int spark_levels;
};

struct terminal {
	SCREEN *screen;
	enum term_tier tier;
	bool unicode;
	attr_t attrs[TERM_ELEM_COUNT];
	const struct term_glyphs *glyphs;
};

/* Keys: characters as their code points, function keys (KEY_UP, KEY_F(1),
 * KEY_RESIZE) above every code point so the two never collide. */
#define TERM_KEY_NONE (-1)
#define TERM_FN(k) (0x110000 + (k))
#define TERM_KEY_ESC 27
#define TERM_KEY_ENTER(k) ((k) == '\n' || (k) == '\r' || (k) == TERM_FN(KEY_ENTER))
#define TERM_KEY_BACKSPACE(k) ((k) == 127 || (k) == 8 || (k) == TERM_FN(KEY_BACKSPACE))

/* What the user asked of the terminal. */
struct term_options {
	bool color;                     /* false, or NO_COLOR set: the monochrome scheme */
	bool unicode;                   /* false, or a locale not UTF-8: the ASCII glyphs */
	bool mouse;                     /* report clicks and the wheel as TERM_FN(KEY_MOUSE) */
	bool light;                     /* colours for a light background */
};

/* Takes over the terminal (stdin and stdout must be terminals). Returns
 * 0, or -1 with a message in err and the terminal untouched. */
int term_init(struct terminal *term, const struct term_options *options, char *err,
	      size_t errlen);

/* What the mouse did, read after the key TERM_FN(KEY_MOUSE). */
enum term_mouse_kind {
	TERM_MOUSE_NONE,                /* a release, a move, or nothing we use */
	TERM_MOUSE_CLICK,               /* the first button went down */
	TERM_MOUSE_WHEEL_UP,
	TERM_MOUSE_WHEEL_DOWN,
};

struct term_mouse {
	enum term_mouse_kind kind;
	int y, x;                       /* the cell, 0-based */
};

struct term_mouse term_mouse_read(void);

/* Gives the terminal back as it was. Safe to call twice. */
void term_done(struct terminal *term);

static inline attr_t term_attr(const struct terminal *term, enum term_elem e)
{
	return term->attrs[e];
}

/* The next key, waiting at most timeout_ms (0: do not wait); TERM_KEY_NONE
 * when none came. */
int term_read_key(struct terminal *term, int timeout_ms);

/* Makes the next refresh repaint every cell, so a screen garbled by
 * another program's output recovers. */
void term_force_redraw(struct terminal *term);

/* Sends what was drawn to the terminal. */
void term_flush(struct terminal *term);

#endif
