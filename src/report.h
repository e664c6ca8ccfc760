/* Standings for scripts and terminals: the JSON, CSV and text that
 * `alleycat board` and `alleycat history` print. JSON keeps the shapes
 * consumers rely on; CSV quotes as RFC 4180 says; text aligns columns.
 * Names are sanitized in text and CSV, as on screen. */
#ifndef ALLEYCAT_REPORT_H
#define ALLEYCAT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_CSV };

/* Parses "text", "json" or "csv"; -1 otherwise. */
int report_format_parse(const char *name);

struct report_racer {
	int rank;
	int64_t racer_id;
	const char *name;
	int64_t score, output, gap;     /* 1/10000 units */
	double cadence, resistance;
	int second;
};

struct report_race {
	int64_t race_id;
	int class_id;
	const char *class_name;
	bool finished;
	int second, duration;
	const struct report_racer *racers;
	size_t racer_count;
};

struct report_leader {
	int rank;
	int64_t racer_id;
	const char *name;
	int64_t score;
	int64_t race_id;
};

struct report_class {
	int class_id;
	const char *class_name;
	const struct report_leader *leaders;
	size_t leader_count;
};

/* A racer's profile: their best in each class and their races. */
struct report_best {
	int class_id;
	const char *class_name;
	int rank;                       /* in the class leaderboard */
	int64_t score;
	int64_t race_id;
};

struct report_racer_race {
	int64_t race_id;
	int class_id;
	int rank, racers;
	int64_t score;
};

struct report_profile {
	int64_t racer_id;
	const char *name;
	const struct report_best *bests;
	size_t best_count;
	const struct report_racer_race *races;
	size_t race_count;
};

void report_races(FILE *out, enum report_format format, const struct report_race *races,
		  size_t count, bool unicode);
void report_classes(FILE *out, enum report_format format, const struct report_class *classes,
		    size_t count, bool unicode);

void report_profile(FILE *out, enum report_format format, const struct report_profile *p,
		    bool unicode);

#endif
