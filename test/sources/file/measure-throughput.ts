// Not a test: a quick throughput figure for the file source alone (read,
// frame, build records, ack at once), on the Loghub samples repeated into
// temp files. Run: node test/sources/file/measure-throughput.ts [MB per file] [files]
// Cross-tool comparisons belong in bench/; this isolates the source.

import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeCtx, makeSource, testConfig } from './helpers.ts';
import type { LogRecord } from '../../../agent/core/record.ts';

const mbPerFile = Number(process.argv[2] ?? 100);
const nFiles = Number(process.argv[3] ?? 4);
const loghub = resolve(import.meta.dirname, '../../../../shared/data/loghub');
const sample = Buffer.concat(readdirSync(loghub).filter((f) => f.endsWith('_2k.log')).sort().map((f) => {
  const b = readFileSync(join(loghub, f));
  return b.at(-1) === 0x0a ? b : Buffer.concat([b, Buffer.from('\r\n')]);
}));
const dir = mkdtempSync(join(tmpdir(), 'edgelog-file-measure-'));
let totalBytes = 0;
for (let i = 0; i < nFiles; i++) {
  const fd = openSync(join(dir, `f${i}.log`), 'w');
  for (let w = 0; w < mbPerFile * 1e6; w += sample.length) { writeSync(fd, sample); totalBytes += sample.length; }
  closeSync(fd);
}
let lines = 0;
for (let i = 0; i < sample.length; i++) if (sample[i] === 0x0a) lines++;
const totalLines = lines * Math.ceil(mbPerFile * 1e6 / sample.length) * nFiles;

const src = makeSource(testConfig({ include: [join(dir, '*.log')], checkpoint_interval: '1s' }), makeCtx(join(dir, 'data')));
let n = 0;
const sink = { push: async (b: LogRecord[]) => { n += b.length; for (const r of b) r.ack.settle(1); } };
const t0 = process.hrtime.bigint();
await src.start(sink);
while (n < totalLines) await new Promise((r) => setTimeout(r, 5));
const s = Number(process.hrtime.bigint() - t0) / 1e9;
await src.stop();
await src.drain(1000);
const rss = process.memoryUsage().rss / 1e6;
console.log(`${nFiles} files, ${(totalBytes / 1e6).toFixed(0)} MB, ${totalLines} lines in ${s.toFixed(2)} s: ${(totalBytes / 1e6 / s).toFixed(0)} MB/s, ${(totalLines / s / 1e3).toFixed(0)}k lines/s, rss ${rss.toFixed(0)} MB`);
rmSync(dir, { recursive: true, force: true });
