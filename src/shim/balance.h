/*
 * What the balancer's TCP side (balance.c) and UDP side (balance-udp.c) share: the listeners, the
 * backends in rotation, the epoll set and the clock.
 */
#ifndef TSCTR_BALANCE_H
#define TSCTR_BALANCE_H

#include "shim.h"

#define MAX_LISTEN 4

struct listener {
	int fd;
	int udp;
};
extern struct listener g_listen[MAX_LISTEN];
extern int g_nlisten;
extern int g_ep;

long long now_ms(void);
/* The next backend in rotation, round robin, not one whose port is in `tried`; -1 if none. */
int pick(const int *tried, int ntried);
/* The backend's port if `port` is listed and in rotation; for UDP sessions bound to it. */
int port_in_rotation(int port);
/* Out of the rotation for a while: a connect refused, a reset, an ICMP port unreachable. */
void mark_down(int port);
int backend_port(int i);

/* balance-udp.c */
void udp_init(int max_sessions);
int udp_owns(const void *p); /* an epoll entry of a session? */
void udp_on_listener(const struct listener *l);
void udp_on_session(void *p);
void udp_expire(void); /* idle sessions go; called on the balancer's tick */

#endif
