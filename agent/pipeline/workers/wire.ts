// What crosses between the pipeline (main thread) and its processing workers.
// Both directions are packed into columns (typed arrays) and byte areas in
// shared rings, not cloned: structured clone of 10,000 record objects per
// batch would cost more than decoding them.
//
// Acknowledgements stay on the main thread (AckGroups hold the sources'
// callbacks and cannot cross). Each record carries a small integer ack id
// instead; the worker reports drops as (id, n, status) triples at once and
// ships, with every encoded message, the (id, count) runs of the records it
// carries, which the main thread settles when the destination acknowledged it.

import type { AttrValue, LogRecord } from '../../core/record.ts';

export const STATUS_CODES = ['delivered', 'dropped', 'rejected'] as const;
export type StatusCode = 0 | 1 | 2;

/**
 * A batch of records on its way to a worker. Everything per record lives in
 * one memory area (see batchLayout): in the worker's shared ring at `at`, or,
 * when the ring is full, in `buf`, transferred. The message itself is a few
 * numbers and the batch's distinct stream names, so posting it costs a couple
 * of microseconds instead of the ~30 us a message of six typed arrays costs
 * (node -e micro-benchmark, 320 records per message).
 */
export interface WireBatch {
  readonly t: 'batch';
  readonly buf: ArrayBuffer | null;
  readonly at: number;
  readonly n: number;
  /** Bytes reserved for bodies (bodies keep the newlines between lines of one chunk). */
  readonly room: number;
  /** Distinct (source, stream, streamId) triples; each record has an index into them. */
  readonly streams: string[];
  /** Present only when some record already carries decoded fields (relay: the forward source). */
  readonly extra: WireExtra | null;
}

/** Per-record columns of a batch, views over its memory area. */
export interface BatchColumns {
  readonly bodies: Buffer;
  readonly offsets: Float64Array;
  readonly observed: Float64Array;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly ackIds: Int32Array;
  readonly streamIdx: Uint32Array;
}

/** Bytes a batch of n records with `room` body bytes needs (8-aligned columns after the bodies). */
export function batchBytes(n: number, room: number): number {
  return align8(room) + 32 * n;
}

function align8(x: number): number { return (x + 7) & ~7; }

/** Views of a batch's columns over `mem` at `at` (8-aligned). */
export function batchColumns(mem: ArrayBufferLike, at: number, n: number, room: number): BatchColumns {
  let o = at + align8(room);
  const offsets = new Float64Array(mem, o, n); o += 8 * n;
  const observed = new Float64Array(mem, o, n); o += 8 * n;
  const starts = new Uint32Array(mem, o, n); o += 4 * n;
  const ends = new Uint32Array(mem, o, n); o += 4 * n;
  const ackIds = new Int32Array(mem, o, n); o += 4 * n;
  const streamIdx = new Uint32Array(mem, o, n);
  return { bodies: Buffer.from(mem, at, room), offsets, observed, starts, ends, ackIds, streamIdx };
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
 * Packs a batch into `mem` at `at` (a region of batchBytes(n, room) bytes of
 * the shared ring), or, with `mem` null, into a fresh ArrayBuffer that is
 * transferred. `ackIds[i]` is record i's ack id (the caller keeps the table).
 */
export function packBatch(batch: LogRecord[], room: number, ackIds: Int32Array, mem: SharedArrayBuffer | null, at: number): { msg: WireBatch; transfer: ArrayBuffer[] } {
  const n = batch.length;
  const own = mem ? null : new ArrayBuffer(batchBytes(n, room));
  const base = mem ? at : 0;
  const c = batchColumns(mem ?? own!, base, n, room);
  const bodies = c.bodies;
  c.ackIds.set(ackIds.subarray(0, n));
  const streams: string[] = [];
  let pos = 0;
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
    c.starts[i] = pos;
    pos += b.length;
    spanEnd = b.byteOffset + b.length;
    c.ends[i] = pos;
    c.offsets[i] = r.offset;
    c.observed[i] = r.observedMs;
    // Batches are mostly one stream: compare with the previous record's triple first.
    const key = r.streamId;
    if (lastIdx < 0 || key !== lastKey || streams[lastIdx * 3] !== r.source || streams[lastIdx * 3 + 1] !== r.stream) {
      lastIdx = findStream(streams, r.source, r.stream, key);
      lastKey = key;
    }
    c.streamIdx[i] = lastIdx;
    if (!hasExtra && (r.timeUnixNano !== 0n || r.severityNumber !== 0 || r.attributes !== null || r.traceId !== '' || r.spanId !== '' || r.severityText !== '')) hasExtra = true;
  }
  if (spanBuf !== null) Buffer.from(spanBuf, spanFrom, spanEnd - spanFrom).copy(bodies, spanDst);
  const extra = hasExtra ? packExtra(batch) : null;
  const msg: WireBatch = { t: 'batch', buf: own, at: base, n, room, streams, extra };
  const transfer: ArrayBuffer[] = own ? [own] : [];
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
