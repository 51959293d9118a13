// Whether engine platformatic can run a config on this host, and the library
// itself, loaded on first use. A leaf module: the config validation asks it
// without importing the engine (or anything that imports config.ts back), so
// the sink's modules form no import cycle and only the configured engine's
// client is ever loaded.

import { createRequire } from 'node:module';

type PltModule = typeof import('@platformatic/kafka');

const require = createRequire(import.meta.url);
let lib: PltModule | string | undefined;

/** The library, or why it does not load here (not installed, too old a Node). */
export function loadPlatformatic(): PltModule | string {
  if (lib === undefined) {
    try {
      lib = require('@platformatic/kafka') as PltModule;
    } catch (e) {
      lib = `package @platformatic/kafka failed to load: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return lib;
}

/** Config SASL mechanism -> the library's name for it. */
export const saslNames: Readonly<Record<string, string>> = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512', oauthbearer: 'OAUTHBEARER' };

/** The part of a KafkaSinkConfig the check reads (declared here so this module imports nothing of the sink's). */
export interface PlatformaticNeeds {
  compression: string;
  idempotent: boolean;
  clientRetry: { retries: number };
  sasl: { readonly mechanism: string; readonly username?: string; readonly password?: string } | null | undefined;
}

/**
 * Options this engine cannot honour on this host, as { key, expected } for a
 * ConfigError (null: all fine). Checked at validate time, never at first send.
 */
export function platformaticUnsupported(cfg: PlatformaticNeeds, l: PltModule | string = loadPlatformatic()): { key: string; expected: string } | null {
  if (typeof l === 'string') return { key: 'engine', expected: `kafkajs (${l})` };
  const codec = (l.compressionsAlgorithms as Record<string, { available?: boolean } | undefined>)[cfg.compression];
  if (cfg.compression !== 'none' && (!codec || codec.available === false)) {
    return { key: 'compression', expected: `a codec engine platformatic supports on this host (${cfg.compression} is not available in @platformatic/kafka under Node ${process.version})` };
  }
  if (cfg.idempotent && cfg.clientRetry.retries < 2) {
    return { key: 'client_retry.retries', expected: 'at least 2 with engine platformatic and idempotent: true (the library turns 0 or 1 into unlimited retries, and a send to a dead cluster would never return)' };
  }
  if (cfg.sasl) {
    const mechs = l.allowedSASLMechanisms as readonly string[];
    const name = saslNames[cfg.sasl.mechanism];
    if (!name || !mechs.includes(name)) {
      return { key: 'sasl.mechanism', expected: `a SASL mechanism engine platformatic supports (${mechs.join(', ')})` };
    }
  }
  return null;
}
