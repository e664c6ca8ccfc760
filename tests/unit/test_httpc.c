/* The HTTP client (src/client/httpc.c) against a tiny server in this
 * process that answers every request with the request itself, or never
 * answers: what a caller is promised about answers, keep-alive, time-outs,
 * refused connections, cancelling and waking a wait. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/httpc.h"
#include "util/clock.h"
#include "util/errtext.h"

#define CLIENTS_MAX 8

/* ---- the tiny server --------------------------------------------------- */

enum tiny_mode {
	TINY_ECHO,                      /* 200, the request as the body, kept alive */
	TINY_ECHO_AND_CLOSE,            /* the same, then the connection closes */
	TINY_SILENT,                    /* reads, never answers */
};

struct tiny {
	int listen_fd, port;
	enum tiny_mode mode;
	pthread_t thread;
	atomic_bool stop;
	atomic_int accepted;            /* connections */
	atomic_int answered;            /* requests */
	int fds[CLIENTS_MAX];
	char in[CLIENTS_MAX][4096];
	size_t in_len[CLIENTS_MAX];
};

/* The length of the whole request at the start of in, or 0 if it is not
 * all there yet. */
static size_t request_length(const char *in, size_t len)
{
	const char *end = memmem(in, len, "\r\n\r\n", 4), *cl;
	size_t head;

	if (end == NULL)
		return 0;
	head = (size_t)(end + 4 - in);
	cl = strcasestr(in, "content-length:");
	if (cl && cl < end)
		head += strtoul(cl + 15, NULL, 10);
	return head <= len ? head : 0;
}

static void echo(struct tiny *t, int i, size_t n)
{
	char head[256];
	int h = snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
			 n, t->mode == TINY_ECHO_AND_CLOSE ? "Connection: close\r\n" : "");

	send(t->fds[i], head, (size_t)h, MSG_NOSIGNAL);
	send(t->fds[i], t->in[i], n, MSG_NOSIGNAL);
	atomic_fetch_add(&t->answered, 1);
	memmove(t->in[i], t->in[i] + n, t->in_len[i] - n);
	t->in_len[i] -= n;
}

static void drop(struct tiny *t, int i)
{
	close(t->fds[i]);
	t->fds[i] = -1;
	t->in_len[i] = 0;
}

/* Reads what client i sent and answers each whole request. */
static void serve_client(struct tiny *t, int i)
{
	ssize_t r = recv(t->fds[i], t->in[i] + t->in_len[i], sizeof(t->in[i]) - t->in_len[i], 0);
	size_t n;

	if (r <= 0) {
		drop(t, i);
		return;
	}
	t->in_len[i] += (size_t)r;
	while (t->mode != TINY_SILENT && t->fds[i] >= 0 &&
	       (n = request_length(t->in[i], t->in_len[i])) > 0) {
		echo(t, i, n);
		if (t->mode == TINY_ECHO_AND_CLOSE)
			drop(t, i);
	}
}

static void accept_client(struct tiny *t)
{
	int fd = accept(t->listen_fd, NULL, NULL);

	if (fd < 0)
		return;
	atomic_fetch_add(&t->accepted, 1);
	for (int i = 0; i < CLIENTS_MAX; i++)
		if (t->fds[i] < 0) {
			t->fds[i] = fd;
			return;
		}
	close(fd);
}

static void *tiny_run(void *arg)
{
	struct tiny *t = arg;
	struct pollfd p[CLIENTS_MAX + 1];

	while (!atomic_load(&t->stop)) {
		p[0] = (struct pollfd){ .fd = t->listen_fd, .events = POLLIN };
		for (int i = 0; i < CLIENTS_MAX; i++)
			p[i + 1] = (struct pollfd){ .fd = t->fds[i], .events = POLLIN };
		if (poll(p, CLIENTS_MAX + 1, 20) <= 0)
			continue;
		if (p[0].revents)
			accept_client(t);
		for (int i = 0; i < CLIENTS_MAX; i++)
			if (t->fds[i] >= 0 && p[i + 1].revents)
				serve_client(t, i);
	}
	for (int i = 0; i < CLIENTS_MAX; i++)
		if (t->fds[i] >= 0)
			drop(t, i);
	return NULL;
}

/* A listening socket on 127.0.0.1 at a free port; sets *port. */
static int listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void tiny_start(struct tiny *t, enum tiny_mode mode)
{
	memset(t, 0, sizeof(*t));
	t->mode = mode;
	for (int i = 0; i < CLIENTS_MAX; i++)
		t->fds[i] = -1;
	t->listen_fd = listen_any(&t->port);
	assert_int_equal(pthread_create(&t->thread, NULL, tiny_run, t), 0);
}

static void tiny_stop(struct tiny *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
	close(t->listen_fd);
}

/* ---- a request and its outcome ------------------------------------------ */

struct outcome {
	int calls;                      /* how often the callback ran */
	int status;
	char body[4096];
	char error[512];
};

static void on_done(void *user, int status, const char *body, size_t len, const char *error)
{
	struct outcome *o = user;

	o->calls++;
	o->status = status;
	snprintf(o->body, sizeof(o->body), "%.*s", (int)len, body);
	snprintf(o->error, sizeof(o->error), "%s", error ? error : "");
}

static struct endpoint local(int port)
{
	struct endpoint ep;
	char url[64], err[ERR_TEXT_MAX];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	assert_int_equal(endpoint_parse(url, &ep, err, sizeof(err)), 0);
	return ep;
}

