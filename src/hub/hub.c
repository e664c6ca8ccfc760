#include "config.h"
#include "hub/hub.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/journal.h"
#include "util/log.h"
#include "wire/protocol.h"

void hub_config_defaults(struct hub_config *config)
{
	memset(config, 0, sizeof(*config));
	config->region = "us-east-1";
	config->account = "000000000000";
	config->limits.shard_records_per_sec = 1000;
	config->limits.shard_bytes_per_sec = 1048576;
	config->retention_bytes = 1ull << 30;
	config->retention_seconds = 24 * 3600;
	config->max_consumers = 20;
	config->max_shards = 1024;
	config->subscription_seconds = 300;
	config->push_bytes_per_sec = 2 * 1048576;
	config->update_ms = 1000;
}

/* ------------------------------------------------------------------ */
/* Saved state: streams, shards and consumers as one JSON document      */
/* ------------------------------------------------------------------ */

static json_t *hashkey_json(hashkey_t key)
{
	char text[HASHKEY_TEXT_MAX];

	hashkey_format(key, text);
	return json_string(text);
}

/* Sequence numbers are saved as decimal strings: a mirror's are its
 * upstream's, wider than a JSON integer. */
static json_t *seq_json(seqno_t seq)
{
	char text[SEQNO_TEXT_MAX];

	seqno_format(seq, text);
	return json_string(text);
}

/* A saved sequence number: a decimal string, or the integer an earlier
 * version wrote (a uint64 cast to json_int_t); NULL when absent, 0. */
static int load_seq(json_t *j, seqno_t *out)
{
	*out = SEQNO_ZERO;
	if (j == NULL)
		return 0;
	if (json_is_integer(j)) {
		*out = seqno_from_u64((uint64_t)json_integer_value(j));
		return 0;
	}
	return json_is_string(j) && seqno_parse(json_string_value(j), out) == SEQNO_OK ? 0 : -1;
}

static json_t *shard_json(const struct shard *sh)
{
	json_t *j = json_pack("{s:s, s:o, s:o, s:o, s:o, s:I, s:i, s:i}", "id", sh->id, "start",
			      hashkey_json(sh->start), "end", hashkey_json(sh->end), "startingSeq",
			      seq_json(sh->starting_seq), "endingSeq", seq_json(sh->ending_seq),
			      "closedMs", (json_int_t)sh->closed_ms, "parent", sh->parent,
			      "adjacentParent", sh->adjacent_parent);

	if (j && !seqno_is_zero(sh->mirrored_to))
		json_object_set_new(j, "mirroredTo", seq_json(sh->mirrored_to));
	return j;
}

static json_t *consumer_json(const struct stream_consumer *c)
{
	json_t *j = json_pack("{s:s, s:I, s:o}", "name", c->name, "created", (json_int_t)c->created,
			      "tags", tagset_json(&c->tags));

	if (c->policy)
		json_object_set_new(j, "policy", json_string(c->policy));
	return j;
}

/* The settings clients change; each member is optional when loading, so
 * the state of an earlier version loads with the defaults. */
static void settings_json(const struct stream *s, json_t *j)
{
	json_object_set_new(j, "mode", json_integer(s->mode));
	json_object_set_new(j, "modeSwitchesMs", json_pack("[I, I]",
							   (json_int_t)s->mode_switches_ms[0],
							   (json_int_t)s->mode_switches_ms[1]));
	json_object_set_new(j, "keyId", json_string(s->key_id));
	json_object_set_new(j, "encryptedFrom", seq_json(s->encrypted_from));
	json_object_set_new(j, "shardMetrics", json_integer(s->shard_metrics));
	json_object_set_new(j, "warmMiBps", json_integer(s->warm_mibps));
	json_object_set_new(j, "maxRecordKiB", json_integer(s->max_record_kib));
	json_object_set_new(j, "tags", tagset_json(&s->tags));
	if (s->policy)
		json_object_set_new(j, "policy", json_string(s->policy));
}

