/*
 * The default seccomp filter, modelled on docker's default profile but written the other way
 * round: docker allows a list and denies the rest, we allow everything but the syscalls a default
 * docker container is denied, so a syscall newer than this list is not broken by it.
 *
 * Like docker, some denials depend on the container's capabilities: mount, unshare, setns and
 * friends are allowed only with CAP_SYS_ADMIN, reboot only with CAP_SYS_BOOT, and so on. The
 * program is built by hand (no libseccomp: the shim must stay static and small).
 *
 * clone3 keeps its flags in memory, out of a filter's sight: it would be the way around the clone
 * flag check (clone3(CLONE_NEWUSER) gives a nested user namespace with every capability). As in
 * docker it fails with ENOSYS without CAP_SYS_ADMIN, so libcs fall back to clone, which the filter
 * can inspect. io_uring is denied (its operations bypass seccomp altogether), and so are AF_VSOCK
 * sockets (on a VM they reach the hypervisor host's services).
 */
#include "shim.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define CAP(n) (1ULL << (n))
/* Capability numbers from linux/capability.h, spelled out to keep the table readable. */
#define C_DAC_READ_SEARCH CAP(2)
#define C_SYS_MODULE CAP(16)
#define C_SYS_RAWIO CAP(17)
#define C_SYS_CHROOT CAP(18)
#define C_SYS_PTRACE CAP(19)
#define C_SYS_PACCT CAP(20)
#define C_SYS_ADMIN CAP(21)
#define C_SYS_BOOT CAP(22)
#define C_SYS_TIME CAP(25)
#define C_SYS_TTY_CONFIG CAP(26)
#define C_SYSLOG CAP(34)
#define C_PERFMON CAP(38)
#define C_BPF CAP(39)
#define NEVER 0ULL

/* Denied (EPERM) unless the container keeps one of `unless` (NEVER: always denied). */
static const struct {
	int nr;
	uint64_t unless;
} denied[] = {
	/* kernel and machine */
	{SYS_kexec_load, NEVER}, {SYS_kexec_file_load, NEVER},
	{SYS_init_module, C_SYS_MODULE}, {SYS_finit_module, C_SYS_MODULE},
	{SYS_delete_module, C_SYS_MODULE}, {SYS_create_module, NEVER},
	{SYS_get_kernel_syms, NEVER}, {SYS_query_module, NEVER}, {SYS_nfsservctl, NEVER},
	{SYS_uselib, NEVER}, {SYS__sysctl, NEVER}, {SYS_reboot, C_SYS_BOOT},
	{SYS_swapon, NEVER}, {SYS_swapoff, NEVER}, {SYS_acct, C_SYS_PACCT},
	{SYS_iopl, C_SYS_RAWIO}, {SYS_ioperm, C_SYS_RAWIO}, {SYS_vhangup, C_SYS_TTY_CONFIG},
	{SYS_syslog, C_SYS_ADMIN | C_SYSLOG},
	/* Setting the clock. adjtimex and clock_adjtime stay allowed, as in docker: reading
	 * and setting share them (the mode is in memory), and the kernel checks CAP_SYS_TIME. */
	{SYS_settimeofday, C_SYS_TIME}, {SYS_clock_settime, C_SYS_TIME},
	/* keyrings are not namespaced */
	{SYS_keyctl, NEVER}, {SYS_add_key, NEVER}, {SYS_request_key, NEVER},
	/* large kernel attack surface, or a window into other processes */
	{SYS_bpf, C_SYS_ADMIN | C_BPF}, {SYS_perf_event_open, C_SYS_ADMIN | C_PERFMON},
	{SYS_userfaultfd, NEVER}, {SYS_lookup_dcookie, C_SYS_ADMIN},
	{SYS_open_by_handle_at, C_DAC_READ_SEARCH}, {SYS_name_to_handle_at, C_SYS_ADMIN | C_DAC_READ_SEARCH},
	{SYS_kcmp, C_SYS_PTRACE}, {SYS_pidfd_getfd, C_SYS_PTRACE},
	{SYS_fanotify_init, C_SYS_ADMIN}, {SYS_quotactl, C_SYS_ADMIN}, {SYS_quotactl_fd, C_SYS_ADMIN},
	{SYS_io_uring_setup, NEVER}, {SYS_io_uring_enter, NEVER}, {SYS_io_uring_register, NEVER},
	/* namespaces and mounts */
	{SYS_mount, C_SYS_ADMIN}, {SYS_umount2, C_SYS_ADMIN}, {SYS_pivot_root, C_SYS_ADMIN},
	{SYS_unshare, C_SYS_ADMIN}, {SYS_setns, C_SYS_ADMIN},
	{SYS_open_tree, C_SYS_ADMIN}, {SYS_move_mount, C_SYS_ADMIN}, {SYS_fsopen, C_SYS_ADMIN},
	{SYS_fsconfig, C_SYS_ADMIN}, {SYS_fsmount, C_SYS_ADMIN}, {SYS_fspick, C_SYS_ADMIN},
	{SYS_mount_setattr, C_SYS_ADMIN}, {SYS_sethostname, C_SYS_ADMIN},
	{SYS_setdomainname, C_SYS_ADMIN}, {SYS_chroot, C_SYS_CHROOT},
};

