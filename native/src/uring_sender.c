// io_uring sender: one ring, a pool of registered buffers the caller fills in
// place, batched linked sends (plain or zero-copy) and batched reaping.
//
// Sends of one batch are linked (IOSQE_IO_LINK) and use MSG_WAITALL so a TCP
// stream sees them whole and in order; a failure cancels the rest of the
// batch and the caller reconnects and resends (at-least-once lives above).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>

#include "edgelog_native.h"
#include "common.h"

#define MAX_BUFS 1024

enum slot_state { SLOT_FREE, SLOT_AWAIT_RESULT, SLOT_AWAIT_NOTIF };

struct slot {
	uint64_t user_data;
	uint32_t gen;
	uint8_t state;
	bool zc;
};

/* liburing 2.3 headers predate these (kernel 6.2 uapi) */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

struct edgelog_uring_sender {
	struct io_uring ring;
	bool ring_ok;
	bool bufs_registered;
	bool zc_supported;
	int fd;                 /* connected socket or -1 */
	int efd;                /* eventfd registered with the ring or -1 */
	uint32_t sq_entries;
	uint32_t buf_count;
	uint32_t buf_size;
	uint32_t zc_threshold;
	uint8_t *mem;           /* buf_count * buf_size bytes, mmap'd */
	size_t mem_len;
	struct iovec *iov;
	uint32_t results_pending;  /* submitted sends whose result CQE is not reaped */
	uint32_t notifs_pending;   /* zero-copy sends whose buffer is not released */
	/* one slot per send in flight; the SQE's user_data names the slot and
	 * its generation so a late zero-copy notification for a slot already
	 * released (a cancelled linked send) is recognised and swallowed */
	struct slot *slots;
	uint32_t *free_slots;
	uint32_t nfree;
	uint32_t nslots;
	uint32_t gen;
	struct edgelog_uring_send *send_area;
	struct edgelog_uring_completion *comp_area;
	struct edgelog_uring_stats stats;
};

static int probe_ring(struct io_uring *ring)
{
	int err = io_uring_queue_init(2, ring, 0);

	if (err)
		return set_err(err, "io_uring_setup");
	return 0;
}

EDGELOG_API int uring_probe(void)
{
	struct io_uring ring;
	int err;

	clear_err();
	err = probe_ring(&ring);
	if (err)
		return err;
	io_uring_queue_exit(&ring);
	return 0;
}

static int send_zc_supported(struct io_uring *ring)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	int ok;

	if (!p)
		return 0;
	ok = io_uring_opcode_supported(p, IORING_OP_SEND_ZC);
	io_uring_free_probe(p);
	return ok ? 1 : 0;
}

EDGELOG_API int uring_probe_send_zc(void)
{
	struct io_uring ring;
	int err, ok;

	clear_err();
	err = probe_ring(&ring);
	if (err)
		return err;
	ok = send_zc_supported(&ring);
	io_uring_queue_exit(&ring);
	return ok;
}

