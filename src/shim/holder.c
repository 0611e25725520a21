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
 * This file: start-up and the loop; the requests are netreq.c's.
 */
#include "holder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
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
static int g_nlmon = -1;
static char g_dir[sizeof(((struct sockaddr_un *)0)->sun_path) - 16]; /* + "/control.sock" */
/* ------------------------------------------------------------------ control connections */

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

static const char *handle(char *msg, struct conn *c)
{
	char *f[12];
	int n = split(msg, f, 10);
	if (strcmp(f[0], "network") == 0)
		return req_network(f, n);
	if (strcmp(f[0], "netrm") == 0)
		return req_netrm(f, n);
	if (strcmp(f[0], "attach") == 0)
		return req_attach(f, n, c->hold ? c->serial : 0);
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
	if (c->hold)
		detach_conn(c->serial);
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
