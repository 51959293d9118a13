// `syslog` source: RFC 5424 and RFC 3164 messages over TCP (octet-counting or
// non-transparent framing, RFC 6587; optional TLS as in RFC 5425) or UDP
// (RFC 5426, one message per datagram). Parsing reuses the syslog decoder
// (agent/decoders/syslog.ts): PRI -> severity and facility, timestamp -> time,
// hostname/appname/proc_id/msg_id/structured data -> attributes, body = MSG.
// With `parse: false` the raw frame is the body (leave it to a decoder).
// A message that is not syslog is still delivered raw, counted as `unparsed`.

import type dgram from 'node:dgram';
import { AckGroup } from '../../core/ack.ts';
import { isIP } from 'node:net';
import type { ComponentContext, ComponentSpec, Downstream } from '../../core/component.ts';
import { ConfigError } from '../../core/errors.ts';
import { newRecord, type LogRecord } from '../../core/record.ts';
import { join } from '../../config/schema.ts';
import { choice, described, flag, type Infer, section, size, declaredComponent } from '../../config/declare.ts';
import { SyslogDecoder } from '../../decoders/syslog.ts';
import { listenAddress, netExposure, netFields, netRules, parseAddress } from '../net/config.ts';
import { warnIfExposed } from '../net/exposure.ts';
import { Delivery, openSpoolFor } from '../net/delivery.ts';
import { NetEvents, type NetStats } from '../net/events.ts';
import { NetListener, loadTls } from '../net/listener.ts';
import { spoolDir, type NetSource } from '../net/net-source.ts';
import { SyslogTcpFramer, type SyslogFraming } from './framer.ts';

const shared = netFields('tcp');

/** The syslog source's keys, declared once (agent/config/declare.ts): type, reader, defaults and its COMPONENTS.md rows. */
export const syslogSection = section({
  // Port 514 needs root; 5514 is the usual unprivileged stand-in. Loopback only unless configured otherwise.
  address: listenAddress('127.0.0.1:5514', 'where to listen (5514: the unprivileged stand-in for 514)'),
  // TCP: at-least-once needs a transport that can push back; UDP is opt-in.
  mode: choice('mode', ['tcp', 'udp'], 'tcp', 'transport; UDP cannot push back (overflow is dropped and counted) and takes no `tls`'),
  /** TCP only. rsyslog imtcp accepts both framings on one port, deciding per frame. */
  framing: choice<SyslogFraming>('framing', ['auto', 'octet_counting', 'non_transparent'], 'auto', 'TCP framing, decided per frame with `auto`'),
  /** Largest message; larger frames/datagrams are skipped and counted. syslog-ng log-msg-size default 65536 (UDP: the largest payload). */
  max_frame_bytes: size('max_frame_bytes', 65_536, 'largest message (UDP: default and maximum 65507)', 64),
  /** Parse the syslog header into severity, time and attributes; false = raw frame as body. */
  parse: flag('parse', true, 'parse the header into severity, time, attributes; `false`: the raw frame is the body'),
  // rsyslog and syslog-ng detect the format per message.
  format: choice('format', ['auto', '5424', '3164'], 'auto', 'accepted format, detected per message with `auto`'),
  ...shared,
  tls: described(shared.tls, 'as for `tcp` (not with `mode: udp`)'),
  max_buffer_bytes: described(shared.max_buffer_bytes, 'as for `tcp`; with UDP, the queue while a delivery is pending'),
}, (cfg, m, path) => {
  netRules(cfg, path);
  if (cfg.mode === 'udp' && (m.max_frame_bytes === undefined || m.max_frame_bytes === null)) cfg.max_frame_bytes = UDP_MAX_PAYLOAD;
  if (cfg.mode === 'udp' && cfg.tls) throw new ConfigError(join(path, 'tls'), 'no tls with mode udp (DTLS is not supported)');
  if (cfg.mode === 'udp' && cfg.max_frame_bytes > UDP_MAX_PAYLOAD) throw new ConfigError(join(path, 'max_frame_bytes'), 'at most 65507 with mode udp (largest UDP payload)', cfg.max_frame_bytes);
}, {
  // No DTLS: with mode udp, tls stays unset.
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, this object is never awaited
  if: { properties: { mode: { const: 'udp' } }, required: ['mode'] }, then: { properties: { tls: { type: 'null' }, max_frame_bytes: { anyOf: [{ type: 'integer', maximum: 65_507 }, { type: 'string' }] } } },
});

export type SyslogSourceConfig = Infer<typeof syslogSection>;
export const syslogDefaults: SyslogSourceConfig = syslogSection.defaults;

class SyslogSource implements NetSource {
  private readonly cfg: SyslogSourceConfig;
  private readonly ctx: ComponentContext;
  private readonly ev: NetEvents;
  private readonly decoder: SyslogDecoder | null;
  private listener: NetListener | null = null;
  private udp: UdpReceiver | null = null;
  private delivery: Delivery | null = null;
  address: { host: string; port: number } | null = null;

  constructor(cfg: SyslogSourceConfig, ctx: ComponentContext) {
    this.cfg = cfg;
    this.ctx = ctx;
    this.ev = new NetEvents(ctx.id, ctx.log, ctx.metrics);
    this.decoder = cfg.parse ? new SyslogDecoder({ format: cfg.format, body: 'message' }, ctx) : null;
  }

  get stats(): Readonly<NetStats> { return this.ev.stats; }

