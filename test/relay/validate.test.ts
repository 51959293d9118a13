// `edgelog validate` refuses network listeners that strangers could write to:
// a forward/tcp/syslog listener off loopback without TLS and authentication,
// unless the config says `insecure: true` on purpose. The message names the key path.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const mainTs = fileURLToPath(new URL('../../agent/cli/main.ts', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

function validate(t: import('node:test').TestContext, source: string): { code: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-validate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'edgelog.yaml');
  writeFileSync(file, `agent:\n  role: relay\nsources:\n  ingest:\n${source}\nsinks:\n  k:\n    type: kafka\n    brokers: ["127.0.0.1:9092"]\n`);
  const r = spawnSync(process.execPath, [mainTs, 'validate', '--config', file], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('validate refuses an unauthenticated public forward listener, naming the key path', (t) => {
  const r = validate(t, '    type: forward\n    listen: 0.0.0.0:24240');
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /sources\.ingest\.listen: expected a loopback address, or tls and auth/);
  // TLS alone is not enough: anyone could still claim any agent id
  const tlsOnly = validate(t, '    type: forward\n    listen: 0.0.0.0:24240\n    tls: { cert_file: /x.pem, key_file: /x.key }');
  assert.equal(tlsOnly.code, 2, tlsOnly.out);
  assert.match(tlsOnly.out, /sources\.ingest\.listen: expected a loopback address, or auth/);
});

test('validate refuses public tcp and syslog listeners without TLS client authentication', (t) => {
  const tcp = validate(t, '    type: tcp\n    address: 0.0.0.0:5170');
  assert.equal(tcp.code, 2, tcp.out);
  assert.match(tcp.out, /sources\.ingest\.address: expected a loopback address, or tls and tls\.verify_client/);
  const udp = validate(t, '    type: syslog\n    mode: udp\n    address: 0.0.0.0:514');
  assert.equal(udp.code, 2, udp.out);
  assert.match(udp.out, /sources\.ingest\.address/);
});

test('validate accepts loopback, TLS + auth, and an explicit insecure: true', (t) => {
  for (const src of [
    '    type: forward\n    listen: 127.0.0.1:24240',
    '    type: forward\n    listen: 0.0.0.0:24240\n    tls: { cert_file: /x.pem, key_file: /x.key }\n    auth: { secrets_file: /x.secrets }',
    '    type: forward\n    listen: 0.0.0.0:24240\n    insecure: true',
    '    type: tcp\n    address: 0.0.0.0:5170\n    insecure: true',
  ]) {
    const r = validate(t, src);
    assert.equal(r.code, 0, `${src}\n${r.out}`);
  }
});

test('the installed relay defaults validate (TLS + auth on the public listener)', () => {
  const r = spawnSync(process.execPath, [mainTs, 'validate', '--config', join(repo, 'agent/install/defaults/relay.yaml')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
