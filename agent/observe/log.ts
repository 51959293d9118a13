// Structured logs: one JSON object per line on stderr (or logfmt-ish text when
// a person is watching). Secrets never reach here: config values are not
// logged, only key paths.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: Level;
  format?: 'json' | 'text';
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}, base: Record<string, unknown> = {}): Logger {
  const min = order[opts.level ?? (process.env.EDGELOG_LOG_LEVEL as Level | undefined) ?? 'info'] ?? 20;
  const format = opts.format ?? (process.env.EDGELOG_LOG_FORMAT === 'text' ? 'text' : 'json');
  const write = opts.write ?? ((line: string) => { process.stderr.write(line + '\n'); });
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (order[level] < min) return;
    const rec: Record<string, unknown> = { ts: new Date().toISOString(), level, msg, ...base, ...fields };
    if (format === 'json') {
      write(JSON.stringify(rec, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: string }).code } : v)));
    } else {
      const rest = Object.entries({ ...base, ...fields }).map(([k, v]) => `${k}=${v instanceof Error ? v.message : typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
      write(`${rec.ts} ${level.toUpperCase().padEnd(5)} ${msg}${rest ? ' ' + rest : ''}`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (f) => createLogger(opts, { ...base, ...f }),
  };
}

export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {}, child() { return silentLogger; },
};
