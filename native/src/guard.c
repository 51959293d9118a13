// User side of the ingress guard: load the embedded BPF object (skeleton),
// attach it to tc ingress, and keep the deny/allow/rate/port maps in sync
// with what the agent asks for. Rule ids are slots in a per-CPU counter
// array; the id <-> CIDR table is rebuilt from the tries when maps are
// pinned, so a restarted agent sees the same ids and counters.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if_arp.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edgelog_native.h"
#include "common.h"
#include "guard_shared.h"
#include "guard.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Our filter's identity on the ingress hook; fixed so a restarted agent
 * replaces its predecessor's filter instead of stacking a second one. */
#define GUARD_TC_HANDLE 0xe1
#define GUARD_TC_PRIO   0xe1

#define NS_PER_S 1000000000ULL

/* libbpf's own diagnostics (verifier log, pin mismatches) go here instead of
 * stderr; the last line is appended to load errors. */
static __thread char libbpf_msg[256];

static int libbpf_capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[256];
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n > 1 && strcmp(line, "\n") != 0) {
		line[strcspn(line, "\n")] = '\0';
		memcpy(libbpf_msg, line, sizeof(libbpf_msg));
	}
	return 0;
}

struct rule {
	bool used;
	uint8_t kind;        /* EDGELOG_GUARD_RULE_* */
	uint8_t family;      /* AF_INET / AF_INET6 */
	uint8_t prefix;
	uint8_t addr[16];
};

struct edgelog_guard {
	char ifname[IF_NAMESIZE];
	int ifindex;
	struct guard_bpf *skel;
	bool attached;
	bool created_qdisc;
	bool pinned;
	bool from_pins;      /* EDGELOG_GUARD_F_OPEN_PINNED: nothing loaded by us */
	int ncpus;
	struct guard_cfg cfg;
	struct rule rules[EDGELOG_GUARD_MAX_RULES];
};

static int l3_offset(const char *ifname)
{
	struct ifreq ifr = {0};
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 14;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (ret < 0)
		return 14;
	/* Ethernet and loopback carry a 14-byte L2 header at tc ingress;
	 * tun/wireguard-style devices start at the IP header. */
	return (ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER || ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK) ? 14 : 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Whether `path`, or its nearest existing ancestor, is on a bpffs mount. */
static bool on_bpffs(const char *path)
{
	char tmp[PATH_MAX];
	struct statfs sfs;
	char *slash;

	if (strlen(path) >= sizeof(tmp))
		return false;
	strcpy(tmp, path);
	for (;;) {
		if (statfs(tmp, &sfs) == 0)
			return sfs.f_type == BPF_FS_MAGIC;
		if (errno != ENOENT)
			return false;
		slash = strrchr(tmp, '/');
		if (!slash || slash == tmp)
			return statfs("/", &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC;
		*slash = '\0';
	}
}

/* Parse "addr[/len]" into family/addr/prefix with host bits cleared. */
static int parse_cidr(const char *cidr, uint8_t *family, uint8_t addr[16], uint8_t *prefix)
{
	char buf[64];
	char *slash, *end;
	long len;
	int maxlen;

	if (!cidr || strlen(cidr) >= sizeof(buf))
		return set_err(-EINVAL, "cidr missing or too long");
	strcpy(buf, cidr);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		maxlen = 128;
	} else {
		return set_err(-EINVAL, "not an IPv4/IPv6 address: '%s'", cidr);
	}
	len = maxlen;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len < 0 || len > maxlen)
			return set_err(-EINVAL, "bad prefix length in '%s'", cidr);
	}
	*prefix = (uint8_t)len;
	for (int bit = (int)len; bit < maxlen; bit++)
		addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return 0;
}

static void format_rule(const struct rule *r, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "";

	inet_ntop(r->family, r->addr, a, sizeof(a));
	snprintf(out, n, "%s/%u", a, r->prefix);
}

