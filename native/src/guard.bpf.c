// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* edgelog ingress guard: a tc clsact ingress program.
 *
 * Order of checks for each IPv4/IPv6 packet:
 *   1. scope: when ingest ports are configured, only TCP/UDP packets to one
 *      of them are inspected further; everything else passes untouched;
 *   2. allow list (LPM trie): a match passes, skipping deny and rate;
 *   3. deny list (LPM trie): a match is dropped;
 *   4. per-source token buckets (packets/s and bytes/s) in an LRU hash.
 * Every decision bumps a per-CPU reason counter, rule matches also bump the
 * rule's per-CPU counter. User space changes maps live; nothing here needs a
 * reattach when rules change.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "guard_shared.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct guard_cfg);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, EDGELOG_GUARD_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4);
	__type(value, __u32);
} deny_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, EDGELOG_GUARD_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6);
	__type(value, __u32);
} deny_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, EDGELOG_GUARD_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4);
	__type(value, __u32);
} allow_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, EDGELOG_GUARD_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6);
	__type(value, __u32);
} allow_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EDGELOG_GUARD_MAX_PORTS);
	__type(key, __u16);
	__type(value, __u8);
} ports SEC(".maps");

/* max_entries is set from user space (opts.rate_entries) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct src_key);
	__type(value, struct bucket);
} buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EDGELOG_GUARD_R_MAX);
	__type(key, __u32);
	__type(value, struct pkt_stat);
} reason_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EDGELOG_GUARD_MAX_RULES);
	__type(key, __u32);
	__type(value, struct pkt_stat);
} rule_stats SEC(".maps");

static __always_inline void count(void *map, __u32 idx, __u32 len)
{
	struct pkt_stat *st = bpf_map_lookup_elem(map, &idx);

	if (st) {
		st->packets++;
		st->bytes += len;
	}
}

/* Refill a bucket scaled by 1e9 (token-nanoseconds) so integer math stays
 * exact; fill_ns is how long an empty bucket takes to fill, so elapsed*rate
 * never overflows. Returns 1 when a cost could be taken. */
static __always_inline int take(__u64 *tokens, __u64 rate, __u64 depth, __u64 fill_ns, __u64 elapsed, __u64 cost)
{
	__u64 t = *tokens;

	if (elapsed >= fill_ns)
		t = depth;
	else {
		t += elapsed * rate;
		if (t > depth)
			t = depth;
	}
	if (t < cost) {
		*tokens = t;
		return 0;
	}
	*tokens = t - cost;
	return 1;
}

SEC("tc")
int edgelog_guard(struct __sk_buff *skb)
{
	__u32 zero = 0, len = skb->len, *rule;
	struct guard_cfg *c = bpf_map_lookup_elem(&cfg, &zero);
	struct src_key key = {};
	struct lpm_v4 k4;
	struct lpm_v6 k6;
	__u8 proto = 0;
	__u32 l4off = 0;
	int v6 = 0;

	if (!c)
		return TC_ACT_OK;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, c->l3_off, &ip, sizeof(ip)) < 0)
			goto non_ip;
		proto = ip.protocol;
		/* a non-first fragment carries no ports */
		if (!(ip.frag_off & bpf_htons(0x1fff)))
			l4off = c->l3_off + ip.ihl * 4;
		k4.prefixlen = 32;
		k4.addr = ip.saddr;
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], &ip.saddr, 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, c->l3_off, &ip6, sizeof(ip6)) < 0)
			goto non_ip;
		v6 = 1;
		/* extension headers are not walked: such packets have no port */
		proto = ip6.nexthdr;
		l4off = c->l3_off + sizeof(ip6);
		k6.prefixlen = 128;
		__builtin_memcpy(k6.addr, &ip6.saddr, 16);
		__builtin_memcpy(key.addr, &ip6.saddr, 16);
	} else {
		goto non_ip;
	}

	if (c->ports_only) {
		__u16 dport;

		if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) || !l4off)
			goto out_of_scope;
		/* dst port is at offset 2 in both TCP and UDP headers */
		if (bpf_skb_load_bytes(skb, l4off + 2, &dport, sizeof(dport)) < 0)
			goto out_of_scope;
		dport = bpf_ntohs(dport);
		if (!bpf_map_lookup_elem(&ports, &dport))
			goto out_of_scope;
	}

	rule = v6 ? bpf_map_lookup_elem(&allow_v6, &k6) : bpf_map_lookup_elem(&allow_v4, &k4);
	if (rule) {
		count(&rule_stats, *rule, len);
		count(&reason_stats, EDGELOG_GUARD_R_ALLOW, len);
		return TC_ACT_OK;
	}
	rule = v6 ? bpf_map_lookup_elem(&deny_v6, &k6) : bpf_map_lookup_elem(&deny_v4, &k4);
	if (rule) {
		count(&rule_stats, *rule, len);
		count(&reason_stats, EDGELOG_GUARD_R_DENY, len);
		return TC_ACT_SHOT;
	}

	if (c->pps || c->bps) {
		__u64 now = bpf_ktime_get_ns();
		struct bucket *b = bpf_map_lookup_elem(&buckets, &key);
		__u32 reason = 0;

		if (!b) {
			struct bucket fresh = {
				.pkt_tokens = c->pkt_depth,
				.byte_tokens = c->byte_depth,
				.last_ns = now,
			};

			bpf_map_update_elem(&buckets, &key, &fresh, BPF_NOEXIST);
			b = bpf_map_lookup_elem(&buckets, &key);
			if (!b)
				goto pass;
		}
		/* No lock: LRU hashes cannot hold a bpf_spin_lock. Two CPUs
		 * racing on one source may both spend the same tokens, so a
		 * source can exceed its bucket by at most (CPUs - 1) packets
		 * per race; the LRU is what keeps spoofed floods bounded. */
		{
			__u64 elapsed = now > b->last_ns ? now - b->last_ns : 0;
			__u64 pt = b->pkt_tokens, bt = b->byte_tokens;
			int ok_p = 1, ok_b = 1;

			b->last_ns = now;
			if (c->pps)
				ok_p = take(&pt, c->pps, c->pkt_depth, c->pkt_fill_ns, elapsed, 1000000000ULL);
			if (c->bps)
				ok_b = take(&bt, c->bps, c->byte_depth, c->byte_fill_ns, elapsed,
					    (__u64)len * 1000000000ULL);
			if (!ok_p) {
				reason = EDGELOG_GUARD_R_RATE_PPS;
				/* refund the byte bucket: the packet is not delivered */
				if (c->bps && ok_b)
					bt += (__u64)len * 1000000000ULL;
			} else if (!ok_b) {
				reason = EDGELOG_GUARD_R_RATE_BPS;
				if (c->pps)
					pt += 1000000000ULL;
			}
			b->pkt_tokens = pt;
			b->byte_tokens = bt;
		}
		if (reason) {
			count(&reason_stats, reason, len);
			return TC_ACT_SHOT;
		}
	}
pass:
	count(&reason_stats, EDGELOG_GUARD_R_PASS, len);
	return TC_ACT_OK;
out_of_scope:
	count(&reason_stats, EDGELOG_GUARD_R_OUT_OF_SCOPE, len);
	return TC_ACT_OK;
non_ip:
	count(&reason_stats, EDGELOG_GUARD_R_NON_IP, len);
	return TC_ACT_OK;
}
