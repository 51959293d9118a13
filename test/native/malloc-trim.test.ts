// The idle trim's last step: glibc's malloc_trim(0) hands the C heap's free
// pages back to the kernel. A child process fills the heap below its top
// with native allocations, frees all but the topmost (so glibc's own trim
// from the top cannot release them), and mallocTrim() must give the pages
// back: resident memory drops by most of what was freed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tryLoadNative } from '../../agent/native/lib.ts';

const native = tryLoadNative();
const libcIsGlibc = process.report?.getReport ? Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime) : false;
const skip = native.error ? `native library not loadable: ${native.error.message}` : !libcIsGlibc ? 'not a glibc system (malloc_trim is a glibc function)' : undefined;

const child = `
  const { loadNative, mallocTrim } = await import(${JSON.stringify(fileURLToPath(new URL('../../agent/native/lib.ts', import.meta.url)))});
  const anonKb = () => Number(/Anonymous:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]);
  const { ffi } = loadNative();
  ffi.open({ library: 'libc', path: 'libc.so.6' });
  const D = ffi.DataType;
  const libc = (funcName, retType, paramsType, paramsValue) => ffi.load({ library: 'libc', funcName, retType, paramsType, paramsValue });
  mallocTrim(); // the first call also resolves the symbol (and trims): what follows is measured on a second
  const blocks = [];
  // 32 KiB each from malloc itself: under the 64 KiB mmap threshold the launchers set, so in the heap.
  for (let i = 0; i < 2000; i++) { const p = libc('malloc', D.External, [D.I64], [32 * 1024]); libc('memset', D.External, [D.External, D.I32, D.I64], [p, 1, 32 * 1024]); blocks.push(p); }
  for (let i = 0; i < blocks.length - 1; i++) libc('free', D.Void, [D.External], [blocks[i]]);
  const before = anonKb();
  const released = mallocTrim();
  const after = anonKb();
  console.log(JSON.stringify({ before, after, released }));
`;

test('mallocTrim gives the free pages of the C heap back (holes below a live top allocation)', { skip, timeout: 60_000 }, () => {
  const out = execFileSync(process.execPath, ['--input-type=commonjs', '-e', `(async () => { ${child} })()`], {
    encoding: 'utf8', timeout: 50_000, env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' },
  });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { before: number; after: number; released: boolean | null };
  assert.equal(r.released, true, 'malloc_trim reported memory released');
  // ~62 MB freed below the top; at least half of it must leave the process.
  assert.ok(r.before - r.after > 32 * 1024, `anonymous memory ${r.before} -> ${r.after} KiB`);
});

test('mallocTrim works in a process that never loaded the native library (an agent quiet from the start)', { skip: libcIsGlibc ? undefined : 'not a glibc system (malloc_trim is a glibc function)' }, () => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `const { mallocTrim } = await import(${JSON.stringify(fileURLToPath(new URL('../../agent/native/lib.ts', import.meta.url)))}); console.log(typeof mallocTrim());`], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(out.trim().split('\n').pop(), 'boolean');
});
