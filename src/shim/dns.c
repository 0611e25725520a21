/*
 * The network holder's DNS responder: one UDP socket per user network, on GATEWAY:53.
 *
 * The query's source address says which container asks (its address on that network); it may
 * resolve the names of every container on every network it is attached to (docker's rule).
 * Other names go to the container's upstream servers (else the host's), through sockets opened
 * in the host's network namespace before the holder left it, with a fresh random query id.
 * Containers are not trusted: every packet is bounds-checked, anything odd is dropped.
 */
#include "holder.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define PKT_MAX 4096
#define PENDING_MAX 256
#define FORWARD_MS 5000

enum { RC_OK = 0, RC_FORMERR = 1, RC_SERVFAIL = 2, RC_NOTIMP = 4, RC_REFUSED = 5 };

static struct pend {
	int used, net, nservers, next;
	uint16_t newid, oldid;
	struct sockaddr_in client;
	long long deadline;
	union addr servers[MAX_DNS];
} g_pend[PENDING_MAX];

static unsigned g_rotate;

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* Does the comma-separated NAMES hold NAME (case-insensitively)? */
static int has_name(const char *names, const char *name, size_t len)
{
	for (const char *p = names; *p;) {
		const char *e = strchrnul(p, ',');
		if ((size_t)(e - p) == len && strncasecmp(p, name, len) == 0)
			return 1;
		p = *e ? e + 1 : e;
	}
	return 0;
}

/* Is network NET one of container ID's? */
static int on_net(const char *id, int net)
{
	for (struct hatt *a = g_atts; a; a = a->next)
		if (a->net == net && strcmp(a->id, id) == 0)
			return 1;
	return 0;
}

static void send_reply(int net, const struct sockaddr_in *to, unsigned char *pkt, size_t len)
{
	sendto(g_nets[net].dnsfd, pkt, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)to, sizeof *to);
}

/* A header-only answer (plus the question, if QEND) with RCODE. */
static void reply_code(int net, const struct sockaddr_in *to, unsigned char *q, size_t qend, int rcode)
{
	unsigned char out[PKT_MAX];
	size_t len = qend ? qend : 12;
	memcpy(out, q, len);
	put16(out + 2, 0x8000u | (get16(q + 2) & 0x7900u) /* opcode, RD */ | 0x0080u /* RA */ | (unsigned)rcode);
	put16(out + 4, qend ? 1 : 0);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	send_reply(net, to, out, len);
}

/* QEND: where the question ends, for a SERVFAIL that glibc's resolver will take as the answer. */
static void forward(int net, const struct hatt *who, const struct sockaddr_in *from, unsigned char *q, size_t len,
		    size_t qend)
{
	uint16_t oldid = get16(q);
	long long now = now_ms();
	/* The client asks again (its resolver's retry): try the next server, same forward. */
	for (int i = 0; i < PENDING_MAX; i++) {
		struct pend *p = &g_pend[i];
		if (p->used && p->net == net && p->oldid == oldid && p->client.sin_addr.s_addr == from->sin_addr.s_addr &&
		    p->client.sin_port == from->sin_port) {
			const union addr *s = &p->servers[p->next++ % p->nservers];
			put16(q, p->newid);
			sendto(s->sa.sa_family == AF_INET ? g_up4 : g_up6, q, len, MSG_DONTWAIT, &s->sa,
			       s->sa.sa_family == AF_INET ? sizeof s->in : sizeof s->in6);
			return;
		}
	}
	const union addr *servers = who->ndns ? who->dns : g_host_dns;
	int nservers = who->ndns ? who->ndns : g_host_ndns;
	int slot = -1;
	for (int i = 0; i < PENDING_MAX && slot < 0; i++)
		if (!g_pend[i].used)
			slot = i;
	if (!nservers || slot < 0) {
		reply_code(net, from, q, qend, RC_SERVFAIL);
		return;
	}
	uint16_t id;
	for (int tries = 0;; tries++) {
		if (getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id)
			id = (uint16_t)(now ^ (tries * 40503));
		int clash = 0;
		for (int i = 0; i < PENDING_MAX; i++)
			clash |= g_pend[i].used && g_pend[i].newid == id;
		if (!clash)
			break;
	}
	struct pend *p = &g_pend[slot];
	memset(p, 0, sizeof *p);
	p->used = 1;
	p->net = net;
	p->newid = id;
	p->oldid = oldid;
	p->client = *from;
	p->deadline = now + FORWARD_MS;
	p->nservers = nservers;
	memcpy(p->servers, servers, sizeof(union addr) * (size_t)nservers);
	p->next = 1;
	put16(q, id);
	int fd = servers[0].sa.sa_family == AF_INET ? g_up4 : g_up6;
	if (fd < 0 || sendto(fd, q, len, MSG_DONTWAIT, &servers[0].sa,
			     servers[0].sa.sa_family == AF_INET ? sizeof servers[0].in : sizeof servers[0].in6) < 0) {
		put16(q, oldid);
		p->used = 0;
		reply_code(net, from, q, qend, RC_SERVFAIL);
	}
}

