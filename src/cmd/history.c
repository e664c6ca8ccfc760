/* alleycat history: past rankings from the history database. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "race/results.h"
#include "race/store.h"
#include "util/errtext.h"
#include "util/paths.h"
#include "wire/telemetry.h"

struct history_options {
	const char *db;
	int class_id;                   /* 0: every class */
	int64_t race, racer;            /* 0: none */
	int top;
	enum results_format format;
	bool unicode;
};

/* ---- collecting rows -------------------------------------------------- */

struct leaders {
	struct results_leader *rows;
	size_t count, capacity;
};

static void on_leader(void *user, const struct store_leader_row *row)
{
	struct leaders *l = user;

	if (l->count == l->capacity) {
		size_t cap = l->capacity ? l->capacity * 2 : 64;
		struct results_leader *grown = realloc(l->rows, cap * sizeof(*grown));
		if (grown == NULL)
			return;
		l->rows = grown;
		l->capacity = cap;
	}
	l->rows[l->count++] = (struct results_leader){
		.rank = row->rank, .racer_id = row->racer_id,
		.name = strdup(row->name ? row->name : ""), .score = row->score,
		.race_id = row->race_id,
	};
}

static void free_leaders(struct leaders *l)
{
	for (size_t i = 0; i < l->count; i++)
		free((char *)l->rows[i].name);
	free(l->rows);
}

static bool no_leaders(const struct leaders *leaders, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (leaders[i].count > 0)
			return false;
	return true;
}

/* The all-time leaders of each class; an empty history is said in one
 * line rather than with six empty tables. */
static int print_classes(struct store *s, const struct history_options *o)
{
	struct results_class classes[TELEMETRY_CLASS_COUNT];
	struct leaders leaders[TELEMETRY_CLASS_COUNT] = { 0 };
	char *names[TELEMETRY_CLASS_COUNT] = { 0 };
	size_t n = 0;
	int rc = 0;

	for (int c = 1; c <= TELEMETRY_CLASS_COUNT && rc == 0; c++) {
		const char *name;
		if (o->class_id && c != o->class_id)
			continue;
		rc = store_class_leaders(s, c, (size_t)o->top, 0, on_leader, &leaders[n]);
		name = store_class_name(s, c);
		names[n] = strdup(name ? name : "");
		classes[n] = (struct results_class){ .class_id = c, .class_name = names[n],
						    .leaders = leaders[n].rows,
						    .leader_count = leaders[n].count };
		n++;
	}
	if (rc == 0 && o->format == RESULTS_TEXT && o->class_id == 0 && no_leaders(leaders, n))
		printf("No race in the history at %s yet: watch, kiosk, board and demo record "
		       "the races they see there.\n", o->db);
	else if (rc == 0)
		results_classes(stdout, o->format, classes, n, o->unicode);
	for (size_t i = 0; i < n; i++) {
		free_leaders(&leaders[i]);
		free(names[i]);
	}
	return rc;
}

struct one_race {
	struct results_race race;
	struct results_racer *racers;
	size_t capacity;
	bool found;
};

static void on_race(void *user, const struct store_race_row *row)
{
	struct one_race *r = user;

	r->found = true;
	r->race = (struct results_race){
		.race_id = row->race_id, .class_id = row->class_id,
		.class_name = strdup(row->class_name ? row->class_name : ""), .finished = true,
		.duration = row->duration,
	};
}

static void on_result(void *user, const struct store_result_row *row)
{
	struct one_race *r = user;

	if (r->race.racer_count == r->capacity) {
		size_t cap = r->capacity ? r->capacity * 2 : 64;
		struct results_racer *grown = realloc(r->racers, cap * sizeof(*grown));
		if (grown == NULL)
			return;
		r->racers = grown;
		r->capacity = cap;
	}
	r->racers[r->race.racer_count++] = (struct results_racer){
		.rank = row->rank, .racer_id = row->racer_id,
		.name = strdup(row->name ? row->name : ""), .score = row->score,
		.output = row->output, .gap = row->gap, .cadence = row->cadence,
		.resistance = row->resistance, .second = row->second,
	};
	if (row->second > r->race.second)
		r->race.second = row->second;
}

static int print_race(struct store *s, const struct history_options *o)
{
	struct one_race r = { 0 };
	int rc = store_race(s, o->race, on_race, on_result, &r);

	if (rc < 0)
		return -1;
	if (!r.found) {
		cli_error("race %" PRId64 " is not in the history", o->race);
		return 1;
	}
	r.race.racers = r.racers;
	results_races(stdout, o->format, &r.race, 1, o->unicode);
	for (size_t i = 0; i < r.race.racer_count; i++)
		free((char *)r.racers[i].name);
	free(r.racers);
	free((char *)r.race.class_name);
	return 0;
}

/* A racer: their best in each class, and their races. */
struct profile {
	struct results_best bests[TELEMETRY_CLASS_COUNT];
	char *class_names[TELEMETRY_CLASS_COUNT];
	size_t best_count;
	struct results_racer_race *races;
	size_t race_count, capacity;
	struct store *store;
};

static void on_best(void *user, const struct store_best_row *row)
{
	struct profile *p = user;
	size_t i = p->best_count;
	const char *name;

	if (i == TELEMETRY_CLASS_COUNT)
		return;
	/* The class name is read with another statement while this one
	 * runs: allowed, as long as it is not the same query. */
	name = store_class_name(p->store, row->class_id);
	p->class_names[i] = strdup(name ? name : "");
	p->bests[i] = (struct results_best){
		.class_id = row->class_id, .class_name = p->class_names[i], .rank = row->rank,
		.score = row->score, .race_id = row->race_id,
	};
	p->best_count++;
}

