// The validators behind every section of agent/COMPONENTS.md: each registered
// component (from the one registry table), the loader's top-level sections,
// and the options every sink takes. Each comes with the smallest config it
// accepts, so probing gets past its required keys.

import { allSpecs } from '../../agent/registry.ts';
import { decoderSpecs } from '../../agent/decoders/index.ts';
import { transformSpecs } from '../../agent/transforms/index.ts';
import { validateConfig } from '../../agent/config/load.ts';
import { readDelivery } from '../../agent/pipeline/config.ts';
import type { Raw, Target } from './config-keys.ts';

/** What a section is called in the reference: `source:file`, `decoder:json`, `transform:multiline`, `encoder:raw`, `sink:kafka`. */
export function sectionOf(kind: string, type: string): string {
  if (kind !== 'processor') return `${kind}:${type}`;
  if (decoderSpecs.some((s) => s.type === type)) return `decoder:${type}`;
  if (transformSpecs.some((s) => s.type === type)) return `transform:${type}`;
  throw new Error(`processor ${type} is in neither decoderSpecs nor transformSpecs`);
}

/** Required keys, per section; everything else is left to its default. */
export const minimalConfigs: Record<string, Raw> = {
  'source:file': { include: ['/var/log/app/*.log'] },
  'decoder:regex': { pattern: '^(?<message>.*)$' },
  'transform:multiline': { pattern: '^\\S' },
  'sink:kafka': { brokers: ['127.0.0.1:9092'] },
  'sink:forward': { endpoints: ['127.0.0.1:24240'] },
};

/** Fields of validate(minimal) that differ from the spec's `defaults` because the minimal config sets them. */
export const setByMinimal: Record<string, string[]> = {
  'source:file': ['include'],
  'decoder:regex': ['pattern'],
  'transform:multiline': ['pattern'],
  'sink:kafka': ['config.brokers'],
  'sink:forward': ['endpoints'],
};

/** The smallest whole agent config: one file source, one Kafka sink. */
export const minimalAgentConfig: Raw = {
  sources: { s: { type: 'file', include: ['/var/log/app/*.log'] } },
  sinks: { k: { type: 'kafka', brokers: ['127.0.0.1:9092'] } },
};

export function targets(): Target[] {
  const out: Target[] = [];
  for (const spec of allSpecs()) {
    const section = sectionOf(spec.kind, spec.type);
    out.push({ section, validate: (raw) => spec.validate(raw, 'x'), minimal: minimalConfigs[section] ?? {}, root: [], errRoot: 'x' });
  }
  // The kafka sink's several-clusters form: `clusters` and `failover` are read before the single-cluster keys.
  const kafka = allSpecs().find((s) => s.kind === 'sink' && s.type === 'kafka');
  if (kafka) {
    out.push({
      section: 'sink:kafka', validate: (raw) => kafka.validate(raw, 'x'), root: [], errRoot: 'x',
      minimal: { clusters: [{ brokers: ['127.0.0.1:9092'] }, { brokers: ['127.0.0.1:9093'] }] },
      topKeys: ['clusters', 'failover'],
    });
  }
  const agent = (section: string, root: string[], extra: Raw = {}, more: Partial<Target> = {}): Target => ({
    section, validate: (raw) => validateConfig(raw), minimal: { ...minimalAgentConfig, ...extra }, root, errRoot: root.join('.'), ...more,
  });
  out.push(agent('top', [], {}, { shallow: true }));
  out.push(agent('top:agent', ['agent']));
  out.push(agent('top:observe', ['observe']));
  // enabled: false, so probing gets past the required interface.
  out.push(agent('top:guard', ['guard'], { guard: { enabled: false } }));
  out.push(agent('top:pipelines', ['pipelines', 'p'], { pipelines: { p: { sources: ['s'], sink: 'k' } } }));
  // Keys the loader takes out of every sink's map before the sink sees the rest.
  out.push(agent('sink-common', ['sinks', 'k'], {}, { topKeys: ['encoding', 'encoding.codec'], opaque: ['encoding', 'encoding.codec'] }));
  out.push({ section: 'sink-common', validate: (raw) => readDelivery(raw, 'x'), minimal: {}, root: [], errRoot: 'x', topKeys: ['batch', 'buffer', 'retry'] });
  return out;
}
