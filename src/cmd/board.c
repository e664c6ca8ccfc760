/* alleycat board: a headless consumer that prints live standings, for
 * scripts and tests. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/reader_options.h"
#include "race/engine.h"
#include "race/live.h"
#include "race/results.h"
#include "race/roster.h"
#include "race/store.h"
#include "util/clock.h"
#include "util/errtext.h"
#include "util/log.h"
#include "wire/protocol.h"
#include "wire/sigv4.h"

#define POLL_MS 20

struct board_options {
	struct reader_options live;
	int interval;
	int64_t race;                   /* 0: every race */
	bool once, until_finished, unicode;
	enum results_format format;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- building reports ------------------------------------------------- */

struct race_list {
	struct results_race *races;
	size_t count, capacity;
};

static struct results_race *add_race(struct race_list *list)
{
	if (list->count == list->capacity) {
		size_t cap = list->capacity ? list->capacity * 2 : 8;
		struct results_race *grown = realloc(list->races, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		list->races = grown;
		list->capacity = cap;
	}
	memset(&list->races[list->count], 0, sizeof(list->races[0]));
	return &list->races[list->count++];
}

static void free_races(struct race_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		struct results_race *r = &list->races[i];
		for (size_t k = 0; k < r->racer_count; k++)
			free((char *)r->racers[k].name);
		free((struct results_racer *)r->racers);
		free((char *)r->class_name);
	}
	free(list->races);
	memset(list, 0, sizeof(*list));
}

static char *copy_class_name(struct store *store, int class_id)
{
	const char *name = store_class_name(store, class_id);

	return strdup(name ? name : "");
}

/* A live race from the engine. */
static int live_race(struct store *store, struct engine_race *r, int duration,
		     struct race_list *list)
{
	struct engine_race_info info;
	struct engine_standing *rows;
	struct results_racer *racers;
	struct results_race *out;
	size_t n;

	engine_race_info(r, &info);
	rows = calloc(info.racers ? info.racers : 1, sizeof(*rows));
	racers = calloc(info.racers ? info.racers : 1, sizeof(*racers));
	out = rows && racers ? add_race(list) : NULL;
	if (out == NULL) {
		free(rows);
		free(racers);
		return -1;
	}
	n = engine_standings(r, 0, info.racers, rows);
	for (size_t i = 0; i < n; i++)
		racers[i] = (struct results_racer){
			.rank = rows[i].rank, .racer_id = rows[i].racer_id,
			.name = strdup(rows[i].name ? rows[i].name : ""), .score = rows[i].score,
			.output = rows[i].output, .gap = rows[i].gap, .cadence = rows[i].cadence,
			.resistance = rows[i].resistance, .second = rows[i].second,
		};
	*out = (struct results_race){
		.race_id = info.race_id, .class_id = info.class_id,
		.class_name = copy_class_name(store, info.class_id), .finished = false,
		.second = info.second, .duration = duration, .racers = racers, .racer_count = n,
	};
	free(rows);
	return 0;
}

/* A finished race from the history. */
struct stored {
	struct race_list *list;
	struct results_race *race;
	size_t capacity;
	struct store *store;
};

static void on_stored_race(void *user, const struct store_race_row *row)
{
	struct stored *st = user;

	st->race = add_race(st->list);
	if (st->race == NULL)
		return;
	st->capacity = 0;
	*st->race = (struct results_race){
		.race_id = row->race_id, .class_id = row->class_id,
		.class_name = strdup(row->class_name ? row->class_name : ""), .finished = true,
		.second = 0, .duration = row->duration,
	};
}

