// The component references list every option each spec has a default for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decoderSpecs } from '../../agent/decoders/index.ts';
import { transformSpecs } from '../../agent/transforms/index.ts';
import { knownFieldsDefaults } from '../../agent/decoders/fields.ts';

test('every option of every decoder and transform is documented', () => {
  const docs: [string, readonly { type: string; defaults: object }[]][] = [
    [new URL('../../agent/decoders/README.md', import.meta.url).pathname, decoderSpecs],
    [new URL('../../agent/transforms/README.md', import.meta.url).pathname, transformSpecs],
  ];
  for (const [path, specs] of docs) {
    const text = readFileSync(path, 'utf8');
    for (const spec of specs) {
      assert.ok(text.includes(`## \`${spec.type}\``), `${path}: section for ${spec.type}`);
      for (const key of Object.keys(spec.defaults)) {
        if (key === 'timeout_ms') continue; // documented as timeout / timeout_ms
        assert.ok(text.includes(`\`${key}\``), `${path}: option ${spec.type}.${key}`);
      }
    }
  }
});

test('an empty config validates to the documented defaults (regex and multiline need a pattern)', () => {
  for (const spec of [...decoderSpecs, ...transformSpecs]) {
    assert.equal(spec.kind, 'processor');
    if (spec.type === 'regex' || spec.type === 'multiline') {
      assert.throws(() => spec.validate({}, `x.${spec.type}`), /pattern/);
      continue;
    }
    assert.deepEqual(spec.validate({}, `x.${spec.type}`), spec.defaults, spec.type);
  }
  assert.deepEqual(Object.keys(knownFieldsDefaults).length, 7);
});
