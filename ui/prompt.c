#include "config.h"
#include "ui/prompt.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "ui/terminal.h"
#include "wire/telemetry.h"

static void prompt_fold(struct prompt *p)
{
	for (size_t i = 0; i <= p->len; i++)
		p->folded[i] = (wchar_t)towlower((wint_t)p->text[i]);
}

void prompt_start(struct prompt *p)
{
	p->active = true;
}

void prompt_clear(struct prompt *p)
{
	p->active = false;
	p->len = 0;
	p->text[0] = L'\0';
	p->folded[0] = L'\0';
}

enum prompt_result prompt_key(struct prompt *p, int key)
{
	if (key == TERM_KEY_ESC) {
		prompt_clear(p);
		return PROMPT_CANCELLED;
	}
	if (TERM_KEY_ENTER(key)) {
		p->active = false;
		return PROMPT_DONE;
	}
	if (TERM_KEY_BACKSPACE(key)) {
		if (p->len == 0)
			return PROMPT_IGNORED;
		p->text[--p->len] = L'\0';
		prompt_fold(p);
		return PROMPT_EDITED;
	}
	/* Only printable characters: a control character typed (Ctrl-V Esc)
	 * must not reach the screen through the echo. */
	if (key < 0 || key >= TERM_FN(0) || !iswprint((wint_t)key) || p->len == PROMPT_MAX)
		return PROMPT_IGNORED;
	p->text[p->len++] = (wchar_t)key;
	p->text[p->len] = L'\0';
	prompt_fold(p);
	return PROMPT_EDITED;
}

void prompt_text(const struct prompt *p, char *out, size_t size)
{
	size_t o = 0;
	mbstate_t st;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < p->len; i++) {
		char buf[MB_LEN_MAX];
		size_t n = wcrtomb(buf, p->text[i], &st);
		if (n == (size_t)-1) {
			buf[0] = '?';
			n = 1;
			memset(&st, 0, sizeof(st));
		}
		if (o + n + 1 > size)
			break;
		memcpy(out + o, buf, n);
		o += n;
	}
	if (size > 0)
		out[o] = '\0';
}

bool prompt_matches(const struct prompt *p, const char *name)
{
	wchar_t wide[TELEMETRY_NAME_MAX + 1];
	mbstate_t st;
	const char *src = name;
	size_t n;

	if (p->len == 0)
		return true;
	memset(&st, 0, sizeof(st));
	n = mbsrtowcs(wide, &src, TELEMETRY_NAME_MAX, &st);
	if (n == (size_t)-1)
		return false;
	wide[n] = L'\0';
	for (size_t i = 0; i < n; i++)
		wide[i] = (wchar_t)towlower((wint_t)wide[i]);
	return wcsstr(wide, p->folded) != NULL;
}
