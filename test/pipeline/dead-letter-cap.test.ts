// The dead-letter file is bounded on disk (agent.dead_letter_max_bytes): an
// authenticated sender that keeps sending records no destination takes must
// not fill the disk with dead letters. What an operator relies on: the files
// stay under the cap, the newest dead letters are kept, nothing is dropped
// without a log line and a counter, and a record too large for the cap still
// leaves its trace (size and SHA-256).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../agent/observe/prometheus.ts';
import { deadLetterFor } from '../../agent/pipeline/dead-letter.ts';
import { createLogger } from '../../agent/observe/log.ts';
import { parseConfig } from '../../agent/config/load.ts';
import { makeRecords } from '../forward/helpers.ts';
import { defer, removeDir } from '../helpers/cleanup.ts';

const MiB = 1024 * 1024;

function context(dir: string, maxBytes: number) {
  const warnings: string[] = [];
  const log = createLogger({ format: 'json', level: 'warn', write: (line: string) => { warnings.push(line); } });
  return { ctx: { id: 'kafka_out', log, metrics: new Registry(), dataDir: dir, deadLetterMaxBytes: maxBytes, agentId: 'a', host: 'h', service: 's', site: 'x' }, warnings };
}

async function metric(r: Registry, name: string): Promise<number> {
  const m = (await r.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((n, v) => n + Number(v.value), 0);
}

const lines = (path: string): Array<Record<string, unknown>> =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

test('dead letters past the cap rotate: both files stay under it, the newest are kept, the deletion is logged and counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-dlq-cap-'));
  defer(t, 'remove the dir', () => removeDir(dir));
  const { ctx, warnings } = context(dir, 2 * MiB);
  const dlq = deadLetterFor(ctx, 'kafka_out');
  // 40 batches of one 100 KiB record: ~5.3 MiB of lines against a 2 MiB cap.
  let last = -1;
  for (let i = 0; i < 40; i++) {
    const { records } = makeRecords(1, { start: i * 1000, body: () => Buffer.alloc(100 * 1024, 97 + (i % 26)) });
    last = records[0]!.offset;
    await dlq.write(records, 'EDGELOG_RECORD_TOO_LARGE', 'test');
    const total = statSync(dlq.path).size + (existsSync(dlq.path + '.1') ? statSync(dlq.path + '.1').size : 0);
    assert.ok(total <= 2 * MiB, `after batch ${i}: ${total} bytes on disk, cap 2 MiB`);
  }
  const current = lines(dlq.path);
  assert.equal(current.at(-1)!.offset, last, 'the newest dead letter is kept');
  for (const l of [...current, ...lines(dlq.path + '.1')]) assert.equal(Buffer.from(l.body_b64 as string, 'base64').length, 100 * 1024);
  const rotations = await metric(ctx.metrics, 'edgelog_dead_letter_rotations_total');
  assert.ok(rotations >= 2, `rotations counted: ${rotations}`);
  assert.equal(warnings.filter((w) => w.includes('dead-letter file rotated')).length, rotations, 'each rotation logged');
});

test('a record whose line alone passes half the cap is kept without its body, with its size and SHA-256; the others in its batch keep theirs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-dlq-cap-'));
  defer(t, 'remove the dir', () => removeDir(dir));
  const { ctx, warnings } = context(dir, 2 * MiB);
  const dlq = deadLetterFor(ctx, 'kafka_out');
  const big = Buffer.alloc(3 * MiB + 7, 0x5a);
  const bodies = [Buffer.from('before'), big, Buffer.from('after')];
  const { records } = makeRecords(3, { body: (i) => bodies[i]! });
  await dlq.write(records, 'EDGELOG_RECORD_TOO_LARGE', 'above the destination limit');
  const got = lines(dlq.path);
  assert.equal(got.length, 3);
  assert.equal(Buffer.from(got[0]!.body_b64 as string, 'base64').toString(), 'before');
  assert.equal(got[1]!.body_b64, undefined);
  assert.equal(got[1]!.bytes, big.length);
  assert.equal(got[1]!.body_sha256, createHash('sha256').update(big).digest('hex'));
  assert.match(String(got[1]!.body_omitted), /dead_letter_max_bytes/);
  assert.equal(Buffer.from(got[2]!.body_b64 as string, 'base64').toString(), 'after');
  assert.ok(statSync(dlq.path).size < 64 * 1024, 'the omitted body is not on disk');
  assert.equal(await metric(ctx.metrics, 'edgelog_dead_letter_bodies_omitted_total'), 1);
  assert.ok(warnings.some((w) => w.includes('without their body')));
});

test('agent.dead_letter_max_bytes: sizes accepted, below 2 MiB refused naming the key path', () => {
  const base = (v: string): string => `agent: { dead_letter_max_bytes: ${v} }\nsources: { f: { type: file, include: ["/tmp/x.log"] } }\nsinks: { k: { type: kafka, brokers: ["127.0.0.1:9092"], topic: t } }\n`;
  assert.equal(parseConfig(base('64MiB')).agent.deadLetterMaxBytes, 64 * MiB);
  assert.equal(parseConfig(base('4194304')).agent.deadLetterMaxBytes, 4 * MiB);
  assert.throws(() => parseConfig(base('1MiB')), /agent\.dead_letter_max_bytes/);
});
