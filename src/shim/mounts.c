/* The container's filesystem: root (overlay / fuse-overlayfs / bind), /proc, /dev, /sys, spec mounts,
 * masking, pivot_root. All of it happens in the container's own mount namespace. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUSE_SUPER_MAGIC 0x65735546

static const char *g_root;

/*
 * Resolve `path` as if `root` were "/": symlinks are followed by hand, absolute ones relative to
 * root, ".." never climbs above it, so a hostile image cannot make us mount over host paths.
 * Missing components are created (directories; the last one per `create`).
 */
int resolve_in_root(const char *root, const char *path, int create, char *out, size_t outsz)
{
	char rel[PATH_MAX] = "", rest[PATH_MAX], tmp[PATH_MAX], full[PATH_MAX * 2];
	int links = 0;
	if (snprintf(rest, sizeof rest, "%s", path) >= (int)sizeof rest)
		return -ENAMETOOLONG;
	char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *e = strchrnul(p, '/');
		size_t len = (size_t)(e - p);
		char *next = e;
		if (len == 1 && p[0] == '.') {
			p = next;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(rel, '/');
			if (slash)
				*slash = 0;
			p = next;
			continue;
		}
		size_t rl = strlen(rel);
		if (rl + 1 + len >= sizeof rel)
			return -ENAMETOOLONG;
		char cand[PATH_MAX];
		memcpy(cand, rel, rl);
		cand[rl] = '/';
		memcpy(cand + rl + 1, p, len);
		cand[rl + 1 + len] = 0;
		snprintf(full, sizeof full, "%s%s", root, cand);
		const char *q = next;
		while (*q == '/')
			q++;
		int last = *q == 0;

		struct stat st;
		if (lstat(full, &st) < 0) {
			if (errno != ENOENT || create == RESOLVE_NOCREATE)
				return -errno;
			if (!last || create == RESOLVE_MKDIR) {
				if (mkdir(full, 0755) < 0 && errno != EEXIST)
					return -errno;
			} else {
				int fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (fd < 0 && errno != EEXIST)
					return -errno;
				if (fd >= 0)
					close(fd);
			}
			memcpy(rel, cand, strlen(cand) + 1);
			p = next;
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > 40)
				return -ELOOP;
			char target[PATH_MAX];
			ssize_t n = readlink(full, target, sizeof target - 1);
			if (n < 0)
				return -errno;
			target[n] = 0;
			if (snprintf(tmp, sizeof tmp, "%s/%s", target, next) >= (int)sizeof tmp)
				return -ENAMETOOLONG;
			memcpy(rest, tmp, strlen(tmp) + 1);
			p = rest;
			if (target[0] == '/')
				rel[0] = 0;
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode))
			return -ENOTDIR;
		memcpy(rel, cand, strlen(cand) + 1);
		p = next;
	}
	if (snprintf(out, outsz, "%s%s", root, rel) >= (int)outsz)
		return -ENAMETOOLONG;
	return 0;
}

/* Host path of container path `p`, resolved inside the root; fails the setup on error. */
static char *cpath(const char *p, int create, char *buf)
{
	int r = resolve_in_root(g_root, p, create, buf, PATH_MAX);
	if (r < 0) {
		errno = -r;
		failsys(EX_SETUP, "resolve %s in rootfs", p);
	}
	return buf;
}

static void mnt(const char *src, const char *target, const char *type, unsigned long flags,
		const char *data, const char *shown)
{
	if (mount(src, target, type, flags, data) < 0)
		failsys(EX_SETUP, "mount %s on %s", type ? type : src, shown ? shown : target);
}

/*
 * Add ro/nosuid/nodev/noexec to a mount. mount_setattr changes only what we ask for; the old
 * remount interface must repeat the flags the kernel locked on the source mount (EPERM otherwise).
 */
