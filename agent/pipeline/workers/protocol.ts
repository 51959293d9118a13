// Messages between a pipeline and its processing workers (see wire.ts for the
// packed batch and result layouts).

import type { BatchConfig } from '../config.ts';
import type { WireBatch, WireResult, WireSettles } from './wire.ts';

/** A component as the worker rebuilds it: the YAML it was validated from. */
export interface WorkerComponent {
  readonly id: string;
  readonly path: string;
  readonly type: string;
  readonly raw: unknown;
}

export interface WorkerInit {
  readonly pipelineId: string;
  readonly index: number;
  /** Shared ring the main thread writes batch bodies into (see body-ring.ts). */
  readonly ring: SharedArrayBuffer;
  /** Shared ring the worker writes encoded messages into; a region is freed when the main thread reports the result done. */
  readonly outRing: SharedArrayBuffer;
  readonly processors: WorkerComponent[];
  readonly encoder: WorkerComponent;
  readonly batch: BatchConfig;
  readonly maxMessageBytes: number;
  readonly deadLetterPath: string;
  readonly dataDir: string;
  readonly deadLetterMaxBytes?: number;
  readonly agentId: string;
  readonly host: string;
  readonly service: string;
  readonly site: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly logFormat: 'json' | 'text';
}

export type ToWorker =
  | WireBatch
  | { readonly t: 'end'; readonly streamId: string }
  | { readonly t: 'done'; readonly results: number[] }
  | { readonly t: 'split'; readonly seq: number; readonly result: number; readonly index: number }
  | { readonly t: 'reject'; readonly result: number; readonly index: number; readonly code: string; readonly detail: string }
  | { readonly t: 'flush'; readonly seq: number }
  | { readonly t: 'metrics'; readonly seq: number };

/** registry.getMetricsAsJSON() of a worker, with each metric's label names. */
export type WorkerMetrics = Array<{
  name: string;
  help: string;
  type: string;
  labelNames: string[];
  values: Array<{ value: number; labels: Record<string, string | number> }>;
}>;

export type FromWorker =
  | { readonly t: 'ready' }
  | WireResult
  | WireSettles
  | { readonly t: 'split-failed'; readonly seq: number }
  | { readonly t: 'discarded'; readonly n: number; readonly reason: string; readonly detail: string }
  | { readonly t: 'flushed'; readonly seq: number }
  | { readonly t: 'metrics'; readonly seq: number; readonly json: WorkerMetrics }
  | { readonly t: 'error'; readonly message: string }
  | { readonly t: 'gc'; readonly pauses: Array<[string, number]> };
