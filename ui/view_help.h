/* The help view: every key, and what the marks in the tables mean. */
#ifndef ALLEYCAT_VIEW_HELP_H
#define ALLEYCAT_VIEW_HELP_H

#include <stdbool.h>
#include <stddef.h>

#include "ui/view.h"

struct widget_key;
struct view_help;

struct view_help *view_help_new(void);
void view_help_free(struct view_help *v);

void view_help_draw(struct view_help *v, const struct view_ctx *ctx, struct view_rect area);
bool view_help_key(struct view_help *v, int key);
size_t view_help_footer(const struct view_help *v, const struct widget_key **keys);

#endif
