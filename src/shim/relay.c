/* Copying a container process's I/O (and logging it in podman's k8s-file format). */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static struct termios saved_tio;
static int saved_tio_fd = -1;

int tty_raw(int fd)
{
	struct termios t;
	if (tcgetattr(fd, &saved_tio) < 0)
		return -1;
	t = saved_tio;
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return -1;
	saved_tio_fd = fd;
	return 0;
}

void tty_restore(void)
{
	if (saved_tio_fd >= 0)
		tcsetattr(saved_tio_fd, TCSANOW, &saved_tio);
	saved_tio_fd = -1;
}

void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* A new pty that follows no terminal: the spec's "ROWS COLS" (a client's console size), else 24x80. */
void initial_winsize(int master, const char *spec)
{
	struct winsize ws;
	if (ioctl(master, TIOCGWINSZ, &ws) < 0 || ws.ws_row)
		return;
	unsigned rows = 0, cols = 0;
	if (!spec || sscanf(spec, "%u %u", &rows, &cols) != 2 || !rows || !cols || rows > 65535 || cols > 65535)
		rows = 24, cols = 80;
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	ioctl(master, TIOCSWINSZ, &ws);
}

void relay_signals(sigset_t *set)
{
	sigemptyset(set);
	int sigs[] = {SIGCHLD, SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(set, sigs[i]);
}

static void pump(struct relay *r, int *fd, const char *stream, int *dst)
{
	char buf[8192];
	ssize_t n = read(*fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) { /* EOF, or EIO from a pty master once every slave is closed */
		close(*fd);
		*fd = -1;
		return;
	}
	if (r->log)
		log_chunk(r->log, stream, buf, (size_t)n);
	if (*dst >= 0 && write_all(*dst, buf, (size_t)n) < 0)
		*dst = -1; /* our reader went away: keep logging */
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void reap(struct relay *r, long *exited_at)
{
	int st;
	pid_t w;
	while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
		if (w == r->pid) {
			r->status = st;
			*exited_at = now_ms();
		} else if (r->other && w == *r->other) {
			*r->other = 0;
		} else if (r->health) {
			health_reaped(w, st);
		}
	}
}

/* The pty master, while there is one: the output end, or the stdin dup once the output is gone. */
static int master_of(const struct relay *r)
{
	return !r->tty ? -1 : r->out >= 0 ? r->out : r->in;
}

static void drop_client(struct attach_client *cl, int *holder, int i)
{
	close(cl[i].fd);
	cl[i].fd = -1;
	if (*holder == i)
		*holder = -1; /* a client detached: stdin stays open for the next one */
}

void relay_run(struct relay *r)
{
	char ibuf[ATTACH_DATA_MAX];
	size_t ilen = 0, ioff = 0;
	long exited_at = 0;
	int out1 = r->attach && !r->no_out ? 1 : -1, out2 = r->attach && !r->no_err ? 2 : -1;
	/* attach.sock's clients (and exec's resize pipe); `holder` is the one writing stdin */
	struct attach_client cl[ATTACH_MAX];
	int holder = -1;
	for (int i = 0; i < ATTACH_MAX; i++)
		cl[i].fd = -1;
	if (r->ctl >= 0)
		attach_client_init(&cl[0], r->ctl, 1);
	if (r->in >= 0)
		fcntl(r->in, F_SETFL, fcntl(r->in, F_GETFL) | O_NONBLOCK);
	/* A SIGCHLD read before we started would otherwise be lost. */
	reap(r, &exited_at);
	for (;;) {
		int done = exited_at != 0;
		if (done && r->out < 0 && r->err < 0)
			break;
		/* After the exit, drain what is buffered but do not wait on processes that
		 * outlived it and still hold the output open (a backgrounded child of exec). */
		if (done && now_ms() - exited_at > 2000)
			break;
		struct pollfd p[7 + ATTACH_MAX];
		int n = 0, iout = -1, ierr = -1, isrc = -1, iin = -1, ihealth = -1, ilsock = -1, icl[ATTACH_MAX];
		p[n++] = (struct pollfd){.fd = r->sigfd, .events = POLLIN};
		if (r->out >= 0)
			p[iout = n++] = (struct pollfd){.fd = r->out, .events = POLLIN};
		if (r->err >= 0)
			p[ierr = n++] = (struct pollfd){.fd = r->err, .events = POLLIN};
		if (!done && r->in >= 0) {
			if (ilen == 0 && r->src >= 0)
				p[isrc = n++] = (struct pollfd){.fd = r->src, .events = POLLIN};
			else if (ilen > 0)
				p[iin = n++] = (struct pollfd){.fd = r->in, .events = POLLOUT};
		}
		if (!done && r->lsock >= 0)
			p[ilsock = n++] = (struct pollfd){.fd = r->lsock, .events = POLLIN};
		for (int i = 0; i < ATTACH_MAX; i++) {
			icl[i] = -1;
			/* the holder waits while its last bytes are not in the container's stdin yet */
			if (!done && cl[i].fd >= 0 && (i != holder || ilen == 0))
				p[icl[i] = n++] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
		}
		if (r->health && !done && health_fd() >= 0)
			p[ihealth = n++] = (struct pollfd){.fd = health_fd(), .events = POLLIN};
		int k = poll(p, (nfds_t)n, done ? 200 : r->health ? health_wait_ms() : -1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (k == 0 && done)
			break; /* exited, and the outputs have been quiet */
		if (r->health && !done) {
			if (ihealth >= 0 && p[ihealth].revents)
				health_read();
			health_tick();
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(r->sigfd, &si, sizeof si) == sizeof si) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGCHLD) {
					reap(r, &exited_at);
				} else if (sig == SIGWINCH) {
					if (r->tty && r->out >= 0)
						copy_winsize(0, r->out);
				} else {
					if (sig == SIGTERM)
						r->got_term = 1;
					if (sig == SIGTERM && r->term_kills && !exited_at) {
						kill(-r->pid, SIGKILL); /* the probe's session, in the container */
						kill(r->pid, SIGKILL);
					} else if (r->forward && !exited_at)
						kill(r->pid, sig);
				}
			}
		}
		if (iout >= 0 && p[iout].revents)
			pump(r, &r->out, "stdout", &out1);
		if (ierr >= 0 && p[ierr].revents)
			pump(r, &r->err, "stderr", &out2);
		if (ilsock >= 0 && p[ilsock].revents) {
			int slot = -1;
			for (int i = 0; i < ATTACH_MAX && slot < 0; i++)
				if (cl[i].fd < 0)
					slot = i;
			int fd = attach_accept(r->lsock, slot < 0 ? "too many clients attached" : NULL);
			if (fd >= 0)
				attach_client_init(&cl[slot], fd, 0);
		}
		for (int i = 0; i < ATTACH_MAX; i++) {
			if (icl[i] < 0 || !p[icl[i]].revents || cl[i].fd < 0)
				continue;
			size_t got = 0;
			unsigned short rows = 0, cols = 0;
			int what = attach_read(&cl[i], ibuf + ilen, sizeof ibuf - ilen, &got, &rows, &cols);
			if (what == AC_CLOSE) {
				drop_client(cl, &holder, i);
			} else if (what == AC_DATA) {
				ilen = got; /* only the holder sends data, and only when ibuf is empty */
				ioff = 0;
			} else if (what == AC_RESIZE) {
				attach_resize(master_of(r), rows, cols);
			} else if (what == AC_CLAIM) {
				const char *why = r->attach || r->src >= 0 ? "the container's stdin is its caller's"
						  : holder >= 0 ? "another client is attached to the container's stdin"
						  : r->in < 0 ? "the container closed its stdin" : NULL;
				attach_reply(cl[i].fd, why);
				if (why) {
					drop_client(cl, &holder, i);
				} else {
					holder = i;
					cl[i].holder = 1;
				}
			}
		}
		if (isrc >= 0 && p[isrc].revents) {
			ssize_t m = read(r->src, ibuf, sizeof ibuf);
			if (m > 0) {
				ilen = (size_t)m;
				ioff = 0;
			} else if (m == 0 || (errno != EINTR && errno != EAGAIN)) {
				r->src = -1;
				if (!r->tty) { /* the container sees EOF on its stdin */
					close(r->in);
					r->in = -1;
				}
			}
		}
		if (iin >= 0 && p[iin].revents) {
			ssize_t m = write(r->in, ibuf + ioff, ilen - ioff);
			if (m > 0) {
				ioff += (size_t)m;
				if (ioff == ilen)
					ilen = 0;
			} else if (m < 0 && errno != EINTR && errno != EAGAIN) {
				ilen = 0; /* the container closed its stdin */
				if (holder >= 0)
					drop_client(cl, &holder, holder);
				r->src = -1;
				close(r->in);
				r->in = -1;
			}
		}
	}
	if (r->out >= 0)
		close(r->out);
	if (r->err >= 0)
		close(r->err);
	for (int i = 0; i < ATTACH_MAX; i++)
		if (cl[i].fd >= 0)
			close(cl[i].fd); /* clients see EOF: this run is over */
	r->out = r->err = -1;
	while (!exited_at && waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
		;
}
