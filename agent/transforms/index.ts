// Every transform spec (multiline included), for agent/registry.ts to register.
export { multiline } from './multiline/multiline.ts';
export { filter } from './filter.ts';
export { sample } from './sample.ts';
export { enrich } from './enrich.ts';
export { redact } from './redact.ts';
export { throttle } from './throttle.ts';
export { validate } from './validate.ts';
export { rename } from './rename.ts';
import { multiline } from './multiline/multiline.ts';
import { filter } from './filter.ts';
import { sample } from './sample.ts';
import { enrich } from './enrich.ts';
import { redact } from './redact.ts';
import { throttle } from './throttle.ts';
import { validate } from './validate.ts';
import { rename } from './rename.ts';
export const transformSpecs = [multiline, filter, sample, enrich, redact, throttle, validate, rename] as const;