/* "D.C.B.A.in-addr.arpa" -> A.B.C.D (network order) */
static int reverse_name(const char *name, size_t nl, uint32_t *ip)
{
	static const char suffix[] = ".in-addr.arpa";
	size_t sl = sizeof suffix - 1;
	if (nl <= sl || strncasecmp(name + nl - sl, suffix, sl) != 0)
		return 0;
	unsigned char b[4];
	int k = 0;
	const char *p = name, *end = name + nl - sl;
	while (k < 4 && p < end) {
		unsigned v = 0;
		const char *start = p;
		while (p < end && *p >= '0' && *p <= '9' && p - start < 3)
			v = v * 10 + (unsigned)(*p++ - '0');
		if (p == start || v > 255 || (p < end && *p != '.'))
			return 0;
		b[3 - k++] = (unsigned char)v;
		if (p < end)
			p++;
	}
	if (k != 4 || p != end)
		return 0;
	memcpy(ip, b, 4);
	return 1;
}

/*
 * A reverse lookup of a container's address on a network of the asker's: its first name (docker
 * answers these too). Returns 0 if not one of ours: the caller forwards it.
 */
static int answer_ptr(int net, const struct hatt *who, const struct sockaddr_in *from, unsigned char *q, size_t qend,
		      const char *name, size_t nl)
{
	uint32_t ip;
	if (!reverse_name(name, nl, &ip))
		return 0;
	const struct hatt *hit = NULL;
	for (int pass = 0; pass < 2 && !hit; pass++)
		for (const struct hatt *a = g_atts; a && !hit; a = a->next)
			if (a->ip == ip && a->names[0] && (pass == 0 ? a->net == net : on_net(who->id, a->net)))
				hit = a;
	if (!hit)
		return 0;
	unsigned char out[512], rdata[256];
	size_t rl = 0;
	/* The first name, as labels; one that is no valid DNS name is not answered with. */
	for (const char *p = hit->names; *p && *p != ',';) {
		const char *e = p;
		while (*e && *e != ',' && *e != '.')
			e++;
		size_t l = (size_t)(e - p);
		if (l == 0 || l > 63 || rl + l + 2 > sizeof rdata)
			return 0;
		rdata[rl++] = (unsigned char)l;
		memcpy(rdata + rl, p, l);
		rl += l;
		p = *e == '.' ? e + 1 : e;
	}
	rdata[rl++] = 0;
	if (qend + 12 + rl > sizeof out)
		return 0;
	memcpy(out, q, qend);
	put16(out + 2, 0x8000u | 0x0400u | (get16(q + 2) & 0x0100u) | 0x0080u);
	put16(out + 4, 1);
	put16(out + 6, 1);
	put16(out + 8, 0);
	put16(out + 10, 0);
	unsigned char *r = out + qend;
	put16(r, 0xc00c);
	put16(r + 2, 12); /* PTR */
	put16(r + 4, 1);
	memset(r + 6, 0, 4);
	put16(r + 10, (unsigned)rl);
	memcpy(r + 12, rdata, rl);
	send_reply(net, from, out, qend + 12 + rl);
	return 1;
}