static json_t *stream_json(const struct stream *s)
{
	json_t *shards = json_array(), *consumers = json_array(), *j;

	for (size_t i = 0; i < s->shard_count; i++)
		json_array_append_new(shards, shard_json(&s->shards[i]));
	for (size_t i = 0; i < s->consumer_count; i++)
		json_array_append_new(consumers, consumer_json(&s->consumers[i]));
	/* retentionHours too, for a hub of an earlier version to read. */
	j = json_pack("{s:s, s:I, s:I, s:I, s:i, s:o, s:o}", "name", s->name, "uid",
		      (json_int_t)s->uid, "createdMs", (json_int_t)s->created_ms, "retentionMs",
		      (json_int_t)s->retention_ms, "retentionHours", stream_retention_hours(s),
		      "shards", shards, "consumers", consumers);
	if (j)
		settings_json(s, j);
	if (j && s->mirrored)
		json_object_set_new(j, "mirrored", json_true());
	return j;
}

/* What the saved state now holds of each mirrored shard's checkpoint. */
static void mark_saved(struct hub *hub)
{
	for (size_t i = 0; i < hub->stream_count; i++)
		for (size_t k = 0; k < hub->streams[i]->shard_count; k++)
			hub->streams[i]->shards[k].mirror_saved = hub->streams[i]->shards[k].mirrored_to;
}

int hub_save(struct hub *hub)
{
	json_t *streams, *root;
	char *text;
	int rc;

	if (hub->journal == NULL)
		return 0;
	streams = json_array();
	for (size_t i = 0; i < hub->stream_count; i++)
		json_array_append_new(streams, stream_json(hub->streams[i]));
	root = json_pack("{s:i, s:o, s:o, s:{s:I, s:I}}", "version", 1, "lastSeq",
			 seq_json(seqno_from_u64(hub->gen.last)), "streams", streams, "account",
			 "commitmentStartedMs", (json_int_t)hub->account.commitment_started_ms,
			 "commitmentEndMs", (json_int_t)hub->account.commitment_end_ms);
	text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (text == NULL)
		return -1;
	rc = journal_save_meta(hub->journal, text);
	if (rc < 0)
		log_error("cannot save the hub state: %s", strerror(errno));
	else
		mark_saved(hub);
	free(text);
	return rc;
}

/* A closed shard saved by a hub that did not record when it closed
 * (before closedMs) counts as closed when it is loaded: it then lasts one
 * retention more than it would have, never less, so it is not forgotten
 * while records it may hold are still readable. */
static int load_shard(struct shard *sh, json_t *j, size_t index, int64_t now_ms, bool *migrated)
{
	const char *id, *start, *end, *reason;
	json_int_t closed = -1;
	json_t *starting, *ending, *mirrored_to = NULL;
	int parent, adjacent;

	memset(sh, 0, sizeof(*sh));
	if (json_unpack(j, "{s:s, s:s, s:s, s:o, s:o, s?I, s:i, s:i, s?o}", "id", &id, "start",
			&start, "end", &end, "startingSeq", &starting, "endingSeq", &ending,
			"closedMs", &closed, "parent", &parent, "adjacentParent", &adjacent,
			"mirroredTo", &mirrored_to) < 0 ||
	    load_seq(starting, &sh->starting_seq) < 0 || load_seq(ending, &sh->ending_seq) < 0 ||
	    load_seq(mirrored_to, &sh->mirrored_to) < 0)
		return -1;
	/* Parents come before their children: an index the answers would
	 * follow must name a shard already loaded. */
	if (parent < -1 || parent >= (int)index || adjacent < -1 || adjacent >= (int)index ||
	    (parent < 0 && adjacent >= 0))
		return -1;
	snprintf(sh->id, sizeof(sh->id), "shardId-%012zu", index);
	if (hashkey_parse(start, &sh->start, &reason) < 0 ||
	    hashkey_parse(end, &sh->end, &reason) < 0)
		return -1;
	if (!seqno_is_zero(sh->ending_seq) && closed < 0) {
		closed = now_ms;
		*migrated = true;
	}
	sh->closed_ms = closed < 0 ? 0 : closed;
	sh->parent = parent;
	sh->adjacent_parent = adjacent;
	sh->mirror_saved = sh->mirrored_to;
	shardlog_init(&sh->log);
	return 0;
}

static int load_policy(char **policy, json_t *j)
{
	json_t *v = json_object_get(j, "policy");

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || (*policy = strdup(json_string_value(v))) == NULL)
		return -1;
	return 0;
}

