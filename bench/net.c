/* See net.h. Blocking sockets for HTTP (one request in flight per
 * connection, as a keep-alive client does), non-blocking for WebSocket
 * readers driven by epoll. */
#include "config.h"
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/base64.h"
#include "bench.h"

#define HTTP_BUF_INITIAL 65536
#define WS_BUF_INITIAL (4u << 20)

/* ------------------------------------------------------------------ */
/* Servers                                                             */
/* ------------------------------------------------------------------ */

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

int net_free_port(void)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* The server under test takes no settings from the environment or a
 * config file: ALLEYCAT_DATA_DIR, say, would make the hub durable. */
static void clean_environment(void)
{
	extern char **environ;
	char name[256];

	for (size_t i = 0; environ[i];) {
		const char *eq = strchr(environ[i], '=');

		if (strncmp(environ[i], "ALLEYCAT", 8) == 0 && eq &&
		    (size_t)(eq - environ[i]) < sizeof(name)) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - environ[i]), environ[i]);
			unsetenv(name);
			continue;
		}
		i++;
	}
	setenv("ALLEYCAT_CONFIG", "/dev/null", 1);
}

/* Servers still running: a benchmark that exits early stops them too. */
static pid_t running[16];

static void stop_running(void)
{
	for (size_t i = 0; i < sizeof(running) / sizeof(running[0]); i++)
		if (running[i] > 0)
			net_stop(running[i]);
}

/* Interrupted: the servers (in process groups of their own, which a ^C
 * does not reach) go too. kill and _exit are async-signal-safe. */
static void on_signal(int sig)
{
	for (size_t i = 0; i < sizeof(running) / sizeof(running[0]); i++)
		if (running[i] > 0)
			kill(-running[i], SIGTERM);
	_exit(128 + sig);
}

static void note_running(pid_t pid, pid_t replace)
{
	static bool registered;

	if (!registered && atexit(stop_running) == 0) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		registered = true;
	}
	for (size_t i = 0; i < sizeof(running) / sizeof(running[0]); i++) {
		if (running[i] == replace) {
			running[i] = pid;
			return;
		}
	}
}

pid_t net_spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* A group of its own: net_stop ends a server and anything it
		 * runs under (perf record and its hub) together. */
		setpgid(0, 0);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		clean_environment();
		execvp(argv[0], argv);
		fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid > 0)
		note_running(pid, 0);
	return pid;
}

int net_tcp_connect(int port)
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int net_wait_port(int port, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		int fd = net_tcp_connect(port);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(20000);
	}
	return -1;
}

void net_stop(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	note_running(0, pid);
	kill(-pid, SIGTERM);
	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
}

const char *net_alleycat(void)
{
	const char *env = getenv("ALLEYCAT");

	if (env && *env)
		return env;
	return access("./alleycat", X_OK) == 0 ? "./alleycat" : "alleycat";
}

/* $BENCH_HUB_PREFIX, split at spaces, goes in front of the hub's command
 * line: bench/run --profile puts `perf record -o FILE.N --` there, where
 * each N (written as {n}) counts the hubs started, 1 up. */
static size_t hub_prefix(const char **argv, size_t max)
{
	static char words[1024];
	static int started;
	const char *env = getenv("BENCH_HUB_PREFIX"), *mark;
	size_t n = 0;

	if (env == NULL || *env == '\0')
		return 0;
	started++;
	if ((mark = strstr(env, "{n}")) != NULL)
		snprintf(words, sizeof(words), "%.*s%d%s", (int)(mark - env), env, started,
			 mark + 3);
	else
		snprintf(words, sizeof(words), "%s", env);
	for (char *w = strtok(words, " "); w && n < max; w = strtok(NULL, " "))
		argv[n++] = w;
	return n;
}

