// One base class for every failure the agent reports. `code` is stable (logs,
// metrics and tests match on it); `retriable` tells the pipeline whether the
// same work may succeed later (a dead broker) or never will (a record too large).
// Modelled on the error hierarchies of undici and kafkajs.

export class EdgelogError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  constructor(code: string, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}

/** A config value is missing, of the wrong type or out of range. */
export class ConfigError extends EdgelogError {
  /** Dotted key path of the offending value, e.g. `sinks.kafka.batch.max_bytes`. */
  readonly path: string;
  readonly expected: string;
  constructor(path: string, expected: string, got?: unknown) {
    const shown = got === undefined ? '' : `, got ${describeValue(got)}`;
    super('EDGELOG_CONFIG', `${path || '(root)'}: expected ${expected}${shown}`);
    this.path = path;
    this.expected = expected;
  }
}

/** Kafka refused or failed a send; retriable unless the broker said it never will succeed. */
export class SinkSendError extends EdgelogError {
  constructor(message: string, retriable: boolean, cause?: unknown) {
    super('EDGELOG_SINK_SEND', message, { retriable, cause });
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
