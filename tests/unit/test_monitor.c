/* The monitor reads the hub's /metrics page into per-shard rates and
 * consumer lags, as the monitor view shows them. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/monitor.h"

static const char page1[] =
	"# HELP alleycat_shard_records_in_total Records written to the shard.\n"
	"# TYPE alleycat_shard_records_in_total counter\n"
	"alleycat_shard_records_in_total{stream=\"alleycat\",shard=\"shardId-000000000000\"} 100\n"
	"alleycat_shard_records_in_total{stream=\"alleycat\",shard=\"shardId-000000000001\"} 50\n"
	"alleycat_shard_bytes_in_total{stream=\"alleycat\",shard=\"shardId-000000000000\"} 10240\n"
	"alleycat_shard_throttled_total{stream=\"alleycat\",shard=\"shardId-000000000000\"} 3\n"
	"alleycat_shard_subscriptions{stream=\"alleycat\",shard=\"shardId-000000000000\"} 2\n"
	"alleycat_consumer_lag_ms{stream=\"alleycat\",consumer=\"board-x\",shard=\"shardId-000000000000\"} 1500\n"
	"alleycat_shard_info{stream=\"alleycat\",shard=\"shardId-000000000000\",last_sequence_number=\"1795659501039000042\"} 1\n"
	"alleycat_subscriptions_total 7\n";

static const char page2[] =
	"alleycat_shard_records_in_total{stream=\"alleycat\",shard=\"shardId-000000000000\"} 300\n"
	"alleycat_shard_records_in_total{stream=\"alleycat\",shard=\"shardId-000000000001\"} 50\n"
	"alleycat_shard_bytes_in_total{stream=\"alleycat\",shard=\"shardId-000000000000\"} 30720\n"
	"alleycat_shard_throttled_total{stream=\"alleycat\",shard=\"shardId-000000000000\"} 13\n";

static void test_parse_and_rates(void **state __attribute__((unused)))
{
	struct monitor_view *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	assert_int_equal(monitor_parse(page1, strlen(page1), NULL, 0, a), 0);
	assert_int_equal(a->shard_count, 2);
	assert_string_equal(a->shards[0].shard_id, "shardId-000000000000");
	assert_int_equal(a->shards[0].records_total, 100);
	assert_int_equal(a->shards[0].subscriptions, 2);
	assert_string_equal(a->shards[0].last_sequence, "1795659501039000042");
	assert_int_equal(a->lag_count, 1);
	assert_string_equal(a->lags[0].consumer, "board-x");
	assert_int_equal(a->lags[0].lag_ms, 1500);
	assert_true(a->shards[0].records_history[MONITOR_HISTORY - 1] < 0);

	/* Two seconds later: 200 records, 20 KiB and 10 refusals more. */
	assert_int_equal(monitor_parse(page2, strlen(page2), a, 2.0, b), 0);
	assert_true(b->shards[0].records_per_sec > 99.9 && b->shards[0].records_per_sec < 100.1);
	assert_true(b->shards[0].bytes_per_sec > 10239 && b->shards[0].bytes_per_sec < 10241);
	assert_true(b->shards[0].throttled_per_sec > 4.9 && b->shards[0].throttled_per_sec < 5.1);
	assert_true(b->shards[1].records_per_sec == 0);
	assert_true(b->shards[0].records_history[MONITOR_HISTORY - 1] > 99.9);
	free(a);
	free(b);
}

static const char mirror1[] =
	"alleycat_mirror_lag_ms{stream=\"race\"} 250\n"
	"alleycat_mirror_records_total{stream=\"race\",outcome=\"stored\"} 1000\n"
	"alleycat_mirror_records_total{stream=\"race\",outcome=\"repeated\"} 7\n"
	"alleycat_mirror_records_total{stream=\"race\",outcome=\"bad\"} 2\n"
	"alleycat_mirror_records_total{stream=\"race\",outcome=\"unreadable\"} 1\n";

static const char mirror2[] =
	"alleycat_mirror_lag_ms{stream=\"race\"} 40\n"
	"alleycat_mirror_records_total{stream=\"race\",outcome=\"stored\"} 1500\n";

/* A hub that mirrors another's stream: its lag and what it stored. */
static void test_mirror(void **state __attribute__((unused)))
{
	struct monitor_view *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	assert_int_equal(monitor_parse(mirror1, strlen(mirror1), NULL, 0, a), 0);
	assert_int_equal(a->mirror_count, 1);
	assert_string_equal(a->mirrors[0].stream, "race");
	assert_int_equal(a->mirrors[0].lag_ms, 250);
	assert_int_equal(a->mirrors[0].stored, 1000);
	assert_int_equal(a->mirrors[0].repeated, 7);
	assert_int_equal(a->mirrors[0].bad, 2);
	assert_int_equal(a->mirrors[0].unreadable, 1);
	assert_int_equal(a->shard_count, 0);
	/* Two seconds later: 500 stored more. */
	assert_int_equal(monitor_parse(mirror2, strlen(mirror2), a, 2.0, b), 0);
	assert_int_equal(b->mirrors[0].lag_ms, 40);
	assert_true(b->mirrors[0].stored_per_sec > 249.9 && b->mirrors[0].stored_per_sec < 250.1);
	assert_int_equal(monitor_parse(page1, strlen(page1), NULL, 0, a), 0);
	assert_int_equal(a->mirror_count, 0);
	free(a);
	free(b);
}

static void test_not_a_metrics_page(void **state __attribute__((unused)))
{
	struct monitor_view *v = calloc(1, sizeof(*v));
	const char *html = "<html><body>nope</body></html>";

	assert_int_equal(monitor_parse(html, strlen(html), NULL, 0, v), -1);
	assert_int_equal(monitor_parse("", 0, NULL, 0, v), -1);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_rates),
		cmocka_unit_test(test_mirror),
		cmocka_unit_test(test_not_a_metrics_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
