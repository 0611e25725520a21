/* tsctr-shim: see README.md. */
#include "shim.h"

#include <string.h>
#include <unistd.h>

#define VERSION "0.1.0"

static int usage(void)
{
	static const char text[] =
		"usage: tsctr-shim run SPECFILE      create a container and monitor it\n"
		"       tsctr-shim exec SPECFILE     run a process in a running container\n"
		"       tsctr-shim init -- ARGV...   minimal init: forward signals, reap zombies\n"
		"       tsctr-shim pause             wait for SIGTERM (a pod's infra container)\n"
		"       tsctr-shim --version\n";
	write_all(2, text, sizeof text - 1);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "pause") == 0)
		return cmd_pause();
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		write_all(1, "tsctr-shim " VERSION "\n", sizeof("tsctr-shim " VERSION "\n") - 1);
		return 0;
	}
	if (argc != 3)
		return usage();
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argv[2]);
	if (strcmp(argv[1], "exec") == 0)
		return cmd_exec(argv[2]);
	return usage();
}
