/*
 * `tsctr-shim netns-holder DIR`: the per-user network holder (see README.md, "Network holder").
 *
 * Rootless containers in sibling user namespaces cannot be wired together (a veth end can only be
 * moved into a netns whose owner we have CAP_NET_ADMIN over), so every container on a user network
 * joins ONE user namespace owned by this process. Here, in a network namespace of its own, each
 * user network is a bridge; each container gets a veth pair, one end on the bridge, the other in
 * the container's netns. The holder also answers the containers' DNS queries (dns.c).
 *
 * One process, one poll loop, no threads; requests come over DIR/control.sock (SOCK_SEQPACKET).
 */
#include "holder.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096 /* a monitor per container keeps one */
#define IDLE_MS 3000      /* after the last client and attachment */
#define UNUSED_MS 10000   /* after start, if nobody ever connects */

struct hnet g_nets[MAX_NETS];
struct hatt *g_atts;
union addr g_host_dns[MAX_DNS];
int g_host_ndns;
int g_up4 = -1, g_up6 = -1;

static struct conn {
	int fd;
	int hold;
	unsigned long long serial;
} g_conns[MAX_CONNS];
static int g_nconns;
static unsigned long long g_serial;
static int g_nl = -1, g_nlmon = -1, g_selfns = -1;
static char g_dir[sizeof(((struct sockaddr_un *)0)->sun_path) - 16]; /* + "/control.sock" */
static unsigned g_vethseq;

/* ------------------------------------------------------------------ validation */

static int valid_chars(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || !isalnum((unsigned char)s[0]))
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
			return 0;
	return 1;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	if (!*s || strlen(s) > 10)
		return -1;
	unsigned long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > max || (s[0] == '0' && s[1]))
		return -1;
	*out = v;
	return 0;
}

/* "A.B.C.D" strictly (inet_pton's own rules: four decimal parts, no leading zeros) */
static int parse_ip4(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (strlen(s) > 15 || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = a.s_addr;
	return 0;
}

/* "A.B.C.D/P" */
static int parse_cidr(const char *s, uint32_t *ip, int *prefix)
{
	char buf[24];
	const char *slash = strchr(s, '/');
	unsigned long p;
	if (!slash || (size_t)(slash - s) >= sizeof buf || parse_uint(slash + 1, 32, &p) < 0)
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = 0;
	if (parse_ip4(buf, ip) < 0)
		return -1;
	*prefix = (int)p;
	return 0;
}

static uint32_t mask_of(int prefix)
{
	return htonl(prefix ? 0xffffffffu << (32 - prefix) : 0);
}

/* An address for a host of the subnet: inside it, neither its network nor broadcast address. */
static int host_of(uint32_t ip, uint32_t subnet, int prefix)
{
	uint32_t m = mask_of(prefix);
	return (ip & m) == subnet && ip != subnet && (ip | m) != 0xffffffffu;
}

static int valid_ifname(const char *s)
{
	return valid_chars(s, IFNAMSIZ - 1, "_.-") && strcmp(s, "lo") != 0;
}

static int valid_id(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

/*
 * Names a container answers to: letters, digits, '_', '.', '-' (docker's container names and more);
 * one that is no valid DNS name ("a..b") is kept but can never match a query, as in docker,
 * rather than failing the container's start.
 */
static int valid_names(const char *s)
{
	if (strlen(s) > 4096)
		return 0;
	int count = 0;
	for (const char *p = s; *p;) {
		const char *e = strchrnul(p, ',');
		size_t n = (size_t)(e - p);
		if (n == 0 || n > 253 || ++count > 64)
			return 0;
		for (const char *c = p; c < e; c++)
			if (!isalnum((unsigned char)*c) && !strchr("_.-", *c))
				return 0;
		p = *e ? e + 1 : e;
		if (*e && !*p)
			return 0; /* trailing comma */
	}
	return 1;
}

static int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned v[6];
	char end;
	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]))
			return -1;
		mac[i] = (unsigned char)v[i];
	}
	/* unicast, not all zero */
	return (mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) ? -1 : 0;
}

/* "A.B.C.D", "A.B.C.D:PORT", "IPV6" or "[IPV6]:PORT" */
int parse_server(const char *s, union addr *out)
{
	char host[64];
	unsigned long port = 53;
	const char *ps = NULL;
	memset(out, 0, sizeof *out);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || (size_t)(rb - s - 1) >= sizeof host || (rb[1] && (rb[1] != ':' || !(ps = rb + 2))))
			return -1;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = 0;
	} else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
		const char *c = strchr(s, ':');
		if ((size_t)(c - s) >= sizeof host)
			return -1;
		memcpy(host, s, (size_t)(c - s));
		host[c - s] = 0;
		ps = c + 1;
	} else {
		if (strlen(s) >= sizeof host)
			return -1;
		strcpy(host, s);
	}
	if (ps && (parse_uint(ps, 65535, &port) < 0 || port == 0))
		return -1;
	if (inet_pton(AF_INET, host, &out->in.sin_addr) == 1) {
		out->in.sin_family = AF_INET;
		out->in.sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &out->in6.sin6_addr) == 1) {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -1;
}

