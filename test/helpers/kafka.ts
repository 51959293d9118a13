// Kafka for tests. `npm test` (test/run.ts) starts two shared clusters,
// regions A and B, and passes their bootstrap addresses in
// EDGELOG_TEST_KAFKA_A / EDGELOG_TEST_KAFKA_B. A test file run on its own
// (`node --test test/x/y.test.ts`) has no such variables: it gets a private
// cluster per region, started once per process and stopped when it exits.
// Tests on a shared cluster use uniqueTopic() so they never see each other's data.

import { consumeAll, createTopic, startKafkaCluster, type ConsumeOptions, type ConsumedMessage, type KafkaCluster } from '../../agent/embedded-kafka/cluster.ts';

export type Region = 'A' | 'B';

export interface TestKafka {
  bootstrap: string;
  /** Create a topic (no-op if it exists) and wait for its leaders. */
  createTopic(name: string, partitions?: number): Promise<void>;
  /** Read the topic from the beginning (see consumeAll in the harness). */
  consumeAll(topic: string, opts?: ConsumeOptions): Promise<ConsumedMessage[]>;
}

const privateClusters = new Map<Region, Promise<KafkaCluster>>();

export async function sharedKafka(region: Region = 'A'): Promise<TestKafka> {
  let bootstrap = process.env[`EDGELOG_TEST_KAFKA_${region}`];
  if (!bootstrap) {
    let p = privateClusters.get(region);
    if (!p) {
      // Stopped by the harness's exit handler (and its watchdog) when this process ends.
      p = startKafkaCluster({ name: `test-${region}` });
      privateClusters.set(region, p);
    }
    bootstrap = (await p).bootstrap;
  }
  const bs = bootstrap;
  return {
    bootstrap: bs,
    createTopic: (name, partitions = 1) => createTopic(bs, name, partitions),
    consumeAll: (topic, opts) => consumeAll(bs, topic, opts),
  };
}

let seq = 0;
/** A topic name no other test (or earlier run against the same cluster) uses. */
export function uniqueTopic(prefix: string): string {
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 100);
  return `${clean}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}
