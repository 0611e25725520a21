/*
 * attach.sock: the monitor of a container run detached with -i or -t listens on it in the
 * container's private run dir (0700). Clients (`tsctr attach`, the API server) are ours only
 * (SO_PEERCRED); each is greeted "ok 2\n" (2: this framed protocol) and then sends frames:
 *
 *   u8 type, u8 0, u16 length (little-endian), then length bytes
 *   type 1 CLAIM   length 0: take the container's stdin; answered "ok\n" or "error WHY\n" (closed)
 *   type 2 DATA    length 1..4096: bytes for the container's stdin (the claimant only)
 *   type 3 RESIZE  length 4: u16 rows, u16 cols (little-endian, both > 0): the tty's size
 *
 * One claimant at a time; any number of RESIZE-only clients up to ATTACH_MAX. Anything else (an
 * unknown type, a non-zero reserved byte, a length that does not fit the type, DATA without the
 * claim) closes that client: the monitor runs on the host, so nothing a client sends is trusted
 * further than this fixed layout. Output is not sent back: clients follow the log.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int attach_listen(const char *path)
{
	/* The run dir's path may be longer than sun_path: bind through a descriptor of the dir. */
	const char *slash = path ? strrchr(path, '/') : NULL;
	if (!slash || slash == path)
		return -1;
	char dir[4096];
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		warnx("attach socket %s: %s", path, errstr(errno));
		return -1;
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unlinkat(dfd, slash + 1, 0); /* a leftover of an earlier monitor of this container */
	/* 0600 from its creation: no moment where another uid could connect */
	mode_t old = umask(0177);
	int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (rc < 0 || listen(fd, 4) < 0) {
		warnx("attach socket %s: %s", path, errstr(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	close(dfd);
	return fd;
}

/* A short line into a socket nothing was written to yet (or one just read from): does not block. */
static void say(int fd, const char *fmt, const char *why)
{
	char reply[160];
	snprintf(reply, sizeof reply, fmt, why);
	if (write(fd, reply, strlen(reply)) < 0) {
		/* the client is gone: its EOF closes it */
	}
}

/*
 * A new client: ours only (SO_PEERCRED), and only if `refuse` is NULL (else it is told why).
 * Returns its fd, non-blocking, greeted "ok 2"; or -1 (told why, then closed).
 */
int attach_accept(int lsock, const char *refuse)
{
	int fd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return -1;
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != getuid())
		refuse = "permission denied";
	say(fd, refuse ? "error %s\n" : "ok 2\n", refuse ? refuse : "");
	if (refuse) {
		close(fd);
		return -1;
	}
	return fd;
}

void attach_reply(int fd, const char *refuse)
{
	say(fd, refuse ? "error %s\n" : "ok\n", refuse ? refuse : "");
}

void attach_client_init(struct attach_client *c, int fd, int pipe_only)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->pipe_only = pipe_only;
}

/*
 * One read from the client, as far as its current frame goes. DATA bytes land in buf (cap bytes
 * at most; the caller reads the claimant only when buf is free); a RESIZE is returned whole.
 */
int attach_read(struct attach_client *c, char *buf, size_t cap, size_t *n, unsigned short *rows, unsigned short *cols)
{
	ssize_t m;
	if (c->hlen < sizeof c->hdr) {
		m = read(c->fd, c->hdr + c->hlen, sizeof c->hdr - c->hlen);
		if (m < 0 && (errno == EINTR || errno == EAGAIN))
			return AC_NONE;
		if (m <= 0)
			return AC_CLOSE;
		c->hlen += (unsigned)m;
		if (c->hlen < sizeof c->hdr)
			return AC_NONE;
		unsigned type = c->hdr[0], len = c->hdr[2] | (unsigned)c->hdr[3] << 8;
		int ok = c->hdr[1] == 0 &&
			 ((type == ATTACH_CLAIM && len == 0 && !c->pipe_only) ||
			  (type == ATTACH_DATA && len >= 1 && len <= ATTACH_DATA_MAX && c->holder) ||
			  (type == ATTACH_RESIZE && len == 4));
		if (!ok)
			return AC_CLOSE;
		c->type = type;
		c->need = len;
		c->blen = 0;
		if (type == ATTACH_CLAIM) {
			c->hlen = 0;
			return AC_CLAIM;
		}
		return AC_NONE;
	}
	if (c->type == ATTACH_RESIZE) {
		m = read(c->fd, c->body + c->blen, sizeof c->body - c->blen);
		if (m < 0 && (errno == EINTR || errno == EAGAIN))
			return AC_NONE;
		if (m <= 0)
			return AC_CLOSE;
		c->blen += (unsigned)m;
		if (c->blen < sizeof c->body)
			return AC_NONE;
		c->hlen = 0;
		*rows = (unsigned short)(c->body[0] | c->body[1] << 8);
		*cols = (unsigned short)(c->body[2] | c->body[3] << 8);
		return *rows && *cols ? AC_RESIZE : AC_CLOSE;
	}
	m = read(c->fd, buf, c->need < cap ? c->need : cap);
	if (m < 0 && (errno == EINTR || errno == EAGAIN))
		return AC_NONE;
	if (m <= 0)
		return AC_CLOSE;
	c->need -= (unsigned)m;
	if (c->need == 0)
		c->hlen = 0;
	*n = (size_t)m;
	return AC_DATA;
}

void attach_resize(int master, unsigned short rows, unsigned short cols)
{
	struct winsize ws = {.ws_row = rows, .ws_col = cols};
	/* the kernel sends SIGWINCH to the terminal's foreground process group when it changes */
	if (master >= 0)
		ioctl(master, TIOCSWINSZ, &ws);
}
