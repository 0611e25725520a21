/*
 * Published ports for user-mode stacks that would otherwise forward them in userspace slowly
 * (slirp4netns' own hostfwd copies every byte through its TCP/IP emulation, and with host loopback
 * disabled it drops UDP replies to clients on the host's loopback).
 *
 * The monitor binds the listening sockets in the host's network namespace before the first start
 * (so a busy port fails the start, and the ports stay bound across restarts). The setup child,
 * once it is in the container's user and network namespaces, clones the forwarder as the
 * monitor's child: it accepts on the host sockets, connects to 127.0.0.1:PORT inside the
 * container's namespace and moves the bytes with splice(2), never through user memory. It is
 * outside the container's pid namespace (invisible and unkillable from inside), holds no
 * capabilities, and dies with the monitor (PDEATHSIG) or when the monitor ends its helpers.
 * Like rootlessport, the container sees connections coming from 127.0.0.1.
 *
 * UDP: each client address gets its own socket connected to 127.0.0.1:PORT inside, so replies find
 * their way back; a client idle for UDP_IDLE_SECONDS is forgotten, as conntrack would.
 */
#include "shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_PUBLISH 512
#define PIPE_BYTES (1 << 20)
#define MAX_UDP_PEERS 1024
#define UDP_IDLE_SECONDS 120

static struct listener {
	int fd;
	int port; /* container port */
	int udp;
} g_listen[MAX_PUBLISH];
static int g_nlisten;
static int g_udp; /* any UDP listener at all */

int forward_listen(const struct strlist *publish, char *err, size_t errsz)
{
	for (int i = 0; i < publish->n; i++) {
		char ip[64], proto[8] = "tcp";
		int hport, cport;
		int fields = sscanf(publish->v[i], "%63s %d %d %7s", ip, &hport, &cport, proto);
		int udp = strcmp(proto, "udp") == 0;
		if (g_nlisten == MAX_PUBLISH || fields < 3 || hport <= 0 || hport > 65535 || cport <= 0 ||
		    cport > 65535 || (!udp && strcmp(proto, "tcp") != 0)) {
			snprintf(err, errsz, "bad publish entry \"%s\": want \"HOSTIP HOSTPORT PORT [tcp|udp]\"", publish->v[i]);
			return -1;
		}
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof ss);
		socklen_t len;
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons((uint16_t)hport);
			len = sizeof *a4;
		} else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons((uint16_t)hport);
			len = sizeof *a6;
		} else {
			snprintf(err, errsz, "bad publish address \"%s\"", ip);
			return -1;
		}
		int fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
		if (fd < 0) {
			snprintf(err, errsz, "socket for port %d: %s", hport, errstr(errno));
			return -1;
		}
		if (!udp)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (!udp && listen(fd, 512) < 0)) {
			/* The wording docker uses, which the CLI's own probe also prints. */
			snprintf(err, errsz, "failed to bind port %s:%d/%s: listen %s %s:%d: bind: %s", ip, hport, proto,
				 proto, ip, hport, errstr(errno));
			close(fd);
			return -1;
		}
		g_listen[g_nlisten].fd = fd;
		g_listen[g_nlisten].udp = udp;
		g_udp |= udp;
		g_listen[g_nlisten++].port = cport;
	}
	return 0;
}

/* epoll data of a connection's end (a listener's or a UDP peer's is its own entry in g_listen or
 * g_peers, told apart by address). */
struct end {
	struct conn *c;
	int side;
};

/* One connection (splice.c); side 0 is the host's. */
struct conn {
	struct duplex x;
	int dead;
	struct end end[2];
	struct conn *next_dead;
};

static int g_ep;
/* Freed after each batch of events: a later event of the same batch may still name it. */
static struct conn *g_dead;

/* `reset`: the host's side gets a reset, as a closed port would give. */
static void conn_free(struct conn *c, int reset)
{
	duplex_close(&c->x, reset);
	c->dead = 1;
	c->next_dead = g_dead;
	g_dead = c;
}

static void rearm(struct conn *c)
{
	for (int side = 0; side < 2; side++)
		duplex_arm(&c->x, g_ep, side, duplex_want(&c->x, side), &c->end[side]);
}

