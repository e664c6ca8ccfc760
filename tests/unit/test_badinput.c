/* The bad-input catalogue (tests/bad-input/) through the decoders, without
 * a socket: every telemetry case gets telemetry_decode's verdict and
 * reason, every push case the Exception it expects from push_receive. The
 * end-to-end test (tests/e2e/node/badinput.test.mjs) sends the same cases
 * to a running hub; this one runs them under ASan in an --enable-asan
 * build, and names the case that fails. */
#include "config.h"

#include <dirent.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/hub.h"
#include "hub/push.h"
#include "util/errtext.h"
#include "util/strbuf.h"
#include "util/utf8.h"
#include "wire/telemetry.h"

#include "testfile.h"

#define NOW 1795659501000LL
#define RACE "5775288"

struct bad_case {
	char name[256];
	char header[256];       /* line 1 */
	char *body;             /* the rest, placeholders expanded */
	size_t len;
};

static char *catalogue(const char *kind)
{
	const char *top = getenv("top_srcdir");
	char *dir;

	assert_true(asprintf(&dir, "%s/tests/bad-input/%s", top ? top : "..", kind) > 0);
	return dir;
}

/* Expands {{NAME}} and {{NAME:N}} through lookup; {{PAD_TO:N}} last, once
 * the rest of the message is known. */
typedef const char *(*lookup_fn)(const char *name, void *user);

static void expand(const char *in, size_t len, lookup_fn lookup, void *user,
		   struct bad_case *c)
{
	struct strbuf out;
	size_t pad_at = SIZE_MAX, pad_to = 0;

	strbuf_init(&out);
	for (size_t i = 0; i < len; i++) {
		const char *end;
		char name[64];
		if (in[i] != '{' || i + 1 >= len || in[i + 1] != '{' ||
		    (end = memmem(in + i, len - i, "}}", 2)) == NULL ||
		    (size_t)(end - in - i - 2) >= sizeof(name)) {
			strbuf_append(&out, &in[i], 1);
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(end - in - i - 2), in + i + 2);
		if (strncmp(name, "PAD:", 4) == 0) {
			for (long n = atol(name + 4); n > 0; n--)
				strbuf_puts(&out, "x");
		} else if (strncmp(name, "PAD_TO:", 7) == 0) {
			pad_at = out.len;
			pad_to = (size_t)atol(name + 7);
		} else {
			const char *value = lookup(name, user);
			if (value == NULL)
				fail_msg("%s: unknown placeholder {{%s}}", c->name, name);
			strbuf_puts(&out, value);
		}
		i = (size_t)(end - in) + 1;
	}
	if (pad_at != SIZE_MAX) {
		size_t rest = out.len - pad_at, n = pad_to > out.len ? pad_to - out.len : 0;
		strbuf_reserve(&out, n);
		memmove(out.data + pad_at + n, out.data + pad_at, rest);
		memset(out.data + pad_at, 'x', n);
		out.len += n;
	}
	assert_false(out.failed);
	strbuf_append(&out, "", 1);     /* a NUL after the bytes, not counted */
	c->body = out.data;
	c->len = out.len - 1;
}

/* Every case of a kind, in name order, with its header and raw body. */
static size_t load_cases(const char *kind, const char *suffix, lookup_fn lookup, void *user,
			 struct bad_case **out)
{
	char *dir = catalogue(kind);
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	struct bad_case *cases;
	size_t count = 0;

