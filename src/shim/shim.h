/*
 * tsctr-shim: container creator, per-container monitor, exec helper and minimal init.
 * The Node CLI prepares everything and hands over a spec file; see README.md next to this file.
 */
#ifndef TSCTR_SHIM_H
#define TSCTR_SHIM_H

#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Exit codes with the meaning docker gives them. */
#define EX_SETUP 125
#define EX_NOEXEC 126
#define EX_NOTFOUND 127

#define MSG_MAX 2048

struct strlist {
	char **v; /* NULL-terminated */
	int n;
};

struct spec {
	const char *id, *rootfs, *upper, *work, *storage, *hostname, *network, *userns, *cwd;
	const char *uid, *gid, *groups, *log, *pid_file, *exit_file, *restart, *restart_count_file;
	const char *monitor_pid_file, *pid, *readonly, *nnp, *tty, *stdin_, *attach, *detach, *init;
	const char *seccomp, *cgroup, *helpers_file, *log_max_size, *log_max_file;
	struct strlist lower, uidmap, gidmap, mounts, env, argv, caps, rlimits, exit_command, prestart, helper, publish;
	struct strlist netattach;
	/* run flags: namespaces shared ("host" or a /proc/PID/ns/X path), /dev/shm, sysctls, OOM score */
	const char *pidns, *ipcns, *utsns, *privileged, *shm_size, *oom_score_adj;
	const char *fuse_uidmapping, *fuse_gidmapping; /* fuse-overlayfs shows the image's owners */
	struct strlist sysctls;
	/* health checks (health.c); durations in milliseconds */
	const char *health_spec, *health_file, *health_interval, *health_timeout, *health_retries;
	const char *health_start_period, *health_start_interval;
	/* the event journal (events.c) */
	const char *events_file, *event_attrs;
	/* `update --restart` of a running container: the policy, read again at each exit */
	const char *restart_file;
	/* run -a: the streams the CLI attaches to, "stdin,stdout,stderr" (absent: all) */
	const char *attach_streams;
	/* detached with -i: where the monitor listens for `tsctr attach` (attach.c) */
	const char *attach_socket;
	/* a pty's size when it follows no terminal of ours: "ROWS COLS" */
	const char *winsize;
	/* exec: fd 4 is a pipe of attach.c's RESIZE frames from the caller */
	const char *resize_pipe;
};

/* spec.c */
int spec_load(const char *path, struct spec *s, char *err, size_t errsz);
int spec_flag(const char *v);

/* events.c */
void event_init(const struct spec *s);
void event_append(const char *action, const char *extra);

