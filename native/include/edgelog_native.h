/* edgelog native helper: the one ABI header.
 *
 * Two features live behind this header, each with an opaque handle:
 *   - the ingress guard (tc clsact + eBPF): deny/allow lists and per-source
 *     rate limits enforced in the kernel, with counters;
 *   - the io_uring sender: a ring with registered buffers that the caller
 *     (JavaScript through ffi-rs) writes into directly, batched sends and
 *     batched completion reaping.
 *
 * Conventions (every function):
 *   - returns 0 (or a non-negative count where documented) on success and
 *     -errno on failure; never prints, never exits;
 *   - on failure a human-readable detail is kept in a thread-local string,
 *     read with edgelog_last_error();
 *   - state lives in opaque handles; a handle's close function releases
 *     exactly what that handle created and nothing else;
 *   - option structs start with `sz` (set it to sizeof(struct)) so fields can
 *     be appended later without breaking old callers; a zero field means
 *     "default".
 *
 * Layouts of every struct are fixed (explicit padding, little-endian host
 * order) because the JavaScript bindings encode/decode them by offset.
 */
#ifndef EDGELOG_NATIVE_H
#define EDGELOG_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: EDGELOG_GUARD_F_OPEN_PINNED (guard_open without loading anything).
 * 3: edgelog_crc32c, edgelog_crc32c_hw. */
#define EDGELOG_NATIVE_ABI_VERSION 3

/* ---------------------------------------------------------------- common */

/** ABI version of the loaded library (EDGELOG_NATIVE_ABI_VERSION). */
int edgelog_abi_version(void);

/** Detail of the last failure on this thread; never NULL ("" when none). */
const char *edgelog_last_error(void);

/** Allocate `size` zeroed bytes of native memory (page aligned). Returns NULL
 *  on failure. For callers (ffi-rs) that need a scratch area native code can
 *  write into and JavaScript can view without copying. */
void *edgelog_mem_alloc(size_t size);

/** Free memory from edgelog_mem_alloc (NULL is ignored). */
void edgelog_mem_free(void *p);

/* ---------------------------------------------------------------- checksum */

/** CRC32C (Castagnoli) of buf[0, len), continuing from `crc` (0 to start):
 *  the record batch checksum of Kafka. Never fails. */
uint32_t edgelog_crc32c(uint32_t crc, const void *buf, size_t len);

/** 1 when edgelog_crc32c uses the CPU's crc32 instruction (SSE4.2), else 0. */
int edgelog_crc32c_hw(void);

/* ---------------------------------------------------------------- guard */

/** Why the guard passed or dropped a packet. Index into the reason counters. */
#define EDGELOG_GUARD_R_PASS          0 /* in scope, not matched, under rate: passed */
#define EDGELOG_GUARD_R_ALLOW         1 /* matched the allow list: passed (overrides deny and rate) */
#define EDGELOG_GUARD_R_DENY          2 /* matched the deny list: dropped */
#define EDGELOG_GUARD_R_RATE_PPS      3 /* source over its packets/s bucket: dropped */
#define EDGELOG_GUARD_R_RATE_BPS      4 /* source over its bytes/s bucket: dropped */
#define EDGELOG_GUARD_R_OUT_OF_SCOPE  5 /* not to an ingest port (when ports are set): passed untouched */
#define EDGELOG_GUARD_R_NON_IP        6 /* not IPv4/IPv6: passed untouched */
#define EDGELOG_GUARD_R_MAX           8

/** Rule slots shared by deny and allow rules (ids 0..MAX_RULES-1). */
#define EDGELOG_GUARD_MAX_RULES    1024
/** Ingest ports that can be configured at once. */
#define EDGELOG_GUARD_MAX_PORTS    64

#define EDGELOG_GUARD_RULE_DENY  1
#define EDGELOG_GUARD_RULE_ALLOW 2

/** guard_open options. */
struct edgelog_guard_opts {
	uint32_t sz;               /* sizeof(struct edgelog_guard_opts) */
	uint32_t rate_entries;     /* LRU entries for per-source buckets; 0 = 65536 */
	/* Directory under a bpffs mount where maps are pinned, "" = no pinning.
	 * Maps go to <pin_root>/<ifname>/; existing pins are reused so rules
	 * and counters survive an agent restart. Usually "/sys/fs/bpf/edgelog". */
	char pin_root[256];
	uint32_t flags;            /* EDGELOG_GUARD_F_*; 0 = load, attach when asked */
	uint32_t _pad;
};

/** guard_open flag: do not load or attach anything; open the maps another
 *  (privileged) process pinned under pin_root/<ifname>/ and work through
 *  them. Needs no capability on Linux >= 6.5 (map ops on a pinned map are
 *  checked against the pin's file mode), so a process that dropped
 *  CAP_BPF/CAP_NET_ADMIN can still change rules and read counters.
 *  guard_attach/guard_detach return -EPERM on such a handle;
 *  guard_is_attached asks the kernel (netlink, unprivileged) whether the
 *  guard's tc filter is on the interface. */