EDGELOG_API int uring_sender_open(const struct edgelog_uring_opts *opts, struct edgelog_uring_sender **out)
{
	struct io_uring_params params;
	struct edgelog_uring_sender *s;
	size_t area;
	int err;

	clear_err();
	if (!out)
		return set_err(-EINVAL, "uring_sender_open: no out pointer");
	*out = NULL;
	if (opts && opts->sz < offsetof(struct edgelog_uring_opts, flags))
		return set_err(-EINVAL, "uring_sender_open: opts.sz too small");
	s = calloc(1, sizeof(*s));
	if (!s)
		return set_err(-ENOMEM, "uring_sender_open");
	s->fd = -1;
	s->efd = -1;
	s->sq_entries = opts && opts->sq_entries ? opts->sq_entries : 64;
	s->buf_count = opts && opts->buf_count ? opts->buf_count : 8;
	s->buf_size = opts && opts->buf_size ? opts->buf_size : 1u << 20;
	s->zc_threshold = opts ? opts->zc_threshold : 0;
	if (s->sq_entries > 4096 || s->buf_count > MAX_BUFS || s->buf_size > (1u << 30)) {
		err = set_err(-EINVAL, "sq_entries <= 4096, buf_count <= %d, buf_size <= 1 GiB", MAX_BUFS);
		goto cleanup;
	}

	memset(&params, 0, sizeof(params));
	/* a CQ twice the SQ: a zero-copy send posts two CQEs */
	params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
	params.cq_entries = s->sq_entries * 2;
	err = io_uring_queue_init_params(s->sq_entries, &s->ring, &params);
	if (err == -EINVAL) {
		/* older kernels: no SUBMIT_ALL */
		memset(&params, 0, sizeof(params));
		params.flags = IORING_SETUP_CQSIZE;
		params.cq_entries = s->sq_entries * 2;
		err = io_uring_queue_init_params(s->sq_entries, &s->ring, &params);
	}
	if (err) {
		set_err(err, "io_uring_setup(%u)", s->sq_entries);
		goto cleanup;
	}
	s->ring_ok = true;
	s->zc_supported = send_zc_supported(&s->ring) == 1;

	s->mem_len = (size_t)s->buf_count * s->buf_size;
	s->mem = mmap(NULL, s->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->mem == MAP_FAILED) {
		s->mem = NULL;
		err = set_err(-errno, "mmap %zu bytes of buffers", s->mem_len);
		goto cleanup;
	}
	s->iov = calloc(s->buf_count, sizeof(*s->iov));
	if (!s->iov) {
		err = set_err(-ENOMEM, "iovecs");
		goto cleanup;
	}
	for (uint32_t i = 0; i < s->buf_count; i++) {
		s->iov[i].iov_base = s->mem + (size_t)i * s->buf_size;
		s->iov[i].iov_len = s->buf_size;
	}
	err = io_uring_register_buffers(&s->ring, s->iov, s->buf_count);
	if (err) {
		/* usually RLIMIT_MEMLOCK on older kernels */
		set_err(err, "io_uring_register_buffers(%u x %u)", s->buf_count, s->buf_size);
		goto cleanup;
	}
	s->bufs_registered = true;

	s->efd = eventfd(0, EFD_CLOEXEC);
	if (s->efd < 0) {
		err = set_err(-errno, "eventfd");
		goto cleanup;
	}
	err = io_uring_register_eventfd(&s->ring, s->efd);
	if (err) {
		set_err(err, "io_uring_register_eventfd");
		goto cleanup;
	}

	s->nslots = s->sq_entries * 2;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	s->free_slots = calloc(s->nslots, sizeof(*s->free_slots));
	if (!s->slots || !s->free_slots) {
		err = set_err(-ENOMEM, "slots");
		goto cleanup;
	}
	for (uint32_t i = 0; i < s->nslots; i++)
		s->free_slots[s->nfree++] = s->nslots - 1 - i;

	area = sizeof(*s->send_area) * s->sq_entries + sizeof(*s->comp_area) * s->sq_entries * 2;
	s->send_area = edgelog_mem_alloc(area);
	if (!s->send_area) {
		err = set_err(-ENOMEM, "scratch areas");
		goto cleanup;
	}
	s->comp_area = (struct edgelog_uring_completion *)(s->send_area + s->sq_entries);
	*out = s;
	return 0;
cleanup:
	uring_sender_close(s);
	return err;
}

static void close_socket(struct edgelog_uring_sender *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

EDGELOG_API int uring_sender_connect(struct edgelog_uring_sender *s, const char *host, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t slen;
	int fd = -1, err, one = 1;

	clear_err();
	if (!s || !host)
		return set_err(-EINVAL, "uring_sender_connect: bad arguments");
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		slen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		slen = sizeof(*sin6);
	} else {
		return set_err(-EINVAL, "host must be a numeric address: '%s'", host);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return set_err(-errno, "socket");
	/* frames are written whole; do not delay the tail of a batch */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->zc_supported && s->zc_threshold)
		setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, slen) < 0) {
		err = set_err(-errno, "connect %s:%u", host, port);
		goto cleanup;
	}
	close_socket(s);
	s->fd = fd;
	return 0;
cleanup:
	close(fd);
	return err;
}

EDGELOG_API int uring_sender_adopt_fd(struct edgelog_uring_sender *s, int fd)
{
	int type = 0, nfd;
	socklen_t len = sizeof(type);

	clear_err();
	if (!s || fd < 0)
		return set_err(-EINVAL, "uring_sender_adopt_fd: bad arguments");
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return set_err(-errno, "fd %d is not a socket", fd);
	if (type != SOCK_STREAM)
		return set_err(-EPROTOTYPE, "fd %d is not a stream socket", fd);
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return set_err(-errno, "dup fd %d", fd);
	close_socket(s);
	s->fd = nfd;
	return 0;
}

