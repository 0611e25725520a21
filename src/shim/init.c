/* `tsctr-shim init -- ARGV`: a minimal pid 1 (docker run --init): forwards signals, reaps zombies. */
#include "shim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int cmd_init(int argc, char **argv)
{
	int i = 0;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc) {
		warnx("usage: tsctr-shim init -- COMMAND [ARG...]");
		return EX_SETUP;
	}
	/* Everything but faults is taken synchronously; a blocked signal still reaches a pid 1. */
	sigset_t all, none;
	sigfillset(&all);
	int faults[] = {SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS};
	for (size_t k = 0; k < sizeof faults / sizeof faults[0]; k++)
		sigdelset(&all, faults[k]);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, NULL);

	pid_t child = fork();
	if (child < 0) {
		warnx("init: fork: %s", strerror(errno));
		return EX_SETUP;
	}
	if (child == 0) {
		/* Own process group in the terminal's foreground, so ^C reaches it once, not via us too.
		 * tcsetpgrp from a background group is allowed while SIGTTOU is blocked. */
		setpgid(0, 0);
		if (isatty(0))
			tcsetpgrp(0, getpid());
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[i], argv + i);
		int e = errno;
		warnx("init: exec %s: %s", argv[i], strerror(e));
		_exit(e == ENOENT ? EX_NOTFOUND : EX_NOEXEC);
	}
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			if (sig != SIGTTIN && sig != SIGTTOU)
				kill(child, sig);
			continue;
		}
		int st, code = -1;
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			if (w == child)
				code = exit_code_of(st);
		if (code >= 0)
			return code;
	}
}

/* `tsctr-shim pause`: does nothing until told to stop. A pod's infra container runs it (under
 * init) to hold the network namespace its containers join, whatever they do. */
int cmd_pause(void)
{
	sigset_t stop;
	sigemptyset(&stop);
	int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP};
	for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
		sigaddset(&stop, sigs[k]);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	int sig;
	while (sigwait(&stop, &sig) != 0)
		;
	return 0;
}
