// The tcp and syslog sources have no memory budget of their own to charge
// before reading (their frames are not compressed, so a byte read is a byte
// held): they are bounded by max_buffer_bytes (partial frames + batches not
// yet taken downstream) and the pipeline's buffer.max_bytes behind them. This
// floods both, over many connections, in a real agent process whose Kafka
// is unreachable, and checks that what the agent reads stops at those bounds
// however much more the senders offer, and that its RSS stays flat.
// (Loopback addresses here; the bound does not depend on the address, and
// an exposed listener is the same code behind the exposure check.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../agent/embedded-kafka/cluster.ts';
import { metricSum, startAgent } from '../helpers/agent-process.ts';
import { sleep, tempDir, waitFor } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

const CONNS_PER_SOURCE = 40;
const LINE = 200;
const OFFER_PER_CONN = 16 * 1024 * 1024; // 2 x 40 x 16 MiB = 1.25 GiB offered
const FLOOD_S = 10;
const MAX_BUFFER = 16 * 1024 * 1024; // the sources' max_buffer_bytes default
const PIPELINE_BUFFER = 8 * 1024 * 1024; // buffer.max_bytes default
const RSS_CEILING_MIB = 400;

function vm(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** A sender that writes lines as fast as the agent takes them, up to `total` bytes; returns what the kernel accepted so far. */
function flood(port: number, line: (i: number) => string, total: number): { sock: net.Socket; offered: () => number } {
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.on('error', () => {});
  let sent = 0;
  let i = 0;
  const chunk = () => {
    let s = '';
    while (s.length < 64 * 1024) s += line(i++);
    return s;
  };
  const pump = () => {
    while (sent < total && !sock.destroyed) {
      const c = chunk();
      sent += c.length;
      if (!sock.write(c)) { sock.once('drain', pump); return; }
    }
  };
  sock.once('connect', pump);
  return { sock, offered: () => sent };
}

test(`tcp and syslog floods from ${2 * CONNS_PER_SOURCE} connections with Kafka unreachable: reading stops at the buffer bounds, RSS stays under ${RSS_CEILING_MIB} MiB`, { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t, 'edgelog-net-flood-');
  const [tcpPort, syslogPort, deadKafka] = [await freePort(), await freePort(), await freePort()];
  const cfg = join(dir, 'edgelog.yaml');
  writeFileSync(cfg, `
agent:
  id: flood
  data_dir: ${JSON.stringify(join(dir, 'state'))}
  shutdown_timeout: 2s
observe:
  log_level: warn
sources:
  raw:
    type: tcp
    address: 127.0.0.1:${tcpPort}
  sys:
    type: syslog
    mode: tcp
    address: 127.0.0.1:${syslogPort}
sinks:
  kafka:
    type: kafka
    # nothing listens here: Kafka is down for the whole test
    brokers: [127.0.0.1:${deadKafka}]
    topic: flood
    retry: { max_backoff: 1s }
`);
  const agent = await startAgent(cfg);
  defer(t, 'kill the agent', () => agent.kill());
  const pid = agent.child.pid!;
  const idle = vm(pid, 'VmRSS');
  const senders = [
    ...Array.from({ length: CONNS_PER_SOURCE }, (_, c) => flood(tcpPort, (i) => `${`tcp conn=${c} seq=${i} `.padEnd(LINE - 1, 'x')}\n`, OFFER_PER_CONN)),
    ...Array.from({ length: CONNS_PER_SOURCE }, (_, c) => flood(syslogPort, (i) => `${`<134>1 2026-12-04T10:00:00Z host app ${c} ${i} - flood`.padEnd(LINE - 1, 'x')}\n`, OFFER_PER_CONN)),
  ];
  defer(t, 'close the senders', () => { for (const s of senders) s.sock.destroy(); });

  const readBytes = async () => metricSum(await agent.metrics(), 'edgelog_source_net_records_total') * LINE;
  // the pipeline's buffer fills first (nothing leaves: Kafka is down) ...
  await waitFor('the pipeline buffer is full', async () => (await readBytes()) >= PIPELINE_BUFFER, 60_000, 100);
  // ... then the flood goes on for a fixed time (the scenario, not a wait for a condition)
  await sleep(FLOOD_S * 1000);
  const read = await readBytes();
  const offered = senders.reduce((n, s) => n + s.offered(), 0);
  const hwm = vm(pid, 'VmHWM');
  const mib = (b: number) => (b / 1048576).toFixed(0);
  t.diagnostic(`offered ${mib(offered)} MiB (kernel-accepted), read ${mib(read)} MiB, agent RSS idle ${mib(idle)} MiB, VmHWM ${mib(hwm)} MiB`);
  // What may be read while nothing is delivered: each source's max_buffer_bytes (its cap pauses every
  // connection) plus one read of 64 KiB per connection in flight when the cap trips, and the
  // pipeline's buffer, which each source's pushes overshoot by at most one batch per connection.
  const bound = 2 * MAX_BUFFER + PIPELINE_BUFFER + 2 * 2 * CONNS_PER_SOURCE * 64 * 1024;
  assert.ok(read <= bound, `read ${mib(read)} MiB with Kafka down, bound ${mib(bound)} MiB`);
  assert.ok(offered > 2 * bound, `the senders offered more than the bound (${mib(offered)} MiB), so the bound is what stopped reading`);
  assert.ok(hwm <= RSS_CEILING_MIB * 1048576, `agent VmHWM ${mib(hwm)} MiB above ${RSS_CEILING_MIB} MiB`);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');
});
