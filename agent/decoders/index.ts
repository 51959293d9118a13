// Every decoder spec, for agent/registry.ts to register.
export { jsonDecoder } from './json/json.ts';
export { logfmtDecoder } from './logfmt.ts';
export { regexDecoder } from './regex.ts';
export { syslogDecoder } from './syslog.ts';
import { jsonDecoder } from './json/json.ts';
import { logfmtDecoder } from './logfmt.ts';
import { regexDecoder } from './regex.ts';
import { syslogDecoder } from './syslog.ts';
export const decoderSpecs = [jsonDecoder, logfmtDecoder, regexDecoder, syslogDecoder] as const;
