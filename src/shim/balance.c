/*
 * `tsctr-shim balance SPECFILE`: one host port spread over a service's replicas (see README.md,
 * "Load balancer").
 *
 * Each replica publishes the service's port on its own 127.0.0.1 port (the ordinary forwarder);
 * this process, in the host's network namespace, owns the service's published port and hands each
 * accepted connection to the next backend in rotation (round robin by connection), then moves the
 * bytes with splice(2) like the forwarder. The backends file (rewritten by rename) lists
 * `PORT HEALTHFILE|-` per replica; a backend is in rotation when its health file says healthy (or
 * it has none), and leaves it for DOWN_MS when a connect to it fails or it resets a connection
 * before answering anything. Such a connection, and one a backend closes without answering, is
 * replayed on another backend (the client's first bytes are kept until the backend answers): the
 * client never sees a stopped or killed replica while another is up.
 *
 * UDP listeners (`listen IP PORT udp`) are balanced by client address: balance-udp.c.
 *
 * One process, one epoll loop, no threads; connections capped by MAX_CONNS and the fd limit.
 */
#include "balance.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_BACKENDS 256
#define MAX_CONNS 4096
#define FDS_PER_CONN 6 /* two sockets, two pipes */
#define PIPE_BYTES (256 << 10)
#define EARLY_MAX 16384 /* a client's first bytes kept for a replay, at most */
#define CHECK_MS 200    /* the backends file and health files are looked at this often */
#define DOWN_MS 1000    /* out of rotation after a failed connect or reset */

struct listener g_listen[MAX_LISTEN];
int g_nlisten, g_ep;

struct fileid {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int exists;
};

static struct backend {
	int port;
	char *health; /* NULL: no health check, always in rotation */
	int healthy;
	struct fileid hid;
	long long down_until;
} g_be[MAX_BACKENDS];
static int g_nbe, g_next;
static const char *g_backends_path, *g_pid_path;
static struct fileid g_bid;

static int g_sigfd, g_nconns, g_max_conns, g_paused;

long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ backends and health */

/* 1 if the file changed since *id (or appeared/vanished); *id updated. */
static int file_changed(const char *path, struct fileid *id)
{
	struct stat st;
	struct fileid now = {0};
	if (stat(path, &st) == 0)
		now = (struct fileid){st.st_dev, st.st_ino, st.st_size, st.st_mtim, 1};
	int changed = now.exists != id->exists || now.dev != id->dev || now.ino != id->ino || now.size != id->size ||
		      now.mtime.tv_sec != id->mtime.tv_sec || now.mtime.tv_nsec != id->mtime.tv_nsec;
	*id = now;
	return changed;
}

/* The monitor's health.json (health.c) begins with {"Status":"..."; a missing file is not healthy
 * (a restarted container starts over from `starting`). */
static void read_health(struct backend *b)
{
	char buf[128];
	b->healthy = 0;
	int fd = open(b->health, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		b->healthy = strstr(buf, "\"Status\":\"healthy\"") != NULL;
	}
}

static void check_health(void)
{
	for (int i = 0; i < g_nbe; i++)
		if (g_be[i].health && file_changed(g_be[i].health, &g_be[i].hid))
			read_health(&g_be[i]);
}

