/* User namespace mapping, loopback, and the last steps before exec: limits, ids, caps, exec. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grp.h>

static int write_map_direct(pid_t pid, const char *file, const struct strlist *l, char *err,
			    size_t errsz)
{
	char path[64], buf[1024];
	size_t len = 0;
	for (int i = 0; i < l->n; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s\n", l->v[i]);
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
		snprintf(err, errsz, "write %s: %s", path, errstr(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

struct map_tool {
	const char *tool;
	char exe[PATH_MAX], pid[16], words[64][3][24];
	char *argv[3 + 3 * 64 + 1];
	pid_t child;
	int out;
};

static int start_map_tool(struct map_tool *m, const char *tool, pid_t pid, const struct strlist *l,
			  char *err, size_t errsz)
{
	m->tool = tool;
	m->child = -1;
	if (find_in_path(tool, getenv("PATH"), m->exe, sizeof m->exe) < 0 &&
	    find_in_path(tool, "/usr/bin:/bin:/usr/sbin:/sbin", m->exe, sizeof m->exe) < 0) {
		snprintf(err, errsz, "%s not found: install the uidmap package", tool);
		return -1;
	}
	/* Each entry is "CONTAINER HOST COUNT": three words to the tool. */
	int argc = 0;
	m->argv[argc++] = m->exe;
	snprintf(m->pid, sizeof m->pid, "%d", (int)pid);
	m->argv[argc++] = m->pid;
	for (int i = 0; i < l->n && i < 64; i++) {
		if (sscanf(l->v[i], "%23s %23s %23s", m->words[i][0], m->words[i][1], m->words[i][2]) != 3) {
			snprintf(err, errsz, "bad id mapping \"%s\": want \"CONTAINER HOST COUNT\"", l->v[i]);
			return -1;
		}
		for (int k = 0; k < 3; k++)
			m->argv[argc++] = m->words[i][k];
	}
	m->argv[argc] = NULL;
	if ((m->child = spawn_capture(m->argv, &m->out)) < 0) {
		snprintf(err, errsz, "run %s: %s", m->exe, errstr(errno));
		return -1;
	}
	return 0;
}

static int finish_map_tool(struct map_tool *m, char *err, size_t errsz)
{
	char out[512];
	int st = wait_capture(m->child, m->out, out, sizeof out);
	if (st != 0) {
		snprintf(err, errsz, "%s %s failed (exit status %d): %s", m->tool, m->pid,
			 st < 0 ? -1 : exit_code_of(st), out[0] ? out : "no output");
		return -1;
	}
	return 0;
}

int map_ids(pid_t pid, const struct spec *s, char *err, size_t errsz)
{
	/* Real root may write the maps itself; everyone else needs the setuid helpers. */
	if (geteuid() == 0)
		return write_map_direct(pid, "uid_map", &s->uidmap, err, errsz) ||
		       write_map_direct(pid, "gid_map", &s->gidmap, err, errsz);
	/* Both setuid helpers take a couple of milliseconds: run them side by side. */
	static struct map_tool u, g; /* 16 KiB together: off the stack, only touched here */
	int ru = start_map_tool(&u, "newuidmap", pid, &s->uidmap, err, errsz);
	int rg = s->gidmap.n ? start_map_tool(&g, "newgidmap", pid, &s->gidmap, err, errsz) : 0;
	if (ru == 0 && finish_map_tool(&u, err, errsz) < 0)
		ru = -1;
	if (s->gidmap.n && rg == 0 && finish_map_tool(&g, err, errsz) < 0)
		rg = -1;
	return ru < 0 || rg < 0 ? -1 : 0;
}

void loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		failsys(EX_SETUP, "socket for bringing up lo");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		failsys(EX_SETUP, "ioctl SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		failsys(EX_SETUP, "ioctl SIOCSIFFLAGS lo up");
	close(fd);
}

static int capset3(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {
		{(uint32_t)eff, (uint32_t)perm, (uint32_t)inh},
		{(uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32)},
	};
	return (int)syscall(SYS_capset, &h, d);
}

