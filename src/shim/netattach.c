/*
 * Clients of the network holder (see README.md): `tsctr-shim netns-ctl` (Node has no
 * SOCK_SEQPACKET), and the monitor's spec key `netattach`: once the container's namespaces
 * exist, ask the holder to wire the container into its user networks.
 *
 * The connection is kept for the monitor's whole life and announced with `hold`: when it closes
 * (the monitor ended, however it ended), the holder drops what was attached over it. It is
 * close-on-exec, so the container never gets it.
 */
#include "shim.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_HOLDERS 8

static struct {
	char path[108];
	int fd;
} g_holders[MAX_HOLDERS];
static int g_nholders;

/* Send REQ, wait (10 s at most) for the one reply. */
static int ask(int fd, const char *req, char *reply, size_t sz)
{
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int k;
	while ((k = poll(&p, 1, 10000)) < 0 && errno == EINTR)
		;
	if (k == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	ssize_t n = recv(fd, reply, sz - 1, 0);
	if (n <= 0) {
		if (n == 0)
			errno = ECONNRESET;
		return -1;
	}
	reply[n] = 0;
	return 0;
}

static int holder_conn(const char *path, int fresh, char *err, size_t errsz)
{
	int i;
	for (i = 0; i < g_nholders; i++)
		if (strcmp(g_holders[i].path, path) == 0)
			break;
	if (i < g_nholders && !fresh)
		return g_holders[i].fd;
	if (i == g_nholders) {
		if (i == MAX_HOLDERS || strlen(path) >= sizeof g_holders[i].path) {
			snprintf(err, errsz, "network holder %s: too many or too long", path);
			return -1;
		}
		snprintf(g_holders[i].path, sizeof g_holders[i].path, "%s", path);
		g_holders[i].fd = -1;
		g_nholders++;
	}
	if (g_holders[i].fd >= 0)
		close(g_holders[i].fd);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	char reply[256];
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || ask(fd, "hold", reply, sizeof reply) < 0) {
		snprintf(err, errsz, "connect to the network holder %s: %s", path, errstr(errno));
		if (fd >= 0)
			close(fd);
		g_holders[i].fd = -1;
		return -1;
	}
	return g_holders[i].fd = fd;
}

int netattach(const struct strlist *l, pid_t init, char *err, size_t errsz)
{
	char spid[16];
	snprintf(spid, sizeof spid, "%d", (int)init);
	for (int i = 0; i < l->n; i++) {
		const char *tab = strchr(l->v[i], '\t');
		char path[128], req[8192], reply[MSG_MAX];
		if (!tab || (size_t)(tab - l->v[i]) >= sizeof path) {
			snprintf(err, errsz, "bad netattach \"%.64s\": want SOCKETPATH<TAB>REQUEST", l->v[i]);
			return -1;
		}
		memcpy(path, l->v[i], (size_t)(tab - l->v[i]));
		path[tab - l->v[i]] = 0;
		/* Every "{pid}" becomes the container init's host pid. */
		size_t len = 0;
		for (const char *p = tab + 1; *p && len < sizeof req - 16;) {
			if (strncmp(p, "{pid}", 5) == 0) {
				len += (size_t)snprintf(req + len, sizeof req - len, "%s", spid);
				p += 5;
			} else {
				req[len++] = *p++;
			}
		}
		req[len] = 0;
		/* A restart may find the holder's connection broken (a new holder): connect again once. */
		int fd = holder_conn(path, 0, err, errsz), r = -1;
		for (int attempt = 0; fd >= 0 && attempt < 2; attempt++) {
			if ((r = ask(fd, req, reply, sizeof reply)) == 0 || attempt == 1)
				break;
			fd = holder_conn(path, 1, err, errsz);
		}
		if (fd < 0)
			return -1;
		if (r < 0) {
			snprintf(err, errsz, "network holder %s: %s", path, errstr(errno));
			return -1;
		}
		if (strncmp(reply, "ok", 2) != 0 || (reply[2] && reply[2] != ' ')) {
			snprintf(err, errsz, "%s", strncmp(reply, "error ", 6) == 0 ? reply + 6 : reply);
			return -1;
		}
	}
	return 0;
}

/*
 * `tsctr-shim netns-ctl SOCKET REQUEST...`: each request's reply to stdout, followed by a NUL.
 * The first `error` reply ends it: `Error: MESSAGE` on stderr, exit 125 (also when the holder is
 * not there: the message then starts with "connect to the network holder").
 */
int cmd_netns_ctl(int argc, char **argv)
{
	char err[MSG_MAX];
	static char reply[65536 + 1];
	if (argc < 2) {
		warnx("usage: netns-ctl SOCKET REQUEST...");
		return 2;
	}
	int fd = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(argv[0]) >= sizeof sa.sun_path) {
		snprintf(err, sizeof err, "connect to the network holder %s: %s", argv[0], errstr(ENAMETOOLONG));
		goto fail;
	}
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[0]);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(err, sizeof err, "connect to the network holder %s: %s", argv[0], errstr(errno));
		goto fail;
	}
	for (int i = 1; i < argc; i++) {
		if (ask(fd, argv[i], reply, sizeof reply) < 0) {
			snprintf(err, sizeof err, "network holder %s: %s", argv[0], errstr(errno));
			goto fail;
		}
		if (strncmp(reply, "ok", 2) != 0 || (reply[2] && reply[2] != ' ' && reply[2] != '\n')) {
			snprintf(err, sizeof err, "%.1000s", strncmp(reply, "error ", 6) == 0 ? reply + 6 : reply);
			goto fail;
		}
		if (write_all(1, reply, strlen(reply) + 1) < 0)
			return EX_SETUP;
	}
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	char out[MSG_MAX + 16];
	int n = snprintf(out, sizeof out, "Error: %s\n", err);
	write_all(2, out, (size_t)(n < (int)sizeof out ? n : (int)sizeof out - 1));
	return EX_SETUP;
}
