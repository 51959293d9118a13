// `npm run synth`: writes every stack to infra/cdktf.out (offline; policy
// checks run inside each stack's synth and fail it on a violation).

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, STACK_NAMES } from './app.ts';

const started = performance.now();
// The cdktf CLI (`cdktf deploy` in infra/, see cdktf.json) passes its output dir in CDKTF_OUTDIR.
const outdir = process.env.CDKTF_OUTDIR ?? join(dirname(fileURLToPath(import.meta.url)), 'cdktf.out');
const { app } = buildApp({ outdir });
app.synth();
const ms = Math.round(performance.now() - started);
process.stdout.write(`edgelog infra: synthesized ${STACK_NAMES.join(', ')} to ${outdir} in ${ms} ms\n`);