static uint64_t cap_permitted_now(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
}

static const struct {
	const char *name;
	int res;
} rlimits[] = {
	{"AS", RLIMIT_AS}, {"CORE", RLIMIT_CORE}, {"CPU", RLIMIT_CPU}, {"DATA", RLIMIT_DATA},
	{"FSIZE", RLIMIT_FSIZE}, {"LOCKS", RLIMIT_LOCKS}, {"MEMLOCK", RLIMIT_MEMLOCK},
	{"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE}, {"NOFILE", RLIMIT_NOFILE},
	{"NPROC", RLIMIT_NPROC}, {"RSS", RLIMIT_RSS}, {"RTPRIO", RLIMIT_RTPRIO},
	{"RTTIME", RLIMIT_RTTIME}, {"SIGPENDING", RLIMIT_SIGPENDING}, {"STACK", RLIMIT_STACK},
};

static rlim_t parse_rlim(const char *s)
{
	if (strcmp(s, "-1") == 0 || strcasecmp(s, "unlimited") == 0)
		return RLIM_INFINITY;
	return (rlim_t)strtoull(s, NULL, 10);
}

static void apply_rlimits(const struct strlist *l)
{
	for (int i = 0; i < l->n; i++) {
		char name[32], soft[32], hard[32];
		if (sscanf(l->v[i], "%31s %31s %31s", name, soft, hard) != 3)
			fail(EX_SETUP, "bad rlimit \"%s\": want \"NAME SOFT HARD\"", l->v[i]);
		const char *n = strncasecmp(name, "RLIMIT_", 7) == 0 ? name + 7 : name;
		size_t k;
		for (k = 0; k < sizeof rlimits / sizeof rlimits[0]; k++)
			if (strcasecmp(n, rlimits[k].name) == 0)
				break;
		if (k == sizeof rlimits / sizeof rlimits[0])
			fail(EX_SETUP, "unknown rlimit \"%s\"", name);
		struct rlimit rl = {parse_rlim(soft), parse_rlim(hard)};
		if (setrlimit(rlimits[k].res, &rl) < 0)
			failsys(EX_SETUP, "setrlimit RLIMIT_%s %s %s", rlimits[k].name, soft, hard);
	}
}

/* Everything between "the mounts are done" and execve, shared by run and exec. */
void setup_process(const struct spec *s, int create_cwd)
{
	char err[256];
	/* Wait for the prestart hook (e.g. network setup) while still root with full
	 * credentials: once we switch ids the process is no longer dumpable, and the
	 * hook (pasta) could not open our namespaces through /proc any more. */
	if (s->prestart.n || s->helper.n || s->netattach.n) {
		char buf[8];
		if (msg_recv(g_errfd, buf, sizeof buf, NULL) <= 0 || buf[0] != 'G')
			_exit(EX_SETUP);
	}
	apply_rlimits(&s->rlimits);
	umask(022);

	/* Docker creates a missing WorkingDir; do it as root, before dropping ids. */
	const char *cwd = s->cwd && *s->cwd ? s->cwd : "/";
	if (chdir(cwd) < 0) {
		if (!create_cwd || errno != ENOENT || mkdir_p(cwd, 0755) < 0 || chdir(cwd) < 0)
			failsys(EX_SETUP, "chdir to cwd \"%s\"", cwd);
	}

	uid_t uid = s->uid ? (uid_t)strtoul(s->uid, NULL, 10) : 0;
	gid_t gid = s->gid ? (gid_t)strtoul(s->gid, NULL, 10) : 0;
	gid_t groups[NGROUPS_MAX > 256 ? 256 : NGROUPS_MAX];
	size_t ng = 0;
	for (const char *p = s->groups ? s->groups : ""; *p && ng < sizeof groups / sizeof groups[0];) {
		char *end;
		groups[ng++] = (gid_t)strtoul(p, &end, 10);
		p = *end == ',' ? end + 1 : end;
		if (end == p && *p)
			fail(EX_SETUP, "bad groups \"%s\"", s->groups);
	}
	if (setgroups(ng, groups) < 0)
		failsys(EX_SETUP, "setgroups");
	if (setresgid(gid, gid, gid) < 0)
		failsys(EX_SETUP, "setresgid %u", (unsigned)gid);

	/* Without no_new_privs a filter needs CAP_SYS_ADMIN: install it while we still have it,
	 * as runc does. It denies nothing the remaining steps use. */
	if (!spec_flag(s->nnp))
		seccomp_apply(s);
	uint64_t keep;
	if (cap_parse(&s->caps, &keep, err, sizeof err) < 0)
		fail(EX_SETUP, "%s", err);
	for (int c = 0; c < 64; c++)
		if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			failsys(EX_SETUP, "prctl PR_CAPBSET_DROP %d", c);
		}
	uint64_t full = cap_permitted_now();
	keep &= full;
	/* Inheritable must be set while we still hold CAP_SETPCAP; setresuid to a
	 * non-zero uid then clears permitted/effective as docker's runtime does. */
	if (capset3(full, full, keep) < 0)
		failsys(EX_SETUP, "capset");
	if (setresuid(uid, uid, uid) < 0)
		failsys(EX_SETUP, "setresuid %u", (unsigned)uid);
	if (uid == 0 && capset3(keep, keep, keep) < 0)
		failsys(EX_SETUP, "capset");
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (spec_flag(s->nnp) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		failsys(EX_SETUP, "prctl PR_SET_NO_NEW_PRIVS");
}

static const char *env_path(const struct spec *s)
{
	for (int i = s->env.n - 1; i >= 0; i--)
		if (strncmp(s->env.v[i], "PATH=", 5) == 0)
			return s->env.v[i] + 5;
	return NULL;
}

void exec_program(const struct spec *s, int via_init)
{
	char path[PATH_MAX], err[MSG_MAX];
	static char *empty_env[] = {NULL};
	char **envp = s->env.v ? s->env.v : empty_env;
	if (s->argv.n == 0)
		fail(EX_SETUP, "no command specified");
	/* A pod's infra container (/.tsctr-pause pause): that program is this one, exec'ed from the
	 * sealed copy like --init, so no host file has to be mounted into the container for it. */
	int self_pause = strcmp(s->argv.v[0], "/.tsctr-pause") == 0 && g_self_fd >= 0;
	int code = self_pause ? 0 : lookpath(s->argv.v[0], env_path(s), path, sizeof path, err, sizeof err);
	if (code)
		fail(code, "%s", err);

	/* Nothing of ours may leak into the container; the sync socket closes at exec. */
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) < 0)
		for (int fd = 3; fd < 1024; fd++)
			if (fd != g_errfd)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	for (int fd = 0; fd < 3; fd++) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0 && (fl & O_NONBLOCK))
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		fcntl(fd, F_SETFD, 0);
	}
	child_reset_signals();
	if (spec_flag(s->nnp))
		seccomp_apply(s); /* as late as possible: our own steps are not filtered */

	if (self_pause) {
		char *pause_argv[] = {"/.tsctr-pause", "pause", NULL};
		syscall(SYS_execveat, g_self_fd, "", pause_argv, envp, AT_EMPTY_PATH);
		failsys(EX_SETUP, "exec the pod's pause");
	}
	if (via_init) {
		char **argv = calloc((size_t)s->argv.n + 4, sizeof(char *));
		if (!argv)
			fail(EX_SETUP, "out of memory");
		argv[0] = "/dev/.tsctr-init";
		argv[1] = "init";
		argv[2] = "--";
		memcpy(argv + 3, s->argv.v, sizeof(char *) * (size_t)s->argv.n);
		/* From the sealed copy, not from a file: nothing of the host is mounted in for it. */
		syscall(SYS_execveat, g_self_fd, "", argv, envp, AT_EMPTY_PATH);
		failsys(EX_SETUP, "exec the init");
	}
	execve(path, s->argv.v, envp);
	int e = errno;
	fail(e == ENOENT ? EX_NOTFOUND : EX_NOEXEC, "exec: \"%s\": %s", s->argv.v[0], errstr(e));
}