/* util.c */
extern int g_errfd;          /* setup children report failures on this socket */
extern pid_t g_kill_on_fail; /* a helper the failing setup child must take down with it */
void fail(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void failsys(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *errstr(int err); /* strerror with a lower-case first letter, like Go prints it */
int write_all(int fd, const void *buf, size_t len);
int write_file_atomic(const char *path, const char *data, size_t len);
void fmt_rfc3339nano(char out[48]);

void fmt_rfc3339nano_at(char out[48], const struct timespec *ts);
int msg_send(int sock, const char *s, int fd);
ssize_t msg_recv(int sock, char *buf, size_t sz, int *fd);
void ensure_stdio(void);
void child_reset_signals(void);
int devnull_stdio(int keep_stderr);
int find_in_path(const char *name, const char *pathenv, char *out, size_t outsz);
int lookpath(const char *file, const char *pathenv, char *out, size_t outsz, char *err, size_t errsz);
pid_t spawn_capture(char *const argv[], int *outfd);
int wait_capture(pid_t pid, int outfd, char *out, size_t outsz);
int mkdir_p(const char *path, mode_t mode);
int exit_code_of(int status);
unsigned long long proc_starttime(pid_t pid); /* field 22 of /proc/PID/stat; 0 if gone */
int pid_line(char *buf, size_t sz, pid_t pid); /* "PID STARTTIME\n": a pid and which process it was */

/* ns.c */
int map_ids(pid_t pid, const struct spec *s, char *err, size_t errsz);
void loopback_up(void);
void setup_process(const struct spec *s, int create_cwd);
void exec_program(const struct spec *s, int via_init) __attribute__((noreturn));

/* caps.c */
int cap_parse(const struct strlist *caps, uint64_t *mask, char *err, size_t errsz);

/* seccomp.c */
void seccomp_apply(const struct spec *s);

/* mounts.c */
pid_t mount_rootfs(const struct spec *s, int in_userns);
void setup_mounts(const struct spec *s, int *master, int *slave);
void enter_rootfs(const char *rootfs);
int resolve_in_root(const char *root, const char *path, int create, char *out, size_t outsz);
#define RESOLVE_NOCREATE 0
#define RESOLVE_MKDIR 1
#define RESOLVE_MKFILE 2

/* log.c: the container's log (compact k8s-file records, rotated as docker's json-file) */
struct logfile {
	int fd; /* -1: no log */
	const char *path;
	long long max_size, size; /* max_size 0: unbounded */
	int max_files;
	struct timespec last; /* the time of the last record written, which "+N" counts from */
	int have_last;
};
int log_open(struct logfile *l, const struct spec *s, char *err, size_t errsz);
void log_chunk(struct logfile *l, const char *stream, const char *buf, size_t n);

/* relay.c: copies container I/O, logs it, waits for the process */
struct relay {
	int out, err;   /* container output read ends; with a tty out is the master, err -1 */
	int in;         /* container stdin write end (pipe or master), -1 if none */
	int src;        /* our stdin to copy into `in`, -1 if not copying */
	int attach;     /* also copy output to our fds 1/2 */
	int no_out, no_err; /* attached, but not to this stream (run -a) */
	struct logfile *log; /* the container's log, or NULL */
	int tty;        /* out is a pty master: follow SIGWINCH */
	int forward;    /* forward INT/TERM/HUP/QUIT/USR1/USR2 to pid */
	int sigfd;
	pid_t pid;      /* the process we wait for */
	pid_t *other;   /* another child we must notice dying (fuse-overlayfs); zeroed when reaped */
	int status;
	int got_term;   /* SIGTERM was received */
	int term_kills; /* a health probe: SIGTERM (its timeout) kills the process group */
	int health;     /* the monitor: run the container's health checks (health.c) meanwhile */
	int lsock;      /* attach.sock listening (or -1): its clients write stdin and resize the tty */
	int ctl;        /* exec: a pipe of RESIZE frames from the caller (or -1) */
};
void relay_run(struct relay *r);
void relay_signals(sigset_t *set);
void copy_winsize(int from, int to);
void initial_winsize(int master, const char *spec);
int tty_raw(int fd);
void tty_restore(void);

/* health.c: the container's health checks, run from the monitor's relay loop */
int health_init(const struct spec *s);
void health_start(pid_t init);  /* a (re)started container: status starting, no history */
int health_wait_ms(void);       /* until the next thing to do; -1 none */
int health_fd(void);            /* the running probe's output, or -1 */
void health_read(void);
void health_tick(void);         /* start a due probe, end one past its timeout */
int health_reaped(pid_t pid, int status); /* 1 if pid was the probe */
void health_stop(void);         /* the container is gone */

/* attach.c: attach.sock's clients write a detached container's stdin and resize its tty */
#define ATTACH_MAX 8 /* clients at once */
#define ATTACH_DATA_MAX 4096
enum { ATTACH_CLAIM = 1, ATTACH_DATA = 2, ATTACH_RESIZE = 3 };
enum { AC_NONE, AC_DATA, AC_CLAIM, AC_RESIZE, AC_CLOSE };
struct attach_client {
	int fd;
	int holder;    /* it claimed the container's stdin */
	int pipe_only; /* exec's resize pipe: RESIZE frames only */
	unsigned char hdr[4], body[4];
	unsigned hlen, blen, type, need;
};
int attach_listen(const char *path);
int attach_accept(int lsock, const char *refuse);
void attach_reply(int fd, const char *refuse);
void attach_client_init(struct attach_client *c, int fd, int pipe_only);
int attach_read(struct attach_client *c, char *buf, size_t cap, size_t *n, unsigned short *rows, unsigned short *cols);
void attach_resize(int master, unsigned short rows, unsigned short cols);

/* main.c: our own executable: the sealed copy where one runs (the container's --init and a
 * pod's pause are exec'ed from it); in the `run` monitor the file, for the health probes */
extern int g_self_fd;
int sealed_copy(void); /* a new sealed memfd copy of our executable (close-on-exec), or -1 */
extern int g_spec_fd;  /* the monitor's spec file, read again by the container's first process */

/* entry points */
int cmd_run(const char *specfile);
int cmd_exec(const char *specfile, const char *probe_pid);
int cmd_init(int argc, char **argv);
int cmd_ctr_stage(char **args);
int cmd_pause(void);
int cmd_netns_holder(int argc, char **argv);
int cmd_netns_ctl(int argc, char **argv);
int cmd_userns_serve(char *uidmap, char *gidmap); /* userns-ops.c */
int cmd_balance(const char *specfile); /* balance.c: replicas behind one host port */
int cmd_api_listen(int argc, char **argv); /* api-listen.c: holds the API socket, starts the server on demand */

/* forward.c: published TCP ports (see there) */
/* splice.c: one TCP connection's bytes both ways between two sockets (forward.c, balance.c) */
struct duplex {
	int fd[2];        /* side 0: the accepted client; side 1: the socket connected onward */
	int p[2][2];      /* direction d copies fd[d] -> fd[1-d] through pipe p[d], made at its first use */
	size_t queued[2]; /* bytes in p[d] */
	int eof[2], done[2];
	int connecting;   /* fd[1]'s connect is in progress */
	unsigned ev[2];   /* the epoll events registered for fd[0], fd[1] */
	int pipe_bytes;
};
void duplex_init(struct duplex *x, int client, int pipe_bytes);
/* fd[d] into its pipe when that is empty: bytes moved, 0 at EOF (eof[d] set), -1 on an error,
 * -2 when there was nothing to do (pipe not empty, EOF seen, nothing to read). */
ssize_t duplex_fill(struct duplex *x, int d);
/* The pipe into fd[1-d]; its EOF passed on (shutdown) once the pipe is empty. -1 on an error. */
int duplex_drain(struct duplex *x, int d);
int duplex_pump(struct duplex *x, int d); /* fill, then drain: -1 on an error */
/* Level-triggered interest: read a side while its pipe is empty, write it while the other's is not. */
unsigned duplex_want(const struct duplex *x, int side);
void duplex_arm(struct duplex *x, int ep, int side, unsigned want, void *ptr);
/* Closes both sockets and the pipes; `reset`: the client gets a reset, as from a closed port. */
void duplex_close(struct duplex *x, int reset);

int forward_listen(const struct strlist *publish, char *err, size_t errsz);
void forward_start(void);
/* Between a container's death and its restart: its TCP listeners, and resetting what they queued. */
int forward_pollfds(struct pollfd *p, int max);
int forward_refuse(void); /* -1: it cannot accept now (out of fds): stop polling them */

/* netattach.c: the monitor's requests to the network holder */
int netattach(const struct strlist *l, pid_t init, char *err, size_t errsz);

/* container.c */
void container_setup_child(const struct spec *s, int sock, const int stdio[3]) __attribute__((noreturn));

#endif