static void on_accept(const struct listener *l)
{
	for (;;) {
		int host = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (host < 0)
			return; /* EAGAIN, or out of fds: the next event tries again */
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(host);
			continue;
		}
		duplex_init(&c->x, host, PIPE_BYTES);
		c->x.fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->x.fd[1] < 0) {
			conn_free(c, 1);
			continue;
		}
		for (int d = 0; d < 2; d++) {
			c->end[d].c = c;
			c->end[d].side = d;
			int one = 1;
			setsockopt(c->x.fd[d], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			struct epoll_event e = {.events = 0, .data.ptr = &c->end[d]};
			epoll_ctl(g_ep, EPOLL_CTL_ADD, c->x.fd[d], &e);
		}
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)l->port)};
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(c->x.fd[1], (struct sockaddr *)&to, sizeof to) < 0) {
			if (errno != EINPROGRESS) {
				conn_free(c, 1);
				continue;
			}
			c->x.connecting = 1;
		}
		rearm(c);
	}
}

/* Readable (or hung up) side s feeds direction s; writable side s drains direction 1-s. */
static void on_ready(struct end *e, unsigned events)
{
	struct conn *c = e->c;
	int s = e->side;
	if (c->dead)
		return;
	if (c->x.connecting) {
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (getsockopt(c->x.fd[1], SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			conn_free(c, 1);
			return;
		}
		c->x.connecting = 0;
		events = 0; /* nothing to move yet: rearm asks for reads */
	}
	if ((events & EPOLLERR) || ((events & (EPOLLIN | EPOLLHUP)) && duplex_pump(&c->x, s) < 0) ||
	    ((events & EPOLLOUT) && duplex_pump(&c->x, 1 - s) < 0) || (c->x.done[0] && c->x.done[1])) {
		conn_free(c, 0);
		return;
	}
	rearm(c);
}

/* A UDP client of a published port, and its socket to the container's port. */
/* In .bss and used only for UDP: untouched pages cost no memory when nothing is UDP. */
static struct udp_peer {
	int used;
	int fd;
	const struct listener *l;
	struct sockaddr_storage addr;
	socklen_t len;
	time_t last;
} g_peers[MAX_UDP_PEERS];

static void peer_close(struct udp_peer *p)
{
	epoll_ctl(g_ep, EPOLL_CTL_DEL, p->fd, NULL);
	close(p->fd);
	p->used = 0;
}

/* The peer for this client, made if new; the least recently used one gives way when all are taken. */
static struct udp_peer *peer_for(const struct listener *l, const struct sockaddr_storage *a, socklen_t len)
{
	struct udp_peer *free_slot = NULL, *oldest = NULL;
	for (int i = 0; i < MAX_UDP_PEERS; i++) {
		struct udp_peer *p = &g_peers[i];
		if (!p->used) {
			if (!free_slot)
				free_slot = p;
			continue;
		}
		if (p->l == l && p->len == len && memcmp(&p->addr, a, len) == 0)
			return p;
		if (!oldest || p->last < oldest->last)
			oldest = p;
	}
	struct udp_peer *p = free_slot;
	if (!p) {
		peer_close(oldest);
		p = oldest;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)l->port)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = p};
	epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &e);
	p->used = 1;
	p->fd = fd;
	p->l = l;
	memcpy(&p->addr, a, len);
	p->len = len;
	return p;
}

static char g_dgram[65536];

/* Datagrams from host clients go to the container, one recv and one send each. */
static void on_udp_listener(const struct listener *l)
{
	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage a;
		socklen_t len = sizeof a;
		ssize_t n = recvfrom(l->fd, g_dgram, sizeof g_dgram, 0, (struct sockaddr *)&a, &len);
		if (n < 0)
			return;
		struct udp_peer *p = peer_for(l, &a, len);
		if (!p)
			continue;
		p->last = time(NULL);
		send(p->fd, g_dgram, (size_t)n, 0);
	}
}

