// The contract every component follows: one exported record per component
// (type, defaults, validate, create), registered in one table
// (agent/registry.ts). Stages are wired from config into named chains:
//   source -> decoders/transforms (processors) -> encoder -> sink
// Retry, batching, backpressure and acknowledgement live in agent/pipeline,
// never in a component.

import type { LogRecord } from './record.ts';
import type { RecordRun, RunSlice } from './record-run.ts';
import type { Logger } from '../observe/log.ts';
import type { Registry } from '../observe/prometheus.ts';

export type ComponentKind = 'source' | 'processor' | 'encoder' | 'sink';

export interface ComponentContext {
  /** The component's id from config (e.g. `app_logs`). */
  readonly id: string;
  readonly log: Logger;
  readonly metrics: Registry;
  /** Writable directory for this agent's state (checkpoints, spool, dead letters). */
  readonly dataDir: string;
  /** `agent.dead_letter_max_bytes`: each dead-letter file pair stays under it (default when absent). */
  readonly deadLetterMaxBytes?: number;
  /** Agent identity, put on every record's resource (with host, service and site). */
  readonly agentId: string;
  readonly host: string;
  readonly service: string;
  readonly site: string;
}

export interface ComponentSpec<C, I> {
  readonly kind: ComponentKind;
  readonly type: string;
  /** One-line description for `edgelog validate --list` and the component reference. */
  readonly summary: string;
  /** Every option with its default. Each default carries a comment citing where it comes from. */
  readonly defaults: C;
  /** Turns raw YAML into a config, throwing ConfigError with the full key path (`path` is this component's prefix). */
  validate(raw: unknown, path: string): C;
  create(cfg: C, ctx: ComponentContext): I;
}

/**
 * Where a source delivers. The promise resolves when there is room again: a
 * source must await it (backpressure). A record's body bytes are valid until
 * the record is settled: the file source writes later chunks into the memory
 * of acknowledged ones (sources/file/chunk-slabs.ts), so whatever keeps a
 * body past its settle keeps a copy.
 */
export interface Downstream {
  push(batch: LogRecord[]): Promise<void>;
  /**
   * The same for one chunk's records in columns (core/record-run.ts). A
   * downstream without it gets `run.toRecords()` through push().
   */
  pushRun?(run: RecordRun): Promise<void>;
  /**
   * The stream ended (file rotated away and read to its end, deleted, or the
   * source stopped it): stages holding records of `streamId` (multiline)
   * release them now instead of at their timeout.
   */
  endStream?(streamId: string): void;
}

export interface Source {
  start(out: Downstream): Promise<void>;
  /** Stop reading, emit what is complete (e.g. unterminated last lines), and resolve. Checkpoints keep being written by acks. */
  stop(): Promise<void>;
  /** Wait until everything emitted so far is acknowledged and checkpointed (or the timeout passes). */
  drain?(timeoutMs: number): Promise<void>;
  /**
   * Conditions for /readyz, polled by the agent: each named check with the
   * reason it is degraded, or '' when it is fine (files waiting for a handle,
   * checkpoints that cannot be written).
   */
  health?(): readonly SourceCheck[];
  /** Drops what it keeps only for reuse (free buffers); called when the agent went quiet, before a full GC. */
  trim?(): void;
}

export interface SourceCheck { readonly check: string; readonly degraded: string }

/**
 * Decoders and transforms. `process` works on a whole batch and appends what
 * survives to `out`; a record it drops must be settled with
 * `record.ack.settle(1, 'dropped')` and counted by reason.
 */
export interface Processor {
  process(batch: LogRecord[], out: LogRecord[]): void;
  /** Called periodically; emits what a time-based stage (multiline, throttle) releases. */
  tick?(nowMs: number, out: LogRecord[]): void;
  /** Emit everything held back (shutdown). */
  flush?(out: LogRecord[]): void;
  /** Emit what is held back for one stream (end of a file at rotation or deletion). */
  flushStream?(streamId: string, out: LogRecord[]): void;
}

