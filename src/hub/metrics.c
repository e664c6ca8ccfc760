#include "config.h"
#include "hub/metrics.h"

#include <inttypes.h>
#include <string.h>

#include "hub/connlimit.h"
#include "hub/hub.h"
#include "hub/push.h"

static uint64_t metric_bytes_in(const struct shard *sh)
{
	return sh->bytes_in;
}

static uint64_t metric_records_in(const struct shard *sh)
{
	return sh->records_in;
}

static uint64_t metric_bytes_out(const struct shard *sh)
{
	return sh->bytes_out;
}

static uint64_t metric_records_out(const struct shard *sh)
{
	return sh->records_out;
}

static uint64_t metric_throttled(const struct shard *sh)
{
	return sh->throttled;
}

static uint64_t metric_zero(const struct shard *sh)
{
	(void)sh;
	return 0;
}

static uint64_t metric_iterator_age(const struct shard *sh)
{
	return (uint64_t)sh->iterator_age_ms;
}

/* One family of per-shard series; a forgotten shard's series end, as the
 * shard is gone from the API. */
static void shard_family(const struct hub *hub, const struct push *push, struct strbuf *out,
			 const char *name, const char *type, const char *help,
			 uint64_t (*value)(const struct shard *sh, const struct stream *s,
					   const struct push *push))
{
	strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (size_t i = 0; i < hub->stream_count; i++) {
		const struct stream *s = hub->streams[i];
		for (size_t k = 0; k < s->shard_count; k++)
			if (!s->shards[k].forgotten)
				strbuf_printf(out, "%s{stream=\"%s\",shard=\"%s\"} %" PRIu64 "\n",
					      name, s->name, s->shards[k].id,
					      value(&s->shards[k], s, push));
	}
}

static uint64_t records_in(const struct shard *sh, const struct stream *s, const struct push *p)
{
	return sh->records_in;
}

static uint64_t bytes_in(const struct shard *sh, const struct stream *s, const struct push *p)
{
	return sh->bytes_in;
}

static uint64_t throttled(const struct shard *sh, const struct stream *s, const struct push *p)
{
	return sh->throttled;
}

static uint64_t retained(const struct shard *sh, const struct stream *s, const struct push *p)
{
	return sh->log.count;
}

static uint64_t retained_bytes(const struct shard *sh, const struct stream *s,
			       const struct push *p)
{
	return sh->log.bytes;
}

static uint64_t subscriptions(const struct shard *sh, const struct stream *s,
			      const struct push *p)
{
	return push_count_shard(p, s->uid, (unsigned)(sh - s->shards));
}

/* ------------------------------------------------------------------ */
/* Enhanced monitoring: the shard-level metrics a stream turned on      */
/* ------------------------------------------------------------------ */

/* Each of Kinesis's shard-level metrics, as the hub counts it. Reads are
 * never limited, so ReadProvisionedThroughputExceeded stays 0. */
static const struct shard_metric {
	unsigned bit;
	const char *name;
	uint64_t (*value)(const struct shard *sh);
} shard_metrics[] = {
	{ STREAM_METRIC_INCOMING_BYTES, "IncomingBytes", metric_bytes_in },
	{ STREAM_METRIC_INCOMING_RECORDS, "IncomingRecords", metric_records_in },
	{ STREAM_METRIC_OUTGOING_BYTES, "OutgoingBytes", metric_bytes_out },
	{ STREAM_METRIC_OUTGOING_RECORDS, "OutgoingRecords", metric_records_out },
	{ STREAM_METRIC_WRITE_EXCEEDED, "WriteProvisionedThroughputExceeded", metric_throttled },
	{ STREAM_METRIC_READ_EXCEEDED, "ReadProvisionedThroughputExceeded", metric_zero },
	{ STREAM_METRIC_ITERATOR_AGE, "IteratorAgeMilliseconds", metric_iterator_age },
};

/* One series per shard and metric turned on, only for the streams that
 * turned enhanced monitoring on. */
static void render_shard_level(const struct hub *hub, struct strbuf *out)
{
	strbuf_puts(out, "# HELP alleycat_shard_level_metric Kinesis shard-level metrics of "
			 "streams with enhanced monitoring on.\n"
			 "# TYPE alleycat_shard_level_metric gauge\n");
	for (size_t i = 0; i < hub->stream_count; i++) {
		const struct stream *s = hub->streams[i];
		for (size_t m = 0; m < sizeof(shard_metrics) / sizeof(shard_metrics[0]); m++) {
			if (!(s->shard_metrics & shard_metrics[m].bit))
				continue;
			for (size_t k = 0; k < s->shard_count; k++)
				if (!s->shards[k].forgotten)
					strbuf_printf(out,
						      "alleycat_shard_level_metric{stream=\"%s\","
						      "shard=\"%s\",metric=\"%s\"} %" PRIu64 "\n",
						      s->name, s->shards[k].id, shard_metrics[m].name,
						      shard_metrics[m].value(&s->shards[k]));
		}
	}
}

