// Cross-stack references in the rehearsal copies. cdktf turns a reference
// from one stack to another into an output of the producer and a
// `terraform_remote_state` read in the consumer, so the consumer can only be
// planned once the producer's state exists. In the rehearsal some producer
// outputs no longer depend on anything applied: their resource was excluded
// and replaced by its stand-in literal (the primary's MSK cluster ARN, which
// the secondary's relay role names). Such a reference is replaced by the
// literal itself, which is exactly the value the consumer would read from the
// producer's state, and a remote-state read left with no reference is
// dropped. What remains are the real orderings (global needs both NLBs);
// everything else runs side by side.

type Json = Record<string, any>;

const REMOTE = 'cross-stack-reference-input-';

/** The output's value when it is a constant string (`"x"` or `"${\"x\"}"`), else undefined. */
function constantOutput(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (!value.includes('${')) return value;
  const m = /^\$\{("(?:[^"\\]|\\.)*")\}$/.exec(value);
  return m ? (JSON.parse(m[1]!) as string) : undefined;
}

/**
 * Rewrites the consumers in place (constant producer outputs inlined, unused
 * remote-state reads removed) and returns, per stack, the stacks whose state
 * it still reads.
 */
export function inlineConstantOutputs(stacks: Record<string, Json>): Record<string, string[]> {
  const needs: Record<string, string[]> = {};
  for (const [name, tf] of Object.entries(stacks)) {
    const reads = (tf.data?.terraform_remote_state ?? {}) as Record<string, Json>;
    const producers = Object.keys(reads).filter((k) => k.startsWith(REMOTE)).map((k) => k.slice(REMOTE.length));
    const ref = /data\.terraform_remote_state\.cross-stack-reference-input-([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g;
    const rewrite = (s: string): string =>
      s.replace(ref, (whole, producer: string, output: string) => {
        const v = constantOutput(stacks[producer]?.output?.[output]?.value);
        return v === undefined ? whole : JSON.stringify(v);
      });
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return v.includes('terraform_remote_state') ? rewrite(v) : v;
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    for (const section of ['resource', 'output', 'locals', 'ephemeral']) {
      if (tf[section]) tf[section] = walk(tf[section]);
    }
    const text = JSON.stringify({ ...tf, data: { ...tf.data, terraform_remote_state: undefined } });
    needs[name] = [];
    for (const producer of producers) {
      if (text.includes(`data.terraform_remote_state.${REMOTE}${producer}.`)) needs[name].push(producer);
      else delete reads[`${REMOTE}${producer}`];
    }
    if (tf.data?.terraform_remote_state && Object.keys(reads).length === 0) delete tf.data.terraform_remote_state;
    if (tf.data && Object.keys(tf.data).length === 0) delete tf.data;
  }
  return needs;
}
