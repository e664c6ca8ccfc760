/* A hub for tests that talk to one over the network: in memory, with a
 * stream of four shards, served on 127.0.0.1 at a port the kernel picks,
 * by a thread of its own. Only that thread touches the hub while it runs;
 * a test talks to it over sockets. */
#ifndef ALLEYCAT_TEST_HUBSERVER_H
#define ALLEYCAT_TEST_HUBSERVER_H

#include <pthread.h>

#include "hub/hub.h"
#include "hub/server.h"

struct hubserver {
	struct hub *hub;
	struct server *server;
	pthread_t thread;
	int port;
	char url[64];                   /* http://127.0.0.1:PORT */
};

/* Starts a hub with stream `stream` on the server settings of config
 * (NULL: the defaults; the address is always 127.0.0.1 and a free port).
 * Fails the test when it cannot. */
void hubserver_start(struct hubserver *h, const char *stream,
		     const struct server_config *config);

/* Stops the server thread and frees the hub. */
void hubserver_stop(struct hubserver *h);

/* cmocka set-up and tear-down of a test whose state is a struct hubserver
 * (cmocka_unit_test_prestate_setup_teardown): a hub with stream
 * "alleycat" on the default settings. */
int hubserver_setup(void **state);
int hubserver_teardown(void **state);

/* Test f, run around a hub of its own in *h. */
#define HUBSERVER_TEST(f, h) \
	cmocka_unit_test_prestate_setup_teardown(f, hubserver_setup, hubserver_teardown, h)

#endif