/* Re-read the list; a backend that stays (same port and health file) keeps its state. */
static void load_backends(void)
{
	FILE *f = fopen(g_backends_path, "re");
	if (!f)
		return;
	static struct backend nb[MAX_BACKENDS];
	int n = 0;
	char line[PATH_MAX + 16];
	while (fgets(line, sizeof line, f) && n < MAX_BACKENDS) {
		line[strcspn(line, "\n")] = 0;
		char *sp = strchr(line, ' '), *end;
		long port = strtol(line, &end, 10);
		if (!sp || end != sp || port <= 0 || port > 65535 || !sp[1] || (sp[1] != '/' && strcmp(sp + 1, "-") != 0))
			continue; /* Node writes it; anything else is not ours to guess at */
		const char *health = strcmp(sp + 1, "-") == 0 ? NULL : sp + 1;
		struct backend *b = &nb[n];
		memset(b, 0, sizeof *b);
		for (int i = 0; i < g_nbe; i++)
			if (g_be[i].port == port && (g_be[i].health ? health && strcmp(g_be[i].health, health) == 0 : !health)) {
				*b = g_be[i];
				g_be[i].health = NULL; /* moved */
				break;
			}
		if (!b->port) {
			b->port = (int)port;
			b->health = health ? strdup(health) : NULL;
			if (health && !b->health)
				continue;
			if (b->health) {
				file_changed(b->health, &b->hid);
				read_health(b);
			}
		}
		n++;
	}
	fclose(f);
	for (int i = 0; i < g_nbe; i++)
		free(g_be[i].health);
	memcpy(g_be, nb, sizeof(struct backend) * (size_t)n);
	g_nbe = n;
}

static int in_rotation(const struct backend *b, long long now)
{
	return (!b->health || b->healthy) && now >= b->down_until;
}

#define MAX_TRIED 8

int pick(const int *tried, int ntried)
{
	long long now = now_ms();
	for (int k = 0; k < g_nbe; k++) {
		int i = (g_next + k) % g_nbe, seen = 0;
		for (int t = 0; t < ntried; t++)
			seen |= tried[t] == g_be[i].port;
		if (!seen && in_rotation(&g_be[i], now)) {
			g_next = (i + 1) % g_nbe;
			return i;
		}
	}
	return -1;
}

void mark_down(int port)
{
	for (int i = 0; i < g_nbe; i++)
		if (g_be[i].port == port)
			g_be[i].down_until = now_ms() + DOWN_MS;
}

int port_in_rotation(int port)
{
	long long now = now_ms();
	for (int i = 0; i < g_nbe; i++)
		if (g_be[i].port == port)
			return in_rotation(&g_be[i], now);
	return 0;
}

int backend_port(int i)
{
	return g_be[i].port;
}

/* ------------------------------------------------------------------ connections */

struct end {
	struct conn *c;
	int side;
};

/*
 * Side 0 is the client, side 1 the backend (splice.c). Until the backend has answered, the
 * client's bytes go through `early` (kept, for a replay on another backend); then both directions
 * go through the pipes.
 */
struct conn {
	struct duplex x;
	int answered, dead, port;
	int replays; /* backends tried again after one closed without answering */
	unsigned long retried_in; /* the batch of events in which the backend socket was replaced */
	int tried[MAX_TRIED], ntried;
	int kept;    /* the client's bytes are kept: until answered, or more than EARLY_MAX sent */
	char *early; /* allocated at the first byte: a connection that sends nothing costs nothing */
	size_t early_len, early_sent;
	struct end end[2];
	struct conn *next_dead;
};

static struct conn *g_dead; /* freed after each batch of events: a later event may still name it */
static unsigned long g_batch;

static void listeners_pause(int pause)
{
	if (pause == g_paused)
		return;
	for (int i = 0; i < g_nlisten; i++) {
		if (g_listen[i].udp)
			continue;
		struct epoll_event e = {.events = pause ? 0 : EPOLLIN, .data.ptr = &g_listen[i]};
		epoll_ctl(g_ep, EPOLL_CTL_MOD, g_listen[i].fd, &e);
	}
	g_paused = pause;
}

/* `reset`: the client gets a reset, as from a closed port (no backend at all). */
static void conn_free(struct conn *c, int reset)
{
	duplex_close(&c->x, reset);
	free(c->early);
	c->early = NULL;
	c->dead = 1;
	c->next_dead = g_dead;
	g_dead = c;
	g_nconns--;
	listeners_pause(g_nconns >= g_max_conns);
}

/* The generic interest (splice.c), but while the client's bytes are kept they are read into
 * `early` and written from it. */
