/*
 * The balancer's UDP side (see README.md, "Load balancer"). UDP has no connections, so a session
 * stands for one: the first datagram from a client address (on a listener) picks the next backend
 * in rotation, round robin, and opens a socket connected to that replica's 127.0.0.1 port; the
 * client's later datagrams go through it, and what the replica sends back on it goes to the client
 * from the address and port the client sent to (IP_PKTINFO: on a 0.0.0.0 listener the reply must
 * not leave from another address of the host, or a connected client drops it).
 *
 * Sessions end as conntrack's do: 30 s idle while the backend never answered (nf_conntrack's
 * udp_timeout), 120 s once it did (udp_timeout_stream); at once when the backend is gone (ICMP
 * port unreachable on the connected socket: it also leaves the rotation for a while); and a
 * session whose backend left the rotation moves to another at the client's next datagram (no
 * state is lost that UDP kept). The table is bounded (MAX_SESSIONS and the fd limit, one
 * descriptor a session): when full, the least recently used session that never had an answer
 * goes first, so a flood of source addresses (one datagram each, spoofed or not) cannot push out
 * the clients that are being answered; only when every session has been answered does the least
 * recently used one go.
 */
#include "balance.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SESSIONS 4096
#define HASH_BUCKETS 8192 /* a power of two, twice the sessions */
#define IDLE_MS 30000
#define ANSWERED_IDLE_MS 120000
#define BATCH 64 /* datagrams read per event, so one busy socket cannot starve the rest */

union addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* In .bss: pages no session touched cost no memory. */
static struct session {
	int fd; /* connected to the backend; -1: a free slot */
	int port;
	int listener;
	int answered;
	union addr peer;
	socklen_t plen;
	union {
		struct in_pktinfo v4;
		struct in6_pktinfo v6;
	} local; /* where the client sent to: the replies' source */
	int has_local;
	long long last;
	int hnext;      /* the next in its hash bucket */
	int prev, next; /* its LRU list (by `answered`), oldest first */
} g_sess[MAX_SESSIONS];

/* Untouched until used, like the sessions: a bucket holds its first session's index + 1 (0: empty). */
static int g_bucket[HASH_BUCKETS];
static int g_free = -1; /* slots given back, chained through hnext */
static int g_top;       /* slots from here on were never used */
static int g_head[2] = {-1, -1}, g_tail[2] = {-1, -1};
static int g_nsess, g_max_sess;
static unsigned char g_dgram[65536]; /* a datagram is at most 65,535 bytes */

void udp_init(int max_sessions)
{
	g_max_sess = max_sessions < 1 ? 1 : max_sessions > MAX_SESSIONS ? MAX_SESSIONS : max_sessions;
}

int udp_owns(const void *p)
{
	return p >= (const void *)g_sess && p < (const void *)(g_sess + MAX_SESSIONS);
}

/* FNV-1a over the listener and the client's address and port. */
static unsigned hash_of(int listener, const union addr *a)
{
	const unsigned char *b;
	size_t n;
	unsigned h = 2166136261u ^ (unsigned)listener;
	if (a->sa.sa_family == AF_INET6) {
		b = (const unsigned char *)&a->v6.sin6_addr;
		n = sizeof a->v6.sin6_addr;
		h = (h ^ a->v6.sin6_port) * 16777619u;
	} else {
		b = (const unsigned char *)&a->v4.sin_addr;
		n = sizeof a->v4.sin_addr;
		h = (h ^ a->v4.sin_port) * 16777619u;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h & (HASH_BUCKETS - 1);
}

static int same_peer(const struct session *s, int listener, const union addr *a)
{
	if (s->listener != listener || s->peer.sa.sa_family != a->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET6)
		return s->peer.v6.sin6_port == a->v6.sin6_port &&
		       memcmp(&s->peer.v6.sin6_addr, &a->v6.sin6_addr, sizeof a->v6.sin6_addr) == 0 &&
		       s->peer.v6.sin6_scope_id == a->v6.sin6_scope_id;
	return s->peer.v4.sin_port == a->v4.sin_port && s->peer.v4.sin_addr.s_addr == a->v4.sin_addr.s_addr;
}

static void lru_unlink(int i)
{
	struct session *s = &g_sess[i];
	int k = s->answered;
	if (s->prev >= 0)
		g_sess[s->prev].next = s->next;
	else
		g_head[k] = s->next;
	if (s->next >= 0)
		g_sess[s->next].prev = s->prev;
	else
		g_tail[k] = s->prev;
}

static void lru_append(int i)
{
	struct session *s = &g_sess[i];
	int k = s->answered;
	s->prev = g_tail[k];
	s->next = -1;
	if (g_tail[k] >= 0)
		g_sess[g_tail[k]].next = i;
	else
		g_head[k] = i;
	g_tail[k] = i;
}

static void touch(int i)
{
	g_sess[i].last = now_ms();
	lru_unlink(i);
	lru_append(i);
}

static void session_close(int i)
{
	struct session *s = &g_sess[i];
	unsigned h = hash_of(s->listener, &s->peer);
	if (g_bucket[h] == i + 1)
		g_bucket[h] = s->hnext + 1;
	else
		for (int k = g_bucket[h] - 1; k >= 0; k = g_sess[k].hnext)
			if (g_sess[k].hnext == i) {
				g_sess[k].hnext = s->hnext;
				break;
			}
	lru_unlink(i);
	close(s->fd); /* also leaves the epoll set: nothing else holds it */
	s->fd = -1;
	s->hnext = g_free;
	g_free = i;
	g_nsess--;
}

static int lookup(int listener, const union addr *a)
{
	for (int i = g_bucket[hash_of(listener, a)] - 1; i >= 0; i = g_sess[i].hnext)
		if (same_peer(&g_sess[i], listener, a))
			return i;
	return -1;
}

/* A socket connected to the next backend in rotation; -1 if none takes it. */
static int connect_backend(int *port)
{
	int tried[8], ntried = 0;
	for (;;) {
		int b = pick(tried, ntried);
		if (b < 0)
			return -1;
		*port = backend_port(b);
		if (ntried < 8)
			tried[ntried++] = *port;
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)*port)};
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0)
			return fd;
		close(fd);
		mark_down(*port);
		if (ntried >= 8)
			return -1;
	}
}

