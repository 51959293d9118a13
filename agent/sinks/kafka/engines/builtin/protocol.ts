// Request bodies and response decoders for the APIs and versions this engine
// speaks, all non-flexible versions (request header v1, response header v0):
//   ApiVersions v0, Metadata v4-v8, Produce v3-v8, InitProducerId v0-v1,
//   CreateTopics v2-v4, SaslHandshake v1, SaslAuthenticate v0-v1.
// Field layouts per version are facts of the Kafka protocol specification.

import { KafkaProtocolError } from './error-codes.ts';
import { type Reader, Writer } from './wire.ts';

export const Api = { Produce: 0, Metadata: 3, SaslHandshake: 17, ApiVersions: 18, CreateTopics: 19, InitProducerId: 22, SaslAuthenticate: 36 } as const;

/** Versions implemented here, per API key. */
export const implemented: Readonly<Record<number, readonly [number, number]>> = {
  [Api.Produce]: [3, 8],
  [Api.Metadata]: [4, 8],
  [Api.SaslHandshake]: [1, 1],
  [Api.ApiVersions]: [0, 0],
  [Api.CreateTopics]: [2, 4],
  [Api.InitProducerId]: [0, 1],
  [Api.SaslAuthenticate]: [0, 1],
};

const apiName: Record<number, string> = Object.fromEntries(Object.entries(Api).map(([k, v]) => [v, k]));

export type BrokerVersions = Map<number, [number, number]>;

/** ApiVersions v0 (empty request body). */
export function decodeApiVersions(r: Reader): BrokerVersions {
  const err = r.i16();
  const m: BrokerVersions = new Map();
  for (const [k, lo, hi] of r.array((x) => [x.i16(), x.i16(), x.i16()] as const)) m.set(k, [lo, hi]);
  if (err !== 0) throw new KafkaProtocolError(err, 'ApiVersions');
  return m;
}

/** The highest version of `api` both sides speak, or an UNSUPPORTED_VERSION error saying both ranges. */
export function pickVersion(api: number, broker: BrokerVersions): number {
  const [lo, hi] = implemented[api]!;
  const b = broker.get(api);
  if (!b) throw new KafkaProtocolError(35, `broker does not offer ${apiName[api]} (api key ${api})`);
  const v = Math.min(hi, b[1]);
  if (v < Math.max(lo, b[0])) throw new KafkaProtocolError(35, `${apiName[api]}: broker speaks v${b[0]}-v${b[1]}, engine builtin v${lo}-v${hi}`);
  return v;
}

// ---- Metadata v4-v8

export interface PartitionMeta { partition: number; leader: number; error: number }
export interface TopicMeta { name: string; error: number; internal: boolean; partitions: PartitionMeta[] }
export interface Metadata { brokers: Map<number, { host: string; port: number }>; topics: TopicMeta[] }

export function encodeMetadata(v: number, topics: string[], autoCreate: boolean): Buffer[] {
  const w = new Writer(64);
  w.i32(topics.length);
  for (const t of topics) w.str(t);
  w.bool(autoCreate);
  if (v >= 8) w.bool(false).bool(false);
  return [w.done()];
}

export function decodeMetadata(v: number, r: Reader): Metadata {
  r.i32(); // throttle_time_ms
  const brokers = new Map<number, { host: string; port: number }>();
  for (const b of r.array((x) => ({ id: x.i32(), host: x.str() ?? '', port: x.i32(), rack: x.str() }))) brokers.set(b.id, { host: b.host, port: b.port });
  r.str(); // cluster_id
  r.i32(); // controller_id
  const topics = r.array((x): TopicMeta => {
    const error = x.i16();
    const name = x.str() ?? '';
    const internal = x.bool();
    const partitions = x.array((y): PartitionMeta => {
      const pe = y.i16();
      const partition = y.i32();
      const leader = y.i32();
      if (v >= 7) y.i32(); // leader_epoch
      y.array((z) => z.i32()); // replicas
      y.array((z) => z.i32()); // isr
      if (v >= 5) y.array((z) => z.i32()); // offline replicas
      return { partition, leader, error: pe };
    });
    if (v >= 8) x.i32(); // topic_authorized_operations
    return { name, error, internal, partitions };
  });
  if (v >= 8) r.i32(); // cluster_authorized_operations
  return { brokers, topics };
}