/* Split LINE at TABs into at most MAX fields; returns the count. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	for (char *p = line;;) {
		if (n == max)
			return max + 1;
		f[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			return n;
		*t = 0;
		p = t + 1;
	}
}

/* ------------------------------------------------------------------ networks and attachments */

static int find_net(const char *name)
{
	for (int i = 0; i < MAX_NETS; i++)
		if (g_nets[i].used && strcmp(g_nets[i].name, name) == 0)
			return i;
	return -1;
}

static void fmt_ip(uint32_t ip, char out[16])
{
	inet_ntop(AF_INET, &ip, out, 16);
}

static void free_att(struct hatt **pp, int delete_link)
{
	struct hatt *a = *pp;
	if (delete_link && a->hostidx > 0)
		nl_link_del(g_nl, a->hostidx); /* the container's end goes with it; ENODEV: gone already */
	*pp = a->next;
	free(a->names);
	free(a);
}

static int count_atts(int net)
{
	int n = 0;
	for (struct hatt *a = g_atts; a; a = a->next)
		n += net < 0 || a->net == net;
	return n;
}

/* A link vanished: if it was a container's end, that container's netns is gone. */
static void link_gone(int ifindex)
{
	for (struct hatt **pp = &g_atts; *pp;) {
		if ((*pp)->hostidx == ifindex)
			free_att(pp, 0);
		else
			pp = &(*pp)->next;
	}
}

/* After a lost notification: drop every attachment whose host end is no longer there. */
static void recheck_links(void)
{
	for (struct hatt **pp = &g_atts; *pp;) {
		char name[IF_NAMESIZE];
		if (!if_indextoname((unsigned)(*pp)->hostidx, name) || strcmp(name, (*pp)->hostif) != 0)
			free_att(pp, 0);
		else
			pp = &(*pp)->next;
	}
}

#define REPLY_MAX 65536
static char g_reply[REPLY_MAX];

static const char *reply_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *reply_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(g_reply, 256, "error ");
	vsnprintf(g_reply + n, 1024, fmt, ap);
	va_end(ap);
	return g_reply;
}

static const char *req_network(char **f, int n)
{
	if (n != 6)
		return reply_err("network: want NAME BRIDGE SUBNET GATEWAY INTERNAL");
	uint32_t subnet, gw, m;
	int prefix;
	if (!valid_chars(f[1], 128, "_.-"))
		return reply_err("bad network name \"%.64s\"", f[1]);
	if (!valid_ifname(f[2]))
		return reply_err("bad bridge name \"%.32s\"", f[2]);
	if (parse_cidr(f[3], &subnet, &prefix) < 0 || prefix < 8 || prefix > 30 ||
	    (subnet & (m = mask_of(prefix))) != subnet)
		return reply_err("bad subnet \"%.32s\"", f[3]);
	if (parse_ip4(f[4], &gw) < 0 || !host_of(gw, subnet, prefix))
		return reply_err("bad gateway \"%.32s\" for subnet %s", f[4], f[3]);
	if (strcmp(f[5], "0") != 0 && strcmp(f[5], "1") != 0)
		return reply_err("bad internal flag \"%.8s\": want 0 or 1", f[5]);
	int internal = f[5][0] == '1';
	int free_slot = -1;
	for (int i = 0; i < MAX_NETS; i++) {
		struct hnet *h = &g_nets[i];
		if (!h->used) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (strcmp(h->name, f[1]) == 0) {
			if (strcmp(h->bridge, f[2]) == 0 && h->subnet == subnet && h->prefix == prefix &&
			    h->gw == gw && h->internal == internal)
				return "ok";
			return reply_err("network %s exists with other settings", f[1]);
		}
		if (strcmp(h->bridge, f[2]) == 0)
			return reply_err("bridge %s is network %s's", f[2], h->name);
		uint32_t common = mask_of(prefix < h->prefix ? prefix : h->prefix);
		if ((subnet & common) == (h->subnet & common))
			return reply_err("subnet %s overlaps network %s's", f[3], h->name);
	}
	if (free_slot < 0)
		return reply_err("too many networks (%d)", MAX_NETS);
	struct hnet *h = &g_nets[free_slot];
	unsigned char mac[6];
	if (getrandom(mac, sizeof mac, 0) != sizeof mac)
		return reply_err("getrandom: %s", errstr(errno));
	mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
	int r = nl_bridge_add(g_nl, f[2], mac);
	if (r < 0)
		return reply_err("create bridge %s: %s", f[2], errstr(-r));
	int idx = (int)if_nametoindex(f[2]), fd = -1;
	const char *what = "find bridge";
	if (idx <= 0)
		r = -errno;
	else if ((r = nl_addr_add(g_nl, idx, gw, prefix)) < 0)
		what = "add gateway address to bridge";
	else if ((r = nl_link_up(g_nl, idx, 0)) < 0)
		what = "bring up bridge";
	else if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		r = -errno;
		what = "DNS socket";
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53), .sin_addr = {gw}};
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			r = -errno;
			what = "bind DNS socket to port 53 of the gateway";
		}
	}
	if (r < 0) {
		int e = -r;
		if (fd >= 0)
			close(fd);
		if (idx > 0)
			nl_link_del(g_nl, idx);
		return reply_err("%s %s: %s", what, f[2], errstr(e));
	}
	memset(h, 0, sizeof *h);
	h->used = 1;
	snprintf(h->name, sizeof h->name, "%s", f[1]);
	snprintf(h->bridge, sizeof h->bridge, "%s", f[2]);
	h->subnet = subnet;
	h->prefix = prefix;
	h->gw = gw;
	h->internal = internal;
	h->ifindex = idx;
	h->dnsfd = fd;
	return "ok";
}