static void on_stored_result(void *user, const struct store_result_row *row)
{
	struct stored *st = user;
	struct results_race *r = st->race;
	struct results_racer *racers;

	if (r == NULL)
		return;
	if (r->racer_count == st->capacity) {
		st->capacity = st->capacity ? st->capacity * 2 : 64;
		racers = realloc((struct results_racer *)r->racers, st->capacity * sizeof(*racers));
		if (racers == NULL)
			return;
		r->racers = racers;
	}
	racers = (struct results_racer *)r->racers;
	racers[r->racer_count++] = (struct results_racer){
		.rank = row->rank, .racer_id = row->racer_id, .name = strdup(row->name ? row->name : ""),
		.score = row->score, .output = row->output, .gap = row->gap, .cadence = row->cadence,
		.resistance = row->resistance, .second = row->second,
	};
	if (row->second > r->second)
		r->second = row->second;
}

static int stored_race(struct store *store, int64_t race_id, struct race_list *list)
{
	struct stored st = { .list = list, .store = store };

	return store_race(store, race_id, on_stored_race, on_stored_result, &st) < 0 ? -1 : 0;
}

static void collect_seen(void *user, int64_t race_id)
{
	struct race_list *ids = user;
	struct results_race *r = add_race(ids);

	if (r)
		r->race_id = race_id;
}

/* ---- the loop --------------------------------------------------------- */

/* Prints the races; in text, no race at all is said in words rather than
 * with nothing (JSON and CSV stay what a program expects: an empty list). */
static void print_races(const struct board_options *o, const struct race_list *list)
{
	if (list->count > 0 || o->format != RESULTS_TEXT)
		results_races(stdout, o->format, list->races, list->count, o->unicode);
	else if (o->race)
		printf("No race %" PRId64 " on stream %s yet.\n", o->race, o->live.stream);
	else
		printf("No race on stream %s yet.\n", o->live.stream);
}

static void print_live(struct live *l, const struct board_options *o)
{
	struct engine *e = live_engine(l);
	struct race_list list = { 0 };

	for (size_t i = 0; i < engine_race_count(e); i++) {
		struct engine_race *r = engine_race_at(e, i);
		struct engine_race_info info;
		engine_race_info(r, &info);
		if (o->race == 0 || info.race_id == o->race)
			live_race(live_store(l), r, o->live.duration, &list);
	}
	print_races(o, &list);
	fflush(stdout);
	free_races(&list);
}

/* Every race this consumer has seen, finished ones from the history. */
static int print_final(struct live *l, const struct board_options *o)
{
	struct race_list ids = { 0 }, list = { 0 };
	struct engine *e = live_engine(l);
	int rc = 0;

	if (store_races_seen(live_store(l), o->live.consumer, collect_seen, &ids) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < ids.count; i++) {
		int64_t id = ids.races[i].race_id;
		struct engine_race *r = engine_find_race(e, id);
		if (o->race && id != o->race)
			continue;
		rc = r ? live_race(live_store(l), r, o->live.duration, &list)
		       : stored_race(live_store(l), id, &list);
	}
	if (rc == 0)
		print_races(o, &list);
	else
		cli_error("cannot read the results: %s", store_error(live_store(l)));
	fflush(stdout);
	free_races(&ids);
	free_races(&list);
	return rc;
}

/* Whether --until-finished may stop: caught up, and nothing it is waiting
 * for is live. Races whose racers have all finished are committed at once
 * rather than at the end of the window, at most once a second (a database
 * that refuses writes would otherwise be retried at every poll). */
static bool finished(struct live *l, const struct board_options *o, int64_t now)
{
	static int64_t last_early_commit;
	struct engine *e = live_engine(l);
	bool any_done = false;

	if (!live_caught_up(l))
		return false;
	for (size_t i = 0; i < engine_race_count(e); i++) {
		struct engine_race_info info;
		engine_race_info(engine_race_at(e, i), &info);
		any_done |= info.all_final;
	}
	if (any_done && now - last_early_commit >= 1000) {
		last_early_commit = now;
		live_commit(l, now);
	}
	if (o->race)
		return engine_find_race(e, o->race) == NULL && engine_race_ended(e, o->race);
	return engine_race_count(e) == 0;
}

