/* See h2sub.h. */
#include "config.h"
#include "h2sub.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

#define WINDOW (1 << 30)

static struct h2sub_stream *stream_of(struct h2sub *c, int32_t id)
{
	for (int i = 0; i < c->stream_count; i++)
		if (c->streams[i].id == id)
			return &c->streams[i];
	return NULL;
}

static void take_messages(struct h2sub *c, struct h2sub_stream *s, const uint8_t *data, size_t len)
{
	struct eventstream_message msg;
	size_t used;

	while (len > 0) {
		enum eventstream_step step = eventstream_decoder_step(&s->decoder, data, len, &used, &msg);

		data += used;
		len -= used;
		if (step == EVENTSTREAM_STEP_ERROR) {
			c->failed = true;
			return;
		}
		if (step == EVENTSTREAM_STEP_MESSAGE)
			c->fn(c->user, (const char *)msg.payload, msg.payload_len,
			      eventstream_header_is(&msg, ":message-type", "exception"));
	}
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
		   size_t len, void *user)
{
	struct h2sub *c = user;
	struct h2sub_stream *s = stream_of(c, id);

	(void)session, (void)flags;
	if (s)
		take_messages(c, s, data, len);
	return 0;
}

static ssize_t read_body(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
			 uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct h2sub_stream *s = source->ptr;
	size_t n = s->body_len - s->body_sent;

	(void)session, (void)id, (void)user;
	if (n > length)
		n = length;
	memcpy(buf, s->body + s->body_sent, n);
	s->body_sent += n;
	if (s->body_sent == s->body_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

int h2sub_connect(struct h2sub *c, int port, h2sub_message_fn fn, void *user)
{
	nghttp2_session_callbacks *cb;
	nghttp2_settings_entry window = { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW };

	memset(c, 0, sizeof(*c));
	c->fn = fn;
	c->user = user;
	c->fd = net_tcp_connect(port);
	if (c->fd < 0 || nghttp2_session_callbacks_new(&cb) != 0)
		return -1;
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	if (nghttp2_session_client_new(&c->session, cb, c) != 0) {
		nghttp2_session_callbacks_del(cb);
		return -1;
	}
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, &window, 1);
	nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, WINDOW);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return h2sub_pump(c);
}

#define NV(name, value)                                                                       \
	{ (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, strlen(value),              \
	  NGHTTP2_NV_FLAG_NONE }

int h2sub_subscribe(struct h2sub *c, const char *consumer_arn, const char *shard,
		    const char *position)
{
	struct h2sub_stream *s;
	nghttp2_data_provider data;
	nghttp2_nv nva[] = {
		NV(":method", "POST"), NV(":scheme", "http"), NV(":path", "/"),
		NV(":authority", "127.0.0.1"), NV("content-type", "application/x-amz-json-1.1"),
		NV("x-amz-target", "Kinesis_20131202.SubscribeToShard"),
	};

	if (c->stream_count == H2SUB_STREAMS_MAX)
		return -1;
	s = &c->streams[c->stream_count++];
	s->body = malloc(1024);
	if (s->body == NULL)
		return -1;
	s->body_len = (size_t)snprintf(s->body, 1024,
				       "{\"ConsumerARN\":\"%s\",\"ShardId\":\"%s\","
				       "\"StartingPosition\":{\"Type\":\"%s\"}}",
				       consumer_arn, shard, position);
	eventstream_decoder_init(&s->decoder, 0);
	data = (nghttp2_data_provider){ .source.ptr = s, .read_callback = read_body };
	s->id = nghttp2_submit_request(c->session, NULL, nva, sizeof(nva) / sizeof(nva[0]), &data,
				       NULL);
	return s->id < 0 ? -1 : h2sub_pump(c);
}

/* Writes what the session has; blocking writes are fine for a benchmark
 * client, whose requests are small. */
static int send_pending(struct h2sub *c)
{
	const uint8_t *out;
	ssize_t n;

	while ((n = nghttp2_session_mem_send(c->session, &out)) > 0)
		for (ssize_t sent = 0; sent < n;) {
			ssize_t k = send(c->fd, out + sent, (size_t)(n - sent), MSG_NOSIGNAL);

			if (k < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
			sent += k > 0 ? k : 0;
		}
	return n < 0 ? -1 : 0;
}

int h2sub_pump(struct h2sub *c)
{
	uint8_t buf[65536];
	ssize_t n;

	while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0)
		if (nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0)
			return -1;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		return -1;
	return c->failed ? -1 : send_pending(c);
}

void h2sub_close(struct h2sub *c)
{
	for (int i = 0; i < c->stream_count; i++) {
		free(c->streams[i].body);
		eventstream_decoder_free(&c->streams[i].decoder);
	}
	nghttp2_session_del(c->session);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
