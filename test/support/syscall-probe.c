/*
 * Tries syscalls a seccomp filter may deny, each with harmless arguments, and prints one line per
 * name: `NAME=OK` or `NAME=ERRNO` (e.g. `keyctl=EPERM`). Built static at test time, run inside a
 * container:  syscall-probe keyctl bpf unshare-user ...
 * Nothing here can change the host: bad magic numbers, NULL pointers, nonexistent paths.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fork whose child exits at once: the flags are what is tested. */
static long clone_flags(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		syscall(SYS_exit, 0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long probe(const char *name)
{
	if (!strcmp(name, "keyctl"))
		return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1);
	if (!strcmp(name, "add_key"))
		return syscall(SYS_add_key, "user", "tsctr-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING);
	if (!strcmp(name, "bpf"))
		return syscall(SYS_bpf, 9999, NULL, 0); /* unknown command: EINVAL when allowed */
	if (!strcmp(name, "perf_event_open"))
		return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0); /* EFAULT when allowed */
	if (!strcmp(name, "userfaultfd"))
		return syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */);
	if (!strcmp(name, "kcmp"))
		return syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0);
	if (!strcmp(name, "unshare-user"))
		return unshare(CLONE_NEWUSER);
	if (!strcmp(name, "clone-newuser"))
		return clone_flags(CLONE_NEWUSER);
	if (!strcmp(name, "clone3-newuser")) {
		/* struct clone_args: flags first, exit_signal at offset 32; 64 bytes is CLONE_ARGS_SIZE_VER0. */
		unsigned long long args[8] = {CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0};
		long r = syscall(SYS_clone3, args, sizeof args);
		if (r == 0)
			syscall(SYS_exit, 0);
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
		return r;
	}
	if (!strcmp(name, "io_uring_setup")) {
		char params[120] = {0}; /* struct io_uring_params */
		long r = syscall(SYS_io_uring_setup, 1, params);
		if (r >= 0)
			close((int)r);
		return r;
	}
	if (!strcmp(name, "socket-vsock")) {
		long r = syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0);
		if (r >= 0)
			close((int)r);
		return r;
	}
	if (!strcmp(name, "socket-inet")) {
		long r = syscall(SYS_socket, 2 /* AF_INET */, SOCK_STREAM, 0);
		if (r >= 0)
			close((int)r);
		return r;
	}
	if (!strcmp(name, "fork"))
		return clone_flags(0) > 0 ? 0 : -1;
	if (!strcmp(name, "mount-tmpfs"))
		return mount("none", "/tmp", "tmpfs", 0, NULL);
	if (!strcmp(name, "swapoff"))
		return syscall(SYS_swapoff, "/nonexistent-swap");
	if (!strcmp(name, "reboot"))
		return syscall(SYS_reboot, 0, 0, 0, NULL); /* bad magic: EINVAL at worst */
	if (!strcmp(name, "kexec_load"))
		return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (!strcmp(name, "init_module"))
		return syscall(SYS_init_module, NULL, 0, "");
	if (!strcmp(name, "open_by_handle_at"))
		return syscall(SYS_open_by_handle_at, -1, NULL, 0);
	if (!strcmp(name, "personality-odd"))
		return syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */);
	if (!strcmp(name, "personality-query"))
		return syscall(SYS_personality, 0xffffffff);
	if (!strcmp(name, "chroot"))
		return syscall(SYS_chroot, "/");
	if (!strcmp(name, "x32-getpid"))
		return syscall(0x40000000 | SYS_getpid);
	errno = ENOSYS;
	fprintf(stderr, "unknown probe %s\n", name);
	return -2;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		errno = 0;
		long r = probe(argv[i]);
		printf("%s=%s\n", argv[i], r >= 0 ? "OK" : strerrorname_np(errno));
	}
	return 0;
}
