/*
 * LD_PRELOAD'ed into every dynamically linked program a command starts (the environment carries it
 * on): appends "PID EXE" to $TSCTR_EXEC_LOG when a process starts, so a test can count how many
 * times the tsctr executable (Node) was started for one command. Static programs (tsctr-shim) and
 * setuid ones (newuidmap, which ignore LD_PRELOAD) do not show up: they are not Node.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void note_start(void)
{
	const char *log = getenv("TSCTR_EXEC_LOG");
	char exe[4096], line[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (!log || n < 0)
		return;
	exe[n] = 0;
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	int len = snprintf(line, sizeof line, "%d %s\n", (int)getpid(), exe);
	if (write(fd, line, (size_t)len) < 0) {
		/* nothing to do: the test then counts too few and fails */
	}
	close(fd);
}