#define EDGELOG_GUARD_F_OPEN_PINNED 1u

/** Counters for one packet class. */
struct edgelog_guard_stat {
	uint64_t packets;
	uint64_t bytes;
};

/** One rule as seen by guard_read_counters. */
struct edgelog_guard_rule_stat {
	uint32_t rule_id;
	uint32_t kind;             /* EDGELOG_GUARD_RULE_DENY / _ALLOW */
	uint64_t packets;
	uint64_t bytes;
	char cidr[56];             /* canonical text form, e.g. "10.0.0.0/8" (INET6_ADDRSTRLEN + "/128") */
};

/** Snapshot of all counters (summed over CPUs). */
struct edgelog_guard_counters {
	struct edgelog_guard_stat reason[EDGELOG_GUARD_R_MAX];
	uint32_t nrules;           /* valid entries in rules[] */
	uint32_t _pad;
	struct edgelog_guard_rule_stat rules[EDGELOG_GUARD_MAX_RULES];
};

struct edgelog_guard;

/** Load the guard program and maps for interface `ifname` (not attached yet).
 *  `opts` may be NULL for defaults. With pinning, rules already pinned for
 *  this interface are picked up (their ids and counters kept). */
int guard_open(const char *ifname, const struct edgelog_guard_opts *opts, struct edgelog_guard **out);

/** Attach to the interface's tc ingress (creates the clsact qdisc if it does
 *  not exist). Idempotent: attaching again replaces our own filter. */
int guard_attach(struct edgelog_guard *g);

/** Remove our tc filter; remove the clsact qdisc too if this handle created
 *  it. Idempotent: detaching when not attached returns 0. */
int guard_detach(struct edgelog_guard *g);

/** Add a deny rule. `cidr` is "a.b.c.d[/n]" or "x:y::z[/n]" (no prefix = host).
 *  On success *rule_id (may be NULL) receives the rule's id. Adding an
 *  existing deny CIDR returns its id (idempotent). Takes effect at once. */
int guard_add_deny(struct edgelog_guard *g, const char *cidr, uint32_t *rule_id);
/** Remove a deny rule; -ENOENT when it is not present. */
int guard_remove_deny(struct edgelog_guard *g, const char *cidr);
/** Add an allow rule (allow overrides deny and rate limits). */
int guard_add_allow(struct edgelog_guard *g, const char *cidr, uint32_t *rule_id);
/** Remove an allow rule; -ENOENT when it is not present. */
int guard_remove_allow(struct edgelog_guard *g, const char *cidr);

/** Per-source rate limit (token buckets per source address). pps / bps = 0
 *  disables that bucket. burst_packets / burst_bytes = bucket depth, 0 = one
 *  second's worth of the rate. Buckets start full. */
int guard_set_rate(struct edgelog_guard *g, uint64_t pps, uint64_t bps, uint64_t burst_packets, uint64_t burst_bytes);

/** Restrict deny/rate to packets whose TCP or UDP destination port is in
 *  `ports` (n <= EDGELOG_GUARD_MAX_PORTS). n = 0 removes the restriction
 *  (every IP packet is in scope). Replaces the previous set. */
int guard_set_ports(struct edgelog_guard *g, const uint16_t *ports, uint32_t n);

/** Fill `out` with per-reason and per-rule counters. */
int guard_read_counters(struct edgelog_guard *g, struct edgelog_guard_counters *out);

/** Detach (unless maps are pinned: then the program keeps guarding with the
 *  pinned rules until a later guard_detach) and free the handle. NULL ok. */
void guard_close(struct edgelog_guard *g);

/** 1 when attached by this handle, 0 otherwise. */
int guard_is_attached(const struct edgelog_guard *g);

/* ---------------------------------------------------------------- io_uring sender */

/** uring_sender_open options. */
struct edgelog_uring_opts {
	uint32_t sz;               /* sizeof(struct edgelog_uring_opts) */
	uint32_t sq_entries;       /* ring size; 0 = 64 */
	uint32_t buf_count;        /* registered buffers; 0 = 8 (max 1024) */
	uint32_t buf_size;         /* bytes per buffer; 0 = 1 MiB */
	/* Sends of at least this many bytes use IORING_OP_SEND_ZC (when the
	 * kernel supports it); 0 = never use zero-copy. */
	uint32_t zc_threshold;
	uint32_t flags;            /* EDGELOG_GUARD_F_*; 0 = load, attach when asked */
};

/** One send in a batch. Sends of one batch go out in array order (they are
 *  linked); a failure cancels the rest of the batch. */
struct edgelog_uring_send {
	uint32_t buf_index;        /* registered buffer */
	uint32_t offset;           /* start within that buffer */
	uint32_t len;              /* bytes */
	uint32_t _pad;
	uint64_t user_data;        /* echoed in completions */
};

