/*
 * rtnetlink, just what the network holder needs: bridges, veth pairs, addresses, link state.
 * Talking to the kernel directly keeps iproute2 off the list of things a host must have and
 * saves a fork+exec per step (an attach is four requests).
 */
#include "holder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

union nlreq {
	char buf[1040];
	struct nlmsghdr align;
};
#define H(r) ((struct nlmsghdr *)(void *)(r)->buf) /* the whole buffer, header first */

static uint32_t g_seq;

int nl_open(unsigned groups)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static struct rtattr *attr(struct nlmsghdr *h, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

/* Raw bytes (a nested header) at the end of the message. */
static void raw(struct nlmsghdr *h, const void *data, size_t len)
{
	memcpy((char *)h + NLMSG_ALIGN(h->nlmsg_len), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + NLMSG_ALIGN(len);
}

static struct rtattr *nest(struct nlmsghdr *h, int type)
{
	return attr(h, type, NULL, 0);
}

static void nest_end(struct nlmsghdr *h, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

/* Send one request and wait for its acknowledgement: 0 or -errno. */
static int talk(int fd, struct nlmsghdr *h)
{
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = ++g_seq;
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&to, sizeof to) < 0)
		return -errno;
	for (;;) {
		char buf[4096];
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (size_t)n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_seq != h->nlmsg_seq || r->nlmsg_type != NLMSG_ERROR)
				continue;
			if (r->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EPROTO;
			return ((struct nlmsgerr *)NLMSG_DATA(r))->error;
		}
	}
}

static struct ifinfomsg *link_msg(union nlreq *r, int type, int flags)
{
	memset(r, 0, sizeof *r);
	H(r)->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	H(r)->nlmsg_type = (unsigned short)type;
	H(r)->nlmsg_flags = (unsigned short)flags;
	struct ifinfomsg *i = NLMSG_DATA(H(r));
	i->ifi_family = AF_UNSPEC;
	return i;
}

int nl_bridge_add(int fd, const char *name, const unsigned char *mac)
{
	union nlreq r;
	link_msg(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	attr(H(&r), IFLA_IFNAME, name, strlen(name) + 1);
	/* A bridge without an address of its own takes its ports' lowest one, so the gateway's MAC
	 * would change as containers come and go, under the containers' ARP caches. */
	attr(H(&r), IFLA_ADDRESS, mac, 6);
	struct rtattr *li = nest(H(&r), IFLA_LINKINFO);
	attr(H(&r), IFLA_INFO_KIND, "bridge", 7);
	nest_end(H(&r), li);
	return talk(fd, H(&r));
}

/* A veth pair: HOSTNAME stays here, PEERNAME is created right in the netns NSFD, with MAC. */
int nl_veth_add(int fd, const char *hostname, const char *peername, int nsfd, const unsigned char *mac)
{
	union nlreq r;
	link_msg(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	attr(H(&r), IFLA_IFNAME, hostname, strlen(hostname) + 1);
	struct rtattr *li = nest(H(&r), IFLA_LINKINFO);
	attr(H(&r), IFLA_INFO_KIND, "veth", 5);
	struct rtattr *data = nest(H(&r), IFLA_INFO_DATA);
	struct rtattr *peer = nest(H(&r), VETH_INFO_PEER);
	struct ifinfomsg pi = {.ifi_family = AF_UNSPEC};
	/* The peer's attributes follow its own ifinfomsg inside the nest. */
	raw(H(&r), &pi, sizeof pi);
	attr(H(&r), IFLA_IFNAME, peername, strlen(peername) + 1);
	attr(H(&r), IFLA_NET_NS_FD, &nsfd, sizeof nsfd);
	if (mac)
		attr(H(&r), IFLA_ADDRESS, mac, 6);
	nest_end(H(&r), peer);
	nest_end(H(&r), data);
	nest_end(H(&r), li);
	return talk(fd, H(&r));
}

/* Bring a link up, optionally enslaving it to MASTER (ifindex, 0 = leave). */
int nl_link_up(int fd, int ifindex, int master)
{
	union nlreq r;
	struct ifinfomsg *i = link_msg(&r, RTM_NEWLINK, 0);
	i->ifi_index = ifindex;
	i->ifi_flags = IFF_UP;
	i->ifi_change = IFF_UP;
	if (master)
		attr(H(&r), IFLA_MASTER, &master, sizeof master);
	return talk(fd, H(&r));
}

int nl_link_del(int fd, int ifindex)
{
	union nlreq r;
	struct ifinfomsg *i = link_msg(&r, RTM_DELLINK, 0);
	i->ifi_index = ifindex;
	return talk(fd, H(&r));
}

int nl_addr_add(int fd, int ifindex, uint32_t addr_be, int prefix)
{
	union nlreq r;
	memset(&r, 0, sizeof r);
	H(&r)->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	H(&r)->nlmsg_type = RTM_NEWADDR;
	H(&r)->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	struct ifaddrmsg *a = NLMSG_DATA(H(&r));
	a->ifa_family = AF_INET;
	a->ifa_prefixlen = (unsigned char)prefix;
	a->ifa_index = (unsigned)ifindex;
	attr(H(&r), IFA_LOCAL, &addr_be, 4);
	attr(H(&r), IFA_ADDRESS, &addr_be, 4);
	if (prefix < 31) {
		uint32_t bcast = addr_be | htonl(prefix ? 0xffffffffu >> prefix : 0xffffffffu);
		attr(H(&r), IFA_BROADCAST, &bcast, 4);
	}
	return talk(fd, H(&r));
}

/* The index of a link holding the IPv4 address addr_be: 0 when none has it, or -errno. */
int nl_addr_owner(int fd, uint32_t addr_be)
{
	union nlreq r;
	memset(&r, 0, sizeof r);
	H(&r)->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	H(&r)->nlmsg_type = RTM_GETADDR;
	H(&r)->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	H(&r)->nlmsg_seq = ++g_seq;
	((struct ifaddrmsg *)NLMSG_DATA(H(&r)))->ifa_family = AF_INET;
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	if (sendto(fd, H(&r), H(&r)->nlmsg_len, 0, (struct sockaddr *)&to, sizeof to) < 0)
		return -errno;
	int found = 0;
	for (;;) {
		char buf[8192];
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != g_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return found;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EPROTO;
			if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
				continue;
			struct ifaddrmsg *a = NLMSG_DATA(h);
			int len = (int)IFA_PAYLOAD(h);
			for (struct rtattr *rt = IFA_RTA(a); RTA_OK(rt, len); rt = RTA_NEXT(rt, len))
				if (!found && rt->rta_type == IFA_LOCAL && RTA_PAYLOAD(rt) == 4 && memcmp(RTA_DATA(rt), &addr_be, 4) == 0)
					found = (int)a->ifa_index;
		}
	}
}

/*
 * Read link notifications (a socket from nl_open(RTMGRP_LINK)); calls gone(ifindex) for each link
 * deleted. Returns -1 when the socket overflowed (ENOBUFS): the caller must re-check everything.
 */
int nl_read_dellinks(int fd, void (*gone)(int ifindex))
{
	for (;;) {
		char buf[8192];
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0)
			return errno == ENOBUFS ? -1 : 0;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == RTM_DELLINK && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
				gone(((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index);
	}
}
