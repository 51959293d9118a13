// Replays a spool of serialized LogRecords into a Downstream, in order. Each
// read batch becomes one AckGroup; when every record of it settles (delivered
// or deliberately dropped) the spool's ack pointer moves past the batch and
// whole segments behind it are deleted. The pipeline uses this behind network
// sources and when no region can take data.

import { AckGroup } from '../../core/ack.ts';
import type { Downstream } from '../../core/component.ts';
import type { LogRecord } from '../../core/record.ts';
import { silentLogger, type Logger } from '../../observe/log.ts';
import type { DiskSpool } from './disk-spool.ts';
import { deserializeRecord } from './record-codec.ts';

export interface ReplayOptions {
  /** Records per pushed batch. */
  batchRecords?: number;
  batchBytes?: number;
  log?: Logger;
  /** Called for a spooled payload that does not decode (it is acked and skipped). */
  onUndecodable?: (err: unknown) => void;
}

export class SpoolReplayer {
  private readonly spool: DiskSpool;
  private readonly out: Downstream;
  private readonly batchRecords: number;
  private readonly batchBytes: number;
  private readonly log: Logger;
  private readonly onUndecodable: (err: unknown) => void;
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeStop: (() => void) | null = null;

  constructor(spool: DiskSpool, out: Downstream, opts: ReplayOptions = {}) {
    this.spool = spool;
    this.out = out;
    // Our choice: 512 records / 1 MiB per push, the order of one Kafka producer batch.
    this.batchRecords = opts.batchRecords ?? 512;
    this.batchBytes = opts.batchBytes ?? 1024 * 1024;
    this.log = opts.log ?? silentLogger;
    this.onUndecodable = opts.onUndecodable ?? (() => {});
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((e: unknown) => {
      this.log.error('spool replay stopped on error', { err: e });
    });
  }

  private async run(): Promise<void> {
    const stopped = new Promise<void>((r) => { this.wakeStop = r; });
    while (this.running && !this.spool.isClosed) {
      await Promise.race([this.spool.readable(), stopped]);
      if (!this.running) break;
      const batch = await this.spool.read(this.batchRecords, this.batchBytes);
      if (!batch) continue;
      const group = new AckGroup(batch.id, (g) => this.spool.ack(g.token));
      const records: LogRecord[] = [];
      for (const p of batch.payloads) {
        try {
          records.push(deserializeRecord(p, group));
        } catch (e) {
          this.onUndecodable(e);
        }
      }
      group.add(records.length);
      group.seal();
      if (records.length > 0) await this.out.push(records);
    }
  }

  /** Stop pushing (records already pushed keep settling into the spool). */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeStop?.();
    await this.loop;
  }

  /** Resolves true once everything spooled so far is acked, false on timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.spool.unacked > 0 && !this.spool.isClosed) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.spool.unacked === 0;
  }
}