static void restrict_mount(const char *path, unsigned long flags, int recursive, const char *shown)
{
	struct mount_attr a = {0};
	if (flags & MS_RDONLY)
		a.attr_set |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		a.attr_set |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		a.attr_set |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		a.attr_set |= MOUNT_ATTR_NOEXEC;
	if (!a.attr_set)
		return;
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a, sizeof a) == 0)
		return;
	if (errno != ENOSYS)
		failsys(EX_SETUP, "mount_setattr %s", shown);
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		failsys(EX_SETUP, "statvfs %s", shown);
	unsigned long keep = 0;
	if (sv.f_flag & ST_NOSUID)
		keep |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		keep |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		keep |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		keep |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME)
		keep |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		keep |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		keep |= MS_RELATIME;
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | keep | flags, NULL) < 0)
		failsys(EX_SETUP, "remount %s", shown);
}

/* ---- root filesystem (runs in the setup process, outside the container's pid namespace) ---- */

static int bad_overlay_path(const char *p)
{
	return strchr(p, ',') || strchr(p, ':');
}

static char *overlay_opts(const struct spec *s, size_t skip, int userxattr)
{
	size_t len = 64;
	for (int i = 0; i < s->lower.n; i++)
		len += strlen(s->lower.v[i]) + 1;
	len += (s->upper ? strlen(s->upper) : 0) + (s->work ? strlen(s->work) : 0);
	char *o = malloc(len);
	if (!o)
		fail(EX_SETUP, "out of memory");
	size_t n = (size_t)snprintf(o, len, "lowerdir=");
	for (int i = 0; i < s->lower.n; i++)
		n += (size_t)snprintf(o + n, len - n, "%s%s", i ? ":" : "", s->lower.v[i] + skip);
	if (s->upper)
		n += (size_t)snprintf(o + n, len - n, ",upperdir=%s", s->upper + skip);
	if (s->work)
		n += (size_t)snprintf(o + n, len - n, ",workdir=%s", s->work + skip);
	if (userxattr)
		snprintf(o + n, len - n, ",userxattr");
	return o;
}

/* Length of the directory prefix shared by all overlay paths ("/a/b" of /a/b/x, /a/b/y). */
static size_t common_dir(const struct spec *s)
{
	const char *first = s->lower.v[0];
	size_t common = strlen(first);
	const char *all[3] = {s->upper, s->work, NULL};
	for (int i = 0; i < s->lower.n + 2; i++) {
		const char *p = i < s->lower.n ? s->lower.v[i] : all[i - s->lower.n];
		if (!p)
			continue;
		size_t k = 0;
		while (k < common && p[k] && p[k] == first[k])
			k++;
		common = k;
	}
	while (common > 0 && first[common] != '/')
		common--;
	return common;
}

static pid_t start_fuse_overlayfs(const struct spec *s)
{
	char exe[PATH_MAX];
	if (find_in_path("fuse-overlayfs", getenv("PATH"), exe, sizeof exe) < 0 &&
	    find_in_path("fuse-overlayfs", "/usr/bin:/usr/local/bin:/bin", exe, sizeof exe) < 0)
		fail(EX_SETUP, "fuse-overlayfs not found in $PATH");
	char *opts = overlay_opts(s, 0, 0);
	if (s->fuse_uidmapping && s->fuse_gidmapping) {
		/* --userns keep-id, --uidmap: the layers' owners are the default mapping's; fuse-overlayfs
		 * shows them as the image has them, whatever this namespace maps. */
		size_t n = strlen(opts) + strlen(s->fuse_uidmapping) + strlen(s->fuse_gidmapping) + 32;
		char *o = malloc(n);
		if (!o)
			fail(EX_SETUP, "out of memory");
		snprintf(o, n, "%s,uidmapping=%s,gidmapping=%s", opts, s->fuse_uidmapping, s->fuse_gidmapping);
		free(opts);
		opts = o;
	}
	/* A memfd as its stderr: never blocks, never SIGPIPEs, and we can read it back on failure. */
	int errfd = memfd_create("fuse-overlayfs-stderr", MFD_CLOEXEC);
	pid_t pid = fork();
	if (pid < 0)
		failsys(EX_SETUP, "fork fuse-overlayfs");
	if (pid == 0) {
		child_reset_signals();
		devnull_stdio(0);
		if (errfd >= 0)
			dup2(errfd, 2);
		char *argv[] = {exe, "-f", "-o", opts, (char *)s->rootfs, NULL};
		execv(exe, argv);
		_exit(127);
	}
	g_kill_on_fail = pid;
	/* In foreground mode it does not tell us when the mount is ready: watch for it. */
	for (int i = 0; i < 60000; i++) {
		struct statfs sf;
		if (statfs(s->rootfs, &sf) == 0 && (unsigned long)sf.f_type == FUSE_SUPER_MAGIC)
			return pid;
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			g_kill_on_fail = 0;
			char msg[512] = "";
			ssize_t n = errfd >= 0 ? pread(errfd, msg, sizeof msg - 1, 0) : 0;
			msg[n > 0 ? n : 0] = 0;
			while (n > 0 && msg[n - 1] == '\n')
				msg[--n] = 0;
			fail(EX_SETUP, "fuse-overlayfs on %s exited with status %d: %s", s->rootfs,
			     exit_code_of(st), msg[0] ? msg : "no error output");
		}
		struct timespec ts = {0, i < 100 ? 200000 : 1000000};
		nanosleep(&ts, NULL);
	}
	fail(EX_SETUP, "fuse-overlayfs on %s: timed out waiting for the mount", s->rootfs);
}

