// The protobuf wire helpers under the otlp_proto encoder, against references:
// varints and fixed64 against a BigInt encoder at every length boundary,
// int64/bigint two's complement halves, UTF-8 lengths against Buffer, and
// KeyValue lists against protobufjs reading logs.proto (otlp-proto-types.ts)
// (decoding our bytes gives back every key and value).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bigintBits, bits, encodeKvs, int64Bits, KvList, utf8Len, varint64Len, varintLen, writeFixed64, writeString, writeVarint, writeVarint64,
} from '../../agent/encoders/otlp/wire.ts';
import { otlp, type DecodedLogRecord } from './otlp-proto-types.ts';

/** Reference varint of an unsigned 64-bit value. */
function refVarint(v: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(v & 127n);
    v >>= 7n;
    if (v > 0n) b |= 128;
    out.push(b);
  } while (v > 0n);
  return out;
}

const halves = (v: bigint): [number, number] => [Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn)];

test('varint (32-bit): length and bytes at every 7-bit boundary', () => {
  const vals = [0, 1, 126, 127, 128, 129, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff, 0x10000000, 0x7fffffff, 0xffffffff];
  for (const v of vals) {
    const want = refVarint(BigInt(v));
    assert.equal(varintLen(v), want.length, `len ${v}`);
    const buf = new Uint8Array(12).fill(0xaa);
    const end = writeVarint(buf, 2, v);
    assert.equal(end, 2 + want.length, `end ${v}`);
    assert.deepEqual([...buf.subarray(2, end)], want, `bytes ${v}`);
    assert.equal(buf[1], 0xaa, 'nothing written before pos');
    assert.equal(buf[end], 0xaa, 'nothing written after');
  }
});