static const char *req_netrm(char **f, int n)
{
	if (n != 2)
		return reply_err("netrm: want NAME");
	int i = find_net(f[1]);
	if (i < 0)
		return reply_err("no such network: %.128s", f[1]);
	int k = count_atts(i);
	if (k)
		return reply_err("network %s has %d attached container%s", f[1], k, k == 1 ? "" : "s");
	dns_forget_net(i);
	close(g_nets[i].dnsfd);
	nl_link_del(g_nl, g_nets[i].ifindex);
	g_nets[i].used = 0;
	return "ok";
}

static void detach(const char *id, int net)
{
	for (struct hatt **pp = &g_atts; *pp;) {
		if (strcmp((*pp)->id, id) == 0 && (net < 0 || (*pp)->net == net))
			free_att(pp, 1);
		else
			pp = &(*pp)->next;
	}
}

/* In the netns NSFD: give IFNAME its address and bring it up. Returns 0 or -errno, *what set. */
static int configure_peer(int nsfd, const char *ifname, uint32_t ip, int prefix, const char **what)
{
	*what = "enter the container's network namespace";
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	/* A netlink socket stays in the namespace it was created in: one is all we need there. */
	int fd = nl_open(0), e = errno;
	int idx = fd >= 0 ? (int)if_nametoindex(ifname) : 0;
	if (fd >= 0 && idx <= 0)
		e = errno;
	if (setns(g_selfns, CLONE_NEWNET) < 0) {
		/* Serving from the wrong namespace would be worse than not serving. */
		warnx("return to the holder's network namespace: %s", errstr(errno));
		_exit(1);
	}
	int r;
	if (fd < 0 || idx <= 0) {
		*what = fd < 0 ? "netlink socket in the container" : "find the container's interface";
		r = -e;
	} else if ((r = nl_addr_add(fd, idx, ip, prefix)) < 0) {
		*what = "add the container's address";
	} else if ((r = nl_link_up(fd, idx, 0)) < 0) {
		*what = "bring up the container's interface";
	}
	if (fd >= 0)
		close(fd);
	return r;
}