	assert_true(n > 0);
	cases = calloc((size_t)n, sizeof(*cases));
	assert_non_null(cases);
	for (int i = 0; i < n; i++) {
		size_t nl = strlen(names[i]->d_name), len;
		char *path, *data, *eol;
		if (nl > strlen(suffix) && strcmp(names[i]->d_name + nl - strlen(suffix), suffix) == 0) {
			struct bad_case *c = &cases[count++];
			assert_true(asprintf(&path, "%s/%s", dir, names[i]->d_name) > 0);
			data = testfile_read(path, &len);
			eol = memchr(data, '\n', len);
			assert_non_null(eol);
			snprintf(c->name, sizeof(c->name), "%s", names[i]->d_name);
			snprintf(c->header, sizeof(c->header), "%.*s", (int)(eol - data), data);
			expand(eol + 1, len - (size_t)(eol + 1 - data), lookup, user, c);
			free(data);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	free(dir);
	*out = cases;
	return count;
}

static void free_cases(struct bad_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cases[i].body);
	free(cases);
}

/* ------------------------------------------------------------------ */
/* Telemetry                                                           */
/* ------------------------------------------------------------------ */

static const char *race_lookup(const char *name, void *user)
{
	return strcmp(name, "RACE") == 0 ? RACE : NULL;
}

static void check_record(const struct bad_case *c)
{
	struct telemetry t;
	const char *reason = NULL;
	int rc = telemetry_decode(c->body, c->len, &t, &reason);

	if (strcmp(c->header, "good") == 0) {
		if (rc != 0)
			fail_msg("%s: refused (%s), expected accepted", c->name, reason);
		return;
	}
	if (strncmp(c->header, "bad ", 4) != 0)
		fail_msg("%s: line 1 is neither \"good\" nor \"bad WORDS\"", c->name);
	if (rc == 0)
		fail_msg("%s: accepted, expected refused with \"%s\"", c->name, c->header + 4);
	if (reason == NULL || strstr(reason, c->header + 4) == NULL)
		fail_msg("%s: refused with \"%s\", expected \"%s\"", c->name,
			 reason ? reason : "(no reason)", c->header + 4);
}

static void test_telemetry_catalogue(void **state)
{
	struct bad_case *cases;
	size_t n = load_cases("telemetry", ".rec", race_lookup, NULL, &cases);

	assert_true(n >= 15);
	for (size_t i = 0; i < n; i++)
		check_record(&cases[i]);
	print_message("%zu telemetry cases\n", n);
	free_cases(cases, n);
}

/* ------------------------------------------------------------------ */
/* Push                                                                */
/* ------------------------------------------------------------------ */

struct push_fixture {
	struct hub *hub;
	struct stream *stream;
	char arn[512], fresh_arn[512];
	int fresh;
};

static const char *push_lookup(const char *name, void *user)
{
	struct push_fixture *f = user;
	struct stream_consumer *c;
	char consumer[32];

	if (strcmp(name, "ARN") == 0)
		return f->arn;
	if (strcmp(name, "STREAM_ARN") == 0)
		return f->stream->arn;
	if (strcmp(name, "FRESH_ARN") == 0) {
		snprintf(consumer, sizeof(consumer), "fresh-%d", f->fresh++);
		c = hub_register_consumer(f->hub, f->stream, consumer, NOW);
		assert_non_null(c);
		snprintf(f->fresh_arn, sizeof(f->fresh_arn), "%s", c->arn);
		return f->fresh_arn;
	}
	return NULL;
}

/* The first event push_receive queued, parsed. */
static json_t *first_answer(struct push *push, struct push_conn *conn)
{
	struct strbuf out;
	json_t *ev = NULL;

	strbuf_init(&out);
	if (push_next_event(push, conn, NOW, &out))
		ev = json_loadb(out.data, out.len, 0, NULL);
	strbuf_free(&out);
	return ev;
}

static void check_answer(const struct bad_case *c, const char *expect, const char *words,
			 json_t *ev)
{
	const char *event = json_string_value(json_object_get(ev, "Event"));
	const char *type = json_string_value(json_object_get(ev, "__type"));
	const char *message = json_string_value(json_object_get(ev, "message"));

	if (event == NULL)
		fail_msg("%s: no event answered", c->name);
	if (strcmp(expect, "subscribed") == 0) {
		if (strcmp(event, "SubscribeToShardEvent") != 0)
			fail_msg("%s: %s %s (%s), expected the subscription to start", c->name,
				 event, type ? type : "", message ? message : "");
		return;
	}
	if (strcmp(event, "Exception") != 0 || type == NULL || strcmp(type, expect) != 0)
		fail_msg("%s: %s %s, expected the Exception %s", c->name, event,
			 type ? type : "", expect);
	if (message == NULL || (words[0] && strstr(message, words) == NULL))
		fail_msg("%s: message \"%s\", expected one with \"%s\"", c->name,
			 message ? message : "(none)", words);
}

/* The server closes the connection, before push sees the message, for
 * three reasons only (RFC 6455 close codes): a binary frame (1003), text
 * that is not UTF-8 (1007), a message over the limit (1009). */
static void check_close_reason(const struct bad_case *c, const char *framing, const char *expect)
{
	bool binary = strcmp(framing, "binary") == 0;
	bool utf8 = utf8_valid(c->body, c->len), oversize = c->len > PUSH_MESSAGE_MAX;

	if (strcmp(expect, "close=1003") == 0 && binary)
		return;
	if (strcmp(expect, "close=1007") == 0 && !binary && !utf8 && !oversize)
		return;
	if ((strcmp(expect, "close=1009") == 0 || strcmp(expect, "closed") == 0) && oversize)
		return;
	fail_msg("%s: %s, %zu bytes%s: nothing the server closes for with %s", c->name, framing,
		 c->len, utf8 ? "" : ", not UTF-8", expect);
}

/* Line 1 is FRAMING EXPECT [WORDS]. Framing is the server's business:
 * here every message arrives whole. */
static void check_message(struct push_fixture *f, const struct bad_case *c)
{
	char framing[32], expect[64];
	int used = 0;
	struct push push;
	struct push_conn conn;
	json_t *ev;

	if (sscanf(c->header, "%31s %63s %n", framing, expect, &used) < 2)
		fail_msg("%s: line 1 is not FRAMING EXPECT [WORDS]", c->name);
	if (strncmp(expect, "close=", 6) == 0 || strcmp(expect, "closed") == 0) {
		check_close_reason(c, framing, expect);
		return;
	}
	push_init(&push, f->hub);
	memset(&conn, 0, sizeof(conn));
	push_receive(&push, &conn, c->body, c->len, NOW);
	ev = first_answer(&push, &conn);
	check_answer(c, expect, c->header + used, ev);
	json_decref(ev);
	push_conn_close(&push, &conn);
}

static void test_push_catalogue(void **state)
{
	struct push_fixture f = { 0 };
	struct hub_config config;
	struct bad_case *cases;
	char err[ERR_TEXT_MAX];
	size_t n;

	hub_config_defaults(&config);
	config.max_consumers = 1000;
	f.hub = hub_open(&config, NOW, err, sizeof(err));
	assert_non_null(f.hub);
	f.stream = hub_create_stream(f.hub, "alleycat", 4, NOW);
	assert_non_null(f.stream);
	snprintf(f.arn, sizeof(f.arn), "%s",
		 hub_register_consumer(f.hub, f.stream, "probe", NOW)->arn);
	n = load_cases("push", ".msg", push_lookup, &f, &cases);
	assert_true(n >= 25);
	for (size_t i = 0; i < n; i++)
		check_message(&f, &cases[i]);
	print_message("%zu push cases\n", n);
	free_cases(cases, n);
	hub_close(f.hub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_telemetry_catalogue),
		cmocka_unit_test(test_push_catalogue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