pid_t net_start_hub(int *port, const char *const *extra)
{
	static const char *const base[] = { "hub", "--shards", "4", "--shard-records-per-sec", "0",
					    "--shard-bytes-per-sec", "0", "--retention-bytes", "0",
					    "--log-level", "error", "--listen" };
	const char *argv[64];
	char listen[32];
	size_t n = hub_prefix(argv, 16);
	pid_t pid;

	*port = net_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", *port);
	argv[n++] = net_alleycat();
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		argv[n++] = base[i];
	argv[n++] = listen;
	for (size_t i = 0; extra && extra[i] && n < 63; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid = net_spawn((char *const *)argv, getenv("BENCH_HUB_LOG"));
	if (pid < 0 || net_wait_port(*port, 5000) < 0) {
		fprintf(stderr, "bench: the hub (%s) did not start\n", argv[0]);
		net_stop(pid);
		exit(1);
	}
	return pid;
}

/* bench/node beside the source tree's data/, unless $BENCH_NODE_DIR. */
static void node_dir(char *out, size_t size)
{
	const char *env = getenv("BENCH_NODE_DIR"), *data = datadir_find("schema.sql");

	if (env && *env)
		snprintf(out, size, "%.*s", (int)size - 1, env);
	else
		snprintf(out, size, "%.*s/../bench/node", (int)size - 20, data ? data : ".");
}

pid_t net_start_kinesalite(int *port)
{
	char dir[PATH_MAX - 64], script[PATH_MAX], module[PATH_MAX], port_text[16];
	char *argv[] = { "node", script, port_text, NULL };
	pid_t pid;

	node_dir(dir, sizeof(dir));
	snprintf(script, sizeof(script), "%s/kinesalite.js", dir);
	snprintf(module, sizeof(module), "%s/node_modules/kinesalite/package.json", dir);
	if (access(module, R_OK) != 0) {
		bench_note("bench: kinesalite is not installed (cd bench/node && npm ci): skipped");
		return -1;
	}
	*port = net_free_port();
	snprintf(port_text, sizeof(port_text), "%d", *port);
	pid = net_spawn(argv, NULL);
	if (pid < 0 || net_wait_port(*port, 10000) < 0) {
		bench_note("bench: kinesalite did not start: skipped");
		net_stop(pid);
		return -1;
	}
	return pid;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

int http_connect(struct http_conn *c, int port)
{
	if (c->buf == NULL) {
		c->cap = HTTP_BUF_INITIAL;
		c->buf = bench_alloc(c->cap);
	}
	c->port = port;
	c->len = 0;
	c->fd = net_tcp_connect(port);
	return c->fd < 0 ? -1 : 0;
}

void http_close(struct http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	free(c->body);
	c->buf = c->body = NULL;
}

static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Reads until the buffer holds at least want bytes; -1 at EOF. */
static int fill(struct http_conn *c, size_t want)
{
	while (c->len < want) {
		ssize_t r;

		if (c->cap - c->len < 65536 || want > c->cap) {
			c->cap = (want > c->cap ? want : c->cap) * 2;
			c->buf = realloc(c->buf, c->cap);
			if (c->buf == NULL)
				return -1;
		}
		r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
	return 0;
}

/* Position just past the blank line ending the headers; 0 while absent. */
static size_t headers_end(struct http_conn *c)
{
	char *end;

	c->buf[c->len] = '\0';
	end = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
	return end ? (size_t)(end - c->buf) + 4 : 0;
}

static void consume(struct http_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

static void keep_body(struct http_conn *c, const char *from, size_t n)
{
	free(c->body);
	c->body = bench_alloc(n + 1);
	memcpy(c->body, from, n);
	c->body[n] = '\0';
	c->body_len = n;
}

static const char *header(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, name, n) == 0)
			return p + 2 + n;
	return NULL;
}

/* A chunked body, as Node answers when it does not set a length. */
static int read_chunked(struct http_conn *c, size_t at)
{
	char *body = NULL;
	size_t body_len = 0;

	for (;;) {
		char *eol;
		size_t size;

		while ((eol = memmem(c->buf + at, c->len - at, "\r\n", 2)) == NULL)
			if (fill(c, c->len + 1) < 0)
				return -1;
		size = strtoul(c->buf + at, NULL, 16);
		at = (size_t)(eol - c->buf) + 2;
		if (fill(c, at + size + 2) < 0)
			return -1;
		body = realloc(body, body_len + size + 1);
		memcpy(body + body_len, c->buf + at, size);
		body_len += size;
		at += size + 2;
		if (size == 0)
			break;
	}
	consume(c, at);
	free(c->body);
	body[body_len] = '\0';
	c->body = body;
	c->body_len = body_len;
	return 0;
}

static int read_response(struct http_conn *c)
{
	size_t head = 0, length;
	const char *v;

	while ((head = headers_end(c)) == 0)
		if (fill(c, c->len + 1) < 0)
			return -1;
	c->buf[head - 1] = '\0';
	c->status = atoi(c->buf + 9);
	if ((v = header(c->buf, "transfer-encoding:")) && strstr(v, "chunked"))
		return read_chunked(c, head);
	v = header(c->buf, "content-length:");
	length = v ? strtoul(v, NULL, 10) : 0;
	if (fill(c, head + length) < 0)
		return -1;
	keep_body(c, c->buf + head, length);
	consume(c, head + length);
	return 0;
}

static int send_request(struct http_conn *c, const char *op, const char *body, size_t len)
{
	char head[512];
	struct iovec iov[2];
	int n = snprintf(head, sizeof(head),
			 "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			 "Content-Type: application/x-amz-json-1.1\r\n"
			 "X-Amz-Target: Kinesis_20131202.%s\r\n"
			 "X-Amz-Date: 20210505T000000Z\r\n"
			 "Authorization: AWS4-HMAC-SHA256 Credential=bench/20210505/us-east-1/"
			 "kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\n"
			 "Content-Length: %zu\r\n\r\n",
			 c->port, op, len);

	iov[0] = (struct iovec){ head, (size_t)n };
	iov[1] = (struct iovec){ (void *)body, len };
	return write_all(c->fd, iov, len ? 2 : 1);
}

int http_kinesis(struct http_conn *c, const char *op, const char *body, size_t len)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0 && http_connect(c, c->port) < 0)
			return -1;
		if (send_request(c, op, body, len) == 0 && read_response(c) == 0)
			return c->status;
		close(c->fd);
		c->fd = -1;
		c->len = 0;
	}
	return -1;
}