static void rearm(struct conn *c)
{
	struct duplex *x = &c->x;
	unsigned w0 = duplex_want(x, 0), w1 = duplex_want(x, 1);
	if (c->kept && !x->connecting) {
		w0 = (w0 & ~(unsigned)EPOLLIN) | (!x->eof[0] && c->early_len < EARLY_MAX ? EPOLLIN : 0);
		if (c->early_sent < c->early_len)
			w1 |= EPOLLOUT;
	}
	duplex_arm(x, g_ep, 0, w0, &c->end[0]);
	duplex_arm(x, g_ep, 1, w1, &c->end[1]);
}

/* Connect the backend side to the next backend in rotation; -1 when none takes it. */
static int conn_connect(struct conn *c)
{
	for (int tries = 0; tries < g_nbe + 1; tries++) {
		int i = pick(c->tried, c->ntried);
		if (i < 0)
			return -1;
		if (c->ntried < MAX_TRIED)
			c->tried[c->ntried++] = g_be[i].port;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
		if (fd < 0)
			return -1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_be[i].port)};
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int r = connect(fd, (struct sockaddr *)&to, sizeof to);
		if (r < 0 && errno != EINPROGRESS) {
			close(fd);
			mark_down(g_be[i].port);
			continue;
		}
		c->x.fd[1] = fd;
		c->port = g_be[i].port;
		c->x.connecting = r < 0;
		c->x.ev[1] = 0;
		struct epoll_event e = {.events = 0, .data.ptr = &c->end[1]};
		epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &e);
		return 0;
	}
	return -1;
}

/*
 * The backend failed before answering: connect refused, or a reset (`down`: out of rotation for a
 * while), or closed after the client's first bytes (a replica killed with the request in flight:
 * its forwarder passes the close on). The client's bytes so far go to the next one. -1: no replay
 * possible, or no backend left.
 */
static int conn_retry(struct conn *c, int down)
{
	if (down)
		mark_down(c->port);
	if (c->answered || !c->kept || (!down && ++c->replays >= g_nbe))
		return -1;
	close(c->x.fd[1]);
	c->x.fd[1] = -1;
	c->retried_in = g_batch;
	c->early_sent = 0;
	c->x.eof[1] = c->x.done[0] = 0;
	return conn_connect(c);
}

static void on_accept(const struct listener *l)
{
	while (g_nconns < g_max_conns) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or out of fds: the next event tries again */
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		g_nconns++;
		listeners_pause(g_nconns >= g_max_conns);
		duplex_init(&c->x, fd, PIPE_BYTES);
		for (int d = 0; d < 2; d++) {
			c->end[d].c = c;
			c->end[d].side = d;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct epoll_event e = {.events = 0, .data.ptr = &c->end[0]};
		c->kept = 1;
		if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &e) < 0 || conn_connect(c) < 0) {
			conn_free(c, 1);
			continue;
		}
		rearm(c);
	}
}