static struct bpf_map *trie_for(struct edgelog_guard *g, uint8_t kind, uint8_t family)
{
	if (kind == EDGELOG_GUARD_RULE_DENY)
		return family == AF_INET ? g->skel->maps.deny_v4 : g->skel->maps.deny_v6;
	return family == AF_INET ? g->skel->maps.allow_v4 : g->skel->maps.allow_v6;
}

/* Build the trie key for a rule; returns the key size. */
static size_t rule_key(const struct rule *r, void *key)
{
	if (r->family == AF_INET) {
		struct lpm_v4 *k = key;

		k->prefixlen = r->prefix;
		memcpy(&k->addr, r->addr, 4);
		return sizeof(*k);
	}
	struct lpm_v6 *k6 = key;

	k6->prefixlen = r->prefix;
	memcpy(k6->addr, r->addr, 16);
	return sizeof(*k6);
}

static int write_cfg(struct edgelog_guard *g)
{
	uint32_t zero = 0;
	int err;

	err = bpf_map__update_elem(g->skel->maps.cfg, &zero, sizeof(zero), &g->cfg, sizeof(g->cfg), BPF_ANY);
	if (err)
		return set_err(err, "update cfg map");
	return 0;
}

/* Pinned tries may already hold rules from a previous run: adopt them. */
static void adopt_rules(struct edgelog_guard *g, uint8_t kind, uint8_t family)
{
	struct bpf_map *m = trie_for(g, kind, family);
	struct lpm_v6 key, next;
	uint32_t id;
	size_t ksz = family == AF_INET ? sizeof(struct lpm_v4) : sizeof(struct lpm_v6);
	void *prev = NULL;

	while (bpf_map__get_next_key(m, prev, &next, ksz) == 0) {
		memcpy(&key, &next, ksz);
		prev = &key;
		if (bpf_map__lookup_elem(m, &key, ksz, &id, sizeof(id), 0) || id >= EDGELOG_GUARD_MAX_RULES ||
		    g->rules[id].used)
			continue;
		struct rule *r = &g->rules[id];

		r->used = true;
		r->kind = kind;
		r->family = family;
		if (family == AF_INET) {
			struct lpm_v4 *k4 = (struct lpm_v4 *)&key;

			r->prefix = (uint8_t)k4->prefixlen;
			memcpy(r->addr, &k4->addr, 4);
		} else {
			r->prefix = (uint8_t)key.prefixlen;
			memcpy(r->addr, key.addr, 16);
		}
	}
}

EDGELOG_API int guard_probe_bpf(void)
{
	int fd;

	clear_err();
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "edgelog_probe", 4, 4, 1, NULL);
	if (fd < 0)
		return set_err(-errno, "bpf(BPF_MAP_CREATE)");
	close(fd);
	return 0;
}

