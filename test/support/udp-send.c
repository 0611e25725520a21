/* `udp-send IP PORT HEX...`: sends each HEX string as one datagram from one socket, then prints
 * (in hex, one line each) every datagram that comes back within a second. For tests that must
 * send malformed packets from inside a container (busybox's nc has no UDP). Built static by the test. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: udp-send IP PORT HEX...\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
	if (fd < 0 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
		perror("udp-send");
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		unsigned char buf[4096];
		size_t n = 0;
		for (const char *p = argv[i]; p[0] && p[1] && n < sizeof buf; p += 2) {
			unsigned v;
			sscanf(p, "%2x", &v);
			buf[n++] = (unsigned char)v;
		}
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&a, sizeof a) < 0)
			perror("udp-send: sendto");
	}
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, 1000) > 0) {
		unsigned char buf[4096];
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0)
			break;
		for (ssize_t k = 0; k < n; k++)
			printf("%02x", buf[k]);
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
