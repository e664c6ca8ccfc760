#include "config.h"
#include "ui/widgets.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "util/sanitize.h"
#include "wire/telemetry.h"

/* Room for a sanitized line: each character may grow to three bytes. */
#define TEXT_MAX 1024

/* Walks text a character at a time: its bytes, its columns, and what to
 * draw for it (a character the terminal cannot place, wcwidth < 0, is
 * drawn as the replacement character). */
struct text_walk {
	const char *p;
	mbstate_t state;
	bool unicode;
};

static const char *replacement(bool unicode)
{
	return unicode ? "\xef\xbf\xbd" : "?";
}

/* The next character: sets *piece, *len and *cols; false at the end. */
static bool walk_next(struct text_walk *w, const char **piece, size_t *len, int *cols)
{
	wchar_t wc;
	size_t n;
	int width;

	if (*w->p == '\0')
		return false;
	n = mbrtowc(&wc, w->p, strlen(w->p), &w->state);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		memset(&w->state, 0, sizeof(w->state));
		*piece = replacement(w->unicode);
		*len = strlen(*piece);
		*cols = 1;
		w->p += 1;
		return true;
	}
	width = wcwidth(wc);
	if (width < 0) {
		*piece = replacement(w->unicode);
		*len = strlen(*piece);
		*cols = 1;
	} else {
		*piece = w->p;
		*len = n;
		*cols = width;
	}
	w->p += n;
	return true;
}

int widget_width(const char *text)
{
	struct text_walk w = { .p = text, .unicode = true };
	const char *piece;
	size_t len;
	int cols, total = 0;

	while (walk_next(&w, &piece, &len, &cols))
		total += cols;
	return total;
}

/* Copies the characters of text that fit in width columns into out.
 * A character of no width with nothing before it to join is dropped: it
 * would mark the cell of the column before the field. Returns the columns. */
static int text_fit(const char *text, int width, bool unicode, char *out, size_t size)
{
	struct text_walk w = { .p = text, .unicode = unicode };
	const char *piece;
	size_t len, o = 0;
	int cols, used = 0;

	out[0] = '\0';
	while (walk_next(&w, &piece, &len, &cols)) {
		if (cols == 0 && used == 0)
			continue;
		if (used + cols > width || o + len + 1 > size)
			break;
		memcpy(out + o, piece, len);
		o += len;
		used += cols;
	}
	out[o] = '\0';
	return used;
}

/* Text cut to width, with the ellipsis glyph in the last column when cut. */
static int text_cut(const struct terminal *term, const char *text, int width, char *out, size_t size)
{
	int full = widget_width(text), used;
	size_t o;

	if (full <= width)
		return text_fit(text, width, term->unicode, out, size);
	if (width <= 1)
		return text_fit(text, width, term->unicode, out, size);
	used = text_fit(text, width - 1, term->unicode, out, size);
	o = strlen(out);
	if (o + strlen(term->glyphs->ellipsis) + 1 <= size) {
		strcpy(out + o, term->glyphs->ellipsis);
		used++;
	}
	return used;
}

void widget_fill(int y, int x, int width, attr_t attr)
{
	if (y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + width > COLS)
		width = COLS - x;
	if (width <= 0)
		return;
	attrset(attr);
	mvhline(y, x, ' ', width);
}

int widget_text(const struct terminal *term, int y, int x, int width, attr_t attr,
		enum widget_align align, const char *text)
{
	char cut[TEXT_MAX];
	int used, pad_left = 0;

	if (y < 0 || y >= LINES || x < 0 || x >= COLS || width <= 0)
		return 0;
	if (x + width > COLS)
		width = COLS - x;
	used = text_cut(term, text, width, cut, sizeof(cut));
	if (align == WIDGET_RIGHT)
		pad_left = width - used;
	else if (align == WIDGET_CENTER)
		pad_left = (width - used) / 2;
	widget_fill(y, x, width, attr);
	attrset(attr);
	mvaddstr(y, x + pad_left, cut);
	return used;
}

int widget_untrusted(const struct terminal *term, int y, int x, int width, attr_t attr,
		     enum widget_align align, const char *text)
{
	char clean[TEXT_MAX];

	sanitize_text(text ? text : "", clean, sizeof(clean), TEXT_MAX / 4, term->unicode);
	return widget_text(term, y, x, width, attr, align, clean);
}