EDGELOG_API int guard_open(const char *ifname, const struct edgelog_guard_opts *opts, struct edgelog_guard **out)
{
	struct edgelog_guard *g = NULL;
	char pin_dir[PATH_MAX], path[PATH_MAX + 32];
	uint32_t rate_entries = 65536;
	uint32_t zero = 0;
	struct bpf_map *m;
	struct statfs sfs;
	int err;

	clear_err();
	if (!out || !ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return set_err(-EINVAL, "guard_open: bad arguments");
	*out = NULL;
	if (opts && opts->sz < offsetof(struct edgelog_guard_opts, flags))
		return set_err(-EINVAL, "guard_open: opts.sz too small");

	libbpf_set_print(libbpf_capture);
	libbpf_msg[0] = '\0';
	g = calloc(1, sizeof(*g));
	if (!g)
		return set_err(-ENOMEM, "guard_open");
	strcpy(g->ifname, ifname);
	g->ifindex = (int)if_nametoindex(ifname);
	if (!g->ifindex) {
		err = set_err(-ENODEV, "interface '%s'", ifname);
		goto cleanup;
	}
	g->ncpus = libbpf_num_possible_cpus();
	if (g->ncpus <= 0) {
		err = set_err(g->ncpus ? g->ncpus : -EINVAL, "libbpf_num_possible_cpus");
		goto cleanup;
	}
	if (opts && opts->rate_entries)
		rate_entries = opts->rate_entries;
	if (opts && opts->sz >= offsetof(struct edgelog_guard_opts, _pad) &&
	    (opts->flags & EDGELOG_GUARD_F_OPEN_PINNED)) {
		if (!opts->pin_root[0]) {
			err = set_err(-EINVAL, "EDGELOG_GUARD_F_OPEN_PINNED needs pin_root");
			goto cleanup;
		}
		g->from_pins = true;
	}

	g->skel = guard_bpf__open();
	if (!g->skel) {
		err = set_err(-errno ? -errno : -EINVAL, "open BPF object");
		goto cleanup;
	}
	err = bpf_map__set_max_entries(g->skel->maps.buckets, rate_entries);
	if (err) {
		set_err(err, "set buckets size");
		goto cleanup;
	}

	if (opts && opts->pin_root[0]) {
		if (memchr(opts->pin_root, '\0', sizeof(opts->pin_root)) == NULL) {
			err = set_err(-EINVAL, "pin_root not terminated");
			goto cleanup;
		}
		if (snprintf(pin_dir, sizeof(pin_dir), "%s/%s", opts->pin_root, ifname) >= (int)sizeof(pin_dir)) {
			err = set_err(-ENAMETOOLONG, "pin path");
			goto cleanup;
		}
		/* refuse before creating directories anywhere that is not bpffs */
		if (!on_bpffs(opts->pin_root)) {
			err = set_err(-EOPNOTSUPP, "%s is not on a bpffs mount (mount -t bpf bpf /sys/fs/bpf)", opts->pin_root);
			goto cleanup;
		}
		err = mkdir_p(pin_dir);
		if (err) {
			set_err(err, "mkdir %s", pin_dir);
			goto cleanup;
		}
		if (statfs(pin_dir, &sfs) < 0 || sfs.f_type != BPF_FS_MAGIC) {
			err = set_err(-EOPNOTSUPP, "%s is not on a bpffs mount (mount -t bpf bpf /sys/fs/bpf)", pin_dir);
			goto cleanup;
		}
		bpf_object__for_each_map(m, g->skel->obj) {
			if (bpf_map__is_internal(m))
				continue;
			snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(m));
			if (g->from_pins) {
				/* adopt the privileged step's map; no map is created here */
				int fd = bpf_obj_get(path);

				if (fd < 0) {
					err = set_err(-errno, "open pinned map %s (the guard is attached by a privileged step: `edgelog install guard`)", path);
					goto cleanup;
				}
				err = bpf_map__reuse_fd(m, fd);
				close(fd);
				if (err) {
					set_err(err, "reuse pinned map %s", path);
					goto cleanup;
				}
				continue;
			}
			err = bpf_map__set_pin_path(m, path);
			if (err) {
				set_err(err, "pin path %s", path);
				goto cleanup;
			}
		}
		g->pinned = true;
	}

	if (!g->from_pins) {
		err = guard_bpf__load(g->skel);
		if (err) {
			set_err(err, "load BPF program (libbpf: %s)", libbpf_msg[0] ? libbpf_msg : "no detail");
			goto cleanup;
		}
	}

	/* keep a pinned config (rates, ports) from a previous run */
	if (bpf_map__lookup_elem(g->skel->maps.cfg, &zero, sizeof(zero), &g->cfg, sizeof(g->cfg), 0))
		memset(&g->cfg, 0, sizeof(g->cfg));
	g->cfg.l3_off = (uint32_t)l3_offset(ifname);
	err = write_cfg(g);
	if (err)
		goto cleanup;

	if (g->pinned) {
		adopt_rules(g, EDGELOG_GUARD_RULE_DENY, AF_INET);
		adopt_rules(g, EDGELOG_GUARD_RULE_DENY, AF_INET6);
		adopt_rules(g, EDGELOG_GUARD_RULE_ALLOW, AF_INET);
		adopt_rules(g, EDGELOG_GUARD_RULE_ALLOW, AF_INET6);
	}

	*out = g;
	return 0;
cleanup:
	if (g) {
		guard_bpf__destroy(g->skel); /* closes fds; pins of maps stay (by design) */
		free(g);
	}
	return err;
}

