// `tcp` source: newline-delimited lines over TCP, optionally TLS. One record
// per line (body = the line's bytes, LF removed, and one CR before it unless
// strip_cr is off: the same lines the file source makes of the same bytes), stream
// = peer ip:port, streamId = listener + peer + accept time, offset = byte
// position of the line in the connection. Peers cannot replay, so records go
// through the disk spool when `spool` is set, else straight downstream with
// the sockets paused while the pipeline is full.

import type { ComponentContext, ComponentSpec, Downstream } from '../../core/component.ts';
import { newRecord } from '../../core/record.ts';
import { flag, type Infer, section, size, declaredComponent } from '../../config/declare.ts';
import { listenAddress, netExposure, netFields, netRules } from '../net/config.ts';
import { warnIfExposed } from '../net/exposure.ts';
import { Delivery, openSpoolFor } from '../net/delivery.ts';
import { NetEvents, type NetStats } from '../net/events.ts';
import { LineFramer } from '../net/framer.ts';
import { NetListener, loadTls } from '../net/listener.ts';
import { spoolDir, type NetSource } from '../net/net-source.ts';

export type { NetSource };

/** The tcp source's keys, declared once (agent/config/declare.ts): type, reader, defaults and its COMPONENTS.md rows. */
export const tcpSection = section({
  // Fluent Bit's tcp input listens on 5170 by default; loopback only unless configured otherwise.
  address: listenAddress('127.0.0.1:5170', 'where to listen (`[v6]:port` for IPv6; port 0 picks a free one)'),
  // Vector socket source max_length 102400.
  max_line_bytes: size('max_line_bytes', 102_400, 'longer lines are skipped to their newline and counted (`oversized`)', 1),
  // On, as the file source: the same bytes make the same records whichever
  // way they arrive, and a CRLF sender (Windows hosts, many network devices)
  // does not leave a stray \r at the end of every body. (Vector's
  // newline_delimited framing keeps the CR; Fluent Bit's tcp input strips it.)
  strip_cr: flag('strip_cr', true, 'remove one CR before the LF (CRLF senders), as the file source does; `false` keeps it in the body'),
  ...netFields(),
}, (cfg, _m, path) => netRules(cfg, path));

export type TcpSourceConfig = Infer<typeof tcpSection>;
export const tcpDefaults: TcpSourceConfig = tcpSection.defaults;

class TcpSource implements NetSource {
  private readonly cfg: TcpSourceConfig;
  private readonly ctx: ComponentContext;
  private readonly ev: NetEvents;
  private listener: NetListener | null = null;
  private delivery: Delivery | null = null;
  address: { host: string; port: number } | null = null;

  constructor(cfg: TcpSourceConfig, ctx: ComponentContext) {
    this.cfg = cfg;
    this.ctx = ctx;
    this.ev = new NetEvents(ctx.id, ctx.log, ctx.metrics);
  }

  get stats(): Readonly<NetStats> { return this.ev.stats; }

  async start(out: Downstream): Promise<void> {
    const { cfg, ctx } = this;
    warnIfExposed(netExposure(cfg), `sources.${ctx.id}`, ctx.log);
    const tlsOpts = loadTls(cfg, `sources.${ctx.id}`);
    const spool = cfg.spool ? await openSpoolFor(cfg.spool, spoolDir(cfg.spool.dir, ctx), ctx.id, ctx.log, ctx.metrics) : null;
    this.delivery = new Delivery(out, spool, this.ev, ctx.log);
    const source = ctx.id;
    this.listener = new NetListener(cfg, ctx.id, tlsOpts, {
      newFramer: (onMalformed) => new LineFramer(cfg.max_line_bytes, cfg.strip_cr, onMalformed),
      toRecord: (frame, conn, offset, group) => newRecord(frame, source, conn.peer, conn.streamId, offset, group),
    }, this.delivery, this.ev, ctx.log);
    try {
      this.address = await this.listener.listen();
    } catch (e) {
      await this.delivery.abort();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await this.listener?.shutdown();
    await this.delivery?.stopInput();
  }

  async drain(timeoutMs: number): Promise<void> {
    await this.delivery?.finish(timeoutMs);
  }
}

export const tcpSource: ComponentSpec<TcpSourceConfig, NetSource> = declaredComponent(tcpSection, {
  kind: 'source',
  type: 'tcp',
  summary: 'Newline-delimited lines over TCP (optional TLS), with connection limits, slowloris timeouts and an optional disk spool.',
  create(cfg: TcpSourceConfig, ctx: ComponentContext): NetSource {
    return new TcpSource(cfg, ctx);
  },
});