  /** One record per message, parsed unless parse is off. */
  readonly toRecord = (frame: Buffer, peer: string, streamId: string, offset: number, group: LogRecord['ack'], now: number): LogRecord => {
    const r = newRecord(frame, this.ctx.id, peer, streamId, offset, group, now);
    if (this.decoder) {
      this.decoder.decode(r, now);
      // The decoder leaves attributes null only when the message is not syslog.
      if (r.attributes === null) this.ev.malformed('unparsed', peer);
    }
    return r;
  };

  async start(out: Downstream): Promise<void> {
    const { cfg, ctx } = this;
    warnIfExposed(netExposure(cfg), `sources.${ctx.id}`, ctx.log);
    const tlsOpts = cfg.mode === 'tcp' ? loadTls(cfg, `sources.${ctx.id}`) : null;
    const spool = cfg.spool ? await openSpoolFor(cfg.spool, spoolDir(cfg.spool.dir, ctx), ctx.id, ctx.log, ctx.metrics) : null;
    this.delivery = new Delivery(out, spool, this.ev, ctx.log);
    try {
      if (cfg.mode === 'tcp') {
        this.listener = new NetListener(cfg, ctx.id, tlsOpts, {
          newFramer: (onMalformed) => new SyslogTcpFramer(cfg.max_frame_bytes, cfg.framing, onMalformed),
          toRecord: (frame, conn, offset, group) => this.toRecord(frame, conn.peer, conn.streamId, offset, group, Date.now()),
        }, this.delivery, this.ev, ctx.log);
        this.address = await this.listener.listen();
      } else {
        this.udp = new UdpReceiver(this, this.delivery, this.ev);
        this.address = await this.udp.listen();
      }
    } catch (e) {
      await this.delivery.abort();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await this.listener?.shutdown();
    await this.udp?.close();
    await this.delivery?.stopInput();
  }

  async drain(timeoutMs: number): Promise<void> {
    await this.delivery?.finish(timeoutMs);
  }

  get config(): SyslogSourceConfig { return this.cfg; }
  get id(): string { return this.ctx.id; }
}

/**
 * UDP cannot push back: datagrams are batched per event-loop turn and
 * delivered one batch at a time; while a delivery is pending they queue up to
 * max_buffer_bytes, beyond which they are dropped and counted (`overflow`).
 */
class UdpReceiver {
  private readonly src: SyslogSource;
  private readonly delivery: Delivery;
  private readonly ev: NetEvents;
  private socket: dgram.Socket | null = null;
  private queue: LogRecord[] = [];
  private queuedBytes = 0;
  private busy = false;
  private scheduled = false;
  private seq = 0;
  private streamId = '';
  private closing = false;

  constructor(src: SyslogSource, delivery: Delivery, ev: NetEvents) {
    this.src = src;
    this.delivery = delivery;
    this.ev = ev;
  }

  async listen(): Promise<{ host: string; port: number }> {
    const cfg = this.src.config;
    const { host, port } = parseAddress(cfg.address, 'address');
    // node:dgram is loaded by a UDP syslog listener only, not by every agent that imports this module.
    const sock = (process.getBuiltinModule('node:dgram') as typeof dgram).createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    this.socket = sock;
    sock.on('message', (msg, rinfo) => this.onMessage(msg, `${rinfo.address}:${rinfo.port}`));
    sock.on('error', () => { /* per-datagram errors (ICMP) are not fatal */ });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: host, port }, () => { sock.off('error', reject); resolve(); });
    });
    const a = sock.address();
    this.streamId = `${this.src.id}@udp:${a.address}:${a.port}~${Date.now()}`;
    return { host: a.address, port: a.port };
  }

  private onMessage(msg: Buffer, peer: string): void {
    if (this.closing) return;
    const offset = this.seq++;
    let end = msg.length;
    while (end > 0 && (msg[end - 1] === 10 || msg[end - 1] === 13 || msg[end - 1] === 0)) end--;
    if (end === 0) { this.ev.malformed('empty', peer); return; }
    if (end > this.src.config.max_frame_bytes) { this.ev.malformed('oversized', peer); return; }
    if (this.queuedBytes + end > this.src.config.max_buffer_bytes) { this.ev.malformed('overflow', peer); return; }
    this.queue.push(this.src.toRecord(end === msg.length ? msg : msg.subarray(0, end), peer, this.streamId, offset, noGroup, Date.now()));
    this.queuedBytes += end;
    if (!this.scheduled && !this.busy) { this.scheduled = true; setImmediate(() => this.flush()); }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.busy || this.queue.length === 0) return;
    const batch = this.queue;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    const group = this.delivery.group();
    for (const r of batch) r.ack = group;
    this.ev.read(batch.length, bytes);
    this.busy = true;
    this.delivery.deliver(batch, bytes, group).catch(() => {}).finally(() => {
      this.busy = false;
      this.flush();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const s = this.socket;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    this.flush();
  }
}

/** Largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP header bytes). */
const UDP_MAX_PAYLOAD = 65_507;

/** Placeholder until the batch's group is known at flush time. */
const noGroup = new AckGroup(0, () => {});

export const syslogSource: ComponentSpec<SyslogSourceConfig, NetSource> = declaredComponent(syslogSection, {
  kind: 'source',
  type: 'syslog',
  summary: 'Syslog (RFC 5424 and RFC 3164) over TCP (octet-counting or LF framing, optional TLS) or UDP, parsed into severity, time and attributes.',
  create(cfg: SyslogSourceConfig, ctx: ComponentContext): NetSource {
    return new SyslogSource(cfg, ctx);
  },
});