#define AF_VSOCK_ 40
#define CLONE_NS_FLAGS 0x7E020000U /* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */
/* personality(2) values docker allows: PER_LINUX, UNAME26, PER_LINUX32 and UNAME26 with it, query. */
static const uint32_t personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

#define MAX_INSNS 256
struct prog {
	struct sock_filter f[MAX_INSNS];
	unsigned short n;
};

static void emit(struct prog *p, unsigned short code, unsigned char jt, unsigned char jf, uint32_t k)
{
	if (p->n == MAX_INSNS)
		fail(EX_SETUP, "seccomp filter too long");
	p->f[p->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

#define RET(p, v) emit(p, BPF_RET | BPF_K, 0, 0, (v))
#define DENY (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define LOAD(p, field) emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, field))
/* The low 32 bits of argument 0 (little-endian): enough for clone's flags and personality's persona. */
#define LOAD_ARG0(p) emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, args[0]))

static void build(struct prog *p, uint64_t caps)
{
	p->n = 0;
	/* Another ABI (i386 through int 0x80) would number syscalls differently: kill, as
	 * libseccomp does for a foreign architecture. */
	LOAD(p, arch);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64);
	RET(p, SECCOMP_RET_KILL_PROCESS);
	LOAD(p, nr);
	/* x32 syscalls share the x86_64 arch value but have this bit set. */
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000U);
	RET(p, DENY);
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
		if (denied[i].unless & caps)
			continue;
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)denied[i].nr);
		RET(p, DENY);
	}
	/* Each argument check below ends in a return, so A still holds nr wherever we fall through. */
	if (!(caps & C_SYS_ADMIN)) {
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, SYS_clone3);
		RET(p, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, SYS_clone);
		LOAD_ARG0(p);
		emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, CLONE_NS_FLAGS);
		RET(p, DENY);
		RET(p, SECCOMP_RET_ALLOW);
	}
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, SYS_socket);
	LOAD_ARG0(p);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, AF_VSOCK_);
	RET(p, DENY);
	RET(p, SECCOMP_RET_ALLOW);
	unsigned char np = sizeof personalities / sizeof personalities[0];
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, (unsigned char)(np + 3), SYS_personality);
	LOAD_ARG0(p);
	for (unsigned char i = 0; i < np; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, (unsigned char)(np - i), 0, personalities[i]);
	RET(p, DENY);
	RET(p, SECCOMP_RET_ALLOW);
	RET(p, SECCOMP_RET_ALLOW);
}

/* Needs no_new_privs or CAP_SYS_ADMIN: see the two callers in ns.c (which calls this file, never the reverse). */
void seccomp_apply(const struct spec *s)
{
	const char *mode = s->seccomp ? s->seccomp : "default";
	if (strcmp(mode, "unconfined") == 0)
		return;
	if (strcmp(mode, "default") != 0)
		fail(EX_SETUP, "unknown seccomp mode \"%s\" (want default or unconfined)", mode);
	char err[256];
	uint64_t caps;
	if (cap_parse(&s->caps, &caps, err, sizeof err) < 0)
		fail(EX_SETUP, "%s", err);
	static struct prog p;
	build(&p, caps);
	struct sock_fprog fprog = {.len = p.n, .filter = p.f};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
		failsys(EX_SETUP, "prctl PR_SET_SECCOMP");
}
