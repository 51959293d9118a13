// Framing codec of the forward protocol: encoders for every frame type and a
// streaming decoder that validates strictly. Every frame is
//   [u32 length][u8 type][body]          (big-endian, length = 1 + body bytes)
// The decoder rejects a frame as soon as its header shows it is wrong (too
// long, zero length, unknown type) without buffering the body, and a body
// whose size or inner lengths do not match its type exactly. It never throws
// on input: a bad frame is reported as a FrameError with a reason that the
// source counts (edgelog_forward_rejected_total{reason}).

import {
  BATCH_HEADER_BYTES, ErrorCode, FrameType, LENGTH_BYTES, MAX_STRING_BYTES, NACK_RETRIABLE, NONCE_BYTES, PROOF_BYTES, frameTypeName,
} from './constants.ts';

export interface HelloFrame {
  type: typeof FrameType.HELLO;
  minVersion: number;
  maxVersion: number;
  /** Capability bits (none defined in version 1; receivers ignore unknown bits). */
  flags: number;
  /** Largest frame the sender of HELLO accepts (length field value). */
  maxFrameBytes: number;
  /** Compression ids the sender can produce, in order of preference. */
  compressions: number[];
  /** Random per sender instance: lets the relay tell restarts apart in its logs. */
  sessionId: bigint;
  agentId: string;
}
export interface HelloAckFrame {
  type: typeof FrameType.HELLO_ACK;
  version: number;
  flags: number;
  maxFrameBytes: number;
  /** Unacknowledged BATCH frames the relay accepts on this connection. */
  window: number;
  /** Compression ids the relay accepts (always includes 0 = none). */
  compressions: number[];
  relayId: string;
}
export interface BatchFrame {
  type: typeof FrameType.BATCH;
  sequence: bigint;
  compression: number;
  recordCount: number;
  /** Length of the payload after decompression. */
  rawLength: number;
  payload: Buffer;
}
export interface AckFrame { type: typeof FrameType.ACK; sequence: bigint }
export interface NackFrame { type: typeof FrameType.NACK; sequence: bigint; code: number; retriable: boolean; message: string }
export interface HeartbeatFrame { type: typeof FrameType.HEARTBEAT | typeof FrameType.HEARTBEAT_ACK; timestamp: bigint }
export interface GoawayFrame { type: typeof FrameType.GOAWAY; code: number; message: string }

/** Version 2: the receiver's random nonce (AUTH_CHALLENGE) and the sender's HMAC over it (AUTH_RESPONSE). */
export interface AuthChallengeFrame { type: typeof FrameType.AUTH_CHALLENGE; nonce: Buffer }
export interface AuthResponseFrame { type: typeof FrameType.AUTH_RESPONSE; proof: Buffer }

export type Frame = HelloFrame | HelloAckFrame | BatchFrame | AckFrame | NackFrame | HeartbeatFrame | GoawayFrame
  | AuthChallengeFrame | AuthResponseFrame;

/** Why a byte stream was rejected. `reason` is the metric label; `code` goes into GOAWAY. */
export class FrameError extends Error {
  readonly reason: string;
  readonly code: number;
  constructor(reason: string, code: number, message: string) {
    super(message);
    this.reason = reason;
    this.code = code;
  }
}

// ---- encoding ---------------------------------------------------------------

function header(buf: Buffer, type: number, bodyLen: number): void {
  buf.writeUInt32BE(bodyLen + 1, 0);
  buf[4] = type;
}

function strBytes(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return b.length <= MAX_STRING_BYTES ? b : b.subarray(0, MAX_STRING_BYTES);
}

export function encodeHello(h: Omit<HelloFrame, 'type'>): Buffer {
  const id = strBytes(h.agentId);
  // minV(2) maxV(2) flags(4) maxFrame(4) nComp(1) comps(n) session(8) idLen(2) id
  const body = 2 + 2 + 4 + 4 + 1 + h.compressions.length + 8 + 2 + id.length;
  const b = Buffer.allocUnsafe(LENGTH_BYTES + 1 + body);
  header(b, FrameType.HELLO, body);
  let o = 5;
  o = b.writeUInt16BE(h.minVersion, o);
  o = b.writeUInt16BE(h.maxVersion, o);
  o = b.writeUInt32BE(h.flags >>> 0, o);
  o = b.writeUInt32BE(h.maxFrameBytes, o);
  b[o++] = h.compressions.length;
  for (const c of h.compressions) b[o++] = c;
  o = b.writeBigUInt64BE(h.sessionId, o);
  o = b.writeUInt16BE(id.length, o);
  id.copy(b, o);
  return b;
}

