/*
 * The bytes of one TCP connection between two sockets, both ways, with splice(2) through a pipe
 * per direction (never through user memory): what the port forwarder (forward.c) and the balancer
 * (balance.c) both do once a connection is made. One step moves at most one read and one write
 * (level-triggered epoll reports again what is left), so a small request costs two splice calls.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

void duplex_init(struct duplex *x, int client, int pipe_bytes)
{
	x->fd[0] = client;
	x->fd[1] = -1;
	x->p[0][0] = x->p[0][1] = x->p[1][0] = x->p[1][1] = -1;
	x->pipe_bytes = pipe_bytes;
}

ssize_t duplex_fill(struct duplex *x, int d)
{
	if (x->queued[d] > 0 || x->eof[d])
		return -2;
	/* Made at the first use: a connection that never gets this far costs no pipe (the user's pipe
	 * pages are counted, pipe-user-pages-soft). */
	if (x->p[d][0] < 0) {
		if (pipe2(x->p[d], O_NONBLOCK | O_CLOEXEC) < 0)
			return -1;
		fcntl(x->p[d][1], F_SETPIPE_SZ, x->pipe_bytes); /* best effort: pipe-max-size may be lower */
	}
	ssize_t n = splice(x->fd[d], NULL, x->p[d][1], NULL, (size_t)x->pipe_bytes, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n < 0)
		return errno == EAGAIN ? -2 : -1;
	if (n == 0)
		x->eof[d] = 1;
	x->queued[d] = (size_t)n;
	return n;
}

int duplex_drain(struct duplex *x, int d)
{
	if (x->queued[d] > 0) {
		ssize_t n = splice(x->p[d][0], NULL, x->fd[1 - d], NULL, x->queued[d], SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (n > 0)
			x->queued[d] -= (size_t)n;
	}
	if (x->eof[d] && x->queued[d] == 0 && !x->done[d]) {
		shutdown(x->fd[1 - d], SHUT_WR);
		x->done[d] = 1;
	}
	return 0;
}

int duplex_pump(struct duplex *x, int d)
{
	return duplex_fill(x, d) == -1 ? -1 : duplex_drain(x, d);
}

unsigned duplex_want(const struct duplex *x, int side)
{
	if (x->connecting)
		return side == 1 ? EPOLLOUT : 0;
	unsigned want = 0;
	if (!x->eof[side] && x->queued[side] == 0)
		want |= EPOLLIN;
	if (x->queued[1 - side] > 0)
		want |= EPOLLOUT;
	return want;
}

void duplex_arm(struct duplex *x, int ep, int side, unsigned want, void *ptr)
{
	if (want == x->ev[side])
		return;
	struct epoll_event e = {.events = want, .data.ptr = ptr};
	epoll_ctl(ep, EPOLL_CTL_MOD, x->fd[side], &e);
	x->ev[side] = want;
}

void duplex_close(struct duplex *x, int reset)
{
	if (reset && x->fd[0] >= 0) {
		struct linger lg = {1, 0};
		setsockopt(x->fd[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	for (int i = 0; i < 2; i++) {
		if (x->fd[i] >= 0)
			close(x->fd[i]); /* also leaves the epoll set: nothing else holds these */
		for (int k = 0; k < 2; k++)
			if (x->p[i][k] >= 0)
				close(x->p[i][k]);
	}
}
