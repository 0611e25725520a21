/*
 * The network holder's requests on networks and attachments (see README.md, "Control protocol"):
 * every field validated, bridges, veths and addresses made with rtnetlink (netlink.c).
 */
#include "holder.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

struct hnet g_nets[MAX_NETS];
struct hatt *g_atts;
int g_nl = -1, g_selfns = -1;
unsigned g_vethseq;

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
void link_gone(int ifindex)
{
	for (struct hatt **pp = &g_atts; *pp;) {
		if ((*pp)->hostidx == ifindex)
			free_att(pp, 0);
		else
			pp = &(*pp)->next;
	}
}

/* After a lost notification: drop every attachment whose host end is no longer there. */
void recheck_links(void)
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

const char *reply_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(g_reply, 256, "error ");
	vsnprintf(g_reply + n, 1024, fmt, ap);
	va_end(ap);
	return g_reply;
}

const char *req_network(char **f, int n)
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

const char *req_netrm(char **f, int n)
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

/*
 * A container re-attached after its holder died may still hold that holder's veth end, with its
 * name and address: the kernel tears a dead network namespace down asynchronously, and until then
 * replies would leave by the dead interface. Such an interface goes first; one that a live
 * attachment of this holder owns is never touched.
 */
static void purge_stale(int nsfd, const char *id, const char *ifname, uint32_t ip)
{
	for (struct hatt *a = g_atts; a; a = a->next)
		if (strcmp(a->id, id) == 0 && strcmp(a->ifname, ifname) == 0)
			return;
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return;
	int fd = nl_open(0);
	if (fd >= 0) {
		int idx = (int)if_nametoindex(ifname);
		if (idx > 0)
			nl_link_del(fd, idx);
		int owner = nl_addr_owner(fd, ip);
		if (owner > 0)
			nl_link_del(fd, owner);
		close(fd);
	}
	if (setns(g_selfns, CLONE_NEWNET) < 0) {
		warnx("return to the holder's network namespace: %s", errstr(errno));
		_exit(1);
	}
}

const char *req_attach(char **f, int n, unsigned long long conn)
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
	purge_stale(nsfd, f[1], f[6], ip);
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
	at->conn = conn;
	at->next = g_atts;
	g_atts = at;
	snprintf(g_reply, REPLY_MAX, "ok %s", hostif);
	return g_reply;
}

const char *req_detach(char **f, int n)
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

const char *req_list(int n)
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

const char *req_nets(int n)
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

/* A monitor's connection closed: its container is gone, and so is what was attached over it. */
void detach_conn(unsigned long long serial)
{
	for (struct hatt **pp = &g_atts; *pp;) {
		if ((*pp)->conn == serial)
			free_att(pp, 1);
		else
			pp = &(*pp)->next;
	}
}
