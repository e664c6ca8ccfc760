#include "config.h"
#include "batchcheck.h"

#include <setjmp.h>
#include <stdarg.h>
#include <string.h>

#include <cmocka.h>

void decode_text(const char *text, struct parallel *lanes, struct decoded *d)
{
	memset(d, 0, sizeof(*d));
	d->b = consumer_batch_decode_event(text, strlen(text), lanes, &d->bad, d->last_bad,
					   sizeof(d->last_bad), &d->bytes, &d->reason);
}

void same_telemetry(const struct telemetry *got, const struct telemetry *want)
{
	assert_int_equal(got->final, want->final);
	assert_int_equal(got->device_ts, want->device_ts);
	assert_int_equal(got->second, want->second);
	assert_int_equal(got->race_id, want->race_id);
	assert_int_equal(got->racer_id, want->racer_id);
	assert_int_equal(got->class_id, want->class_id);
	assert_true(got->cadence == want->cadence);
	assert_true(got->resistance == want->resistance);
	assert_int_equal(got->output, want->output);
	assert_string_equal(got->name, want->name);
}

void same_batch(const struct decoded *got, const struct decoded *want)
{
	assert_string_equal(got->b->shard_id, want->b->shard_id);
	assert_string_equal(got->b->continuation, want->b->continuation);
	assert_int_equal(got->b->millis_behind, want->b->millis_behind);
	assert_int_equal(got->b->count, want->b->count);
	assert_int_equal(got->bad, want->bad);
	assert_int_equal(got->bytes, want->bytes);
	for (size_t i = 0; i < got->b->count; i++) {
		same_telemetry(&got->b->records[i].t, &want->b->records[i].t);
		assert_int_equal(got->b->records[i].arrival_ms, want->b->records[i].arrival_ms);
	}
}