int widget_printf(const struct terminal *term, int y, int x, int width, attr_t attr,
		  enum widget_align align, const char *fmt, ...)
{
	char text[TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return widget_text(term, y, x, width, attr, align, text);
}

/* ---- graphs ------------------------------------------------------------ */

static int spark_level(double value, double lo, double hi, int levels)
{
	int level;

	if (hi <= lo)
		return 0;
	level = (int)ceil((value - lo) / (hi - lo) * levels) - 1;
	return level < 0 ? 0 : level >= levels ? levels - 1 : level;
}

void widget_sparkline(const struct terminal *term, int y, int x, int width, attr_t attr,
		      const double *values, size_t n, double lo, double hi)
{
	const struct term_glyphs *g = term->glyphs;
	size_t shown = n < (size_t)width ? n : (size_t)width;
	const double *v = values + (n - shown);

	if (width <= 0 || y < 0 || y >= LINES)
		return;
	if (hi <= lo) {
		lo = hi = 0;
		for (size_t i = 0; i < shown; i++)
			hi = v[i] > hi ? v[i] : hi;
	}
	widget_fill(y, x, width - (int)shown, attr);
	attrset(attr);
	move(y, x + width - (int)shown);
	for (size_t i = 0; i < shown; i++) {
		if (x + width - (int)shown + (int)i >= COLS)
			break;
		addstr(v[i] < 0 ? " " : g->spark[spark_level(v[i], lo, hi, g->spark_levels)]);
	}
}

void widget_bar(const struct terminal *term, int y, int x, int width, double fraction)
{
	int done;

	if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + width > COLS)
		width = COLS - x;
	fraction = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction;
	done = (int)lround(fraction * width);
	move(y, x);
	attrset(term_attr(term, TERM_BAR_DONE));
	for (int i = 0; i < done; i++)
		addstr(term->glyphs->bar_done);
	attrset(term_attr(term, TERM_BAR_TODO));
	for (int i = done; i < width; i++)
		addstr(term->glyphs->bar_todo);
}

/* ---- footer ------------------------------------------------------------ */

void widget_footer(const struct terminal *term, int y, int width, const struct widget_key *keys,
		   size_t n)
{
	int x = 0;

	widget_fill(y, 0, width, term_attr(term, TERM_KEY_TEXT));
	for (size_t i = 0; i < n; i++) {
		int kw = widget_width(keys[i].key), tw = widget_width(keys[i].text);
		/* "q Quit  ? Help": the key in its colour, a space, what it does. */
		if (x + kw + 1 + tw > width)
			break;
		x += widget_text(term, y, x, kw, term_attr(term, TERM_KEY), WIDGET_LEFT, keys[i].key);
		x += widget_text(term, y, x, tw + 3, term_attr(term, TERM_KEY_TEXT), WIDGET_LEFT, " ");
		x += widget_text(term, y, x, tw + 2, term_attr(term, TERM_KEY_TEXT), WIDGET_LEFT,
				 keys[i].text) + 2;
	}
}

/* ---- tables ------------------------------------------------------------ */

static int columns_need(const struct widget_column *cols, size_t n)
{
	int need = 0, shown = 0;

	for (size_t i = 0; i < n; i++)
		if (cols[i].w >= 0) {
			need += cols[i].width;
			shown++;
		}
	return need + (shown > 0 ? shown - 1 : 0);
}

/* The optional column to drop next, or -1. */
static int columns_next_drop(const struct widget_column *cols, size_t n)
{
	int pick = -1;

	for (size_t i = 0; i < n; i++)
		if (cols[i].w >= 0 && cols[i].drop > 0 &&
		    (pick < 0 || cols[i].drop > cols[pick].drop))
			pick = (int)i;
	return pick;
}

/* The room a flexible column can still take. */
static int flex_room(const struct widget_column *c, int extra)
{
	if (!c->flex || c->w <= 0)
		return 0;
	return c->max > 0 ? c->max - c->w : extra;
}

/* Spreads extra columns evenly over the flexible columns, each up to its
 * most: a wide screen widens every one of them, not the first alone. */
static void columns_spread(struct widget_column *cols, size_t n, int extra)
{
	while (extra > 0) {
		int takers = 0, share;
		for (size_t i = 0; i < n; i++)
			takers += flex_room(&cols[i], extra) > 0;
		if (takers == 0)
			return;
		share = extra / takers > 0 ? extra / takers : 1;
		for (size_t i = 0; i < n && extra > 0; i++) {
			int more = flex_room(&cols[i], extra);
			more = more > share ? share : more;
			cols[i].w += more;
			extra -= more;
		}
	}
}

void widget_columns_layout(struct widget_column *cols, size_t n, int width)
{
	int x = 0, drop, extra;

	/* w < 0 marks a dropped column while laying out. */
	for (size_t i = 0; i < n; i++)
		cols[i].w = 0;
	while (columns_need(cols, n) > width && (drop = columns_next_drop(cols, n)) >= 0)
		cols[drop].w = -1;
	extra = width - columns_need(cols, n);
	for (size_t i = 0; i < n; i++)
		cols[i].w = cols[i].w < 0 ? 0 : cols[i].width;
	columns_spread(cols, n, extra);
	for (size_t i = 0; i < n; i++) {
		cols[i].x = cols[i].w > 0 ? x : 0;
		x += cols[i].w > 0 ? cols[i].w + 1 : 0;
	}
}

