import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { RegexDecoder, regexDecoder } from '../../agent/decoders/regex.ts';
import { makeCtx, metricValue, recs, view } from '../transforms/records.ts';

const loghub = ['../shared/data/loghub', '/work/shared/data/loghub'].find((d) => existsSync(`${d}/Hadoop_2k.log`));

// Hadoop / log4j layout as in the loghub sample.
const hadoop = {
  pattern: String.raw`^(?<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) (?<level>[A-Z]+) \[(?<thread>[^\]]*)\] (?<logger>[\w.$]+): (?<message>.*)$`,
  time_format: '%Y-%m-%d %H:%M:%S,%L',
  timezone: 'UTC',
};

test('regex golden: named groups to OTLP fields and attributes; no match kept and counted', async () => {
  const ctx = makeCtx('rx');
  try {
    const d = new RegexDecoder(regexDecoder.validate(hadoop, 'decoders.rx'), ctx);
    const out: ReturnType<typeof recs> = [];
    d.process(recs([
      '2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster',
      'no match here',
    ]), out);
    assert.deepEqual(view(out[0]!), { body: 'Created MRAppMaster', time: '1445191307978000000', sev: 9, sevText: 'INFO', attrs: { thread: 'main', logger: 'org.apache.hadoop.mapreduce.v2.app.MRAppMaster' }, traceId: '', spanId: '' });
    assert.deepEqual(view(out[1]!), { body: 'no match here', time: '0', sev: 0, sevText: '', attrs: null, traceId: '', spanId: '' });
    assert.equal(await metricValue(ctx, 'edgelog_decoder_malformed_records_total', { component: 'rx', reason: 'no_match' }), 1);
  } finally { ctx.cleanup(); }
});

test('regex on the loghub Hadoop sample: every line matches, times and levels parsed', { skip: loghub ? false : 'loghub samples not found' }, () => {
  const ctx = makeCtx('rx');
  try {
    const d = new RegexDecoder(regexDecoder.validate(hadoop, 'decoders.rx'), ctx);
    const lines = readFileSync(`${loghub}/Hadoop_2k.log`, 'utf8').split(/\r?\n/).filter((l) => l !== '');
    const out: ReturnType<typeof recs> = [];
    d.process(recs(lines), out);
    assert.equal(out.length, 2000);
    assert.ok(out.every((r) => r.timeUnixNano > 1_400_000_000_000_000_000n && r.severityNumber > 0));
    const levels = new Set(out.map((r) => r.severityText));
    assert.deepEqual([...levels].sort(), ['ERROR', 'FATAL', 'INFO', 'WARN']);
  } finally { ctx.cleanup(); }
});

test('Apache error log with %a %b-style format and body original', () => {
  const ctx = makeCtx('ap');
  try {
    const cfg = regexDecoder.validate({
      pattern: String.raw`^\[\w{3} (?<time>\w{3} \d{2} \d{2}:\d{2}:\d{2} \d{4})\] \[(?<level>\w+)\] (?<message>.*)$`,
      time_format: '%b %d %H:%M:%S %Y', body: 'original', timezone: '+01:00',
    }, 'decoders.ap');
    const d = new RegexDecoder(cfg, ctx);
    const out: ReturnType<typeof recs> = [];
    const line = '[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties';
    d.process(recs([line]), out);
    assert.deepEqual(view(out[0]!), { body: line, time: '1133668064000000000', sev: 10, sevText: 'notice', attrs: { message: 'workerEnv.init() ok /etc/httpd/conf/workers2.properties' }, traceId: '', spanId: '' });
  } finally { ctx.cleanup(); }
});

test('timezone local follows the host zone (checked in a child with TZ=America/New_York)', async () => {
  const { spawnSync } = await import('node:child_process');
  const code = `import { compileTimeFormat } from ${JSON.stringify(new URL('../../agent/decoders/time.ts', import.meta.url).href)};
    const p = compileTimeFormat('%Y-%m-%d %H:%M:%S', 'local');
    console.log(String(p('2024-07-01 12:00:00')), String(p('2024-01-15 12:00:00')), String(compileTimeFormat('%Y-%m-%d %H:%M:%S %z', 'local')('2024-07-01 12:00:00 +0000')));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, TZ: 'America/New_York' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [summer, winter, zoned] = r.stdout.trim().split(' ');
  assert.equal(summer, String(BigInt(Date.UTC(2024, 6, 1, 16)) * 1_000_000n), 'EDT is UTC-4');
  assert.equal(winter, String(BigInt(Date.UTC(2024, 0, 15, 17)) * 1_000_000n), 'EST is UTC-5');
  assert.equal(zoned, String(BigInt(Date.UTC(2024, 6, 1, 12)) * 1_000_000n), '%z wins over timezone');
});

test('regex config errors', () => {
  assert.throws(() => regexDecoder.validate({ pattern: '(?<a>x)', timezone: 'Mars/Base' }, 'd.rx'), /d\.rx\.timezone/);
  assert.throws(() => regexDecoder.validate({}, 'd.rx'), /d\.rx\.pattern/);
  assert.throws(() => regexDecoder.validate({ pattern: '(' }, 'd.rx'), /d\.rx\.pattern/);
  assert.throws(() => regexDecoder.validate({ pattern: 'no groups' }, 'd.rx'), /named group/);
  assert.throws(() => regexDecoder.validate({ pattern: '(?<a>x)', time_format: '%Q' }, 'd.rx'), /d\.rx\.time_format/);
});
