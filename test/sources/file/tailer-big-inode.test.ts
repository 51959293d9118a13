// File identity with inode numbers above 2^53, as overlayfs with xino gives
// files of a lower layer (container images): the layer index sits in the high
// bits, e.g. 9223372036854775811 (Node's bigint stats, signed, show
// -9223372036854775805). A JavaScript number cannot hold that
// exactly, so identity compares must use bigint stats; with a number the
// tailer would take the file for a rotated one at every look, let it go and
// open it again forever. Needs root (mounts two tmpfs and an overlay).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defer, removeDir } from '../../helpers/cleanup.ts';
import { testConfig } from './helpers.ts';
import { Recorder, TestHost, openTailer, readToEof, steps } from './tailer-harness.ts';

const HOUR = 3_600_000;
const skip = process.getuid?.() !== 0 ? 'needs root (mounts an overlay)' : false;

function mount(args: string[]): void {
  execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

test('a file whose inode number is above 2^53 (overlayfs xino, lower layer) is not taken for a rotated one', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-big-inode-'));
  // Cleanup runs last-deferred first: the handle is closed, then the overlay and the tmpfs go, then the dir.
  defer(t, 'remove the temp dir', () => removeDir(dir));
  const lower = join(dir, 'lowerfs');
  const upper = join(dir, 'upperfs');
  const merged = join(dir, 'merged');
  for (const d of [lower, upper, merged]) mkdirSync(d);
  const mountAt = (args: string[], at: string) => {
    mount([...args, at]);
    defer(t, `unmount ${at}`, () => { try { execFileSync('umount', [at]); } catch { execFileSync('umount', ['-l', at]); } });
  };
  mountAt(['-t', 'tmpfs', `edgelog-lower-${process.pid}`], lower);
  mountAt(['-t', 'tmpfs', `edgelog-upper-${process.pid}`], upper);
  for (const d of [join(lower, 'l'), join(upper, 'u'), join(upper, 'w')]) mkdirSync(d);
  writeFileSync(join(lower, 'l', 'app.log'), 'from the image\n');
  try {
    mountAt(['-t', 'overlay', `edgelog-ovl-${process.pid}`, '-o', `lowerdir=${join(lower, 'l')},upperdir=${join(upper, 'u')},workdir=${join(upper, 'w')},xino=on`], merged);
  } catch (err) {
    t.skip(`kernel has no overlayfs with xino here: ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  const log = join(merged, 'app.log');
  const ino = statSync(log, { bigint: true }).ino;
  // Node's bigint stats are signed 64-bit: the high bit shows as a negative number.
  if (ino >= BigInt(Number.MIN_SAFE_INTEGER) && ino <= BigInt(Number.MAX_SAFE_INTEGER)) {
    t.skip(`kernel has no xino high inode bits here (inode ${ino})`);
    return;
  }

  const host = new TestHost(testConfig({ include: [log], glob_interval: HOUR, rotate_wait: 0 }), dir, new Recorder());
  const tailer = await openTailer(host, log);
  defer(t, 'let the file go', () => tailer.release('test end'));
  await readToEof(tailer);
  writeFileSync(log, 'written in the container\n', { flag: 'a' }); // copied up: same inode number
  await readToEof(tailer);
  assert.deepEqual(host.out.bodies(), ['from the image', 'written in the container']);
  assert.equal(await steps(tailer).atEof(), HOUR, 'the same file: nothing to do until the next look');
  assert.equal(host.telemetry.counts.rotations, 0);
  assert.equal(await steps(tailer).atEof(), HOUR);
  assert.deepEqual(host.releases, []);
  assert.ok(tailer.gen!.streamId.includes(`:${ino}:`), 'the stream id carries the exact inode number');
});
