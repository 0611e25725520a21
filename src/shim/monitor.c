/* `tsctr-shim run`: create the container, then stay as its monitor (logs, exit code, restarts). */
#include "shim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int g_sync = -1;   /* fd 3 of the CLI */
static int g_report = -1; /* detached: pipe to the launcher, which waits for the start result */
static int g_attach;
static pid_t g_caller; /* attached: the CLI that waits for us */

struct ctr {
	pid_t setup, init, fuse;
	int out, err, in, master;
	int code;
	char msg[MSG_MAX];
};

static void report_line(const char *line)
{
	if (g_sync >= 0) {
		write_all(g_sync, line, strlen(line));
		close(g_sync);
		g_sync = -1;
	}
	if (g_report >= 0) {
		write_all(g_report, line, strlen(line));
		close(g_report);
		g_report = -1;
	}
}

static void report_error(int code, const char *msg)
{
	char line[MSG_MAX + 32];
	snprintf(line, sizeof line, "error %d %s\n", code, msg);
	for (char *p = line; p[1]; p++) /* one line, whatever the message holds */
		if (*p == '\n')
			*p = ' ';
	if (g_attach) {
		char out[MSG_MAX + 16];
		int n = snprintf(out, sizeof out, "Error: %s\n", msg);
		write_all(2, out, (size_t)(n < (int)sizeof out ? n : (int)sizeof out - 1));
	}
	report_line(line);
}

/* With the start time: a pid alone may name another process once this one is gone. */
static void write_pidfile(const char *path, pid_t pid)
{
	char buf[48];
	int n = pid_line(buf, sizeof buf, pid);
	if (path && write_file_atomic(path, buf, (size_t)n) < 0)
		warnx("write %s: %s", path, errstr(errno));
}

static void stop_fuse(pid_t *fuse)
{
	if (*fuse <= 0)
		return;
	/* The container is gone; fuse-overlayfs alone keeps its mount namespace alive. */
	kill(*fuse, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(*fuse, NULL, WNOHANG) != 0)
			goto done;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	kill(*fuse, SIGKILL);
	waitpid(*fuse, NULL, 0);
done:
	*fuse = 0;
}

/*
 * Helpers started for the container (pasta, which daemonizes from the prestart hook, or
 * slirp4netns) are orphans adopted by us as subreaper. They would outlive the container —
 * they hold its network namespace open — so once the container is gone, end them all.
 */
static int list_children(pid_t *kids, int max)
{
	pid_t self = getpid();
	int n = 0;
	/* One read of our children (the monitor has one thread), instead of every process on the
	 * host; /proc is walked only where the kernel lacks this file. */
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)self);
	int cfd = open(path, O_RDONLY | O_CLOEXEC);
	if (cfd >= 0) {
		ssize_t len = read(cfd, buf, sizeof buf - 1);
		close(cfd);
		if (len >= 0) {
			buf[len] = 0;
			for (char *p = buf, *end; n < max && (kids[n] = (pid_t)strtol(p, &end, 10)) > 0; p = end)
				n++;
			return n;
		}
	}
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		char *rp = strrchr(buf, ')');
		int ppid = 0;
		if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == self)
			kids[n++] = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return n;
}

static void stop_children(void)
{
	pid_t kids[256];
	int n = list_children(kids, 256);
	/* Network helpers keep no state worth a graceful exit (fuse-overlayfs was stopped gently
	 * before). Killed, they are not waited for: the kernel takes 15-30 ms to tear down a helper's
	 * tap device, which would add to every container's exit; whoever adopts them reaps them. */
	for (int i = 0; i < n; i++)
		if (kill(kids[i], SIGKILL) == 0)
			waitpid(kids[i], NULL, WNOHANG);
}

static int run_hook(const struct strlist *argv, pid_t init, char *err, size_t errsz)
{
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "fork prestart hook: %s", errstr(errno));
		return -1;
	}
	if (pid == 0) {
		char env[32];
		snprintf(env, sizeof env, "%d", (int)init);
		setenv("TSCTR_PID", env, 1);
		child_reset_signals();
		devnull_stdio(g_attach);
		execvp(argv->v[0], argv->v);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (st != 0) {
		snprintf(err, errsz, "prestart hook %s failed with exit status %d", argv->v[0], exit_code_of(st));
		return -1;
	}
	return 0;
}

/* ARG with its first "{pid}" replaced by PID (in the forked child: the copy is never freed). */
static char *with_pid(char *arg, const char *pid)
{
	char *at = strstr(arg, "{pid}");
	if (!at)
		return arg;
	size_t n = strlen(arg) + strlen(pid);
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%.*s%s%s", (int)(at - arg), arg, pid, at + 5);
	return out ? out : arg;
}

