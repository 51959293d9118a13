// The `kafka` sink as users configure it: either one cluster (`brokers`) or
// several by region and priority (`clusters`), in which case each cluster gets
// its own producer and the FailoverSink moves traffic between them.
//
//   type: kafka
//   topic: logs                      # shared options apply to every cluster
//   clusters:
//     - { name: a, region: eu-west-1, priority: 1, brokers: [kafka-a:9092] }
//     - { name: b, region: eu-central-1, priority: 2, brokers: [kafka-b:9092], sasl: {...} }
//   failover: { failure_threshold: 5, slow_probe_threshold: 5, slow_threshold: 2s,
//               open_duration: 10s, probe_interval: 500ms, failback_hold_down: 30s,
//               stuck_request: 10s, gray_window: 5s, gray_slow_threshold: 300ms, gray_max_bad_share: 0.4, gray_min_bad_probes: 4 }
//
// A cluster entry may override tls and sasl (regions often have their own
// credentials). Bootstrap names are resolved by kafkajs on every new
// connection, so a DNS change takes effect on the next reconnect.

import { ConfigError } from '../../core/errors.ts';
import type { ComponentContext, ComponentSpec, Sink } from '../../core/component.ts';
import { join, readInt, readMap, type Raw } from '../../config/schema.ts';
import { derivedDefault, duration, field, fieldSchema, type Infer, int, listOf, nested, num, optText, section } from '../../config/declare.ts';
import { kafkaSink } from '../kafka/sink.ts';
import { kafkaSection, type KafkaSinkConfig } from '../kafka/config.ts';
import { KafkaSink } from '../kafka/sink.ts';
import { breakerDefaults } from './breaker.ts';
import { grayBudgetDefaults } from './gray-budget.ts';
import { FailoverSink, failoverDefaults, type FailoverConfig } from './failover-sink.ts';

export interface KafkaClusterEntry {
  readonly name: string;
  readonly region: string;
  readonly priority: number;
  readonly config: KafkaSinkConfig;
}

export type KafkaSinkSetup =
  | { readonly mode: 'single'; readonly config: KafkaSinkConfig }
  | { readonly mode: 'failover'; readonly clusters: KafkaClusterEntry[]; readonly failover: FailoverConfig };

/**
 * A value taken as written: the sink's own section reads it (a cluster's
 * brokers, tls, sasl over the shared ones); its schema is that key's in the
 * sink's section, so an editor checks a cluster's tls as the shared one.
 */
const passed = (key: keyof typeof kafkaSection.fields, defText: string, meaning: string) => {
  const own = kafkaSection.fields[key];
  return field<unknown>(own.key, own.type === 'map, or `true`' ? 'map' : own.type, undefined, defText, meaning, (m) => m[own.key], fieldSchema(own, true));
};

/** One entry of `clusters`; its brokers, tls and sasl are read by the sink's section, merged over the shared keys. */
export const clusterSection = section({
  name: derivedDefault(optText('name', 'cluster name (unique)'), 'the region'),
  region: derivedDefault(optText('region', 'region label'), '`region-<n>`'),
  priority: field<number | undefined>('priority', 'int 0..1000', undefined, 'its position (1, 2, ...)', 'lower is preferred', (m: Raw, path: string) => (m.priority === undefined || m.priority === null ? undefined : readInt(m, 'priority', path, 0, 0, 1000))),
  brokers: passed('brokers', '(required)', 'bootstrap brokers of this cluster'),
  tls: passed('tls', 'the shared `tls`', 'same keys as `tls`'),
  sasl: passed('sasl', 'the shared `sasl`', 'same keys as `sasl`'),
});

/** `failover`: circuit breakers, failback and the gray-failure budget, declared once. */
export const failoverSection = section({
  failureThreshold: int('failure_threshold', breakerDefaults.failureThreshold, "consecutive failures that open a cluster's circuit", 1, 1000),
  slowThreshold: int('slow_probe_threshold', breakerDefaults.slowThreshold, 'consecutive slow probes that open it', 1, 1000),
  slowMs: duration('slow_threshold', breakerDefaults.slowMs, 'a probe slower than this counts as slow'),
  openDurationMs: duration('open_duration', breakerDefaults.openDurationMs, 'an open circuit waits this long before a trial'),
  probeIntervalMs: duration('probe_interval', failoverDefaults.probeIntervalMs, 'health probe period (at least 50ms)'),
  failbackHoldDownMs: duration('failback_hold_down', failoverDefaults.failbackHoldDownMs, 'a preferred cluster must stay healthy this long before traffic moves back'),
  stuckRequestMs: duration('stuck_request', failoverDefaults.stuckRequestMs, "a request outstanding this long opens the cluster's circuit and is resent on the next (leaders unreachable while probes answer); keep it above the brokers' `broker.session.timeout.ms`"),
  grayWindowMs: duration('gray_window', grayBudgetDefaults.windowMs, 'gray-failure budget: sliding window of probe results (at least 100ms)'),
  graySlowMs: duration('gray_slow_threshold', grayBudgetDefaults.slowMs, 'gray-failure budget: a probe slower than this (or failed) is a bad sample'),
  grayMaxBadShare: num('gray_max_bad_share', grayBudgetDefaults.maxBadShare, 'gray-failure budget: share of bad probes in the window that opens the circuit', 0.01, 1),
  grayMinBad: int('gray_min_bad_probes', grayBudgetDefaults.minBad, 'gray-failure budget: and at least this many bad probes', 1, 1000),
}, (f, m, path) => {
  if (f.grayWindowMs < 100) throw new ConfigError(join(path, 'gray_window'), 'at least 100ms', m.gray_window);
  if (f.graySlowMs < 1) throw new ConfigError(join(path, 'gray_slow_threshold'), 'at least 1ms', m.gray_slow_threshold);
  if (f.stuckRequestMs < 100) throw new ConfigError(join(path, 'stuck_request'), 'at least 100ms', m.stuck_request);
  if (f.probeIntervalMs < 50) throw new ConfigError(join(path, 'probe_interval'), 'at least 50ms', m.probe_interval);
});
type FailoverKeys = Infer<typeof failoverSection>;

