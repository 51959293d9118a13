// The end of a file stream releases its held multiline group at once: a Java
// stack trace written as the last lines of a file is shipped as ONE record
// when the file is rotated away (rename + new file, or deleted) and drained,
// truncated (copytruncate), or when the source stops -- long before the
// multiline timeout (60 s here; every wait below gives up after 15 s).
// Real file source, real Pipeline with the multiline transform, a recording
// sink. While the group is held, the checkpoint stays at its first line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileSource } from '../../../agent/sources/file/source.ts';
import { makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';
import { multilinePipeline } from '../../transforms/multiline-pipeline.ts';

const loghubDirs = [new URL('../../../../shared/data/loghub', import.meta.url).pathname, '/work/shared/data/loghub'];
const loghub = loghubDirs.find((d) => existsSync(join(d, 'Hadoop_2k.log')));
const skip = loghub ? false : 'loghub samples not found (../shared/data/loghub)';

/** Lines of a loghub sample, CR stripped (read at test time; the samples are not copied into the repo). */
function sample(file: string): string[] {
  return readFileSync(join(loghub!, file), 'utf8').split(/\r?\n/).filter((l) => l !== '');
}

interface Trace { before: string[]; header: string; frames: string[]; after: string[] }

/**
 * A real exception header line from Hadoop_2k.log ("... DataStreamer
 * Exception"), the two real lines before it and two real lines after it
 * (for the next file), plus frames we wrote (the samples keep only the
 * header line of each exception).
 */
function hadoopTrace(): Trace {
  const ls = sample('Hadoop_2k.log');
  const at = ls.findIndex((l) => /DFSClient: DataStreamer Exception$/.test(l));
  assert.ok(at >= 2, 'Hadoop_2k.log has a DataStreamer Exception line');
  return {
    before: ls.slice(at - 2, at),
    header: ls[at]!,
    frames: [
      'java.io.IOException: Bad response ERROR for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743512_2731 from datanode 10.86.169.121:50010',
      '\tat org.apache.hadoop.hdfs.DFSOutputStream$DataStreamer$ResponseProcessor.run(DFSOutputStream.java:898)',
      'Caused by: java.net.SocketTimeoutException: 65000 millis timeout while waiting for channel to be ready for read',
      '\tat org.apache.hadoop.net.SocketIOWithTimeout.doIO(SocketIOWithTimeout.java:164)',
      '\tat org.apache.hadoop.hdfs.protocol.datatransfer.PipelineAck.readFields(PipelineAck.java:213)',
      '\t... 3 more',
    ],
    after: ls.slice(at + 1, at + 3),
  };
}

/** File source -> Pipeline(multiline java, 60 s timeout) -> recording sink. */
async function rig(t: { after(fn: () => unknown): void }, fileCfg: Record<string, unknown>) {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const { pipeline, ml, sink, cleanup } = multilinePipeline();
  const make = (): FileSource => makeSource(testConfig({ include: [log], ...fileCfg }), makeCtx(join(dir, 'data')), t);
  t.after(cleanup);
  return { dir, log, sink, ml, pipeline, make };
}

function readOffset(ckFile: string, streamId: string): number | undefined {
  if (!existsSync(ckFile)) return undefined;
  const cks = (JSON.parse(readFileSync(ckFile, 'utf8')) as { checkpoints: { stream_id: string; offset: number }[] }).checkpoints;
  return cks.find((c) => c.stream_id === streamId)?.offset;
}

const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');

/**
 * Writes the lines before the trace, then the trace as the file's last lines;
 * waits until the lines before it are delivered and the checkpoint sits at
 * the header (the held group is not acknowledged). Returns the stream id.
 */
async function writeTraceLast(r: Awaited<ReturnType<typeof rig>>, src: FileSource, tr: Trace): Promise<string> {
  writeFileSync(r.log, text(tr.before));
  await src.start(r.pipeline);
  // before[1] is held until a line that does not continue it arrives: the header.
  await waitFor(() => r.sink.sent.length >= 1, 'first line delivered');
  appendFileSync(r.log, text([tr.header, ...tr.frames]));
  await waitFor(() => r.sink.sent.length >= 2, 'second line delivered');
  assert.deepEqual(r.sink.bodies(), tr.before);
  assert.equal(r.ml.held, 1, 'the trace is held by multiline');
  const streamId = r.sink.sent[0]!.streamId;
  const headerOffset = Buffer.byteLength(text(tr.before));
  await waitFor(() => readOffset(src.checkpointFile, streamId) === headerOffset, 'checkpoint at the start of the held group');
  return streamId;
}

for (const how of ['rename', 'delete'] as const) {
  test(`${how} rotation: the trace at the end of the old file ships as one record before the multiline timeout`, { skip }, async (t) => {
    const tr = hadoopTrace();
    const r = await rig(t, { rotate_wait: '200ms' });
    const src = r.make();
    const oldId = await writeTraceLast(r, src, tr);
    if (how === 'rename') {
      renameSync(r.log, `${r.log}.1`);
      writeFileSync(r.log, text(tr.after));
    } else {
      unlinkSync(r.log);
    }
    const joined = [tr.header, ...tr.frames].join('\n');
    await waitFor(() => r.sink.bodies().includes(joined), 'the joined trace after the old file was drained and closed');
    if (how === 'rename') await waitFor(() => r.sink.bodies().includes(tr.after[0]!), 'the first line of the new file');
    const old = r.sink.sent.filter((s) => s.streamId === oldId).map((s) => s.body);
    assert.deepEqual(old, [...tr.before, joined], 'old stream: its lines in order, the trace whole and last');
    if (how === 'rename') {
      const fresh = r.sink.sent.filter((s) => s.streamId !== oldId);
      assert.deepEqual(fresh.map((s) => s.body), [tr.after[0]], 'new stream: its first line (the last one is held, nothing ends it)');
    }
    assert.equal(src.telemetry.counts.rotations >= 1, true);
    // Every line of the old file acknowledged: the joined record settled each line's group.
    await waitFor(() => src.inFlightGroups === (how === 'rename' ? 1 : 0), 'acks of the old file complete');
    await src.stop();
    if (how === 'rename') {
      // Stopping ends the new stream too: its held last line ships.
      await waitFor(() => r.sink.bodies().includes(tr.after[1]!), 'the held last line of the new file at stop');
    }
  });
}

test('copytruncate: the trace at the end of the old content ships as one record at the truncation', { skip }, async (t) => {
  const tr = hadoopTrace();
  const r = await rig(t, {});
  const src = r.make();
  const oldId = await writeTraceLast(r, src, tr);
  // copytruncate: copy away, truncate in place, the writer goes on (shorter content than before).
  writeFileSync(`${r.log}.1`, readFileSync(r.log));
  truncateSync(r.log, 0);
  appendFileSync(r.log, text(tr.after));
  const joined = [tr.header, ...tr.frames].join('\n');
  await waitFor(() => r.sink.bodies().includes(joined), 'the joined trace at the truncation');
  await waitFor(() => r.sink.bodies().includes(tr.after[0]!), 'the first line of the new content');
  assert.deepEqual(r.sink.sent.filter((s) => s.streamId === oldId).map((s) => s.body), [...tr.before, joined]);
  const fresh = r.sink.sent.filter((s) => s.streamId !== oldId);
  assert.deepEqual(fresh.map((s) => s.body), [tr.after[0]]);
  assert.ok(src.telemetry.counts.truncations >= 1);
});

test('source stop: the trace ends with an unterminated line; stop ships it whole before the pipeline flushes', { skip }, async (t) => {
  const tr = hadoopTrace();
  // idle_flush 60 s: the unterminated last frame is emitted only by stop.
  const r = await rig(t, { idle_flush: '60s' });
  const src = r.make();
  writeFileSync(r.log, text([tr.before[0]!]) + text([tr.header, ...tr.frames.slice(0, -1)]) + tr.frames.at(-1));
  await src.start(r.pipeline);
  await waitFor(() => r.sink.sent.length >= 1, 'the line before the trace');
  assert.deepEqual(r.sink.bodies(), [tr.before[0]]);
  assert.equal(r.ml.held, 1);
  await src.stop();
  // The pipeline is still running (no pipeline.stop, no flush): only the end of the stream can have released it.
  const joined = [tr.header, ...tr.frames].join('\n');
  await waitFor(() => r.sink.sent.length >= 2, 'the joined trace after source stop');
  assert.deepEqual(r.sink.bodies(), [tr.before[0], joined]);
  assert.equal(r.ml.held, 0);
  await src.drain(5000);
  const size = Buffer.byteLength(readFileSync(r.log));
  assert.equal(readOffset(src.checkpointFile, r.sink.sent[0]!.streamId), size, 'checkpoint at the end once the group is acknowledged');
});
