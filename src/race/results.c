#include "config.h"
#include "race/results.h"

#include <inttypes.h>
#include <string.h>

#include "util/numfmt.h"
#include "util/sanitize.h"
#include "util/strbuf.h"
#include "wire/telemetry.h"

#define NAME_COLUMN 20
/* Race ids run to 15 digits (a simulator run's ids: sim.h). */
#define RACE_COLUMN 15

int results_format_parse(const char *name)
{
	if (strcmp(name, "text") == 0)
		return RESULTS_TEXT;
	if (strcmp(name, "json") == 0)
		return RESULTS_JSON;
	if (strcmp(name, "csv") == 0)
		return RESULTS_CSV;
	return -1;
}

static const char *units(int64_t v, char buf[TELEMETRY_OUTPUT_TEXT_MAX])
{
	telemetry_format_output(v, buf);
	return buf;
}

/* ---- JSON ---------------------------------------------------------- */

static void json_racer(struct strbuf *sb, const struct results_racer *r)
{
	char score[TELEMETRY_OUTPUT_TEXT_MAX], output[TELEMETRY_OUTPUT_TEXT_MAX];
	char gap[TELEMETRY_OUTPUT_TEXT_MAX];

	strbuf_printf(sb, "{\"rank\":%d,\"racerId\":%" PRId64 ",\"name\":", r->rank, r->racer_id);
	strbuf_json_string(sb, r->name ? r->name : "", r->name ? strlen(r->name) : 0);
	strbuf_printf(sb,
		      ",\"score\":%s,\"output\":%s,\"cadence\":%.1f,\"resistance\":%.1f,"
		      "\"second\":%d,\"gap\":%s}",
		      units(r->score, score), units(r->output, output), r->cadence, r->resistance,
		      r->second, units(r->gap, gap));
}

static void json_race(struct strbuf *sb, const struct results_race *race)
{
	strbuf_printf(sb, "{\"raceId\":%" PRId64 ",\"classId\":%d,\"className\":", race->race_id,
		      race->class_id);
	strbuf_json_string(sb, race->class_name ? race->class_name : "",
			   race->class_name ? strlen(race->class_name) : 0);
	strbuf_printf(sb, ",\"status\":\"%s\",\"second\":%d,\"duration\":%d,\"racers\":[",
		      race->finished ? "finished" : "live", race->second, race->duration);
	for (size_t i = 0; i < race->racer_count; i++) {
		if (i)
			strbuf_puts(sb, ",");
		json_racer(sb, &race->racers[i]);
	}
	strbuf_puts(sb, "]}");
}

static void json_class(struct strbuf *sb, const struct results_class *c)
{
	char score[TELEMETRY_OUTPUT_TEXT_MAX];

	strbuf_printf(sb, "{\"classId\":%d,\"className\":", c->class_id);
	strbuf_json_string(sb, c->class_name ? c->class_name : "",
			   c->class_name ? strlen(c->class_name) : 0);
	strbuf_puts(sb, ",\"leaders\":[");
	for (size_t i = 0; i < c->leader_count; i++) {
		const struct results_leader *l = &c->leaders[i];
		strbuf_printf(sb, "%s{\"rank\":%d,\"racerId\":%" PRId64 ",\"name\":", i ? "," : "",
			      l->rank, l->racer_id);
		strbuf_json_string(sb, l->name ? l->name : "", l->name ? strlen(l->name) : 0);
		strbuf_printf(sb, ",\"score\":%s,\"raceId\":%" PRId64 "}", units(l->score, score),
			      l->race_id);
	}
	strbuf_puts(sb, "]}");
}

/* ---- CSV ------------------------------------------------------------ */

/* A field as RFC 4180 wants it: quoted when it holds a comma, quote or
 * line break, with quotes doubled. */
static void csv_field(struct strbuf *sb, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		strbuf_puts(sb, s);
		return;
	}
	strbuf_puts(sb, "\"");
	for (; *s; s++) {
		if (*s == '"')
			strbuf_puts(sb, "\"");
		strbuf_append(sb, s, 1);
	}
	strbuf_puts(sb, "\"");
}

static void clean_name(const char *name, char *out, size_t size, size_t max_chars, bool unicode)
{
	sanitize_text(name ? name : "", out, size, max_chars, unicode);
}