function failoverConfig(f: FailoverKeys): FailoverConfig {
  return {
    breaker: { failureThreshold: f.failureThreshold, slowThreshold: f.slowThreshold, slowMs: f.slowMs, openDurationMs: f.openDurationMs },
    probeIntervalMs: f.probeIntervalMs,
    failbackHoldDownMs: f.failbackHoldDownMs,
    stuckRequestMs: f.stuckRequestMs,
    gray: { windowMs: f.grayWindowMs, slowMs: f.graySlowMs, maxBadShare: f.grayMaxBadShare, minBad: f.grayMinBad },
  };
}

/**
 * The kafka sink's keys as a whole, for the reference rows: the sink's own
 * (one cluster), `clusters` and `failover`. Reading goes through validate()
 * below, which merges the shared keys into each cluster.
 */
export const kafkaSinkSection = section({
  ...kafkaSection.fields,
  clusters: listOf('clusters', clusterSection, 'list of clusters', '(none)', 'two or more clusters instead of `brokers`', (raw) => raw, undefined as unknown),
  failover: nested('failover', failoverSection, 'map', failoverSection.defaults, '`{}`', 'circuit breakers and failback (only with `clusters`)', (raw, path) => failoverSection.read(raw, path)),
}, undefined, {
  // What validate() below and the sink's own rules refuse, as JSON Schema.
  allOf: [
    { anyOf: [{ required: ['brokers'] }, { required: ['clusters'] }] },
    { not: { required: ['brokers', 'clusters'] } },
    { dependentRequired: { failover: ['clusters'] } },
    // Idempotent (the default) needs acks all.
    // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, this object is never awaited
    { if: { not: { properties: { idempotent: { const: false } }, required: ['idempotent'] } }, then: { properties: { acks: { const: 'all' } } } },
  ],
});

function validate(raw: unknown, path: string): KafkaSinkSetup {
  const m = readMap(raw, path);
  if (m.clusters === undefined) {
    if (m.failover !== undefined) throw new ConfigError(join(path, 'failover'), 'a clusters list next to it (failover needs two or more clusters)');
    return { mode: 'single', config: kafkaSink.validate(m, path) };
  }
  if (m.brokers !== undefined) throw new ConfigError(join(path, 'brokers'), 'either brokers (one cluster) or clusters (several), not both');
  const shared: Raw = {};
  for (const [k, v] of Object.entries(m)) if (k !== 'clusters' && k !== 'failover') shared[k] = v;
  const list = m.clusters;
  if (!Array.isArray(list) || list.length < 2) throw new ConfigError(join(path, 'clusters'), 'a list of at least two clusters', list);
  const names = new Set<string>();
  const clusters = list.map((c, i): KafkaClusterEntry => {
    const cp = join(join(path, 'clusters'), i);
    const e = clusterSection.read(c, cp);
    const region = e.region ?? `region-${i + 1}`;
    const name = e.name ?? region;
    if (names.has(name)) throw new ConfigError(join(cp, 'name'), 'a name no other cluster uses', name);
    names.add(name);
    const priority = e.priority ?? i + 1;
    const merged: Raw = { ...shared, brokers: e.brokers };
    if (e.tls !== undefined) merged.tls = e.tls;
    if (e.sasl !== undefined) merged.sasl = e.sasl;
    const config = kafkaSink.validate(merged, cp);
    return { name, region, priority, config };
  });
  const failover = failoverConfig(failoverSection.read(m.failover, join(path, 'failover')));
  return { mode: 'failover', clusters, failover };
}

export const kafkaSinkWithFailover: ComponentSpec<KafkaSinkSetup, Sink> = {
  kind: 'sink',
  type: 'kafka',
  summary: `${kafkaSink.summary}; several clusters by region and priority with circuit breakers and automatic failover/failback`,
  defaults: { mode: 'single', config: kafkaSink.defaults },
  validate,
  create(setup: KafkaSinkSetup, ctx: ComponentContext): Sink {
    if (setup.mode === 'single') return kafkaSink.create(setup.config, ctx);
    const targets = setup.clusters.map((c) => ({
      name: c.name, region: c.region, priority: c.priority,
      sink: new KafkaSink(c.config, { ...ctx, id: `${ctx.id}.${c.name}`, log: ctx.log.child({ cluster: c.name, region: c.region }) }),
    }));
    return new FailoverSink(targets, setup.failover, ctx.metrics, ctx.log, ctx.id);
  },
};
