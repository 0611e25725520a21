/*
 * userns-serve: the file operations that need the user namespace's ids, done for the CLI.
 *
 * Node cannot unshare(CLONE_NEWUSER) (it is multi-threaded), and re-running the whole CLI inside
 * `unshare --map-root-user` costs a second Node start. So the CLI does the reading, writing and
 * decompressing itself, as the user (= root of the namespace), and asks this process — root in a
 * user namespace mapped like a container's — only for what needs the other ids: chown to
 * subordinate ids (with the set-id bits and file capabilities a chown clears), looking into
 * files and directories the user cannot read, and deleting trees that hold such files. One request carries a whole layer's ownership, so a
 * layer of 5000 files is a handful of round trips.
 *
 * Paths come from image layers and running containers: hostile. Every request names a root (a
 * directory the CLI registered) and a relative path; the path's directory is opened beneath the
 * root without following any symlink (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or a walk of
 * O_NOFOLLOW opens where openat2 is missing), the process changes into it, and the last name is
 * used with the l* calls or O_NOFOLLOW only. `..`, `.` and empty components are refused.
 *
 * Protocol on fd 3 (a stream socket), little-endian: request = u32 length, u8 op, body; reply =
 * u32 length, i32 errno (0: ok), u32 index (the failing item of a batch), payload. The first
 * reply, unasked, says whether the namespace is ready (its payload: the error message).
 */
#include "shim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

enum { OP_ROOT = 1, OP_OWN = 2, OP_STAT = 3, OP_LIST = 4, OP_READLINK = 5, OP_XATTRS = 6, OP_READ = 7, OP_REMOVE = 8 };

#define SOCK 3
#define REQ_MAX (4u << 20)   /* a request: a batch of ownership records */
#define REPLY_MAX (64u << 20) /* a reply: a directory listing, a file chunk */
#define MAX_ROOTS 256

static int roots[MAX_ROOTS];
static int nroots;
/* The directory the process is in (its cwd), by root and relative path: a batch mostly stays in one. */
static int cwd_root = -1;
static char cwd_rel[PATH_MAX];

/* The reply under construction: 12-byte header, then the payload. */
static char *out;
static size_t out_len, out_cap;

static int out_reserve(size_t n)
{
	if (out_len + n > REPLY_MAX)
		return -1;
	if (out_len + n > out_cap) {
		size_t cap = out_cap ? out_cap : 65536;
		while (cap < out_len + n)
			cap *= 2;
		char *p = realloc(out, cap);
		if (!p)
			return -1;
		out = p;
		out_cap = cap;
	}
	return 0;
}

static int put(const void *p, size_t n)
{
	if (out_reserve(n) < 0)
		return -1;
	memcpy(out + out_len, p, n);
	out_len += n;
	return 0;
}

static int put32(uint32_t v) { return put(&v, 4); }
static int put64(uint64_t v) { return put(&v, 8); }

static void reply_start(void)
{
	out_len = 0;
	uint32_t zero[3] = {0, 0, 0};
	put(zero, sizeof zero);
}

static int reply_send(int err, uint32_t index)
{
	if (err)
		out_len = 12; /* no payload with an error */
	uint32_t len = (uint32_t)(out_len - 4);
	int32_t e = err;
	memcpy(out, &len, 4);
	memcpy(out + 4, &e, 4);
	memcpy(out + 8, &index, 4);
	return write_all(SOCK, out, out_len);
}

static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* A cursor over the request body: every read is bounds-checked. */
struct cur {
	const char *p;
	size_t left;
	int bad;
};