static const char *req_attach(char **f, int n, struct conn *c)
{
	if (n != 9)
		return reply_err("attach: want ID PID NET IP/PREFIX MAC IFNAME NAMES DNS");
	unsigned long pid;
	uint32_t ip;
	int prefix;
	unsigned char mac[6];
	union addr dns[MAX_DNS];
	int ndns = 0;
	if (!valid_id(f[1]))
		return reply_err("bad container id \"%.80s\": want 64 hex digits", f[1]);
	if (parse_uint(f[2], INT_MAX, &pid) < 0 || pid < 2)
		return reply_err("bad pid \"%.16s\"", f[2]);
	int net = find_net(f[3]);
	if (net < 0)
		return reply_err("no such network: %.128s", f[3]);
	struct hnet *h = &g_nets[net];
	if (parse_cidr(f[4], &ip, &prefix) < 0 || prefix != h->prefix || !host_of(ip, h->subnet, prefix) || ip == h->gw)
		return reply_err("bad address \"%.32s\" for network %s", f[4], h->name);
	if (f[5][0] && parse_mac(f[5], mac) < 0)
		return reply_err("bad MAC address \"%.32s\"", f[5]);
	if (!valid_ifname(f[6]))
		return reply_err("bad interface name \"%.32s\"", f[6]);
	if (f[7][0] && !valid_names(f[7]))
		return reply_err("bad names \"%.128s\"", f[7]);
	for (char *p = f[8]; *p;) {
		char *e = strchrnul(p, ',');
		char one[80];
		if (ndns == MAX_DNS || (size_t)(e - p) >= sizeof one)
			return reply_err("bad DNS servers \"%.128s\"", f[8]);
		memcpy(one, p, (size_t)(e - p));
		one[e - p] = 0;
		if (parse_server(one, &dns[ndns++]) < 0)
			return reply_err("bad DNS server \"%s\"", one);
		p = *e ? e + 1 : e;
	}
	for (struct hatt *a = g_atts; a; a = a->next)
		if (a->net == net && a->ip == ip && strcmp(a->id, f[1]) != 0)
			return reply_err("address %.32s is in use on network %s", f[4], h->name);
	/* A restarted container is attached again: its old netns may not be torn down yet. */
	detach(f[1], net);

	char path[64];
	snprintf(path, sizeof path, "/proc/%lu/ns/net", pid);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return reply_err("open %s: %s", path, errstr(errno));
	struct stat a, b;
	if (fstat(nsfd, &a) < 0 || fstat(g_selfns, &b) < 0 || (a.st_dev == b.st_dev && a.st_ino == b.st_ino)) {
		close(nsfd);
		return reply_err("process %lu is not in a network namespace of its own", pid);
	}
	char hostif[IFNAMSIZ];
	do
		snprintf(hostif, sizeof hostif, "tv%08x", g_vethseq++);
	while (if_nametoindex(hostif) > 0);
	int r = nl_veth_add(g_nl, hostif, f[6], nsfd, f[5][0] ? mac : NULL);
	if (r < 0) {
		close(nsfd);
		return reply_err("create veth %s in the container's network namespace: %s", f[6], errstr(-r));
	}
	int hidx = (int)if_nametoindex(hostif);
	const char *what = "find the host end";
	r = hidx > 0 ? 0 : -errno;
	if (r == 0 && (r = nl_link_up(g_nl, hidx, h->ifindex)) < 0)
		what = "put the host end on the bridge";
	if (r == 0)
		r = configure_peer(nsfd, f[6], ip, prefix, &what);
	close(nsfd);
	if (r < 0) {
		if (hidx > 0)
			nl_link_del(g_nl, hidx);
		return reply_err("%s (%s): %s", what, f[6], errstr(-r));
	}
	struct hatt *at = calloc(1, sizeof *at);
	char *names = strdup(f[7]);
	if (!at || !names) {
		free(at);
		free(names);
		nl_link_del(g_nl, hidx);
		return reply_err("out of memory");
	}
	snprintf(at->id, sizeof at->id, "%s", f[1]);
	snprintf(at->ifname, sizeof at->ifname, "%s", f[6]);
	snprintf(at->hostif, sizeof at->hostif, "%s", hostif);
	at->net = net;
	at->ip = ip;
	at->prefix = prefix;
	at->hostidx = hidx;
	at->names = names;
	memcpy(at->dns, dns, sizeof dns);
	at->ndns = ndns;
	at->conn = c->hold ? c->serial : 0;
	at->next = g_atts;
	g_atts = at;
	snprintf(g_reply, REPLY_MAX, "ok %s", hostif);
	return g_reply;
}

static const char *req_detach(char **f, int n)
{
	if (n != 3)
		return reply_err("detach: want ID NET");
	if (!valid_id(f[1]))
		return reply_err("bad container id \"%.80s\": want 64 hex digits", f[1]);
	int net = -1;
	if (f[2][0] && (net = find_net(f[2])) < 0)
		return reply_err("no such network: %.128s", f[2]);
	detach(f[1], net);
	return "ok";
}

static const char *req_list(int n)
{
	if (n != 1)
		return reply_err("list takes no arguments");
	size_t len = (size_t)snprintf(g_reply, REPLY_MAX, "ok");
	for (struct hatt *a = g_atts; a; a = a->next) {
		char ip[16];
		fmt_ip(a->ip, ip);
		int k = snprintf(g_reply + len, REPLY_MAX - len, "\n%s %s %s %s %s", a->id, g_nets[a->net].name, ip,
				 a->names[0] ? a->names : "-", a->hostif);
		if (k < 0 || (size_t)k >= REPLY_MAX - len)
			return reply_err("list too long");
		len += (size_t)k;
	}
	return g_reply;
}