EDGELOG_API int uring_sender_disconnect(struct edgelog_uring_sender *s)
{
	if (!s)
		return set_err(-EINVAL, "no handle");
	close_socket(s);
	return 0;
}

EDGELOG_API void *uring_sender_buffer(struct edgelog_uring_sender *s, uint32_t index)
{
	if (!s || index >= s->buf_count)
		return NULL;
	return s->iov[index].iov_base;
}

EDGELOG_API uint32_t uring_sender_buffer_size(const struct edgelog_uring_sender *s)
{
	return s ? s->buf_size : 0;
}

EDGELOG_API uint32_t uring_sender_buffer_count(const struct edgelog_uring_sender *s)
{
	return s ? s->buf_count : 0;
}

EDGELOG_API struct edgelog_uring_send *uring_sender_send_area(struct edgelog_uring_sender *s)
{
	return s ? s->send_area : NULL;
}

EDGELOG_API struct edgelog_uring_completion *uring_sender_completion_area(struct edgelog_uring_sender *s)
{
	return s ? s->comp_area : NULL;
}

EDGELOG_API uint32_t uring_sender_inflight(const struct edgelog_uring_sender *s)
{
	return s ? s->results_pending + s->notifs_pending : 0;
}

EDGELOG_API int uring_sender_eventfd(const struct edgelog_uring_sender *s)
{
	return s ? s->efd : -EINVAL;
}

EDGELOG_API int uring_sender_stats(const struct edgelog_uring_sender *s, struct edgelog_uring_stats *out)
{
	if (!s || !out)
		return set_err(-EINVAL, "uring_sender_stats: bad arguments");
	*out = s->stats;
	return 0;
}

static uint64_t slot_tag(const struct edgelog_uring_sender *s, uint32_t idx)
{
	return ((uint64_t)s->slots[idx].gen << 32) | idx;
}

static void release_slot(struct edgelog_uring_sender *s, uint32_t idx)
{
	s->slots[idx].state = SLOT_FREE;
	s->free_slots[s->nfree++] = idx;
}

EDGELOG_API int uring_sender_submit(struct edgelog_uring_sender *s, const struct edgelog_uring_send *sends, uint32_t n)
{
	uint32_t cq_room;
	int ret;

	clear_err();
	if (!s || (n && !sends))
		return set_err(-EINVAL, "uring_sender_submit: bad arguments");
	if (s->fd < 0)
		return set_err(-ENOTCONN, "uring_sender_submit: not connected");
	if (n == 0)
		return 0;
	/* every CQE we may receive must fit in the CQ so none is dropped */
	cq_room = s->sq_entries * 2 - (s->results_pending + s->notifs_pending);
	if (n > io_uring_sq_space_left(&s->ring) || 2 * n > cq_room || n > s->nfree)
		return set_err(-EBUSY, "uring_sender_submit: %u sends exceed free slots; reap first", n);
	for (uint32_t i = 0; i < n; i++) {
		const struct edgelog_uring_send *d = &sends[i];

		if (d->buf_index >= s->buf_count || d->len == 0 || d->offset > s->buf_size ||
		    d->len > s->buf_size - d->offset)
			return set_err(-EINVAL, "send %u: bad buffer index/range or user_data", i);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct edgelog_uring_send *d = &sends[i];
		struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
		void *base = (uint8_t *)s->iov[d->buf_index].iov_base + d->offset;
		bool zc = s->zc_supported && s->zc_threshold && d->len >= s->zc_threshold;

		if (zc) {
			io_uring_prep_send_zc_fixed(sqe, s->fd, base, d->len, MSG_WAITALL | MSG_NOSIGNAL,
						    IORING_SEND_ZC_REPORT_USAGE, d->buf_index);
			s->stats.zc_sends++;
		} else {
			io_uring_prep_send(sqe, s->fd, base, d->len, MSG_WAITALL | MSG_NOSIGNAL);
		}
		uint32_t idx = s->free_slots[--s->nfree];
		struct slot *sl = &s->slots[idx];

		sl->user_data = d->user_data;
		sl->gen = ++s->gen;
		sl->state = SLOT_AWAIT_RESULT;
		sl->zc = zc;
		io_uring_sqe_set_data64(sqe, slot_tag(s, idx));
		if (i + 1 < n)
			sqe->flags |= IOSQE_IO_LINK;
	}
	ret = io_uring_submit(&s->ring);
	s->stats.enter_calls++;
	if (ret < 0)
		return set_err(ret, "io_uring_submit");
	/* SUBMIT_ALL: all n are in the kernel now */
	s->results_pending += n;
	s->stats.submitted += n;
	return (int)n;
}

