/* Socket options the hub and the push client set on their connections. */
#ifndef ALLEYCAT_SOCKOPT_H
#define ALLEYCAT_SOCKOPT_H

/* Turns off Nagle's algorithm on a TCP socket (fd < 0 is ignored):
 * answers and events go out in several writes, and waiting for the peer's
 * delayed ACK between them would add 40 ms to each. */
void sockopt_no_delay(int fd);

/* TCP keepalive: probes after idle_s seconds of silence, every
 * interval_s, the connection given up after probes unanswered (fd < 0 is
 * ignored). Finds peers that vanished without closing. */
void sockopt_keepalive(int fd, int idle_s, int interval_s, int probes);

#endif