static const char *req_nets(int n)
{
	if (n != 1)
		return reply_err("nets takes no arguments");
	size_t len = (size_t)snprintf(g_reply, REPLY_MAX, "ok");
	for (int i = 0; i < MAX_NETS; i++) {
		struct hnet *h = &g_nets[i];
		if (!h->used)
			continue;
		char sub[16], gw[16];
		fmt_ip(h->subnet, sub);
		fmt_ip(h->gw, gw);
		int k = snprintf(g_reply + len, REPLY_MAX - len, "\n%s %s %s/%d %s %d", h->name, h->bridge, sub,
				 h->prefix, gw, h->internal);
		if (k < 0 || (size_t)k >= REPLY_MAX - len)
			return reply_err("list too long");
		len += (size_t)k;
	}
	return g_reply;
}

static const char *handle(char *msg, struct conn *c)
{
	char *f[12];
	int n = split(msg, f, 10);
	if (strcmp(f[0], "network") == 0)
		return req_network(f, n);
	if (strcmp(f[0], "netrm") == 0)
		return req_netrm(f, n);
	if (strcmp(f[0], "attach") == 0)
		return req_attach(f, n, c);
	if (strcmp(f[0], "detach") == 0)
		return req_detach(f, n);
	if (strcmp(f[0], "list") == 0)
		return req_list(n);
	if (strcmp(f[0], "nets") == 0)
		return req_nets(n);
	if (strcmp(f[0], "hold") == 0 && n == 1) {
		c->hold = 1;
		return "ok";
	}
	return reply_err("unknown request \"%.32s\"", f[0]);
}

static void close_conn(int i)
{
	struct conn *c = &g_conns[i];
	close(c->fd);
	if (c->hold) /* a monitor's: its container is gone */
		for (struct hatt **pp = &g_atts; *pp;) {
			if ((*pp)->conn == c->serial)
				free_att(pp, 1);
			else
				pp = &(*pp)->next;
		}
	g_conns[i] = g_conns[--g_nconns];
}

static void serve_conn(int i)
{
	static char msg[8192];
	ssize_t n;
	do
		n = recv(g_conns[i].fd, msg, sizeof msg - 1, MSG_TRUNC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		close_conn(i);
		return;
	}
	const char *reply;
	if ((size_t)n >= sizeof msg) {
		reply = reply_err("request too long");
	} else {
		msg[n] = 0;
		reply = strlen(msg) != (size_t)n ? reply_err("request holds a NUL byte") : handle(msg, &g_conns[i]);
	}
	if (send(g_conns[i].fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		close_conn(i);
}

static void accept_conns(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		/* The socket's mode already keeps others out; their uid would show as unmapped here. */
		struct ucred cr;
		socklen_t cl = sizeof cr;
		if (g_nconns == MAX_CONNS || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != getuid()) {
			close(fd);
			continue;
		}
		g_conns[g_nconns++] = (struct conn){.fd = fd, .serial = ++g_serial};
	}
}

/* ------------------------------------------------------------------ start-up */

static void read_resolv_conf(void)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f) && g_host_ndns < MAX_DNS) {
		char word[16], val[128];
		if (sscanf(line, "%15s %127s", word, val) != 2 || strcmp(word, "nameserver") != 0)
			continue;
		union addr *d = &g_host_dns[g_host_ndns];
		memset(d, 0, sizeof *d);
		if (inet_pton(AF_INET, val, &d->in.sin_addr) == 1) {
			d->in.sin_family = AF_INET;
			d->in.sin_port = htons(53);
			g_host_ndns++;
		} else if (inet_pton(AF_INET6, val, &d->in6.sin6_addr) == 1) { /* a zone (%eth0) fails */
			d->in6.sin6_family = AF_INET6;
			d->in6.sin6_port = htons(53);
			g_host_ndns++;
		}
	}
	fclose(f);
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void cleanup_files(void)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/control.sock", g_dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/holder.pid", g_dir);
	unlink(p);
}

