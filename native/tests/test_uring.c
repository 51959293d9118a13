// io_uring sender against a loopback TCP listener in this process: byte-exact
// delivery with plain and zero-copy sends, and an error once the peer closed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static int listener(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(fd >= 0, "socket");
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind");
	CHECK(listen(fd, 4) == 0, "listen");
	CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0, "getsockname");
	*port = ntohs(a.sin_port);
	return fd;
}

/* reap until every send reported its result (and, with want_free, released
 * its buffer: a zero-copy send on loopback releases only once the receiver
 * consumed the data) */
static uint32_t sent, freed;

static void drain(struct edgelog_uring_sender *s, uint32_t nsends, int want_free, int64_t *bytes, int *first_err)
{
	struct edgelog_uring_completion c[32];

	while (sent < nsends || (want_free && freed < nsends)) {
		int n = uring_sender_reap(s, c, 32, 1, 2000);

		CHECK(n > 0, "reap returned %d (sent %u freed %u of %u)", n, sent, freed, nsends);
		for (int i = 0; i < n; i++) {
			if (getenv("DEBUG"))
				fprintf(stderr, "cqe ud=%llu res=%d flags=%u\n", (unsigned long long)c[i].user_data, c[i].res, c[i].flags);
			if (c[i].flags & EDGELOG_URING_C_SENT) {
				sent++;
				if (c[i].res < 0 && !*first_err)
					*first_err = c[i].res;
				if (c[i].res > 0)
					*bytes += c[i].res;
			}
			if (c[i].flags & EDGELOG_URING_C_BUF_FREE)
				freed++;
		}
	}
	if (want_free) {
		CHECK(uring_sender_inflight(s) == 0, "inflight %u", uring_sender_inflight(s));
		sent = freed = 0;
	}
}

static void round_trip(uint32_t zc_threshold)
{
	struct edgelog_uring_opts o = {.sz = sizeof(o), .sq_entries = 16, .buf_count = 4, .buf_size = 256 * 1024,
				       .zc_threshold = zc_threshold};
	struct edgelog_uring_sender *s = NULL;
	struct edgelog_uring_send sends[4];
	static uint8_t got[4 * 256 * 1024], want[4 * 256 * 1024];
	size_t total = 0, have = 0;
	int64_t bytes = 0;
	int lfd, cfd, err = 0;
	uint16_t port;

	CHECK(uring_sender_open(&o, &s) == 0, "open");
	lfd = listener(&port);
	CHECK(uring_sender_connect(s, "127.0.0.1", port) == 0, "connect");
	cfd = accept(lfd, NULL, NULL);
	CHECK(cfd >= 0, "accept");
	CHECK(uring_sender_buffer_count(s) == 4 && uring_sender_buffer_size(s) == 256 * 1024, "geometry");
	for (uint32_t i = 0; i < 4; i++) {
		uint8_t *b = uring_sender_buffer(s, i);
		uint32_t len = 1000 + i * 60000;

		CHECK(b != NULL, "buffer %u", i);
		for (uint32_t j = 0; j < len; j++)
			b[j] = (uint8_t)(i * 31 + j * 7);
		memcpy(want + total, b + 3, len - 3);
		sends[i] = (struct edgelog_uring_send){.buf_index = i, .offset = 3, .len = len - 3, .user_data = 100 + i};
		total += len - 3;
	}
	CHECK(uring_sender_submit(s, sends, 4) == 4, "submit");
	drain(s, 4, 0, &bytes, &err);
	CHECK(err == 0 && (size_t)bytes == total, "err %d bytes %lld want %zu", err, (long long)bytes, total);
	while (have < total) {
		ssize_t n = read(cfd, got + have, sizeof(got) - have);

		CHECK(n > 0, "read");
		have += (size_t)n;
	}
	CHECK(have == total && memcmp(got, want, total) == 0, "bytes differ");
	drain(s, 4, 1, &bytes, &err);
	if (zc_threshold) {
		struct edgelog_uring_stats st;

		CHECK(uring_sender_stats(s, &st) == 0, "stats");
		CHECK(uring_probe_send_zc() != 1 || st.zc_sends >= 3, "zc_sends %llu", (unsigned long long)st.zc_sends);
	}

	/* peer goes away: later sends must fail with a socket error */
	close(cfd);
	for (int round = 0; round < 50 && !err; round++) {
		CHECK(uring_sender_submit(s, sends, 4) == 4, "submit after close");
		drain(s, 4, 1, &bytes, &err);
	}
	CHECK(err == -EPIPE || err == -ECONNRESET, "expected EPIPE/ECONNRESET, got %d", err);

	/* bad arguments */
	sends[0].buf_index = 99;
	CHECK(uring_sender_submit(s, sends, 1) == -EINVAL, "bad index accepted");
	CHECK(uring_sender_disconnect(s) == 0, "disconnect");
	CHECK(uring_sender_submit(s, sends, 1) == -ENOTCONN, "submit without socket");
	CHECK(uring_sender_connect(s, "not-an-ip", port) == -EINVAL, "non numeric host");

	/* adopt a socket connected elsewhere (the caller keeps its own fd) */
	{
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int own = socket(AF_INET, SOCK_STREAM, 0), peer;
		char got3[3];

		CHECK(own >= 0 && connect(own, (struct sockaddr *)&a, sizeof(a)) == 0, "connect own socket");
		peer = accept(lfd, NULL, NULL);
		CHECK(peer >= 0, "accept");
		CHECK(uring_sender_adopt_fd(s, own) == 0, "adopt");
		close(own);
		CHECK(uring_sender_adopt_fd(s, 0x7fff) == -ENOTSOCK || uring_sender_adopt_fd(s, 0x7fff) == -EBADF, "bad fd");
		memcpy(uring_sender_buffer(s, 0), "xyz", 3);
		sends[0] = (struct edgelog_uring_send){.buf_index = 0, .len = 3, .user_data = 7};
		CHECK(uring_sender_submit(s, sends, 1) == 1, "submit adopted");
		drain(s, 1, 1, &bytes, &err);
		CHECK(read(peer, got3, 3) == 3 && memcmp(got3, "xyz", 3) == 0, "adopted socket delivers");
		close(peer);
	}
	close(lfd);
	uring_sender_close(s);
}

int main(void)
{
	int err = uring_probe();

	signal(SIGPIPE, SIG_IGN);
	if (err)
		SKIP("io_uring unavailable: %s", edgelog_last_error());
	round_trip(0);
	round_trip(1024);
	return 0;
}
