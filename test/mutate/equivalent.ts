// Mutants no test can tell apart from the original, each with the reason.
// Matched by file, mutator and the mutated line's text (not its number, so the
// list survives edits elsewhere in the file). Keep it short: a mutant goes
// here only when the program's observable behaviour is provably the same
// (a performance-only difference is named as such).

import type { Mutant } from './mutants.ts';

interface Equivalent {
  file: string;
  mutator: string;
  after: string;
  reason: string;
  /** The original line, when `after` alone is ambiguous (statement removal). */
  before?: string;
  /** The line before it, when the same line occurs more than once. */
  prev?: string;
}

const list: Equivalent[] = [
  {
    file: 'agent/core/ack.ts', mutator: 'boundary',
    after: 'while (this.head <= ends.length && this.done[this.head]) {',
    reason: 'at head === ends.length done[head] is undefined (done has one flag per end), so the loop stops on the second condition instead',
  },
  {
    file: 'agent/core/ack.ts', mutator: 'boundary',
    after: 'if (this.head >= 1024) {',
    reason: 'performance only: drops the settled prefix one chunk earlier; committed, inFlight and the return value are unchanged',
  },
  {
    file: 'agent/core/ack.ts', mutator: 'constant',
    after: 'if (this.head > 1025) {',
    reason: 'performance only: drops the settled prefix one chunk later (memory stays bounded, see the bounded-memory test)',
  },
  {
    file: 'agent/core/ack.ts', mutator: 'relational',
    after: 'if (this.head <= 1024) {',
    reason: 'performance only: drops the settled prefix after every call instead of every 1025 chunks (an O(n) copy per call); the results are the same',
  },
  {
    file: 'agent/sinks/failover/breaker.ts', mutator: 'constant', after: 'private openedAt = 1;',
    reason: 'openedAt is only read while the state is open, and every way into open sets it first',
  },
  {
    file: 'agent/pipeline/spool/format.ts', mutator: 'constant', after: 'const n = Number(name.slice(1, 20));',
    reason: 'the name already matched /^\\d{20}\\.seg$/ and every 20-digit name of a safe integer starts with a 0, so dropping that digit gives the same number (and an unsafe one stays unsafe)',
  },
  {
    file: 'agent/pipeline/spool/format.ts', mutator: 'constant', after: 'const n = Number(name.slice(0, 21));',
    reason: 'the 21st character is the "." of ".seg" and Number("…42.") is 42',
  },
  {
    file: 'agent/pipeline/spool/format.ts', mutator: 'statement', after: ';', before: 'b.writeUInt16BE(0, 10);',
    reason: 'Buffer.alloc already zeroed the flags',
  },
  {
    file: 'agent/pipeline/spool/format.ts', mutator: 'constant', after: 'b.writeUInt16BE(0, 11);',
    reason: 'writes zeros over byte 11 (flags, already 0) and byte 12, which the base write right after overwrites',
  },
  {
    file: 'agent/pipeline/spool/replay.ts', mutator: 'boundary', after: 'if (Date.now() > until) return false;',
    reason: 'timing only: drain gives up one millisecond later',
  },
  {
    file: 'agent/pipeline/spool/replay.ts', mutator: 'constant', after: 'await new Promise((r) => setTimeout(r, 21));',
    reason: 'timing only: the drain poll interval',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'constant', after: 'private carryStart = 1;',
    reason: 'the constructor assigns carryStart right after the field initializer',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'boolean', after: 'private headEmitted = true;',
    reason: 'headEmitted is only read while skipping, and entering the skipping state resets it',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'statement', after: ';', before: 'this.carryStart = startOffset;', prev: 'this.consumed = startOffset;',
    reason: 'carryStart is only read with bytes held, and every push assigns it before holding any (flush with nothing held returns first)',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'constant', after: 'buf.copy(copy, held, pos, lastNl + 2);',
    reason: 'Buffer.copy stops at the end of the target, which is sized for lastNl + 1',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'boundary', after: 'if (e >= s && copy[e - 1] === CR) e--;',
    reason: "at e === s, copy[e - 1] is the previous line's LF or undefined, never CR",
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'statement', after: ';', before: 'this.counted = false;', prev: 'this.carryStart = base + pos;',
    reason: 'counted is already false here: finishCarried and emit reset it, and only appendPartial (called after this line) sets it',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'boundary', after: 'if (pos <= len) this.appendPartial(buf, pos, len, sink);',
    reason: 'appendPartial with an empty range copies nothing (it may allocate the carry buffer early)',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'assignment', after: 'this.carryStart -= this.carryLen;',
    reason: 'after a flush nothing is held, and the next push assigns carryStart before holding bytes',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'statement', after: ';', before: 'this.carryStart += this.carryLen;',
    reason: 'after a flush nothing is held, and the next push assigns carryStart before holding bytes',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'boolean', after: 'this.headEmitted = true;', prev: 'this.skipping = false;',
    reason: 'headEmitted is only read while skipping, and entering the skipping state resets it',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'statement', after: ';', before: 'this.headEmitted = false;',
    reason: 'headEmitted is reset both when a skipped line ends and when skipping starts: removing either one reset is covered by the other',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'boundary', after: 'if (e >= 0 && body[e - 1] === CR) e--;',
    reason: 'body[-1] is undefined, never CR',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'statement', after: ';', before: 'this.counted = false;', prev: 'if (!this.counted) sink.oversize(this.action);',
    reason: 'emit never sets counted, and every caller resets it after emitting (push, flush, finishCarried)',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'constant', after: 'return i >= 0 && i < to ? i : -2;',
    reason: 'callers only test for a negative result',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'boundary', after: 'if (to < from) return -1;',
    reason: 'with to === from, lastIndexOf searches before `from` and the result is rejected by `i >= from`',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'constant', after: 'if (to <= from) return -2;',
    reason: 'callers only test `lastNl >= pos`, false for any negative result',
  },
  {
    file: 'agent/sources/file/line-framer.ts', mutator: 'constant', after: 'return i >= from ? i : -2;',
    reason: 'callers only test `lastNl >= pos`, false for any negative result',
  },
  {
    file: 'agent/sources/file/checkpoint-store.ts', mutator: 'statement', after: ';', before: 'await fh.sync();',
    reason: 'durability only: without the fsync a power cut may lose the new checkpoint (the old one stays valid: re-reading, not loss); no test short of a power cut can see it',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'while (hi !== 0) { lo = ((lo >>> 8) | (hi << 25)) >>> 0; hi >>>= 7; n++; }',
    reason: 'only the length is computed: while hi is non-zero its shifted bits (hi << 25, at least bit 25) set the top bit, so losing one more low bit of lo never changes the count',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'export const bits = { lo: 1, hi: 0 };',
    reason: 'scratch output, always written before it is read',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'export const bits = { lo: 0, hi: 1 };',
    reason: 'scratch output, always written before it is read',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'boundary',
    after: 'const neg = v <= 0;',
    reason: "for 0 the two's complement negation gives 0 again",
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'relational',
    after: 'const neg = v >= 0;',
    reason: "negating v and then taking the two's complement of the halves is the identity: a positive safe integer comes out unchanged",
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'const neg = v < 1;',
    reason: 'for safe integers v < 1 is v <= 0, and 0 negates to 0',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'if (++lo > 0xffffffff) { lo = 0; if (++hi > 0xffffffff) hi = 1; }',
    reason: 'hi overflows only when both halves were 0 before negation, i.e. v was 0, which is not negative',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'const dv = new DataView(new ArrayBuffer(9));',
    reason: 'only the first 8 bytes are used',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'boundary',
    after: "if (n >= 32) return Buffer.byteLength(s, 'utf8');",
    reason: 'performance only: the JS loop and Buffer.byteLength agree (tested); this picks which one runs for 32 units',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'relational',
    after: "if (n <= 32) return Buffer.byteLength(s, 'utf8');",
    reason: 'performance only: the JS loop and Buffer.byteLength agree on every string (tested)',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: "if (n > 33) return Buffer.byteLength(s, 'utf8');",
    reason: 'performance only: the JS loop and Buffer.byteLength agree (tested)',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'boundary',
    after: 'else if (c >= 0xd800 && c <= 0xdbff && i + 1 <= n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { len += 2; i++; } // pair: 4 bytes for 2 units',
    reason: 'at i + 1 === n, charCodeAt gives NaN, and NaN & 0xfc00 is 0, never 0xdc00',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'arithmetic',
    after: 'else if (c >= 0xd800 && c <= 0xdbff && i - 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { len += 2; i++; } // pair: 4 bytes for 2 units',
    reason: 'past the end charCodeAt gives NaN, and NaN & 0xfc00 is 0, never 0xdc00: the bound check is redundant',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'boundary',
    after: "if (n <= 32) { for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i); } else buf.write(s, pos, n, 'latin1');",
    reason: "performance only: ASCII is written byte by byte or by Buffer.write('latin1'), the same bytes either way",
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'relational',
    after: "if (n >= 32) { for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i); } else buf.write(s, pos, n, 'latin1');",
    reason: "performance only: ASCII is written byte by byte or by Buffer.write('latin1'), the same bytes either way",
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: "if (n < 33) { for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i); } else buf.write(s, pos, n, 'latin1');",
    reason: "performance only: ASCII is written byte by byte or by Buffer.write('latin1'), the same bytes either way",
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'const K_BIGINT = 5; // bigint within int64',
    reason: 'an internal tag: the switch reaches bigints through default whatever its value',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'private keyLen = new Int32Array(65);',
    reason: 'capacity only: growth is driven by kind.length and copies every array',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'private valLen = new Int32Array(65);',
    reason: 'capacity only: growth is driven by kind.length and copies every array',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'private anyLen = new Int32Array(65);',
    reason: 'capacity only: growth is driven by kind.length and copies every array',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'private kvLen = new Int32Array(65);',
    reason: 'capacity only: growth is driven by kind.length and copies every array',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'const cap = this.kind.length * 3;',
    reason: 'performance only: the growth factor',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'let valLen = 1;',
    reason: 'valLen is assigned for every kind that uses it (strings and integers); booleans and doubles never read it',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'boundary',
    after: 'if (v > 0 && v < 0x80000000) valLen = varintLen(v);',
    reason: 'the 64-bit length of 0 is 1, the same as the 32-bit one',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'boundary',
    after: 'if (v >= 0 && v <= 0x80000000) valLen = varintLen(v);',
    reason: 'varintLen(2^31) and the 64-bit length of 2^31 are both 5',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'relational',
    after: 'if (v >= 0 && v >= 0x80000000) valLen = varintLen(v);',
    reason: 'both branches compute the same length for non-negative values below 2^53 (the write side picks its own path)',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'if (v >= 1 && v < 0x80000000) valLen = varintLen(v);',
    reason: 'the 64-bit length of 0 is 1, the same as the 32-bit one',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'const a = Math.floor(m / 65537); // m = a * 2^16 + b',
    reason: 'the split m = a * 2^16 + b stays exact for any integer a as long as b is computed from it (every intermediate below 2^53), so the sum is the same',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'const aHi = Math.floor(A / 65537);',
    reason: 'A = aHi * 2^16 + aLo stays exact for any integer aHi, so high and low are the same',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'arithmetic',
    after: 'out.low = (rest + carry * 4294967296) >>> 0;',
    reason: 'carry * 2^32 is 0 modulo 2^32 whichever its sign: >>> 0 gives the same low half',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'if (n >= this.cap) this.grow(n);',
    reason: 'performance only: grows one batch size earlier',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'arithmetic',
    after: 'const cap = Math.max(n, this.cap / 2, 256);',
    reason: 'capacity only: the per-record arrays are still at least n long',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'const cap = Math.max(n, this.cap * 3, 256);',
    reason: 'capacity only: the per-record arrays are still at least n long',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'const cap = Math.max(n, this.cap * 2, 257);',
    reason: 'capacity only: the per-record arrays are still at least n long',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'this.timeBits = new Uint32Array(cap * 3);',
    reason: 'capacity only: the per-record arrays are still at least n long',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'this.obsBits = new Uint32Array(cap * 3);',
    reason: 'capacity only: the per-record arrays are still at least n long',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: "if (typeof ns === 'bigint' && ns >= 0n) {",
    reason: 'a time of 0n has both halves 0 and is skipped by the next check either way',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'statement', after: ';', before: 'this.cap = cap;',
    reason: 'performance only: the arrays are reallocated for every batch instead of kept',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'const carry = Math.floor(rest / 4294967297);',
    reason: 'the floors differ only where k*2^32 <= rest < k*(2^32+1), i.e. rest - k*2^32 < k <= 16; rest is a multiple of 64 (aLo*2^16 + b*10^6 with aLo a multiple of 64), so that means rest = k*2^32 exactly, which no (aLo, b) reaches (checked exhaustively over every aLo, b and k)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'arithmetic',
    after: 'out.low = (rest - carry / 4294967296) >>> 0;',
    reason: 'when carry >= 1, rest >= 2^32 and carry / 2^32 (at most 2^-27) is below half an ulp of rest, so the difference rounds back to rest; >>> 0 then gives rest mod 2^32, the same low half as rest - carry * 2^32',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boolean',
    after: 'private relayed = true;',
    reason: 'message() assigns relayed before measure() reads it',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'private recLen = new Int32Array(1);',
    reason: 'first message: cap starts at 0, so message() calls grow() (which replaces every per-record array) before any is read',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'private flags = new Uint8Array(1);',
    reason: 'first message: cap starts at 0, so message() calls grow() (which replaces every per-record array) before any is read',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'private sevTextLen = new Int32Array(1);',
    reason: 'first message: cap starts at 0, so message() calls grow() (which replaces every per-record array) before any is read',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'private timeBits = new Uint32Array(1); // lo, hi per record',
    reason: 'first message: cap starts at 0, so message() calls grow() (which replaces every per-record array) before any is read',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'private obsBits = new Uint32Array(1);',
    reason: 'first message: cap starts at 0, so message() calls grow() (which replaces every per-record array) before any is read',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: "private attrEnd = new Int32Array(1); // end index of the record's entries in `attrs`",
    reason: 'first message: cap starts at 0, so message() calls grow() (which replaces every per-record array) before any is read',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'private lastObservedMs = -2;',
    reason: 'the initial observed bits are 0, which is also what msToNanoBits gives for -2 (every ms <= 0): a first record with observedMs -2 skipping the computation writes the same',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'statement',
    after: ';',
    before: 'this.lastObservedMs = r.observedMs;',
    reason: 'performance only: without it every record recomputes its observed time bits (same bits)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'ai = run.end >= run.start ? this.attrEnd[run.end - 1]! : ai;',
    reason: 'resourceRuns() never returns an empty run (end > start always), so the two conditions agree',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'if (sev !== 0) len += 1 + (sev <= 0 ? 10 : varintLen(sev >>> 0));',
    reason: 'inside sev !== 0, sev <= 0 is sev < 0',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'if (sev !== 0) len += 1 + (sev < 1 ? 10 : varintLen(sev >>> 0));',
    reason: 'severityNumber is always an integer (decoders map through severityFromNumber/Text, the forward decoder reads int32, workers carry a Uint8Array), so inside sev !== 0, sev < 1 is sev < 0',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'pos = sev <= 0 ? writeVarint64(buf, pos, sev >>> 0, 0xffffffff) : writeVarint(buf, pos, sev >>> 0);',
    reason: 'inside sev !== 0, sev <= 0 is sev < 0',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'pos = sev < 1 ? writeVarint64(buf, pos, sev >>> 0, 0xffffffff) : writeVarint(buf, pos, sev >>> 0);',
    reason: 'severityNumber is always an integer (see the measuring line), so inside sev !== 0, sev < 1 is sev < 0',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: "pos += buf.write(r.traceId, pos, 17, 'hex');",
    reason: 'the trace id was checked to be 32 hex digits: it decodes to exactly 16 bytes whatever the limit above 16',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: "pos += buf.write(r.spanId, pos, 9, 'hex');",
    reason: 'the span id was checked to be 16 hex digits: it decodes to exactly 8 bytes whatever the limit above 8',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'if (this.resourceCache.size > 1024) this.resourceCache.clear(); // bound memory if senders churn',
    reason: 'memory only: the cache is cleared one entry later; entries are keyed by the full attribute text, so a hit is always right',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'if (this.resourceCache.size >= 1025) this.resourceCache.clear(); // bound memory if senders churn',
    reason: 'memory only: the cache is cleared one entry later; entries are keyed by the full attribute text, so a hit is always right',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'statement',
    after: ';',
    before: 'this.resourceCache.set(key, b);',
    reason: 'performance only: without caching, the relayed Resource is encoded again per run (same bytes)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'if (this.streamCache.size > 1024) this.streamCache.clear(); // bound memory if paths churn',
    reason: 'memory only: the map is cleared one entry later; a hit is checked against stream id and source (tested)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'if (this.streamCache.size >= 1025) this.streamCache.clear(); // bound memory if paths churn',
    reason: 'memory only: the map is cleared one entry later; a hit is checked against stream id and source (tested)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'statement',
    after: ';',
    before: 'this.streamCache.set(r.stream, e);',
    reason: 'performance only: without the map, each stream change encodes the attributes again (same bytes)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'statement',
    after: ';',
    before: 'this.cStream = r.stream; this.cStreamId = r.streamId; this.cSource = r.source; this.cBytes = e.bytes;',
    reason: 'performance only: without the last-stream shortcut every record goes through the map (same bytes; cBytes stays null, so the shortcut is never taken)',
  },
  {
    file: 'agent/sinks/failover/failover-sink.ts', mutator: 'boundary',
    after: "if (b.state === 'closed' && now - b.closedSince > this.cfg.failbackHoldDownMs && this.targets[i]!.gray.verdict(now).bad === 0) {",
    reason: 'timing only: fails back one millisecond later',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'boundary',
    after: 'if (end >= gen.lastToken) {',
    reason: 'end === lastToken is only reachable with no lines (the framer moves consumed past every emitted line), and that case returned just above',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'logical',
    after: 'if (this.released && this.host.stopping) break;',
    reason: 'one turn later, nothing done in between: stopping alone makes waitWake return at once and the loop condition exits; released alone happens only in atEof paths that return 0, so waitWake(0) resolves on the next timer tick and the loop condition exits',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'boundary',
    after: 'if (this.readOffset >= this.knownSize) this.knownSize = this.readOffset;',
    reason: 'at equality it assigns the value knownSize already has',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'boundary',
    after: 'if (gen.entry.fp_len <= this.host.cfg.fingerprint_bytes && this.readOffset > gen.entry.fp_len) {',
    reason: 'performance only: at fp_len === fingerprint_bytes widenFingerprint wants min(readOffset, fingerprint_bytes) <= fp_len bytes and returns null before reading anything (one more async call per chunk)',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'boundary',
    after: 'if (gen.entry.fp_len < this.host.cfg.fingerprint_bytes && this.readOffset >= gen.entry.fp_len) {',
    reason: 'performance only: at readOffset === fp_len widenFingerprint wants min(readOffset, fingerprint_bytes) <= fp_len bytes and returns null before reading anything',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'logical',
    after: 'if (gen.entry.fp_len < this.host.cfg.fingerprint_bytes || this.readOffset > gen.entry.fp_len) {',
    reason: 'performance only: when only one of the two holds, widenFingerprint wants min(readOffset, fingerprint_bytes) <= fp_len bytes and returns null before reading anything (one more async call per chunk of a fully fingerprinted file)',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'statement',
    after: ';',
    before: 'retired = false;',
    reason: 'the field is then undefined, which the only reader (`!this.retired`) treats as false',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'statement',
    after: ';',
    before: 'detached = false;',
    reason: 'the field is then undefined, which every reader treats as false (nothing outside the class reads it)',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'constant',
    after: 'private readOffset = 1;',
    reason: 'read only while a stream exists, and every stream starts with seek(), which sets it',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'constant',
    after: 'private knownSize = 1;',
    reason: 'the first establish() sets it from fstat before anything reads it',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'constant',
    after: 'private lastFpCheckMs = 1;',
    reason: 'the first fingerprint check is due either way (now - 1 >= glob_interval for any real clock)',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'constant',
    after: 'this.framer = new LineFramer(host.cfg.max_line_bytes, host.cfg.oversize, 1);',
    reason: 'the first framer is replaced by seek() before the first read; until then only code behind a `this.gen` guard could touch it',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'statement',
    after: ';',
    before: 'this.framer = new LineFramer(host.cfg.max_line_bytes, host.cfg.oversize, 0);',
    reason: 'the first framer is replaced by seek() before the first read; until then only code behind a `this.gen` guard could touch it',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'constant',
    after: 'if (n > 1) continue;',
    reason: 'timing only: a regular file returns fewer bytes than asked only at EOF, so a 1-byte read goes to the EOF look one read early; bytes appended meanwhile wake the tailer (inotify) or are found at the next glob interval',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'statement',
    after: ';',
    before: 'this.startFrom = null;',
    reason: 'startFrom is read only by establish(), which runs again only after truncated() has set it to beginning',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'statement',
    after: ';',
    before: "this.startFrom = { kind: 'beginning' };",
    reason: 'with startFrom null, establish() starts at the beginning anyway (`this.startFrom ?? beginning`)',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'statement',
    after: ';',
    before: "this.host.telemetry.error('ack-token', this.path, new Error(`chunk end ${end} not after ${gen.lastToken}`));",
    reason: 'unreachable defensive branch: end <= lastToken only with no lines (the framer moves consumed past every line it emits), and that case returned just above',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'statement',
    after: ';',
    before: 'group = new AckGroup(end, noop);',
    reason: 'unreachable defensive branch: end <= lastToken only with no lines (the framer moves consumed past every line it emits), and that case returned just above',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'constant',
    after: 'this.readOffset = 1;',
    reason: 'dead store: the next establish() seeks before any read; until then (gen null) nothing reads readOffset',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'statement',
    after: ';',
    before: 'this.readOffset = 0;',
    prev: "this.startFrom = { kind: 'beginning' };",
    reason: 'dead store: the next establish() seeks before any read; until then (gen null) nothing reads readOffset',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'constant',
    after: 'this.framer = new LineFramer(this.host.cfg.max_line_bytes, this.host.cfg.oversize, 1);',
    reason: 'dead store: the next establish() replaces the framer before any read; until then (gen null) only guarded code could touch it',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'statement',
    after: ';',
    before: 'this.framer = new LineFramer(this.host.cfg.max_line_bytes, this.host.cfg.oversize, 0);',
    prev: 'this.readOffset = 0;',
    reason: 'dead store: the next establish() replaces the framer before any read; until then (gen null) only guarded code could touch it',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'boundary',
    after: 'if (x > 0 && x < 0x80000000) return writeVarint(buf, pos, x);',
    reason: 'both writers give the same bytes for 0 and for 2^31 (writeVarint is exact below 2^32)',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'boundary',
    after: 'if (x >= 0 && x <= 0x80000000) return writeVarint(buf, pos, x);',
    reason: 'both writers give the same bytes for 0 and for 2^31 (writeVarint is exact below 2^32)',
  },
  {
    file: 'agent/encoders/otlp/wire.ts', mutator: 'constant',
    after: 'if (x >= 1 && x < 0x80000000) return writeVarint(buf, pos, x);',
    reason: 'both writers give the same bytes for 0 and for 2^31 (writeVarint is exact below 2^32)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'let f = 1;', prev: 'for (let i = from; i < to; i++, k++) {',
    reason: 'the runs lane never reads F_TIME (bit 1): a run carries no event time, so its records are written the same',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'equality',
    after: 'if (off >= 0 && off <= 0xffffffff && off !== Math.floor(off)) {', prev: 'const off = offsets[i]!;',
    reason: 'performance only: the direct offset writer and the generic attribute path write the same KeyValue bytes for every offset (otlp-runs.test.ts compares the lane with encode(), offsets past 2^32 included)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'if (off >= 0 && off < 0xffffffff && off === Math.floor(off)) {', prev: 'const off = offsets[i]!;',
    reason: 'performance only: the direct offset writer and the generic attribute path write the same KeyValue bytes for every offset (otlp-runs.test.ts compares the lane with encode(), offsets past 2^32 included)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'if (off > 0 && off <= 0xffffffff && off === Math.floor(off)) {', prev: 'const off = offsets[i]!;',
    reason: 'performance only: the direct offset writer and the generic attribute path write the same KeyValue bytes for every offset (otlp-runs.test.ts compares the lane with encode(), offsets past 2^32 included)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'if (off >= 1 && off <= 0xffffffff && off === Math.floor(off)) {', prev: 'const off = offsets[i]!;',
    reason: 'performance only: the direct offset writer and the generic attribute path write the same KeyValue bytes for every offset (otlp-runs.test.ts compares the lane with encode(), offsets past 2^32 included)',
  },
  {
    file: 'agent/sources/file/chunk-columns.ts', mutator: 'constant',
    after: 'private starts = new Uint32Array(257);',
    reason: 'performance only: the initial capacity of the column arrays (they grow on demand, see the 20,000-byte random test)',
  },
  {
    file: 'agent/sources/file/chunk-columns.ts', mutator: 'constant',
    after: 'private ends = new Uint32Array(257);',
    reason: 'performance only: the initial capacity of the column arrays (they grow on demand, see the 20,000-byte random test)',
  },
  {
    file: 'agent/sources/file/chunk-columns.ts', mutator: 'constant',
    after: 'private offsets = new Float64Array(257);',
    reason: 'performance only: the initial capacity of the column arrays (they grow on demand, see the 20,000-byte random test)',
  },
  {
    file: 'agent/sources/file/chunk-columns.ts', mutator: 'constant',
    after: 'const cap = this.starts.length * 3;',
    reason: 'performance only: the growth factor of the column arrays',
  },
  {
    file: 'agent/sources/file/chunk-columns.ts', mutator: 'constant',
    after: 'const mem = aligned ? region.buffer : new ArrayBuffer(17 * n);',
    reason: 'memory only: 16 bytes per record are used (offsets, starts, ends at 0, 8n, 12n); a larger buffer leaves n bytes unused',
  },
  {
    file: 'agent/sources/file/chunk-columns.ts', mutator: 'constant',
    after: 'bodies = this.buf ?? Buffer.alloc(1);',
    reason: 'only for a run of no records, whose bodies nobody reads (every read goes through starts/ends)',
  },
  {
    file: 'agent/sinks/failover/failover-sink.ts', mutator: 'boundary', after: 'for (let i = 0; i <= this.active; i++) {',
    reason: 'the extra turn is the active cluster itself: switchTo() returns at once for the active index, and the loop returns after it as it would have ended',
  },
  {
    file: 'agent/sinks/failover/failover-sink.ts', mutator: 'statement', after: ';', before: 't.failedRequest = null;',
    prev: "await t.sink.resetSession?.('request failed on this cluster was delivered elsewhere');",
    reason: 'the send that follows the reset sets failedRequest either way (null when it succeeds, these messages when it fails), and nothing reads it in between: the pipeline has one request in flight per sink',
  },
  {
    file: 'agent/sources/file/tailer.ts', mutator: 'constant',
    after: 'if (this.ahead) this.ahead.at = -2;',
    reason: 'any negative offset marks the read ahead as made for no offset: readChunk only ever wants offsets >= 0',
  },
  {
    file: 'agent/sources/file/chunk-slabs.ts', mutator: 'constant',
    after: 'const SLAB_BYTES = 2 << 20;',
    reason: 'memory only: the slab size (tests pass their own; the file-source test checks bytes and reuse at any size)',
  },
  {
    file: 'agent/sources/file/chunk-slabs.ts', mutator: 'constant',
    after: 'const SLAB_BYTES = 1 << 21;',
    reason: 'memory only: the slab size (tests pass their own; the file-source test checks bytes and reuse at any size)',
  },
  {
    file: 'agent/sources/file/chunk-slabs.ts', mutator: 'constant',
    after: 'pos = 1;',
    reason: 'take() sets pos to 0 whenever it starts on a slab, before the first region is cut, so the initial value is never read',
  },
  {
    file: 'agent/sources/file/chunk-slabs.ts', mutator: 'statement',
    after: ';', before: 'pos = 0;',
    reason: 'take() sets pos to 0 whenever it starts on a slab, before the first region is cut, so the initial value is never read',
  },
  {
    file: 'agent/sources/file/chunk-slabs.ts', mutator: 'boundary',
    after: 'if (n >= this.slabBytes >> 2) { this.taken = null; return Buffer.allocUnsafe(n); }',
    reason: 'performance only: a copy of exactly a quarter slab bypasses the slabs instead of using one (both hand out n writable bytes)',
  },
  {
    file: 'agent/sources/file/chunk-slabs.ts', mutator: 'boundary',
    after: 'if (s === null || s.pos + n >= s.buf.length) {',
    reason: 'memory only: a copy that would fill the slab exactly starts a new slab instead',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'equality',
    after: 'if (off >= 0 && off <= 0xffffffff && off !== Math.floor(off)) {', prev: 'const off = r.offset;',
    reason: 'performance only: the direct offset writer and the generic attribute path write the same KeyValue bytes for every offset (otlp-runs.test.ts compares the lane with encode(), offsets past 2^32 included)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'if (off >= 0 && off < 0xffffffff && off === Math.floor(off)) {', prev: 'const off = r.offset;',
    reason: 'performance only: the direct offset writer and the generic attribute path write the same KeyValue bytes for every offset (otlp-runs.test.ts compares the lane with encode(), offsets past 2^32 included)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'boundary',
    after: 'if (off > 0 && off <= 0xffffffff && off === Math.floor(off)) {', prev: 'const off = r.offset;',
    reason: 'performance only: the direct offset writer and the generic attribute path write the same KeyValue bytes for every offset (otlp-runs.test.ts compares the lane with encode(), offsets past 2^32 included)',
  },
  {
    file: 'agent/encoders/otlp/otlp-proto.ts', mutator: 'constant',
    after: 'if (off >= 1 && off <= 0xffffffff && off === Math.floor(off)) {', prev: 'const off = r.offset;',
    reason: 'performance only: the direct offset writer and the generic attribute path write the same KeyValue bytes for every offset (otlp-runs.test.ts compares the lane with encode(), offsets past 2^32 included)',
  },
  {
    file: 'agent/sources/file/chunk-slabs.ts', mutator: 'constant',
    after: 's.pos = (s.pos + n + 8) & ~7;',
    reason: 'memory only: regions stay 8-aligned and disjoint, one more 8-byte gap between some of them',
  },
];

/** The reason a mutant is equivalent, or null. */
export function isEquivalent(file: string, m: Mutant): string | null {
  const e = list.find((x) => x.file === file && x.mutator === m.mutator && x.after === m.after.trim() && (x.before === undefined || x.before === m.before.trim()) && (x.prev === undefined || x.prev === m.prev));
  return e ? e.reason : null;
}
