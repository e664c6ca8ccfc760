#include "config.h"
#include "util/nearest.h"

#include <string.h>

#define MAX_EDITS 2

static int min3(int a, int b, int c)
{
	int m = a < b ? a : b;
	return m < c ? m : c;
}

int nearest_distance(const char *a, const char *b)
{
	/* Three rows of the dynamic programme: a swap looks two rows back. */
	int rows[3][NEAREST_WORD_MAX + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > NEAREST_WORD_MAX || lb > NEAREST_WORD_MAX)
		return NEAREST_WORD_MAX + 1;
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int *row = rows[i % 3], *up = rows[(i - 1) % 3], *up2 = rows[(i - 2) % 3];

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];

			row[j] = min3(up[j] + 1, row[j - 1] + 1, up[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    up2[j - 2] + 1 < row[j])
				row[j] = up2[j - 2] + 1;
		}
	}
	return rows[la % 3][lb];
}

void nearest_init(struct nearest *n, const char *word)
{
	n->word = word;
	n->best = NULL;
	n->distance = NEAREST_WORD_MAX + 1;
}

void nearest_consider(struct nearest *n, const char *candidate)
{
	int d = nearest_distance(n->word, candidate);

	if (d < n->distance) {
		n->best = candidate;
		n->distance = d;
	}
}

const char *nearest_suggestion(const struct nearest *n)
{
	size_t len = strlen(n->word);

	if (n->best == NULL || n->distance == 0 || n->distance > MAX_EDITS ||
	    (size_t)n->distance * 2 > len)
		return NULL;
	return n->best;
}
