#include "config.h"
#include "hubserver.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/clock.h"
#include "util/errtext.h"

static void *serve(void *arg)
{
	server_run(arg);
	return NULL;
}

void hubserver_start(struct hubserver *h, const char *stream,
		     const struct server_config *config)
{
	struct hub_config hc;
	struct server_config sc;
	char err[ERR_TEXT_MAX] = "";

	memset(h, 0, sizeof(*h));
	hub_config_defaults(&hc);
	h->hub = hub_open(&hc, clock_wall_ms(), err, sizeof(err));
	assert_non_null(h->hub);
	assert_non_null(hub_create_stream(h->hub, stream, 4, clock_wall_ms()));
	if (config)
		sc = *config;
	else
		server_config_defaults(&sc);
	snprintf(sc.host, sizeof(sc.host), "127.0.0.1");
	sc.port = 0;
	h->server = server_start(h->hub, &sc, err, sizeof(err));
	if (h->server == NULL)
		fail_msg("server_start: %s", err);
	h->port = server_port(h->server);
	assert_true(h->port > 0);
	snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%d", h->port);
	assert_int_equal(pthread_create(&h->thread, NULL, serve, h->server), 0);
}

void hubserver_stop(struct hubserver *h)
{
	server_stop(h->server);
	pthread_join(h->thread, NULL);
	server_free(h->server);
	hub_close(h->hub);
}

int hubserver_setup(void **state)
{
	hubserver_start(*state, "alleycat", NULL);
	return 0;
}

int hubserver_teardown(void **state)
{
	hubserver_stop(*state);
	return 0;
}
