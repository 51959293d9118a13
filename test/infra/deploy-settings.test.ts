// A production profile refuses placeholders at synth time and names the key
// path; the demo profile (config.ts as committed) synthesizes with them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildApp } from '../../infra/app.ts';
import { config, type EdgelogInfraConfig } from '../../infra/config.ts';
import { placeholderSettings } from '../../infra/lib/deploy-settings.ts';
import { ConfigError } from '../../agent/core/errors.ts';

const real: EdgelogInfraConfig = {
  ...config,
  profile: 'production',
  edgeCidrs: ['100.64.10.0/24'],
  agent: { version: '0.1.0', artifactUrl: 'https://releases.acme-logs.net/edgelog-0.1.0-linux-arm64.tar.gz', artifactSha256: 'a'.repeat(64), signingPublicKey: `RWQ${'A'.repeat(53)}` },
  dns: { zoneName: 'acme-logs.net', recordName: 'ingest.acme-logs.net', standbyRecordName: 'ingest-standby.acme-logs.net' },
  gcp: { ...config.gcp, frontEndAddress: '34.76.10.20' },
};

test('the committed config is the demo profile and lists its placeholders', () => {
  assert.equal(config.profile, 'demo');
  assert.deepEqual(placeholderSettings(config).map(([path]) => path),
    ['dns.zoneName', 'agent.artifactUrl', 'agent.artifactSha256', 'agent.signingPublicKey', 'edgeCidrs.0', 'edgeCidrs.1', 'gcp.frontEndAddress']);
});

test('production profile: each placeholder fails the synth with its key path', () => {
  assert.deepEqual(placeholderSettings(real), []);
  const cases: [string, Partial<EdgelogInfraConfig>][] = [
    ['dns.zoneName', { dns: { ...config.dns } }],
    ['agent.artifactUrl', { agent: { ...real.agent, artifactUrl: config.agent.artifactUrl } }],
    ['agent.artifactSha256', { agent: { ...real.agent, artifactSha256: config.agent.artifactSha256 } }],
    ['agent.signingPublicKey', { agent: { ...real.agent, signingPublicKey: config.agent.signingPublicKey } }],
    ['edgeCidrs.1', { edgeCidrs: ['100.64.10.0/24', '203.0.113.0/24'] }],
    ['gcp.frontEndAddress', { gcp: { ...config.gcp } }],
  ];
  for (const [path, over] of cases) {
    assert.throws(() => buildApp({ config: { ...real, ...over }, outdir: '/nonexistent/not-written' }),
      (e: unknown) => e instanceof ConfigError && e.path === path && /profile production/.test(e.message), path);
  }
});

test('the Route 53 checker list is the full ROUTE53_HEALTHCHECKS IPv4 set and fits one security group', () => {
  assert.equal(config.route53HealthCheckerCidrs.length, 17);
  assert.ok(config.route53HealthCheckerCidrs.includes('15.177.0.0/18'));
  // Default quota: 60 inbound rules per security group (one rule per CIDR here).
  assert.ok(config.route53HealthCheckerCidrs.length + config.edgeCidrs.length <= 60);
});
