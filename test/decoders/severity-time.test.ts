import { test } from 'node:test';
import assert from 'node:assert/strict';
import { severityFromNumber, severityFromText, syslogSeverity } from '../../agent/decoders/severity.ts';
import { compileTimeFormat, epochToNs, epochTextToNs, parseRfc3339 } from '../../agent/decoders/time.ts';

test('severity table', () => {
  const t: [string, number][] = [['trace', 1], ['DEBUG', 5], ['info', 9], ['Information', 9], ['notice', 10], ['warn', 13], ['WARNING', 13], ['error', 17], ['err', 17],
    ['crit', 18], ['critical', 18], ['alert', 21], ['fatal', 21], ['emerg', 22], [' Error ', 17], ['30', 9], ['3', 17], ['bogus', 0], ['', 0]];
  for (const [s, n] of t) assert.equal(severityFromText(s), n, s);
  assert.deepEqual(syslogSeverity, [22, 21, 18, 17, 13, 10, 9, 5]);
  assert.deepEqual([10, 20, 30, 40, 50, 60, 61, 7, 8, 1.5].map(severityFromNumber), [1, 5, 9, 13, 17, 21, 0, 5, 0, 0]);
});

test('timestamps', () => {
  assert.equal(parseRfc3339('2024-05-01T12:00:00Z'), 1714564800000000000n);
  assert.equal(parseRfc3339('2024-05-01T12:00:00.123456789Z'), 1714564800123456789n);
  assert.equal(parseRfc3339('2024-05-01 14:00:00,5+02:00'), 1714564800500000000n);
  assert.equal(parseRfc3339('2024-05-01T07:00:00-0500'), 1714564800000000000n);
  assert.equal(parseRfc3339('2024-05-01T12:00:00'), 1714564800000000000n, 'no zone: UTC');
  for (const bad of ['2024-13-01T00:00:00Z', '2024-05-01X12:00:00Z', '2024-05-01T12:00:00Zjunk', 'yesterday', '2024-05-01T12:00:00.Z']) assert.equal(parseRfc3339(bad), 0n, bad);
  // Same minute, different zones and seconds: the minute cache must not mix them.
  assert.equal(parseRfc3339('2024-05-01T14:00:30+02:00'), 1714564830000000000n);
  assert.equal(parseRfc3339('2024-05-01T14:00:30Z'), 1714572030000000000n);
  assert.equal(parseRfc3339('2024-05-01T14:00:61Z'), 0n);
  assert.equal(parseRfc3339('2024-05-01T14:00x30Z'), 0n);
  assert.equal(parseRfc3339('2024-05-01 14:00:30.000000001Z'), 1714572030000000001n);
  assert.equal(epochToNs(1714564800), 1714564800000000000n);
  assert.equal(epochToNs(1714564800123), 1714564800123000000n);
  assert.equal(epochToNs(1714564800123456), 1714564800123456000n);
  assert.equal(epochTextToNs('1714564800123456789'), 1714564800123456789n);
  assert.equal(epochToNs(-5), 0n);
  assert.equal(compileTimeFormat('%d/%b/%Y:%H:%M:%S %z')('01/May/2024:14:00:00 +0200'), 1714564800000000000n);
  assert.equal(compileTimeFormat('%y/%m/%d %H:%M:%S')('17/06/09 20:10:40'), 1497039040000000000n);
  assert.equal(compileTimeFormat('epoch_ms')('1714564800123'), 1714564800123000000n);
  assert.equal(compileTimeFormat('%Y-%m-%d')('nope'), 0n);
  assert.throws(() => compileTimeFormat('%Q'));
});
