// Public face of the file source: the component record and its config type.
export { fileSource, FileSource } from './source.ts';
export type { FileSourceConfig } from './config.ts';
export { fileSourceDefaults, validateFileSourceConfig } from './config.ts';
