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
import { join, readDuration, readInt, readMap, readNumber, readOptString, type Raw } from '../../config/schema.ts';
import { kafkaSink } from '../kafka/sink.ts';
import type { KafkaSinkConfig } from '../kafka/config.ts';
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
    const e = readMap(c, cp, ['name', 'region', 'priority', 'brokers', 'tls', 'sasl']);
    const region = readOptString(e, 'region', cp) ?? `region-${i + 1}`;
    const name = readOptString(e, 'name', cp) ?? region;
    if (names.has(name)) throw new ConfigError(join(cp, 'name'), 'a name no other cluster uses', name);
    names.add(name);
    const priority = readInt(e, 'priority', cp, i + 1, 0, 1000);
    const merged: Raw = { ...shared, brokers: e.brokers };
    if (e.tls !== undefined) merged.tls = e.tls;
    if (e.sasl !== undefined) merged.sasl = e.sasl;
    const config = kafkaSink.validate(merged, cp);
    return { name, region, priority, config };
  });
  const f = readMap(m.failover, join(path, 'failover'), ['failure_threshold', 'slow_probe_threshold', 'slow_threshold', 'open_duration', 'probe_interval', 'failback_hold_down', 'stuck_request',
    'gray_window', 'gray_slow_threshold', 'gray_max_bad_share', 'gray_min_bad_probes']);
  const fp = join(path, 'failover');
  const failover: FailoverConfig = {
    breaker: {
      failureThreshold: readInt(f, 'failure_threshold', fp, breakerDefaults.failureThreshold, 1, 1000),
      slowThreshold: readInt(f, 'slow_probe_threshold', fp, breakerDefaults.slowThreshold, 1, 1000),
      slowMs: readDuration(f, 'slow_threshold', fp, breakerDefaults.slowMs),
      openDurationMs: readDuration(f, 'open_duration', fp, breakerDefaults.openDurationMs),
    },
    probeIntervalMs: readDuration(f, 'probe_interval', fp, failoverDefaults.probeIntervalMs),
    failbackHoldDownMs: readDuration(f, 'failback_hold_down', fp, failoverDefaults.failbackHoldDownMs),
    stuckRequestMs: readDuration(f, 'stuck_request', fp, failoverDefaults.stuckRequestMs),
    gray: {
      windowMs: readDuration(f, 'gray_window', fp, grayBudgetDefaults.windowMs),
      slowMs: readDuration(f, 'gray_slow_threshold', fp, grayBudgetDefaults.slowMs),
      maxBadShare: readNumber(f, 'gray_max_bad_share', fp, grayBudgetDefaults.maxBadShare, 0.01, 1),
      minBad: readInt(f, 'gray_min_bad_probes', fp, grayBudgetDefaults.minBad, 1, 1000),
    },
  };
  if (failover.gray!.windowMs < 100) throw new ConfigError(join(fp, 'gray_window'), 'at least 100ms', f.gray_window);
  if (failover.gray!.slowMs < 1) throw new ConfigError(join(fp, 'gray_slow_threshold'), 'at least 1ms', f.gray_slow_threshold);
  if (failover.stuckRequestMs! < 100) throw new ConfigError(join(fp, 'stuck_request'), 'at least 100ms', f.stuck_request);
  if (failover.probeIntervalMs < 50) throw new ConfigError(join(fp, 'probe_interval'), 'at least 50ms', f.probe_interval);
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
