/* Engine apply: decoded records into the live standings of 100 races of
 * 1,000 racers, 300 seconds each (30 million records a run).
 *
 * The racer model makes every second's records for all races (that is not
 * timed); engine_apply of them is. Two orders:
 *   in order    race after race, racers in the model's order: what a
 *               consumer sees when records are keyed by race (runs per
 *               race within a shard's event)
 *   shuffled    every second's 100,000 records in a random order: the
 *               worst case, every record a different race and racer
 * Memory: the allocator's bytes in use (mallinfo2) and RSS, before the
 * engine and after all 100,000 racers have ridden, per racer.
 *
 * Usage: bench_engine [--quick]   (--quick: 10 races, 60 seconds) */
#include "config.h"

#include "bench.h"
#include "race/engine.h"

#define DURATION 300

struct run {
	int races, racers, seconds;
	bool shuffle;
	double apply_s;                 /* timed: engine_apply only */
	uint64_t applied, other;
	size_t heap_per_racer, rss_per_racer;
};

/* xorshift64*: a fixed random order, the same every run. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

static void shuffle(struct telemetry *t, size_t n, uint64_t *state)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = next_random(state) % (i + 1);
		struct telemetry tmp = t[i];

		t[i] = t[j];
		t[j] = tmp;
	}
}

static void apply_second(struct engine *e, const struct telemetry *t, size_t n, int second,
			 struct run *run)
{
	int64_t arrival = BENCH_START_MS + (int64_t)second * 1000, start = bench_ns();

	for (size_t i = 0; i < n; i++) {
		if (engine_apply(e, &t[i], arrival) == ENGINE_APPLIED)
			run->applied++;
		else
			run->other++;
	}
	run->apply_s += bench_seconds(start);
}

static void run_engine(const struct roster *roster, struct run *run)
{
	size_t per_second = (size_t)run->races * run->racers;
	struct race_model *models = bench_alloc(run->races * sizeof(*models));
	struct telemetry *t = bench_alloc(per_second * sizeof(*t));
	size_t heap0, rss0;
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	struct engine *e;

	for (int r = 0; r < run->races; r++)
		bench_model(&models[r], roster, r, (size_t)r * run->racers, run->racers, DURATION);
	heap0 = bench_heap_used();
	rss0 = bench_rss(0);
	e = engine_new(DURATION);
	for (int s = 1; s <= run->seconds; s++) {
		for (int r = 0; r < run->races; r++)
			racemodel_second(&models[r], s, &t[(size_t)r * run->racers]);
		if (run->shuffle)
			shuffle(t, per_second, &state);
		apply_second(e, t, per_second, s, run);
	}
	run->heap_per_racer = (bench_heap_used() - heap0) / per_second;
	run->rss_per_racer = (bench_rss(0) - rss0) / per_second;
	engine_free(e);
	for (int r = 0; r < run->races; r++)
		racemodel_free(&models[r]);
	free(t);
	free(models);
}

static void report(const struct run *run, const char *order, const char *target)
{
	char figure[128], buf[32];
	double total = (double)(run->applied + run->other);

	snprintf(figure, sizeof(figure), "apply, %d races x %d racers x %d s, %s, updates/s",
		 run->races, run->racers, run->seconds, order);
	bench_row("engine", figure, target, "%s", bench_count(total / run->apply_s, buf));
	bench_note("bench_engine: %s: %.0f records in %.2f s of apply (%" PRIu64
		   " not applied)", order, total, run->apply_s, run->other);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	struct run in_order = { .races = quick ? 10 : 100, .racers = 1000,
				.seconds = quick ? 60 : DURATION };
	struct run shuffled = in_order;
	struct roster roster;

	shuffled.shuffle = true;
	bench_roster(&roster);
	bench_table_head();
	run_engine(&roster, &in_order);
	report(&in_order, "in order", ">= 10,000,000/s");
	run_engine(&roster, &shuffled);
	report(&shuffled, "shuffled", "");
	bench_row("engine", "memory per racer (allocator bytes in use)", "reported", "%zu B",
		  in_order.heap_per_racer);
	bench_row("engine", "memory per racer (RSS delta)", "reported", "%zu B",
		  in_order.rss_per_racer);
	roster_free(&roster);
	return 0;
}