EDGELOG_API int guard_attach(struct edgelog_guard *g)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 0, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, tc, .handle = GUARD_TC_HANDLE, .priority = GUARD_TC_PRIO,
			    .flags = BPF_TC_F_REPLACE);
	int err;

	clear_err();
	if (!g)
		return set_err(-EINVAL, "guard_attach: no handle");
	if (g->from_pins)
		return set_err(-EPERM, "guard_attach: handle opened from pins; the privileged step attaches");
	hook.ifindex = g->ifindex;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return set_err(err, "create clsact qdisc on %s", g->ifname);
	if (!err)
		g->created_qdisc = true;
	tc.prog_fd = bpf_program__fd(g->skel->progs.edgelog_guard);
	err = bpf_tc_attach(&hook, &tc);
	if (err) {
		set_err(err, "attach tc ingress filter on %s", g->ifname);
		goto cleanup;
	}
	g->attached = true;
	return 0;
cleanup:
	if (g->created_qdisc && !g->attached) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		g->created_qdisc = false;
	}
	return err;
}

EDGELOG_API int guard_detach(struct edgelog_guard *g)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 0, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, tc, .handle = GUARD_TC_HANDLE, .priority = GUARD_TC_PRIO);
	int err;

	clear_err();
	if (!g)
		return set_err(-EINVAL, "guard_detach: no handle");
	if (g->from_pins)
		return set_err(-EPERM, "guard_detach: handle opened from pins; detaching needs CAP_NET_ADMIN");
	hook.ifindex = g->ifindex;
	/* also removes a filter a previous (pinned) run left behind */
	err = bpf_tc_detach(&hook, &tc);
	if (err && err != -ENOENT && err != -EINVAL && err != -ENODEV)
		return set_err(err, "detach tc filter on %s", g->ifname);
	g->attached = false;
	if (g->created_qdisc) {
		/* INGRESS|EGRESS removes the clsact qdisc itself */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT && err != -EINVAL && err != -ENODEV)
			return set_err(err, "remove clsact qdisc on %s", g->ifname);
		g->created_qdisc = false;
	}
	return 0;
}

EDGELOG_API int guard_is_attached(const struct edgelog_guard *g)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 0, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, tc, .handle = GUARD_TC_HANDLE, .priority = GUARD_TC_PRIO);

	if (!g)
		return 0;
	if (!g->from_pins)
		return g->attached;
	/* RTM_GETTFILTER needs no capability: is our filter on the interface? */
	hook.ifindex = g->ifindex;
	return bpf_tc_query(&hook, &tc) == 0 && tc.prog_id != 0;
}

