// Batching, buffering and retry settings. They sit in each sink's config
// (`batch`, `buffer`, `retry`) the way Vector puts them beside a sink, but the
// pipeline applies them, so every sink gets the same behaviour.

import { readBytes, readDuration, readInt, readMap, join, type Raw } from '../config/schema.ts';

export interface BatchConfig {
  /** Flush a batch at this many encoded-body bytes. */
  maxBytes: number;
  /** Flush a batch at this many records. */
  maxEvents: number;
  /** Flush a non-empty batch after this long (linger). */
  timeoutMs: number;
}

export interface BufferConfig {
  /** High watermark: sources wait while this many body bytes are buffered or in flight. */
  maxBytes: number;
  /** Low watermark: waiting sources resume below this. */
  lowBytes: number;
}

export interface RetryConfig {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface DeliveryConfig {
  batch: BatchConfig;
  buffer: BufferConfig;
  retry: RetryConfig;
}

export const deliveryDefaults: DeliveryConfig = {
  batch: {
    // kafkajs/librdkafka batch.size is 1 MB (librdkafka batch.size 1000000); half of
    // it keeps one OTLP message well below the broker's 1 MB message.max.bytes after headers.
    maxBytes: 512 * 1024,
    // librdkafka batch.num.messages default 10000.
    maxEvents: 10_000,
    // librdkafka linger.ms default 5 ms; Vector's kafka sink uses batch.timeout_secs
    // with librdkafka defaults. 5 ms keeps p99 latency low at moderate rates.
    timeoutMs: 5,
  },
  buffer: {
    // Vector's default memory buffer holds 500 events per sink; we bound by bytes
    // instead, so memory is flat whatever the line size. Each buffered body byte
    // costs about 3.3 bytes of V8 heap (record objects, measured with 100-byte
    // lines: 32 MiB buffered -> 103 MB heap used, 217 MB heap total), so 8 MiB
    // keeps a stalled pipeline under ~60 MB of heap while still holding 16
    // full batches; the files are the real buffer.
    maxBytes: 8 * 1024 * 1024,
    lowBytes: 4 * 1024 * 1024,
  },
  retry: {
    // kafkajs retry: initialRetryTime 300 ms, maxRetryTime 30 s.
    initialBackoffMs: 300,
    maxBackoffMs: 30_000,
  },
};

export function readDelivery(m: Raw, path: string): DeliveryConfig {
  const d = deliveryDefaults;
  const b = readMap(m.batch, join(path, 'batch'), ['max_bytes', 'max_events', 'timeout']);
  const bp = join(path, 'batch');
  const u = readMap(m.buffer, join(path, 'buffer'), ['max_bytes', 'low_watermark_bytes']);
  const up = join(path, 'buffer');
  const r = readMap(m.retry, join(path, 'retry'), ['initial_backoff', 'max_backoff']);
  const rp = join(path, 'retry');
  const maxBytes = readBytes(u, 'max_bytes', up, d.buffer.maxBytes, 64 * 1024);
  return {
    batch: {
      maxBytes: readBytes(b, 'max_bytes', bp, d.batch.maxBytes, 1024),
      maxEvents: readInt(b, 'max_events', bp, d.batch.maxEvents, 1),
      timeoutMs: readDuration(b, 'timeout', bp, d.batch.timeoutMs),
    },
    buffer: { maxBytes, lowBytes: readBytes(u, 'low_watermark_bytes', up, Math.floor(maxBytes / 2)) },
    retry: {
      initialBackoffMs: readDuration(r, 'initial_backoff', rp, d.retry.initialBackoffMs),
      maxBackoffMs: readDuration(r, 'max_backoff', rp, d.retry.maxBackoffMs),
    },
  };
}

/** Exponential backoff with full jitter (AWS architecture blog's "full jitter"). */
export function backoffMs(attempt: number, r: RetryConfig): number {
  const cap = Math.min(r.maxBackoffMs, r.initialBackoffMs * 2 ** Math.min(attempt, 20));
  return Math.round(cap / 2 + Math.random() * cap / 2);
}
