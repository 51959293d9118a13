// observed_time_unix_nano is computed from milliseconds without BigInt:
// msToNanoBits must equal ms * 10^6 as a 64-bit value, exactly, at every
// carry boundary of its 16/32-bit split and across the whole range of dates.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msToNanoBits } from '../../agent/encoders/otlp/otlp-proto.ts';

function want(ms: number): [number, number] {
  const ns = BigInt(Math.max(0, Math.floor(ms))) * 1_000_000n;
  return [Number(ns & 0xffffffffn), Number((ns >> 32n) & 0xffffffffn)];
}

test('msToNanoBits equals ms * 1e6 at every split and carry boundary and over 0 .. year 2500', () => {
  const out = { low: 0, high: 0 };
  const cases = [0, 1, 999, 4294, 4295, 65535, 65536, 65537, 131071, 131072, 4294967, 4294968, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1,
    1_700_000_000_000, 1_700_000_000_123, Date.UTC(2038, 0, 19, 3, 14, 8), Date.UTC(2500, 0, 1), 2 ** 44 - 1, 2 ** 44];
  for (let k = 0; k < 45; k++) cases.push(2 ** k - 1, 2 ** k, 2 ** k + 1, 65536 * k + 65535);
  let x = 12345;
  for (let i = 0; i < 2000; i++) { x = (x * 1103515245 + 12345) % 2147483648; cases.push(Math.floor((x / 2147483648) * Date.UTC(2500, 0, 1))); }
  for (const ms of cases) {
    const r = msToNanoBits(ms, out);
    assert.equal(r, out, 'writes into and returns the given object');
    assert.deepEqual([out.low, out.high], want(ms), `ms ${ms}`);
  }
});

test('msToNanoBits: fractions are floored, negatives clamp to 0', () => {
  const out = { low: 7, high: 7 };
  assert.deepEqual(msToNanoBits(1.9, out), { low: 1_000_000, high: 0 });
  assert.deepEqual(msToNanoBits(-5, out), { low: 0, high: 0 });
});
