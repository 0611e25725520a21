/* Small helpers: error reporting of setup children, I/O, files, time, path lookup. */
#include "shim.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int g_errfd = -1;
pid_t g_kill_on_fail;

const char *errstr(int err)
{
	/* Docker classifies start errors by matching Go's lower-case messages
	 * ("no such file or directory"), so speak the same way. */
	static char buf[128];
	snprintf(buf, sizeof buf, "%s", strerror(err));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static void __attribute__((noreturn)) vfail(int code, int err, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];
	int n = vsnprintf(msg, sizeof msg - 64, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof msg - 64)
		n = (int)(sizeof msg - 64);
	if (err)
		snprintf(msg + n, sizeof msg - (size_t)n, ": %s", errstr(err));
	if (g_kill_on_fail > 0) {
		kill(g_kill_on_fail, SIGKILL);
		waitpid(g_kill_on_fail, NULL, 0);
	}
	if (g_errfd >= 0) {
		char out[MSG_MAX + 16];
		int len = snprintf(out, sizeof out, "E %d %s", code, msg);
		send(g_errfd, out, (size_t)len, MSG_NOSIGNAL);
	} else {
		warnx("%s", msg);
	}
	_exit(code);
}

void fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(code, 0, fmt, ap);
}

void failsys(int code, const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vfail(code, err, fmt, ap);
}

void warnx(const char *fmt, ...)
{
	char msg[MSG_MAX + 16];
	int n = snprintf(msg, sizeof msg, "tsctr-shim: ");
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof msg - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if ((size_t)n > sizeof msg - 2)
		n = (int)sizeof msg - 2;
	msg[n++] = '\n';
	write_all(2, msg, (size_t)n);
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				/* A non-blocking fd inherited from the caller: wait rather than drop data. */
				struct pollfd pfd = {.fd = fd, .events = POLLOUT};
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		int err = errno;
		close(fd);
		unlink(tmp);
		errno = err;
		return -1;
	}
	return 0;
}

void fmt_rfc3339nano_at(char out[48], const struct timespec *ts)
{
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec);
}

void fmt_rfc3339nano(char out[48])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fmt_rfc3339nano_at(out, &ts);
}

int msg_send(int sock, const char *s, int fd)
{
	struct iovec iov = {.iov_base = (void *)s, .iov_len = strlen(s)};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&c, 0, sizeof c);
		m.msg_control = c.buf;
		m.msg_controllen = sizeof c.buf;
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &fd, sizeof fd);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

ssize_t msg_recv(int sock, char *buf, size_t sz, int *fd)
{
	struct iovec iov = {.iov_base = buf, .iov_len = sz - 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			   .msg_controllen = sizeof c.buf};
	ssize_t n;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	buf[n] = 0;
	if (fd) {
		*fd = -1;
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(h), sizeof *fd);
	}
	return n;
}

void ensure_stdio(void)
{
	/* Closed 0-2 would make later pipes land there and get clobbered by dup2. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			if (open("/dev/null", O_RDWR) < 0)
				_exit(EX_SETUP);
}

void child_reset_signals(void)
{
	/* Dispositions set to SIG_IGN and the blocked mask survive execve. */
	signal(SIGPIPE, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int devnull_stdio(int keep_stderr)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dup2(fd, 0);
	dup2(fd, 1);
	if (!keep_stderr)
		dup2(fd, 2);
	close(fd);
	return 0;
}

int find_in_path(const char *name, const char *pathenv, char *out, size_t outsz)
{
	if (strchr(name, '/')) {
		snprintf(out, outsz, "%s", name);
		return access(out, X_OK);
	}
	const char *p = pathenv && *pathenv ? pathenv : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	while (*p) {
		const char *e = strchrnul(p, ':');
		int len = (int)(e - p);
		snprintf(out, outsz, "%.*s/%s", len ? len : 1, len ? p : ".", name);
		if (access(out, X_OK) == 0)
			return 0;
		p = *e ? e + 1 : e;
	}
	return -1;
}

static int executable(const char *path, struct stat *st)
{
	if (stat(path, st) < 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!(st->st_mode & 0111))
		return -EACCES;
	return 0;
}

/* Go's exec.LookPath, which runc uses, so that errors and exit codes match docker's. */
int lookpath(const char *file, const char *pathenv, char *out, size_t outsz, char *err, size_t errsz)
{
	struct stat st;
	if (strchr(file, '/')) {
		int r = executable(file, &st);
		if (r == 0) {
			snprintf(out, outsz, "%s", file);
			return 0;
		}
		if (r == -EISDIR || r == -EACCES) {
			snprintf(err, errsz, "exec: \"%s\": %s", file, errstr(-r));
			return EX_NOEXEC;
		}
		snprintf(err, errsz, "exec: \"%s\": stat %s: %s", file, file, errstr(-r));
		return EX_NOTFOUND;
	}
	const char *p = pathenv ? pathenv : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (;;) {
		const char *e = strchrnul(p, ':');
		int len = (int)(e - p);
		snprintf(out, outsz, "%.*s/%s", len ? len : 1, len ? p : ".", file);
		if (executable(out, &st) == 0)
			return 0;
		if (!*e)
			break;
		p = e + 1;
	}
	snprintf(err, errsz, "exec: \"%s\": executable file not found in $PATH", file);
	return EX_NOTFOUND;
}

/* Start argv with stdout+stderr into a pipe (*outfd); returns the pid or -1. */
pid_t spawn_capture(char *const argv[], int *outfd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		child_reset_signals();
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], argv);
		dprintf(2, "exec %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	*outfd = p[0];
	return pid;
}

/* Collect what spawn_capture's child printed (trimmed) and its wait status (-1 on error). */
int wait_capture(pid_t pid, int outfd, char *out, size_t outsz)
{
	size_t got = 0;
	for (;;) {
		char tmp[256];
		ssize_t n = read(outfd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && got + 1 < outsz; i++)
			out[got++] = tmp[i];
	}
	while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == ' '))
		got--;
	out[got] = 0;
	close(outfd);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

unsigned long long proc_starttime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* The command name may hold spaces and parentheses: count fields after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	unsigned long long start = 0;
	/* fields 3..21 skipped, 22 is the start time in clock ticks since boot */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &start) != 1)
		return 0;
	return start;
}

int pid_line(char *buf, size_t sz, pid_t pid)
{
	return snprintf(buf, sz, "%d %llu\n", (int)pid, proc_starttime(pid));
}