static void __attribute__((noreturn)) serve(int lfd, int sigfd)
{
	static struct pollfd p[1 + MAX_CONNS + MAX_NETS + 4];
	int ever = 0;
	long long idle_since = now_ms();
	for (;;) {
		int k = 0;
		p[k++] = (struct pollfd){.fd = lfd, .events = POLLIN};
		p[k++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		p[k++] = (struct pollfd){.fd = g_nlmon, .events = POLLIN};
		p[k++] = (struct pollfd){.fd = g_up4, .events = POLLIN};
		p[k++] = (struct pollfd){.fd = g_up6, .events = POLLIN};
		int conn0 = k;
		for (int i = 0; i < g_nconns; i++)
			p[k++] = (struct pollfd){.fd = g_conns[i].fd, .events = POLLIN};
		int net0 = k;
		for (int i = 0; i < MAX_NETS; i++)
			p[k++] = (struct pollfd){.fd = g_nets[i].used ? g_nets[i].dnsfd : -1, .events = POLLIN};

		int timeout = dns_expire();
		if (g_nconns == 0 && !g_atts) {
			long long left = idle_since + (ever ? IDLE_MS : UNUSED_MS) - now_ms();
			if (left <= 0) {
				cleanup_files();
				_exit(0);
			}
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
		int r = poll(p, (nfds_t)k, timeout);
		if (r < 0 && errno != EINTR) {
			warnx("poll: %s", errstr(errno));
			cleanup_files();
			_exit(1);
		}
		if (r <= 0)
			continue;
		/* Idle counts from the moment the last client or attachment went, not from the last
		 * event before (which may be hours ago). */
		int busy = g_nconns || g_atts;
		if (p[1].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof si) == sizeof si) {
				cleanup_files();
				_exit(0); /* the netns goes, and every veth with it */
			}
		}
		if (p[2].revents && nl_read_dellinks(g_nlmon, link_gone) < 0)
			recheck_links();
		if (p[3].revents)
			dns_upstream(g_up4);
		if (p[4].revents)
			dns_upstream(g_up6);
		for (int i = 0; i < MAX_NETS; i++)
			if (p[net0 + i].revents && g_nets[i].used && g_nets[i].dnsfd == p[net0 + i].fd)
				dns_query(i);
		/* Backwards: close_conn moves the last connection into the closed one's slot. */
		for (int i = g_nconns - 1; i >= 0; i--)
			if (i < g_nconns && p[conn0 + i].fd == g_conns[i].fd && p[conn0 + i].revents)
				serve_conn(i);
		if (p[0].revents) {
			accept_conns(lfd);
			ever = 1;
		}
		ever |= g_nconns > 0;
		if (busy || g_nconns || g_atts)
			idle_since = now_ms();
	}
}

struct hargs {
	const char *dir, *join;
	struct spec maps; /* only uidmap/gidmap, for ns.c's map_ids */
};

static int add_map(struct strlist *l, char *v)
{
	char **nv = realloc(l->v, sizeof(char *) * (size_t)(l->n + 2));
	if (!nv)
		return -1;
	l->v = nv;
	l->v[l->n++] = v;
	l->v[l->n] = NULL;
	return 0;
}

static int parse_args(int argc, char **argv, struct hargs *a, char *err, size_t errsz)
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i];
		if ((strcmp(o, "--join-userns") == 0 || strcmp(o, "--uidmap") == 0 || strcmp(o, "--gidmap") == 0) && i + 1 == argc) {
			snprintf(err, errsz, "%s needs a value", o);
			return -1;
		}
		if (strcmp(o, "--join-userns") == 0)
			a->join = argv[++i];
		else if (strcmp(o, "--uidmap") == 0)
			add_map(&a->maps.uidmap, argv[++i]);
		else if (strcmp(o, "--gidmap") == 0)
			add_map(&a->maps.gidmap, argv[++i]);
		else if (o[0] == '/' && !a->dir)
			a->dir = o;
		else {
			snprintf(err, errsz, "unexpected argument \"%.64s\"", o);
			return -1;
		}
	}
	if (!a->dir || strlen(a->dir) >= sizeof g_dir) {
		snprintf(err, errsz, "want an absolute directory (of at most %d characters)", (int)sizeof g_dir - 1);
		return -1;
	}
	if (a->join && a->join[0] != '/') {
		snprintf(err, errsz, "--join-userns wants an absolute path");
		return -1;
	}
	if (!a->join && !a->maps.uidmap.n) {
		snprintf(err, errsz, "want --uidmap (and --gidmap), or --join-userns PATH");
		return -1;
	}
	return 0;
}

