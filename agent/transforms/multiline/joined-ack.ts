// The acknowledgement of a joined multiline record. A group of N lines is
// shipped as one record, but each line was counted into its source's AckGroup
// on its own. The joined record carries a JoinedAck that, when the record is
// settled (delivered, dropped, rejected), settles every constituent line with
// the same status. Until then none of the lines is settled, so the file
// source's OrderedAcks cannot move its checkpoint past the start of an
// incomplete or unshipped group: a restart re-reads the whole group.
//
// It is an AckGroup subclass so the pipeline, encoders and sinks need no
// change (they call rec.ack.settle(1, status) as for any record). Consecutive
// lines from the same source chunk share an AckGroup; they are kept as one
// (group, count) pair, so a 200-line stack trace read in one chunk costs one
// settle call.

import { AckGroup } from '../../core/ack.ts';
import type { AckStatus } from '../../core/ack.ts';

const noop = (): void => {};

export class JoinedAck extends AckGroup {
  readonly parts: AckGroup[];
  readonly counts: number[];
  constructor(parts: AckGroup[], counts: number[]) {
    super(parts[0]!.token, noop);
    this.parts = parts;
    this.counts = counts;
    this.pending = 1;
    this.sealed = true;
  }
  override settle(n = 1, status: AckStatus = 'delivered'): void {
    if (this.pending - n < 0) throw new Error('JoinedAck settled more often than once');
    this.pending -= n;
    if (status === 'rejected' || (status === 'dropped' && this.status === 'delivered')) this.status = status;
    for (let i = 0; i < this.parts.length; i++) this.parts[i]!.settle(this.counts[i], status);
  }
  /** Lines this record stands for. */
  get lines(): number {
    let n = 0;
    for (let i = 0; i < this.counts.length; i++) n += this.counts[i]!;
    return n;
  }
}
