// The delivery core under mutation, each file with the test files that must
// notice a bug in it. Only tests that run without Kafka: a mutant run must be
// seconds, and these files' contracts are all exercised below the broker.

export interface Target {
  file: string;
  tests: string[];
  /** Files whose surviving mutants fail `npm run mutate` (issue 18: no survivors allowed). */
  strict?: boolean;
}

export const targets: Target[] = [
  { file: 'agent/core/ack.ts', tests: ['test/core/ack.test.ts', 'test/sources/file/checkpoint-hole.test.ts'], strict: true },
  { file: 'agent/sinks/failover/breaker.ts', tests: ['test/sinks/failover/breaker.test.ts', 'test/sinks/failover/failover-sink.test.ts'], strict: true },
  { file: 'agent/pipeline/spool/format.ts', tests: ['test/spool/format-damage.test.ts', 'test/spool/disk-spool.test.ts'], strict: true },
  { file: 'agent/pipeline/spool/replay.ts', tests: ['test/spool/replay.test.ts', 'test/spool/replay-contract.test.ts', 'test/spool/replay-push-bound.test.ts'] },
  { file: 'agent/sinks/failover/failover-sink.ts', tests: ['test/sinks/failover/failover-contract.test.ts', 'test/sinks/failover/failover-sink-contract.test.ts', 'test/sinks/failover/failover-sink.test.ts', 'test/sinks/failover/gray-budget.test.ts'] },
  { file: 'agent/sources/file/line-framer.ts', tests: ['test/sources/file/line-framer-model.test.ts', 'test/sources/file/line-framer.test.ts', 'test/sources/file/line-framer-consumed.test.ts'] },
  { file: 'agent/sources/file/checkpoint-store.ts', tests: ['test/sources/file/checkpoint-store.test.ts', 'test/sources/file/checkpoint.test.ts', 'test/sources/file/checkpoint-hole.test.ts'] },
  { file: 'agent/encoders/otlp/wire.ts', tests: ['test/encoders/otlp-wire.test.ts', 'test/encoders/otlp.test.ts', 'test/encoders/otlp-bytes.test.ts'] },
  // Reused message memory: a slab handed out twice would let one message overwrite another.
  { file: 'agent/encoders/otlp/value-pool.ts', tests: ['test/encoders/value-pool.test.ts'] },
  { file: 'agent/encoders/otlp/otlp-proto.ts', tests: ['test/encoders/otlp-time.test.ts', 'test/encoders/value-pool.test.ts', 'test/encoders/otlp.test.ts', 'test/encoders/otlp-bytes.test.ts', 'test/encoders/otlp-stream-identity.test.ts', 'test/encoders/otlp-runs.test.ts'] },
  // Records in columns: a wrong slice or count loses or duplicates lines; a slab reused early corrupts them.
  { file: 'agent/core/record-run.ts', tests: ['test/core/record-run.test.ts', 'test/encoders/otlp-runs.test.ts', 'test/sources/file/chunk-columns.test.ts', 'test/pipeline/columnar-lane.test.ts'] },
  { file: 'agent/sources/file/chunk-columns.ts', tests: ['test/sources/file/chunk-columns.test.ts'] },
  { file: 'agent/sources/file/chunk-slabs.ts', tests: ['test/sources/file/chunk-slabs.test.ts'] },
  {
    file: 'agent/sources/file/tailer.ts',
    // fastest first: a killed mutant stops at the first failing file
    tests: ['test/sources/file/tailer-deadlines.test.ts', 'test/sources/file/tailer-lifecycle.test.ts', 'test/sources/file/tailer-big-inode.test.ts', 'test/sources/file/line-endings.test.ts', 'test/sources/file/tailer-checkpoint-edges.test.ts', 'test/sources/file/checkpoint-hole.test.ts', 'test/sources/file/checkpoint.test.ts', 'test/sources/file/rotation.test.ts', 'test/sources/file/source.test.ts'],
  },
];