/* Drives the client until o's request ended (10 s at most). */
static void wait_for(struct httpc *c, const struct outcome *o)
{
	for (int i = 0; i < 100 && o->calls == 0; i++)
		httpc_poll(c, 100);
	assert_int_equal(o->calls, 1);
}

/* ---- tests -------------------------------------------------------------- */

static void test_post_answered(void **state __attribute__((unused)))
{
	static const struct httpc_header headers[] = { { "x-amz-target", "Kinesis_20131202.X" } };
	struct tiny t;
	struct httpc *c = httpc_new(5);
	struct endpoint ep;
	struct outcome o = { 0 };

	tiny_start(&t, TINY_ECHO);
	ep = local(t.port);
	assert_int_equal(httpc_post(c, &ep, "/", headers, 1, "{\"a\":1}", 7, on_done, &o), 0);
	assert_int_equal(httpc_in_flight(c), 1);
	wait_for(c, &o);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.error, "");
	assert_non_null(strstr(o.body, "POST / HTTP/1.1\r\n"));
	assert_non_null(strstr(o.body, "x-amz-target: Kinesis_20131202.X\r\n"));
	/* No "Expect: 100-continue": a server that ignores it costs a second. */
	assert_null(strcasestr(o.body, "expect:"));
	assert_non_null(strstr(o.body, "\r\n\r\n{\"a\":1}"));
	assert_int_equal(httpc_in_flight(c), 0);
	httpc_free(c);
	tiny_stop(&t);
}

/* The connections the tiny server in mode accepted for three GETs in a
 * row, each answered 200. */
static int connections_for_three(enum tiny_mode mode)
{
	struct tiny t;
	struct httpc *c = httpc_new(5);
	struct endpoint ep;

	tiny_start(&t, mode);
	ep = local(t.port);
	for (int i = 0; i < 3; i++) {
		struct outcome o = { 0 };
		assert_int_equal(httpc_get(c, &ep, "/healthz", on_done, &o), 0);
		wait_for(c, &o);
		assert_int_equal(o.status, 200);
	}
	assert_int_equal(atomic_load(&t.answered), 3);
	httpc_free(c);
	tiny_stop(&t);
	return atomic_load(&t.accepted);
}

static void test_keep_alive_reuses_the_connection(void **state __attribute__((unused)))
{
	assert_int_equal(connections_for_three(TINY_ECHO), 1);
}

static void test_reconnects_after_the_server_closes(void **state __attribute__((unused)))
{
	assert_int_equal(connections_for_three(TINY_ECHO_AND_CLOSE), 3);
}

static void test_timeout_says_so(void **state __attribute__((unused)))
{
	struct tiny t;
	struct httpc *c = httpc_new(1);
	struct endpoint ep;
	struct outcome o = { 0 };
	double start = clock_mono_ms();

	tiny_start(&t, TINY_SILENT);
	ep = local(t.port);
	assert_int_equal(httpc_get(c, &ep, "/", on_done, &o), 0);
	wait_for(c, &o);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.error, "no answer within 1 s (--timeout)");
	assert_true(clock_mono_ms() - start >= 900);
	httpc_free(c);
	tiny_stop(&t);
}

static void test_connection_refused_names_the_address(void **state __attribute__((unused)))
{
	struct httpc *c = httpc_new(5);
	struct endpoint ep;
	struct outcome o = { 0 };
	char want[128];
	int port, fd = listen_any(&port);

	close(fd);              /* nothing listens there now */
	ep = local(port);
	assert_int_equal(httpc_get(c, &ep, "/", on_done, &o), 0);
	wait_for(c, &o);
	assert_int_equal(o.status, 0);
	snprintf(want, sizeof(want), "cannot connect to 127.0.0.1:%d: Connection refused", port);
	assert_string_equal(o.error, want);
	httpc_free(c);
}

static void test_cancel_and_free_report_cancelled(void **state __attribute__((unused)))
{
	struct tiny t;
	struct httpc *c = httpc_new(5);
	struct endpoint ep;
	struct outcome a = { 0 }, b = { 0 };

	tiny_start(&t, TINY_SILENT);
	ep = local(t.port);
	assert_int_equal(httpc_get(c, &ep, "/", on_done, &a), 0);
	httpc_poll(c, 50);
	httpc_cancel_all(c);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, HTTPC_CANCELLED);
	assert_int_equal(httpc_in_flight(c), 0);
	assert_int_equal(httpc_get(c, &ep, "/", on_done, &b), 0);
	httpc_free(c);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.status, HTTPC_CANCELLED);
	tiny_stop(&t);
}

static void *wake_later(void *arg)
{
	usleep(100000);
	httpc_wakeup(arg);
	return NULL;
}

static void test_wakeup_cuts_a_wait_short(void **state __attribute__((unused)))
{
	struct httpc *c = httpc_new(5);
	pthread_t thread;
	double start = clock_mono_ms();

	assert_int_equal(pthread_create(&thread, NULL, wake_later, c), 0);
	httpc_poll(c, 10000);
	assert_true(clock_mono_ms() - start < 5000);
	pthread_join(thread, NULL);
	httpc_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_answered),
		cmocka_unit_test(test_keep_alive_reuses_the_connection),
		cmocka_unit_test(test_reconnects_after_the_server_closes),
		cmocka_unit_test(test_timeout_says_so),
		cmocka_unit_test(test_connection_refused_names_the_address),
		cmocka_unit_test(test_cancel_and_free_report_cancelled),
		cmocka_unit_test(test_wakeup_cuts_a_wait_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
