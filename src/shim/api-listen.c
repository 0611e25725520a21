/*
 * api-listen: the resident part of `tsctr system service` (see README.md, "API listener").
 *
 * A Node server idles at ~75 MB; this process holds the listening socket for a few hundred kB and
 * starts the Node server (the "worker") only when a client connects, handing it the socket the way
 * systemd's socket activation does (fd 3, LISTEN_FDS=1, LISTEN_PID). The worker exits after a short
 * idle time of its own; the listener waits for it and goes back to polling. One process, one poll
 * loop, signals through a signalfd, no threads.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_FD 3
/* A worker that fails, or ends sooner than this after its start, is crashing, not idling out. */
#define CRASH_MS 1000
/* Consecutive crashes beyond the first wait 1 s, 2 s, 4 s ... up to this before the next start. */
#define BACKOFF_MAX_MS 30000
/* SIGTERM to a worker, then SIGKILL after this long. */
#define STOP_GRACE_MS 10000

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "tsctr-shim api-listen[%d]: ", (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	write_all(2, buf, (size_t)n);
}

static int usage_error(const char *msg)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "Error: tsctr-shim api-listen: %s\n", msg);
	write_all(2, buf, (size_t)n);
	return EX_SETUP;
}

static int parse_num(const char *s, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The worker: the socket on fd 3 (the only descriptor besides stdio that survives exec), the
 * systemd variables naming it, default signal handling; it dies with the listener. */
static void exec_worker(char **argv)
{
	char pid[24];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", pid, 1);
	unsetenv("LISTEN_FDNAMES");
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1) /* the listener is already gone */
		_exit(EX_SETUP);
	if (fcntl(LISTEN_FD, F_SETFD, 0) < 0)
		_exit(EX_SETUP);
	child_reset_signals();
	execv(argv[0], argv);
	logline("exec %s: %s", argv[0], errstr(errno));
	_exit(EX_NOTFOUND);
}

struct listener {
	char **worker_argv;
	const char *unlink_path; /* the socket the CLI made for us; an inherited one is not ours */
	long long idle_ms;      /* 0: never exit */
	long long worker_idle_ms; /* a worker that ends well has been idle this long already */
	sigset_t mask;
	int sigfd;
	pid_t worker;
	long long worker_started;
	int crashes;            /* consecutive */
	long long not_before;   /* crash back-off: no start before this */
	long long idle_since;
};

static void finish(struct listener *l, int code) __attribute__((noreturn));
static void finish(struct listener *l, int code)
{
	if (l->unlink_path)
		unlink(l->unlink_path);
	exit(code);
}

/* Reaps the worker (and anything else that became our child); 1 if the worker ended. */
static int reap(struct listener *l)
{
	int ended = 0, status;
	pid_t p;
	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p != l->worker)
			continue;
		ended = 1;
		long long now = now_ms(), lived = now - l->worker_started;
		int failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		l->worker = 0;
		l->idle_since = now;
		if (!failed && lived >= CRASH_MS) {
			l->crashes = 0;
			/* --time counts from the last request, not from the worker's exit. */
			l->idle_since = now - l->worker_idle_ms;
			continue;
		}
		l->crashes++;
		long long delay = 0;
		if (l->crashes > 1) {
			delay = 1000LL << (l->crashes - 2 < 5 ? l->crashes - 2 : 5);
			if (delay > BACKOFF_MAX_MS)
				delay = BACKOFF_MAX_MS;
		}
		l->not_before = now + delay;
		char how[48];
		if (WIFSIGNALED(status))
			snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(status));
		else
			snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(status));
		char next[48] = "at the next connection";
		if (delay)
			snprintf(next, sizeof next, "in %lld ms", delay);
		logline("the API worker (pid %d) %s after %lld ms (%d in a row); next start %s", (int)p, how, lived, l->crashes, next);
	}
	return ended;
}

static void start_worker(struct listener *l)
{
	pid_t p = fork();
	if (p < 0) {
		logline("fork: %s", errstr(errno));
		l->not_before = now_ms() + 1000;
		return;
	}
	if (p == 0)
		exec_worker(l->worker_argv);
	l->worker = p;
	l->worker_started = now_ms();
}