static int add_rule(struct edgelog_guard *g, uint8_t kind, const char *cidr, uint32_t *rule_id)
{
	struct rule want = {.used = true, .kind = kind};
	union { struct lpm_v4 v4; struct lpm_v6 v6; } key;
	struct pkt_stat *zeros = NULL;
	size_t ksz;
	uint32_t id;
	int err, free_id = -1;

	clear_err();
	if (!g)
		return set_err(-EINVAL, "no handle");
	err = parse_cidr(cidr, &want.family, want.addr, &want.prefix);
	if (err)
		return err;
	for (id = 0; id < EDGELOG_GUARD_MAX_RULES; id++) {
		struct rule *r = &g->rules[id];

		if (!r->used) {
			if (free_id < 0)
				free_id = (int)id;
			continue;
		}
		if (r->kind == kind && r->family == want.family && r->prefix == want.prefix &&
		    !memcmp(r->addr, want.addr, 16)) {
			if (rule_id)
				*rule_id = id;
			return 0;
		}
	}
	if (free_id < 0)
		return set_err(-ENOSPC, "rule table full (%d rules)", EDGELOG_GUARD_MAX_RULES);
	id = (uint32_t)free_id;

	/* a reused slot must not inherit the counters of the rule it replaced */
	zeros = calloc((size_t)g->ncpus, sizeof(*zeros));
	if (!zeros)
		return set_err(-ENOMEM, "add rule");
	err = bpf_map__update_elem(g->skel->maps.rule_stats, &id, sizeof(id), zeros,
				   sizeof(*zeros) * (size_t)g->ncpus, BPF_ANY);
	if (err) {
		set_err(err, "reset rule counters");
		goto cleanup;
	}
	ksz = rule_key(&want, &key);
	err = bpf_map__update_elem(trie_for(g, kind, want.family), &key, ksz, &id, sizeof(id), BPF_ANY);
	if (err) {
		set_err(err, "insert rule %s", cidr);
		goto cleanup;
	}
	g->rules[id] = want;
	if (rule_id)
		*rule_id = id;
cleanup:
	free(zeros);
	return err;
}

static int remove_rule(struct edgelog_guard *g, uint8_t kind, const char *cidr)
{
	struct rule want = {0};
	union { struct lpm_v4 v4; struct lpm_v6 v6; } key;
	size_t ksz;
	int err;

	clear_err();
	if (!g)
		return set_err(-EINVAL, "no handle");
	err = parse_cidr(cidr, &want.family, want.addr, &want.prefix);
	if (err)
		return err;
	for (uint32_t id = 0; id < EDGELOG_GUARD_MAX_RULES; id++) {
		struct rule *r = &g->rules[id];

		if (!r->used || r->kind != kind || r->family != want.family || r->prefix != want.prefix ||
		    memcmp(r->addr, want.addr, 16))
			continue;
		ksz = rule_key(r, &key);
		err = bpf_map__delete_elem(trie_for(g, kind, r->family), &key, ksz, 0);
		if (err && err != -ENOENT)
			return set_err(err, "delete rule %s", cidr);
		r->used = false;
		return 0;
	}
	return set_err(-ENOENT, "no such rule %s", cidr);
}

EDGELOG_API int guard_add_deny(struct edgelog_guard *g, const char *cidr, uint32_t *rule_id)
{
	return add_rule(g, EDGELOG_GUARD_RULE_DENY, cidr, rule_id);
}

EDGELOG_API int guard_remove_deny(struct edgelog_guard *g, const char *cidr)
{
	return remove_rule(g, EDGELOG_GUARD_RULE_DENY, cidr);
}

EDGELOG_API int guard_add_allow(struct edgelog_guard *g, const char *cidr, uint32_t *rule_id)
{
	return add_rule(g, EDGELOG_GUARD_RULE_ALLOW, cidr, rule_id);
}

EDGELOG_API int guard_remove_allow(struct edgelog_guard *g, const char *cidr)
{
	return remove_rule(g, EDGELOG_GUARD_RULE_ALLOW, cidr);
}

EDGELOG_API int guard_set_rate(struct edgelog_guard *g, uint64_t pps, uint64_t bps, uint64_t burst_packets,
			       uint64_t burst_bytes)
{
	struct guard_cfg c;

	clear_err();
	if (!g)
		return set_err(-EINVAL, "no handle");
	/* depth * 1e9 must fit in 64 bits */
	if (!burst_packets)
		burst_packets = pps ? pps : 1;
	if (!burst_bytes)
		burst_bytes = bps ? bps : 1;
	if (burst_packets > 1000000000ULL || burst_bytes > 10000000000ULL)
		return set_err(-ERANGE, "burst too large (max 1e9 packets, 1e10 bytes)");
	c = g->cfg;
	c.pps = pps;
	c.bps = bps;
	c.pkt_depth = burst_packets * NS_PER_S;
	c.byte_depth = burst_bytes * NS_PER_S;
	c.pkt_fill_ns = pps ? c.pkt_depth / pps : 0;
	c.byte_fill_ns = bps ? c.byte_depth / bps : 0;
	g->cfg = c;
	return write_cfg(g);
}

