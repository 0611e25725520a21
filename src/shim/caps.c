/*
 * Capability names, as docker and the OCI spec write them (with or without CAP_): the set a
 * container keeps (ns.c), the syscalls its seccomp filter allows with CAP_SYS_ADMIN (seccomp.c) and
 * the monitor's check of a spec (monitor.c) read them here. A file of its own so that ns.c and
 * seccomp.c do not call into each other: ns.c applies the filter, both read the names.
 */
#include "shim.h"

#include <stdio.h>
#include <strings.h>

static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

int cap_parse(const struct strlist *caps, uint64_t *mask, char *err, size_t errsz)
{
	*mask = 0;
	for (int i = 0; i < caps->n; i++) {
		const char *name = caps->v[i];
		if (strncasecmp(name, "CAP_", 4) == 0)
			name += 4;
		if (strcasecmp(name, "ALL") == 0) {
			*mask = ~0ULL;
			continue;
		}
		size_t c;
		for (c = 0; c < sizeof cap_names / sizeof cap_names[0]; c++)
			if (strcasecmp(name, cap_names[c]) == 0)
				break;
		if (c == sizeof cap_names / sizeof cap_names[0]) {
			snprintf(err, errsz, "unknown capability \"%s\"", caps->v[i]);
			return -1;
		}
		*mask |= 1ULL << c;
	}
	return 0;
}