static int load_consumer(struct stream *s, json_t *j)
{
	const char *name;
	json_int_t created;
	struct stream_consumer *c;

	if (json_unpack(j, "{s:s, s:I}", "name", &name, "created", &created) < 0 ||
	    (c = stream_add_consumer(s, name, created)) == NULL)
		return -1;
	if (tagset_load(&c->tags, json_object_get(j, "tags")) < 0 ||
	    load_policy(&c->policy, j) < 0)
		return -1;
	return 0;
}

static int load_settings(struct stream *s, json_t *j)
{
	json_int_t mode = STREAM_PROVISIONED, metrics = 0, warm = 0;
	json_t *from = NULL;
	json_int_t max_kib = STREAM_RECORD_KIB_DEFAULT;
	json_int_t switched[2] = { 0, 0 };
	const char *key_id = "";

	if (json_unpack(j, "{s?I, s?[II], s?s, s?o, s?I, s?I, s?I}", "mode", &mode,
			"modeSwitchesMs", &switched[0], &switched[1], "keyId", &key_id,
			"encryptedFrom", &from, "shardMetrics", &metrics, "warmMiBps", &warm,
			"maxRecordKiB", &max_kib) < 0 ||
	    max_kib < 1 || max_kib * 1024 > KINESIS_RECORD_MAX_LARGEST ||
	    (mode != STREAM_PROVISIONED && mode != STREAM_ON_DEMAND) || warm < 0 ||
	    warm > UINT32_MAX ||
	    strlen(key_id) > STREAM_KEY_ID_MAX || load_seq(from, &s->encrypted_from) < 0)
		return -1;
	s->mode = (enum stream_mode)mode;
	s->mode_switches_ms[0] = switched[0];
	s->mode_switches_ms[1] = switched[1];
	snprintf(s->key_id, sizeof(s->key_id), "%s", key_id);
	s->shard_metrics = (unsigned)metrics & STREAM_METRIC_ALL;
	s->warm_mibps = (uint32_t)warm;
	s->max_record_kib = (uint32_t)max_kib;
	if (tagset_load(&s->tags, json_object_get(j, "tags")) < 0 ||
	    load_policy(&s->policy, j) < 0)
		return -1;
	return 0;
}

static struct stream *load_stream(struct hub *hub, json_t *j, int64_t now_ms, bool *migrated)
{
	const char *name;
	json_int_t uid, created, retention_ms = -1;
	int retention_hours;
	json_t *shards, *consumers, *v;
	size_t i;
	struct stream *s;

