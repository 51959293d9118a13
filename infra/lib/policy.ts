// Policy checks over a stack's synthesized Terraform JSON. They run on every
// synth (EdgelogStack.toTerraform) and are plain functions, so tests can feed
// them a mutated document and watch each rule fire.
//
// They look at the JSON, not the constructs, on purpose: an escape hatch
// (addOverride), a raw resource or a future construct cannot slip past.

import { isAnywhere } from './net.ts';

export interface PolicyOptions {
  /** Tag (AWS) / label (GCP) keys every resource must carry. */
  readonly requiredTags: readonly string[];
  /** Broker, forward and health ports that must never be open to 0.0.0.0/0. */
  readonly protectedPorts: readonly number[];
}

export interface Violation {
  readonly rule: PolicyRule;
  /** `<type>.<logical id>` or `provider.<name>`. */
  readonly resource: string;
  readonly message: string;
}

export type PolicyRule = 'kafka-encryption' | 'open-ingress' | 'imdsv2' | 'required-tags' | 'relay-lb';

type Json = Record<string, any>;

/** Terraform JSON renders single blocks as objects or as one-element arrays; accept both. */
function block(v: unknown): Json | undefined {
  if (Array.isArray(v)) return v[0] as Json | undefined;
  if (v !== null && typeof v === 'object') return v as Json;
  return undefined;
}

function blocks(v: unknown): Json[] {
  if (Array.isArray(v)) return v as Json[];
  if (v !== null && typeof v === 'object') return [v as Json];
  return [];
}

function resources(tf: Json, type: string): [string, Json][] {
  return Object.entries((tf.resource?.[type] ?? {}) as Record<string, Json>);
}

const REF_RE = /\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.[A-Za-z0-9_]+)*\}/g;

/** The `type.name` pairs a value references (`${aws_lb_target_group.x.arn}`). */
function refs(v: unknown): string[] {
  const out: string[] = [];
  const s = JSON.stringify(v ?? null);
  for (const m of s.matchAll(REF_RE)) out.push(`${m[1]}.${m[2]}`);
  return out;
}

function portsOverlap(from: number, to: number, ports: readonly number[]): number[] {
  return ports.filter((p) => p >= from && p <= to);
}

function checkKafka(tf: Json, out: Violation[]): void {
  for (const [id, r] of resources(tf, 'aws_msk_cluster')) {
    const name = `aws_msk_cluster.${id}`;
    const enc = block(r.encryption_info);
    if (!enc?.encryption_at_rest_kms_key_arn) {
      out.push({ rule: 'kafka-encryption', resource: name, message: 'no customer KMS key for encryption at rest' });
    }
    const transit = block(enc?.encryption_in_transit);
    if (transit?.client_broker !== 'TLS') {
      out.push({ rule: 'kafka-encryption', resource: name, message: `client_broker encryption is ${transit?.client_broker ?? 'unset'}, expected TLS` });
    }
    if (transit?.in_cluster === false) {
      out.push({ rule: 'kafka-encryption', resource: name, message: 'in-cluster (broker to broker) encryption disabled' });
    }
    const auth = block(r.client_authentication);
    const sasl = block(auth?.sasl);
    if (auth?.unauthenticated === true || !(sasl?.iam === true || sasl?.scram === true)) {
      out.push({ rule: 'kafka-encryption', resource: name, message: 'clients must authenticate (IAM or SCRAM) and unauthenticated access must be off' });
    }
  }
}

function checkIngress(tf: Json, opts: PolicyOptions, out: Violation[]): void {
  const flag = (resource: string, cidr: string, from: number, to: number): void => {
    const hit = portsOverlap(from, to, opts.protectedPorts);
    if (isAnywhere(cidr) && hit.length > 0) {
      out.push({ rule: 'open-ingress', resource, message: `${cidr} may reach protected port(s) ${hit.join(', ')}` });
    }
  };
  const range = (r: Json): [number, number] => {
    const proto = String(r.ip_protocol ?? r.protocol ?? 'tcp');
    if (proto === '-1' || proto === 'all') return [0, 65535];
    return [Number(r.from_port ?? 0), Number(r.to_port ?? 65535)];
  };
  for (const [id, r] of resources(tf, 'aws_vpc_security_group_ingress_rule')) {
    const [from, to] = range(r);
    for (const c of [r.cidr_ipv4, r.cidr_ipv6]) if (typeof c === 'string') flag(`aws_vpc_security_group_ingress_rule.${id}`, c, from, to);
  }
  for (const [id, r] of resources(tf, 'aws_security_group_rule')) {
    if (r.type !== 'ingress') continue;
    const [from, to] = range(r);
    for (const c of [...(r.cidr_blocks ?? []), ...(r.ipv6_cidr_blocks ?? [])]) flag(`aws_security_group_rule.${id}`, c, from, to);
  }
  for (const [id, r] of resources(tf, 'aws_security_group')) {
    for (const ing of blocks(r.ingress)) {
      const [from, to] = range(ing);
      for (const c of [...(ing.cidr_blocks ?? []), ...(ing.ipv6_cidr_blocks ?? [])]) flag(`aws_security_group.${id}`, c, from, to);
    }
  }
  for (const [id, r] of resources(tf, 'google_compute_firewall')) {
    if ((r.direction ?? 'INGRESS') !== 'INGRESS') continue;
    for (const allow of blocks(r.allow)) {
      const ports: string[] = allow.ports ?? [];
      const spans: [number, number][] =
        ports.length === 0 || allow.protocol === 'all'
          ? [[0, 65535]]
          : ports.map((p) => {
              const [a, b] = String(p).split('-').map(Number);
              return [a, b ?? a] as [number, number];
            });
      for (const c of r.source_ranges ?? []) for (const [a, b] of spans) flag(`google_compute_firewall.${id}`, c, a, b);
    }
  }
}

