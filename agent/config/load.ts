// Reads the agent's YAML config, substitutes ${ENV}, and validates every part
// against the component registry. Errors are ConfigError with the full key
// path, e.g. `sinks.kafka.batch.max_bytes: expected a size such as 64KiB`.
//
// Shape:
//   agent:     id, data_dir, site, service, role, shutdown_timeout
//   observe:   listen, log_level, log_format
//   sources:   <id>: { type, ... }
//   decoders:  <id>: { type, ... }
//   transforms:<id>: { type, ... }
//   sinks:     <id>: { type, encoding: { codec, ... }, batch, buffer, retry, ... }
//   pipelines: <name>: { sources: [ids], decoders: [ids], transforms: [ids], sink: id }
// Without `pipelines`, one pipeline takes every source, every decoder and
// transform in file order, and the only sink.

import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { ConfigError, ConfigErrors, EdgelogError } from '../core/errors.ts';
import type { ComponentKind, ComponentSpec } from '../core/component.ts';
import { observeSection, type ObserveConfig } from './observe-section.ts';
import { closest, collectConfigErrors, join, noteConfigError, readMap, readOptString, readString, type Raw } from './schema.ts';
import { choice, derivedDefault, derivedType, duration, field, type Infer, requiredText, section, size, stringList, text } from './declare.ts';
import { substituteEnv } from './env.ts';
import { parseYaml } from './yaml.ts';
import { encodingSection, sinkCommonKeys } from './sink-common.ts';
import { readDelivery, type DeliveryConfig } from '../pipeline/config.ts';
import { DEAD_LETTER_MAX_BYTES_DEFAULT } from '../pipeline/dead-letter.ts';
import { findSpec, listTypes } from '../registry.ts';
import { validateGuardConfig, type GuardConfig } from '../native/guard-config.ts';

export interface ComponentConfig {
  readonly id: string;
  readonly path: string;
  readonly spec: ComponentSpec<unknown, unknown>;
  readonly config: unknown;
  /** The YAML it was validated from (after ${ENV}): processing workers validate it again on their side. */
  readonly raw: unknown;
}

export interface SinkConfig extends ComponentConfig {
  readonly encoder: ComponentConfig;
  readonly delivery: DeliveryConfig;
}

export interface PipelineConfig {
  readonly id: string;
  readonly sources: ComponentConfig[];
  readonly processors: ComponentConfig[];
  readonly sink: SinkConfig;
}

export interface AgentConfig {
  readonly agent: Readonly<Infer<typeof agentSection>>;
  readonly observe: Readonly<ObserveConfig>;
  readonly pipelines: PipelineConfig[];
  /** tc/eBPF ingress guard (disabled unless a `guard:` section is present). */
  readonly guard: GuardConfig;
}

export const agentDefaults = {
  // /var/lib/edgelog is where the installer puts state (FHS: variable state information).
  dataDir: '/var/lib/edgelog',
  // systemd's DefaultTimeoutStopSec is 90 s; stop well within it.
  shutdownTimeoutMs: 30_000,
  // One thread: the main thread keeps reading, framing and the Kafka client,
  // the worker decodes, transforms and encodes.
  workerThreadsAuto: 1,
  // Measured on 2 cores with the broker on the same machine (npm run bench,
  // bench/results/results.md): the thread bought no events/s (542K vs 538K
  // on 200-byte lines, 253K vs 266K on 1 KB) and cost 36-52 % more CPU per
  // GB and 108-149 MB more RSS, because each record is built on both threads. Where two cores are shared with the applications the agent
  // serves, that is the wrong trade, so auto starts the thread from 4 cores
  // (not measured here: no machine with more cores was available).
  workerThreadsMinCores: 4,
};

/**
 * `auto` (the default): one processing thread per pipeline on a machine with
 * at least agentDefaults.workerThreadsMinCores cores, none below. 0..16 sets it.
 */
export function readWorkerThreads(v: unknown): number {
  if (v === undefined || v === null || v === 'auto') return availableParallelism() >= agentDefaults.workerThreadsMinCores ? agentDefaults.workerThreadsAuto : 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 16) return v;
  throw new ConfigError('agent.worker_threads', 'auto or a whole number from 0 to 16', v);
}