static void csv_races(struct strbuf *sb, const struct results_race *races, size_t count,
		      bool unicode)
{
	strbuf_puts(sb, "raceId,classId,className,status,second,duration,rank,racerId,name,score,"
			"output,cadence,resistance,racerSecond,gap\r\n");
	for (size_t i = 0; i < count; i++) {
		const struct results_race *race = &races[i];
		for (size_t k = 0; k < race->racer_count; k++) {
			const struct results_racer *r = &race->racers[k];
			char name[4 * TELEMETRY_NAME_MAX + 1], cls[256];
			char a[TELEMETRY_OUTPUT_TEXT_MAX], b[TELEMETRY_OUTPUT_TEXT_MAX],
				c[TELEMETRY_OUTPUT_TEXT_MAX];

			clean_name(race->class_name, cls, sizeof(cls), 64, unicode);
			clean_name(r->name, name, sizeof(name), TELEMETRY_NAME_MAX, unicode);
			strbuf_printf(sb, "%" PRId64 ",%d,", race->race_id, race->class_id);
			csv_field(sb, cls);
			strbuf_printf(sb, ",%s,%d,%d,%d,%" PRId64 ",",
				      race->finished ? "finished" : "live", race->second,
				      race->duration, r->rank, r->racer_id);
			csv_field(sb, name);
			strbuf_printf(sb, ",%s,%s,%.1f,%.1f,%d,%s\r\n", units(r->score, a),
				      units(r->output, b), r->cadence, r->resistance, r->second,
				      units(r->gap, c));
		}
	}
}

static void csv_classes(struct strbuf *sb, const struct results_class *classes, size_t count,
			bool unicode)
{
	strbuf_puts(sb, "classId,className,rank,racerId,name,score,raceId\r\n");
	for (size_t i = 0; i < count; i++) {
		for (size_t k = 0; k < classes[i].leader_count; k++) {
			const struct results_leader *l = &classes[i].leaders[k];
			char name[4 * TELEMETRY_NAME_MAX + 1], cls[256], s[TELEMETRY_OUTPUT_TEXT_MAX];

			clean_name(classes[i].class_name, cls, sizeof(cls), 64, unicode);
			clean_name(l->name, name, sizeof(name), TELEMETRY_NAME_MAX, unicode);
			strbuf_printf(sb, "%d,", classes[i].class_id);
			csv_field(sb, cls);
			strbuf_printf(sb, ",%d,%" PRId64 ",", l->rank, l->racer_id);
			csv_field(sb, name);
			strbuf_printf(sb, ",%s,%" PRId64 "\r\n", units(l->score, s), l->race_id);
		}
	}
}

/* ---- text ----------------------------------------------------------- */

/* Pads a sanitized name to the name column by characters. */
static void text_name(struct strbuf *sb, const char *name, bool unicode)
{
	char clean[4 * NAME_COLUMN + 1];
	size_t chars = sanitize_text(name ? name : "", clean, sizeof(clean), NAME_COLUMN, unicode);

	strbuf_puts(sb, clean);
	for (; chars < NAME_COLUMN; chars++)
		strbuf_puts(sb, " ");
}

/* Right-aligns our own text (a number, the leader's dash) in width
 * characters: printf pads by bytes, and the Unicode dash takes three. */
