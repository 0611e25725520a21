/*
 * The attacker of the exec test: runs as root inside a container and, for SECONDS, scans /proc
 * for processes other than itself and pid 1, trying what CVE-2019-5736 did to runc's exec helper:
 * read its environment, get a handle on its executable (to overwrite it later), and look at its
 * descriptors. Prints one line per success: `environ PID <text>`, `exe PID <target>`,
 * `fd PID N <target>`; then `done SCANS`.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	const char *needle = argc > 2 ? argv[2] : "TSCTR_SECRET";
	pid_t self = getpid();
	time_t end = time(NULL) + seconds;
	long scans = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (time(NULL) < end) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		scans++;
		while (d && (e = readdir(d))) {
			int pid = atoi(e->d_name);
			if (pid <= 1 || pid == self)
				continue;
			char path[64], buf[8192], link[512];
			snprintf(path, sizeof path, "/proc/%d/environ", pid);
			int fd = open(path, O_RDONLY);
			if (fd >= 0) {
				ssize_t n = read(fd, buf, sizeof buf - 1);
				close(fd);
				if (n > 0 && memmem(buf, (size_t)n, needle, strlen(needle)))
					printf("environ %d %s\n", pid, (char *)memmem(buf, (size_t)n, needle, strlen(needle)));
			}
			snprintf(path, sizeof path, "/proc/%d/exe", pid);
			ssize_t l = readlink(path, link, sizeof link - 1);
			if (l > 0) {
				link[l] = 0;
				/* The container's own programs are fine; anything else is the host's. */
				if (strncmp(link, "/bin/", 5) && strncmp(link, "/usr/", 5) && strncmp(link, "/probe/", 7)) {
					fd = open(path, O_RDONLY);
					if (fd >= 0) {
						printf("exe %d %s\n", pid, link);
						close(fd);
					}
				}
			}
			snprintf(path, sizeof path, "/proc/%d/fd", pid);
			DIR *fds = opendir(path);
			struct dirent *f;
			while (fds && (f = readdir(fds))) {
				if (f->d_name[0] == '.' || atoi(f->d_name) < 3)
					continue;
				char fp[384];
				snprintf(fp, sizeof fp, "%s/%s", path, f->d_name);
				l = readlink(fp, link, sizeof link - 1);
				if (l > 0) {
					link[l] = 0;
					printf("fd %d %s %s\n", pid, f->d_name, link);
				}
			}
			if (fds)
				closedir(fds);
		}
		if (d)
			closedir(d);
	}
	printf("done %ld\n", scans);
	return 0;
}