/* The columns the laid-out table takes. */
int widget_columns_width(const struct widget_column *cols, size_t n)
{
	int width = 0;

	for (size_t i = 0; i < n; i++)
		if (cols[i].w > 0 && cols[i].x + cols[i].w > width)
			width = cols[i].x + cols[i].w;
	return width;
}

void widget_columns_head_sorted(const struct terminal *term, int y, int x, int width,
				const struct widget_column *cols, size_t n, size_t sorted,
				const char *mark)
{
	attr_t attr = term_attr(term, TERM_TABLE_HEAD);
	char title[64];

	widget_fill(y, x, width, attr);
	for (size_t i = 0; i < n; i++) {
		if (cols[i].w == 0)
			continue;
		if (i != sorted)
			snprintf(title, sizeof(title), "%s", cols[i].title);
		else
			snprintf(title, sizeof(title), "%s%s%s", cols[i].right ? mark : "",
				 cols[i].title, cols[i].right ? "" : mark);
		widget_cell(term, y, x, &cols[i], i == sorted ? attr | A_BOLD : attr, title);
	}
}

void widget_columns_head(const struct terminal *term, int y, int x, int width,
			 const struct widget_column *cols, size_t n)
{
	widget_columns_head_sorted(term, y, x, width, cols, n, n, "");
}

size_t widget_column_at(const struct widget_column *cols, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		if (cols[i].w > 0 && x >= cols[i].x && x < cols[i].x + cols[i].w)
			return i;
	return n;
}

void widget_cell(const struct terminal *term, int y, int x, const struct widget_column *col,
		 attr_t attr, const char *text)
{
	if (col->w > 0)
		widget_text(term, y, x + col->x, col->w, attr, col->right ? WIDGET_RIGHT : WIDGET_LEFT,
			    text);
}

void widget_cell_untrusted(const struct terminal *term, int y, int x, const struct widget_column *col,
			   attr_t attr, const char *text)
{
	if (col->w > 0)
		widget_untrusted(term, y, x + col->x, col->w, attr,
				 col->right ? WIDGET_RIGHT : WIDGET_LEFT, text);
}

/* ---- numbers ----------------------------------------------------------- */

void widget_fmt_rate(double value, char *buf, size_t size)
{
	if (value < 0)
		snprintf(buf, size, "-");
	else if (value < 10)
		snprintf(buf, size, "%.1f", value);
	else if (value < 10000)
		snprintf(buf, size, "%.0f", value);
	else if (value < 1e6)
		snprintf(buf, size, "%.1fk", value / 1e3);
	else if (value < 1e9)
		snprintf(buf, size, "%.1fM", value / 1e6);
	else
		snprintf(buf, size, "%.1fG", value / 1e9);
}

void widget_fmt_count(uint64_t value, char *buf, size_t size)
{
	if (value < 10000)
		snprintf(buf, size, "%llu", (unsigned long long)value);
	else
		widget_fmt_rate((double)value, buf, size);
}

void widget_fmt_age(int64_t ms, char *buf, size_t size)
{
	if (ms < 0)
		ms = 0;
	if (ms < 10000)
		snprintf(buf, size, "%.1f s", ms / 1000.0);
	else if (ms < 120000)
		snprintf(buf, size, "%lld s", (long long)(ms / 1000));
	else if (ms < 7200000)
		snprintf(buf, size, "%lld min", (long long)(ms / 60000));
	else
		snprintf(buf, size, "%lld h", (long long)(ms / 3600000));
}

bool widget_scroll_key(int *scroll, int lines, int page, int key)
{
	int most = lines > page ? lines - page : 0;

	switch (key) {
	case TERM_FN(KEY_UP): case 'k': (*scroll)--; break;
	case TERM_FN(KEY_DOWN): case 'j': (*scroll)++; break;
	case TERM_FN(KEY_PPAGE): *scroll -= page; break;
	case TERM_FN(KEY_NPAGE): case ' ': *scroll += page; break;
	case TERM_FN(KEY_HOME): case 'g': *scroll = 0; break;
	default: return false;
	}
	*scroll = *scroll < 0 ? 0 : *scroll > most ? most : *scroll;
	return true;
}

bool widget_row_at(int y, int first_y, int page, size_t top, size_t count, size_t *row)
{
	if (y < first_y || y >= first_y + page || top + (size_t)(y - first_y) >= count)
		return false;
	*row = top + (size_t)(y - first_y);
	return true;
}