static void text_right(struct strbuf *sb, const char *text, int width)
{
	int chars = 0;

	for (const char *p = text; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	for (; chars < width; chars++)
		strbuf_puts(sb, " ");
	strbuf_puts(sb, text);
}

/* A score column: a space, then the number right-aligned in width, so
 * every cell of the column ends, and has its point, in the same place. */
static void text_score(struct strbuf *sb, int64_t score, int width)
{
	char num[NUMFMT_TEXT_MAX];

	strbuf_puts(sb, " ");
	text_right(sb, numfmt_output(score, num), width);
}

static void text_racer(struct strbuf *sb, const struct results_racer *r, bool unicode)
{
	char num[NUMFMT_TEXT_MAX];

	strbuf_printf(sb, "%5d %8" PRId64 "  ", r->rank, r->racer_id);
	text_name(sb, r->name, unicode);
	text_score(sb, r->score, 9);
	text_score(sb, r->output, 9);
	strbuf_puts(sb, " ");
	text_right(sb, numfmt_tenths(r->cadence, num), 7);
	strbuf_puts(sb, " ");
	text_right(sb, numfmt_tenths(r->resistance, num), 7);
	strbuf_puts(sb, " ");
	text_right(sb, numfmt_gap(r->rank, r->score, r->gap, unicode ? "\u2014" : "-", num), 9);
	strbuf_printf(sb, " %6d\n", r->second);
}

static void text_races(struct strbuf *sb, const struct results_race *races, size_t count,
		       bool unicode)
{
	for (size_t i = 0; i < count; i++) {
		const struct results_race *race = &races[i];
		char cls[256];

		clean_name(race->class_name, cls, sizeof(cls), 64, unicode);
		strbuf_printf(sb, "%sRace %" PRId64 "  class %d %s  %s  second %d of %d  %zu racers\n",
			      i ? "\n" : "", race->race_id, race->class_id, cls,
			      race->finished ? "finished" : "live", race->second, race->duration,
			      race->racer_count);
		strbuf_printf(sb, "%5s %8s  %-*s %9s %9s %7s %7s %9s %6s\n", "Rank", "Id",
			      NAME_COLUMN, "Name", "Score W", "Last W", "rpm", "Res %", "Gap W",
			      "Second");
		for (size_t k = 0; k < race->racer_count; k++)
			text_racer(sb, &race->racers[k], unicode);
	}
}

static void text_classes(struct strbuf *sb, const struct results_class *classes, size_t count,
			 bool unicode)
{
	for (size_t i = 0; i < count; i++) {
		char cls[256];

		clean_name(classes[i].class_name, cls, sizeof(cls), 64, unicode);
		strbuf_printf(sb, "%sAll-time results for class %d %s\n", i ? "\n" : "",
			      classes[i].class_id, cls);
		if (classes[i].leader_count == 0) {
			strbuf_puts(sb, "No race of this class yet.\n");
			continue;
		}
		strbuf_printf(sb, "%5s %8s  %-*s %9s %*s\n", "Rank", "Id", NAME_COLUMN, "Name",
			      "Score W", RACE_COLUMN, "Race");
		for (size_t k = 0; k < classes[i].leader_count; k++) {
			const struct results_leader *l = &classes[i].leaders[k];

			strbuf_printf(sb, "%5d %8" PRId64 "  ", l->rank, l->racer_id);
			text_name(sb, l->name, unicode);
			text_score(sb, l->score, 9);
			strbuf_printf(sb, " %*" PRId64 "\n", RACE_COLUMN, l->race_id);
		}
	}
}

/* ---- public --------------------------------------------------------- */

void results_races(FILE *out, enum results_format format, const struct results_race *races,
		  size_t count, bool unicode)
{
	struct strbuf sb;

	strbuf_init(&sb);
	if (format == RESULTS_JSON) {
		strbuf_puts(&sb, "{\"races\":[");
		for (size_t i = 0; i < count; i++) {
			if (i)
				strbuf_puts(&sb, ",");
			json_race(&sb, &races[i]);
		}
		strbuf_puts(&sb, "]}\n");
	} else if (format == RESULTS_CSV) {
		csv_races(&sb, races, count, unicode);
	} else {
		text_races(&sb, races, count, unicode);
	}
	if (sb.data)
		fwrite(sb.data, 1, sb.len, out);
	strbuf_free(&sb);
}

void results_classes(FILE *out, enum results_format format, const struct results_class *classes,
		    size_t count, bool unicode)
{
	struct strbuf sb;

	strbuf_init(&sb);
	if (format == RESULTS_JSON) {
		strbuf_puts(&sb, "{\"classes\":[");
		for (size_t i = 0; i < count; i++) {
			if (i)
				strbuf_puts(&sb, ",");
			json_class(&sb, &classes[i]);
		}
		strbuf_puts(&sb, "]}\n");
	} else if (format == RESULTS_CSV) {
		csv_classes(&sb, classes, count, unicode);
	} else {
		text_classes(&sb, classes, count, unicode);
	}
	if (sb.data)
		fwrite(sb.data, 1, sb.len, out);
	strbuf_free(&sb);
}

/* ---- a racer's profile ------------------------------------------------ */

static void json_profile(struct strbuf *sb, const struct results_profile *p)
{
	char score[TELEMETRY_OUTPUT_TEXT_MAX];

	strbuf_printf(sb, "{\"racer\":{\"racerId\":%" PRId64 ",\"name\":", p->racer_id);
	strbuf_json_string(sb, p->name ? p->name : "", p->name ? strlen(p->name) : 0);
	strbuf_puts(sb, ",\"bests\":[");
	for (size_t i = 0; i < p->best_count; i++) {
		const struct results_best *b = &p->bests[i];
		strbuf_printf(sb, "%s{\"classId\":%d,\"className\":", i ? "," : "", b->class_id);
		strbuf_json_string(sb, b->class_name ? b->class_name : "",
				   b->class_name ? strlen(b->class_name) : 0);
		strbuf_printf(sb, ",\"rank\":%d,\"score\":%s,\"raceId\":%" PRId64 "}", b->rank,
			      units(b->score, score), b->race_id);
	}
	strbuf_puts(sb, "],\"races\":[");
	for (size_t i = 0; i < p->race_count; i++) {
		const struct results_racer_race *r = &p->races[i];
		strbuf_printf(sb,
			      "%s{\"raceId\":%" PRId64 ",\"classId\":%d,\"rank\":%d,\"racers\":%d,"
			      "\"score\":%s}",
			      i ? "," : "", r->race_id, r->class_id, r->rank, r->racers,
			      units(r->score, score));
	}
	strbuf_puts(sb, "]}}\n");
}

static void csv_profile(struct strbuf *sb, const struct results_profile *p, bool unicode)
{
	char name[4 * TELEMETRY_NAME_MAX + 1], score[TELEMETRY_OUTPUT_TEXT_MAX];

	clean_name(p->name, name, sizeof(name), TELEMETRY_NAME_MAX, unicode);
	strbuf_puts(sb, "racerId,name,kind,classId,raceId,rank,racers,score\r\n");
	for (size_t i = 0; i < p->best_count; i++) {
		const struct results_best *b = &p->bests[i];
		strbuf_printf(sb, "%" PRId64 ",", p->racer_id);
		csv_field(sb, name);
		strbuf_printf(sb, ",best,%d,%" PRId64 ",%d,,%s\r\n", b->class_id, b->race_id, b->rank,
			      units(b->score, score));
	}
	for (size_t i = 0; i < p->race_count; i++) {
		const struct results_racer_race *r = &p->races[i];
		strbuf_printf(sb, "%" PRId64 ",", p->racer_id);
		csv_field(sb, name);
		strbuf_printf(sb, ",race,%d,%" PRId64 ",%d,%d,%s\r\n", r->class_id, r->race_id, r->rank,
			      r->racers, units(r->score, score));
	}
}

static void text_profile(struct strbuf *sb, const struct results_profile *p, bool unicode)
{
	char name[4 * TELEMETRY_NAME_MAX + 1];

	clean_name(p->name, name, sizeof(name), TELEMETRY_NAME_MAX, unicode);
	strbuf_printf(sb, "Racer %" PRId64 "  %s\n\nPersonal bests\n%-20s %6s %9s %*s\n", p->racer_id,
		      name, "Class", "Rank", "Score W", RACE_COLUMN, "Race");
	for (size_t i = 0; i < p->best_count; i++) {
		const struct results_best *b = &p->bests[i];
		char cls[256];
		clean_name(b->class_name, cls, sizeof(cls), 18, unicode);
		strbuf_printf(sb, "%d %-18s %6d", b->class_id, cls, b->rank);
		text_score(sb, b->score, 9);
		strbuf_printf(sb, " %*" PRId64 "\n", RACE_COLUMN, b->race_id);
	}
	strbuf_printf(sb, "\nRaces, newest first\n%*s %5s %9s %9s\n", RACE_COLUMN, "Race", "Class", "Place",
		      "Score W");
	for (size_t i = 0; i < p->race_count; i++) {
		const struct results_racer_race *r = &p->races[i];
		char place[32];
		snprintf(place, sizeof(place), "%d/%d", r->rank, r->racers);
		strbuf_printf(sb, "%*" PRId64 " %5d %9s", RACE_COLUMN, r->race_id, r->class_id, place);
		text_score(sb, r->score, 9);
		strbuf_puts(sb, "\n");
	}
}

void results_profile(FILE *out, enum results_format format, const struct results_profile *p,
		    bool unicode)
{
	struct strbuf sb;

	strbuf_init(&sb);
	if (format == RESULTS_JSON)
		json_profile(&sb, p);
	else if (format == RESULTS_CSV)
		csv_profile(&sb, p, unicode);
	else
		text_profile(&sb, p, unicode);
	if (sb.data)
		fwrite(sb.data, 1, sb.len, out);
	strbuf_free(&sb);
}