/* completion flags */
#define EDGELOG_URING_C_SENT     1u /* `res` is the send result (bytes or -errno) */
#define EDGELOG_URING_C_BUF_FREE 2u /* the buffer of this send may be rewritten */
#define EDGELOG_URING_C_ZC       4u /* sent with zero-copy */
#define EDGELOG_URING_C_ZC_COPIED 8u /* zero-copy fell back to copying (e.g. loopback) */

/** One reaped completion. A plain send yields one entry with SENT|BUF_FREE;
 *  a zero-copy send yields SENT first and BUF_FREE later (the buffer stays
 *  pinned by the kernel until then). */
struct edgelog_uring_completion {
	uint64_t user_data;
	int32_t res;
	uint32_t flags;
};

struct edgelog_uring_stats {
	uint64_t submitted;        /* sends submitted */
	uint64_t completed;        /* send results reaped */
	uint64_t bytes;            /* bytes reported sent */
	uint64_t zc_sends;         /* sends submitted as zero-copy */
	uint64_t zc_copied;        /* zero-copy sends the kernel copied anyway */
	uint64_t errors;           /* send results < 0 or short */
	uint64_t enter_calls;      /* io_uring_enter submit calls */
	uint64_t _reserved;
};

struct edgelog_uring_sender;

/** Create a ring and register buf_count buffers of buf_size bytes. `opts` may
 *  be NULL. -ENOSYS/-EPERM when io_uring is missing or disabled. */
int uring_sender_open(const struct edgelog_uring_opts *opts, struct edgelog_uring_sender **out);

/** Connect a TCP socket to a numeric IPv4/IPv6 address (blocking connect;
 *  resolve names before calling). Replaces (closes) a previous socket. */
int uring_sender_connect(struct edgelog_uring_sender *s, const char *host, uint16_t port);

/** Use an already connected stream socket. The sender takes ownership of a
 *  dup of `fd` (the caller keeps and closes its own). */
int uring_sender_adopt_fd(struct edgelog_uring_sender *s, int fd);

/** Close the socket (not the ring or buffers); after a peer error the caller
 *  reconnects and resends. 0 when there was none. */
int uring_sender_disconnect(struct edgelog_uring_sender *s);

/** Base address of registered buffer `index` (NULL when out of range). The
 *  memory stays valid until uring_sender_close. */
void *uring_sender_buffer(struct edgelog_uring_sender *s, uint32_t index);
uint32_t uring_sender_buffer_size(const struct edgelog_uring_sender *s);
uint32_t uring_sender_buffer_count(const struct edgelog_uring_sender *s);

/** Scratch areas owned by the sender, for callers that cannot pass arrays
 *  cheaply (ffi-rs): sq_entries send descriptors and 2*sq_entries
 *  completions. Pass them back to submit/reap. */
struct edgelog_uring_send *uring_sender_send_area(struct edgelog_uring_sender *s);
struct edgelog_uring_completion *uring_sender_completion_area(struct edgelog_uring_sender *s);

/** Queue and submit `n` sends with one io_uring_enter. Returns n, or -errno
 *  (-EBUSY: not enough free submission/in-flight slots, reap first;
 *  -ENOTCONN: no socket; -EINVAL: bad index/range). */
int uring_sender_submit(struct edgelog_uring_sender *s, const struct edgelog_uring_send *sends, uint32_t n);

/** Reap up to `max` completions into `out`. With wait_min > 0, block until at
 *  least that many CQEs are available or timeout_ms passes (0 = no timeout).
 *  Returns the number of entries written (>= 0) or -errno. */
int uring_sender_reap(struct edgelog_uring_sender *s, struct edgelog_uring_completion *out, uint32_t max,
		      uint32_t wait_min, uint32_t timeout_ms);

/** Sends submitted whose results or buffer releases are not reaped yet. */
uint32_t uring_sender_inflight(const struct edgelog_uring_sender *s);

/** An eventfd signalled whenever a completion is posted (to wait for
 *  completions without blocking the caller's thread, e.g. with a read in a
 *  worker pool). Owned by the sender. */
int uring_sender_eventfd(const struct edgelog_uring_sender *s);

int uring_sender_stats(const struct edgelog_uring_sender *s, struct edgelog_uring_stats *out);

/** Close socket, ring, buffers and eventfd; waits (bounded) for in-flight
 *  zero-copy sends to release their buffers first. NULL ok. */
void uring_sender_close(struct edgelog_uring_sender *s);

/** Host probe: 0 when io_uring_setup works; -errno otherwise (-EPERM when
 *  disabled by kernel.io_uring_disabled or seccomp, -ENOSYS when absent). */
int uring_probe(void);
/** 1 when IORING_OP_SEND_ZC is supported, 0 when not, -errno when io_uring
 *  itself fails. */
int uring_probe_send_zc(void);
/** 0 when a trivial BPF map can be created (BPF syscall allowed), -errno
 *  otherwise. */
int guard_probe_bpf(void);

#ifdef __cplusplus
}
#endif
#endif