/* Whether a one-shot board stops because its stream cannot be read: with
 * one line that says why, as client/failure words it. */
static bool given_up(struct live *l, const struct board_options *o, int64_t now)
{
	struct failure f;
	int64_t since;

	if (!o->once && !o->until_finished)
		return false;
	consumer_failure(live_consumer(l), &f, &since);
	if (since == 0 || !failure_give_up(f.kind, since, now, o->live.timeout))
		return false;
	cli_error("%s", f.text);
	return true;
}

static int run(const struct board_options *o, struct live *l)
{
	int64_t last_print = 0;

	while (!interrupted) {
		int64_t now = clock_wall_ms();
		live_poll(l, now);
		if (given_up(l, o, now))
			return EXIT_FAILURE_RUNTIME;
		if (o->once && live_caught_up(l)) {
			print_live(l, o);
			return EXIT_OK;
		}
		if (o->until_finished && finished(l, o, now)) {
			live_commit(l, now);
			return print_final(l, o) < 0 ? EXIT_FAILURE_RUNTIME : EXIT_OK;
		}
		if (!o->once && !o->until_finished && now - last_print >= o->interval * 1000LL) {
			print_live(l, o);
			last_print = now;
		}
		usleep(POLL_MS * 1000);
	}
	return EXIT_OK;
}

/* Records dropped as bad, on stderr where scripts keep them apart from the
 * standings, counted as the monitor counts them: those the consumer could
 * not decode, and those of another class than their race's (a race that
 * two producers rode shows only one of them, and this says why). */
static void results_bad(struct live *l)
{
	struct consumer_stats *cs = malloc(sizeof(*cs));
	struct live_stats s;
	uint64_t undecoded = 0;
	const char *last = "";

	live_stats(l, &s);
	if (cs) {
		consumer_stats(live_consumer(l), cs);
		for (size_t i = 0; i < cs->shard_count; i++) {
			undecoded += cs->shards[i].bad;
			if (cs->shards[i].bad)
				last = cs->shards[i].last_bad;
		}
	}
	if (undecoded)
		cli_error("%llu bad records dropped (the last: %s)", (unsigned long long)undecoded,
			  last);
	if (s.other_class)
		cli_error("%llu bad records dropped of another class than their race (the last: "
			  "%s)", (unsigned long long)s.other_class, s.last_bad);
	free(cs);
}

/* ---- options ---------------------------------------------------------- */

void cmd_board_usage(FILE *out)
{
	fputs("Usage: alleycat board [OPTION]...\n"
	      "Consume a stream and print the live standings: a fresh table every interval,\n"
	      "or once when caught up, or the final results when every race has finished.\n"
	      "\n"
	      "  --endpoint URL        the hub (default " HUB_DEFAULT_PUSH_URL ")\n"
	      "  --stream NAME         the stream: a name or an ARN (default alleycat)\n"
	      READER_OPTIONS_USAGE
	      "  --ca FILE             trust the certificates in FILE for wss://\n"
	      "  --insecure            accept any certificate (for testing only)\n"
	      "  --timeout S           seconds to wait for an answer to each API call\n"
	      "                        before it counts as failed (default 60)\n"
	      "  --consumer NAME       the registered consumer name (default board-HOSTNAME);\n"
	      "                        checkpoints and live state are kept per name\n"
	      "  --db FILE             the history database\n"
	      "                        (default $XDG_DATA_HOME/alleycat/history.db)\n"
	      "  --race ID             only this race (default every race)\n"
	      "  --once                print once caught up with the stream, then exit\n"
	      "  --until-finished      wait until caught up with no race live (or until --race\n"
	      "                        has ended), print the final results of every race this\n"
	      "                        consumer has seen, then exit\n"
	      "  --format FORMAT       text, json or csv (default text)\n"
	      "  --interval S          seconds between tables (default 5)\n"
	      WINDOW_OPTIONS_USAGE
	      "  --grace S             a race with no records for S seconds ends (default 30)\n"
	      "  --duration S          race length in seconds (default 300)\n"
	      "  --parallel N          decode each shard's records on N threads, keeping\n"
	      "                        each partition key's order (1-10, default 1)\n"
	      READER_FROM_USAGE("trim-horizon")
	      "  --no-unicode          plain ASCII in text and CSV\n"
	      "  --log-level LEVEL     error, warn, info or debug (default warn)\n"
	      "  -h, --help            show this help and exit\n",
	      out);
}