/* The launcher's side: map the holder's user namespace, pass its result on to fd 3. */
static int launcher(pid_t child, int sock, int sync, struct hargs *a)
{
	char buf[MSG_MAX + 16], out[MSG_MAX + 32];
	for (;;) {
		ssize_t n = msg_recv(sock, buf, sizeof buf, NULL);
		if (n <= 0) {
			snprintf(buf, sizeof buf, "E 125 network holder died during start-up");
			n = 1;
		}
		if (buf[0] == 'U') {
			char err[MSG_MAX];
			if (map_ids(child, &a->maps, err, sizeof err) < 0) {
				kill(child, SIGKILL);
				snprintf(buf, sizeof buf, "E 125 %s", err);
			} else {
				msg_send(sock, "G", -1);
				continue;
			}
		}
		if (strncmp(buf, "ok ", 3) == 0) {
			snprintf(out, sizeof out, "%s\n", buf);
			if (sync >= 0)
				write_all(sync, out, strlen(out));
			return 0;
		}
		const char *msg = buf[0] == 'E' && strchr(buf + 2, ' ') ? strchr(buf + 2, ' ') + 1 : buf;
		snprintf(out, sizeof out, sync >= 0 ? "error %s\n" : "Error: %s\n", msg);
		write_all(sync >= 0 ? sync : 2, out, strlen(out));
		waitpid(child, NULL, 0);
		return EX_SETUP;
	}
}

static int holder_stage2(char **argv) __attribute__((noreturn));

int cmd_netns_holder(int argc, char **argv)
{
	char err[MSG_MAX];
	struct hargs a;
	if (argc == 7 && strcmp(argv[0], "--stage2") == 0)
		return holder_stage2(argv + 1);
	ensure_stdio();
	syscall(SYS_close_range, 4U, ~0U, 0U);
	int sync = fcntl(3, F_SETFD, FD_CLOEXEC) == 0 ? 3 : -1;
	if (parse_args(argc, argv, &a, err, sizeof err) < 0) {
		char out[MSG_MAX + 32];
		snprintf(out, sizeof out, sync >= 0 ? "error %s\n" : "Error: netns-holder: %s\n", err);
		write_all(sync >= 0 ? sync : 2, out, strlen(out));
		return EX_SETUP;
	}
	snprintf(g_dir, sizeof g_dir, "%s", a.dir);
	/* Its sockets and pid file are trusted as the user's own: nobody else may write there. */
	struct stat st;
	const char *why = lstat(g_dir, &st) < 0 ? errstr(errno)
			  : !S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 022)
			      ? "not a directory of ours that only we may write to"
			      : NULL;
	if (why) {
		char out[MSG_MAX + PATH_MAX];
		snprintf(out, sizeof out, sync >= 0 ? "error %s: %s\n" : "Error: %s: %s\n", g_dir, why);
		write_all(sync >= 0 ? sync : 2, out, strlen(out));
		return EX_SETUP;
	}

	/* One holder per directory, for its whole life; the lock goes when it exits. */
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/holder.lock", g_dir);
	int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	const char *fail_what = NULL;
	if (lock < 0)
		fail_what = "open";
	else if (flock(lock, LOCK_EX | LOCK_NB) < 0)
		fail_what = errno == EWOULDBLOCK ? "lock (another holder is running)" : "lock";
	if (fail_what) {
		char out[MSG_MAX + PATH_MAX];
		snprintf(out, sizeof out, sync >= 0 ? "error %s %s: %s\n" : "Error: %s %s: %s\n", fail_what, path,
			 errno == EWOULDBLOCK ? "busy" : errstr(errno));
		write_all(sync >= 0 ? sync : 2, out, strlen(out));
		return EX_SETUP;
	}

	/* Still in the host's namespaces: the forwarder's sockets live here, as does the host's
	 * resolver (127.0.0.53 included), and the control socket's path. */
	g_up4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	g_up6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control.sock", g_dir);
	unlink(sa.sun_path);
	int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old = umask(0177);
	int bound = lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(lfd, 64) == 0;
	umask(old);
	if (!bound) {
		char out[MSG_MAX + 32];
		snprintf(out, sizeof out, sync >= 0 ? "error listen on %s: %s\n" : "Error: listen on %s: %s\n",
			 sa.sun_path, errstr(errno));
		write_all(sync >= 0 ? sync : 2, out, strlen(out));
		return EX_SETUP;
	}

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return EX_SETUP;
	pid_t child = fork();
	if (child < 0)
		return EX_SETUP;
	if (child > 0) {
		close(sv[1]);
		close(lfd);
		int rc = launcher(child, sv[0], sync, &a);
		if (rc)
			unlink(sa.sun_path);
		return rc;
	}

	/* The holder: outlives the CLI (no PDEATHSIG), in a session of its own. */
	close(sv[0]);
	if (sync >= 0)
		close(sync);
	g_errfd = sv[1]; /* fail() reports to the launcher */
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC); /* the sealed copy (main.c) */
	setsid();
	if (chdir("/") < 0) /* a daemon keeps no directory of the caller's busy */
		failsys(EX_SETUP, "chdir /");
	devnull_stdio(0);
	snprintf(path, sizeof path, "%s/holder.log", g_dir);
	int logfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (logfd >= 0) {
		dup2(logfd, 2);
		close(logfd);
	}
	if (a.join) {
		int ufd = open(a.join, O_RDONLY | O_CLOEXEC);
		if (ufd < 0)
			failsys(EX_SETUP, "open user namespace %s", a.join);
		if (setns(ufd, CLONE_NEWUSER) < 0)
			failsys(EX_SETUP, "setns user namespace %s", a.join);
		close(ufd);
	} else {
		if (unshare(CLONE_NEWUSER) < 0)
			failsys(EX_SETUP, "unshare user namespace");
		char buf[8];
		if (msg_send(sv[1], "U", -1) < 0 || msg_recv(sv[1], buf, sizeof buf, NULL) <= 0 || buf[0] != 'G')
			_exit(EX_SETUP);
	}
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		failsys(EX_SETUP, "become root in the user namespace (is the user mapped to 0?)");
	setgroups(0, NULL);
	/*
	 * Containers share this user namespace: nothing in them may read or trace us. Not dumpable
	 * alone would also keep the CLI and monitors from opening /proc/PID/ns/user, which they join:
	 * executing ourselves again here makes this namespace the owner of our memory, so whoever
	 * holds CAP_SYS_PTRACE over it (the user, not the containers) still may. Sealed copy again.
	 */
	int fds[] = {lfd, g_up4, g_up6, sv[1], lock};
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			fcntl(fds[i], F_SETFD, 0);
	char sfd[5][16], *args[] = {"tsctr-shim", "netns-holder", "--stage2", (char *)a.dir, sfd[0], sfd[1], sfd[2], sfd[3], sfd[4], NULL};
	for (int i = 0; i < 5; i++)
		snprintf(sfd[i], sizeof sfd[i], "%d", fds[i]);
	extern char **environ;
	syscall(SYS_execveat, self, "", args, environ, AT_EMPTY_PATH);
	failsys(EX_SETUP, "execute the holder in its user namespace");
}