/* The consumer name is the ARN part after "/consumer/" and before ":". */
static void consumer_name(const char *arn, char *out, size_t size)
{
	const char *p = strstr(arn, "/consumer/");
	size_t n = 0;

	p = p ? p + 10 : arn;
	while (p[n] && p[n] != ':' && n + 1 < size) {
		out[n] = p[n];
		n++;
	}
	out[n] = '\0';
}

static const char *stream_name(const struct hub *hub, uint64_t uid)
{
	for (size_t i = 0; i < hub->stream_count; i++)
		if (hub->streams[i]->uid == uid)
			return hub->streams[i]->name;
	return "";
}

/* One gauge family of per-subscription series, by stream, consumer and shard. */
static void subscription_family(const struct hub *hub, const struct push *push,
				struct strbuf *out, const char *name, const char *help,
				int64_t (*value)(const struct push_sub *sub))
{
	strbuf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	for (const struct push_sub *sub = push->all; sub; sub = sub->next_all) {
		char consumer[CONSUMER_NAME_MAX + 1];
		consumer_name(sub->consumer_arn, consumer, sizeof(consumer));
		strbuf_printf(out,
			      "%s{stream=\"%s\",consumer=\"%s\",shard=\"shardId-%012u\"} %" PRId64
			      "\n",
			      name, stream_name(hub, sub->stream_uid), consumer, sub->shard,
			      value(sub));
	}
}

static int64_t lag_ms(const struct push_sub *sub)
{
	return sub->lag_ms;
}

/* A mirrored stream's relay: how late its records are stored here, and
 * what it refused or skipped of what the upstream sent. */
static void render_mirrors(const struct hub *hub, struct strbuf *out)
{
	strbuf_puts(out, "# HELP alleycat_mirror_lag_ms Milliseconds from a record's arrival "
			 "upstream to its storing here, for the last batch mirrored.\n"
			 "# TYPE alleycat_mirror_lag_ms gauge\n");
	for (size_t i = 0; i < hub->stream_count; i++)
		if (hub->streams[i]->mirrored)
			strbuf_printf(out, "alleycat_mirror_lag_ms{stream=\"%s\"} %" PRId64 "\n",
				      hub->streams[i]->name, hub->streams[i]->mirror.lag_ms);
	strbuf_puts(out, "# HELP alleycat_mirror_records_total Upstream records a mirror "
			 "stored (stored), skipped as held already (repeated), refused as "
			 "malformed or outside their shard (bad), or left out unread (unreadable).\n"
			 "# TYPE alleycat_mirror_records_total counter\n");
	for (size_t i = 0; i < hub->stream_count; i++) {
		const struct stream *s = hub->streams[i];
		if (!s->mirrored)
			continue;
		strbuf_printf(out,
			      "alleycat_mirror_records_total{stream=\"%s\",outcome=\"stored\"} "
			      "%" PRIu64 "\n"
			      "alleycat_mirror_records_total{stream=\"%s\",outcome=\"repeated\"} "
			      "%" PRIu64 "\n"
			      "alleycat_mirror_records_total{stream=\"%s\",outcome=\"bad\"} "
			      "%" PRIu64 "\n"
			      "alleycat_mirror_records_total{stream=\"%s\",outcome=\"unreadable\"} "
			      "%" PRIu64 "\n",
			      s->name, s->mirror.records, s->name, s->mirror.repeated, s->name,
			      s->mirror.bad, s->name, s->mirror.unreadable);
	}
}

static int64_t records_sent(const struct push_sub *sub)
{
	return (int64_t)sub->records_out;
}

void metrics_render(const struct hub *hub, const struct push *push, int64_t now_ms,
		    struct strbuf *out)
{
	shard_family(hub, push, out, "alleycat_shard_records_in_total", "counter",
		     "Records written to the shard.", records_in);
	shard_family(hub, push, out, "alleycat_shard_bytes_in_total", "counter",
		     "Bytes of data and partition keys written to the shard.", bytes_in);
	shard_family(hub, push, out, "alleycat_shard_throttled_total", "counter",
		     "Records refused by the shard's write limits.", throttled);
	shard_family(hub, push, out, "alleycat_shard_retained_records", "gauge",
		     "Records the shard holds.", retained);
	shard_family(hub, push, out, "alleycat_shard_retained_bytes", "gauge",
		     "Bytes the shard holds.", retained_bytes);
	shard_family(hub, push, out, "alleycat_shard_subscriptions", "gauge",
		     "Open push subscriptions to the shard.", subscriptions);

