// Every pipeline event's log line and metrics come from one typed method
// here, so the two never disagree and names stay in one place.

import type { Registry } from '../observe/prometheus.ts';
import type { Logger } from '../observe/log.ts';
import { EdgelogError } from '../core/errors.ts';
import { counter, gauge, histogram, latencyBuckets, sizeBuckets, byteBuckets } from '../observe/metrics.ts';
import { batchHistogram } from '../observe/batch-histogram.ts';

export class PipelineEvents {
  private readonly log: Logger;
  private readonly id: string;
  private readonly recordsIn; private readonly bytesIn;
  private readonly recordsOut; private readonly bytesOut;
  private readonly dropped; private readonly sendErrors; private readonly retries;
  private readonly batchRecords; private readonly batchBytes; private readonly latency; private readonly latencySeries;
  private readonly buffer; private readonly sinkUp; private readonly leftAtShutdown;
  private failing = false;
  /** Optional observer of every acknowledged request (demo progress, drills). */
  tap: ((records: number, encodedBytes: number, observedMs: ArrayLike<number>, nowMs: number) => void) | null = null;

  constructor(id: string, registry: Registry, log: Logger) {
    this.id = id;
    this.log = log;
    this.recordsIn = counter(registry, 'edgelog_component_received_records_total', 'Records accepted by a pipeline stage.', ['component']);
    this.bytesIn = counter(registry, 'edgelog_component_received_bytes_total', 'Body bytes accepted by a pipeline stage.', ['component']);
    this.recordsOut = counter(registry, 'edgelog_component_sent_records_total', 'Records acknowledged by the destination.', ['component']);
    this.bytesOut = counter(registry, 'edgelog_component_sent_bytes_total', 'Encoded bytes acknowledged by the destination.', ['component']);
    this.dropped = counter(registry, 'edgelog_component_discarded_records_total', 'Records not delivered, by reason (dead-lettered, shutdown).', ['component', 'reason']);
    this.sendErrors = counter(registry, 'edgelog_sink_send_errors_total', 'Failed sends by error code and whether they will be retried.', ['component', 'code', 'retriable']);
    this.retries = counter(registry, 'edgelog_sink_retries_total', 'Send attempts that were retries.', ['component']);
    this.batchRecords = histogram(registry, 'edgelog_sink_batch_records', 'Records per sent batch.', sizeBuckets, ['component']);
    this.batchBytes = histogram(registry, 'edgelog_sink_batch_bytes', 'Encoded bytes per sent batch.', byteBuckets, ['component']);
    this.latency = batchHistogram(registry, 'edgelog_e2e_latency_seconds', 'Time from reading a record to its acknowledgement by the destination.', latencyBuckets);
    this.latencySeries = this.latency.labels({ component: id });
    this.buffer = gauge(registry, 'edgelog_pipeline_buffer_bytes', 'Body bytes buffered or in flight in a pipeline.', ['component']);
    this.sinkUp = gauge(registry, 'edgelog_sink_up', '1 when the last send to the destination succeeded, 0 while it is failing.', ['component']);
    this.sinkUp.set({ component: id }, 1);
    this.leftAtShutdown = counter(registry, 'edgelog_pipeline_unacknowledged_at_shutdown_records_total',
      'Records still unacknowledged when the shutdown deadline passed; not discarded: they stay unacknowledged at their source, and file sources read them again on restart.', ['component']);
  }

  /** Records received since start, as a plain number (the agent's idle check reads it every second). */
  receivedRecords = 0;

  received(records: number, bytes: number): void {
    this.receivedRecords += records;
    this.recordsIn.inc({ component: this.id }, records);
    this.bytesIn.inc({ component: this.id }, bytes);
  }

  /** One request acknowledged: counts, batch shape and per-record latency. */
  delivered(records: number, encodedBytes: number, observedMs: ArrayLike<number>, nowMs: number): void {
    this.recordsOut.inc({ component: this.id }, records);
    this.bytesOut.inc({ component: this.id }, encodedBytes);
    this.batchRecords.observe({ component: this.id }, records);
    this.batchBytes.observe({ component: this.id }, encodedBytes);
    this.latency.observeMany(this.latencySeries, observedMs, nowMs, 0.001);
    this.tap?.(records, encodedBytes, observedMs, nowMs);
    if (this.failing) {
      this.failing = false;
      this.sinkUp.set({ component: this.id }, 1);
      this.log.info('destination recovered', { pipeline: this.id });
    }
  }

  sendFailed(err: unknown, attempt: number, backoffMs: number): void {
    const code = err instanceof EdgelogError ? err.code : 'EDGELOG_UNKNOWN';
    const retriable = err instanceof EdgelogError ? err.retriable : true;
    this.sendErrors.inc({ component: this.id, code, retriable: String(retriable) });
    if (attempt > 0) this.retries.inc({ component: this.id });
    this.sinkUp.set({ component: this.id }, 0);
    // Log the first failure and then every 10th, so a long outage is visible without flooding.
    if (!this.failing || attempt % 10 === 0) {
      // Not retriable here means the destination refuses everything of this kind (core/errors.ts, `degrade`).
      const msg = retriable ? 'send failed; will retry' : 'destination refuses; pipeline degraded, probing at the longest backoff';
      this.log.error(msg, { pipeline: this.id, code, retriable, attempt, backoff_ms: backoffMs, error: (err as Error)?.message });
    }
    this.failing = true;
  }

  /**
   * The shutdown deadline passed with records not acknowledged. Nothing was
   * thrown away: their sources never saw an ack, so a file source's checkpoint
   * stays before them and the next run reads them again (a network source
   * without a spool cannot, which its own docs say).
   */
  unacknowledgedAtShutdown(records: number, detail?: string): void {
    this.leftAtShutdown.inc({ component: this.id }, records);
    this.log.warn('shutdown deadline passed with records not yet acknowledged by the destination; they stay unacknowledged, so file sources read them again on the next start',
      { pipeline: this.id, records, last_error: detail });
  }

  discarded(records: number, reason: string, detail?: string): void {
    this.dropped.inc({ component: this.id, reason }, records);
    this.log.warn('records discarded', { pipeline: this.id, records, reason, detail });
  }

  bufferBytes(v: number): void { this.buffer.set({ component: this.id }, v); }
}
