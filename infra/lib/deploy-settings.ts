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

/** Every placeholder left in `cfg`, as [key path, what is expected, value]. */
export function placeholderSettings(cfg: EdgelogInfraConfig): [string, string, string][] {
  const bad: [string, string, string][] = [];
  if (placeholderDomain(cfg.dns.zoneName)) bad.push(['dns.zoneName', 'an existing public hosted zone, not an example domain', cfg.dns.zoneName]);
  let host = '';
  try { host = new URL(cfg.agent.artifactUrl).hostname; } catch { host = ''; }
  if (!host || placeholderDomain(host)) bad.push(['agent.artifactUrl', 'the release tarball URL relays download', cfg.agent.artifactUrl]);
  if (!/^[0-9a-f]{64}$/.test(cfg.agent.artifactSha256 ?? '')) bad.push(['agent.artifactSha256', "the release tarball's sha256 (64 hex digits)", cfg.agent.artifactSha256 ?? '(unset)']);
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
