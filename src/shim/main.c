/* tsctr-shim: see README.md. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x10U
#endif
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;
int g_self_fd = -1; /* opened by `run` (monitor.c) once it has closed what it inherited */
int g_spec_fd = -1;

/*
 * The container's root is the user's own uid: a shim run from a file the user owns would offer
 * the container that file (through /proc/PID/exe of `exec`'s process, of an --init, or of the
 * container's first process until its execve: an entrypoint `#!/proc/self/exe`), and its code
 * would run on the host at the next start. So, as runc does since CVE-2019-5736, whatever the
 * container can reach runs from a sealed in-memory copy that nobody can write. The `run` monitor
 * itself cannot be reached (another pid and user namespace): it stays on the file, whose pages
 * are shared page cache, and makes a copy per start for the container's first process only.
 */
int sealed_copy(void)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -1;
	struct stat st;
	int mfd = memfd_create("tsctr-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL) /* kernels before 6.3 know no MFD_EXEC */
		mfd = memfd_create("tsctr-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || fstat(self, &st) < 0)
		goto fail;
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = sendfile(mfd, self, &done, (size_t)(st.st_size - done));
		if (n <= 0)
			goto fail;
	}
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		goto fail;
	close(self);
	return mfd;
fail:;
	int e = errno;
	close(self);
	if (mfd >= 0)
		close(mfd);
	errno = e;
	return -1;
}

static int is_sealed(void)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int sealed = self >= 0 && fcntl(self, F_GET_SEALS) == SEALS;
	if (self >= 0)
		close(self);
	return sealed;
}

static int run_sealed(char **argv)
{
	if (is_sealed())
		return 0;
	int mfd = sealed_copy();
	if (mfd < 0)
		return -1;
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	return -1;
}

#define VERSION "0.1.0"

static int usage(void)
{
	static const char text[] =
		"usage: tsctr-shim run SPECFILE      create a container and monitor it\n"
		"       tsctr-shim exec SPECFILE     run a process in a running container\n"
		"       tsctr-shim exec SPECFILE PID a health probe in container PID (SIGTERM kills it)\n"
		"       tsctr-shim init -- ARGV...   minimal init: forward signals, reap zombies\n"
		"       tsctr-shim pause             wait for SIGTERM (a pod's infra container)\n"
		"       tsctr-shim netns-holder DIR [--join-userns PATH] --uidmap MAP... --gidmap MAP...\n"
		"                                    the per-user network holder (bridges, veths, DNS)\n"
		"       tsctr-shim netns-ctl SOCKET REQUEST...  ask the network holder\n"
		"       tsctr-shim userns-serve UIDMAP GIDMAP  file operations as root of a user namespace, on fd 3\n"
		"       tsctr-shim balance SPECFILE  one host port spread over replicas\n"
		"       tsctr-shim api-listen [--fd N] [--time SECONDS] [--unlink PATH] -- /WORKER ARGS...\n"
		"                                    hold the API socket, start the server per connection burst\n"
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
	if (argc >= 2 && strcmp(argv[1], "netns-ctl") == 0) /* a client only: no sealed copy needed */
		return cmd_netns_ctl(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "api-listen") == 0) /* touches no container: no sealed copy */
		return cmd_api_listen(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		write_all(1, "tsctr-shim " VERSION "\n", sizeof("tsctr-shim " VERSION "\n") - 1);
		return 0;
	}
	/* The container's first process, re-executed from its sealed copy (container.c). */
	if (argc == 8 && strcmp(argv[1], "ctr-stage") == 0 && is_sealed())
		return cmd_ctr_stage(argv + 2);
	/* The monitor: out of the container's reach, it runs from the shared file (see above). */
	if (argc == 3 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv[2]);
	int holder = argc >= 3 && strcmp(argv[1], "netns-holder") == 0;
	int serve = argc == 4 && strcmp(argv[1], "userns-serve") == 0;
	if (argc != 3 && !holder && !serve && !(argc == 4 && strcmp(argv[1], "exec") == 0))
		return usage();
	if (run_sealed(argv) < 0) {
		char msg[160];
		int n = snprintf(msg, sizeof msg, "Error: tsctr-shim: run from a sealed copy of itself: %s\n", errstr(errno));
		write_all(2, msg, (size_t)n);
		return EX_SETUP;
	}
	if (holder) /* containers share its user namespace: it runs sealed too */
		return cmd_netns_holder(argc - 2, argv + 2);
	if (serve)
		return cmd_userns_serve(argv[2], argv[3]);
	if (strcmp(argv[1], "balance") == 0)
		return cmd_balance(argv[2]);
	if (strcmp(argv[1], "exec") == 0)
		return cmd_exec(argv[2], argc == 4 ? argv[3] : NULL);
	return usage();
}
