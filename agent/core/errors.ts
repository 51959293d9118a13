// One base class for every failure the agent reports. `code` is stable (logs,
// metrics and tests match on it); `retriable` tells the pipeline whether the
// same work may succeed later (a dead broker) or never will (a record too large).
// Modelled on the error hierarchies of undici and kafkajs.

/**
 * Every error code the agent reports, whether the same work may succeed later,
 * and what the pipeline does with it. `retry`: back off and send again;
 * `dead_letter`: the record can never be delivered, it goes to the dead-letter
 * file with the code as its reason; `degrade`: the destination refuses
 * everything of this kind (authorization, missing topic), the pipeline marks
 * itself degraded with the reason and probes at the longest backoff (a
 * failover sink opens that cluster's circuit first); `exit`: startup stops
 * with the message; `report`: logged and counted where it happens.
 */
export const ERRORS = {
  EDGELOG_CONFIG: { retriable: false, pipeline: 'exit' },
  EDGELOG_CONFIG_READ: { retriable: false, pipeline: 'exit' },
  EDGELOG_CONFIG_EOF: { retriable: false, pipeline: 'exit' },
  EDGELOG_SINK_SEND: { retriable: true, pipeline: 'retry' },
  EDGELOG_SINK_DENIED: { retriable: false, pipeline: 'degrade' },
  EDGELOG_RECORD_INVALID: { retriable: false, pipeline: 'dead_letter' },
  EDGELOG_RECORD_TOO_LARGE: { retriable: false, pipeline: 'dead_letter' },
  EDGELOG_CHECKPOINT: { retriable: true, pipeline: 'report' },
  EDGELOG_DISK_FULL: { retriable: true, pipeline: 'report' },
  EDGELOG_NATIVE_UNAVAILABLE: { retriable: false, pipeline: 'report' },
  EDGELOG_NATIVE_CALL: { retriable: false, pipeline: 'report' },
  EDGELOG_NATIVE_LIB: { retriable: false, pipeline: 'report' },
  EDGELOG_PROTOCOL: { retriable: false, pipeline: 'report' },
  EDGELOG_FORWARD_CONNECT: { retriable: true, pipeline: 'retry' },
  EDGELOG_FORWARD_CLOSED: { retriable: true, pipeline: 'retry' },
  EDGELOG_FORWARD_TIMEOUT: { retriable: true, pipeline: 'retry' },
  EDGELOG_FORWARD_NACK: { retriable: true, pipeline: 'retry' },
  EDGELOG_FORWARD_PROTOCOL: { retriable: true, pipeline: 'retry' },
  EDGELOG_FORWARD_ABANDONED: { retriable: true, pipeline: 'retry' },
  EDGELOG_SPOOL_CLOSED: { retriable: false, pipeline: 'report' },
  EDGELOG_SPOOL_LOCKED: { retriable: false, pipeline: 'exit' },
  EDGELOG_SPOOL_IO: { retriable: true, pipeline: 'report' },
  EDGELOG_SPOOL_CONFIG: { retriable: false, pipeline: 'exit' },
  EDGELOG_URING_SEND: { retriable: true, pipeline: 'retry' },
  EDGELOG_URING_SHORT_SEND: { retriable: true, pipeline: 'retry' },
  EDGELOG_INSTALL: { retriable: false, pipeline: 'exit' },
  EDGELOG_CLOUD_INIT: { retriable: false, pipeline: 'exit' },
  EDGELOG_UNKNOWN: { retriable: true, pipeline: 'retry' },
} as const satisfies Record<string, { retriable: boolean; pipeline: 'retry' | 'dead_letter' | 'degrade' | 'exit' | 'report' }>;

export type ErrorCode = keyof typeof ERRORS;
export type PipelineAction = (typeof ERRORS)[ErrorCode]['pipeline'];

/**
 * What the pipeline does with a failure: by the table for a known code, and
 * `retry` for anything else (a thrown non-EdgelogError is a bug or a
 * transient fault; retrying with backoff never loses a record). A code whose
 * table row says `retry` but whose instance says not retriable (a Kafka error
 * the broker called permanent) is treated as a denied destination.
 */
