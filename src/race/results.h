/* Standings for scripts and terminals: the JSON, CSV and text that
 * `alleycat board` and `alleycat history` print. JSON keeps the shapes
 * consumers rely on; CSV quotes as RFC 4180 says; text aligns columns.
 * Names are sanitized in text and CSV, as on screen. */
#ifndef ALLEYCAT_RESULTS_H
#define ALLEYCAT_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum results_format { RESULTS_TEXT, RESULTS_JSON, RESULTS_CSV };

/* Parses "text", "json" or "csv"; -1 otherwise. */
int results_format_parse(const char *name);

struct results_racer {
	int rank;
	int64_t racer_id;
	const char *name;
	int64_t score, output, gap;     /* 1/10000 units */
	double cadence, resistance;
	int second;
};

struct results_race {
	int64_t race_id;
	int class_id;
	const char *class_name;
	bool finished;
	int second, duration;
	const struct results_racer *racers;
	size_t racer_count;
};

struct results_leader {
	int rank;
	int64_t racer_id;
	const char *name;
	int64_t score;
	int64_t race_id;
};

struct results_class {
	int class_id;
	const char *class_name;
	const struct results_leader *leaders;
	size_t leader_count;
};

/* A racer's profile: their best in each class and their races. */
struct results_best {
	int class_id;
	const char *class_name;
	int rank;                       /* in the class leaderboard */
	int64_t score;
	int64_t race_id;
};

struct results_racer_race {
	int64_t race_id;
	int class_id;
	int rank, racers;
	int64_t score;
};

struct results_profile {
	int64_t racer_id;
	const char *name;
	const struct results_best *bests;
	size_t best_count;
	const struct results_racer_race *races;
	size_t race_count;
};

void results_races(FILE *out, enum results_format format, const struct results_race *races,
		  size_t count, bool unicode);
void results_classes(FILE *out, enum results_format format, const struct results_class *classes,
		    size_t count, bool unicode);

void results_profile(FILE *out, enum results_format format, const struct results_profile *p,
		    bool unicode);

#endif