export interface EncodedMessage {
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
  /**
   * The records this message carries, acked together when the message is
   * acknowledged. Empty (NO_RECORDS) when they are held elsewhere: encoded
   * on a processing thread (they stay there; `observedMs` carries what a sink
   * or a drill may look at) or from columns (`runs`). `count` then says how
   * many there are; read it through recordCount().
   */
  records: LogRecord[];
  /**
   * How many records the message carries when `records` holds none. Not a
   * holey `new Array(n)`: that array lived as long as the message was in
   * flight and was ~14 % of the bytes the GC promoted at saturation
   * (sampling heap profile, json-200b).
   */
  count?: number;
  /** When each record was read (ms), set when `records` has no record objects. */
  observedMs?: Float64Array;
  /** Set when the records were encoded from columns: `records` is then empty and `count` set. */
  runs?: readonly RunSlice[];
}

/** `records` of a message whose records are held elsewhere (`count`, `runs`, `observedMs`); frozen, shared. */
export const NO_RECORDS: LogRecord[] = Object.freeze([]) as unknown as LogRecord[];

/** How many records a message carries, however they are held. */
export function recordCount(m: EncodedMessage): number {
  return m.count ?? m.records.length;
}

/** When each record of a message was read (ms), however its records are held. */
export function messageObserved(m: EncodedMessage): ArrayLike<number> {
  if (m.observedMs) return m.observedMs;
  if (m.runs) {
    const out = new Float64Array(recordCount(m));
    let k = 0;
    for (const s of m.runs) { out.fill(s.run.observedMs, k, k + s.to - s.from); k += s.to - s.from; }
    return out;
  }
  return m.records.map((r) => r.observedMs);
}

export interface Encoder {
  /** Name put into the `encoding` header, e.g. `otlp_proto`. */
  readonly name: string;
  /** Encode a batch into one or more messages (otlp_proto: one; json/raw: one per record). */
  encode(records: LogRecord[]): EncodedMessage[];
  /**
   * Encode records held in columns (core/record-run.ts) without building
   * LogRecords. Must write the same bytes encode() writes for
   * `sliceRecords(slices)`. An encoder without it gets LogRecords.
   */
  encodeRuns?(slices: readonly RunSlice[]): EncodedMessage[];
  /** Drops what it keeps only for reuse (free output buffers); called when the agent went quiet. */
  trim?(): void;
}

export interface Sink {
  /** Deliver messages; resolves only once the destination acknowledged all of them. Throws EdgelogError (retriable or not). */
  send(messages: EncodedMessage[]): Promise<void>;
  /**
   * A hint: `messages` are the next send(), handed over while the current one
   * is on the wire. A sink may do work that does not depend on earlier sends
   * (the Kafka sink compresses the batches); send() delivers the same whether
   * or not this was called, and the hint may be wrong (the pipeline may split
   * the request, or the sink route it elsewhere).
   */
  prepare?(messages: EncodedMessage[]): void;
  /** Largest message the destination accepts, bytes. */
  readonly maxMessageBytes: number;
  close(): Promise<void>;
  /** Health of the destination for /readyz. */
  health?(): { ready: boolean; reason: string };
  /**
   * A sink that routes over several destinations (failover over clusters)
   * reports each circuit transition, failover and failback here, so the agent
   * turns them into health state without knowing the sink's class.
   */
  onEvent?(listener: (e: RouteEvent) => void): void;
  /** Drops what it keeps only for reuse (compression buffers, scratch); called when the agent went quiet. Nothing in flight is touched. */
  trim?(): void;
}

/** A routing sink's state change: a circuit opened/closed, or traffic moved between destinations. */
export interface RouteEvent {
  readonly kind: 'breaker' | 'failover' | 'failback';
  /** The destination whose circuit changed (breaker events). */
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly ts: number;
}
