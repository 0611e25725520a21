/* Spec file: NUL-terminated strings alternating KEY, VALUE; repeated keys build lists. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S(f) offsetof(struct spec, f), 0
#define L(f) offsetof(struct spec, f), 1

static const struct {
	const char *key;
	size_t off;
	int list;
} keys[] = {
	{"id", S(id)}, {"rootfs", S(rootfs)}, {"upper", S(upper)}, {"work", S(work)},
	{"storage", S(storage)}, {"hostname", S(hostname)}, {"network", S(network)},
	{"userns", S(userns)}, {"cwd", S(cwd)}, {"uid", S(uid)}, {"gid", S(gid)},
	{"groups", S(groups)}, {"log", S(log)}, {"pid-file", S(pid_file)},
	{"exit-file", S(exit_file)}, {"restart", S(restart)},
	{"restart-count-file", S(restart_count_file)}, {"monitor-pid-file", S(monitor_pid_file)},
	{"pid", S(pid)}, {"readonly", S(readonly)}, {"no-new-privs", S(nnp)}, {"tty", S(tty)},
	{"stdin", S(stdin_)}, {"attach", S(attach)}, {"detach", S(detach)}, {"init", S(init)},
	{"seccomp", S(seccomp)}, {"cgroup", S(cgroup)}, {"helpers-file", S(helpers_file)},
	{"log-max-size", S(log_max_size)}, {"log-max-file", S(log_max_file)},
	{"lower", L(lower)}, {"uidmap", L(uidmap)}, {"gidmap", L(gidmap)}, {"mount", L(mounts)},
	{"env", L(env)}, {"arg", L(argv)}, {"cap", L(caps)}, {"rlimit", L(rlimits)},
	{"exit-command", L(exit_command)}, {"prestart", L(prestart)},
	{"publish", L(publish)}, {"helper", L(helper)}, {"netattach", L(netattach)},
	{"health-spec", S(health_spec)}, {"health-file", S(health_file)},
	{"health-interval", S(health_interval)}, {"health-timeout", S(health_timeout)},
	{"health-retries", S(health_retries)}, {"health-start-period", S(health_start_period)},
	{"health-start-interval", S(health_start_interval)},
	{"pidns", S(pidns)}, {"ipcns", S(ipcns)}, {"utsns", S(utsns)}, {"privileged", S(privileged)},
	{"shm-size", S(shm_size)}, {"oom-score-adj", S(oom_score_adj)}, {"sysctl", L(sysctls)},
	{"fuse-uidmapping", S(fuse_uidmapping)}, {"fuse-gidmapping", S(fuse_gidmapping)},
	{"events-file", S(events_file)}, {"event-attrs", S(event_attrs)},
	{"restart-file", S(restart_file)}, {"attach-streams", S(attach_streams)},
	{"attach-socket", S(attach_socket)}, {"winsize", S(winsize)}, {"resize-pipe", S(resize_pipe)},
};

int spec_flag(const char *v)
{
	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

static int list_add(struct strlist *l, char *v)
{
	/* Grow in powers of two; lists are short. */
	if ((l->n & (l->n + 1)) == 0 || l->v == NULL) {
		char **nv = realloc(l->v, sizeof(char *) * (size_t)(2 * (l->n + 1) + 1));
		if (!nv)
			return -1;
		l->v = nv;
	}
	l->v[l->n++] = v;
	l->v[l->n] = NULL;
	return 0;
}

int spec_load(const char *path, struct spec *s, char *err, size_t errsz)
{
	memset(s, 0, sizeof *s);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errsz, "open spec %s: %s", path, errstr(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	char *buf = malloc(size + 2);
	if (!buf) {
		close(fd);
		snprintf(err, errsz, "spec %s: out of memory", path);
		return -1;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errsz, "read spec %s: %s", path, n < 0 ? errstr(errno) : "short read");
			close(fd);
			free(buf);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[size] = buf[size + 1] = 0; /* a missing final NUL is forgiven */

	char *p = buf, *end = buf + size;
	while (p < end) {
		char *key = p;
		p += strlen(p) + 1;
		if (p > end) {
			snprintf(err, errsz, "spec %s: key \"%s\" has no value", path, key);
			goto bad;
		}
		char *val = p;
		p += strlen(p) + 1;
		size_t i;
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (strcmp(keys[i].key, key) == 0)
				break;
		if (i == sizeof keys / sizeof keys[0]) {
			snprintf(err, errsz, "spec %s: unknown key \"%s\"", path, key);
			goto bad;
		}
		char *field = (char *)s + keys[i].off;
		if (keys[i].list) {
			if (list_add((struct strlist *)field, val) < 0) {
				snprintf(err, errsz, "spec %s: out of memory", path);
				goto bad;
			}
		} else {
			*(const char **)field = val;
		}
	}
	return 0; /* the spec's strings point into buf: it lives as long as the process */
bad:
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (keys[i].list)
			free(((struct strlist *)((char *)s + keys[i].off))->v);
	free(buf);
	return -1;
}