export function pipelineAction(err: unknown): PipelineAction {
  const code = (err as { code?: unknown } | null)?.code;
  const row = typeof code === 'string' ? (ERRORS as Record<string, { pipeline: PipelineAction }>)[code] : undefined;
  if (!row) return 'retry';
  if (row.pipeline === 'retry' && (err as { retriable?: unknown }).retriable === false) return 'degrade';
  return row.pipeline;
}

export class EdgelogError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  constructor(code: string, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? (ERRORS as Record<string, { retriable: boolean }>)[code]?.retriable ?? false;
  }
}

/** A config value is missing, of the wrong type or out of range. */
export class ConfigError extends EdgelogError {
  /** Dotted key path of the offending value, e.g. `sinks.kafka.batch.max_bytes`. */
  readonly path: string;
  readonly expected: string;
  /** The accepted value closest to what was written (a misspelt key or enum value), when one is close. */
  readonly suggestion: string | undefined;
  constructor(path: string, expected: string, got?: unknown, suggestion?: string) {
    const shown = got === undefined ? '' : `, got ${describeValue(got)}`;
    const hint = suggestion === undefined ? '' : ` (did you mean \`${suggestion}\`?)`;
    super('EDGELOG_CONFIG', `${path || '(root)'}: expected ${expected}${shown}${hint}`);
    this.path = path;
    this.expected = expected;
    this.suggestion = suggestion;
  }
}

/**
 * Every problem found in one config file (validation goes on past the first
 * so one `edgelog validate` run names them all). It is a ConfigError whose
 * path and expected are the first problem's, so callers that handle one
 * ConfigError keep working; the message lists every problem, one a line.
 */
export class ConfigErrors extends ConfigError {
  readonly errors: readonly ConfigError[];
  constructor(errors: readonly ConfigError[]) {
    const first = errors[0]!;
    super(first.path, first.expected, undefined, first.suggestion);
    this.errors = errors;
    this.message = `${errors.length} problems:\n${errors.map((e) => `  ${e.message}`).join('\n')}`;
  }
}

/**
 * The destination refused or failed a send; retriable unless it said it never
 * will succeed. `code` EDGELOG_RECORD_INVALID when it refused the record itself.
 */
export class SinkSendError extends EdgelogError {
  constructor(message: string, retriable: boolean, cause?: unknown, code: 'EDGELOG_SINK_SEND' | 'EDGELOG_SINK_DENIED' | 'EDGELOG_RECORD_INVALID' = 'EDGELOG_SINK_SEND') {
    super(code, message, { retriable, cause });
  }
}

/** A single record (or message) exceeds what the destination accepts. */
export class RecordTooLargeError extends EdgelogError {
  readonly bytes: number;
  constructor(bytes: number, limit: number) {
    super('EDGELOG_RECORD_TOO_LARGE', `record of ${bytes} bytes exceeds limit ${limit}`, { retriable: false });
    this.bytes = bytes;
  }
}

/** The checkpoint store could not be read or written. */
export class CheckpointError extends EdgelogError {
  constructor(message: string, cause?: unknown) {
    super('EDGELOG_CHECKPOINT', message, { retriable: true, cause });
  }
}

/** Local disk is full or not writable (spool, checkpoints, dead letters). */
export class DiskFullError extends EdgelogError {
  constructor(path: string, cause?: unknown) {
    super('EDGELOG_DISK_FULL', `no space left writing ${path}`, { retriable: true, cause });
  }
}

/** A native feature (BPF, io_uring) is not available on this host. */
export class NativeUnavailableError extends EdgelogError {
  readonly fix: string;
  constructor(feature: string, reason: string, fix: string) {
    super('EDGELOG_NATIVE_UNAVAILABLE', `${feature} unavailable: ${reason}`, { retriable: false });
    this.fix = fix;
  }
}

/** Bytes received from a peer do not follow the protocol. */
export class ProtocolError extends EdgelogError {
  constructor(message: string) {
    super('EDGELOG_PROTOCOL', message, { retriable: false });
  }
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${String(v)}`;
}