/* `netns-holder --stage2 DIR LFD UP4 UP6 SYNC LOCK`: the holder, executed again inside its user ns. */
static int holder_stage2(char **argv)
{
	int lfd = atoi(argv[1]), sync = atoi(argv[4]);
	g_up4 = atoi(argv[2]);
	g_up6 = atoi(argv[3]);
	int fds[] = {lfd, g_up4, g_up6, sync, atoi(argv[5])};
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0 && fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
			_exit(EX_SETUP);
	g_errfd = sync;
	snprintf(g_dir, sizeof g_dir, "%s", argv[0]);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max; /* a connection per container */
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	read_resolv_conf(); /* still the host's mount namespace */
	char path[PATH_MAX];
	if (unshare(CLONE_NEWNET) < 0)
		failsys(EX_SETUP, "unshare network namespace");
	loopback_up();
	/* Isolation between networks rests on this: a new netns copies the host's IPv4 settings,
	 * and a docker host forwards. Nothing but a bridge's own ports may talk over it. */
	static const char *const fwd[] = {"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding",
					  "/proc/sys/net/ipv6/conf/default/forwarding"};
	for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) {
		int fd = open(fwd[i], O_WRONLY | O_CLOEXEC);
		if ((fd < 0 || write(fd, "0", 1) != 1) && (i == 0 || errno != ENOENT))
			failsys(EX_SETUP, "turn off forwarding: %s", fwd[i]);
		if (fd >= 0)
			close(fd);
	}
	if ((g_selfns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		failsys(EX_SETUP, "open /proc/self/ns/net");
	if ((g_nl = nl_open(0)) < 0 || (g_nlmon = nl_open(RTMGRP_LINK)) < 0)
		failsys(EX_SETUP, "netlink socket");
	/* Host-side veth names: a counter, started anywhere, so a new holder rarely meets old names. */
	if (getrandom(&g_vethseq, sizeof g_vethseq, 0) != sizeof g_vethseq)
		g_vethseq = (unsigned)getpid();
	g_vethseq &= 0x0fffffff;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	char line[48];
	int n = pid_line(line, sizeof line, getpid());
	snprintf(path, sizeof path, "%s/holder.pid", g_dir);
	if (write_file_atomic(path, line, (size_t)n) < 0)
		failsys(EX_SETUP, "write %s", path);
	char ok[32];
	snprintf(ok, sizeof ok, "ok %d", (int)getpid());
	msg_send(sync, ok, -1);
	close(sync);
	g_errfd = -1;
	serve(lfd, sigfd);
}