static void on_racer_race(void *user, const struct store_racer_row *row)
{
	struct profile *p = user;

	if (p->race_count == p->capacity) {
		size_t cap = p->capacity ? p->capacity * 2 : 64;
		struct results_racer_race *grown = realloc(p->races, cap * sizeof(*grown));
		if (grown == NULL)
			return;
		p->races = grown;
		p->capacity = cap;
	}
	p->races[p->race_count++] = (struct results_racer_race){
		.race_id = row->race_id, .class_id = row->class_id, .rank = row->rank,
		.racers = row->racers, .score = row->score,
	};
}

static int print_racer(struct store *s, const struct history_options *o)
{
	struct profile p = { .store = s };
	char *name = store_racer_name(s, o->racer);
	int rc;

	if (name == NULL) {
		cli_error("racer %" PRId64 " is not in the history", o->racer);
		return 1;
	}
	rc = store_racer_bests(s, o->racer, on_best, &p);
	if (rc == 0)
		rc = store_racer_races(s, o->racer, (size_t)o->top, 0, on_racer_race, &p);
	if (rc == 0) {
		struct results_profile profile = {
			.racer_id = o->racer, .name = name, .bests = p.bests,
			.best_count = p.best_count, .races = p.races, .race_count = p.race_count,
		};
		results_profile(stdout, o->format, &profile, o->unicode);
	}
	for (size_t i = 0; i < p.best_count; i++)
		free(p.class_names[i]);
	free(p.races);
	free(name);
	return rc;
}

/* ---- options ---------------------------------------------------------- */

void cmd_history_usage(FILE *out)
{
	fputs("Usage: alleycat history [OPTION]...\n"
	      "Print past rankings from the history database: the all-time class\n"
	      "leaderboards of personal bests, or the results of one race.\n"
	      "\n"
	      "  --db FILE             the history database\n"
	      "                        (default $XDG_DATA_HOME/alleycat/history.db)\n"
	      "  --class ID            only this class, 1..6 (default every class)\n"
	      "  --race ID             the results of this race\n"
	      "  --racer ID            a racer: their best in each class and their races\n"
	      "  --top N               leaders per class, or races of a racer (default 10)\n"
	      "  --format FORMAT       text, json or csv (default text)\n"
	      "  --no-unicode          plain ASCII in text and CSV\n"
	      "  -h, --help            show this help and exit\n",
	      out);
}

enum { OPT_DB = 256, OPT_CLASS, OPT_RACE, OPT_RACER, OPT_TOP, OPT_FORMAT, OPT_NO_UNICODE };

const struct option cmd_history_options[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "class", required_argument, NULL, OPT_CLASS },
	{ "race", required_argument, NULL, OPT_RACE },
	{ "racer", required_argument, NULL, OPT_RACER },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "no-unicode", no_argument, NULL, OPT_NO_UNICODE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_options(int argc, char **argv, struct history_options *o)
{
	static char db[4096];
	long long n;
	int opt, v;

	paths_history_db(db, sizeof(db));
	*o = (struct history_options){ .db = db, .top = 10, .format = RESULTS_TEXT, .unicode = true };
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", cmd_history_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cmd_history_usage(stdout);
			return 1;
		case OPT_DB: o->db = optarg; break;
		case OPT_CLASS:
			if (cli_parse_long("history", "class", optarg, 1, TELEMETRY_CLASS_COUNT, &n) < 0)
				return -1;
			o->class_id = (int)n;
			break;
		case OPT_RACE:
			if (cli_parse_long("history", "race", optarg, 0, INT64_MAX, &n) < 0)
				return -1;
			o->race = n;
			break;
		case OPT_RACER:
			if (cli_parse_long("history", "racer", optarg, 0, INT64_MAX, &n) < 0)
				return -1;
			o->racer = n;
			break;
		case OPT_TOP:
			if (cli_parse_long("history", "top", optarg, 1, 1000000, &n) < 0)
				return -1;
			o->top = (int)n;
			break;
		case OPT_FORMAT:
			if ((v = results_format_parse(optarg)) < 0)
				return cli_bad_value("history", "format", optarg,
						     "is not text, json or csv"), -1;
			o->format = (enum results_format)v;
			break;
		case OPT_NO_UNICODE: o->unicode = false; break;
		default:
			return cli_option_error("history", cmd_history_options, argv[optind - 1]), -1;
		}
	}
	if (optind < argc)
		return cli_usage_error("history", "unexpected argument '%s'", argv[optind]), -1;
	if (o->race && o->racer)
		return cli_usage_error("history", "--race and --racer do not go together"), -1;
	return 0;
}

/* History only reads: a database that is not there (a wrong --db, or no
 * race recorded yet) is said in one line, and nothing is created. */
static int check_db(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 && errno == ENOENT) {
		cli_error("no history at %s: watch, kiosk, board and demo record races there; "
			  "--db names another file", path);
		return -1;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_error("%s is a directory: --db names the history database file", path);
		return -1;
	}
	/* Anything else (no permission, not a database) store_open says. */
	return 0;
}

int cmd_history(int argc, char **argv)
{
	struct history_options o;
	char err[ERR_TEXT_MAX];
	struct store *s;
	int rc = parse_options(argc, argv, &o);

	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	o.unicode = o.unicode && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if (check_db(o.db) < 0)
		return EXIT_FAILURE_RUNTIME;
	s = store_open(o.db, err, sizeof(err));
	if (s == NULL) {
		cli_error("%s", err);
		return EXIT_FAILURE_RUNTIME;
	}
	rc = o.race ? print_race(s, &o) : o.racer ? print_racer(s, &o) : print_classes(s, &o);
	if (rc < 0)
		cli_error("cannot read %s: %s", o.db, store_error(s));
	store_close(s);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}
