/*
 * The attacker of the symlink-race tests: swaps two names (RENAME_EXCHANGE) as fast as it can for
 * SECONDS, so that whoever walks the tree from outside meets a directory or a file one moment and
 * a symlink to the host the next.   racer A B SECONDS
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	time_t end = time(NULL) + atoi(argv[3]);
	long swaps = 0;
	while (time(NULL) < end)
		if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) == 0)
			swaps++;
	printf("swaps %ld\n", swaps);
	return 0;
}
