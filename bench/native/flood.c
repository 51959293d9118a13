// UDP flood for the guard bench: sendmmsg batches of small datagrams from a
// bound source to dst:port for a fixed time; prints packets sent and seconds.
//   flood SRC DST PORT SECONDS [SIZE]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
	struct mmsghdr msgs[64];
	struct iovec iov;
	char payload[1500] = {0};
	unsigned long long sent = 0;
	double t0, secs;
	int fd, size;

	if (argc < 5)
		return 2;
	size = argc > 5 ? atoi(argv[5]) : 64;
	inet_pton(AF_INET, argv[1], &src.sin_addr);
	inet_pton(AF_INET, argv[2], &dst.sin_addr);
	dst.sin_port = htons((unsigned short)atoi(argv[3]));
	secs = atof(argv[4]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("socket");
		return 1;
	}
	iov.iov_base = payload;
	iov.iov_len = (size_t)size;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < 64; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now();
	while (now() - t0 < secs) {
		int n = sendmmsg(fd, msgs, 64, 0);

		if (n > 0)
			sent += (unsigned long long)n;
	}
	printf("{\"sent\":%llu,\"seconds\":%.6f}\n", sent, now() - t0);
	return 0;
}
