// Settings a real deployment must replace. In the `production` profile synth
// refuses a placeholder (an example zone, a documentation CIDR, a release
// without its sha256) and names the key path, instead of failing later at
// plan (zone lookup), at boot (install) or never (edge CIDRs nobody uses).

import { ConfigError } from '../../agent/core/errors.ts';
import type { EdgelogInfraConfig } from '../config.ts';
import { isIpv4Cidr } from './net.ts';

/** RFC 5737 documentation ranges and the example/test domains (RFC 2606). */
const DOC_NETS = ['192.0.2.', '198.51.100.', '203.0.113.'];
const placeholderDomain = (name: string): boolean => /(^|\.)(example(\.(com|net|org))?|invalid|test|localhost)\.?$/i.test(name);
const docAddress = (ip: string): boolean => DOC_NETS.some((p) => ip.startsWith(p));

/** The example key committed in config.ts (its secret half is not kept anywhere). */
export const EXAMPLE_SIGNING_KEY = 'RWTsN7XZsXhxkn17BnGE4OszxDWnJ0+eqR9YWHMWZmMouhVsl0hyTFpN';

/** A minisign public key: base64 of "Ed" + 8-byte key id + 32-byte Ed25519 key. */
function minisignPublicKey(k: string): boolean {
  if (!/^[A-Za-z0-9+/]{56}$/.test(k)) return false;
  const raw = Buffer.from(k, 'base64');
  return raw.length === 42 && raw[0] === 0x45 && raw[1] === 0x64;
}

/** Every placeholder left in `cfg`, as [key path, what is expected, value]. */
export function placeholderSettings(cfg: EdgelogInfraConfig): [string, string, string][] {
  const bad: [string, string, string][] = [];
  if (placeholderDomain(cfg.dns.zoneName)) bad.push(['dns.zoneName', 'an existing public hosted zone, not an example domain', cfg.dns.zoneName]);
  let host = '';
  try { host = new URL(cfg.agent.artifactUrl).hostname; } catch { host = ''; }
  if (!host || placeholderDomain(host)) bad.push(['agent.artifactUrl', 'the release tarball URL relays download', cfg.agent.artifactUrl]);
  const sha = cfg.agent.artifactSha256 ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha) || /^0+$/.test(sha)) bad.push(['agent.artifactSha256', "the release tarball's sha256 (64 hex digits, the .sha256 beside it)", sha || '(unset)']);
  if (!minisignPublicKey(cfg.agent.signingPublicKey) || cfg.agent.signingPublicKey === EXAMPLE_SIGNING_KEY) {
    bad.push(['agent.signingPublicKey', "the release signer's minisign public key (base64, 42 bytes, starts RW)", cfg.agent.signingPublicKey]);
  }
  cfg.edgeCidrs.forEach((c, i) => {
    if (!isIpv4Cidr(c) || docAddress(c)) bad.push([`edgeCidrs.${i}`, "an edge site's egress range, not a documentation range", c]);
  });
  const ga = cfg.gcp.frontEndAddress;
  if (ga !== undefined && docAddress(ga)) bad.push(['gcp.frontEndAddress', "the gcp stack's ingest-ip output", ga]);
  return bad;
}

/** Throws ConfigError (exit 2 in the CLI, key path named) for the first placeholder in a production profile. */
export function checkDeploySettings(cfg: EdgelogInfraConfig): void {
  if (cfg.profile === 'demo') return;
  const first = placeholderSettings(cfg)[0];
  if (first) throw new ConfigError(first[0], `${first[1]} (profile ${cfg.profile})`, first[2]);
}
