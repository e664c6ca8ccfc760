/* The finish of a race from the history (finish.h says why the store). */
#include "config.h"
#include "race/finish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race/store.h"

/* What the store's callbacks fill: they cannot fail, so a failure to
 * grow is kept here and reported after the query. */
struct finish_reading {
	struct finish *f;
	bool found, no_memory;
};

static int rows_reserve(struct finish *f, size_t want)
{
	struct finish_row *rows;
	size_t capacity;

	if (want <= f->capacity)
		return 0;
	capacity = f->capacity ? f->capacity * 2 : 64;
	rows = realloc(f->rows, capacity * sizeof(*rows));
	if (rows == NULL)
		return -1;
	f->rows = rows;
	f->capacity = capacity;
	return 0;
}

static void race_take(void *user, const struct store_race_row *row)
{
	struct finish_reading *r = user;

	r->found = true;
	r->f->class_id = row->class_id;
	r->f->ended_ms = row->ended_ms;
	snprintf(r->f->class_name, sizeof(r->f->class_name), "%s",
		 row->class_name ? row->class_name : "");
}

static void result_take(void *user, const struct store_result_row *row)
{
	struct finish_reading *r = user;
	struct finish *f = r->f;
	struct finish_row *out;

	if (rows_reserve(f, f->count + 1) < 0) {
		r->no_memory = true;
		return;
	}
	out = &f->rows[f->count++];
	out->rank = row->rank;
	out->racer_id = row->racer_id;
	snprintf(out->name, sizeof(out->name), "%s", row->name ? row->name : "");
	out->score = row->score;
	out->gap = row->gap;
}

int finish_read(struct finish *f, struct store *store, int64_t race_id, int64_t now_ms)
{
	struct finish_reading r = { .f = f };

	finish_clear(f);
	if (store_race(store, race_id, race_take, result_take, &r) < 0 || r.no_memory) {
		finish_clear(f);
		return -1;
	}
	if (!r.found || f->count == 0) {
		finish_clear(f);
		return 1;
	}
	f->race_id = race_id;
	f->shown_ms = now_ms;
	return 0;
}

bool finish_holding(const struct finish *f, int64_t now_ms)
{
	return f->race_id != 0 && now_ms - f->shown_ms < FINISH_HOLD_MS;
}

const struct finish_row *finish_row_of(const struct finish *f, int64_t racer_id)
{
	for (size_t i = 0; i < f->count; i++)
		if (f->rows[i].racer_id == racer_id)
			return &f->rows[i];
	return NULL;
}

void finish_clear(struct finish *f)
{
	free(f->rows);
	memset(f, 0, sizeof(*f));
}

static void latest_take(void *user, const struct store_race_row *row)
{
	struct finish_latest *out = user;

	*out = (struct finish_latest){ .race_id = row->race_id, .class_id = row->class_id,
				       .ended_ms = row->ended_ms };
}

int finish_latest(struct store *store, struct finish_latest *out)
{
	memset(out, 0, sizeof(*out));
	if (store_races(store, 0, 1, 0, latest_take, out) < 0)
		return -1;
	return out->race_id ? 0 : 1;
}

static void count_leader(void *user, const struct store_leader_row *row)
{
	(void)row;
	(*(size_t *)user)++;
}

int finish_next_board(struct store *store, int after_class)
{
	for (int step = 1; step <= TELEMETRY_CLASS_COUNT; step++) {
		int class_id = ((after_class - 1 + step) % TELEMETRY_CLASS_COUNT +
				TELEMETRY_CLASS_COUNT) % TELEMETRY_CLASS_COUNT + 1;
		size_t found = 0;

		if (store_class_leaders(store, class_id, 1, 0, count_leader, &found) < 0)
			return -1;
		if (found > 0)
			return class_id;
	}
	return 0;
}
