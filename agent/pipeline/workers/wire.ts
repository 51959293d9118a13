// What crosses between the pipeline (main thread) and its processing workers.
// Both directions are packed into a few typed arrays and one body Buffer per
// batch whose ArrayBuffers are transferred, not cloned: structured clone of
// 10,000 record objects per batch would cost more than decoding them.
//
// Acknowledgements stay on the main thread (AckGroups hold the sources'
// callbacks and cannot cross). Each record carries a small integer ack id
// instead; the worker reports drops as (id, n, status) triples at once and
// ships, with every encoded message, the (id, count) runs of the records it
// carries, which the main thread settles when the destination acknowledged it.

import type { AttrValue, LogRecord } from '../../core/record.ts';

export const STATUS_CODES = ['delivered', 'dropped', 'rejected'] as const;
export type StatusCode = 0 | 1 | 2;

/** A batch of records on its way to a worker. */
export interface WireBatch {
  readonly t: 'batch';
  /**
   * The bodies (with the newlines between lines of one chunk kept); record i
   * is bodies[starts[i] .. ends[i]). null: they sit in the worker's shared
   * body ring at `ringOffset`.
   */
  readonly bodies: ArrayBuffer | null;
  readonly ringOffset: number;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly offsets: Float64Array;
  readonly observed: Float64Array;
  readonly ackIds: Int32Array;
  /** Distinct (source, stream, streamId) triples and each record's index into them. */
  readonly streams: string[];
  readonly streamIdx: Uint32Array;
  /** Present only when some record already carries decoded fields (relay: the forward source). */
  readonly extra: WireExtra | null;
}

export interface WireExtra {
  readonly time: BigInt64Array;
  readonly severity: Uint8Array;
  readonly severityText: string[];
  readonly attributes: Array<Record<string, AttrValue> | null>;
  readonly traceId: string[];
  readonly spanId: string[];
}

/** Encoded messages on their way back: one result per closed batch (or split). */
export interface WireResult {
  readonly t: 'result';
  /** Worker-local id of this result; individual messages are (result, index). */
  readonly id: number;
  readonly count: number;
  /** Concatenated values, or null: they sit in the worker's output ring at `valuesOffset`. */
  readonly values: ArrayBuffer | null;
  readonly valuesOffset: number;
  readonly valueEnds: Uint32Array;
  /** Key bytes; keyLens[i] < 0 means no key. */
  readonly keys: ArrayBuffer;
  readonly keyLens: Int32Array;
  readonly headers: Array<Record<string, string>>;
  readonly headerIdx: Uint16Array;
  /** Records per message (for counting and latency). */
  readonly records: Uint32Array;
  /** Per message, the end index into ackIds/ackCounts of its (id, count) runs. */
  readonly partEnds: Uint32Array;
  readonly ackIds: Int32Array;
  readonly ackCounts: Int32Array;
  /** observedMs of every record, message after message. */
  readonly observed: Float64Array;
  /** Settlements of records the worker dropped or dead-lettered: (ackId, n, status) triples. */
  readonly settles: Int32Array;
  /** Answer to a split request (seq), or 0 for a fresh batch. */
  readonly splitSeq: number;
}

export interface WireSettles { readonly t: 'settles'; readonly settles: Int32Array }

/**
 * Packs a batch of `total` body bytes. `ackIds` holds each record's ack id
 * (the caller keeps the table); `ring` is where the bodies go (a shared ring
 * region), or null for a Buffer of their own that is transferred.
 */
