// Runs inside a test's network namespace (`ip netns exec NS node netns-peer.ts MODE`).
//   guard: the guarded side. Reads JSON commands on stdin, one per line, answers
//          one JSON line each: open/attach/apply/counters/listen/received/detach/close.
//   send:  `send SRC DST PORT COUNT SIZE` sends COUNT UDP datagrams of SIZE bytes
//          from SRC as fast as possible, prints {"sent":n,"elapsedMs":t}.
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { Registry } from '../../../agent/observe/prometheus.ts';
import { GuardController } from '../../../agent/native/guard.ts';

const mode = process.argv[2];

if (mode === 'send') {
  const [src, dst, port, count, size] = process.argv.slice(3);
  const sock = dgram.createSocket(src.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => sock.bind(0, src, r));
  const payload = Buffer.alloc(Number(size), 0x61);
  const t0 = performance.now();
  let sent = 0;
  // bounded burst, a few in flight at a time so the socket never drops locally
  const total = Number(count);
  await new Promise<void>((resolve) => {
    const next = (): void => {
      if (sent >= total) { resolve(); return; }
      sock.send(payload, Number(port), dst, (err) => { if (!err) sent++; else sent = total; next(); });
    };
    next();
  });
  const elapsedMs = performance.now() - t0;
  sock.close();
  process.stdout.write(JSON.stringify({ sent, elapsedMs }) + '\n');
} else if (mode === 'guard') {
  let guard: GuardController | undefined;
  const rxs: dgram.Socket[] = [];
  let received = 0;
  let lastRxNs = 0n;
  const rl = createInterface({ input: process.stdin });
  const reply = (v: unknown): void => { process.stdout.write(JSON.stringify(v) + '\n'); };
  for await (const line of rl) {
    let cmd: { op: string; [k: string]: unknown };
    try { cmd = JSON.parse(line); } catch { continue; }
    try {
      switch (cmd.op) {
        case 'open': guard = GuardController.open(String(cmd.ifname), { pinRoot: cmd.pinRoot as string | undefined }); reply({ ok: true }); break;
        case 'attach': guard!.attach(); reply({ ok: true }); break;
        case 'apply': {
          const t0 = process.hrtime.bigint();
          const result = guard!.applyRules(cmd.rules as never);
          const t1 = process.hrtime.bigint();
          reply({ ok: true, result, startNs: String(t0), endNs: String(t1) });
          break;
        }
        case 'applyUntilDrop': {
          // bench: add rules, then poll the rule counters until the named rule dropped a packet
          const t0 = process.hrtime.bigint();
          guard!.applyRules(cmd.rules as never);
          const t1 = process.hrtime.bigint();
          let t2 = 0n;
          while (process.hrtime.bigint() - t0 < 2_000_000_000n) {
            const r = guard!.counters().rules.find((x) => x.cidr === cmd.cidr);
            if (r && r.packets > 0) { t2 = process.hrtime.bigint(); break; }
          }
          reply({ ok: true, applyNs: String(t1 - t0), firstDropNs: t2 ? String(t2 - t0) : null });
          break;
        }
        case 'stats': {
          // for the bench: receiver-side view of a flood (this process stands in for the agent)
          const cpu = process.cpuUsage();
          reply({ ok: true, received, lastRxNs: String(lastRxNs), nowNs: String(process.hrtime.bigint()), cpuUs: cpu.user + cpu.system });
          break;
        }
        case 'metrics': {
          const reg = new Registry();
          guard!.registerMetrics(reg);
          guard!.registerMetrics(reg);
          reply({ ok: true, text: await reg.metrics() });
          break;
        }
        case 'counters': reply({ ok: true, counters: guard!.counters() }); break;
        case 'detach': guard!.detach(); reply({ ok: true }); break;
        case 'close': guard?.close(); guard = undefined; reply({ ok: true }); break;
        case 'listen': {
          const rx = dgram.createSocket({ type: String(cmd.addr).includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
          rx.on('message', () => { received++; lastRxNs = process.hrtime.bigint(); });
          await new Promise<void>((r) => rx.bind(Number(cmd.port ?? 0), String(cmd.addr), r));
          rxs.push(rx);
          reply({ ok: true, port: rx.address().port });
          break;
        }
        case 'received': {
          // let queued datagrams land: wait until the count reaches `expect` (when given)
          // and stops changing for 150 ms, at most 5 s (a loaded CI machine is slow to drain)
          const expect = cmd.expect === undefined ? 0 : Number(cmd.expect);
          const t0 = Date.now();
          let last = -1, stable = 0;
          while (Date.now() - t0 < 5000) {
            await new Promise((r) => setTimeout(r, 50));
            stable = received === last ? stable + 1 : 0;
            last = received;
            if (received >= expect && stable >= 3) break;
          }
          reply({ ok: true, received });
          received = 0;
          break;
        }
        case 'exit': guard?.close(); for (const r of rxs) r.close(); reply({ ok: true }); process.exit(0);
        default: reply({ ok: false, error: `unknown op ${cmd.op}` });
      }
    } catch (err) {
      reply({ ok: false, error: (err as Error).message, code: (err as { code?: string }).code });
    }
  }
  guard?.close();
  for (const r of rxs) r.close();
}