enum {
	OPT_RACE = LIVE_OPT_NEXT, OPT_ONCE, OPT_UNTIL_FINISHED, OPT_FORMAT, OPT_INTERVAL,
	OPT_NO_UNICODE, OPT_LOG_LEVEL,
};

const struct option cmd_board_options[] = {
	LIVE_OPTIONS,
	{ "race", required_argument, NULL, OPT_RACE },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "until-finished", no_argument, NULL, OPT_UNTIL_FINISHED },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "no-unicode", no_argument, NULL, OPT_NO_UNICODE },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_options(int argc, char **argv, struct board_options *o)
{
	int opt, v;
	long long n;

	*o = (struct board_options){
		.interval = 5, .unicode = true, .format = RESULTS_TEXT,
	};
	reader_options_defaults(&o->live, "board");
	/* A board prints every race the stream holds, unlike the dashboards. */
	o->live.from = CONSUMER_FROM_TRIM_HORIZON;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", cmd_board_options, NULL)) != -1) {
		if ((v = reader_option("board", opt, optarg, &o->live)) != 0) {
			if (v < 0)
				return -1;
			continue;
		}
		switch (opt) {
		case 'h':
			cmd_board_usage(stdout);
			return 1;
		case OPT_RACE:
			if (cli_parse_long("board", "race", optarg, 0, INT64_MAX, &n) < 0)
				return -1;
			o->race = n;
			break;
		case OPT_ONCE: o->once = true; break;
		case OPT_UNTIL_FINISHED: o->until_finished = true; break;
		case OPT_FORMAT:
			if ((v = results_format_parse(optarg)) < 0)
				return cli_bad_value("board", "format", optarg,
						     "is not text, json or csv"), -1;
			o->format = (enum results_format)v;
			break;
		case OPT_INTERVAL:
			if (cli_parse_long("board", "interval", optarg, 1, 86400, &n) < 0)
				return -1;
			o->interval = (int)n;
			break;
		case OPT_NO_UNICODE: o->unicode = false; break;
		case OPT_LOG_LEVEL:
			if (cli_set_log_level("board", optarg) < 0)
				return -1;
			break;
		default:
			return cli_option_error("board", cmd_board_options, argv[optind - 1]), -1;
		}
	}
	if (optind < argc)
		return cli_usage_error("board", "unexpected argument '%s'", argv[optind]), -1;
	if (o->once && o->until_finished)
		return cli_usage_error("board", "--once and --until-finished do not go together"), -1;
	return 0;
}

int cmd_board(int argc, char **argv)
{
	struct board_options o;
	struct live_config lc;
	struct roster roster = { 0 };
	char err[ERR_TEXT_MAX];
	struct live *l;
	int rc = parse_options(argc, argv, &o);

	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	/* Names keep their accents only where the terminal speaks UTF-8. */
	o.unicode = o.unicode && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if ((rc = reader_options_config("board", &o.live, &lc, &roster)) != 0)
		return rc;
	lc.one_shot = o.once || o.until_finished;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	l = live_open(&lc, err, sizeof(err));
	if (l == NULL) {
		cli_error("%s", err);
		roster_free(&roster);
		return EXIT_FAILURE_RUNTIME;
	}
	rc = run(&o, l);
	results_bad(l);
	live_close(l, clock_wall_ms());
	roster_free(&roster);
	return rc;
}