/* SIGTERM/SIGINT/SIGHUP: the worker is stopped (it cuts its streams), then we go. */
static void stop(struct listener *l)
{
	if (l->worker) {
		kill(l->worker, SIGTERM);
		long long deadline = now_ms() + STOP_GRACE_MS;
		while (l->worker) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				kill(l->worker, SIGKILL);
				waitpid(l->worker, NULL, 0);
				break;
			}
			struct pollfd pfd = {.fd = l->sigfd, .events = POLLIN};
			poll(&pfd, 1, (int)left);
			struct signalfd_siginfo si;
			while (read(l->sigfd, &si, sizeof si) == sizeof si)
				;
			reap(l);
		}
	}
	finish(l, 0);
}

int cmd_api_listen(int argc, char **argv)
{
	struct listener l = {0};
	long long fd = LISTEN_FD, secs = 0;
	int i = 0;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (i + 1 >= argc)
			return usage_error("missing value");
		if (strcmp(argv[i], "--fd") == 0) {
			if (parse_num(argv[++i], 1 << 20, &fd) < 0 || fd < LISTEN_FD)
				return usage_error("invalid --fd");
		} else if (strcmp(argv[i], "--time") == 0) {
			if (parse_num(argv[++i], 1LL << 31, &secs) < 0)
				return usage_error("invalid --time");
		} else if (strcmp(argv[i], "--worker-idle") == 0) {
			long long w;
			if (parse_num(argv[++i], 1LL << 31, &w) < 0)
				return usage_error("invalid --worker-idle");
			l.worker_idle_ms = w * 1000;
		} else if (strcmp(argv[i], "--unlink") == 0) {
			l.unlink_path = argv[++i];
		} else {
			return usage_error("unknown option");
		}
	}
	if (i >= argc - 1 || argv[i + 1][0] != '/')
		return usage_error("usage: api-listen [--fd N] [--time SECONDS] [--worker-idle SECONDS] [--unlink PATH] -- /WORKER ARGS...");
	l.worker_argv = argv + i + 1;
	l.idle_ms = secs * 1000;

	int listening = 0;
	socklen_t len = sizeof listening;
	if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
		return usage_error("the descriptor given is not a listening socket");
	/* The socket goes to fd 3, close-on-exec here (only the worker's copy is cleared); whatever
	 * else we inherited is closed, so nothing but the socket can reach a worker. */
	if (fd != LISTEN_FD) {
		if (dup3((int)fd, LISTEN_FD, O_CLOEXEC) < 0)
			return usage_error("dup3");
		close((int)fd);
	} else if (fcntl(LISTEN_FD, F_SETFD, FD_CLOEXEC) < 0) {
		return usage_error("fcntl");
	}
	if (syscall(SYS_close_range, LISTEN_FD + 1, ~0U, 0) < 0)
		for (int f = LISTEN_FD + 1; f < 1024; f++)
			close(f);
	ensure_stdio();

	sigemptyset(&l.mask);
	sigaddset(&l.mask, SIGCHLD);
	sigaddset(&l.mask, SIGTERM);
	sigaddset(&l.mask, SIGINT);
	sigaddset(&l.mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &l.mask, NULL);
	l.sigfd = signalfd(-1, &l.mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l.sigfd < 0)
		return usage_error("signalfd");
	signal(SIGPIPE, SIG_IGN); /* a log line to a closed pipe must not end us */
	l.idle_since = now_ms();

	for (;;) {
		long long now = now_ms();
		int timeout = -1;
		int watch_socket = !l.worker && now >= l.not_before;
		if (!l.worker && now < l.not_before)
			timeout = (int)(l.not_before - now);
		else if (!l.worker && l.idle_ms > 0) {
			long long left = l.idle_since + l.idle_ms - now;
			if (left <= 0)
				finish(&l, 0);
			timeout = (int)(left < 3600000 ? left : 3600000); /* poll takes an int of ms */
		}
		struct pollfd pfd[2] = {{.fd = l.sigfd, .events = POLLIN}, {.fd = LISTEN_FD, .events = POLLIN}};
		int n = poll(pfd, watch_socket ? 2 : 1, timeout);
		if (n < 0 && errno != EINTR) {
			logline("poll: %s", errstr(errno));
			finish(&l, EX_SETUP);
		}
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			int term = 0;
			while (read(l.sigfd, &si, sizeof si) == sizeof si)
				if (si.ssi_signo != SIGCHLD)
					term = 1;
			reap(&l);
			if (term)
				stop(&l);
		}
		if (n > 0 && watch_socket && (pfd[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			if (pfd[1].revents & POLLIN) {
				start_worker(&l);
			} else {
				logline("the listening socket failed");
				finish(&l, EX_SETUP);
			}
		}
		if (!l.worker && now_ms() < l.not_before)
			l.idle_since = l.not_before; /* a crash back-off is not idleness */
	}
}