export function encodeHelloAck(h: Omit<HelloAckFrame, 'type'>): Buffer {
  const id = strBytes(h.relayId);
  // version(2) flags(4) maxFrame(4) window(4) nComp(1) comps(n) idLen(2) id
  const body = 2 + 4 + 4 + 4 + 1 + h.compressions.length + 2 + id.length;
  const b = Buffer.allocUnsafe(LENGTH_BYTES + 1 + body);
  header(b, FrameType.HELLO_ACK, body);
  let o = 5;
  o = b.writeUInt16BE(h.version, o);
  o = b.writeUInt32BE(h.flags >>> 0, o);
  o = b.writeUInt32BE(h.maxFrameBytes, o);
  o = b.writeUInt32BE(h.window, o);
  b[o++] = h.compressions.length;
  for (const c of h.compressions) b[o++] = c;
  o = b.writeUInt16BE(id.length, o);
  id.copy(b, o);
  return b;
}

/**
 * The fixed part of a BATCH frame (length prefix included); the payload
 * follows it on the wire. Kept separate so the payload is never copied just
 * to prepend 22 bytes (the net path writes both with one writev).
 */
export function encodeBatchHeader(sequence: bigint, compression: number, recordCount: number, rawLength: number, payloadLength: number, into?: Buffer): Buffer {
  const b = into ?? Buffer.allocUnsafe(BATCH_HEADER_BYTES);
  header(b, FrameType.BATCH, BATCH_HEADER_BYTES - LENGTH_BYTES - 1 + payloadLength);
  b.writeBigUInt64BE(sequence, 5);
  b[13] = compression;
  b.writeUInt32BE(recordCount, 14);
  b.writeUInt32BE(rawLength, 18);
  return b;
}

export function encodeBatch(f: Omit<BatchFrame, 'type'>): Buffer {
  return Buffer.concat([encodeBatchHeader(f.sequence, f.compression, f.recordCount, f.rawLength, f.payload.length), f.payload]);
}

export function encodeAck(sequence: bigint): Buffer {
  const b = Buffer.allocUnsafe(LENGTH_BYTES + 1 + 8);
  header(b, FrameType.ACK, 8);
  b.writeBigUInt64BE(sequence, 5);
  return b;
}

export function encodeNack(sequence: bigint, code: number, retriable: boolean, message: string): Buffer {
  const m = strBytes(message);
  const body = 8 + 2 + 1 + 2 + m.length;
  const b = Buffer.allocUnsafe(LENGTH_BYTES + 1 + body);
  header(b, FrameType.NACK, body);
  let o = b.writeBigUInt64BE(sequence, 5);
  o = b.writeUInt16BE(code, o);
  b[o++] = retriable ? NACK_RETRIABLE : 0;
  o = b.writeUInt16BE(m.length, o);
  m.copy(b, o);
  return b;
}

export function encodeHeartbeat(timestamp: bigint, ack = false): Buffer {
  const b = Buffer.allocUnsafe(LENGTH_BYTES + 1 + 8);
  header(b, ack ? FrameType.HEARTBEAT_ACK : FrameType.HEARTBEAT, 8);
  b.writeBigUInt64BE(timestamp, 5);
  return b;
}

export function encodeGoaway(code: number, message: string): Buffer {
  const m = strBytes(message);
  const body = 2 + 2 + m.length;
  const b = Buffer.allocUnsafe(LENGTH_BYTES + 1 + body);
  header(b, FrameType.GOAWAY, body);
  let o = b.writeUInt16BE(code, 5);
  o = b.writeUInt16BE(m.length, o);
  m.copy(b, o);
  return b;
}

function fixed32(type: number, bytes: Buffer): Buffer {
  const b = Buffer.allocUnsafe(LENGTH_BYTES + 1 + bytes.length);
  header(b, type, bytes.length);
  bytes.copy(b, 5);
  return b;
}

export function encodeAuthChallenge(nonce: Buffer): Buffer { return fixed32(FrameType.AUTH_CHALLENGE, nonce); }
export function encodeAuthResponse(proof: Buffer): Buffer { return fixed32(FrameType.AUTH_RESPONSE, proof); }

