// What every tool under test offers the bench runner.

import type { BenchKafka } from '../kafka.ts';

export interface PeerRunOptions {
  kafka: BenchKafka;
  topic: string;
  /** The file the tool reads (kcat in latency mode: a FIFO). */
  input: string;
  /** Private temp dir for the config, pid file and state. */
  dir: string;
  mode: 'saturation' | 'latency';
  /** edgelog only: write a V8 CPU profile here. */
  cpuProfileDir?: string;
  /**
   * edgelog only: run the bench's probes (GC pauses, the memory split) inside
   * the process (default true). The idle measurement turns them off and starts
   * the plain CLI: the probes' own timer and smaps parsing are not the agent's.
   */
  probes?: boolean;
}

export interface PeerProcess {
  /** Pids whose CPU and memory count for the tool (the sampler also follows their children when asked). */
  readonly pids: number[];
  readonly expandChildren: boolean;
  /** The exact command line and config, for the report. */
  readonly command: string;
  readonly config: string;
  /** Records of the workload that are in Kafka now. */
  delivered(): Promise<number>;
  /** Resolves when the process exited by itself (kcat at EOF). */
  readonly exited: Promise<void>;
  /** Extra figures read before stop (edgelog: GC pause p99). */
  extra?(): Promise<Record<string, number>>;
  /** Graceful stop, then SIGKILL; idempotent. */
  stop(): Promise<void>;
}

export interface Peer {
  readonly name: string;
  /** How it writes to Kafka (shown in the table). */
  readonly encoding: string;
  /** Many records per Kafka message (OTLP LogsData): the runner decodes the topic to count them; otherwise one line per message. */
  readonly batched?: boolean;
  /** Delivery survives a crash of the tool (nothing acknowledged upstream is held only in memory). Shown in the results. */
  readonly atLeastOnce?: boolean;
  /** How often the runner asks delivered() during saturation (default 50 ms). */
  readonly pollMs?: number;
  /** Installs what is missing (idempotent); throws when it cannot. */
  ensureInstalled(log: (s: string) => void): Promise<void>;
  version(): string;
  start(o: PeerRunOptions): Promise<PeerProcess>;
  /** Decodes one Kafka message into the write times of the records it carries. */
  writeTimes(value: Buffer): number[];
}
