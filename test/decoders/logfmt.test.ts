import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogfmtDecoder, logfmtDecoder } from '../../agent/decoders/logfmt.ts';
import { makeCtx, metricValue, recs, view } from '../transforms/records.ts';

test('logfmt golden and malformed', async () => {
  const ctx = makeCtx('lf');
  try {
    const d = new LogfmtDecoder(logfmtDecoder.validate({}, 'decoders.lf'), ctx);
    const lines = [
      'time=2024-05-01T12:00:00.5Z level=warn msg="disk \\"sda\\" almost full" disk=sda used=91 debug service=api',
      'ts=1714564800 lvl=ERR message=boom trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7',
      'just words without pairs',
      'key="unterminated value',
    ];
    const out: ReturnType<typeof recs> = [];
    d.process(recs(lines), out);
    assert.deepEqual(out.map(view), [
      { body: 'disk "sda" almost full', time: '1714564800500000000', sev: 13, sevText: 'warn', attrs: { disk: 'sda', used: '91', debug: 'true', 'service.name': 'api' }, traceId: '', spanId: '' },
      { body: 'boom', time: '1714564800000000000', sev: 17, sevText: 'ERR', attrs: {}, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
      { body: 'just words without pairs', time: '0', sev: 0, sevText: '', attrs: null, traceId: '', spanId: '' },
      { body: 'key="unterminated value', time: '0', sev: 0, sevText: '', attrs: { key: 'unterminated value' }, traceId: '', spanId: '' },
    ]);
    assert.equal(await metricValue(ctx, 'edgelog_decoder_malformed_records_total', { component: 'lf', reason: 'no_pairs' }), 1);
  } finally { ctx.cleanup(); }
});