/** The `agent:` section, declared once (agent/config/declare.ts): type, reader, defaults and its COMPONENTS.md rows. */
export const agentSection = section({
  id: derivedDefault(text('id', hostname(), "agent identity, on every record's resource (`edgelog.agent.id`) and Kafka header"), "this host's name"),
  dataDir: text('data_dir', agentDefaults.dataDir, "state: checkpoints, spools, dead letters; locked (`edgelog.lock`, flock) while the agent runs: a second agent on it exits 1 with `EDGELOG_DATA_DIR_LOCKED` naming the holder's pid"),
  site: text('site', 'default', 'site label (`edgelog.site`)'),
  service: text('service', 'edgelog', '`service.name` on the resource'),
  role: choice('role', ['edge', 'relay'], 'edge', '`relay`: the agent receives from other agents (forward source)'),
  shutdownTimeoutMs: duration('shutdown_timeout', agentDefaults.shutdownTimeoutMs, "how long stop (and reload) waits for acknowledgements; systemd's stop timeout is 90 s"),
  /** Threads per pipeline for decode/transform/encode; 0 runs them on the main thread. */
  workerThreads: field('worker_threads', '`auto` or int 0..16', readWorkerThreads(undefined), '`auto`', 'threads per pipeline for decode/transform/encode; `auto`: 1 with four or more cores, else 0 (main thread; measured on 2 cores: the thread bought no throughput and cost 36-52 % more CPU per GB)', (m: Raw) => readWorkerThreads(m.worker_threads)),
  // At least 2 MiB: a 1 MiB record (the Kafka sink's default limit) must still fit half of it.
  /** Each sink's dead-letter files together stay under this (pipeline/dead-letter.ts). */
  deadLetterMaxBytes: size('dead_letter_max_bytes', DEAD_LETTER_MAX_BYTES_DEFAULT, 'per sink: its dead-letter file and the rotated `.1` together stay under it (at least 2MiB); at half of it the file rotates and the oldest dead letters are deleted; a record whose line alone would pass half of it is kept without its body (size and SHA-256 kept); both logged and counted (`edgelog_dead_letter_rotations_total`, `edgelog_dead_letter_bodies_omitted_total`)', 2 * 1024 * 1024),
});

/**
 * The file's sections (the rows of "Top-level keys"). Each is read on its
 * own below, so one that fails does not hide the others; the component maps'
 * JSON Schema is assembled from the registry (json-schema.ts).
 */
export const topSection = section({
  agent: field('agent', 'map', undefined, '`{}`', 'identity, state directory, shutdown ([below](#agent-top-level))', (m) => m.agent),
  observe: field('observe', 'map', undefined, '`{}`', 'HTTP endpoint (/metrics, /healthz, /readyz) and logging', (m) => m.observe),
  sources: field('sources', 'map id -> source', undefined, '(required)', 'at least one source', (m) => m.sources),
  decoders: field('decoders', 'map id -> decoder', undefined, '`{}`', 'parsing processors', (m) => m.decoders),
  transforms: field('transforms', 'map id -> transform', undefined, '`{}`', 'processors after the decoders', (m) => m.transforms),
  sinks: field('sinks', 'map id -> sink', undefined, '(required)', 'at least one sink', (m) => m.sinks),
  pipelines: field('pipelines', 'map name -> pipeline', undefined, '(none)', 'named chains; without it one pipeline takes every source, every decoder and transform in file order, and the only sink', (m) => m.pipelines),
  guard: field('guard', 'map', undefined, '(none)', 'tc/eBPF ingress guard; off unless the section is present', (m) => m.guard),
});

/** One entry of `pipelines:`, declared once; the ids are checked against the components by readPipeline. */
export const pipelineSection = section({
  sources: derivedDefault(derivedType(stringList('sources', 'at least one'), 'list of source ids'), '(required)'),
  decoders: derivedType(stringList('decoders', 'run in this order'), 'list of decoder ids'),
  transforms: derivedType(stringList('transforms', 'run in this order, after the decoders'), 'list of transform ids'),
  sink: derivedType(requiredText('sink', 'where the chain delivers'), 'sink id'),
});

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EdgelogError('EDGELOG_CONFIG_READ', `cannot read config ${file}: ${(err as Error).message}`);
  }
  return parseConfig(text, env);
}

