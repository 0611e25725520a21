/*
 * The container's log: podman's k8s-file records made compact, with docker's json-file rotation.
 *
 * A record is "TIME STREAM F|P TEXT\n" (P: the read chunk ended inside the line). k8s-file
 * repeats a 30-byte time and the stream name on every line, so short lines cost 21 times their
 * size. Here TIME is the full RFC 3339 time only at the start of a file; later records give
 * "+NANOSECONDS" since the record before, or "=" for the other lines of the same read; the stream
 * is "o" or "e". A line written on its own then costs about 12 bytes more than its text, one of a
 * burst 6. Each file starts with a full time, so each reads on its own.
 *
 * Rotation as docker's json-file: when a chunk would take the file past max-size, FILE becomes
 * FILE.1 (FILE.1 becomes FILE.2 ..., up to max-file files in all) and FILE starts empty; with
 * max-file 1 it is truncated.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int log_open(struct logfile *l, const struct spec *s, char *err, size_t errsz)
{
	memset(l, 0, sizeof *l);
	l->fd = -1;
	if (!s->log)
		return 0;
	l->path = s->log;
	l->max_size = s->log_max_size ? atoll(s->log_max_size) : 0;
	l->max_files = s->log_max_file ? atoi(s->log_max_file) : 1;
	if (l->max_files < 1)
		l->max_files = 1;
	struct stat st;
	if ((l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0 || fstat(l->fd, &st) < 0) {
		snprintf(err, errsz, "open log %s: %s", l->path, errstr(errno));
		return -1;
	}
	l->size = st.st_size;
	return 0;
}

static void rotate(struct logfile *l)
{
	if (l->max_files == 1) {
		if (ftruncate(l->fd, 0) == 0)
			l->size = 0;
		return;
	}
	char from[PATH_MAX], to[PATH_MAX];
	for (int k = l->max_files - 1; k >= 1; k--) {
		if (k == 1)
			snprintf(from, sizeof from, "%s", l->path);
		else
			snprintf(from, sizeof from, "%s.%d", l->path, k - 1);
		snprintf(to, sizeof to, "%s.%d", l->path, k);
		if (rename(from, to) < 0 && errno != ENOENT)
			warnx("rotate log %s: %s", from, errstr(errno));
	}
	int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		warnx("reopen log %s: %s", l->path, errstr(errno));
		return; /* keep writing to the renamed file rather than losing output */
	}
	dup3(fd, l->fd, O_CLOEXEC);
	close(fd);
	l->size = 0;
}

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void flush(struct logfile *l, struct iovec *iov, int k)
{
	ssize_t n = writev(l->fd, iov, k);
	if (n > 0)
		l->size += n; /* a full disk must not take the container down: errors are dropped */
}

void log_chunk(struct logfile *l, const char *stream, const char *buf, size_t n)
{
	if (l->fd < 0)
		return;
	char ts[48], head[64];
	const char s = stream[3] == 'o' ? 'o' : 'e'; /* stdout, stderr */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	/* What the chunk will take, to rotate before it rather than in the middle of it. */
	size_t lines = 0;
	for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))); p++)
		lines++;
	long long need = (long long)(36 + n + (lines + 1) * 6);
	if (l->max_size > 0 && l->size > 0 && l->size + need > l->max_size)
		rotate(l);
	long long delta = ns_of(&now) - ns_of(&l->last);
	if (l->size > 0 && l->have_last && delta >= 0)
		snprintf(ts, sizeof ts, "+%lld", delta);
	else /* a new file, or the clock went back */
		fmt_rfc3339nano_at(ts, &now);
	l->last = now;
	l->have_last = 1;
	int lh = snprintf(head, sizeof head, "%s %c F ", ts, s);
	char same_f[] = "= o F ", same_p[] = "= o P ", first_p[64];
	same_f[2] = same_p[2] = s;
	int lfp = snprintf(first_p, sizeof first_p, "%s %c P ", ts, s);
	struct iovec iov[3 * 32];
	int k = 0, first = 1;
	const char *p = buf, *end = buf + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		if (first) {
			iov[k].iov_base = nl ? head : first_p;
			iov[k++].iov_len = (size_t)(nl ? lh : lfp);
			first = 0;
		} else {
			iov[k].iov_base = nl ? same_f : same_p;
			iov[k++].iov_len = sizeof same_f - 1;
		}
		iov[k].iov_base = (void *)p;
		iov[k++].iov_len = (size_t)(e - p);
		iov[k].iov_base = "\n";
		iov[k++].iov_len = 1;
		p = nl ? nl + 1 : end;
		if (k == sizeof iov / sizeof iov[0] || p >= end) {
			flush(l, iov, k);
			k = 0;
		}
	}
}
