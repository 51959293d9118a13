// The at-least-once rule at its root: OrderedAcks.committed is the end of the
// longest prefix of completed chunks, after every single call, whatever order
// the chunks complete in; AckGroup settles each chunk exactly once. A seeded
// PRNG keeps a failing order reproducible (the seed is in the message).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckGroup, CompositeAck, OrderedAcks } from '../../agent/core/ack.ts';

/** mulberry32: small, seedable, good enough to shuffle. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** The reference: end of the longest completed prefix of `ends`, or `start`. */
function prefixEnd(start: number, ends: number[], done: Set<number>): number {
  let c = start;
  for (const e of ends) { if (!done.has(e)) break; c = e; }
  return c;
}

test('OrderedAcks: after every call committed is the end of the longest completed prefix (random orders)', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const rnd = prng(seed);
    const start = Math.floor(rnd() * 1000);
    // Up to 3000 chunks so the ends array is compacted (head > 1024) on many runs.
    const n = seed % 50 === 0 ? 2000 + Math.floor(rnd() * 1000) : 1 + Math.floor(rnd() * 60);
    const ends: number[] = [];
    let off = start;
    for (let i = 0; i < n; i++) { off += 1 + Math.floor(rnd() * 500); ends.push(off); }
    const acks = new OrderedAcks(start);
    assert.equal(acks.committed, start);
    // Chunks are registered as they are read, interleaved with completions of earlier ones.
    const order = shuffle([...ends], rnd);
    const pushed: number[] = [];
    const registered = new Set<number>();
    const done = new Set<number>();
    let nextPush = 0;
    const pending: number[] = [];
    while (done.size < n) {
      if (nextPush < n && (pending.length === 0 || rnd() < 0.5)) {
        acks.push(ends[nextPush]!);
        pushed.push(ends[nextPush]!);
        registered.add(ends[nextPush]!);
        nextPush++;
        // Eligible for completion only once registered: keep the shuffled order among them.
        pending.length = 0;
        for (const e of order) if (!done.has(e) && registered.has(e)) pending.push(e);
        continue;
      }
      const e = pending.shift()!;
      const before = acks.committed;
      done.add(e);
      const moved = acks.complete(e);
      const want = prefixEnd(start, pushed, done);
      assert.equal(acks.committed, want, `seed ${seed}: after completing ${e}`);
      assert.equal(moved, want !== before, `seed ${seed}: complete(${e}) reports whether committed moved`);
      assert.equal(acks.inFlight, pushed.filter((x) => x > want).length, `seed ${seed}: in flight after ${e}`);
    }
    assert.equal(acks.committed, ends.at(-1));
    assert.equal(acks.inFlight, 0);
  }
});

test('OrderedAcks: a later chunk completing never moves committed past a hole; the hole completing jumps to the prefix end', () => {
  const acks = new OrderedAcks(0);
  for (const e of [10, 20, 30, 40]) acks.push(e);
  assert.equal(acks.complete(30), false);
  assert.equal(acks.committed, 0);
  assert.equal(acks.complete(20), false);
  assert.equal(acks.committed, 0);
  assert.equal(acks.complete(10), true);
  assert.equal(acks.committed, 30);
  assert.equal(acks.inFlight, 1);
  assert.equal(acks.complete(40), true);
  assert.equal(acks.committed, 40);
  assert.equal(acks.inFlight, 0);
});

test('OrderedAcks: compaction after more than 1024 completed chunks keeps the order of what is still in flight', () => {
  const acks = new OrderedAcks(0);
  for (let i = 1; i <= 1100; i++) acks.push(i);
  for (let i = 1; i <= 1030; i++) assert.equal(acks.complete(i), true);
  assert.equal(acks.committed, 1030);
  assert.equal(acks.inFlight, 70);
  // A hole right after the compaction point still holds.
  assert.equal(acks.complete(1032), false);
  assert.equal(acks.committed, 1030);
  assert.equal(acks.complete(1031), true);
  assert.equal(acks.committed, 1032);
  assert.equal(acks.inFlight, 68);
});

test('AckGroup: fires once when sealed and every record settled; worst status wins; over-settling throws', () => {
  const fired: AckGroup[] = [];
  const g = new AckGroup(7, (x) => fired.push(x));
  assert.equal(g.sealed, false);
  assert.equal(g.pending, 0);
  assert.equal(g.status, 'delivered');
  g.add(3);
  g.settle(1);
  g.settle(1, 'dropped');
  assert.equal(fired.length, 0, 'not before the seal');
  g.seal();
  assert.equal(fired.length, 0, 'one record still pending');
  g.settle(1);
  assert.deepEqual(fired, [g]);
  assert.equal(g.status, 'dropped');
  assert.equal(g.token, 7);
  assert.equal(g.pending, 0);
  assert.throws(() => g.settle(1), /settled more often/);

  const r: AckGroup[] = [];
  const h = new AckGroup(1, (x) => r.push(x));
  h.add();
  h.add(2);
  assert.equal(h.pending, 3);
  h.settle(1, 'rejected');
  h.settle(1, 'dropped');
  assert.equal(h.status, 'rejected', 'a dropped record after a rejected one keeps rejected');
  h.settle(undefined, 'delivered'); // one record by default
  assert.equal(h.status, 'rejected');
  assert.equal(h.pending, 0);
  assert.equal(r.length, 0, 'unsealed: does not fire');
  h.seal();
  assert.equal(r.length, 1, 'sealing a fully settled group fires at once');

  const e: AckGroup[] = [];
  const empty = new AckGroup(2, (x) => e.push(x));
  empty.seal();
  assert.equal(e.length, 1, 'an empty group fires on seal');
  assert.equal(empty.status, 'delivered');
});

