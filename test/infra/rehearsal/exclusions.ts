// What the AWS emulator (moto) cannot create, and what stands in for it in the
// deploy rehearsal. Each excluded resource type is removed from the rehearsal
// copy of a stack; every reference to one of its attributes is replaced by the
// literal below (shaped like what AWS returns), so the resources that depend
// on it (launch template user data, the relay role's policy, outputs) are
// still applied and read back. This list is the whole of what the rehearsal
// does not cover; a real account runs the stacks unchanged.

export interface Exclusion {
  readonly type: string;
  /** Why moto cannot take it (moto 5.2, checked against its responses modules). */
  readonly why: string;
  /** Attribute -> stand-in literal; `{region}` is the stack's region. */
  readonly stands: Readonly<Record<string, string>>;
}

const mskArn = 'arn:aws:kafka:{region}:123456789012:cluster/edgelog-rehearsal/00000000-0000-0000-0000-000000000000-1';

export const EXCLUDED: readonly Exclusion[] = [
  {
    type: 'aws_msk_configuration',
    why: 'moto has no MSK CreateConfiguration',
    stands: { arn: 'arn:aws:kafka:{region}:123456789012:configuration/edgelog-rehearsal/1', latest_revision: '1' },
  },
  {
    type: 'aws_msk_cluster',
    why: 'moto creates MSK clusters but has no GetBootstrapBrokers, which the provider reads after create',
    stands: {
      arn: mskArn,
      bootstrap_brokers_sasl_iam: 'b-1.rehearsal.kafka.{region}.amazonaws.com:9098,b-2.rehearsal.kafka.{region}.amazonaws.com:9098',
      bootstrap_brokers_sasl_scram: 'b-1.rehearsal.kafka.{region}.amazonaws.com:9096,b-2.rehearsal.kafka.{region}.amazonaws.com:9096',
      cluster_name: 'edgelog-rehearsal',
    },
  },
  { type: 'aws_msk_scram_secret_association', why: 'moto has no MSK BatchAssociateScramSecret', stands: {} },
  { type: 'aws_msk_replicator', why: 'moto has no MSK Replicator', stands: {} },
  { type: 'aws_msk_cluster_policy', why: 'its cluster (aws_msk_cluster) is excluded', stands: {} },
  {
    type: 'aws_appautoscaling_target',
    why: 'MSK broker storage scaling: its resource (the MSK cluster) is excluded',
    stands: { service_namespace: 'kafka', scalable_dimension: 'kafka:broker-storage:VolumeSize', resource_id: mskArn },
  },
  { type: 'aws_appautoscaling_policy', why: 'scales the excluded MSK storage', stands: {} },
  { type: 'aws_globalaccelerator_accelerator', why: 'moto has no Global Accelerator', stands: { ip_sets: '[]' } },
  { type: 'aws_globalaccelerator_listener', why: 'moto has no Global Accelerator', stands: {} },
  { type: 'aws_globalaccelerator_endpoint_group', why: 'moto has no Global Accelerator', stands: {} },
];

type Json = Record<string, any>;

/**
 * The rehearsal copy of one stack's Terraform JSON: excluded resources removed,
 * references to them replaced by their stand-ins. Returns the removed
 * addresses too (for the report). Throws when an excluded attribute is
 * referenced but has no stand-in, so the list cannot silently fall behind.
 */
export function withoutExcluded(tf: Json, region: string): { tf: Json; removed: string[] } {
  const out = structuredClone(tf) as Json;
  const removed: string[] = [];
  const byType = new Map(EXCLUDED.map((e) => [e.type, e]));
  for (const e of EXCLUDED) {
    const group = out.resource?.[e.type] as Record<string, Json> | undefined;
    if (!group) continue;
    for (const name of Object.keys(group)) removed.push(`${e.type}.${name}`);
    delete out.resource[e.type];
  }
  const ref = /\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.([a-z0-9_]+))?/g;
  const rewrite = (s: string): string =>
    s.replace(ref, (whole, type: string, _name: string, attr: string | undefined) => {
      const e = byType.get(type);
      if (!e) return whole;
      if (attr === undefined) throw new Error(`rehearsal: ${whole} references an excluded resource as a whole`);
      const v = e.stands[attr];
      if (v === undefined) throw new Error(`rehearsal: ${type}.${attr} is referenced but has no stand-in in test/infra/rehearsal/exclusions.ts`);
      return v === '[]' ? '[]' : JSON.stringify(v.replaceAll('{region}', region));
    });
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') return v.includes('aws_') ? rewrite(v) : v;
    if (Array.isArray(v)) {
      const items = key === 'depends_on' ? v.filter((d) => !(typeof d === 'string' && byType.has(d.split('.')[0]!))) : v;
      return items.map((x) => walk(x));
    }
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  for (const section of ['resource', 'output', 'locals', 'data']) {
    if (out[section]) out[section] = walk(out[section]);
  }
  return { tf: out, removed };
}
