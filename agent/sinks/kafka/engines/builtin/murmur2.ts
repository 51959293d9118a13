// Java's murmur2 as Kafka's DefaultPartitioner uses it (seed 0x9747b28c,
// m 0x5bd1e995, r 24), and toPositive (x & 0x7fffffff), so a keyed record
// lands on the partition the Java producer and kafkajs choose.

const M = 0x5bd1e995;

export function murmur2(key: Uint8Array): number {
  const len = key.length;
  let h = 0x9747b28c ^ len;
  const n4 = len & ~3;
  for (let i = 0; i < n4; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The tail bytes (Java's switch falls through 3 -> 2 -> 1).
  const tail = len & 3;
  if (tail === 3) h ^= key[n4 + 2]! << 16;
  if (tail >= 2) h ^= key[n4 + 1]! << 8;
  if (tail >= 1) { h ^= key[n4]!; h = Math.imul(h, M); }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

export const toPositive = (x: number): number => x & 0x7fffffff;

/** The partition of a keyed record among `partitions`. */
export const keyPartition = (key: Uint8Array, partitions: number): number => toPositive(murmur2(key)) % partitions;