json_t *net_call(struct http_conn *c, const char *op, const char *fmt, ...)
{
	char *body = NULL;
	va_list ap;
	int n, status;
	json_t *j;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	status = http_kinesis(c, op, body, (size_t)n);
	free(body);
	if (status != 200) {
		bench_note("bench: %s answered %d: %.300s", op, status, c->body ? c->body : "");
		return NULL;
	}
	j = json_loadb(c->body, c->body_len, 0, NULL);
	return j;
}

int net_create_stream(struct http_conn *c, const char *name, int shards)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"StreamName\":\"%s\",\"ShardCount\":%d}", name,
			 shards);

	http_kinesis(c, "CreateStream", body, (size_t)n);
	for (int i = 0; i < 200; i++) {
		json_t *j = net_call(c, "DescribeStreamSummary", "{\"StreamName\":\"%s\"}", name);
		const char *status = json_string_value(
			json_object_get(json_object_get(j, "StreamDescriptionSummary"), "StreamStatus"));
		bool active = status && strcmp(status, "ACTIVE") == 0;

		json_decref(j);
		if (active)
			return 0;
		usleep(25000);
	}
	bench_note("bench: stream %s never became ACTIVE", name);
	return -1;
}

size_t net_shards(struct http_conn *c, const char *stream, char ***ids)
{
	json_t *j = net_call(c, "DescribeStream", "{\"StreamName\":\"%s\"}", stream);
	json_t *shards = json_object_get(json_object_get(j, "StreamDescription"), "Shards"), *sh;
	size_t i, n = json_array_size(shards);

	*ids = bench_alloc((n + 1) * sizeof(**ids));
	json_array_foreach(shards, i, sh)
		(*ids)[i] = strdup(json_string_value(json_object_get(sh, "ShardId")));
	json_decref(j);
	return n;
}