/* Client -> backend while the client's first bytes are kept. */
static int pump_early(struct conn *c)
{
	if (!c->x.eof[0] && c->early_len < EARLY_MAX) {
		static char first[EARLY_MAX];
		char *to = c->early ? c->early + c->early_len : first;
		ssize_t n = read(c->x.fd[0], to, EARLY_MAX - c->early_len);
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (n == 0)
			c->x.eof[0] = 1;
		if (n > 0 && !c->early) {
			if (!(c->early = malloc(EARLY_MAX)))
				return -1;
			memcpy(c->early, first, (size_t)n);
		}
		if (n > 0)
			c->early_len += (size_t)n;
	}
	if (c->early_sent < c->early_len) {
		ssize_t n = send(c->x.fd[1], c->early + c->early_sent, c->early_len - c->early_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return -2; /* the backend's fault */
		if (n > 0)
			c->early_sent += (size_t)n;
	}
	if (c->x.eof[0] && c->early_sent == c->early_len && !c->x.done[0]) {
		shutdown(c->x.fd[1], SHUT_WR);
		c->x.done[0] = 1;
	}
	return 0;
}

/* Done with the kept bytes once all are sent and no replay can come (answered, or too many). */
static void early_release(struct conn *c)
{
	if (c->kept && c->early_sent == c->early_len && (c->answered || c->early_len == EARLY_MAX)) {
		free(c->early);
		c->early = NULL;
		c->kept = 0;
	}
}

/*
 * One step in direction d (splice.c). -1 on a hard error, -2 on a backend error before it
 * answered, -3 on its close before it answered (a replay may help).
 */
static int pump(struct conn *c, int d)
{
	if (d == 0 && c->kept) {
		int r = pump_early(c);
		early_release(c);
		return r;
	}
	ssize_t n = duplex_fill(&c->x, d);
	if (d == 1 && !c->answered) {
		if (n == -1)
			return -2;
		/* Closed without a word, after the client spoke or before it could: a replica that died
		 * under the request (a client that closed first gets the close it asked for). */
		if (n == 0 && c->kept && (c->early_len > 0 || !c->x.eof[0]) && c->replays + 1 < g_nbe)
			return -3;
		if (n > 0) {
			c->answered = 1;
			early_release(c);
		}
	} else if (n == -1) {
		return -1;
	}
	return duplex_drain(&c->x, d);
}

/* Readable (or hung up) side s feeds direction s; writable side s drains direction 1-s. */
static void on_ready(struct end *e, unsigned events)
{
	struct conn *c = e->c;
	int s = e->side;
	/* A backend event of this batch after a replay is the replaced socket's; the new one's come later. */
	if (c->dead || (s == 1 && c->retried_in == g_batch))
		return;
	if (c->x.connecting) {
		if (s != 1)
			return;
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		if (getsockopt(c->x.fd[1], SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			if (conn_retry(c, 1) < 0)
				conn_free(c, 1);
			else
				rearm(c);
			return;
		}
		if (getpeername(c->x.fd[1], (struct sockaddr *)&peer, &pl) < 0)
			return; /* still connecting */
		c->x.connecting = 0;
		rearm(c);
		return;
	}
	int r = 0;
	if (events & EPOLLERR)
		r = s == 1 && !c->answered ? -2 : -1;
	if (!r && (events & (EPOLLIN | EPOLLHUP)))
		r = pump(c, s);
	if (!r && (events & EPOLLOUT))
		r = pump(c, 1 - s);
	if (r == -2 || r == -3) {
		if (conn_retry(c, r == -2) < 0)
			conn_free(c, 1);
		else
			rearm(c);
		return;
	}
	if (r < 0 || (c->x.done[0] && c->x.done[1])) {
		conn_free(c, 0);
		return;
	}
	rearm(c);
}

/* ------------------------------------------------------------------ start-up */

struct bspec {
	char *listen_ip[MAX_LISTEN];
	int listen_port[MAX_LISTEN], listen_udp[MAX_LISTEN];
	int n;
	char *backends, *pid_file;
};

static int parse_spec(const char *path, struct bspec *s, char *err, size_t errsz)
{
	memset(s, 0, sizeof *s);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errsz, "open %s: %s", path, errstr(errno));
		return -1;
	}
	char line[PATH_MAX + 32];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *v = strchr(line, ' ');
		if (!line[0])
			continue;
		if (v)
			*v++ = 0;
		if (v && strcmp(line, "listen") == 0 && s->n < MAX_LISTEN) {
			char ip[64], proto[8] = "tcp";
			int port, nf = sscanf(v, "%63s %d %7s", ip, &port, proto);
			if (nf < 2 || port < 0 || port > 65535 || (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)) {
				snprintf(err, errsz, "%s: bad listen line \"%.64s\"", path, v);
				fclose(f);
				return -1;
			}
			s->listen_ip[s->n] = strdup(ip);
			s->listen_udp[s->n] = strcmp(proto, "udp") == 0;
			s->listen_port[s->n++] = port;
		} else if (v && v[0] == '/' && strcmp(line, "backends") == 0) {
			s->backends = strdup(v);
		} else if (v && v[0] == '/' && strcmp(line, "pid-file") == 0) {
			s->pid_file = strdup(v);
		} else {
			snprintf(err, errsz, "%s: bad line \"%.64s\"", path, line);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	if (!s->n || !s->backends || !s->pid_file) {
		snprintf(err, errsz, "%s: want listen, backends and pid-file", path);
		return -1;
	}
	return 0;
}

/* Bind every listen address; a port 0 becomes the first one's port, so twins share it. */
static int bind_all(struct bspec *s, int *port_out, char *err, size_t errsz)
{
	int chosen = 0;
	for (int i = 0; i < s->n; i++) {
		const char *ip = s->listen_ip[i];
		int port = s->listen_port[i] ? s->listen_port[i] : chosen;
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof ss);
		socklen_t len;
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		int v6 = 0;
		if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons((uint16_t)port);
			len = sizeof *a4;
		} else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons((uint16_t)port);
			len = sizeof *a6;
			v6 = 1;
		} else {
			snprintf(err, errsz, "bad listen address \"%s\"", ip);
			return -1;
		}
		int udp = s->listen_udp[i];
		int fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
		if (fd < 0) {
			snprintf(err, errsz, "socket for port %d: %s", port, errstr(errno));
			return -1;
		}
		/* Not for UDP: there SO_REUSEADDR would let another socket share the port. */
		if (!udp)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (v6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		/* Where each datagram was sent to: the reply leaves from there (balance-udp.c). */
		if (udp)
			setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVPKTINFO : IP_PKTINFO, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (!udp && listen(fd, 1024) < 0)) {
			/* docker's wording, as the CLI's own probe prints it (src/net/host-ports.ts) */
			const char *l = v6 ? "[" : "", *r = v6 ? "]" : "", *proto = udp ? "udp" : "tcp";
			snprintf(err, errsz, "failed to bind port %s%s%s:%d/%s: listen %s %s%s%s:%d: bind: %s", l, ip, r, port,
				 proto, proto, l, ip, r, port, errstr(errno));
			close(fd);
			return -1;
		}
		if (!chosen) {
			getsockname(fd, (struct sockaddr *)&ss, &len);
			chosen = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
		}
		g_listen[g_nlisten].udp = udp;
		g_listen[g_nlisten++].fd = fd;
	}
	*port_out = chosen;
	return 0;
}