function checkImds(tf: Json, out: Violation[]): void {
  for (const type of ['aws_launch_template', 'aws_instance']) {
    for (const [id, r] of resources(tf, type)) {
      const md = block(r.metadata_options);
      if (md?.http_tokens !== 'required') {
        out.push({ rule: 'imdsv2', resource: `${type}.${id}`, message: `metadata_options.http_tokens is ${md?.http_tokens ?? 'unset'} (IMDSv1 allowed), expected required` });
      }
    }
  }
}

function checkTags(tf: Json, opts: PolicyOptions, out: Violation[]): void {
  const missing = (tags: Json | undefined): string[] => opts.requiredTags.filter((k) => !tags || typeof tags[k] !== 'string' || tags[k] === '');
  for (const [name, list] of Object.entries((tf.provider ?? {}) as Record<string, Json[]>)) {
    for (const p of blocks(list)) {
      const id = `provider.${name}${p.alias ? `.${p.alias}` : ''}`;
      if (name === 'aws') {
        const m = missing(block(p.default_tags)?.tags);
        if (m.length) out.push({ rule: 'required-tags', resource: id, message: `default_tags lacks ${m.join(', ')}` });
      } else if (name === 'google') {
        const m = missing(p.default_labels);
        if (m.length) out.push({ rule: 'required-tags', resource: id, message: `default_labels lacks ${m.join(', ')}` });
      }
    }
  }
  // Resource-level tags are merged over default_tags: an empty value would erase a required tag.
  for (const [type, byId] of Object.entries((tf.resource ?? {}) as Record<string, Record<string, Json>>)) {
    for (const [id, r] of Object.entries(byId)) {
      const tags = (r.tags ?? r.labels) as Json | undefined;
      if (tags && typeof tags === 'object' && !Array.isArray(tags)) {
        const erased = opts.requiredTags.filter((k) => k in tags && (tags[k] === '' || tags[k] === null));
        if (erased.length) out.push({ rule: 'required-tags', resource: `${type}.${id}`, message: `blanks required tag(s) ${erased.join(', ')}` });
      }
    }
  }
  // default_tags do not reach instances an ASG launches; its own tag blocks must.
  for (const [id, r] of resources(tf, 'aws_autoscaling_group')) {
    const tags: Json = {};
    for (const t of blocks(r.tag)) if (t.propagate_at_launch === true) tags[t.key] = t.value;
    const m = missing(tags);
    if (m.length) out.push({ rule: 'required-tags', resource: `aws_autoscaling_group.${id}`, message: `instances launched without tag(s) ${m.join(', ')} (tag blocks with propagate_at_launch)` });
  }
}

function checkRelayLb(tf: Json, out: Violation[]): void {
  const listenersTo = new Set<string>();
  for (const [, l] of resources(tf, 'aws_lb_listener')) for (const ref of refs(l.default_action)) listenersTo.add(ref);
  for (const [id, asg] of resources(tf, 'aws_autoscaling_group')) {
    const name = `aws_autoscaling_group.${id}`;
    const tgRefs = [...refs(asg.target_group_arns), ...refs(blocks(asg.traffic_source).map((t) => t.identifier))].filter((r) =>
      r.startsWith('aws_lb_target_group.'),
    );
    if (tgRefs.length === 0) {
      out.push({ rule: 'relay-lb', resource: name, message: 'not attached to a load balancer target group' });
      continue;
    }
    if (asg.health_check_type !== 'ELB') {
      out.push({ rule: 'relay-lb', resource: name, message: `health_check_type is ${asg.health_check_type ?? 'EC2'}; unready relays would stay in service (expected ELB)` });
    }
    for (const ref of tgRefs) {
      const tg = tf.resource?.aws_lb_target_group?.[ref.split('.')[1]];
      const hc = block(tg?.health_check);
      if (!tg || !hc || hc.enabled === false) {
        out.push({ rule: 'relay-lb', resource: name, message: `${ref} has no health check` });
      } else if (!(hc.protocol === 'HTTP' || hc.protocol === 'HTTPS') || !hc.path) {
        // A TCP check only proves the port is open; a relay that cannot reach Kafka must leave the pool.
        out.push({ rule: 'relay-lb', resource: name, message: `${ref} health check must be HTTP(S) with a path (/readyz)` });
      }
      if (!listenersTo.has(ref)) out.push({ rule: 'relay-lb', resource: name, message: `no listener forwards to ${ref}` });
    }
  }
  const backendsByGroup = new Map<string, Json>();
  for (const [, be] of resources(tf, 'google_compute_region_backend_service')) {
    for (const b of blocks(be.backend)) for (const ref of refs(b.group)) backendsByGroup.set(ref, be);
  }
  for (const [id, mig] of resources(tf, 'google_compute_region_instance_group_manager')) {
    const name = `google_compute_region_instance_group_manager.${id}`;
    const be = backendsByGroup.get(`google_compute_region_instance_group_manager.${id}`);
    if (!be || refs(be.health_checks).length === 0) {
      out.push({ rule: 'relay-lb', resource: name, message: 'not behind a health-checked backend service' });
    }
    if (!block(mig.auto_healing_policies)?.health_check) {
      out.push({ rule: 'relay-lb', resource: name, message: 'no autohealing health check' });
    }
  }
}

/** All violations in one stack's Terraform JSON (empty when it complies). */
export function checkPolicies(tf: Json, opts: PolicyOptions): Violation[] {
  const out: Violation[] = [];
  checkKafka(tf, out);
  checkIngress(tf, opts, out);
  checkImds(tf, out);
  checkTags(tf, opts, out);
  checkRelayLb(tf, out);
  return out;
}