/* ------------------------------------------------------------------ */
/* PutRecords bodies                                                   */
/* ------------------------------------------------------------------ */

static size_t record_data(char *out, size_t data_len, uint64_t i)
{
	int n = snprintf(out, data_len + 1,
			 "{\"event\":\"update\",\"deviceTimestamp\":%" PRId64 ",\"second\":%d,"
			 "\"raceId\":5400802,\"name\":\"Hayden\",\"racerId\":%" PRIu64 ","
			 "\"classId\":3,\"cadence\":81.0,\"resistance\":79.0,\"pad\":\"",
			 (int64_t)BENCH_START_MS + (int64_t)(i % 300) * 1000, (int)(i % 300) + 1,
			 100 + i);

	if (n < 0 || (size_t)n + 2 > data_len)
		return (size_t)(n < 0 ? 0 : n);
	memset(out + n, 'x', data_len - (size_t)n - 2);
	memcpy(out + data_len - 2, "\"}", 2);
	return data_len;
}

char *net_put_body(const char *stream, size_t n, size_t data_len, uint64_t key_base,
		   size_t *len)
{
	size_t cap = 128 + n * (base64_encoded_len(data_len) + 64);
	char *body = bench_alloc(cap), *p = body, *data = bench_alloc(data_len + 64);
	char *b64 = bench_alloc(base64_encoded_len(data_len + 64) + 1);

	p += sprintf(p, "{\"StreamName\":\"%s\",\"Records\":[", stream);
	for (size_t i = 0; i < n; i++) {
		size_t d = record_data(data, data_len, key_base + i);

		base64_encode(data, d, b64);
		p += sprintf(p, "%s{\"Data\":\"%s\",\"PartitionKey\":\"%" PRIu64 "\"}",
			     i ? "," : "", b64, key_base + i);
	}
	p += sprintf(p, "]}");
	*len = (size_t)(p - body);
	free(data);
	free(b64);
	return body;
}

/* ------------------------------------------------------------------ */
/* WebSocket                                                           */
/* ------------------------------------------------------------------ */

int ws_connect(struct ws_conn *w, int port)
{
	unsigned char nonce[16];
	char key[32], req[512], *end;
	int n;

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (unsigned char)rand();
	base64_encode(nonce, sizeof(nonce), key);
	if ((w->fd = net_tcp_connect(port)) < 0)
		return -1;
	n = snprintf(req, sizeof(req),
		     "GET /subscribe HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: alleycat-efo.v1\r\n\r\n",
		     port, key);
	if (write(w->fd, req, (size_t)n) != n)
		return -1;
	w->cap = WS_BUF_INITIAL;
	w->buf = bench_alloc(w->cap);
	while ((end = w->len >= 4 ? memmem(w->buf, w->len, "\r\n\r\n", 4) : NULL) == NULL) {
		ssize_t r = read(w->fd, w->buf + w->len, w->cap - w->len);

		if (r <= 0)
			return -1;
		w->len += (size_t)r;
	}
	if (strncmp(w->buf, "HTTP/1.1 101", 12) != 0)
		return -1;
	n = (int)(end + 4 - w->buf);
	memmove(w->buf, w->buf + n, w->len - (size_t)n);
	w->len -= (size_t)n;
	fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

void ws_close(struct ws_conn *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->buf);
	free(w->msg);
	w->buf = w->msg = NULL;
}