// ---- decoding ---------------------------------------------------------------

const bad = (what: string) => new FrameError('bad_length', ErrorCode.PROTOCOL, what);

/** Cursor over one frame body that throws FrameError('bad_length') on any overrun. */
class Body {
  readonly b: Buffer;
  o = 0;
  readonly name: string;
  constructor(b: Buffer, name: string) { this.b = b; this.name = name; }
  need(n: number): void { if (this.o + n > this.b.length) throw bad(`${this.name}: body ends inside a field`); }
  u8(): number { this.need(1); return this.b[this.o++]!; }
  u16(): number { this.need(2); const v = this.b.readUInt16BE(this.o); this.o += 2; return v; }
  u32(): number { this.need(4); const v = this.b.readUInt32BE(this.o); this.o += 4; return v; }
  u64(): bigint { this.need(8); const v = this.b.readBigUInt64BE(this.o); this.o += 8; return v; }
  bytes(n: number): Buffer { this.need(n); const v = this.b.subarray(this.o, this.o + n); this.o += n; return v; }
  str(): string {
    const n = this.u16();
    if (n > MAX_STRING_BYTES) throw bad(`${this.name}: string of ${n} bytes above ${MAX_STRING_BYTES}`);
    const raw = this.bytes(n);
    const s = raw.toString('utf8');
    // a string that does not survive a round trip was not UTF-8
    if (Buffer.byteLength(s) !== n) throw new FrameError('bad_string', ErrorCode.PROTOCOL, `${this.name}: string is not valid UTF-8`);
    return s;
  }
  end(): void { if (this.o !== this.b.length) throw bad(`${this.name}: ${this.b.length - this.o} trailing bytes`); }
}

/** Parses one complete frame body (after the type byte). Throws FrameError. */
export function parseFrame(type: number, body: Buffer): Frame {
  const name = frameTypeName[type];
  if (!name) throw new FrameError('unknown_type', ErrorCode.UNKNOWN_TYPE, `unknown frame type 0x${type.toString(16).padStart(2, '0')}`);
  const r = new Body(body, name);
  switch (type) {
    case FrameType.HELLO: {
      const minVersion = r.u16(); const maxVersion = r.u16(); const flags = r.u32(); const maxFrameBytes = r.u32();
      const n = r.u8();
      const compressions = [...r.bytes(n)];
      const sessionId = r.u64();
      const agentId = r.str();
      r.end();
      return { type, minVersion, maxVersion, flags, maxFrameBytes, compressions, sessionId, agentId };
    }
    case FrameType.HELLO_ACK: {
      const version = r.u16(); const flags = r.u32(); const maxFrameBytes = r.u32(); const window = r.u32();
      const n = r.u8();
      const compressions = [...r.bytes(n)];
      const relayId = r.str();
      r.end();
      return { type, version, flags, maxFrameBytes, window, compressions, relayId };
    }
    case FrameType.BATCH: {
      const sequence = r.u64(); const compression = r.u8(); const recordCount = r.u32(); const rawLength = r.u32();
      const payload = body.subarray(r.o);
      return { type, sequence, compression, recordCount, rawLength, payload };
    }
    case FrameType.ACK: {
      const sequence = r.u64();
      r.end();
      return { type, sequence };
    }
    case FrameType.NACK: {
      const sequence = r.u64(); const code = r.u16(); const fl = r.u8(); const message = r.str();
      r.end();
      return { type, sequence, code, retriable: (fl & NACK_RETRIABLE) !== 0, message };
    }
    case FrameType.HEARTBEAT:
    case FrameType.HEARTBEAT_ACK: {
      const timestamp = r.u64();
      r.end();
      return { type, timestamp };
    }
    case FrameType.GOAWAY: {
      const code = r.u16(); const message = r.str();
      r.end();
      return { type, code, message };
    }
    case FrameType.AUTH_CHALLENGE: {
      const nonce = Buffer.from(r.bytes(NONCE_BYTES));
      r.end();
      return { type, nonce };
    }
    case FrameType.AUTH_RESPONSE: {
      const proof = Buffer.from(r.bytes(PROOF_BYTES));
      r.end();
      return { type, proof };
    }
  }
  throw new FrameError('unknown_type', ErrorCode.UNKNOWN_TYPE, `unknown frame type ${type}`);
}

