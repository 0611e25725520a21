/* The network holder's shared state (holder.c) and its DNS responder (dns.c). See README.md. */
#ifndef TSCTR_HOLDER_H
#define TSCTR_HOLDER_H

#include "shim.h"

#include <netinet/in.h>
#include <sys/socket.h>

#define MAX_NETS 256
#define MAX_DNS 4

union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct hnet {
	int used;
	char name[129], bridge[16];
	uint32_t subnet, gw; /* network byte order */
	int prefix, internal, ifindex;
	int dnsfd; /* UDP GATEWAY:53 */
};

struct hatt {
	struct hatt *next;
	char id[65], ifname[16], hostif[16];
	int net; /* index into g_nets */
	uint32_t ip;
	int prefix, hostidx;
	char *names; /* comma-separated, as given */
	union addr dns[MAX_DNS];
	int ndns;
	unsigned long long conn; /* serial of the `hold` connection it was made over, 0: none */
};

/* holder.c */
extern union addr g_host_dns[MAX_DNS];
extern int g_host_ndns;
extern int g_up4, g_up6; /* upstream sockets, in the host's network namespace */

/* netreq.c: the networks (by index) and the attachments */
extern struct hnet g_nets[MAX_NETS];
extern struct hatt *g_atts;

/* netreq.c: requests on networks and attachments; replies point to a static buffer */
extern int g_nl, g_selfns; /* rtnetlink socket and the holder's own netns */
extern unsigned g_vethseq; /* host-side veth names */
int parse_server(const char *s, union addr *out);
const char *reply_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *req_network(char **f, int n);
const char *req_netrm(char **f, int n);
const char *req_attach(char **f, int n, unsigned long long conn); /* conn: the hold connection, or 0 */
const char *req_detach(char **f, int n);
const char *req_list(int n);
const char *req_nets(int n);
void detach_conn(unsigned long long serial);
void link_gone(int ifindex);
void recheck_links(void);

/* dns.c */
void dns_query(int net);      /* g_nets[net].dnsfd is readable */
void dns_upstream(int fd);    /* an upstream socket is readable */
int dns_expire(void);         /* drop stale forwards; ms until the next may expire, -1: none */
void dns_forget_net(int net); /* the network is gone: drop its pending forwards */

/* netlink.c */
int nl_open(unsigned groups);
int nl_bridge_add(int fd, const char *name, const unsigned char *mac);
int nl_veth_add(int fd, const char *hostname, const char *peername, int nsfd, const unsigned char *mac);
int nl_link_up(int fd, int ifindex, int master);
int nl_link_del(int fd, int ifindex);
int nl_addr_add(int fd, int ifindex, uint32_t addr_be, int prefix);
int nl_addr_owner(int fd, uint32_t addr_be);
int nl_read_dellinks(int fd, void (*gone)(int ifindex));

#endif