// ---- Produce v3-v8

export interface PartitionRecords { partition: number; parts: Buffer[]; bytes: number }

/** Produce body for one topic: the batches' bytes stay in their own Buffers (header, compressed records). */
export function encodeProduce(acks: number, timeoutMs: number, topic: string, data: readonly PartitionRecords[]): Buffer[] {
  const w = new Writer(64 + topic.length);
  w.str(null).i16(acks).i32(timeoutMs).i32(1).str(topic).i32(data.length);
  const out: Buffer[] = [];
  let head = w;
  for (const d of data) {
    head.i32(d.partition).i32(d.bytes);
    out.push(head.done());
    out.push(...d.parts);
    head = new Writer(8);
  }
  if (data.length === 0) out.push(head.done());
  return out;
}

export interface PartitionResult { partition: number; error: number; message: string }

export function decodeProduce(v: number, r: Reader): PartitionResult[] {
  const out: PartitionResult[] = [];
  r.array((x) => {
    x.str(); // topic
    x.array((y) => {
      const partition = y.i32();
      const error = y.i16();
      y.i64(); // base_offset
      y.i64(); // log_append_time_ms
      if (v >= 5) y.i64(); // log_start_offset
      let message = '';
      if (v >= 8) {
        const recs = y.array((z) => { z.i32(); return z.str(); });
        message = y.str() ?? recs.filter(Boolean).join('; ');
      }
      out.push({ partition, error, message });
    });
  });
  r.i32(); // throttle_time_ms
  return out;
}

// ---- InitProducerId v0-v1

export function encodeInitProducerId(): Buffer[] {
  return [new Writer(8).str(null).i32(60_000).done()];
}

export function decodeInitProducerId(r: Reader): { producerId: bigint; epoch: number } {
  r.i32();
  const err = r.i16();
  const producerId = r.i64();
  const epoch = r.i16();
  if (err !== 0) throw new KafkaProtocolError(err, 'InitProducerId');
  return { producerId, epoch };
}

// ---- CreateTopics v2-v4

export interface CreateTopic { name: string; partitions: number; replicationFactor: number; configs: Record<string, string> }

export function encodeCreateTopics(t: CreateTopic, timeoutMs: number): Buffer[] {
  const w = new Writer(128);
  w.i32(1).str(t.name).i32(t.partitions).i16(t.replicationFactor).i32(0);
  const cfg = Object.entries(t.configs);
  w.i32(cfg.length);
  for (const [k, v] of cfg) w.str(k).str(v);
  w.i32(timeoutMs).bool(false);
  return [w.done()];
}

export function decodeCreateTopics(r: Reader): { name: string; error: number; message: string }[] {
  r.i32();
  return r.array((x) => ({ name: x.str() ?? '', error: x.i16(), message: x.str() ?? '' }));
}

// ---- SASL

export function encodeSaslHandshake(mechanism: string): Buffer[] {
  return [new Writer(32).str(mechanism).done()];
}

export function decodeSaslHandshake(r: Reader): { error: number; mechanisms: string[] } {
  const error = r.i16();
  return { error, mechanisms: r.array((x) => x.str() ?? '') };
}

export function encodeSaslAuthenticate(bytes: Buffer): Buffer[] {
  return [new Writer(bytes.length + 8).bytes(bytes).done()];
}

export function decodeSaslAuthenticate(r: Reader): Buffer {
  const err = r.i16();
  const msg = r.str();
  const bytes = r.bytes() ?? Buffer.alloc(0);
  if (err !== 0) throw new KafkaProtocolError(err, msg ?? 'SaslAuthenticate');
  return Buffer.from(bytes);
}