EDGELOG_API int uring_sender_reap(struct edgelog_uring_sender *s, struct edgelog_uring_completion *out, uint32_t max,
				  uint32_t wait_min, uint32_t timeout_ms)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	uint32_t n = 0;
	int err;

	clear_err();
	if (!s || (max && !out))
		return set_err(-EINVAL, "uring_sender_reap: bad arguments");
	if (wait_min && io_uring_cq_ready(&s->ring) < wait_min) {
		struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L};

		err = io_uring_wait_cqes(&s->ring, &cqe, wait_min, timeout_ms ? &ts : NULL, NULL);
		if (err && err != -ETIME && err != -EINTR)
			return set_err(err, "io_uring_wait_cqes");
	}
	io_uring_for_each_cqe(&s->ring, head, cqe) {
		uint32_t idx = (uint32_t)cqe->user_data;
		struct edgelog_uring_completion *c;
		struct slot *sl;

		if (n == max)
			break;
		seen++;
		if (idx >= s->nslots || s->slots[idx].gen != (uint32_t)(cqe->user_data >> 32))
			continue;   /* stale: slot already released and reused */
		sl = &s->slots[idx];
		if (cqe->flags & IORING_CQE_F_NOTIF) {
			if (sl->state != SLOT_AWAIT_NOTIF)
				continue;   /* late notification of a cancelled send */
			c = &out[n++];
			c->user_data = sl->user_data;
			c->res = 0;
			/* the kernel is done with the pages */
			c->flags = EDGELOG_URING_C_ZC | EDGELOG_URING_C_BUF_FREE;
			if ((uint32_t)cqe->res & IORING_NOTIF_USAGE_ZC_COPIED) {
				c->flags |= EDGELOG_URING_C_ZC_COPIED;
				s->stats.zc_copied++;
			}
			s->notifs_pending--;
			release_slot(s, idx);
			continue;
		}
		if (sl->state != SLOT_AWAIT_RESULT)
			continue;
		c = &out[n++];
		c->user_data = sl->user_data;
		c->res = cqe->res;
		c->flags = EDGELOG_URING_C_SENT | (sl->zc ? EDGELOG_URING_C_ZC : 0);
		s->results_pending--;
		s->stats.completed++;
		if (cqe->res >= 0)
			s->stats.bytes += (uint64_t)cqe->res;
		else
			s->stats.errors++;
		if (sl->zc && (cqe->flags & IORING_CQE_F_MORE)) {
			sl->state = SLOT_AWAIT_NOTIF;   /* a notification follows */
			s->notifs_pending++;
		} else {
			c->flags |= EDGELOG_URING_C_BUF_FREE;
			release_slot(s, idx);
		}
	}
	io_uring_cq_advance(&s->ring, seen);
	return (int)n;
}

EDGELOG_API void uring_sender_close(struct edgelog_uring_sender *s)
{
	struct edgelog_uring_completion tmp[64];

	if (!s)
		return;
	if (s->ring_ok) {
		/* shutting the socket down makes outstanding sends finish quickly;
		 * then wait (bounded) so the kernel no longer touches the pages */
		if (s->fd >= 0 && (s->results_pending || s->notifs_pending))
			shutdown(s->fd, SHUT_RDWR);
		for (int tries = 0; tries < 100 && (s->results_pending || s->notifs_pending); tries++)
			if (uring_sender_reap(s, tmp, 64, 1, 20) < 0)
				break;
	}
	close_socket(s);
	if (s->ring_ok)
		io_uring_queue_exit(&s->ring);  /* also drops buffer/eventfd registrations */
	if (s->efd >= 0)
		close(s->efd);
	/* pages a still-pending zero-copy send may hold are leaked, not unmapped */
	if (s->mem && !s->notifs_pending)
		munmap(s->mem, s->mem_len);
	free(s->iov);
	free(s->slots);
	free(s->free_slots);
	edgelog_mem_free(s->send_area);
	free(s);
}