	/* retentionMs is newer than retentionHours, which was whole hours. */
	if (json_unpack(j, "{s:s, s:I, s:I, s:i, s?I, s:o, s:o}", "name", &name, "uid", &uid,
			"createdMs", &created, "retentionHours", &retention_hours, "retentionMs",
			&retention_ms, "shards", &shards, "consumers", &consumers) < 0 ||
	    !json_is_array(shards) || json_array_size(shards) == 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->shards = calloc(json_array_size(shards), sizeof(*s->shards));
	if (s->shards == NULL) {
		free(s);
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->arn, sizeof(s->arn), "%s:stream/%s", hub->arn_prefix, name);
	s->uid = (uint64_t)uid;
	s->created_ms = created;
	s->retention_ms = retention_ms >= 0 ? retention_ms : retention_hours * STREAM_HOUR_MS;
	json_array_foreach(shards, i, v) {
		if (load_shard(&s->shards[i], v, i, now_ms, migrated) < 0) {
			stream_free(s);
			return NULL;
		}
		s->shard_count++;
	}
	if (stream_index_open(s) < 0) {
		stream_free(s);
		return NULL;
	}
	json_array_foreach(consumers, i, v) {
		if (load_consumer(s, v) < 0) {
			stream_free(s);
			return NULL;
		}
	}
	if (load_settings(s, j) < 0) {
		stream_free(s);
		return NULL;
	}
	s->mirrored = json_is_true(json_object_get(j, "mirrored"));
	return s;
}

static int add_stream(struct hub *hub, struct stream *s)
{
	struct stream **grown = realloc(hub->streams, (hub->stream_count + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	hub->streams = grown;
	hub->streams[hub->stream_count++] = s;
	return 0;
}

/* Loads the saved streams; *migrated is set when the state was saved by
 * an earlier version and needs saving again. */
static int load_state(struct hub *hub, int64_t now_ms, bool *migrated, char *err, size_t errlen)
{
	char *text = journal_load_meta(hub->journal);
	json_error_t jerr;
	json_t *root, *streams, *v, *last_json;
	json_int_t started = 0, end = 0;
	seqno_t last_seq;
	size_t i;

	if (text == NULL) {
		if (errno == ENOENT)
			return 0;
		/* Starting empty would overwrite the state we could not read. */
		snprintf(err, errlen, "cannot read the saved hub state: %s", strerror(errno));
		return -1;
	}
	root = json_loads(text, 0, &jerr);
	free(text);
	/* The account's settings are newer than the rest: optional. */
	if (root == NULL ||
	    json_unpack(root, "{s:o, s:o, s?{s:I, s:I}}", "lastSeq", &last_json, "streams", &streams,
			"account", "commitmentStartedMs", &started, "commitmentEndMs", &end) < 0 ||
	    load_seq(last_json, &last_seq) < 0 || !json_is_array(streams)) {
		snprintf(err, errlen, "the saved hub state is unreadable");
		json_decref(root);
		return -1;
	}
	seqno_gen_raise(&hub->gen, last_seq);
	hub->account.commitment_started_ms = started;
	hub->account.commitment_end_ms = end;
	json_array_foreach(streams, i, v) {
		struct stream *s = load_stream(hub, v, now_ms, migrated);
		if (s == NULL || add_stream(hub, s) < 0) {
			stream_free(s);
			snprintf(err, errlen, "the saved state of stream %zu is unreadable", i);
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	return 0;
}

static struct stream *find_uid(struct hub *hub, uint64_t uid)
{
	for (size_t i = 0; i < hub->stream_count; i++)
		if (hub->streams[i]->uid == uid)
			return hub->streams[i];
	return NULL;
}

static int replay_record(void *user, uint64_t stream_uid, uint32_t shard, seqno_t seq,
			 int64_t arrival_ms, const char *key, size_t key_len, const void *data,
			 size_t data_len)
{
	struct hub *hub = user;
	struct stream *s = find_uid(hub, stream_uid);
	struct shard *sh;

	seqno_gen_raise(&hub->gen, seq);
	/* Records of deleted streams wait in old segments until they expire. */
	if (s == NULL || shard >= s->shard_count)
		return 0;
	sh = &s->shards[shard];
	if (shardlog_append(&sh->log, seq, arrival_ms, key, key_len, data, data_len) < 0)
		return -1;
	sh->records_in++;
	sh->bytes_in += key_len + data_len;
	s->bytes += key_len + data_len;
	/* Newer than the saved checkpoint when a crash came before its save. */
	if (s->mirrored && seqno_lt(sh->mirrored_to, seq))
		sh->mirrored_to = seq;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

/* Streams, consumers and records back from the data directory. -1 with a
 * message in err on failure. */
static int restore(struct hub *hub, int64_t now_ms, char *err, size_t errlen)
{
	const char *dir = hub->config.data_dir;
	bool migrated = false;

	hub->journal = journal_open(dir, err, errlen);
	if (hub->journal == NULL || load_state(hub, now_ms, &migrated, err, errlen) < 0)
		return -1;
	if (journal_replay(hub->journal, replay_record, hub) != 0) {
		snprintf(err, errlen, "cannot read the journal in %s", dir);
		return -1;
	}
	/* The closing times given to old shards at load must stay as given. */
	if (migrated && hub_save(hub) < 0) {
		snprintf(err, errlen, "cannot save the hub state in %s", dir);
		return -1;
	}
	hub_expire(hub, now_ms);
	return 0;
}

struct hub *hub_open(const struct hub_config *config, int64_t now_ms, char *err, size_t errlen)
{
	struct hub *hub = calloc(1, sizeof(*hub));

	if (hub == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	hub->config = *config;
	snprintf(hub->arn_prefix, sizeof(hub->arn_prefix), "arn:aws:kinesis:%s:%s", config->region,
		 config->account);
	seqno_gen_init(&hub->gen, 0, now_ms * 1000);
	if (config->data_dir && restore(hub, now_ms, err, errlen) < 0) {
		hub_close(hub);
		return NULL;
	}
	return hub;
}

void hub_close(struct hub *hub)
{
	if (hub == NULL)
		return;
	for (size_t i = 0; i < hub->stream_count; i++)
		stream_free(hub->streams[i]);
	free(hub->streams);
	if (hub->journal)
		journal_close(hub->journal);
	free(hub);
}

struct stream *hub_find_stream(struct hub *hub, const char *name)
{
	for (size_t i = 0; i < hub->stream_count; i++)
		if (strcmp(hub->streams[i]->name, name) == 0)
			return hub->streams[i];
	return NULL;
}

struct stream *hub_find_stream_by(struct hub *hub, const char *name, const char *arn)
{
	if (name)
		return hub_find_stream(hub, name);
	for (size_t i = 0; arn && i < hub->stream_count; i++)
		if (strcmp(hub->streams[i]->arn, arn) == 0)
			return hub->streams[i];
	return NULL;
}

struct stream *hub_create_stream(struct hub *hub, const char *name, size_t shard_count,
				 int64_t now_ms)
{
	uint64_t uid = seqno_gen_next(&hub->gen).w[0];
	struct stream *s = stream_new(name, hub->arn_prefix, uid, shard_count, &hub->gen, now_ms);

	if (s == NULL)
		return NULL;
	s->retention_ms = hub->config.retention_seconds * 1000;
	if (add_stream(hub, s) < 0) {
		stream_free(s);
		return NULL;
	}
	if (hub_save(hub) < 0) {
		hub->stream_count--;
		stream_free(s);
		return NULL;
	}
	return s;
}

int hub_delete_stream(struct hub *hub, struct stream *s)
{
	for (size_t i = 0; i < hub->stream_count; i++) {
		if (hub->streams[i] == s) {
			memmove(&hub->streams[i], &hub->streams[i + 1],
				(hub->stream_count - i - 1) * sizeof(*hub->streams));
			hub->stream_count--;
			stream_free(s);
			return hub_save(hub);
		}
	}
	return -1;
}

struct stream_consumer *hub_register_consumer(struct hub *hub, struct stream *s, const char *name,
				       int64_t now_ms)
{
	struct stream_consumer *c = stream_add_consumer(s, name, now_ms / 1000);

	if (c && hub_save(hub) < 0) {
		stream_remove_consumer(s, c);
		return NULL;
	}
	return c;
}

int hub_deregister_consumer(struct hub *hub, struct stream *s, struct stream_consumer *c)
{
	stream_remove_consumer(s, c);
	return hub_save(hub);
}

struct stream_consumer *hub_find_consumer_arn(struct hub *hub, const char *arn, struct stream **stream)
{
	for (size_t i = 0; i < hub->stream_count; i++) {
		struct stream *s = hub->streams[i];
		for (size_t k = 0; k < s->consumer_count; k++) {
			if (strcmp(s->consumers[k].arn, arn) == 0) {
				if (stream)
					*stream = s;
				return &s->consumers[k];
			}
		}
	}
	return NULL;
}

/* Makes the admitted entries durable before anyone can read them; when
 * that fails they are reported as failed and never stored. */
static void make_durable(struct hub *hub, struct stream *s, const struct put_entry *entries,
			 size_t n, struct put_result *results, int64_t now_ms)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (results[i].status == PUT_OK)
			rc = journal_append(hub->journal, s->uid, (uint32_t)results[i].shard,
					    results[i].seq, now_ms, entries[i].key,
					    entries[i].key_len, entries[i].data,
					    entries[i].data_len);
	if (rc == 0)
		rc = journal_sync(hub->journal);
	if (rc == 0)
		return;
	log_error("cannot write records to the journal: %s", strerror(errno));
	for (size_t i = 0; i < n; i++)
		if (results[i].status == PUT_OK)
			results[i].status = PUT_FAILED;
}

void hub_put(struct hub *hub, struct stream *s, const struct put_entry *entries, size_t n,
	     struct put_result *results, int64_t now_ms)
{
	struct stream_limits limits = stream_mode_limits(s, &hub->config.limits);

	stream_admit(s, &limits, entries, n, results, &hub->gen, now_ms);
	if (hub->journal)
		make_durable(hub, s, entries, n, results, now_ms);
	stream_store(s, entries, n, results, now_ms);
	stream_trim(s, now_ms, hub->config.retention_bytes);
}

/* A reshard that cannot be saved would come back differently after a
 * restart: report it as an internal failure (the shards stay changed in
 * memory, and the next save writes them). */
static int saved(struct hub *hub, int rc, const char **why)
{
	if (rc == 0 && hub_save(hub) < 0) {
		*why = "InternalFailure";
		return -1;
	}
	return rc;
}

int hub_split_shard(struct hub *hub, struct stream *s, size_t shard, hashkey_t new_start,
		    int64_t now_ms, const char **why)
{
	return saved(hub, stream_split(s, shard, new_start, &hub->gen, now_ms, why), why);
}

int hub_merge_shards(struct hub *hub, struct stream *s, size_t shard, size_t adjacent,
		     int64_t now_ms, const char **why)
{
	return saved(hub, stream_merge(s, shard, adjacent, &hub->gen, now_ms, why), why);
}

int hub_update_shard_count(struct hub *hub, struct stream *s, size_t target, int64_t now_ms,
			   const char **why)
{
	return saved(hub, stream_update_shard_count(s, target, &hub->gen, now_ms, why), why);
}

static bool mirror_checkpoints_unsaved(const struct hub *hub)
{
	for (size_t i = 0; i < hub->stream_count; i++)
		for (size_t k = 0; hub->streams[i]->mirrored && k < hub->streams[i]->shard_count; k++)
			if (stream_mirror_unsaved(hub->streams[i], k))
				return true;
	return false;
}

void hub_expire(struct hub *hub, int64_t now_ms)
{
	int64_t oldest = now_ms;

	for (size_t i = 0; i < hub->stream_count; i++) {
		struct stream *s = hub->streams[i];
		int64_t horizon = now_ms - s->retention_ms;
		stream_trim(s, now_ms, hub->config.retention_bytes);
		if (horizon < oldest)
			oldest = horizon;
	}
	if (hub->journal == NULL)
		return;
	/* A mirror's checkpoint is saved before the journal forgets the
	 * record it names; until it is, the journal keeps the record. */
	if (mirror_checkpoints_unsaved(hub) && hub_save(hub) < 0)
		return;
	journal_expire(hub->journal, oldest);
}

/* ------------------------------------------------------------------ */
/* Mirrored streams                                                    */
/* ------------------------------------------------------------------ */

int hub_mirror_shards(struct hub *hub, struct stream *s, const struct stream_mirror_shard *list,
		      size_t n, int64_t now_ms, const char **why)
{
	int changed = stream_mirror_shards(s, list, n, now_ms, why);

	if (changed < 0)
		s->mirror.bad_layouts++;
	if (changed > 0 && hub_save(hub) < 0) {
		*why = "the shards could not be saved";
		return -1;
	}
	return changed;
}

/* Marks which records are new (keep[i]) and journals them; -1 when the
 * journal failed. */
static int mirror_journal(struct hub *hub, struct stream *s, size_t shard,
			  const struct mirror_record *recs, size_t n, bool *keep)
{
	seqno_t last = stream_mirror_position(s, shard);
	const char *why;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		int fits = seqno_lt(last, recs[i].seq) ? stream_mirror_fits(s, shard, recs[i].seq, &why) : 0;
		keep[i] = fits > 0;
		s->mirror.repeated += fits == 0;
		s->mirror.bad += fits < 0;
		if (!keep[i])
			continue;
		last = recs[i].seq;
		if (hub->journal && rc == 0)
			rc = journal_append(hub->journal, s->uid, (uint32_t)shard, recs[i].seq,
					    recs[i].arrival_ms, recs[i].key, recs[i].key_len,
					    recs[i].data, recs[i].data_len);
	}
	if (hub->journal && rc == 0)
		rc = journal_sync(hub->journal);
	if (rc < 0)
		log_error("cannot write mirrored records to the journal: %s", strerror(errno));
	return rc;
}

int hub_mirror_records(struct hub *hub, struct stream *s, size_t shard,
		       const struct mirror_record *recs, size_t n)
{
	bool *keep = calloc(n + 1, sizeof(*keep));
	const char *why;

	if (keep == NULL || mirror_journal(hub, s, shard, recs, n, keep) < 0) {
		free(keep);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		if (stream_mirror_append(s, shard, recs[i].seq, recs[i].arrival_ms, recs[i].key,
					 recs[i].key_len, recs[i].data, recs[i].data_len, &why) > 0)
			s->mirror.records++;
		else
			s->mirror.bad++;
	}
	free(keep);
	return 0;
}