static const void *take(struct cur *c, size_t n)
{
	if (c->bad || n > c->left) {
		c->bad = 1;
		return NULL;
	}
	const void *p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

static uint32_t take32(struct cur *c)
{
	const void *p = take(c, 4);
	uint32_t v = 0;
	if (p)
		memcpy(&v, p, 4);
	return v;
}

static uint64_t take64(struct cur *c)
{
	const void *p = take(c, 8);
	uint64_t v = 0;
	if (p)
		memcpy(&v, p, 8);
	return v;
}

/* A relative path: u16 length, bytes. Copied NUL-terminated into buf; NULL when malformed. */
static const char *take_path(struct cur *c, char buf[PATH_MAX])
{
	const void *lp = take(c, 2);
	uint16_t n = 0;
	if (lp)
		memcpy(&n, lp, 2);
	const char *s = take(c, n);
	if (!s || n >= PATH_MAX || memchr(s, 0, n))
		return NULL;
	memcpy(buf, s, n);
	buf[n] = 0;
	return buf;
}

/* No empty, "." or ".." component, no leading or trailing slash. */
static int valid_rel(const char *rel)
{
	if (!*rel)
		return 1;
	for (const char *p = rel;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}

/* dir (relative to root, "" = root itself) opened O_PATH, no symlink followed on the way. */
static int open_beneath(int root, const char *dir)
{
	if (!*dir)
		return fcntl(root, F_DUPFD_CLOEXEC, 0);
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, root, dir, &how, sizeof how);
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	/* Before Linux 5.6: one component at a time (valid_rel ruled out "." and ".."). */
	char copy[PATH_MAX];
	snprintf(copy, sizeof copy, "%s", dir);
	int cur = fcntl(root, F_DUPFD_CLOEXEC, 0);
	for (char *save = NULL, *name = strtok_r(copy, "/", &save); cur >= 0 && name;
	     name = strtok_r(NULL, "/", &save)) {
		int next = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(cur);
		errno = e;
		cur = next;
	}
	return cur;
}

/*
 * Changes into the directory of rel (beneath root id) and returns rel's last name there ("." for
 * the root itself), or NULL with errno set.
 */
static const char *enter(uint32_t id, char *rel)
{
	if (id >= (uint32_t)nroots || !valid_rel(rel)) {
		errno = EINVAL;
		return NULL;
	}
	char *slash = strrchr(rel, '/');
	const char *name = slash ? slash + 1 : (*rel ? rel : ".");
	const char *dir = "";
	if (slash) {
		*slash = 0;
		dir = rel;
	}
	if (cwd_root != (int)id || strcmp(cwd_rel, dir) != 0) {
		cwd_root = -1;
		int fd = open_beneath(roots[id], dir);
		if (fd < 0)
			return NULL;
		int r = fchdir(fd);
		int e = errno;
		close(fd);
		if (r < 0) {
			errno = e;
			return NULL;
		}
		cwd_root = (int)id;
		snprintf(cwd_rel, sizeof cwd_rel, "%s", dir);
	}
	return name;
}

static int op_root(struct cur *c)
{
	char path[PATH_MAX];
	if (c->left == 0 || c->left >= PATH_MAX || memchr(c->p, 0, c->left) || c->p[0] != '/')
		return EINVAL;
	memcpy(path, c->p, c->left);
	path[c->left] = 0;
	if (nroots >= MAX_ROOTS)
		return EMFILE;
	/* The CLI's own store path: trusted, but still no symlink as its last component. */
	int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	roots[nroots] = fd;
	put32((uint32_t)nroots++);
	return 0;
}

/* Opens name (in the cwd) without following it, for fchmod/fsetxattr: regular files and directories only. */
static int open_plain(const char *name)
{
	int fd = open(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/*
 * Ownership records: u32 root, then per item: path, u32 uid, u32 gid, u32 mode (~0: keep), u32
 * capability length, capability bytes. lchown first; then the mode (a chown clears set-id bits)
 * and security.capability (a chown drops it). A failed capability is reported, not fatal:
 * payload = (u32 index, i32 errno) per failure.
 */
static int op_own(struct cur *c, uint32_t *index)
{
	uint32_t id = take32(c);
	for (*index = 0; c->left > 0 && !c->bad; (*index)++) {
		char buf[PATH_MAX];
		const char *rel = take_path(c, buf);
		uint32_t uid = take32(c), gid = take32(c), mode = take32(c), caplen = take32(c);
		const void *cap = take(c, caplen);
		if (!rel || c->bad)
			return EINVAL;
		const char *name = enter(id, buf);
		if (!name || fchownat(AT_FDCWD, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return errno;
		if (mode == UINT32_MAX && caplen == 0)
			continue;
		int fd = open_plain(name);
		if (fd < 0)
			return errno;
		if (mode != UINT32_MAX && fchmod(fd, mode & 07777) < 0) {
			int e = errno;
			close(fd);
			return e;
		}
		if (caplen && fsetxattr(fd, "security.capability", cap, caplen, 0) < 0) {
			put32(*index);
			put32((uint32_t)errno);
		}
		close(fd);
	}
	return c->bad ? EINVAL : 0;
}

/* The next three: u32 root, path. */
static const char *entry_of(struct cur *c, char buf[PATH_MAX])
{
	uint32_t id = take32(c);
	if (!take_path(c, buf) || c->bad || c->left) {
		errno = EINVAL;
		return NULL;
	}
	return enter(id, buf);
}

/* lstat: u32 mode, uid, gid, nlink; u64 size, mtime s, mtime ns, dev, ino, rdev. */
static int op_stat(struct cur *c)
{
	char buf[PATH_MAX];
	const char *name = entry_of(c, buf);
	struct stat st;
	if (!name || fstatat(AT_FDCWD, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno;
	put32(st.st_mode), put32(st.st_uid), put32(st.st_gid), put32((uint32_t)st.st_nlink);
	put64((uint64_t)st.st_size), put64((uint64_t)st.st_mtim.tv_sec), put64((uint64_t)st.st_mtim.tv_nsec);
	put64(st.st_dev), put64(st.st_ino), put64(st.st_rdev);
	return 0;
}

/* Names in a directory, each NUL-terminated, "." and ".." left out. */
static int op_list(struct cur *c)
{
	char buf[PATH_MAX];
	const char *name = entry_of(c, buf);
	int fd = name ? open(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	int err = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (put(de->d_name, strlen(de->d_name) + 1) < 0) {
			err = E2BIG;
			break;
		}
	}
	closedir(d);
	return err;
}

static int op_readlink(struct cur *c)
{
	char buf[PATH_MAX], target[PATH_MAX];
	const char *name = entry_of(c, buf);
	ssize_t n = name ? readlink(name, target, sizeof target) : -1;
	if (n < 0)
		return errno;
	put(target, (size_t)n);
	return 0;
}

/* Extended attributes: u16 name length, name, u32 value length, value, per attribute. */
static int op_xattrs(struct cur *c)
{
	char buf[PATH_MAX], names[65536], value[65536];
	const char *name = entry_of(c, buf);
	ssize_t n = name ? llistxattr(name, names, sizeof names) : -1;
	if (n < 0)
		return errno == ENOTSUP ? 0 : errno;
	for (char *x = names; x < names + n; x += strlen(x) + 1) {
		ssize_t v = lgetxattr(name, x, value, sizeof value);
		if (v < 0)
			continue;
		uint16_t nl = (uint16_t)strlen(x);
		put(&nl, 2), put(x, nl), put32((uint32_t)v), put(value, (size_t)v);
	}
	return 0;
}

/* u32 root, path, u64 offset, u32 length: up to length bytes of a regular file from offset. */
static int op_read(struct cur *c)
{
	char buf[PATH_MAX];
	uint32_t id = take32(c);
	const char *rel = take_path(c, buf);
	uint64_t off = take64(c);
	uint32_t len = take32(c);
	if (!rel || c->bad || c->left || len > REPLY_MAX - 16)
		return EINVAL;
	const char *name = enter(id, buf);
	int fd = name ? open(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1;
	if (fd < 0)
		return errno;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EPERM;
	else if (out_reserve(len) < 0)
		err = ENOMEM;
	while (!err && len > 0) {
		ssize_t n = pread(fd, out + out_len, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = errno;
		if (n <= 0)
			break;
		out_len += (size_t)n, off += (uint64_t)n, len -= (uint32_t)n;
	}
	close(fd);
	return err;
}

/* Deletes name in dirfd and everything under it, following no symlink; a missing name is no error. */
static int remove_at(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth > 1000) {
		errno = ELOOP;
		return -1;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int err = 0;
	/* Again from the start until empty: removing while reading may skip names. */
	for (int seen = 1; seen && !err;) {
		seen = 0;
		rewinddir(d);
		for (struct dirent *de; !err && (de = readdir(d));) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			seen = 1;
			if (remove_at(fd, de->d_name, depth + 1) < 0)
				err = errno;
		}
	}
	closedir(d);
	if (err) {
		errno = err;
		return -1;
	}
	return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

/* An absolute path of the CLI's own (a layer, a container's directory): removed with everything in it. */
static int op_remove(struct cur *c)
{
	char path[PATH_MAX];
	if (c->left == 0 || c->left >= PATH_MAX || memchr(c->p, 0, c->left) || c->p[0] != '/')
		return EINVAL;
	memcpy(path, c->p, c->left);
	path[c->left] = 0;
	char *slash = strrchr(path, '/');
	const char *name = slash + 1;
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return EINVAL;
	*slash = 0;
	int dir = open(*path ? path : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOENT ? 0 : errno;
	int r = remove_at(dir, name, 0);
	int e = errno;
	close(dir);
	cwd_root = -1; /* the directory we are in may be gone */
	return r < 0 ? e : 0;
}

static int serve(void)
{
	char *req = malloc(REQ_MAX);
	if (!req)
		return EX_SETUP;
	for (;;) {
		uint32_t len;
		if (read_full(SOCK, &len, 4) < 0)
			return 0; /* the CLI closed its end: done */
		if (len == 0 || len > REQ_MAX || read_full(SOCK, req, len) < 0)
			return EX_SETUP;
		struct cur c = {.p = req + 1, .left = len - 1};
		uint32_t index = 0;
		int err;
		reply_start();
		errno = 0;
		switch (req[0]) {
		case OP_ROOT: err = op_root(&c); break;
		case OP_OWN: err = op_own(&c, &index); break;
		case OP_STAT: err = op_stat(&c); break;
		case OP_LIST: err = op_list(&c); break;
		case OP_READLINK: err = op_readlink(&c); break;
		case OP_XATTRS: err = op_xattrs(&c); break;
		case OP_READ: err = op_read(&c); break;
		case OP_REMOVE: err = op_remove(&c); break;
		default: err = ENOSYS;
		}
		if (reply_send(err, index) < 0)
			return 0;
	}
}

/* "C H N,C H N" into a list of "C H N" entries, in place. */
static void split_map(char *s, struct strlist *l, char **v, int max)
{
	l->v = v;
	l->n = 0;
	for (char *save = NULL, *e = strtok_r(s, ",", &save); e && l->n < max; e = strtok_r(NULL, ",", &save))
		v[l->n++] = e;
	v[l->n] = NULL;
}

static int not_ready(const char *msg)
{
	reply_start();
	put(msg, strlen(msg));
	uint32_t len = (uint32_t)(out_len - 4);
	int32_t e = EPERM;
	memcpy(out, &len, 4);
	memcpy(out + 4, &e, 4);
	write_all(SOCK, out, out_len);
	return EX_SETUP;
}

int cmd_userns_serve(char *uidmap, char *gidmap)
{
	/* With the CLI: it may die of SIGKILL without closing its end. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	struct spec s;
	memset(&s, 0, sizeof s);
	char *uv[65], *gv[65];
	split_map(uidmap, &s.uidmap, uv, 64);
	split_map(gidmap, &s.gidmap, gv, 64);
	if (s.uidmap.n == 0 || s.gidmap.n == 0)
		return not_ready("userns-serve: no id mapping given");

	/* The maps are written by a child (newuidmap/newgidmap must see us in the new namespace). */
	pid_t self = getpid();
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return not_ready("userns-serve: pipe failed");
	pid_t mapper = fork();
	if (mapper < 0)
		return not_ready("userns-serve: fork failed");
	if (mapper == 0) {
		char b, err[MSG_MAX] = "";
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		if (map_ids(self, &s, err, sizeof err) < 0) {
			write_all(2, err, strlen(err));
			_exit(1);
		}
		_exit(0);
	}
	close(go[0]);
	char msg[MSG_MAX];
	if (unshare(CLONE_NEWUSER) < 0) {
		snprintf(msg, sizeof msg, "cannot create a user namespace: %s", errstr(errno));
		kill(mapper, SIGKILL);
		return not_ready(msg);
	}
	write_all(go[1], "g", 1);
	close(go[1]);
	int status;
	while (waitpid(mapper, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return not_ready("mapping the user namespace's ids failed (see above): are newuidmap/newgidmap installed and /etc/subuid, /etc/subgid set up?");
	/* Root of the namespace from here on: nobody may read our memory or take our descriptors. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(0);
	reply_start();
	if (reply_send(0, 0) < 0)
		return 0;
	return serve();
}