/*
 * Every process of ours beside the container (slirp4netns, tsctr-ports, pasta and fuse-overlayfs,
 * both adopted as subreaper), by pid and start time: if this monitor is SIGKILLed, `rm -f` ends
 * exactly these, and no stranger that got one of their pids later.
 */
static void write_helpers_file(const struct spec *s, const struct ctr *c)
{
	if (!s->helpers_file)
		return;
	pid_t kids[64];
	int n = list_children(kids, 64);
	char buf[64 * 48];
	size_t len = 0;
	for (int i = 0; i < n; i++)
		if (kids[i] != c->init && kids[i] != c->setup)
			len += (size_t)pid_line(buf + len, sizeof buf - len, kids[i]);
	if (write_file_atomic(s->helpers_file, buf, len) < 0)
		warnx("write %s: %s", s->helpers_file, errstr(errno));
}

/*
 * A helper that stays for the container's life (slirp4netns): started directly, with "{pid}" in
 * its arguments replaced by the container init's host pid; it reports readiness by writing a byte
 * to its fd 3. Exiting before that fails the start. It is ended like any child, by stop_children.
 */
static int start_helper(const struct strlist *argv, pid_t init, char *err, size_t errsz)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		snprintf(err, errsz, "pipe for %s: %s", argv->v[0], errstr(errno));
		return -1;
	}
	pid_t self = getpid(), pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "fork %s: %s", argv->v[0], errstr(errno));
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (pid == 0) {
		char spid[16], *args[64];
		snprintf(spid, sizeof spid, "%d", (int)init);
		int n = 0;
		for (; n < argv->n && n < 63; n++)
			args[n] = with_pid(argv->v[n], spid);
		args[n] = NULL;
		/* Dies with the monitor, even a SIGKILLed one (kept across execve). */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != self)
			_exit(127);
		child_reset_signals();
		devnull_stdio(0); /* slirp4netns chats on stdout and stderr */
		if (dup2(ready[1], 3) < 0)
			_exit(127);
		syscall(SYS_close_range, 4U, ~0U, 0U);
		execvp(args[0], args);
		_exit(127);
	}
	close(ready[1]);
	char b;
	ssize_t got;
	while ((got = read(ready[0], &b, 1)) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (got == 1)
		return 0;
	int st = 0;
	waitpid(pid, &st, 0);
	snprintf(err, errsz, "%s exited before it was ready (exit status %d)", argv->v[0], exit_code_of(st));
	return -1;
}

static void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The setup's "E CODE MESSAGE": the message into c->msg, the exit code returned. */
static int take_error(const char *buf, struct ctr *c)
{
	const char *sp = strchr(buf + 2, ' ');
	int code = atoi(buf + 2);
	snprintf(c->msg, sizeof c->msg, "%s", sp ? sp + 1 : "setup failed");
	return code > 0 ? code : EX_SETUP;
}

/*
 * A network helper fails when the container's setup fails under it (it lost its target): the
 * setup's own message, if one comes, says what really went wrong (a bad mount option, say).
 */
static void setup_error(int sock, struct ctr *c)
{
	for (;;) {
		struct pollfd p = {.fd = sock, .events = POLLIN};
		if (poll(&p, 1, 500) <= 0)
			return;
		char buf[MSG_MAX + 16];
		int fd = -1;
		ssize_t n = msg_recv(sock, buf, sizeof buf, &fd);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			return;
		if (buf[0] == 'E') {
			take_error(buf, c);
			return;
		}
	}
}

