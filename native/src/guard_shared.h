/* Map key/value layouts shared by guard.bpf.c and guard.c (not ABI). */
#ifndef EDGELOG_GUARD_SHARED_H
#define EDGELOG_GUARD_SHARED_H

#include <linux/types.h>

#ifndef EDGELOG_NATIVE_H
/* the BPF side does not include the ABI header; keep these in sync */
#define EDGELOG_GUARD_R_PASS          0
#define EDGELOG_GUARD_R_ALLOW         1
#define EDGELOG_GUARD_R_DENY          2
#define EDGELOG_GUARD_R_RATE_PPS      3
#define EDGELOG_GUARD_R_RATE_BPS      4
#define EDGELOG_GUARD_R_OUT_OF_SCOPE  5
#define EDGELOG_GUARD_R_NON_IP        6
#define EDGELOG_GUARD_R_MAX           8
#define EDGELOG_GUARD_MAX_RULES    1024
#define EDGELOG_GUARD_MAX_PORTS    64
#endif

struct guard_cfg {
	__u64 pps;           /* 0 = no packet bucket */
	__u64 bps;           /* 0 = no byte bucket */
	__u64 pkt_depth;     /* bucket depth in token-ns (packets * 1e9) */
	__u64 byte_depth;    /* bytes * 1e9 */
	__u64 pkt_fill_ns;   /* time an empty packet bucket takes to fill */
	__u64 byte_fill_ns;
	__u32 ports_only;    /* 1 = only packets to `ports` are in scope */
	__u32 l3_off;        /* 14 on Ethernet devices, 0 on L3 devices */
};

struct lpm_v4 {
	__u32 prefixlen;
	__u32 addr;          /* network order */
};

struct lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* source address, IPv4 as v4-mapped IPv6 */
struct src_key {
	__u8 addr[16];
};

struct bucket {
	__u64 pkt_tokens;    /* token-ns */
	__u64 byte_tokens;
	__u64 last_ns;
};

struct pkt_stat {
	__u64 packets;
	__u64 bytes;
};

#endif
