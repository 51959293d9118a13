// The encoders, for agent/registry.ts.
export { otlpProtoEncoder } from './otlp/otlp-proto.ts';
export { jsonEncoder } from './json.ts';
export { rawEncoder } from './raw.ts';