test('varint (64-bit halves): length and bytes at every boundary up to 2^64-1', () => {
  const vals: bigint[] = [0n, 127n, 128n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 35n - 1n, 2n ** 35n, 2n ** 49n, 2n ** 53n - 1n, 2n ** 56n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
  for (let k = 1; k < 64; k += 7) vals.push(2n ** BigInt(k) - 1n, 2n ** BigInt(k));
  for (const v of vals) {
    const [lo, hi] = halves(v);
    const want = refVarint(v);
    assert.equal(varint64Len(lo, hi), want.length, `len ${v}`);
    const buf = new Uint8Array(16);
    const end = writeVarint64(buf, 1, lo, hi);
    assert.deepEqual([...buf.subarray(1, end)], want, `bytes ${v}`);
  }
});

test('fixed64 little-endian', () => {
  const buf = new Uint8Array(10);
  assert.equal(writeFixed64(buf, 1, 0x04030201, 0x08070605), 9);
  assert.deepEqual([...buf], [0, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
});

test('int64Bits and bigintBits: two\'s complement halves, wrapped modulo 2^64', () => {
  const cases = [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 32, -(2 ** 32), 2 ** 32 + 5, -(2 ** 32 + 5), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 123456789012, -123456789012];
  for (const v of cases) {
    int64Bits(v);
    const want = halves(BigInt.asUintN(64, BigInt(v)));
    assert.deepEqual([bits.lo, bits.hi], want, `int64 ${v}`);
  }
  for (const v of [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n + 3n]) {
    bigintBits(v);
    assert.deepEqual([bits.lo, bits.hi], halves(BigInt.asUintN(64, v)), `bigint ${v}`);
  }
});

test('utf8Len equals Buffer.byteLength (lone surrogates as U+FFFD), short and long strings', () => {
  const samples = ['\u007f', '\u0080', '\udbff\udfff', '\udbff\udc00', '€\udc00', 'é\udc00', 'ab\udc00', '\ud7ff\udc00', '\ue000\udc00', '', 'a', 'é', '\u07ff', '\u0800', '€', '\uffff', '😀', 'a😀b', '\ud800', '\udc00', 'x\ud83dy', '\ud83d', '\ude00\ud83d', 'ascii only key', 'ü'.repeat(40), '😀'.repeat(20), 'k'.repeat(33)];
  for (const s of samples) assert.equal(utf8Len(s), Buffer.byteLength(s, 'utf8'), JSON.stringify(s));
});

test('writeString writes exactly n bytes at pos: ASCII short and long, UTF-8', () => {
  for (const s of ['key', 'k'.repeat(31), 'k'.repeat(32), 'k'.repeat(40), 'héllo wörld', '😀 ok']) {
    const n = utf8Len(s);
    const buf = Buffer.alloc(n + 4, 0xaa);
    assert.equal(writeString(buf, 2, s, n), 2 + n);
    assert.equal(buf.subarray(2, 2 + n).toString('utf8'), s);
    assert.deepEqual([buf[1], buf[2 + n]], [0xaa, 0xaa]);
  }
});

test('KeyValue lists decode with the generated protobuf code to the same keys and values, sizes exact', () => {
  const entries: Array<[string, unknown]> = [
    ['s', 'value'], ['', 'empty key'], ['empty', ''], ['long', 'v'.repeat(200)], ['ü-key', 'wörld 😀'],
    ['t', true], ['f', false], ['zero', 0], ['small', 127], ['two', 128], ['i31', 0x7fffffff], ['i32', 0x80000000],
    ['neg', -1], ['negbig', -(2 ** 40)], ['max', Number.MAX_SAFE_INTEGER], ['min', Number.MIN_SAFE_INTEGER],
    ['dbl', 1.5], ['nan', Number.NaN], ['huge', 2 ** 60], ['big', 2n ** 62n], ['bigneg', -(2n ** 63n)], ['bigover', 2n ** 64n], ['big63', 2n ** 63n], ['bigunder', -(2n ** 63n) - 1n],
    ['obj', { a: 1, b: [2n] }], ['undef', undefined],
  ];
  // Many entries: the list grows past its initial capacity of 64.
  for (let i = 0; i < 100; i++) entries.push([`k${i}`, i % 3 === 0 ? `v${i}` : i]);
  const tag = (6 << 3) | 2; // LogRecord.attributes
  const buf = encodeKvs(tag, entries as Array<[string, never]>);
  // Reference decode: a LogRecord holding only these attributes.
  const rec = otlp.LogRecord.decode(buf) as unknown as DecodedLogRecord;
  assert.equal(rec.attributes.length, entries.length);
  rec.attributes.forEach((kv, i) => {
    const [k, v] = entries[i]!;
    assert.equal(kv.key, k, `key ${i}`);
    const av = kv.value!;
    if (typeof v === 'string') assert.equal(av.stringValue, v, k);
    else if (typeof v === 'boolean') assert.equal(av.boolValue, v, k);
    else if (typeof v === 'number' && Number.isSafeInteger(v)) assert.equal(String(av.intValue), String(v), k);
    else if (typeof v === 'number') assert.ok(Object.is(av.doubleValue, v), k);
    else if (typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 63n) assert.equal(String(av.intValue), String(v), k);
    else if (typeof v === 'bigint') assert.equal(av.stringValue, String(v), `${k}: out of int64 range becomes its decimal string`);
    else if (typeof v === 'object') assert.equal(av.stringValue, '{"a":1,"b":["2"]}', k);
    else assert.equal(av.stringValue, String(v), k);
  });
  // Pass 1 sizes are exactly what pass 2 writes, entry by entry.
  const l = new KvList();
  for (let round = 0; round < 2; round++) {
    l.clear();
    const sizes = entries.map(([k, v]) => l.push(k, v as never));
    assert.equal(l.n, entries.length);
    const out = Buffer.alloc(sizes.reduce((a, n) => a + n, 0) + 1, 0xaa);
    let pos = 0;
    for (let i = 0; i < l.n; i++) { const end = l.write(out, pos, i, tag); assert.equal(end - pos, sizes[i], `size of entry ${i}`); pos = end; }
    assert.deepEqual(out.subarray(0, pos), buf, `round ${round}: reused list writes the same bytes`);
    assert.equal(out[pos], 0xaa);
  }
});
