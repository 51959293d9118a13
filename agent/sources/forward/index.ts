// The `forward` source (relay role): agents' forward sinks connect here.
// Protocol: agent/forward/PROTOCOL.md.

import type { ComponentSpec, Source } from '../../core/component.ts';
import { forwardSourceDefaults, validateForwardSource, type ForwardSourceConfig } from './config.ts';
import { createForwardSource } from './source.ts';

export { ForwardSource } from './source.ts';
export type { ForwardSourceConfig } from './config.ts';

export const forwardSource: ComponentSpec<ForwardSourceConfig, Source> = {
  kind: 'source',
  type: 'forward',
  summary: 'relay side of the forward protocol: accepts agents, ACKs each batch only after Kafka acknowledged it',
  defaults: forwardSourceDefaults,
  validate: validateForwardSource,
  create: createForwardSource,
};
