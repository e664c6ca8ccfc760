/* The nearest word: what a person probably meant by a misspelled option,
 * setting or command ("--onec" -> "--once", "formt" -> "format").
 *
 * Distance is the optimal string alignment distance: one insertion,
 * deletion, substitution or swap of two neighbouring letters costs 1. A
 * candidate counts only when it is close for the word's length (at most 2
 * edits, and at most half the word), so a word that is nothing like any
 * candidate gets no suggestion rather than a random one. */
#ifndef ALLEYCAT_NEAREST_H
#define ALLEYCAT_NEAREST_H

/* Words longer than this are never near anything. */
#define NEAREST_WORD_MAX 64

struct nearest {
	const char *word;       /* borrowed: what was written */
	const char *best;       /* borrowed: the closest candidate so far, or NULL */
	int distance;
};

void nearest_init(struct nearest *n, const char *word);

/* Considers one candidate (borrowed; must outlive n). The first of equally
 * near candidates wins, so the order of a table decides ties. */
void nearest_consider(struct nearest *n, const char *candidate);

/* The candidate close enough to suggest, or NULL. */
const char *nearest_suggestion(const struct nearest *n);

/* The edit distance between a and b; NEAREST_WORD_MAX + 1 when either is
 * longer than NEAREST_WORD_MAX. */
int nearest_distance(const char *a, const char *b);

#endif
