/* The hub's network face (src/hub/server.c), served in-process on a free
 * port and spoken to over plain sockets, as any client would: the API,
 * /healthz and /metrics answered, malformed requests answered with the
 * error they earn, keep-alive, and the connection cap (--max-connections)
 * evicting a waiting connection, then refusing one when every place is
 * held by a push subscription. */
#include "config.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "hubserver.h"
#include "wire/eventstream.h"
#include "wire/protocol.h"

#define WAIT_MS 5000
#define MAX_BODY 4096                   /* --max-request-bytes of the first hub */

static struct hubserver hs;

/* ---- a client of plain sockets --------------------------------------- */

static int tcp_open(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)hs.port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void send_all(int fd, const char *text, size_t len)
{
	assert_int_equal(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads what comes within wait_ms into buf (NUL-terminated): its length;
 * -1 when the server closed the connection before sending anything, 0
 * when nothing came. */
static ssize_t receive_within(int fd, char *buf, size_t size, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	buf[0] = '\0';
	if (poll(&p, 1, wait_ms) != 1)
		return 0;
	n = recv(fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? n : -1;
}

/* Reads what comes into buf, which must come within WAIT_MS. */
static ssize_t receive(int fd, char *buf, size_t size)
{
	ssize_t n = receive_within(fd, buf, size, WAIT_MS);

	if (n == 0)
		fail_msg("no answer within %d ms", WAIT_MS);
	return n;
}

/* One whole answer (headers and Content-Length bytes of body) into buf. */
static void read_answer(int fd, char *buf, size_t size)
{
	size_t have = 0;
	const char *end, *length;

	for (;;) {
		ssize_t n = receive(fd, buf + have, size - have);
		assert_true(n > 0);
		have += (size_t)n;
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		length = strcasestr(buf, "content-length:");
		assert_non_null(length);
		if (have >= (size_t)(end + 4 - buf) + strtoul(length + 15, NULL, 10))
			return;
	}
}

/* Sends request on fd and reads its answer into buf. */
static void ask(int fd, const char *request, char *buf, size_t size)
{
	send_all(fd, request, strlen(request));
	read_answer(fd, buf, size);
}

/* A Kinesis call as an SDK sends it: POST / with its target. */
static void api_request(char *out, size_t size, const char *op, const char *body)
{
	snprintf(out, size,
		 "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nX-Amz-Target: %s%s\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 KINESIS_CONTENT_TYPE, KINESIS_TARGET_PREFIX, op, strlen(body), body);
}

/* A fresh connection's answer to request, in buf. */
static void ask_once(const char *request, char *buf, size_t size)
{
	int fd = tcp_open();

	ask(fd, request, buf, size);
	close(fd);
}

static void expect_status_line(const char *answer, const char *status)
{
	if (strncmp(answer, status, strlen(status)) != 0)
		fail_msg("expected \"%s\", got \"%.80s\"", status, answer);
}

/* An error answer names its type in x-amzn-ErrorType too, as AWS's do. */
static void expect_error_type(const char *answer, const char *status, const char *type)
{
	char header[128];

	expect_status_line(answer, status);
	snprintf(header, sizeof(header), "\r\nx-amzn-ErrorType: %s\r\n", type);
	if (strcasestr(answer, header) == NULL)
		fail_msg("expected the header %s in \"%s\"", header + 2, answer);
}

static void expect_error(const char *answer, const char *status, const char *type)
{
	char want[128];

	expect_error_type(answer, status, type);
	snprintf(want, sizeof(want), "\"__type\":\"%s\"", type);
	if (strstr(answer, want) == NULL)
		fail_msg("expected %s in \"%s\"", want, answer);
}

/* A refusal of a CBOR request: in CBOR, whose text strings are bytes as
 * they are (a map of "__type" and the type). */
static void expect_cbor_error(const char *answer, const char *status, const char *type)
{
	expect_error_type(answer, status, type);
	assert_non_null(strcasestr(answer, "content-type: " KINESIS_CBOR_CONTENT_TYPE "\r\n"));
	assert_non_null(strstr(answer, "\r\n\r\n\xbf\x66__type"));
	assert_non_null(strstr(answer, type));
}

/* ---- answers ----------------------------------------------------------- */

static void test_healthz(void **state __attribute__((unused)))
{
	char buf[4096];

	ask_once("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	expect_status_line(buf, "HTTP/1.1 200");
	assert_non_null(strstr(buf, "\r\n\r\nok\n"));
}

static void test_api_call_answered(void **state __attribute__((unused)))
{
	char req[512], buf[4096];

	api_request(req, sizeof(req), "ListStreams", "{}");
	ask_once(req, buf, sizeof(buf));
	expect_status_line(buf, "HTTP/1.1 200");
	assert_non_null(strcasestr(buf, "content-type: " KINESIS_CONTENT_TYPE));
	assert_null(strcasestr(buf, "x-amzn-ErrorType"));
	assert_non_null(strstr(buf, "\"StreamNames\":[\"alleycat\"]"));
}

static void test_metrics_page(void **state __attribute__((unused)))
{
	char buf[65536];

	ask_once("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	expect_status_line(buf, "HTTP/1.1 200");
	assert_non_null(strcasestr(buf, "content-type: text/plain; version=0.0.4"));
	assert_non_null(strstr(buf, "alleycat_shard_records_in_total{stream=\"alleycat\","
				    "shard=\"shardId-000000000003\"} 0\n"));
	/* This connection at least, and none of HTTP/2. */
	assert_null(strstr(buf, "alleycat_connections_accepted_total{protocol=\"http1\"} 0\n"));
	assert_non_null(strstr(buf, "alleycat_connections_accepted_total{protocol=\"h2\"} 0\n"));
}

static void test_keep_alive(void **state __attribute__((unused)))
{
	char buf[4096];
	int fd = tcp_open();

	for (int i = 0; i < 3; i++) {
		ask(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
		expect_status_line(buf, "HTTP/1.1 200");
	}
	close(fd);
}

/* ---- malformed requests ------------------------------------------------ */

static void test_unknown_page(void **state __attribute__((unused)))
{
	char buf[4096];

	ask_once("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	expect_error(buf, "HTTP/1.1 404", "ResourceNotFoundException");
}

/* AWS's answer to GET /, in XML: its type is in the header all the same. */
static void test_get_root(void **state __attribute__((unused)))
{
	char buf[4096];

	ask_once("GET / HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	expect_error_type(buf, "HTTP/1.1 403", "AccessDeniedException");
	assert_non_null(strstr(buf, "<AccessDeniedException>"));
}

/* The other methods get the same 403; one with a body closes the
 * connection, its body unread. */
static void test_other_methods(void **state __attribute__((unused)))
{
	static const char *const requests[] = {
		"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
		"DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		"PATCH / HTTP/1.1\r\nHost: x\r\n\r\n",
		"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	char buf[4096];

	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		ask_once(requests[i], buf, sizeof(buf));
		expect_error_type(buf, "HTTP/1.1 403", "AccessDeniedException");
		assert_non_null(strstr(buf, "<AccessDeniedException>"));
		assert_null(strcasestr(buf, "access-control-"));
		if (i == 0)
			assert_non_null(strcasestr(buf, "connection: close"));
	}
}

#define EXPOSE                                                                                 \
	"\r\naccess-control-expose-headers: x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id," \
	"x-amz-id-2,x-amzn-ErrorMessage,Date\r\n"

/* A browser page's preflight is allowed what it asks, for two days. */
static void test_preflight(void **state __attribute__((unused)))
{
	char buf[4096];

	ask_once("OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: https://example.org\r\n"
		 "Access-Control-Request-Method: POST\r\n"
		 "Access-Control-Request-Headers: content-type,x-amz-target\r\n\r\n",
		 buf, sizeof(buf));
	expect_status_line(buf, "HTTP/1.1 200");
	assert_non_null(strcasestr(buf, "\r\ncontent-length: 0\r\n"));
	assert_non_null(strcasestr(buf, "\r\naccess-control-allow-origin: *\r\n"));
	assert_non_null(strcasestr(buf, "\r\naccess-control-allow-methods: POST\r\n"));
	assert_non_null(strcasestr(buf, "\r\naccess-control-allow-headers: "
					"content-type,x-amz-target\r\n"));
	assert_non_null(strcasestr(buf, "\r\naccess-control-max-age: 172800\r\n"));
	assert_null(strcasestr(buf, "access-control-expose-headers"));
}

/* Every answer to a request with an Origin lets the page read it, errors
 * and AWS's 403 included. */
static void test_cors_answers(void **state __attribute__((unused)))
{
	char req[512], buf[4096];

	snprintf(req, sizeof(req),
		 "POST / HTTP/1.1\r\nHost: x\r\nOrigin: https://example.org\r\n"
		 "Content-Type: %s\r\nX-Amz-Target: %sFlyToTheMoon\r\nContent-Length: 2\r\n"
		 "\r\n{}",
		 KINESIS_CONTENT_TYPE, KINESIS_TARGET_PREFIX);
	ask_once(req, buf, sizeof(buf));
	expect_error(buf, "HTTP/1.1 400", "UnknownOperationException");
	assert_non_null(strcasestr(buf, "\r\naccess-control-allow-origin: *\r\n"));
	assert_non_null(strcasestr(buf, EXPOSE));
	ask_once("GET / HTTP/1.1\r\nHost: x\r\nOrigin: https://example.org\r\n\r\n", buf,
		 sizeof(buf));
	expect_error_type(buf, "HTTP/1.1 403", "AccessDeniedException");
	assert_non_null(strcasestr(buf, "\r\naccess-control-allow-origin: *\r\n"));
	assert_non_null(strcasestr(buf, EXPOSE));
	assert_null(strcasestr(buf, "access-control-max-age"));
}

static void test_post_elsewhere(void **state __attribute__((unused)))
{
	char buf[4096];

	ask_once("POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", buf,
		 sizeof(buf));
	expect_error(buf, "HTTP/1.1 404", "UnknownOperationException");
	assert_non_null(strcasestr(buf, "connection: close"));
}

static void test_no_content_length(void **state __attribute__((unused)))
{
	char buf[4096];

	ask_once("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " KINESIS_TARGET_PREFIX
		 "ListStreams\r\n\r\n", buf, sizeof(buf));
	expect_error(buf, "HTTP/1.1 411", "SerializationException");
}

static void test_body_too_large(void **state __attribute__((unused)))
{
	char req[512], buf[4096];

	snprintf(req, sizeof(req),
		 "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: %sListStreams\r\n"
		 "Content-Length: %d\r\n\r\n{",
		 KINESIS_TARGET_PREFIX, MAX_BODY + 1);
	ask_once(req, buf, sizeof(buf));
	expect_error(buf, "HTTP/1.1 413", "ValidationException");
}

/* Refused before the API runs, a CBOR request is still answered in CBOR. */
static void test_refusals_in_cbor(void **state __attribute__((unused)))
{
	char req[512], buf[4096];

	ask_once("POST /other HTTP/1.1\r\nHost: x\r\nContent-Type: " KINESIS_CBOR_CONTENT_TYPE
		 "\r\nContent-Length: 1\r\n\r\n\xa0", buf, sizeof(buf));
	expect_cbor_error(buf, "HTTP/1.1 404", "UnknownOperationException");
	ask_once("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: " KINESIS_CBOR_CONTENT_TYPE
		 "\r\nX-Amz-Target: " KINESIS_TARGET_PREFIX "ListStreams\r\n\r\n", buf,
		 sizeof(buf));
	expect_cbor_error(buf, "HTTP/1.1 411", "SerializationException");
	snprintf(req, sizeof(req),
		 "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nX-Amz-Target: "
		 "%sListStreams\r\nContent-Length: %d\r\n\r\n",
		 KINESIS_CBOR_CONTENT_TYPE, KINESIS_TARGET_PREFIX, MAX_BODY + 1);
	ask_once(req, buf, sizeof(buf));
	expect_cbor_error(buf, "HTTP/1.1 413", "ValidationException");
}

static void test_body_not_json(void **state __attribute__((unused)))
{
	char req[512], buf[4096];

	api_request(req, sizeof(req), "ListStreams", "{\"Limit\":");
	ask_once(req, buf, sizeof(buf));
	expect_error(buf, "HTTP/1.1 400", "SerializationException");
}

/* ---- the connection cap ------------------------------------------------ */

/* A registered consumer's ARN, for push subscriptions. */
static char *register_consumer(const char *name)
{
	char req[1024], buf[8192], body[512];
	json_t *j;
	char *arn;

	api_request(req, sizeof(req), "DescribeStreamSummary", "{\"StreamName\":\"alleycat\"}");
	ask_once(req, buf, sizeof(buf));
	j = json_loads(strstr(buf, "\r\n\r\n") + 4, 0, NULL);
	snprintf(body, sizeof(body), "{\"StreamARN\":\"%s\",\"ConsumerName\":\"%s\"}",
		 json_string_value(json_object_get(json_object_get(j, "StreamDescriptionSummary"),
						   "StreamARN")),
		 name);
	json_decref(j);
	api_request(req, sizeof(req), "RegisterStreamConsumer", body);
	ask_once(req, buf, sizeof(buf));
	expect_status_line(buf, "HTTP/1.1 200");
	j = json_loads(strstr(buf, "\r\n\r\n") + 4, 0, NULL);
	arn = strdup(json_string_value(json_object_get(json_object_get(j, "Consumer"),
						       "ConsumerARN")));
	json_decref(j);
	return arn;
}

/* A page's SubscribeToShard: the event stream's headers carry the CORS
 * headers every answer to a page carries. */
static void test_subscribe_cors(void **state __attribute__((unused)))
{
	char *arn = register_consumer("page");
	char body[512], req[1024], buf[4096];
	int fd = tcp_open();

	snprintf(body, sizeof(body),
		 "{\"ConsumerARN\":\"%s\",\"ShardId\":\"shardId-000000000000\","
		 "\"StartingPosition\":{\"Type\":\"LATEST\"}}", arn);
	snprintf(req, sizeof(req),
		 "POST / HTTP/1.1\r\nHost: x\r\nOrigin: https://example.org\r\n"
		 "Content-Type: %s\r\nX-Amz-Target: %sSubscribeToShard\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 KINESIS_CONTENT_TYPE, KINESIS_TARGET_PREFIX, strlen(body), body);
	send_all(fd, req, strlen(req));
	assert_true(receive(fd, buf, sizeof(buf)) > 0);
	expect_status_line(buf, "HTTP/1.1 200");
	assert_non_null(strcasestr(buf, "\r\ncontent-type: " EVENTSTREAM_CONTENT_TYPE "\r\n"));
	assert_non_null(strcasestr(buf, "\r\naccess-control-allow-origin: *\r\n"));
	assert_non_null(strcasestr(buf, EXPOSE));
	close(fd);
	free(arn);
}

/* Sends text as one masked client text frame (RFC 6455 5.2). */
static void ws_send_text(int fd, const char *text)
{
	static const unsigned char mask[4] = { 1, 2, 3, 4 };
	unsigned char frame[1024];
	size_t len = strlen(text), h = 0;

	assert_true(len < sizeof(frame) - 8);
	frame[h++] = 0x81;
	if (len < 126) {
		frame[h++] = (unsigned char)(0x80 | len);
	} else {
		frame[h++] = 0x80 | 126;
		frame[h++] = (unsigned char)(len >> 8);
		frame[h++] = (unsigned char)len;
	}
	memcpy(frame + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < len; i++)
		frame[h + i] = (unsigned char)text[i] ^ mask[i % 4];
	send_all(fd, (const char *)frame, h + len);
}

/* A push connection holding a subscription to shard `shard`, once its
 * first event has come. */
static int subscribed(const char *arn, int shard)
{
	static const char upgrade[] =
		"GET " PUSH_PATH " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " PUSH_SUBPROTOCOL "\r\n\r\n";
	char buf[8192], msg[1024];
	int fd = tcp_open();

	send_all(fd, upgrade, sizeof(upgrade) - 1);
	assert_true(receive(fd, buf, sizeof(buf)) > 0);
	expect_status_line(buf, "HTTP/1.1 101");
	snprintf(msg, sizeof(msg),
		 "{\"Action\":\"SubscribeToShard\",\"ConsumerARN\":\"%s\","
		 "\"ShardId\":\"shardId-00000000000%d\",\"StartingPosition\":{\"Type\":\"LATEST\"}}",
		 arn, shard);
	ws_send_text(fd, msg);
	assert_true(receive(fd, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "SubscribeToShardEvent"));
	return fd;
}

/* Whether the server closed fd within a second: well before the
 * keep-alive time-out (5 s) would. */
static bool closed_by_server(int fd)
{
	char buf[256];

	return receive_within(fd, buf, sizeof(buf), 1000) < 0;
}

static int cap_up(void **state __attribute__((unused)))
{
	struct server_config sc;

	server_config_defaults(&sc);
	sc.max_connections = 2;
	hubserver_start(&hs, "alleycat", &sc);
	return 0;
}

static void test_cap_evicts_the_longest_waiting(void **state __attribute__((unused)))
{
	char buf[4096];
	int a = tcp_open(), b, c;

	/* a and b were answered and wait, a the longest: c takes a's place. */
	ask(a, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	b = tcp_open();
	ask(b, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	c = tcp_open();
	ask(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	expect_status_line(buf, "HTTP/1.1 200");
	assert_true(closed_by_server(a));
	assert_false(closed_by_server(b));
	close(a);
	close(b);
	close(c);
}

static void test_cap_refuses_when_every_place_is_held(void **state __attribute__((unused)))
{
	char *arn = register_consumer("cap");
	int s0 = subscribed(arn, 0), s1 = subscribed(arn, 1), fd;
	char buf[4096];

	fd = tcp_open();
	ask(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	expect_error(buf, "HTTP/1.1 503", "ServiceUnavailableException");
	close(fd);
	/* A place given up is a place for the next one. */
	close(s1);
	for (int tries = 0; tries < 50; tries++) {
		ask_once("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
		if (strncmp(buf, "HTTP/1.1 200", 12) == 0)
			break;
		usleep(100000);
	}
	expect_status_line(buf, "HTTP/1.1 200");
	close(s0);
	free(arn);
}

static int hub_up(void **state __attribute__((unused)))
{
	struct server_config sc;

	server_config_defaults(&sc);
	sc.max_body = MAX_BODY;
	hubserver_start(&hs, "alleycat", &sc);
	return 0;
}

static int hub_down(void **state __attribute__((unused)))
{
	hubserver_stop(&hs);
	return 0;
}

int main(void)
{
	const struct CMUnitTest answers[] = {
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_api_call_answered),
		cmocka_unit_test(test_metrics_page),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_unknown_page),
		cmocka_unit_test(test_get_root),
		cmocka_unit_test(test_other_methods),
		cmocka_unit_test(test_preflight),
		cmocka_unit_test(test_cors_answers),
		cmocka_unit_test(test_post_elsewhere),
		cmocka_unit_test(test_no_content_length),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_refusals_in_cbor),
		cmocka_unit_test(test_body_not_json),
		cmocka_unit_test(test_subscribe_cors),
	};
	const struct CMUnitTest cap[] = {
		cmocka_unit_test(test_cap_evicts_the_longest_waiting),
		cmocka_unit_test(test_cap_refuses_when_every_place_is_held),
	};
	int failed = cmocka_run_group_tests_name("answers", answers, hub_up, hub_down);

	return failed + cmocka_run_group_tests_name("cap", cap, cap_up, hub_down);
}
