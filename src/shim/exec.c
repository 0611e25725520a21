/* `tsctr-shim exec`: run a process inside a running container's namespaces. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int g_sync = -1;

static int exec_error(int attach, int code, const char *msg)
{
	char line[MSG_MAX + 32];
	int had_sync = g_sync >= 0;
	if (had_sync) {
		int n = snprintf(line, sizeof line, "error %d %s\n", code, msg);
		write_all(g_sync, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
		close(g_sync);
		g_sync = -1;
	}
	if (attach || !had_sync) {
		int n = snprintf(line, sizeof line, "Error: %s\n", msg);
		write_all(2, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
	}
	return code;
}

static const struct {
	const char *name;
	int type;
} namespaces[] = {
	/* user first: it grants the capabilities needed to join the others. */
	{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
	{"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
};

int cmd_exec(const char *specfile, const char *probe_pid)
{
	struct spec s;
	char err[MSG_MAX];
	/* Before joining anything: the process forked into the container's pid namespace must not be
	 * open to the container (its /proc files, memory, environment and our descriptors) until it
	 * has exec'ed the user's program, which makes it dumpable again. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	ensure_stdio();
	syscall(SYS_close_range, 5U, ~0U, 0U);
	if (fcntl(3, F_SETFD, FD_CLOEXEC) == 0)
		g_sync = 3;
	fcntl(4, F_SETFD, FD_CLOEXEC); /* the resize pipe, if the spec says so (else closed below) */
	if (spec_load(specfile, &s, err, sizeof err) < 0)
		return exec_error(1, EX_SETUP, err);
	if (probe_pid) /* the monitor's health probe: the spec is fixed, the container's pid is not */
		s.pid = probe_pid;
	int ctl = spec_flag(s.resize_pipe) && !probe_pid && fcntl(4, F_GETFD) >= 0 ? 4 : -1;
	if (ctl < 0)
		close(4);
	int detach = spec_flag(s.detach), attach = !detach;
	int tty = spec_flag(s.tty) && !detach, want_stdin = spec_flag(s.stdin_) && !detach;
	if (!s.pid || atoi(s.pid) <= 0 || s.argv.n == 0)
		return exec_error(attach, EX_SETUP, "exec spec needs a pid and a command");

	/* Into the container's cgroup first, from the host's cgroup namespace: its limits hold for
	 * what exec starts too, as in docker. */
	if (s.cgroup) {
		char procs[PATH_MAX];
		snprintf(procs, sizeof procs, "%s/cgroup.procs", s.cgroup);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) < 0) {
			snprintf(err, sizeof err, "join the container's cgroup %s: %s", s.cgroup, errstr(errno));
			return exec_error(attach, EX_SETUP, err);
		}
		close(fd);
	}

	/* Open them all before joining any: after setns(mnt) /proc is the container's. */
	int fds[sizeof namespaces / sizeof namespaces[0]];
	for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++) {
		char path[64], self[64];
		snprintf(path, sizeof path, "/proc/%s/ns/%s", s.pid, namespaces[i].name);
		snprintf(self, sizeof self, "/proc/self/ns/%s", namespaces[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		struct stat a, b;
		if (fds[i] < 0) {
			if (errno == ENOENT && i > 0)
				continue; /* namespace type not supported by this kernel */
			snprintf(err, sizeof err, "open %s: %s (is the container running?)", path, errstr(errno));
			return exec_error(attach, EX_SETUP, err);
		}
		if (fstat(fds[i], &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++) {
		if (fds[i] >= 0 && setns(fds[i], namespaces[i].type) < 0) {
			snprintf(err, sizeof err, "setns %s namespace of pid %s: %s", namespaces[i].name, s.pid,
				 errstr(errno));
			return exec_error(attach, EX_SETUP, err);
		}
		if (fds[i] >= 0)
			close(fds[i]);
	}

	int master = -1, slave = -1, pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, sv[2];
	if (tty) {
		/* We are in the container's mount namespace: this is its devpts instance. */
		int unlock = 0;
		master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
		    (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
			snprintf(err, sizeof err, "allocate pty in the container: %s", errstr(errno));
			return exec_error(attach, EX_SETUP, err);
		}
		if (isatty(0))
			copy_winsize(0, master);
		else
			initial_winsize(master, s.winsize);
	} else if (!detach) {
		if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 ||
		    (want_stdin && pipe2(pin, O_CLOEXEC) < 0))
			return exec_error(attach, EX_SETUP, "pipe failed");
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return exec_error(attach, EX_SETUP, "socketpair failed");

	sigset_t set;
	relay_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	pid_t pid = fork(); /* the child lands in the container's pid namespace */
	if (pid < 0) {
		snprintf(err, sizeof err, "fork into the container: %s", errstr(errno));
		return exec_error(attach, EX_SETUP, err);
	}
	if (pid == 0) {
		g_errfd = sv[1];
		close(sv[0]);
		setsid();
		if (detach) {
			devnull_stdio(0);
		} else if (tty) {
			if (ioctl(slave, TIOCSCTTY, 0) < 0)
				failsys(EX_SETUP, "ioctl TIOCSCTTY");
			for (int fd = 0; fd < 3; fd++)
				dup2(slave, fd);
		} else {
			int in = pin[0] >= 0 ? pin[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (in < 0 || dup2(in, 0) < 0 || dup2(pout[1], 1) < 0 || dup2(perr[1], 2) < 0)
				failsys(EX_SETUP, "set up stdio");
		}
		setup_process(&s, 0);
		exec_program(&s, 0);
	}
	close(sv[1]);
	if (slave >= 0)
		close(slave);
	if (pin[0] >= 0)
		close(pin[0]);
	if (pout[1] >= 0)
		close(pout[1]);
	if (perr[1] >= 0)
		close(perr[1]);

	char buf[MSG_MAX + 16];
	ssize_t n = msg_recv(sv[0], buf, sizeof buf, NULL);
	close(sv[0]);
	if (n > 0 && buf[0] == 'E') {
		char *sp = strchr(buf + 2, ' ');
		int code = atoi(buf + 2);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return exec_error(attach, code > 0 ? code : EX_SETUP, sp ? sp + 1 : "exec failed");
	}
	if (g_sync >= 0) {
		char line[32];
		int m = snprintf(line, sizeof line, "ok %d\n", (int)pid);
		write_all(g_sync, line, (size_t)m);
		close(g_sync);
		g_sync = -1;
	}
	if (detach)
		return 0;

	if (tty && want_stdin && isatty(0))
		tty_raw(0);
	struct relay r = {
		.out = tty ? master : pout[0], .err = perr[0], .in = -1, .src = -1, .attach = 1,
		.log = NULL, .tty = tty, .forward = !tty, .sigfd = sigfd, .pid = pid, .term_kills = probe_pid != NULL,
		.lsock = -1, .ctl = tty ? ctl : -1,
	};
	if (want_stdin) {
		r.in = tty ? dup(master) : pin[1];
		r.src = 0;
	}
	relay_run(&r);
	tty_restore();
	return exit_code_of(r.status);
}