	render_shard_level(hub, out);

	/* Sequence numbers outgrow a float's 53 bits: they go in a label. */
	strbuf_puts(out, "# HELP alleycat_shard_info The shard's last sequence number (0 when "
			 "empty).\n# TYPE alleycat_shard_info gauge\n");
	for (size_t i = 0; i < hub->stream_count; i++) {
		const struct stream *s = hub->streams[i];
		for (size_t k = 0; k < s->shard_count; k++) {
			const struct shardlog_record *last = shardlog_last(&s->shards[k].log);
			char seq[SEQNO_TEXT_MAX];

			if (s->shards[k].forgotten)
				continue;
			seqno_format(last ? last->seq : SEQNO_ZERO, seq);
			strbuf_printf(out,
				      "alleycat_shard_info{stream=\"%s\",shard=\"%s\","
				      "last_sequence_number=\"%s\"} 1\n",
				      s->name, s->shards[k].id, seq);
		}
	}

	render_mirrors(hub, out);

	subscription_family(hub, push, out, "alleycat_consumer_lag_ms",
			    "MillisBehindLatest of a consumer's subscription to a shard.", lag_ms);
	subscription_family(hub, push, out, "alleycat_consumer_records_sent",
			    "Records the consumer's current subscription to a shard has taken from "
			    "the shard for its connection (WebSocket or event stream).",
			    records_sent);
	strbuf_printf(out, "# HELP alleycat_subscriptions_total Push subscriptions opened.\n"
			   "# TYPE alleycat_subscriptions_total counter\n"
			   "alleycat_subscriptions_total %" PRIu64 "\n",
		      push->subscriptions_total);
	(void)now_ms;
}

void metrics_render_connections(const struct conn_limit *conns, struct strbuf *out)
{
	strbuf_printf(out,
		      "# HELP alleycat_connections Open connections (HTTP and push).\n"
		      "# TYPE alleycat_connections gauge\n"
		      "alleycat_connections %zu\n"
		      "# HELP alleycat_connections_max The cap on open connections.\n"
		      "# TYPE alleycat_connections_max gauge\n"
		      "alleycat_connections_max %zu\n"
		      "# HELP alleycat_connections_refused_total Connections refused at the cap.\n"
		      "# TYPE alleycat_connections_refused_total counter\n"
		      "alleycat_connections_refused_total %" PRIu64 "\n"
		      "# HELP alleycat_connections_evicted_total Connections that had asked nothing, "
		      "closed at the cap to make room.\n"
		      "# TYPE alleycat_connections_evicted_total counter\n"
		      "alleycat_connections_evicted_total %" PRIu64 "\n",
		      conns->open - conns->evicting, conns->max, conns->refused, conns->evicted);
}

void metrics_render_http(const struct http_counts *counts, struct strbuf *out)
{
	strbuf_printf(out,
		      "# HELP alleycat_connections_accepted_total Connections served, by the HTTP "
		      "they spoke: http1 (HTTP/1.x and the WebSocket push) or h2.\n"
		      "# TYPE alleycat_connections_accepted_total counter\n"
		      "alleycat_connections_accepted_total{protocol=\"http1\"} %" PRIu64 "\n"
		      "alleycat_connections_accepted_total{protocol=\"h2\"} %" PRIu64 "\n"
		      "# HELP alleycat_h2_streams_total HTTP/2 streams (requests) opened.\n"
		      "# TYPE alleycat_h2_streams_total counter\n"
		      "alleycat_h2_streams_total %" PRIu64 "\n"
		      "# HELP alleycat_h2_streams_reset_total HTTP/2 streams ended by RST_STREAM, "
		      "by who sent it.\n"
		      "# TYPE alleycat_h2_streams_reset_total counter\n"
		      "alleycat_h2_streams_reset_total{by=\"hub\"} %" PRIu64 "\n"
		      "alleycat_h2_streams_reset_total{by=\"client\"} %" PRIu64 "\n",
		      counts->http1_connections, counts->h2_connections, counts->h2_streams,
		      counts->h2_resets_by_hub, counts->h2_resets_by_client);
}