/** Smallest legal body per type (used to reject a short frame from its header alone). */
const minBody: Record<number, number> = { 1: 23, 2: 17, 3: 17, 4: 8, 5: 13, 6: 8, 7: 8, 8: 4, 9: NONCE_BYTES, 10: PROOF_BYTES };
/** Types whose body has exactly one size. */
const fixedBody: Record<number, number> = { 4: 8, 6: 8, 7: 8, 9: NONCE_BYTES, 10: PROOF_BYTES };

/**
 * Incremental decoder for one connection. push() bytes as they arrive; it
 * returns the complete frames, or a FrameError at the first violation (after
 * which the connection must be closed: the stream has lost its framing).
 * end() reports a frame cut off by end of stream ('truncated').
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private have = 0;
  /** Length of the frame being assembled (prefix value), or -1 while reading the prefix. */
  private want = -1;
  private failed: FrameError | null = null;
  /** Bytes consumed in complete frames (diagnostics). */
  consumed = 0;

  constructor(maxFrameBytes: number) { this.maxFrameBytes = maxFrameBytes; }

  get buffered(): number { return this.have; }

  push(chunk: Buffer, out: Frame[]): FrameError | null {
    if (this.failed) return this.failed;
    if (chunk.length > 0) { this.chunks.push(chunk); this.have += chunk.length; }
    try {
      for (;;) {
        if (this.want < 0) {
          if (this.have < LENGTH_BYTES) return null;
          // the length alone can already be wrong: judge it before waiting for more
          const len = this.peek(LENGTH_BYTES).readUInt32BE(0);
          if (len === 0) throw new FrameError('zero_length', ErrorCode.PROTOCOL, 'frame length 0 (a frame has at least its type byte)');
          if (len > this.maxFrameBytes) throw new FrameError('frame_too_large', ErrorCode.FRAME_TOO_LARGE, `frame of ${len} bytes above the limit of ${this.maxFrameBytes}`);
          if (this.have < LENGTH_BYTES + 1) return null;
          const type = this.peek(LENGTH_BYTES + 1)[4]!;
          const min = minBody[type];
          if (min === undefined) throw new FrameError('unknown_type', ErrorCode.UNKNOWN_TYPE, `unknown frame type 0x${type.toString(16).padStart(2, '0')}`);
          if (len - 1 < min) throw new FrameError('bad_length', ErrorCode.PROTOCOL, `${frameTypeName[type]} frame of ${len} bytes is shorter than its fixed fields`);
          if (fixedBody[type] !== undefined && len - 1 !== fixedBody[type]) throw new FrameError('bad_length', ErrorCode.PROTOCOL, `${frameTypeName[type]} frame of ${len} bytes (must be ${fixedBody[type]! + 1})`);
          this.want = len;
        }
        if (this.have < LENGTH_BYTES + this.want) return null;
        const frame = this.take(LENGTH_BYTES + this.want);
        this.want = -1;
        this.consumed += frame.length;
        out.push(parseFrame(frame[4]!, frame.subarray(5)));
      }
    } catch (err) {
      this.failed = err instanceof FrameError ? err : new FrameError('protocol', ErrorCode.PROTOCOL, (err as Error).message);
      this.chunks = [];
      this.have = 0;
      return this.failed;
    }
  }

  /** End of stream: an incomplete frame left over is a truncation. */
  end(): FrameError | null {
    if (this.failed) return this.failed;
    if (this.have > 0) {
      this.failed = new FrameError('truncated', ErrorCode.PROTOCOL, `stream ended inside a frame (${this.have} bytes of ${this.want < 0 ? 'a length prefix' : LENGTH_BYTES + this.want})`);
      return this.failed;
    }
    return null;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  /** Removes and returns the first n bytes (no copy when they sit in one chunk). */
  private take(n: number): Buffer {
    let first = this.chunks[0]!;
    if (first.length < n) {
      // gather only what this frame needs
      const parts: Buffer[] = [];
      let got = 0;
      while (got < n) {
        const c = this.chunks[0]!;
        if (got + c.length <= n) { parts.push(c); got += c.length; this.chunks.shift(); }
        else { parts.push(c.subarray(0, n - got)); this.chunks[0] = c.subarray(n - got); got = n; }
      }
      this.have -= n;
      return Buffer.concat(parts, n);
    }
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift(); else this.chunks[0] = first = first.subarray(n);
    this.have -= n;
    return out;
  }
}