/* And the container's answers go back to the client, from the published port. */
static void on_udp_peer(struct udp_peer *p)
{
	for (int k = 0; k < 64; k++) {
		ssize_t n = recv(p->fd, g_dgram, sizeof g_dgram, 0);
		if (n < 0)
			return;
		p->last = time(NULL);
		sendto(p->l->fd, g_dgram, (size_t)n, 0, (struct sockaddr *)&p->addr, p->len);
	}
}

static void expire_peers(void)
{
	if (!g_udp)
		return;
	time_t now = time(NULL);
	for (int i = 0; i < MAX_UDP_PEERS; i++)
		if (g_peers[i].used && now - g_peers[i].last > UDP_IDLE_SECONDS)
			peer_close(&g_peers[i]);
}

static void __attribute__((noreturn)) forward_loop(pid_t monitor)
{
	/* Nothing of the container's privileges is needed to move bytes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != monitor)
		_exit(0);
	prctl(PR_SET_NAME, "tsctr-ports", 0, 0, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct none[2];
	memset(none, 0, sizeof none);
	syscall(SYS_capset, &h, none);
	/* Keep only the listeners: an inherited end of the monitor's socket or of the container's
	 * output pipes would keep the monitor from ever seeing them close. */
	for (int fd = 0, next; fd <= 65535; fd = next + 1) {
		next = 65536;
		for (int i = 0; i < g_nlisten; i++)
			if (g_listen[i].fd >= fd && g_listen[i].fd < next)
				next = g_listen[i].fd;
		if (next > fd)
			syscall(SYS_close_range, (unsigned)fd, (unsigned)(next - 1), 0U);
	}
	signal(SIGPIPE, SIG_IGN);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

	if ((g_ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		_exit(1);
	for (int i = 0; i < g_nlisten; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = &g_listen[i]};
		epoll_ctl(g_ep, EPOLL_CTL_ADD, g_listen[i].fd, &e);
	}
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(g_ep, evs, 64, UDP_IDLE_SECONDS * 1000 / 4);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p >= (void *)g_listen && p < (void *)(g_listen + g_nlisten)) {
				const struct listener *l = p;
				if (l->udp)
					on_udp_listener(l);
				else
					on_accept(l);
			} else if (p >= (void *)g_peers && p < (void *)(g_peers + MAX_UDP_PEERS)) {
				if (((struct udp_peer *)p)->used)
					on_udp_peer(p);
			} else {
				on_ready(p, evs[i].events);
			}
		}
		expire_peers();
		while (g_dead) {
			struct conn *c = g_dead;
			g_dead = c->next_dead;
			free(c);
		}
	}
}

/*
 * While the container is down (the monitor's restart back-off, up to a minute in a crash loop)
 * no forwarder accepts: connections would wait in the backlog for as long. The monitor resets
 * them instead, as a closed port would, so a client (or a balancer in front of replicas, which
 * then tries another) is not kept waiting. The port stays bound, so it stays ours.
 */
int forward_pollfds(struct pollfd *p, int max)
{
	int n = 0;
	for (int i = 0; i < g_nlisten && n < max; i++)
		if (!g_listen[i].udp)
			p[n++] = (struct pollfd){.fd = g_listen[i].fd, .events = POLLIN};
	return n;
}

int forward_refuse(void)
{
	struct linger lg = {1, 0};
	int hard = 0;
	for (int i = 0; i < g_nlisten; i++) {
		if (g_listen[i].udp)
			continue;
		int fd;
		while ((fd = accept4(g_listen[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			close(fd);
		}
		/* Out of descriptors (or memory): the listener stays readable, so stop watching it. */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED && errno != EINTR)
			hard = 1;
	}
	return hard ? -1 : 0;
}

/*
 * In the setup child, once it is in the container's network namespace. The forwarder is created
 * with CLONE_PARENT so that it is the monitor's child: the monitor ends it with the container.
 */
void forward_start(void)
{
	if (!g_nlisten)
		return;
	pid_t monitor = getppid();
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT, 0, 0, 0, 0);
	if (pid < 0)
		failsys(EX_SETUP, "start the port forwarder");
	if (pid == 0)
		forward_loop(monitor);
	for (int i = 0; i < g_nlisten; i++)
		close(g_listen[i].fd);
}