static void fsconfig_failed(int fs, const char *what, size_t optlen)
{
	int err = errno;
	char log[512] = "";
	ssize_t n = fs >= 0 ? read(fs, log, sizeof log - 1) : -1; /* "e overlayfs: <why>" */
	log[n > 2 ? n : 0] = 0;
	if (n > 0 && log[n - 1] == '\n')
		log[n - 1] = 0;
	errno = err;
	if (err == ENOSYS || (err == EINVAL && strstr(what, "lowerdir+")))
		fail(EX_SETUP, "overlay options too long (%zu bytes) and this kernel cannot take layers "
			       "one by one (lowerdir+ needs Linux 6.8): use fewer or shorter layer paths", optlen);
	failsys(EX_SETUP, "mount overlay (%s)%s%s", what, log[0] ? ": " : "", log[0] ? log + 2 : "");
}

static void mount_overlay_fsconfig(const struct spec *s, int userxattr, size_t optlen)
{
	int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		fsconfig_failed(fs, "fsopen", optlen);
	for (int i = 0; i < s->lower.n; i++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", s->lower.v[i], 0) < 0)
			fsconfig_failed(fs, "lowerdir+", optlen);
	if (s->upper && fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", s->upper, 0) < 0)
		fsconfig_failed(fs, "upperdir", optlen);
	if (s->work && fsconfig(fs, FSCONFIG_SET_STRING, "workdir", s->work, 0) < 0)
		fsconfig_failed(fs, "workdir", optlen);
	if (userxattr && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		fsconfig_failed(fs, "userxattr", optlen);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		fsconfig_failed(fs, "create", optlen);
	int m = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (m < 0)
		fsconfig_failed(fs, "fsmount", optlen);
	if (move_mount(m, "", AT_FDCWD, s->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		failsys(EX_SETUP, "move overlay mount to %s", s->rootfs);
	close(m);
	close(fs);
}

pid_t mount_rootfs(const struct spec *s, int in_userns)
{
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		failsys(EX_SETUP, "make / rprivate");
	if (s->lower.n == 0) {
		/* pivot_root needs a mount point. */
		mnt(s->rootfs, s->rootfs, NULL, MS_BIND | MS_REC, NULL, s->rootfs);
		return 0;
	}
	for (int i = 0; i < s->lower.n + 2; i++) {
		const char *p = i < s->lower.n ? s->lower.v[i] : (i == s->lower.n ? s->upper : s->work);
		if (p && (p[0] != '/' || bad_overlay_path(p)))
			fail(EX_SETUP, "overlay path \"%s\" must be absolute and contain no ',' or ':'", p);
	}
	const char *storage = s->storage ? s->storage : "overlay";
	if (strcmp(storage, "fuse-overlayfs") == 0)
		return start_fuse_overlayfs(s);
	if (strcmp(storage, "overlay") != 0)
		fail(EX_SETUP, "unknown storage \"%s\"", storage);

	char *opts = overlay_opts(s, 0, in_userns);
	long page = sysconf(_SC_PAGESIZE);
	if ((long)strlen(opts) >= page - 1) {
		/* mount(2) copies one page of options: go relative to the common parent. */
		size_t c = common_dir(s);
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%.*s", (int)(c ? c : 1), s->lower.v[0]);
		if (chdir(dir) < 0)
			failsys(EX_SETUP, "chdir %s", dir);
		free(opts);
		opts = overlay_opts(s, c + 1, in_userns);
		if ((long)strlen(opts) >= page - 1) {
			/* Still too long: Linux >= 6.8 takes the layers one by one. */
			mount_overlay_fsconfig(s, in_userns, strlen(opts));
			free(opts);
			return 0;
		}
	}
	mnt("overlay", s->rootfs, "overlay", 0, opts, s->rootfs);
	free(opts);
	return 0;
}

/* ---- inside the container's pid namespace ---- */

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		failsys(EX_SETUP, "create %s", path);
	close(fd);
}

static void setup_dev(const struct spec *s)
{
	char d[PATH_MAX], t[PATH_MAX + 32];
	static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"}, {"/proc/kcore", "core"},
	};
	cpath("/dev", RESOLVE_MKDIR, d);
	mnt("tmpfs", d, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", "/dev");
	/* mknod is not allowed in a user namespace: bind the host's nodes instead. */
	for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
		char src[32];
		snprintf(src, sizeof src, "/dev/%s", devices[i]);
		snprintf(t, sizeof t, "%s/%s", d, devices[i]);
		touch(t);
		if (mount(src, t, NULL, MS_BIND, NULL) < 0)
			failsys(EX_SETUP, "bind %s on /dev/%s", src, devices[i]);
	}
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		snprintf(t, sizeof t, "%s/%s", d, links[i][1]);
		if (symlink(links[i][0], t) < 0)
			failsys(EX_SETUP, "symlink /dev/%s", links[i][1]);
	}
	snprintf(t, sizeof t, "%s/pts", d);
	mkdir(t, 0755);
	/* gid=5 is only valid when gid 5 is mapped into our user namespace. */
	if (mount("devpts", t, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
		mnt("devpts", t, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620",
		    "/dev/pts");
	snprintf(t, sizeof t, "%s/shm", d);
	mkdir(t, 01777);
	if (s->ipcns && strcmp(s->ipcns, "host") == 0) {
		/* --ipc host: POSIX shared memory is the host's too, as docker binds it. */
		mnt("/dev/shm", t, NULL, MS_BIND | MS_REC, NULL, "/dev/shm");
	} else {
		char shm[64];
		snprintf(shm, sizeof shm, "mode=1777,size=%s", s->shm_size ? s->shm_size : "65536k");
		mnt("shm", t, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm, "/dev/shm");
	}
	snprintf(t, sizeof t, "%s/mqueue", d);
	mkdir(t, 0755);
	if (mount("mqueue", t, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		rmdir(t);
}

static void open_pty(int *master, int *slave)
{
	char d[PATH_MAX], t[PATH_MAX + 32];
	cpath("/dev", RESOLVE_NOCREATE, d);
	snprintf(t, sizeof t, "%s/pts/ptmx", d);
	*master = open(t, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		failsys(EX_SETUP, "open /dev/pts/ptmx");
	int unlock = 0;
	unsigned int n;
	if (ioctl(*master, TIOCSPTLCK, &unlock) < 0 || ioctl(*master, TIOCGPTN, &n) < 0)
		failsys(EX_SETUP, "unlock pty");
	snprintf(t, sizeof t, "%s/pts/%u", d, n);
	*slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		*slave = open(t, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		failsys(EX_SETUP, "open pty slave /dev/pts/%u", n);
	char con[PATH_MAX + 32];
	snprintf(con, sizeof con, "%s/console", d);
	touch(con);
	if (mount(t, con, NULL, MS_BIND, NULL) < 0)
		failsys(EX_SETUP, "bind /dev/pts/%u on /dev/console", n);
}

static const struct {
	const char *name;
	unsigned long set, clear;
	int propagation;
} mount_opts[] = {
	{"ro", MS_RDONLY, 0, 0}, {"rw", 0, MS_RDONLY, 0}, {"nosuid", MS_NOSUID, 0, 0},
	{"suid", 0, MS_NOSUID, 0}, {"nodev", MS_NODEV, 0, 0}, {"dev", 0, MS_NODEV, 0},
	{"noexec", MS_NOEXEC, 0, 0}, {"exec", 0, MS_NOEXEC, 0}, {"bind", MS_BIND, 0, 0},
	{"rbind", MS_BIND | MS_REC, 0, 0}, {"sync", MS_SYNCHRONOUS, 0, 0},
	{"dirsync", MS_DIRSYNC, 0, 0}, {"noatime", MS_NOATIME, 0, 0},
	{"nodiratime", MS_NODIRATIME, 0, 0}, {"relatime", MS_RELATIME, 0, 0},
	{"strictatime", MS_STRICTATIME, 0, 0}, {"private", MS_PRIVATE, 0, 1},
	{"rprivate", MS_PRIVATE | MS_REC, 0, 1}, {"slave", MS_SLAVE, 0, 1},
	{"rslave", MS_SLAVE | MS_REC, 0, 1}, {"shared", MS_SHARED, 0, 1},
	{"rshared", MS_SHARED | MS_REC, 0, 1}, {"unbindable", MS_UNBINDABLE, 0, 1},
	{"runbindable", MS_UNBINDABLE | MS_REC, 0, 1},
};

/* One spec `mount` entry: "TYPE\tSOURCE\tDEST\tOPTIONS". */
static void spec_mount(const char *entry)
{
	char buf[PATH_MAX * 3], data[PATH_MAX], target[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", entry) >= (int)sizeof buf)
		fail(EX_SETUP, "mount entry too long");
	char *type = buf, *src = strchr(type, '\t'), *dest = src ? strchr(src + 1, '\t') : NULL;
	if (!dest)
		fail(EX_SETUP, "bad mount entry \"%s\": want TYPE\\tSOURCE\\tDEST\\tOPTIONS", entry);
	*src++ = 0;
	*dest++ = 0;
	char *opts = strchr(dest, '\t');
	if (opts)
		*opts++ = 0;
	if (dest[0] != '/')
		fail(EX_SETUP, "mount destination \"%s\" is not absolute", dest);

	unsigned long flags = 0, prop = 0;
	size_t dl = 0;
	data[0] = 0;
	for (char *o = opts; o && *o;) {
		char *e = strchrnul(o, ',');
		char c = *e;
		*e = 0;
		size_t k;
		for (k = 0; k < sizeof mount_opts / sizeof mount_opts[0]; k++)
			if (strcmp(o, mount_opts[k].name) == 0)
				break;
		if (k < sizeof mount_opts / sizeof mount_opts[0]) {
			if (mount_opts[k].propagation)
				prop = mount_opts[k].set;
			else
				flags = (flags | mount_opts[k].set) & ~mount_opts[k].clear;
		} else if (*o) {
			dl += (size_t)snprintf(data + dl, sizeof data - dl, "%s%s", dl ? "," : "", o);
		}
		o = c ? e + 1 : e;
	}
	int bind = strcmp(type, "bind") == 0 || (flags & MS_BIND);
	if (bind) {
		struct stat st;
		if (stat(src, &st) < 0)
			failsys(EX_SETUP, "bind mount source %s", src);
		cpath(dest, S_ISDIR(st.st_mode) ? RESOLVE_MKDIR : RESOLVE_MKFILE, target);
		unsigned long rec = flags & MS_REC;
		if (mount(src, target, NULL, MS_BIND | rec, NULL) < 0)
			failsys(EX_SETUP, "bind mount %s on %s", src, dest);
		restrict_mount(target, flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), rec != 0,
			       dest);
	} else {
		cpath(dest, RESOLVE_MKDIR, target);
		if (mount(*src ? src : type, target, type, flags, dl ? data : NULL) < 0)
			failsys(EX_SETUP, "mount %s on %s", type, dest);
	}
	if (prop && mount(NULL, target, NULL, prop, NULL) < 0)
		failsys(EX_SETUP, "set propagation of %s", dest);
}

/* runc's default masked and read-only paths. */
static const char *const masked[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static void mask_paths(void)
{
	char t[PATH_MAX];
	struct stat st;
	for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
		if (resolve_in_root(g_root, masked[i], RESOLVE_NOCREATE, t, sizeof t) < 0 ||
		    stat(t, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			mnt("tmpfs", t, "tmpfs", MS_RDONLY, NULL, masked[i]);
		else if (mount("/dev/null", t, NULL, MS_BIND, NULL) < 0)
			failsys(EX_SETUP, "mask %s", masked[i]);
	}
	for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) {
		if (resolve_in_root(g_root, readonly[i], RESOLVE_NOCREATE, t, sizeof t) < 0)
			continue;
		if (mount(t, t, NULL, MS_BIND | MS_REC, NULL) < 0)
			failsys(EX_SETUP, "bind %s read-only", readonly[i]);
		restrict_mount(t, MS_RDONLY, 1, readonly[i]);
	}
}

/* --sysctl KEY=VALUE (only namespaced keys reach here): written through the container's own
 * fresh /proc, before /proc/sys is made read-only. */
static void set_sysctls(const struct strlist *l)
{
	for (int i = 0; i < l->n; i++) {
		char rel[PATH_MAX], t[PATH_MAX];
		const char *eq = strchr(l->v[i], '=');
		if (!eq || eq == l->v[i] || (size_t)(eq - l->v[i]) > 200)
			fail(EX_SETUP, "bad sysctl \"%s\": want KEY=VALUE", l->v[i]);
		int n = snprintf(rel, sizeof rel, "/proc/sys/%.*s", (int)(eq - l->v[i]), l->v[i]);
		for (char *p = rel + 10; p < rel + n; p++)
			if (*p == '.')
				*p = '/';
		if (strstr(rel, "/../") || resolve_in_root(g_root, rel, RESOLVE_NOCREATE, t, sizeof t) < 0)
			fail(EX_SETUP, "sysctl %.*s: no such key in this kernel", (int)(eq - l->v[i]), l->v[i]);
		int fd = open(t, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || write(fd, eq + 1, strlen(eq + 1)) < 0)
			failsys(EX_SETUP, "sysctl %s", l->v[i]);
		close(fd);
	}
}

void setup_mounts(const struct spec *s, int *master, int *slave)
{
	char t[PATH_MAX];
	g_root = s->rootfs;

	/* A fresh proc: it shows the new pid namespace, which is why this runs as its pid 1. */
	cpath("/proc", RESOLVE_MKDIR, t);
	if (s->pidns && strcmp(s->pidns, "host") == 0) {
		/* --pid host: the host's pid namespace belongs to the host's user namespace, so no
		 * proc of it may be mounted here; the host's /proc is bound instead. */
		mnt("/proc", t, NULL, MS_BIND | MS_REC, NULL, "/proc");
	} else {
		mnt("proc", t, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "/proc");
	}
	set_sysctls(&s->sysctls);
	setup_dev(s);

	/* sysfs may only be mounted by the owner of the network namespace (EPERM for the host's). */
	cpath("/sys", RESOLVE_MKDIR, t);
	if (mount("sysfs", t, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		mnt("/sys", t, NULL, MS_BIND | MS_REC, NULL, "/sys");
		restrict_mount(t, MS_RDONLY, 1, "/sys");
	}
	/* With a cgroup of its own, the container reads its limits where programs look for them
	 * (memory.max, cpu.max, pids.max), read-only, from its cgroup namespace's root. */
	if (s->cgroup) {
		cpath("/sys/fs/cgroup", RESOLVE_NOCREATE, t);
		mnt("cgroup2", t, "cgroup2", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "/sys/fs/cgroup");
	}

	if (spec_flag(s->tty))
		open_pty(master, slave);

	for (int i = 0; i < s->mounts.n; i++)
		spec_mount(s->mounts.v[i]);
	/* --privileged: every path of /proc and /sys as the kernel shows it, as docker does. */
	if (!spec_flag(s->privileged))
		mask_paths();

	if (spec_flag(s->readonly))
		restrict_mount(s->rootfs, MS_RDONLY, 0, "/");
}

void enter_rootfs(const char *rootfs)
{
	/* pivot_root, not chroot: the old root is detached, so no chroot trick can climb back. */
	if (chdir(rootfs) < 0)
		failsys(EX_SETUP, "chdir %s", rootfs);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		failsys(EX_SETUP, "pivot_root %s", rootfs);
	if (umount2(".", MNT_DETACH) < 0)
		failsys(EX_SETUP, "detach old root");
	if (chdir("/") < 0)
		failsys(EX_SETUP, "chdir /");
}
