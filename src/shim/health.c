/*
 * Health checks, run by the monitor as docker's daemon runs them: a probe (an `exec` of the
 * container, through our own sealed copy, so it gets the container's namespaces, cgroup, ids,
 * capabilities and seccomp exactly as `tsctr exec` would) first after `interval` (or
 * `start-interval` during the start period), then `interval` after each probe ended; killed after
 * `timeout`. The result goes into a JSON file that the CLI reads (ps, inspect): docker's
 * State.Health, with the last 5 probes.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define OUT_MAX 4096 /* docker keeps the first 4 KiB of a probe's output */
#define LOG_MAX 5

struct probe_log {
	char start[48], end[48];
	int code;
	char out[OUT_MAX];
	size_t len;
};

static struct {
	int on;
	const char *spec, *file;
	long interval, timeout, start_period, start_interval;
	int retries;
	pid_t init;
	const char *status;
	int streak;
	struct probe_log log[LOG_MAX];
	int nlog;
	long t0, due, kill_at;
	pid_t probe;
	int fd, timed_out, in_start_period;
	struct timespec started;
	char out[OUT_MAX];
	size_t len;
} h; /* zero-initialised (bss): a monitor without checks never touches, so never dirties, it */

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static long ms_of(const char *v, long dflt)
{
	if (!v || !*v)
		return dflt;
	long n = strtol(v, NULL, 10);
	return n > 0 ? n : dflt;
}

int health_init(const struct spec *s)
{
	if (!s->health_spec || !s->health_file)
		return 0;
	h.on = 1;
	h.fd = -1;
	h.spec = s->health_spec;
	h.file = s->health_file;
	h.interval = ms_of(s->health_interval, 30000);
	h.timeout = ms_of(s->health_timeout, 30000);
	h.start_period = s->health_start_period ? strtol(s->health_start_period, NULL, 10) : 0;
	h.start_interval = ms_of(s->health_start_interval, 5000);
	h.retries = s->health_retries ? atoi(s->health_retries) : 3;
	if (h.retries <= 0)
		h.retries = 3;
	return 0;
}

static void json_str(char *buf, size_t sz, size_t *n, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	if (*n < sz)
		buf[(*n)++] = '"';
	for (size_t i = 0; i < len && *n + 8 < sz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			buf[(*n)++] = '\\';
			buf[(*n)++] = (char)c;
		} else if (c == '\n') {
			buf[(*n)++] = '\\';
			buf[(*n)++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			*n += (size_t)snprintf(buf + *n, sz - *n, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		} else {
			buf[(*n)++] = (char)c; /* UTF-8 passes; the reader replaces what is not valid */
		}
	}
	if (*n < sz)
		buf[(*n)++] = '"';
}

static void write_state(void)
{
	static char buf[LOG_MAX * (OUT_MAX * 6 + 256) + 256];
	size_t n = (size_t)snprintf(buf, sizeof buf, "{\"Status\":\"%s\",\"FailingStreak\":%d,\"Log\":[", h.status, h.streak);
	for (int i = 0; i < h.nlog; i++) {
		const struct probe_log *l = &h.log[i];
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":",
				      i ? "," : "", l->start, l->end, l->code);
		json_str(buf, sizeof buf, &n, l->out, l->len);
		if (n < sizeof buf)
			buf[n++] = '}';
	}
	n += (size_t)snprintf(buf + n, sizeof buf - n, "]}\n");
	if (n > sizeof buf)
		n = sizeof buf;
	if (write_file_atomic(h.file, buf, n) < 0)
		warnx("write %s: %s", h.file, errstr(errno));
}

static int in_start_period(long now)
{
	return h.start_period > 0 && now - h.t0 < h.start_period;
}

static void schedule(long now)
{
	h.due = now + (in_start_period(now) ? h.start_interval : h.interval);
}

void health_start(pid_t init)
{
	if (!h.on)
		return;
	/* A restart is a new container for its health: starting again, with no history. */
	h.init = init;
	h.status = "starting";
	h.streak = 0;
	h.nlog = 0;
	h.probe = 0;
	h.t0 = mono_ms();
	schedule(h.t0);
	write_state();
}

