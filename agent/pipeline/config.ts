// Batching, buffering and retry settings. They sit in each sink's config
// (`batch`, `buffer`, `retry`) the way Vector puts them beside a sink, but the
// pipeline applies them, so every sink gets the same behaviour.

import { join, type Raw } from '../config/schema.ts';
import { derivedDefault, duration, type Infer, int, section, size } from '../config/declare.ts';

/** When a batch is closed (`batch:` beside a sink), declared once (agent/config/declare.ts). */
export const batchSection = section({
  // kafkajs/librdkafka batch.size is 1 MB (librdkafka batch.size 1000000); half of
  // it keeps one OTLP message well below the broker's 1 MB message.max.bytes after headers.
  maxBytes: size('max_bytes', 512 * 1024, 'at this many body bytes (at least 1KiB)', 1024),
  // librdkafka batch.num.messages default 10000.
  maxEvents: int('max_events', 10_000, 'at this many records', 1),
  // librdkafka linger.ms default 5 ms; Vector's kafka sink uses batch.timeout_secs
  // with librdkafka defaults. 5 ms keeps p99 latency low at moderate rates.
  timeoutMs: duration('timeout', 5, 'a non-empty batch is closed after this long (linger)'),
});

/** Memory between the sources and the sink (`buffer:`): high and low watermarks of buffered or in-flight body bytes. */
export const bufferSection = section({
  // Vector's default memory buffer holds 500 events per sink; we bound by bytes
  // instead, so memory is flat whatever the line size. Each buffered body byte
  // costs about 3.3 bytes of V8 heap (record objects, measured with 100-byte
  // lines: 32 MiB buffered -> 103 MB heap used, 217 MB heap total), so 8 MiB
  // keeps a stalled pipeline under ~60 MB of heap while still holding 16
  // full batches; the files are the real buffer.
  maxBytes: size('max_bytes', 8 * 1024 * 1024, 'sources wait while this many body bytes are buffered or in flight (at least 64KiB)', 64 * 1024),
  lowBytes: derivedDefault(size('low_watermark_bytes', 4 * 1024 * 1024, 'waiting sources resume below this'), 'half of `max_bytes`'),
}, (cfg, m) => {
  if (m.low_watermark_bytes === undefined || m.low_watermark_bytes === null) cfg.lowBytes = Math.floor(cfg.maxBytes / 2);
});

/** The pipeline's retry of a failed send (`retry:`). */
export const retrySection = section({
  // kafkajs retry: initialRetryTime 300 ms, maxRetryTime 30 s.
  initialBackoffMs: duration('initial_backoff', 300, 'first wait (exponential, full jitter)'),
  maxBackoffMs: duration('max_backoff', 30_000, 'longest wait'),
});

export type BatchConfig = Infer<typeof batchSection>;
export type BufferConfig = Infer<typeof bufferSection>;
export type RetryConfig = Infer<typeof retrySection>;

export interface DeliveryConfig {
  batch: BatchConfig;
  buffer: BufferConfig;
  retry: RetryConfig;
}

export const deliveryDefaults: DeliveryConfig = {
  batch: batchSection.defaults,
  buffer: bufferSection.defaults,
  retry: retrySection.defaults,
};

export function readDelivery(m: Raw, path: string): DeliveryConfig {
  return {
    batch: batchSection.read(m.batch, join(path, 'batch')),
    buffer: bufferSection.read(m.buffer, join(path, 'buffer')),
    retry: retrySection.read(m.retry, join(path, 'retry')),
  };
}

/** Exponential backoff with full jitter (AWS architecture blog's "full jitter"). */
export function backoffMs(attempt: number, r: RetryConfig): number {
  const cap = Math.min(r.maxBackoffMs, r.initialBackoffMs * 2 ** Math.min(attempt, 20));
  return Math.round(cap / 2 + Math.random() * cap / 2);
}
