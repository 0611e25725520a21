/*
 * `tsctr attach` to a container run detached with -i: the monitor keeps the container's stdin and
 * listens on attach.sock in the container's private run dir (0700); one client at a time
 * writes to that stdin through it. Output is not sent back: the client follows the log.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

/*
 * A new client: ours only (SO_PEERCRED), and only if `refuse` is NULL (else it is told why).
 * Returns its fd (told "ok"), or -1 (told why, then closed).
 */
int attach_accept(int lsock, const char *refuse)
{
	int fd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ucred cr;
	socklen_t len = sizeof cr;
	char reply[128];
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != getuid())
		refuse = "permission denied";
	snprintf(reply, sizeof reply, refuse ? "error %s\n" : "ok\n", refuse);
	/* A short line into an empty socket buffer: does not block. */
	if (write(fd, reply, strlen(reply)) < 0 || refuse) {
		close(fd);
		return -1;
	}
	return fd;
}