static void run_probe(long now)
{
	int p[2];
	/* Out of descriptors or processes: try again an interval later, not in a busy loop. */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		schedule(now);
		return;
	}
	char pid[16];
	snprintf(pid, sizeof pid, "%d", (int)h.init);
	pid_t child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		schedule(now);
		return;
	}
	if (child == 0) {
		child_reset_signals();
		int nul = open("/dev/null", O_RDONLY);
		fcntl(p[1], F_SETFL, 0);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0 || dup2(g_self_fd, 3) < 0)
			_exit(EX_SETUP);
		/* fd 3 must not reach the probe: `exec` takes an open fd 3 for its sync pipe. */
		fcntl(3, F_SETFD, FD_CLOEXEC);
		syscall(SYS_close_range, 4U, ~0U, 0U);
		char *argv[] = {"tsctr-shim", "exec", (char *)h.spec, pid, NULL};
		syscall(SYS_execveat, 3, "", argv, environ, AT_EMPTY_PATH);
		_exit(EX_SETUP);
	}
	close(p[1]);
	h.probe = child;
	h.fd = p[0];
	h.len = 0;
	h.timed_out = 0;
	h.in_start_period = in_start_period(now);
	h.kill_at = 0;
	h.due = now + h.timeout;
	clock_gettime(CLOCK_REALTIME, &h.started);
}

int health_fd(void)
{
	return h.on ? h.fd : -1;
}

void health_read(void)
{
	char tmp[4096];
	for (;;) {
		ssize_t n = read(h.fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				close(h.fd);
				h.fd = -1;
			}
			return;
		}
		size_t room = OUT_MAX - h.len;
		memcpy(h.out + h.len, tmp, (size_t)n < room ? (size_t)n : room);
		h.len += (size_t)n < room ? (size_t)n : room;
	}
}

/* Go's time.Duration text for the timeout message ("30s", "1.5s", "500ms"). */
static void fmt_duration(char *out, size_t sz, long ms)
{
	if (ms < 1000)
		snprintf(out, sz, "%ldms", ms);
	else if (ms % 1000 == 0)
		snprintf(out, sz, "%lds", ms / 1000);
	else {
		int n = snprintf(out, sz, "%ld.%03ld", ms / 1000, ms % 1000);
		while (n > 0 && out[n - 1] == '0')
			out[--n] = 0;
		snprintf(out + n, sz - (size_t)n, "s");
	}
}

static void finish(int status)
{
	if (h.fd >= 0)
		health_read();
	if (h.fd >= 0)
		close(h.fd);
	h.fd = -1;
	h.probe = 0;
	struct probe_log l;
	fmt_rfc3339nano_at(l.start, &h.started);
	fmt_rfc3339nano(l.end);
	if (h.timed_out) {
		char d[32];
		fmt_duration(d, sizeof d, h.timeout);
		l.code = -1;
		l.len = (size_t)snprintf(l.out, sizeof l.out, "Health check exceeded timeout (%s)", d);
	} else {
		l.code = exit_code_of(status);
		memcpy(l.out, h.out, h.len);
		l.len = h.len;
	}
	const char *before = h.status;
	if (l.code == 0) {
		h.streak = 0;
		h.status = "healthy";
	} else if (!(h.in_start_period && strcmp(h.status, "starting") == 0)) {
		/* Failures in the start period do not count, as long as none succeeded yet. */
		if (++h.streak >= h.retries)
			h.status = "unhealthy";
	}
	if (h.nlog == LOG_MAX) {
		memmove(&h.log[0], &h.log[1], sizeof h.log[0] * (LOG_MAX - 1));
		h.nlog--;
	}
	h.log[h.nlog++] = l;
	write_state();
	if (strcmp(before, h.status) != 0) {
		char action[40];
		snprintf(action, sizeof action, "health_status: %s", h.status);
		event_append(action, NULL);
	}
	schedule(mono_ms());
}

int health_reaped(pid_t pid, int status)
{
	if (!h.on || pid != h.probe || pid <= 0)
		return 0;
	finish(status);
	return 1;
}

int health_wait_ms(void)
{
	if (!h.on || !h.init)
		return -1;
	long now = mono_ms(), at = h.kill_at ? h.kill_at : h.due;
	return at <= now ? 0 : (int)(at - now);
}

void health_tick(void)
{
	if (!h.on || !h.init)
		return;
	long now = mono_ms();
	if (h.probe > 0) {
		if (h.kill_at && now >= h.kill_at) {
			kill(h.probe, SIGKILL); /* the exec helper did not end it in time */
			h.kill_at = now + 1000;
		} else if (!h.timed_out && now >= h.due) {
			/* exec's probe mode: SIGTERM makes it SIGKILL the probe's process group. */
			h.timed_out = 1;
			kill(h.probe, SIGTERM);
			h.kill_at = now + 2000;
		}
		return;
	}
	if (now >= h.due)
		run_probe(now);
}

void health_stop(void)
{
	if (!h.on)
		return;
	if (h.probe > 0) {
		kill(h.probe, SIGKILL);
		while (waitpid(h.probe, NULL, 0) < 0 && errno == EINTR)
			;
		h.probe = 0;
	}
	if (h.fd >= 0)
		close(h.fd);
	h.fd = -1;
	h.init = 0;
}
