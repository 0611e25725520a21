/* A UDP client for the network tests (busybox's nc has no UDP): `udp-ask IP PORT TEXT` sends TEXT
 * and prints the first datagram that comes back; exit 1 after 3 s without one. Built static. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: udp-ask IP PORT TEXT\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
	if (fd < 0 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
		fprintf(stderr, "udp-ask: bad address %s\n", argv[1]);
		return 2;
	}
	struct timeval tv = {.tv_sec = 3};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (sendto(fd, argv[3], strlen(argv[3]), 0, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("udp-ask: sendto");
		return 1;
	}
	char buf[65536];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	if (n < 0) {
		perror("udp-ask: recv");
		return 1;
	}
	fwrite(buf, 1, (size_t)n, stdout);
	putchar('\n');
	return 0;
}
