/*
 * The two setup processes of a container.
 *
 *   monitor ──fork──> setup: user namespace (mapped by the monitor with newuidmap), the other
 *                     namespaces, root filesystem (fuse-overlayfs lives here, outside the pid ns)
 *                     ──clone(CLONE_PARENT)──> init: pid 1 of the new pid namespace; it is the
 *                     monitor's own child, so the monitor can wait for it directly.
 *
 * Both report on the SOCK_SEQPACKET `sock` (messages below); it is close-on-exec, so the monitor
 * seeing EOF without an error means the user's program was exec'ed.
 *   setup -> monitor  "U"              user namespace created, please write its id maps
 *   monitor -> setup  "G"              maps written (also: prestart hook done, to init)
 *   setup -> monitor  "P INIT FUSE"    host pids of the container init and of fuse-overlayfs (0)
 *   init -> monitor   "T" + fd         the pty master (SCM_RIGHTS)
 *   any -> monitor    "E CODE MESSAGE" failed; the sender exits with CODE
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int same_ns(int fd, const char *self)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The container's cgroup.procs, opened by the setup process before it left the host's namespaces:
 * the kernel checks a migration against the opener's credentials and cgroup namespace. */
static int g_cgroup_procs = -1;

/* --oom-score-adj: raising it needs no privilege; lowering below what we were given needs
 * CAP_SYS_RESOURCE on the host, which a rootless container never has: said, not ignored. */
static void set_oom_score_adj(const char *v)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, v, strlen(v)) < 0) {
		int e = errno;
		char cur[16] = "?";
		int r = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
		ssize_t n = r >= 0 ? read(r, cur, sizeof cur - 1) : -1;
		if (n > 0)
			cur[n - (cur[n - 1] == '\n')] = 0;
		errno = e;
		failsys(EX_SETUP, "--oom-score-adj %s: rootless, it can only be raised from your own (%s)", v, cur);
	}
	close(fd);
}