/* The session for this client, made (or moved to a backend in rotation) as needed; -1 if none. */
static int session_for(int listener, const union addr *a, socklen_t alen)
{
	int i = lookup(listener, a);
	if (i >= 0 && port_in_rotation(g_sess[i].port))
		return i;
	if (i >= 0)
		session_close(i);
	if (g_nsess >= g_max_sess)
		session_close(g_head[0] >= 0 ? g_head[0] : g_head[1]);
	int port, fd = connect_backend(&port);
	if (fd < 0)
		return -1;
	if (g_free >= 0) {
		i = g_free;
		g_free = g_sess[i].hnext;
	} else {
		i = g_top++;
	}
	struct session *s = &g_sess[i];
	g_nsess++;
	s->fd = fd;
	s->port = port;
	s->listener = listener;
	s->answered = 0;
	s->peer = *a;
	s->plen = alen;
	s->has_local = 0;
	unsigned h = hash_of(listener, a);
	s->hnext = g_bucket[h] - 1;
	g_bucket[h] = i + 1;
	s->last = now_ms();
	lru_append(i);
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = s};
	if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		session_close(i);
		return -1;
	}
	return i;
}

/* Where the client sent its datagram, from the control message; 0 if not given. */
static int local_of(struct msghdr *m, struct session *s)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			memset(&s->local.v4, 0, sizeof s->local.v4);
			s->local.v4.ipi_spec_dst = pi.ipi_addr; /* the address the client sent to */
			return 1;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			memcpy(&s->local.v6, CMSG_DATA(c), sizeof s->local.v6);
			return 1;
		}
	}
	return 0;
}

/* Client -> backend: each datagram through its session's socket. */
void udp_on_listener(const struct listener *l)
{
	int li = (int)(l - g_listen);
	for (int k = 0; k < BATCH; k++) {
		union addr a;
		union {
			char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {.iov_base = g_dgram, .iov_len = sizeof g_dgram};
		struct msghdr m = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
		ssize_t n = recvmsg(l->fd, &m, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue; /* an ICMP error queued on the listener: nothing of ours */
		}
		if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (a.sa.sa_family != AF_INET && a.sa.sa_family != AF_INET6))
			continue;
		int i = session_for(li, &a, m.msg_namelen);
		if (i < 0)
			continue; /* no backend in rotation: dropped, as by a closed port */
		struct session *s = &g_sess[i];
		if (!s->has_local)
			s->has_local = local_of(&m, s);
		touch(i);
		if (send(s->fd, g_dgram, (size_t)n, MSG_DONTWAIT) < 0 && errno == ECONNREFUSED) {
			mark_down(s->port);
			session_close(i); /* the client's retry goes elsewhere */
		}
	}
}

static void reply(struct session *s, size_t n)
{
	const struct listener *l = &g_listen[s->listener];
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	struct iovec iov = {.iov_base = g_dgram, .iov_len = n};
	struct msghdr m = {.msg_name = &s->peer, .msg_namelen = s->plen, .msg_iov = &iov, .msg_iovlen = 1};
	if (s->has_local) {
		int v6 = s->peer.sa.sa_family == AF_INET6;
		size_t len = v6 ? sizeof s->local.v6 : sizeof s->local.v4;
		m.msg_control = ctl.buf;
		m.msg_controllen = CMSG_SPACE(len);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
		c->cmsg_type = v6 ? IPV6_PKTINFO : IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(len);
		memcpy(CMSG_DATA(c), &s->local, len);
	}
	/* A source the kernel will not send from (the client wrote to a broadcast address): the route's. */
	if (sendmsg(l->fd, &m, MSG_DONTWAIT) < 0 && errno == EINVAL && s->has_local) {
		s->has_local = 0;
		m.msg_control = NULL;
		m.msg_controllen = 0;
		sendmsg(l->fd, &m, MSG_DONTWAIT);
	}
}

/* Backend -> client: the replica's answers, from the address and port the client sent to. */
void udp_on_session(void *p)
{
	struct session *s = p;
	int i = (int)(s - g_sess);
	for (int k = 0; k < BATCH && s->fd >= 0; k++) {
		ssize_t n = recv(s->fd, g_dgram, sizeof g_dgram, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				mark_down(s->port);
				session_close(i);
			}
			return;
		}
		if (!s->answered) {
			lru_unlink(i);
			s->answered = 1;
			lru_append(i);
		}
		touch(i);
		reply(s, (size_t)n);
	}
}

void udp_expire(void)
{
	long long now = now_ms();
	for (int k = 0; k < 2; k++) {
		long long idle = k ? ANSWERED_IDLE_MS : IDLE_MS;
		while (g_head[k] >= 0 && now - g_sess[g_head[k]].last > idle)
			session_close(g_head[k]);
	}
}