export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError('(yaml)', `valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const raw = substituteEnv(doc ?? {}, '', env);
  return validateConfig(raw);
}

/**
 * Validates a whole config and reports every problem at once: unknown keys
 * are noted per map (with the closest known key), and a component, section
 * or key whose reader throws is noted and validation goes on with the next.
 * One problem is thrown as that ConfigError; several as ConfigErrors (a
 * ConfigError naming the first, whose message lists them all).
 */
export function validateConfig(raw: unknown): AgentConfig {
  const { value, errors } = collectConfigErrors(() => validateSections(raw));
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new ConfigErrors(errors);
  return value!;
}

/** `fn`'s value, or `fallback` after noting the ConfigError it threw (only inside collectConfigErrors). */
function attempt<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    noteConfigError(err);
    return fallback;
  }
}

function validateSections(raw: unknown): AgentConfig {
  const top = readMap(raw, '', topSection.keys);
  const agent = attempt(() => agentSection.read(top.agent, 'agent'), agentSection.defaults);
  const observe = attempt(() => observeSection.read(top.observe, 'observe'), observeSection.defaults);

  // Ids whose component failed validation: a pipeline naming one is not reported again.
  const failed = new Set<string>();
  const sources = readComponents(top.sources, 'sources', 'source', failed);
  const decoders = readComponents(top.decoders, 'decoders', 'processor', failed);
  const transforms = readComponents(top.transforms, 'transforms', 'processor', failed);
  const sinks = readSinks(top.sinks, failed);
  const guard = attempt(() => validateGuardConfig(top.guard, 'guard'), undefined);
  if (sources.size === 0 && !hasFailed(failed, 'sources')) noteConfigError(new ConfigError('sources', 'at least one source'));
  if (sinks.size === 0 && !hasFailed(failed, 'sinks')) noteConfigError(new ConfigError('sinks', 'at least one sink'));

  const pipelines: PipelineConfig[] = [];
  if (top.pipelines === undefined || top.pipelines === null) {
    if (sinks.size + countFailed(failed, 'sinks') > 1) noteConfigError(new ConfigError('pipelines', 'a pipelines section when more than one sink is configured'));
    else if (sinks.size === 1 && sources.size > 0) pipelines.push({ id: 'default', sources: [...sources.values()], processors: [...decoders.values(), ...transforms.values()], sink: [...sinks.values()][0]! });
  } else {
    const pm = attempt(() => readMap(top.pipelines, 'pipelines'), {});
    const usedSources = new Map<string, string>();
    for (const [name, v] of Object.entries(pm)) {
      const p = attempt(() => readPipeline(name, v, { sources, decoders, transforms, sinks }, failed, usedSources), undefined);
      if (p) pipelines.push(p);
    }
  }
  return { agent, observe, pipelines, guard: guard! };
}

function hasFailed(failed: Set<string>, section: string): boolean {
  return countFailed(failed, section) > 0;
}

function countFailed(failed: Set<string>, section: string): number {
  return [...failed].filter((p) => p.startsWith(`${section}.`)).length;
}

interface Declared {
  readonly sources: Map<string, ComponentConfig>;
  readonly decoders: Map<string, ComponentConfig>;
  readonly transforms: Map<string, ComponentConfig>;
  readonly sinks: Map<string, SinkConfig>;
}

/** One pipeline; undefined (nothing more to say) when it names a component that already failed validation. */
function readPipeline(name: string, v: unknown, d: Declared, failed: Set<string>, usedSources: Map<string, string>): PipelineConfig | undefined {
  const path = join('pipelines', name);
  const p = pipelineSection.read(v, path);
  let incomplete = false;
  const pick = (key: 'sources' | 'decoders' | 'transforms'): ComponentConfig[] => {
    const table = d[key];
    const out: ComponentConfig[] = [];
    p[key].forEach((id, i) => {
      const c = table.get(id);
      if (c) { out.push(c); return; }
      if (failed.has(join(key, id))) { incomplete = true; return; }
      throw new ConfigError(join(join(path, key), i), `the id of a configured ${key.replace(/s$/, '')} (${[...table.keys()].join(', ') || 'none configured'})`, id, closest(id, [...table.keys()]));
    });
    return out;
  };
  const srcs = pick('sources');
  if (srcs.length === 0 && !incomplete) throw new ConfigError(join(path, 'sources'), 'at least one source id');
  for (const s of srcs) {
    const other = usedSources.get(s.id);
    // A source feeds one pipeline: its acknowledgements must come from one place.
    if (other) throw new ConfigError(join(path, 'sources'), `source ${s.id} in one pipeline only (already in ${other})`);
    usedSources.set(s.id, name);
  }
  const processors = [...pick('decoders'), ...pick('transforms')];
  const sinkId = p.sink;
  // No sink written, or not a string: already reported by the section's reader.
  if (typeof (v as Raw).sink !== 'string') return undefined;
  const sink = d.sinks.get(sinkId);
  if (!sink) {
    if (failed.has(join('sinks', sinkId))) return undefined;
    throw new ConfigError(join(path, 'sink'), `the id of a configured sink (${[...d.sinks.keys()].join(', ')})`, sinkId, closest(sinkId, [...d.sinks.keys()]));
  }
  return incomplete ? undefined : { id: name, sources: srcs, processors, sink };
}

function readComponent(raw: unknown, path: string, kind: ComponentKind, strip: readonly string[] = []): ComponentConfig {
  const m = readMap(raw, path);
  const type = readString(m, 'type', path);
  const spec = findSpec(kind, type);
  if (!spec) throw new ConfigError(join(path, 'type'), `one of ${listTypes(kind).join(', ')}`, type, closest(type, listTypes(kind)));
  const rest: Raw = {};
  for (const [k, v] of Object.entries(m)) if (k !== 'type' && !strip.includes(k)) rest[k] = v;
  const id = path.split('.').pop()!;
  return { id, path, spec, config: spec.validate(rest, path), raw: rest };
}

/** Each component of a section; one that fails is noted (and its path put in `failed`) and the next is read. */
function readComponents(raw: unknown, section: string, kind: ComponentKind, failed: Set<string>): Map<string, ComponentConfig> {
  const out = new Map<string, ComponentConfig>();
  for (const [id, v] of Object.entries(attempt(() => readMap(raw, section), {}))) {
    const c = attempt(() => readComponent(v, join(section, id), kind), undefined);
    if (c) out.set(id, c);
    else failed.add(join(section, id));
  }
  return out;
}

/** Each sink: its own keys, its encoder and the pipeline's delivery keys are checked independently. */
function readSinks(raw: unknown, failed: Set<string>): Map<string, SinkConfig> {
  const out = new Map<string, SinkConfig>();
  for (const [id, v] of Object.entries(attempt(() => readMap(raw, 'sinks'), {}))) {
    const path = join('sinks', id);
    const m = attempt(() => readMap(v, path), undefined);
    if (!m) { failed.add(path); continue; }
    const base = attempt(() => readComponent(m, path, 'sink', sinkCommonKeys), undefined);
    const encoder = attempt(() => readEncoder(m, path, id), undefined);
    const delivery = attempt(() => readDelivery(m, path), undefined);
    if (!base || !encoder || !delivery) { failed.add(path); continue; }
    out.set(id, { ...base, encoder, delivery });
  }
  return out;
}

function readEncoder(m: Raw, path: string, id: string): ComponentConfig {
  const encPath = join(path, 'encoding');
  const enc = readMap(m.encoding, encPath);
  const codec = readOptString(enc, 'codec', encPath) ?? encodingSection.defaults.codec;
  const encSpec = findSpec('encoder', codec);
  if (!encSpec) throw new ConfigError(join(encPath, 'codec'), `one of ${listTypes('encoder').join(', ')}`, codec, closest(codec, listTypes('encoder')));
  const encRest: Raw = {};
  for (const [k, x] of Object.entries(enc)) if (k !== 'codec') encRest[k] = x;
  return { id: `${id}.encoding`, path: encPath, spec: encSpec, config: encSpec.validate(encRest, encPath), raw: encRest };
}
