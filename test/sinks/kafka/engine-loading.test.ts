// The Kafka sink loads only the configured engine's client (issue 15 item 2):
// on engine platformatic no kafkajs, snappy or lz4-napi enters the process
// (about 26 MB of RSS on an idle agent), create_topic included, and the
// sink's modules import each other without a cycle. Each case runs in a fresh Node process, with a load
// hook recording every package module actually loaded (a resolve alone does
// not count).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const kafkaDir = fileURLToPath(new URL('../../../agent/sinks/kafka/', import.meta.url));

/** Probe prelude: every package a module is loaded from goes into `seen`. */
const recordPackages = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ load(url, ctx, next) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url);
      if (m) seen.add(m[1]);
      return next(url, ctx);
    } });
`;

/** Packages loaded after validating a config for `engine` and building its engine through the sink's factory. */
function packagesLoaded(engine: string): string[] {
  const probe = `${recordPackages}
    const { kafkaSink } = await import(${JSON.stringify(join(kafkaDir, 'sink.ts'))});
    const { createEngine } = await import(${JSON.stringify(join(kafkaDir, 'engines/create.ts'))});
    const cfg = kafkaSink.validate({ brokers: ['127.0.0.1:9'], topic: 't', engine: ${JSON.stringify(engine)} }, 'sinks.k');
    createEngine(cfg, { onDisconnect() {}, debug() {} });
    process.stdout.write(JSON.stringify([...seen].sort()));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as string[];
}

test('engine platformatic: kafkajs, snappy and lz4-napi are never loaded', () => {
  const pkgs = packagesLoaded('platformatic');
  assert.ok(pkgs.includes('@platformatic/kafka'), `the configured engine is loaded (got ${pkgs.join(', ')})`);
  for (const other of ['kafkajs', 'snappy', 'lz4-napi']) assert.ok(!pkgs.includes(other), `${other} loaded on engine platformatic: ${pkgs.join(', ')}`);
});

test('engine platformatic with create_topic: the topic step uses the engine\'s own admin client, kafkajs is never loaded', () => {
  // The sink's connect runs create_topic first; nothing listens on port 9, so it fails after trying, which is all this needs.
  const probe = `${recordPackages}
    const { KafkaSink, kafkaSink } = await import(${JSON.stringify(join(kafkaDir, 'sink.ts'))});
    const { createRegistry } = await import(${JSON.stringify(fileURLToPath(new URL('../../../agent/observe/metrics.ts', import.meta.url)))});
    const { silentLogger } = await import(${JSON.stringify(fileURLToPath(new URL('../../../agent/observe/log.ts', import.meta.url)))});
    const cfg = kafkaSink.validate({ brokers: ['127.0.0.1:9'], topic: 't', engine: 'platformatic', create_topic: true,
      connect_timeout: '1s', request_timeout: '2s', client_retry: { retries: 2, initial_backoff: '10ms', max_backoff: '20ms' } }, 'sinks.k');
    const sink = new KafkaSink(cfg, { id: 'k', log: silentLogger, metrics: createRegistry(), agentId: 'a' });
    let failed = false;
    await sink.start().catch(() => { failed = true; });
    await sink.close().catch(() => {});
    process.stdout.write(JSON.stringify({ failed, pkgs: [...seen].sort() }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 60_000 })) as { failed: boolean; pkgs: string[] };
  assert.ok(out.failed, 'the connect to a closed port failed (create_topic ran and could not reach a broker)');
  assert.ok(out.pkgs.includes('@platformatic/kafka'), `the configured engine is loaded (got ${out.pkgs.join(', ')})`);
  assert.ok(!out.pkgs.includes('kafkajs'), `kafkajs loaded for create_topic on engine platformatic: ${out.pkgs.join(', ')}`);
});

test('engine kafkajs: @platformatic/kafka is never loaded, the codecs kafkajs needs are', () => {
  const pkgs = packagesLoaded('kafkajs');
  assert.ok(pkgs.includes('kafkajs'), `the configured engine is loaded (got ${pkgs.join(', ')})`);
  assert.ok(pkgs.includes('lz4-napi'), 'lz4 (the default codec) is registered with kafkajs');
  assert.ok(!pkgs.includes('@platformatic/kafka'), `@platformatic/kafka loaded on engine kafkajs: ${pkgs.join(', ')}`);
});

test('engine builtin: no Kafka client library is loaded (kafkajs, @platformatic/kafka, snappy, lz4-napi)', () => {
  const pkgs = packagesLoaded('builtin');
  for (const other of ['kafkajs', '@platformatic/kafka', 'snappy', 'lz4-napi']) assert.ok(!pkgs.includes(other), `${other} loaded on engine builtin: ${pkgs.join(', ')}`);
});

test('the sink modules import each other without a cycle (type imports included)', () => {
  const files = [...readdirSync(kafkaDir).map((f) => join(kafkaDir, f)), ...readdirSync(join(kafkaDir, 'engines')).map((f) => join(kafkaDir, 'engines', f)),
    ...readdirSync(join(kafkaDir, 'engines/builtin')).map((f) => join(kafkaDir, 'engines/builtin', f))]
    .filter((f) => f.endsWith('.ts'));
  const edges = new Map<string, string[]>();
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    const deps = [...src.matchAll(/^(?:import|export)\b[^;]*?from\s+'(\.[^']+)'/gms)].map((m) => resolve(dirname(f), m[1]!));
    edges.set(f, deps.filter((d) => files.includes(d)));
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') assert.fail(`import cycle: ${[...path.slice(path.indexOf(f)), f].map((p) => p.slice(kafkaDir.length)).join(' -> ')}`);
    state.set(f, 'open');
    for (const d of edges.get(f)!) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
});