static void cleanup_exit(int code)
{
	unlink(g_pid_path);
	_exit(code);
}

static void __attribute__((noreturn)) serve(void)
{
	struct epoll_event evs[64];
	long long next_check = now_ms() + CHECK_MS;
	for (;;) {
		long long left = next_check - now_ms();
		int n = epoll_wait(g_ep, evs, 64, left < 0 ? 0 : (int)left);
		g_batch++;
		if (n < 0 && errno != EINTR)
			cleanup_exit(1);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &g_sigfd) {
				cleanup_exit(0);
			} else if (p >= (void *)g_listen && p < (void *)(g_listen + g_nlisten)) {
				const struct listener *l = p;
				if (l->udp)
					udp_on_listener(l);
				else
					on_accept(l);
			} else if (udp_owns(p)) {
				udp_on_session(p);
			} else {
				on_ready(p, evs[i].events);
			}
		}
		int freed = g_dead != NULL;
		while (g_dead) {
			struct conn *c = g_dead;
			g_dead = c->next_dead;
			free(c);
		}
		if (freed && g_nconns == 0)
			malloc_trim(0); /* a burst's memory goes back once it is over */
		if (now_ms() >= next_check) {
			next_check = now_ms() + CHECK_MS;
			if (file_changed(g_backends_path, &g_bid)) {
				if (!g_bid.exists)
					cleanup_exit(0); /* whoever started us is done with us */
				load_backends();
			}
			check_health();
			udp_expire();
		}
	}
}

