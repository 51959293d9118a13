// `edgelog doctor`'s Kafka check and exit code, through the real CLI against a
// real broker: exit 0 when every named cluster answers metadata for its topic,
// 1 when one does not (with the reason and the fix on that line), the
// clusters of a --config checked as well as --brokers; without either, Kafka
// is reported unchecked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Line { feature: string; ok: boolean; reason: string; fix: string }

function doctor(args: string[]): Promise<{ code: number; lines: Line[]; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(root, 'agent/cli/main.ts'), 'doctor', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`doctor did not finish in 90 s: ${err}`)); }, 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try { res({ code: code ?? -1, lines: JSON.parse(out.slice(out.indexOf('['))) as Line[], stderr: err }); } catch (e) { rej(new Error(`unparsable doctor output (${(e as Error).message}): ${out}\n${err}`)); }
    });
  });
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const kafkaLines = (lines: Line[]) => lines.filter((l) => l.feature.startsWith('kafka'));

test('doctor without --brokers or --config: exit 0, Kafka reported as not checked, native features listed', { timeout: 120_000 }, async () => {
  const r = await doctor([]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(kafkaLines(r.lines).map((l) => [l.feature, l.ok]), [['kafka', true]]);
  assert.match(kafkaLines(r.lines)[0]!.reason, /not checked/);
  assert.ok(r.lines.length > 1, 'native feature lines too');
  for (const l of r.lines) if (!l.ok) assert.ok(l.fix.length > 0, `${l.feature}: a missing feature names its fix`);
});

test('doctor --brokers --topic on a live cluster: exit 0 with the metadata round trip; a missing topic is exit 1 naming it', { timeout: 120_000 }, async () => {
  const k = await sharedKafka('A');
  const topic = uniqueTopic('doctor');
  const missing = await doctor(['--brokers', k.bootstrap, '--topic', topic]);
  assert.equal(missing.code, 1, 'the topic does not exist yet');
  assert.match(kafkaLines(missing.lines)[0]!.fix, new RegExp(`topic ${topic} exists`));
  await k.createTopic(topic, 1);
  const r = await doctor(['--brokers', k.bootstrap, '--topic', topic]);
  assert.equal(r.code, 0, r.stderr);
  const [l] = kafkaLines(r.lines);
  assert.equal(l!.feature, 'kafka brokers');
  assert.equal(l!.ok, true);
  assert.match(l!.reason, new RegExp(`metadata from ${k.bootstrap.replace(/\./g, '\\.')} in \\d+ ms`));
});

test('doctor with one dead cluster (a config sink) and one live (--brokers): exit 1, the dead one named with reason and fix', { timeout: 120_000 }, async (t) => {
  const k = await sharedKafka('A');
  const dead = `127.0.0.1:${await closedPort()}`;
  const dir = mkdtempSync(join(tmpdir(), `edgelog-doctor-${process.pid}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'edgelog.yaml');
  writeFileSync(cfg, `
agent:
  id: doctor-test
  data_dir: ${JSON.stringify(join(dir, 'state'))}
sources:
  files:
    type: file
    include: [${JSON.stringify(join(dir, '*.log'))}]
sinks:
  out:
    type: kafka
    brokers: [${JSON.stringify(dead)}]
    topic: logs
`);
  const topic = uniqueTopic('doctor-live');
  await k.createTopic(topic, 1);
  const r = await doctor(['--config', cfg, '--brokers', k.bootstrap, '--topic', topic]);
  assert.equal(r.code, 1, 'one cluster did not answer');
  const lines = kafkaLines(r.lines);
  assert.deepEqual(lines.map((l) => [l.feature, l.ok]), [['kafka brokers', true], ['kafka out', false]]);
  assert.ok(lines[1]!.reason.length > 0);
  assert.match(lines[1]!.fix, new RegExp(`check that ${dead.replace(/\./g, '\\.')} is reachable.*topic logs exists`));
});
