/* A one-line text entry for searching names: typed in the status line,
 * matched case-insensitively. */
#ifndef ALLEYCAT_PROMPT_H
#define ALLEYCAT_PROMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

#define PROMPT_MAX 48                   /* characters */

struct prompt {
	bool active;                    /* being typed */
	size_t len;
	wchar_t text[PROMPT_MAX + 1];
	wchar_t folded[PROMPT_MAX + 1]; /* lower case, for matching */
};

enum prompt_result {
	PROMPT_EDITED,                  /* the text changed */
	PROMPT_DONE,                    /* Enter: keep the text */
	PROMPT_CANCELLED,               /* Esc: the text is cleared */
	PROMPT_IGNORED,                 /* a key that means nothing here */
};

void prompt_start(struct prompt *p);
void prompt_clear(struct prompt *p);
enum prompt_result prompt_key(struct prompt *p, int key);

/* The text as UTF-8 (or ASCII with '?' outside it when the locale is not UTF-8). */
void prompt_text(const struct prompt *p, char *out, size_t size);

/* Whether name contains the text, ignoring case; true when it is empty. */
bool prompt_matches(const struct prompt *p, const char *name);

#endif