/* A namespace to join ("host" means: keep ours, join nothing), opened before any setns. */
static int open_ns(const char *what, const char *path)
{
	if (!path || strcmp(path, "host") == 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		failsys(EX_SETUP, "open %s namespace %s (is that container running?)", what, path);
	return fd;
}

static void container_init(const struct spec *s, const int stdio[3])
{
	int master = -1, slave = -1;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* die with a monitor that dies during setup */
	if (s->oom_score_adj)
		set_oom_score_adj(s->oom_score_adj);
	if (g_cgroup_procs >= 0) {
		/* Only the container's processes count against its limits: init joins, before anything
		 * else, so every process it starts is in; fuse-overlayfs, started earlier, is not. */
		if (write(g_cgroup_procs, "0", 1) < 0)
			failsys(EX_SETUP, "join the container's cgroup %s", s->cgroup);
		close(g_cgroup_procs);
		/* Its own cgroup namespace, rooted there: the container sees itself at "/". */
		if (unshare(CLONE_NEWCGROUP) < 0)
			failsys(EX_SETUP, "unshare cgroup namespace");
	}
	setup_mounts(s, &master, &slave);
	if (master >= 0) {
		if (msg_send(g_errfd, "T", master) < 0)
			failsys(EX_SETUP, "send pty master");
		close(master);
	}
	enter_rootfs(s->rootfs);
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		failsys(EX_SETUP, "sethostname %s", s->hostname);
	/* Own session: terminal signals of an attached monitor must not reach the container. */
	setsid();
	if (slave >= 0) {
		if (ioctl(slave, TIOCSCTTY, 0) < 0)
			failsys(EX_SETUP, "ioctl TIOCSCTTY");
		for (int fd = 0; fd < 3; fd++)
			dup2(slave, fd);
		close(slave);
	} else {
		int in = stdio[0];
		if (in < 0 && (in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			failsys(EX_SETUP, "open /dev/null");
		if (dup2(in, 0) < 0 || dup2(stdio[1], 1) < 0 || dup2(stdio[2], 2) < 0)
			failsys(EX_SETUP, "dup2 stdio");
	}
	setup_process(s, 1);
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	exec_program(s, spec_flag(s->init));
}

/* The container's first process, right after clone: re-executed from the sealed copy MFD with
 * what it needs as inherited descriptors (the spec is read again), it goes on in cmd_ctr_stage. */
static void __attribute__((noreturn)) exec_stage(int mfd, const int stdio[3])
{
	int fds[6] = {g_spec_fd, g_errfd, stdio[0], stdio[1], stdio[2], g_cgroup_procs};
	char num[6][16], *argv[9] = {"tsctr-shim", "ctr-stage"}, *envp[] = {NULL};
	for (int i = 0; i < 6; i++) {
		if (fds[i] >= 0 && fcntl(fds[i], F_SETFD, 0) < 0)
			failsys(EX_SETUP, "fcntl");
		snprintf(num[i], sizeof num[i], "%d", fds[i]);
		argv[2 + i] = num[i];
	}
	argv[8] = NULL;
	if (g_spec_fd < 0)
		fail(EX_SETUP, "the spec file is not open");
	syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
	failsys(EX_SETUP, "exec the container's first process from the sealed copy");
}

int cmd_ctr_stage(char **args)
{
	int v[6];
	for (int i = 0; i < 6; i++)
		v[i] = atoi(args[i]);
	g_errfd = v[1];
	fcntl(g_errfd, F_SETFD, FD_CLOEXEC);
	g_self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	g_cgroup_procs = v[5];
	if (g_cgroup_procs >= 0)
		fcntl(g_cgroup_procs, F_SETFD, FD_CLOEXEC);
	char path[32], err[MSG_MAX];
	snprintf(path, sizeof path, "/proc/self/fd/%d", v[0]);
	static struct spec s;
	if (spec_load(path, &s, err, sizeof err) < 0)
		fail(EX_SETUP, "%s", err);
	close(v[0]);
	int stdio[3] = {v[2], v[3], v[4]};
	container_init(&s, stdio);
	return EX_SETUP;
}

void container_setup_child(const struct spec *s, int sock, const int stdio[3])
{
	g_errfd = sock;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (s->cgroup) {
		char procs[PATH_MAX];
		snprintf(procs, sizeof procs, "%s/cgroup.procs", s->cgroup);
		if ((g_cgroup_procs = open(procs, O_WRONLY | O_CLOEXEC)) < 0)
			failsys(EX_SETUP, "open %s", procs);
	}

	const char *net = s->network ? s->network : "none";
	int newnet = strcmp(net, "none") == 0, netfd = -1, userfd = -1, in_userns = 0;
	if (strncmp(net, "netns:", 6) == 0) {
		if ((netfd = open(net + 6, O_RDONLY | O_CLOEXEC)) < 0)
			failsys(EX_SETUP, "open network namespace %s", net + 6);
	} else if (!newnet && strcmp(net, "host") != 0) {
		fail(EX_SETUP, "unknown network \"%s\"", net);
	}

	int ipcfd = open_ns("ipc", s->ipcns), pidfd = open_ns("pid", s->pidns);
	int shared = netfd >= 0 ? netfd : ipcfd >= 0 ? ipcfd : pidfd;
	if (s->userns) {
		if ((userfd = open(s->userns, O_RDONLY | O_CLOEXEC)) < 0)
			failsys(EX_SETUP, "open user namespace %s", s->userns);
	} else if (shared >= 0) {
		/* Joining a namespace needs CAP_SYS_ADMIN over its owner: another container's
		 * namespaces mean sharing that container's user namespace, as podman does. */
		userfd = ioctl(shared, NS_GET_USERNS);
		if (userfd >= 0 && same_ns(userfd, "/proc/self/ns/user")) {
			close(userfd);
			userfd = -1;
		}
	}
	if (userfd >= 0) {
		if (setns(userfd, CLONE_NEWUSER) < 0)
			failsys(EX_SETUP, "setns user namespace %s", s->userns ? s->userns : "of the network namespace");
		close(userfd);
		in_userns = 1;
	} else if (s->uidmap.n) {
		if (unshare(CLONE_NEWUSER) < 0)
			failsys(EX_SETUP, "unshare user namespace");
		char buf[8];
		if (msg_send(sock, "U", -1) < 0 || msg_recv(sock, buf, sizeof buf, NULL) <= 0 || buf[0] != 'G')
			_exit(EX_SETUP); /* the monitor reports what went wrong */
		in_userns = 1;
	}
	if (in_userns) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			failsys(EX_SETUP, "become root in the user namespace (is the user mapped to 0?)");
		setgroups(0, NULL); /* denied when setgroups is disabled: harmless */
		/* Under --userns keep-id or --uidmap the namespace's root is not the user, and
		 * changing uid made us non-dumpable: the monitor (the user) must still open our
		 * namespaces for its helpers. Nothing of the container runs yet; exec resets it. */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	}
	if (netfd >= 0) {
		if (setns(netfd, CLONE_NEWNET) < 0)
			failsys(EX_SETUP, "setns network namespace %s", net + 6);
		close(netfd);
	}
	if (ipcfd >= 0) {
		if (setns(ipcfd, CLONE_NEWIPC) < 0)
			failsys(EX_SETUP, "setns ipc namespace %s (a container shares namespaces with one user namespace only)", s->ipcns);
		close(ipcfd);
	}
	int newuts = !s->utsns, newipc = !s->ipcns;
	if (unshare(CLONE_NEWNS | (newuts ? CLONE_NEWUTS : 0) | (newipc ? CLONE_NEWIPC : 0) | (newnet ? CLONE_NEWNET : 0)) < 0)
		failsys(EX_SETUP, "unshare mount%s%s%s namespaces", newuts ? "/uts" : "", newipc ? "/ipc" : "", newnet ? "/net" : "");
	unshare(CLONE_NEWCGROUP); /* not everywhere permitted; optional like in runc rootless */
	if (newnet) {
		loopback_up();
		forward_start();
	}

	/* Before the pid namespace: our first child after unshare(CLONE_NEWPID) becomes its pid 1,
	 * and fuse-overlayfs must stay invisible and unkillable from inside. */
	pid_t fuse = mount_rootfs(s, in_userns);
	g_kill_on_fail = fuse;
	/* pivot_root re-roots every process of the mount namespace that shares the old root:
	 * fuse-overlayfs must keep its view of the host, so the container gets a copy. */
	if (fuse > 0 && unshare(CLONE_NEWNS) < 0)
		failsys(EX_SETUP, "unshare mount namespace");
	if (pidfd >= 0) {
		if (setns(pidfd, CLONE_NEWPID) < 0)
			failsys(EX_SETUP, "setns pid namespace %s (a container shares namespaces with one user namespace only)", s->pidns);
		close(pidfd);
	} else if (!s->pidns && unshare(CLONE_NEWPID) < 0) {
		failsys(EX_SETUP, "unshare pid namespace");
	}
	/* The first process runs from a sealed copy (main.c) from its first steps on: we run from
	 * the file. Until it has re-executed it is not dumpable (a container sharing the pid
	 * namespace must not open its /proc/PID/exe), and the monitor learns its pid only then. */
	int mfd = sealed_copy(), done[2];
	if (mfd < 0)
		failsys(EX_SETUP, "copy tsctr-shim into a sealed memfd");
	if (pipe2(done, O_CLOEXEC) < 0)
		failsys(EX_SETUP, "pipe");
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	pid_t init = (pid_t)syscall(SYS_clone, CLONE_PARENT, 0, 0, 0, 0);
	if (init < 0)
		failsys(EX_SETUP, "clone container init");
	if (init == 0) {
		g_kill_on_fail = 0;
		close(done[0]);
		exec_stage(mfd, stdio);
	}
	close(mfd);
	close(done[1]);
	char b;
	while (read(done[0], &b, 1) < 0 && errno == EINTR)
		;
	char msg[64];
	snprintf(msg, sizeof msg, "P %d %d", (int)init, (int)fuse);
	msg_send(sock, msg, -1);
	_exit(0);
}
