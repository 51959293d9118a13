// An agent loads the components its config names and no others: the idle
// footprint (bench/idle-rss.ts) depends on it, and one static import of a
// component module from a shared one would quietly add megabytes. `edgelog
// run` starts with a file source on one named file and a Kafka sink (the
// broker unreachable: the agent waits for it), and a module hook records
// every module loaded. The forward source and sink, syslog, tcp, the
// transforms, the decoders, the other encoders, the guard, the worker pool,
// the OAuth token providers and the other Kafka engines must all be absent,
// and Node's glob must not be loaded for an include without wildcards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const mainTs = fileURLToPath(new URL('../../agent/cli/main.ts', import.meta.url));

const hook = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const urls = [];
registerHooks({ load(url, ctx, next) { urls.push(url); return next(url, ctx); } });
const out = process.env.LOADED_OUT;
setInterval(() => writeFileSync(out, JSON.stringify({ urls, builtins: process.moduleLoadList })), 100).unref();
`;

test('edgelog run loads only the configured components (file -> kafka)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-loaded-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'quiet.log');
  writeFileSync(input, '');
  writeFileSync(join(dir, 'hook.mjs'), hook);
  writeFileSync(join(dir, 'edgelog.yaml'), `agent: { id: t, data_dir: ${JSON.stringify(join(dir, 'state'))} }
observe: { log_format: json }
sources:
  app: { type: file, include: [${JSON.stringify(input)}] }
sinks:
  kafka: { type: kafka, brokers: ["127.0.0.1:1"], topic: t, encoding: { codec: otlp_proto } }
`);
  const out = join(dir, 'loaded.json');
  const child = spawn(process.execPath, ['--import', join(dir, 'hook.mjs'), mainTs, 'run', '--config', join(dir, 'edgelog.yaml'), '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOADED_OUT: out },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.after(async () => { child.kill('SIGKILL'); await exited; });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  // Started, and at least two scans of the include (glob_interval 1 s) later.
  const deadline = Date.now() + 60_000;
  while (!log.includes('agent started')) {
    if (child.exitCode !== null) assert.fail(`edgelog exited: ${log.slice(-2000)}`);
    if (Date.now() > deadline) assert.fail(`edgelog did not start within 60 s: ${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok(existsSync(out), 'the hook wrote the loaded modules');
  const { urls, builtins } = JSON.parse(readFileSync(out, 'utf8')) as { urls: string[]; builtins: string[] };
  const agentModules = urls.filter((u) => u.includes('/agent/')).map((u) => u.slice(u.indexOf('/agent/') + 1));
  // The configured ones are there (the hook sees the loads).
  for (const m of ['agent/sources/file/source.ts', 'agent/sinks/failover/kafka-clusters.ts', 'agent/encoders/otlp/otlp-proto.ts']) assert.ok(agentModules.includes(m), `${m} loaded`);
  const unwanted = [
    /^agent\/sources\/(forward|syslog|tcp|net)\//, /^agent\/sinks\/forward\//, /^agent\/forward\//, /^agent\/transforms\//, /^agent\/decoders\//,
    /^agent\/encoders\/(json|raw)\.ts$/, /^agent\/native\/(guard|capabilities|uring-sender)\.ts$/, /^agent\/pipeline\/workers\/shard-pool\.ts$/,
    /^agent\/sinks\/kafka\/oauth\/(aws-msk-iam|gcp-metadata|imds)\.ts$/, /^agent\/sinks\/kafka\/engines\/(kafkajs|platformatic)\.ts$/,
  ];
  assert.deepEqual(agentModules.filter((m) => unwanted.some((re) => re.test(m))), []);
  assert.deepEqual(builtins.filter((b) => /internal\/fs\/glob|minimatch|node:?worker_threads|NativeModule tls$/.test(b)), []);
});