/* Create one instance of the container; returns 0, or an exit code with c->msg set. */
static int start_container(const struct spec *s, struct ctr *c)
{
	int sv[2], pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	int tty = spec_flag(s->tty);
	memset(c, 0, sizeof *c);
	c->out = c->err = c->in = c->master = -1;
	sv[0] = sv[1] = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (!tty && (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 ||
		      (spec_flag(s->stdin_) && pipe2(pin, O_CLOEXEC) < 0))) ||
	    (c->setup = fork()) < 0) {
		snprintf(c->msg, sizeof c->msg, "create container process: %s", errstr(errno));
		int *all[] = {&sv[0], &sv[1], &pin[0], &pin[1], &pout[0], &pout[1], &perr[0], &perr[1]};
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
			closefd(all[i]);
		return EX_SETUP;
	}
	if (c->setup == 0) {
		close(sv[0]);
		closefd(&pin[1]); /* or the container would never see EOF on stdin */
		closefd(&pout[0]);
		closefd(&perr[0]);
		int stdio[3] = {pin[0], pout[1], perr[1]};
		container_setup_child(s, sv[1], stdio);
	}
	close(sv[1]);
	closefd(&pin[0]);
	closefd(&pout[1]);
	closefd(&perr[1]);
	c->out = pout[0];
	c->err = perr[0];
	c->in = pin[1];

	int code = 0, got_p = 0;
	for (;;) {
		struct pollfd p = {.fd = sv[0], .events = POLLIN};
		int k = poll(&p, 1, 120000);
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0) {
			snprintf(c->msg, sizeof c->msg, "timed out setting up the container");
			code = EX_SETUP;
			break;
		}
		char buf[MSG_MAX + 16];
		int fd = -1;
		ssize_t n = msg_recv(sv[0], buf, sizeof buf, &fd);
		if (n <= 0)
			break; /* EOF: every holder exited or exec'ed */
		if (buf[0] == 'U') {
			if (map_ids(c->setup, s, c->msg, sizeof c->msg) < 0) {
				code = EX_SETUP;
				break;
			}
			msg_send(sv[0], "G", -1);
		} else if (buf[0] == 'P') {
			int init = 0, fuse = 0;
			sscanf(buf, "P %d %d", &init, &fuse);
			c->init = init;
			c->fuse = fuse;
			got_p = 1;
			if ((s->netattach.n && netattach(&s->netattach, c->init, c->msg, sizeof c->msg) < 0) ||
			    (s->prestart.n && run_hook(&s->prestart, c->init, c->msg, sizeof c->msg) < 0) ||
			    (s->helper.n && start_helper(&s->helper, c->init, c->msg, sizeof c->msg) < 0)) {
				code = EX_SETUP;
				setup_error(sv[0], c);
				break;
			}
			if (s->prestart.n || s->helper.n || s->netattach.n)
				msg_send(sv[0], "G", -1);
		} else if (buf[0] == 'T') {
			c->master = fd;
			if (g_attach)
				copy_winsize(0, fd);
			initial_winsize(fd, s->winsize);
		} else if (buf[0] == 'E') {
			code = take_error(buf, c);
			break;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	close(sv[0]);
	if (!code && !got_p) {
		int st = 0;
		waitpid(c->setup, &st, 0);
		c->setup = 0;
		snprintf(c->msg, sizeof c->msg, "container setup process died (%s %d)",
			 WIFSIGNALED(st) ? "signal" : "exit status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		code = EX_SETUP;
	}
	if (code) {
		/* Leave nothing behind: processes die, the mount namespace dies with them. */
		if (c->setup > 0)
			kill(c->setup, SIGKILL);
		if (c->init > 0)
			kill(c->init, SIGKILL);
		if (c->setup > 0)
			waitpid(c->setup, NULL, 0);
		if (c->init > 0)
			waitpid(c->init, NULL, 0);
		if (c->fuse > 0) {
			kill(c->fuse, SIGKILL);
			waitpid(c->fuse, NULL, 0);
		}
		closefd(&c->out);
		closefd(&c->err);
		closefd(&c->in);
		closefd(&c->master);
		return code;
	}
	waitpid(c->setup, NULL, 0);
	return 0;
}

enum policy { P_NO, P_ALWAYS, P_ON_FAILURE };

static void write_exit_file(const struct spec *s, int code)
{
	char buf[80], ts[48];
	fmt_rfc3339nano(ts);
	int n = snprintf(buf, sizeof buf, "%d %s\n", code, ts);
	if (s->exit_file && write_file_atomic(s->exit_file, buf, (size_t)n) < 0)
		warnx("write %s: %s", s->exit_file, errstr(errno));
}

static void run_exit_command(const struct spec *s)
{
	/* Attached, the CLI does what comes after the exit, unless it died (SIGKILL) meanwhile. */
	if (g_attach && getppid() == g_caller)
		return;
	if (!s->exit_command.n)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		child_reset_signals();
		devnull_stdio(g_attach);
		syscall(SYS_close_range, 3U, ~0U, 0U);
		execvp(s->exit_command.v[0], s->exit_command.v);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* Back-off sleep that a SIGTERM cuts short; returns 1 if we were told to stop. */
static int backoff(int sigfd, long ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	static struct pollfd p[1 + 512];
	p[0] = (struct pollfd){.fd = sigfd, .events = POLLIN};
	int n = 1 + forward_pollfds(p + 1, 512);
	for (;;) {
		/* The container is down: what connects to its published ports is reset, not kept waiting. */
		if (n > 1 && forward_refuse() < 0)
			n = 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
		if (poll(p, (nfds_t)n, (int)left) <= 0 || !(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		while (read(sigfd, &si, sizeof si) == sizeof si) {
			if (si.ssi_signo == SIGTERM)
				return 1;
			if (si.ssi_signo == SIGCHLD)
				while (waitpid(-1, NULL, WNOHANG) > 0)
					;
		}
	}
}

static int parse_restart(const char *r, int *max, char *err, size_t errsz)
{
	*max = 0;
	if (!r || !*r || strcmp(r, "no") == 0)
		return P_NO;
	if (strcmp(r, "always") == 0 || strcmp(r, "unless-stopped") == 0)
		return P_ALWAYS;
	if (strcmp(r, "on-failure") == 0)
		return P_ON_FAILURE;
	if (strncmp(r, "on-failure:", 11) == 0) {
		*max = atoi(r + 11);
		return P_ON_FAILURE;
	}
	snprintf(err, errsz, "unknown restart policy \"%s\"", r);
	return -1;
}

/*
 * `tsctr update --restart` writes the new policy to this file while the container runs: read at
 * each exit, so the change applies without a restart (as docker's does). Absent or unreadable:
 * the policy stays.
 */
static void reread_restart(const struct spec *s, int *policy, int *max)
{
	if (!s->restart_file)
		return;
	int fd = open(s->restart_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	char buf[64], err[MSG_MAX];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	int m, p = parse_restart(buf, &m, err, sizeof err);
	if (p >= 0) {
		*policy = p;
		*max = m;
	}
}

static void detach_from_caller(void)
{
	int lp[2];
	if (pipe2(lp, O_CLOEXEC) < 0) {
		report_error(EX_SETUP, "pipe failed");
		exit(EX_SETUP);
	}
	pid_t pid = fork();
	if (pid < 0) {
		report_error(EX_SETUP, "fork failed");
		exit(EX_SETUP);
	}
	if (pid > 0) {
		/* The launcher: wait for the start result, then let the CLI go on. */
		int had_sync = g_sync >= 0;
		close(lp[1]);
		if (had_sync)
			close(g_sync);
		char line[MSG_MAX + 32];
		size_t got = 0;
		ssize_t n;
		while (got < sizeof line - 1 && (n = read(lp[0], line + got, sizeof line - 1 - got)) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			got += (size_t)n;
		}
		line[got] = 0;
		if (strncmp(line, "ok ", 3) == 0)
			exit(0);
		int code = EX_SETUP;
		const char *msg = "container monitor died during startup";
		if (strncmp(line, "error ", 6) == 0) {
			char *sp;
			code = (int)strtol(line + 6, &sp, 10);
			msg = *sp == ' ' ? sp + 1 : sp;
		}
		if (!had_sync) {
			char out[MSG_MAX + 48];
			int m = snprintf(out, sizeof out, "Error: %s%s", msg, strchr(msg, '\n') ? "" : "\n");
			write_all(2, out, (size_t)(m < (int)sizeof out ? m : (int)sizeof out - 1));
		}
		exit(code > 0 ? code : EX_SETUP);
	}
	close(lp[0]);
	g_report = lp[1];
	setsid();
	devnull_stdio(0);
}

int cmd_run(const char *specfile)
{
	struct spec s;
	char err[MSG_MAX];
	ensure_stdio();
	syscall(SYS_close_range, 4U, ~0U, 0U);
	if (fcntl(3, F_SETFD, FD_CLOEXEC) == 0)
		g_sync = 3;
	/* Our executable (the file, not sealed: see main.c): what health probes are exec'ed from. */
	g_self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	/* Kept open: each start's first process reads this very spec again from its sealed copy. */
	g_spec_fd = open(specfile, O_RDONLY | O_CLOEXEC);

	if (spec_load(specfile, &s, err, sizeof err) < 0) {
		g_attach = 1;
		report_error(EX_SETUP, err);
		return EX_SETUP;
	}
	g_attach = spec_flag(s.attach);
	g_caller = getppid();
	int max_restarts, policy = parse_restart(s.restart, &max_restarts, err, sizeof err);
	uint64_t caps;
	if (policy < 0 || cap_parse(&s.caps, &caps, err, sizeof err) < 0) {
		report_error(EX_SETUP, err);
		return EX_SETUP;
	}
	if (!s.rootfs || s.rootfs[0] != '/' || s.argv.n == 0) {
		report_error(EX_SETUP, !s.argv.n ? "no command specified" : "spec needs an absolute rootfs");
		return EX_SETUP;
	}
	if (!g_attach)
		detach_from_caller();
	/* Bound once, here in the host's network namespace, for every start of the container. */
	if (forward_listen(&s.publish, err, sizeof err) < 0) {
		report_error(EX_SETUP, err);
		return EX_SETUP;
	}

	/* fuse-overlayfs is orphaned by the setup process: adopt it to be able to stop it. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (s.monitor_pid_file)
		write_pidfile(s.monitor_pid_file, getpid());
	struct logfile log;
	if (log_open(&log, &s, err, sizeof err) < 0) {
		report_error(EX_SETUP, err);
		return EX_SETUP;
	}
	sigset_t set;
	relay_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	int tty = spec_flag(s.tty), want_stdin = spec_flag(s.stdin_);
	/* run -a: the streams the caller attached (all by default) */
	const char *as = s.attach_streams;
	int a_in = !as || strstr(as, "stdin"), a_out = !as || strstr(as, "stdout"), a_err = !as || strstr(as, "stderr");
	health_init(&s);
	event_init(&s);
	if (g_attach && tty && want_stdin && a_in && isatty(0))
		tty_raw(0);
	/* Detached with -i: `tsctr attach` writes to the container's stdin through this socket; with a
	 * tty (attached too) it also takes the tty's size from clients (attach.c). */
	int lsock = s.attach_socket && (tty || (!g_attach && want_stdin)) ? attach_listen(s.attach_socket) : -1;

	int restarts = 0, code = 0, first = 1, stopping = 0;
	long delay = 100;
	for (;;) {
		struct ctr c;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int rc = start_container(&s, &c);
		if (rc && first) {
			stop_children();
			tty_restore();
			report_error(rc, c.msg);
			return rc;
		}
		if (rc) {
			warnx("restarting container %s: %s", s.id ? s.id : "", c.msg);
			code = rc;
		} else {
			write_pidfile(s.pid_file, c.init);
			write_helpers_file(&s, &c);
			event_append("start", NULL);
			if (first) {
				char line[32];
				snprintf(line, sizeof line, "ok %d\n", (int)c.init);
				report_line(line);
			}
			struct relay r = {
				.out = tty ? c.master : c.out, .err = c.err, .in = -1, .src = -1,
				.attach = g_attach, .no_out = !a_out, .no_err = !a_err, .log = &log, .tty = tty, .forward = g_attach && !tty,
				.sigfd = sigfd, .pid = c.init, .other = &c.fuse, .health = 1, .lsock = lsock, .ctl = -1,
			};
			health_start(c.init);
			if (want_stdin) {
				/* Detached, stdin stays open (never written) like `docker run -di`. */
				r.in = tty ? dup(c.master) : c.in;
				c.in = -1; /* the relay owns it now (and closes it at EOF) */
				r.src = g_attach && a_in ? 0 : -1;
			}
			relay_run(&r);
			health_stop();
			stopping |= r.got_term;
			closefd(&r.in);
			closefd(&c.in);
			stop_fuse(&c.fuse);
			stop_children();
			code = exit_code_of(r.status);
		}
		first = 0;
		write_exit_file(&s, code);
		if (!rc) {
			char extra[40];
			snprintf(extra, sizeof extra, "\"exitCode\":\"%d\"", code);
			event_append("die", extra);
		}
		reread_restart(&s, &policy, &max_restarts);
		if (stopping || policy == P_NO ||
		    (policy == P_ON_FAILURE && (code == 0 || (max_restarts && restarts >= max_restarts))))
			break;
		/* Docker's back-off: 100ms doubling to 1 min, reset after 10 s of uptime. */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec >= 10)
			delay = 100;
		if (backoff(sigfd, delay))
			break;
		delay = delay * 2 > 60000 ? 60000 : delay * 2;
		restarts++;
		if (s.restart_count_file) {
			char buf[24];
			int n = snprintf(buf, sizeof buf, "%d\n", restarts);
			if (write_file_atomic(s.restart_count_file, buf, (size_t)n) < 0)
				warnx("write %s: %s", s.restart_count_file, errstr(errno));
		}
	}
	tty_restore();
	if (lsock >= 0) {
		close(lsock);
		unlink(s.attach_socket);
	}
	/* Empty now that the container's processes are gone (exec'ed ones included: they die with
	 * the pid namespace); a restart policy kept it until here. */
	if (s.cgroup && rmdir(s.cgroup) < 0 && errno != ENOENT)
		warnx("remove cgroup %s: %s", s.cgroup, errstr(errno));
	run_exit_command(&s);
	return code;
}