static int send_frame(struct ws_conn *w, int opcode, const char *payload, size_t len)
{
	unsigned char head[14], mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	size_t h = 0, total;
	char *frame;
	int rc = 0;

	head[h++] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		head[h++] = (unsigned char)(0x80 | len);
	} else {
		head[h++] = 0x80 | 126;
		head[h++] = (unsigned char)(len >> 8);
		head[h++] = (unsigned char)len;
	}
	memcpy(head + h, mask, 4);
	h += 4;
	total = h + len;
	frame = bench_alloc(total);
	memcpy(frame, head, h);
	for (size_t i = 0; i < len; i++)
		frame[h + i] = (char)(payload[i] ^ mask[i % 4]);
	for (size_t off = 0; off < total;) {
		ssize_t r = write(w->fd, frame + off, total - off);

		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = { .fd = w->fd, .events = POLLOUT };
			poll(&p, 1, 100);
			continue;
		}
		if (r <= 0) {
			rc = -1;
			break;
		}
		off += (size_t)r;
	}
	free(frame);
	return rc;
}

int ws_send_text(struct ws_conn *w, const char *text, size_t len)
{
	return len > 65535 ? -1 : send_frame(w, 1, text, len);
}

static void message_part(struct ws_conn *w, const char *p, size_t n)
{
	if (w->msg_len + n > w->msg_cap) {
		w->msg_cap = (w->msg_len + n) * 2;
		w->msg = realloc(w->msg, w->msg_cap);
		if (w->msg == NULL) {
			fprintf(stderr, "bench: out of memory\n");
			exit(1);
		}
	}
	memcpy(w->msg + w->msg_len, p, n);
	w->msg_len += n;
}

/* Handles the whole frame at `at`: its size; 0 when it is not all there
 * yet (*need is then the bytes it takes); -1 when the connection closes. */
static ssize_t frame(struct ws_conn *w, size_t at, size_t *need, ws_message_fn fn,
		     void *user)
{
	const unsigned char *b = (const unsigned char *)w->buf + at;
	size_t avail = w->len - at, h = 2, len;
	int opcode, fin;

	*need = 14;
	if (avail < 2)
		return 0;
	fin = b[0] & 0x80;
	opcode = b[0] & 0x0f;
	len = b[1] & 0x7f;
	if (len == 126) {
		if (avail < 4)
			return 0;
		len = (size_t)b[2] << 8 | b[3];
		h = 4;
	} else if (len == 127) {
		if (avail < 10)
			return 0;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | b[2 + i];
		h = 10;
	}
	if (b[1] & 0x80)
		h += 4;         /* a server never masks; skip the key if it did */
	*need = h + len;
	if (avail < h + len)
		return 0;
	switch (opcode) {
	case 0x8:
		return -1;
	case 0x9:
		send_frame(w, 0xA, (const char *)b + h, len);
		break;
	case 0x1:
	case 0x0:
		if (fin && w->msg_len == 0) {
			fn(user, (const char *)b + h, len);
		} else {
			message_part(w, (const char *)b + h, len);
			if (fin) {
				fn(user, w->msg, w->msg_len);
				w->msg_len = 0;
			}
		}
		break;
	default:
		break;
	}
	return (ssize_t)(h + len);
}

int ws_pump(struct ws_conn *w, ws_message_fn fn, void *user)
{
	size_t at = 0, need = 0;
	ssize_t r, used;

	r = read(w->fd, w->buf + w->len, w->cap - w->len);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (r > 0)
		w->len += (size_t)r;
	while ((used = frame(w, at, &need, fn, user)) > 0)
		at += (size_t)used;
	if (used < 0)
		return -1;
	memmove(w->buf, w->buf + at, w->len - at);
	w->len -= at;
	/* Room for the frame in progress and a good read after it. */
	if (need + 65536 > w->cap) {
		w->cap = need * 2 + 65536;
		w->buf = realloc(w->buf, w->cap);
		if (w->buf == NULL) {
			fprintf(stderr, "bench: out of memory\n");
			exit(1);
		}
	}
	return 0;
}