void dns_query(int net)
{
	for (int budget = 64; budget > 0; budget--) {
		unsigned char q[PKT_MAX];
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(g_nets[net].dnsfd, q, sizeof q, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (n < 12 || (size_t)n > sizeof q || fl != sizeof from || from.sin_family != AF_INET)
			continue;
		size_t len = (size_t)n;
		unsigned flags = get16(q + 2);
		if (flags & 0x8000u)
			continue; /* a response: never answer those (no reflection loops) */
		if (((flags >> 11) & 0xf) != 0) {
			reply_code(net, &from, q, 0, RC_NOTIMP);
			continue;
		}
		if (get16(q + 4) != 1 || get16(q + 6) || get16(q + 8)) {
			reply_code(net, &from, q, 0, RC_FORMERR);
			continue;
		}
		/* The question: uncompressed labels, then type and class. */
		char name[256];
		size_t pos = 12, nl = 0;
		int bad = 0;
		for (;;) {
			if (pos >= len) {
				bad = 1;
				break;
			}
			unsigned l = q[pos++];
			if (l == 0)
				break;
			if (l > 63 || pos + l > len || nl + l + 1 > 254) {
				bad = 1;
				break;
			}
			if (nl)
				name[nl++] = '.';
			memcpy(name + nl, q + pos, l);
			nl += l;
			pos += l;
		}
		if (bad || pos + 4 > len) {
			reply_code(net, &from, q, 0, RC_FORMERR);
			continue;
		}
		name[nl] = 0;
		unsigned qtype = get16(q + pos), qclass = get16(q + pos + 2);
		size_t qend = pos + 4;

		/* Who asks: a container attached to this network, by its address here. */
		struct hatt *who = NULL;
		for (struct hatt *a = g_atts; a && !who; a = a->next)
			if (a->net == net && a->ip == from.sin_addr.s_addr)
				who = a;
		if (!who) {
			reply_code(net, &from, q, qend, RC_REFUSED);
			continue;
		}
		if (qclass == 1 && qtype == 12 && answer_ptr(net, who, &from, q, qend, name, nl))
			continue;
		/* Addresses on the network asked through come first; others only if it has none. */
		uint32_t ips[32];
		int nips = 0;
		for (int pass = 0; pass < 2 && !nips && nl; pass++)
			for (struct hatt *a = g_atts; a && nips < (int)(sizeof ips / sizeof ips[0]); a = a->next)
				if (has_name(a->names, name, nl) &&
				    (pass == 0 ? a->net == net : a->net != net && on_net(who->id, a->net)))
					ips[nips++] = a->ip;
		int found = nips > 0;
		if (!found) {
			int external = 0;
			for (struct hatt *a = g_atts; a; a = a->next)
				if (strcmp(a->id, who->id) == 0 && !g_nets[a->net].internal)
					external = 1;
			if (external)
				forward(net, who, &from, q, len, qend);
			else /* docker: a container only on internal networks resolves no outside name */
				reply_code(net, &from, q, qend, RC_REFUSED);
			continue;
		}
		unsigned char out[512];
		if (qend > sizeof out - 16) {
			reply_code(net, &from, q, qend, RC_SERVFAIL);
			continue;
		}
		memcpy(out, q, qend);
		int want = qclass == 1 && (qtype == 1 || qtype == 255);
		int nans = 0;
		size_t olen = qend;
		unsigned start = want && nips ? g_rotate++ % (unsigned)nips : 0;
		for (int i = 0; want && i < nips && olen + 16 <= sizeof out; i++, nans++) {
			uint32_t ip = ips[(start + (unsigned)i) % (unsigned)nips];
			unsigned char *r = out + olen;
			put16(r, 0xc00c); /* the name: a pointer to the question's */
			put16(r + 2, 1);  /* A */
			put16(r + 4, 1);  /* IN */
			memset(r + 6, 0, 4); /* TTL 0: containers come and go */
			put16(r + 10, 4);
			memcpy(r + 12, &ip, 4);
			olen += 16;
		}
		put16(out + 2, 0x8000u | 0x0400u /* AA */ | (flags & 0x0100u) | 0x0080u);
		put16(out + 4, 1);
		put16(out + 6, (unsigned)nans);
		put16(out + 8, 0);
		put16(out + 10, 0);
		send_reply(net, &from, out, olen);
	}
}

void dns_upstream(int fd)
{
	for (int budget = 64; budget > 0; budget--) {
		unsigned char r[PKT_MAX];
		union addr from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, r, sizeof r, MSG_DONTWAIT | MSG_TRUNC, &from.sa, &fl);
		if (n < 0)
			return;
		if (n < 12 || (size_t)n > sizeof r || !(get16(r + 2) & 0x8000u))
			continue;
		uint16_t id = get16(r);
		for (int i = 0; i < PENDING_MAX; i++) {
			struct pend *p = &g_pend[i];
			if (!p->used || p->newid != id)
				continue;
			/* Only from a server it was sent to: anyone else's packet is a guess. */
			int known = 0;
			for (int k = 0; k < p->nservers && !known; k++) {
				const union addr *s = &p->servers[k];
				if (s->sa.sa_family != from.sa.sa_family)
					continue;
				if (s->sa.sa_family == AF_INET)
					known = s->in.sin_port == from.in.sin_port && s->in.sin_addr.s_addr == from.in.sin_addr.s_addr;
				else
					known = s->in6.sin6_port == from.in6.sin6_port &&
						memcmp(&s->in6.sin6_addr, &from.in6.sin6_addr, sizeof s->in6.sin6_addr) == 0;
			}
			if (!known)
				break;
			put16(r, p->oldid);
			send_reply(p->net, &p->client, r, (size_t)n);
			p->used = 0;
			break;
		}
	}
}

int dns_expire(void)
{
	long long now = now_ms(), next = -1;
	for (int i = 0; i < PENDING_MAX; i++) {
		struct pend *p = &g_pend[i];
		if (!p->used)
			continue;
		if (p->deadline <= now)
			p->used = 0; /* the client's resolver has given up or retried by now */
		else if (next < 0 || p->deadline - now < next)
			next = p->deadline - now;
	}
	return (int)next;
}

void dns_forget_net(int net)
{
	for (int i = 0; i < PENDING_MAX; i++)
		if (g_pend[i].net == net)
			g_pend[i].used = 0;
}