EDGELOG_API int guard_set_ports(struct edgelog_guard *g, const uint16_t *ports, uint32_t n)
{
	struct bpf_map *m;
	uint16_t key, next;
	uint8_t one = 1;
	int err;

	clear_err();
	if (!g || (n && !ports))
		return set_err(-EINVAL, "guard_set_ports: bad arguments");
	if (n > EDGELOG_GUARD_MAX_PORTS)
		return set_err(-E2BIG, "at most %d ports", EDGELOG_GUARD_MAX_PORTS);
	m = g->skel->maps.ports;
	/* widen scope first so no in-scope packet escapes while the set changes */
	g->cfg.ports_only = 0;
	err = write_cfg(g);
	if (err)
		return err;
	while (bpf_map__get_next_key(m, NULL, &next, sizeof(next)) == 0) {
		key = next;
		if (bpf_map__delete_elem(m, &key, sizeof(key), 0))
			break;
	}
	for (uint32_t i = 0; i < n; i++) {
		key = ports[i];
		err = bpf_map__update_elem(m, &key, sizeof(key), &one, sizeof(one), BPF_ANY);
		if (err)
			return set_err(err, "add port %u", key);
	}
	g->cfg.ports_only = n ? 1 : 0;
	return write_cfg(g);
}

EDGELOG_API int guard_read_counters(struct edgelog_guard *g, struct edgelog_guard_counters *out)
{
	struct pkt_stat *vals = NULL;
	size_t vsz;
	uint32_t n = 0;
	int err = 0;

	clear_err();
	if (!g || !out)
		return set_err(-EINVAL, "guard_read_counters: bad arguments");
	vsz = sizeof(*vals) * (size_t)g->ncpus;
	vals = malloc(vsz);
	if (!vals)
		return set_err(-ENOMEM, "read counters");
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < EDGELOG_GUARD_R_MAX; i++) {
		err = bpf_map__lookup_elem(g->skel->maps.reason_stats, &i, sizeof(i), vals, vsz, 0);
		if (err) {
			set_err(err, "read reason counters");
			goto cleanup;
		}
		for (int c = 0; c < g->ncpus; c++) {
			out->reason[i].packets += vals[c].packets;
			out->reason[i].bytes += vals[c].bytes;
		}
	}
	for (uint32_t id = 0; id < EDGELOG_GUARD_MAX_RULES; id++) {
		struct edgelog_guard_rule_stat *rs = &out->rules[n];

		if (!g->rules[id].used)
			continue;
		err = bpf_map__lookup_elem(g->skel->maps.rule_stats, &id, sizeof(id), vals, vsz, 0);
		if (err) {
			set_err(err, "read rule counters");
			goto cleanup;
		}
		rs->rule_id = id;
		rs->kind = g->rules[id].kind;
		for (int c = 0; c < g->ncpus; c++) {
			rs->packets += vals[c].packets;
			rs->bytes += vals[c].bytes;
		}
		format_rule(&g->rules[id], rs->cidr, sizeof(rs->cidr));
		n++;
	}
	out->nrules = n;
cleanup:
	free(vals);
	return err;
}

EDGELOG_API void guard_close(struct edgelog_guard *g)
{
	if (!g)
		return;
	/* without pins, a filter left attached would run with rules nobody can
	 * change any more: take it down. With pins it keeps guarding. */
	if (g->attached && !g->pinned)
		guard_detach(g);
	guard_bpf__destroy(g->skel);
	free(g);
}
