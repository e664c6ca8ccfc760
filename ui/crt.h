/* The terminal: ncurses set up and torn down, keys read, and the colour
 * schemes and glyph tables the widgets draw with.
 *
 * Widgets never ask for a colour: they ask for an element ("the followed
 * racer's row", "beats the best") and the scheme of the terminal's tier
 * (256 colours, 8 colours, or monochrome from bold and reverse) says how it
 * looks. Glyphs come in two tables, UTF-8 and ASCII; the UTF-8 one is used
 * only in a UTF-8 locale. */
#ifndef ALLEYCAT_CRT_H
#define ALLEYCAT_CRT_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

/* Semantic colour elements. */
enum crt_elem {
	CRT_NORMAL,
	CRT_TITLE,              /* the top bar */
	CRT_TAB,                /* a view's name in the top bar */
	CRT_TAB_ACTIVE,         /* the view shown */
	CRT_HEADING,            /* a view's own header line */
	CRT_LABEL,              /* words beside values: "second", "racers" */
	CRT_TABLE_HEAD,
	CRT_SELECTED,           /* the cursor row */
	CRT_FOLLOWED,           /* the followed racer's row */
	CRT_CHANGED,            /* a row that changed rank a moment ago */
	CRT_RANK_UP,
	CRT_RANK_DOWN,
	CRT_BEATS_BEST,         /* a racer above the class best at this second */
	CRT_SPARK,
	CRT_BAR_DONE,
	CRT_BAR_TODO,
	CRT_DIM,                /* less important text */
	CRT_OK,
	CRT_WARN,
	CRT_ERROR,
	CRT_BANNER,             /* "reconnecting to the hub" */
	CRT_KEY,                /* a key in the footer */
	CRT_KEY_TEXT,           /* what it does */
	CRT_PROMPT,             /* the search line being typed */
	CRT_ELEM_COUNT
};

enum crt_tier {
	CRT_TIER_MONO,
	CRT_TIER_8,
	CRT_TIER_256,
};

#define CRT_SPARK_LEVELS_MAX 9

/* Glyphs: every one is one terminal column wide. */
struct crt_glyphs {
	const char *up, *down;          /* rank change */
	const char *best;               /* beats the class best */
	const char *ellipsis;           /* text cut short */
	const char *bar_done, *bar_todo;
	const char *state_ok, *state_bad; /* connection state mark */
	const char *dash;               /* nothing to show */
	const char *spark[CRT_SPARK_LEVELS_MAX];
	int spark_levels;
};

struct crt {
	SCREEN *screen;
	enum crt_tier tier;
	bool unicode;
	attr_t attrs[CRT_ELEM_COUNT];
	const struct crt_glyphs *glyphs;
};

/* Keys: characters as their code points, function keys (KEY_UP, KEY_F(1),
 * KEY_RESIZE) above every code point so the two never collide. */
#define CRT_KEY_NONE (-1)
#define CRT_FN(k) (0x110000 + (k))
#define CRT_KEY_ESC 27
#define CRT_KEY_ENTER(k) ((k) == '\n' || (k) == '\r' || (k) == CRT_FN(KEY_ENTER))
#define CRT_KEY_BACKSPACE(k) ((k) == 127 || (k) == 8 || (k) == CRT_FN(KEY_BACKSPACE))

/* Takes over the terminal (stdin and stdout must be terminals). color
 * false, or NO_COLOR set, gives the monochrome scheme; unicode false, or a
 * locale that is not UTF-8, gives the ASCII glyphs. Returns 0, or -1 with
 * a message in err and the terminal untouched. */
int crt_init(struct crt *crt, bool color, bool unicode, char *err, size_t errlen);

/* Gives the terminal back as it was. Safe to call twice. */
void crt_done(struct crt *crt);

static inline attr_t crt_attr(const struct crt *crt, enum crt_elem e)
{
	return crt->attrs[e];
}

/* The next key, waiting at most timeout_ms (0: do not wait); CRT_KEY_NONE
 * when none came. */
int crt_read_key(struct crt *crt, int timeout_ms);

/* Makes the next refresh repaint every cell, so a screen garbled by
 * another program's output recovers. */
void crt_force_redraw(struct crt *crt);

/* Sends what was drawn to the terminal. */
void crt_flush(struct crt *crt);

#endif