export function packBatch(batch: LogRecord[], total: number, ackIds: Int32Array, ring: { view: Buffer; start: number } | null): { msg: WireBatch; transfer: ArrayBuffer[] } {
  const n = batch.length;
  // allocUnsafeSlow: an ArrayBuffer of its own (pooled ones cannot be transferred).
  const bodies = ring ? ring.view : Buffer.allocUnsafeSlow(total);
  const starts = new Uint32Array(n);
  const ends = new Uint32Array(n);
  const offsets = new Float64Array(n);
  const observed = new Float64Array(n);
  const streamIdx = new Uint32Array(n);
  const streams: string[] = [];
  const base = ring ? ring.start : 0;
  let pos = base;
  let lastKey = '';
  let lastIdx = -1;
  let hasExtra = false;
  // Lines framed from one read chunk lie one after the other in the same
  // memory, a newline apart: copy such a run in one call and only mark where
  // each body starts and ends (one copy per chunk instead of one per line).
  let spanBuf: ArrayBufferLike | null = null;
  let spanFrom = 0;
  let spanEnd = 0;
  let spanDst = 0;
  for (let i = 0; i < n; i++) {
    const r = batch[i]!;
    const b = r.body;
    const gap = b.byteOffset - spanEnd;
    if (b.buffer === spanBuf && gap >= 0 && gap <= 2) {
      pos += gap;
    } else {
      if (spanBuf !== null) Buffer.from(spanBuf, spanFrom, spanEnd - spanFrom).copy(bodies, spanDst);
      spanBuf = b.buffer;
      spanFrom = b.byteOffset;
      spanDst = pos;
    }
    starts[i] = pos - base;
    pos += b.length;
    spanEnd = b.byteOffset + b.length;
    ends[i] = pos - base;
    offsets[i] = r.offset;
    observed[i] = r.observedMs;
    // Batches are mostly one stream: compare with the previous record's triple first.
    const key = r.streamId;
    if (lastIdx < 0 || key !== lastKey || streams[lastIdx * 3] !== r.source || streams[lastIdx * 3 + 1] !== r.stream) {
      lastIdx = findStream(streams, r.source, r.stream, key);
      lastKey = key;
    }
    streamIdx[i] = lastIdx;
    if (!hasExtra && (r.timeUnixNano !== 0n || r.severityNumber !== 0 || r.attributes !== null || r.traceId !== '' || r.spanId !== '' || r.severityText !== '')) hasExtra = true;
  }
  if (spanBuf !== null) Buffer.from(spanBuf, spanFrom, spanEnd - spanFrom).copy(bodies, spanDst);
  const extra = hasExtra ? packExtra(batch) : null;
  const msg: WireBatch = { t: 'batch', bodies: ring ? null : bodies.buffer as ArrayBuffer, ringOffset: base, starts, ends, offsets, observed, ackIds, streams, streamIdx, extra };
  const transfer = [...(msg.bodies ? [msg.bodies] : []), starts.buffer, ends.buffer, offsets.buffer, observed.buffer, ackIds.buffer, streamIdx.buffer] as ArrayBuffer[];
  if (extra) transfer.push(extra.time.buffer as ArrayBuffer, extra.severity.buffer as ArrayBuffer);
  return { msg, transfer };
}

function findStream(streams: string[], source: string, stream: string, streamId: string): number {
  for (let k = 0; k < streams.length; k += 3) {
    if (streams[k + 2] === streamId && streams[k] === source && streams[k + 1] === stream) return k / 3;
  }
  streams.push(source, stream, streamId);
  return streams.length / 3 - 1;
}

function packExtra(batch: LogRecord[]): WireExtra {
  const n = batch.length;
  const e: WireExtra = {
    time: new BigInt64Array(n), severity: new Uint8Array(n), severityText: new Array(n),
    attributes: new Array(n), traceId: new Array(n), spanId: new Array(n),
  };
  for (let i = 0; i < n; i++) {
    const r = batch[i]!;
    e.time[i] = r.timeUnixNano;
    e.severity[i] = r.severityNumber;
    e.severityText[i] = r.severityText;
    e.attributes[i] = r.attributes;
    e.traceId[i] = r.traceId;
    e.spanId[i] = r.spanId;
  }
  return e;
}

/** The owner of ArrayBuffer `b` may transfer it only when no other view shares it. */
export function tight(buf: Buffer): Buffer {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf;
  const copy = Buffer.allocUnsafeSlow(buf.length);
  buf.copy(copy);
  return copy;
}
