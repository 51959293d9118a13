// The records of one source chunk in columns: what a file tailer reads when
// nothing downstream needs a record's fields. One buffer holds every body;
// record i is bodies[starts[i], ends[i]) read at file offset offsets[i]. The
// stream, the read time, the ack group and the (rare) per-chunk attributes
// are stored once per run instead of once per record.
//
// Why: a LogRecord object (~128 B), its body view (~104 B) and the array
// slots that hold them stay alive from the read until Kafka acknowledges the
// message, so on the plain file -> otlp_proto -> Kafka path they were what the
// young-generation GC copied and promoted (13 % of the saturation profile,
// json-200b). A run costs three typed arrays per chunk (16 B per record in one
// ArrayBuffer) and one AckGroup settle per run slice instead of per record.
//
// A stage that needs fields (a decoder, a transform, a processing worker, a
// dead letter, a split down to one record) asks for LogRecords: toRecords()
// builds them on demand, identical to what the tailer used to emit.

import type { AckGroup } from './ack.ts';
import { newRecord, type AttrValue, type LogRecord } from './record.ts';

export class RecordRun {
  readonly bodies: Buffer;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly offsets: Float64Array;
  readonly source: string;
  readonly stream: string;
  readonly streamId: string;
  readonly observedMs: number;
  readonly ack: AckGroup;
  /** Attributes every record of the run carries (file: the resolved symlink target), or null. */
  readonly attributes: Readonly<Record<string, AttrValue>> | null;
  /** Sum of the body lengths. */
  readonly bodyBytes: number;
  private utf8: boolean | null = null;

  constructor(bodies: Buffer, starts: Uint32Array, ends: Uint32Array, offsets: Float64Array, source: string, stream: string, streamId: string, observedMs: number, ack: AckGroup, attributes: Readonly<Record<string, AttrValue>> | null) {
    this.bodies = bodies;
    this.starts = starts;
    this.ends = ends;
    this.offsets = offsets;
    this.source = source;
    this.stream = stream;
    this.streamId = streamId;
    this.observedMs = observedMs;
    this.ack = ack;
    this.attributes = attributes;
    let b = 0;
    for (let i = 0; i < starts.length; i++) b += ends[i]! - starts[i]!;
    this.bodyBytes = b;
  }

  get length(): number { return this.starts.length; }

  /** Body bytes of records [from, to). */
  bytesOf(from: number, to: number): number {
    if (from === 0 && to === this.starts.length) return this.bodyBytes;
    let b = 0;
    for (let i = from; i < to; i++) b += this.ends[i]! - this.starts[i]!;
    return b;
  }

  /**
   * Whether every body is valid UTF-8, checked once over the whole buffer.
   * Lines end at an ASCII byte, which never sits inside a multi-byte
   * sequence, so a valid buffer means valid bodies; a buffer that is not
   * valid says nothing about one body (the encoder then checks each).
   */
  allUtf8(isUtf8: (b: Buffer) => boolean): boolean {
    if (this.utf8 === null) this.utf8 = isUtf8(this.bodies);
    return this.utf8;
  }

  /** LogRecords for [from, to): each with its own attributes object, since a transform may change it in place. */
  toRecords(from = 0, to = this.starts.length): LogRecord[] {
    const out: LogRecord[] = new Array(to - from);
    const a = this.attributes;
    for (let i = from; i < to; i++) {
      const r = newRecord(this.bodies.subarray(this.starts[i]!, this.ends[i]!), this.source, this.stream, this.streamId, this.offsets[i]!, this.ack, this.observedMs);
      if (a !== null) r.attributes = { ...a };
      out[i - from] = r;
    }
    return out;
  }
}

/** Records [from, to) of a run: a batch holds whole runs, except where it closed in the middle of one. */
export interface RunSlice {
  readonly run: RecordRun;
  readonly from: number;
  readonly to: number;
}

/** Records of every slice, in order (the slow lanes: dead letters, splits down to one record). */
export function sliceRecords(slices: readonly RunSlice[]): LogRecord[] {
  const out: LogRecord[] = [];
  for (const s of slices) {
    const recs = s.run.toRecords(s.from, s.to);
    for (let i = 0; i < recs.length; i++) out.push(recs[i]!);
  }
  return out;
}

/** Records in these slices. */
export function sliceCount(slices: readonly RunSlice[]): number {
  let n = 0;
  for (const s of slices) n += s.to - s.from;
  return n;
}

/** The first `n` records of these slices and the rest (halving a message that is over the destination's limit). */
export function splitSlices(slices: readonly RunSlice[], n: number): [RunSlice[], RunSlice[]] {
  const head: RunSlice[] = [];
  const tail: RunSlice[] = [];
  let left = n;
  for (const s of slices) {
    const k = s.to - s.from;
    if (left >= k) { head.push(s); left -= k; continue; }
    if (left > 0) {
      head.push({ run: s.run, from: s.from, to: s.from + left });
      tail.push({ run: s.run, from: s.from + left, to: s.to });
      left = 0;
      continue;
    }
    tail.push(s);
  }
  return [head, tail];
}