test('OrderedAcks: memory stays bounded on a long-running stream (completed chunks are not retained)', () => {
  const acks = new OrderedAcks(0);
  const internals = acks as unknown as { done: boolean[]; ends: number[] };
  // Out of order in pairs, so every end waits completed behind a hole once.
  for (let i = 1; i <= 100_000; i += 2) {
    acks.push(i);
    acks.push(i + 1);
    acks.complete(i + 1);
    acks.complete(i);
  }
  assert.equal(acks.committed, 100_000);
  assert.equal(acks.inFlight, 0);
  assert.equal(internals.done.length, internals.ends.length, 'one completion flag per chunk in flight');
  assert.ok(internals.ends.length <= 1025, `retained ends: ${internals.ends.length}`);
});

test('OrderedAcks: an end never pushed, or completed twice, moves nothing', () => {
  const acks = new OrderedAcks(0);
  acks.push(10);
  acks.push(20);
  acks.push(30);
  assert.equal(acks.complete(15), false, 'not a chunk end');
  assert.equal(acks.complete(35), false, 'past every chunk');
  assert.equal(acks.committed, 0);
  // 15 must not have marked the chunk ending at 20: completing 10 commits 10 only.
  assert.equal(acks.complete(10), true);
  assert.equal(acks.committed, 10);
  assert.equal(acks.complete(30), false);
  assert.equal(acks.complete(30), false, 'twice');
  assert.equal(acks.inFlight, 2);
  assert.equal(acks.complete(20), true);
  assert.equal(acks.committed, 30);
  assert.equal(acks.complete(10), false, 'already committed');
  assert.equal(acks.inFlight, 0);
});

test('CompositeAck: one settle settles every constituent with its count and the status; a second settle throws', () => {
  const done: string[] = [];
  const a = new AckGroup(100, () => done.push('a'));
  const b = new AckGroup(200, () => done.push('b'));
  a.add(3); a.seal();
  b.add(2); b.seal();
  const c = new CompositeAck([a, b], [3, 2]);
  assert.equal(c.token, 100, 'the first constituent token');
  assert.equal(c.pending, 1);
  assert.equal(c.sealed, true);
  assert.equal(c.lines, 5);
  assert.deepEqual(c.parts, [a, b]);
  assert.deepEqual(c.counts, [3, 2]);
  assert.deepEqual(done, []);
  c.settle(1, 'dropped');
  assert.equal(c.pending, 0);
  assert.equal(c.status, 'dropped');
  assert.deepEqual(done, ['a', 'b'], 'both constituents done, in order');
  assert.equal(a.pending, 0);
  assert.equal(b.pending, 0);
  assert.equal(a.status, 'dropped');
  assert.equal(b.status, 'dropped');
  assert.throws(() => c.settle(), /settled more often than once/);
});

test('CompositeAck: the default settle is one delivery; rejected outranks dropped; parts settle only their own count', () => {
  const a = new AckGroup(1, () => {});
  a.add(4); a.seal();
  const c = new CompositeAck([a], [2]);
  c.settle();
  assert.equal(c.status, 'delivered');
  assert.equal(a.pending, 2, 'only the 2 records this composite stands for');
  const r = new CompositeAck([a], [1]);
  r.settle(1, 'rejected');
  assert.equal(r.status, 'rejected');
  assert.equal(a.status, 'rejected');
  const d = new CompositeAck([a], [1]);
  d.status = 'rejected';
  d.settle(1, 'dropped');
  assert.equal(d.status, 'rejected', 'dropped does not overwrite rejected');
  assert.equal(a.pending, 0);
});

test('CompositeAck: eachPart flattens nested composites into (group, count) pairs in order', () => {
  const a = new AckGroup(1, () => {});
  const b = new AckGroup(2, () => {});
  const c = new AckGroup(3, () => {});
  const inner = new CompositeAck([b, c], [2, 5]);
  const outer = new CompositeAck([a, inner], [4, 1]);
  const seen: Array<[number, number]> = [];
  outer.eachPart(1, (g, n) => seen.push([g.token, n]));
  assert.deepEqual(seen, [[1, 4], [2, 2], [3, 5]]);
  assert.equal(outer.lines, 5);
  assert.equal(new CompositeAck([a, b, c], [7, 0, 3]).lines, 10);
});