int cmd_balance(const char *specfile)
{
	char err[MSG_MAX], out[MSG_MAX + 32];
	ensure_stdio();
	syscall(SYS_close_range, 4U, ~0U, 0U);
	int sync = fcntl(3, F_SETFD, FD_CLOEXEC) == 0 ? 3 : -1;
	struct bspec s;
	int port = 0;
	if (parse_spec(specfile, &s, err, sizeof err) < 0 || bind_all(&s, &port, err, sizeof err) < 0) {
		snprintf(out, sizeof out, sync >= 0 ? "error %s\n" : "Error: balance: %s\n", err);
		write_all(sync >= 0 ? sync : 2, out, strlen(out));
		return EX_SETUP;
	}
	g_backends_path = s.backends;
	g_pid_path = s.pid_file;

	/* The balancer outlives the CLI: a session of its own; the parent passes its result on. */
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return EX_SETUP;
	pid_t child = fork();
	if (child < 0)
		return EX_SETUP;
	if (child > 0) {
		close(ready[1]);
		char buf[MSG_MAX + 32];
		ssize_t n = read(ready[0], buf, sizeof buf - 1);
		if (n <= 0)
			n = snprintf(buf, sizeof buf, "error the balancer died during start-up\n");
		buf[n] = 0;
		int ok = strncmp(buf, "ok ", 3) == 0;
		if (sync >= 0)
			write_all(sync, buf, (size_t)n);
		else if (!ok)
			dprintf(2, "Error: balance: %s", buf + 6);
		return ok ? 0 : EX_SETUP;
	}
	close(ready[0]);
	if (sync >= 0)
		close(sync);
	setsid();
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, "tsctr-balance", 0, 0, 0);
	const char *what = NULL;
	if (chdir("/") < 0)
		what = "chdir /";
	devnull_stdio(0);
	signal(SIGPIPE, SIG_IGN);

	/* Six descriptors a TCP connection, one a UDP session: as many as the hard limit allows, up to
	 * the caps (halves of it each when both kinds are listened on). */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	int tcp = 0, udp = 0;
	for (int i = 0; i < g_nlisten; i++)
		g_listen[i].udp ? udp++ : tcp++;
	long fds = getrlimit(RLIMIT_NOFILE, &nofile) == 0 ? (long)nofile.rlim_cur - 32 : 600;
	if (tcp && udp)
		fds /= 2;
	long room = fds / FDS_PER_CONN;
	g_max_conns = room < 1 ? 1 : room > MAX_CONNS ? MAX_CONNS : (int)room;
	udp_init(fds > INT_MAX ? INT_MAX : (int)fds);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	g_sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	g_ep = epoll_create1(EPOLL_CLOEXEC);
	if (!what && (g_sigfd < 0 || g_ep < 0))
		what = "epoll";
	if (!what) {
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = &g_sigfd};
		epoll_ctl(g_ep, EPOLL_CTL_ADD, g_sigfd, &e);
		for (int i = 0; i < g_nlisten; i++) {
			struct epoll_event le = {.events = EPOLLIN, .data.ptr = &g_listen[i]};
			epoll_ctl(g_ep, EPOLL_CTL_ADD, g_listen[i].fd, &le);
		}
		file_changed(g_backends_path, &g_bid);
		if (!g_bid.exists)
			what = "open the backends file";
		else
			load_backends();
		check_health();
	}
	char line[48];
	int n = pid_line(line, sizeof line, getpid());
	if (!what && write_file_atomic(g_pid_path, line, (size_t)n) < 0)
		what = "write the pid file";
	if (what) {
		n = snprintf(out, sizeof out, "error %s: %s\n", what, errstr(errno));
		write_all(ready[1], out, (size_t)n);
		_exit(EX_SETUP);
	}
	n = snprintf(out, sizeof out, "ok %d %d\n", (int)getpid(), port);
	write_all(ready[1], out, (size_t)n);
	close(ready[1]);
	serve();
}
