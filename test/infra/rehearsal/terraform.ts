// Terraform for the deploy rehearsal: the machine's terraform binary, the
// hashicorp/aws provider from a local filesystem mirror (a CLI config whose
// provider_installation allows nothing else, so nothing comes from the
// internet), and the test-only endpoint override.

import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Directories that may hold `registry.terraform.io/hashicorp/aws` (EDGELOG_TF_MIRROR first). */
const MIRROR_CANDIDATES = [
  process.env.EDGELOG_TF_MIRROR,
  '/opt/tf-plugins',
  '/usr/share/terraform/plugins',
  '/usr/local/share/terraform/plugins',
  join(process.env.HOME ?? '/root', '.terraform.d', 'plugins'),
  join(process.env.HOME ?? '/root', '.local', 'share', 'terraform', 'plugins'),
].filter((d): d is string => !!d);

export const AWS_PROVIDER_VERSION = '5.100.0';

/** The mirror root holding hashicorp/aws 5.100.0, or null. */
export function findMirror(): string | null {
  for (const d of MIRROR_CANDIDATES) {
    if (existsSync(join(d, 'registry.terraform.io', 'hashicorp', 'aws', AWS_PROVIDER_VERSION))) return d;
  }
  return null;
}

/** Why the rehearsal cannot run here (no terraform, too old, no mirror), or null. */
export function terraformMissing(): string | null {
  const v = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' } });
  if (v.error || v.status !== 0) return 'terraform is not on PATH';
  const version = (JSON.parse(v.stdout) as { terraform_version: string }).terraform_version;
  const [maj, min] = version.split('.').map(Number);
  if (maj! < 1 || (maj === 1 && min! < 11)) return `terraform ${version} < 1.11 (write-only attributes need 1.11)`;
  if (!findMirror()) return `no filesystem mirror with hashicorp/aws ${AWS_PROVIDER_VERSION} in ${MIRROR_CANDIDATES.join(', ')}`;
  return null;
}

/** A CLI config that installs hashicorp/aws only from the mirror and nothing from anywhere else. */
export function writeCliConfig(file: string, mirror: string): void {
  writeFileSync(file, [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = ${JSON.stringify(mirror)}`,
    '    include = ["registry.terraform.io/hashicorp/aws"]',
    '  }',
    '}',
    '',
  ].join('\n'));
}

/** Services the stacks call; each endpoint goes to the emulator. */
const SERVICES = [
  'autoscaling', 'applicationautoscaling', 'cloudwatch', 'ec2', 'elbv2', 'fis', 'iam', 'kafka', 'kms', 'logs',
  'route53', 'secretsmanager', 'sts', 'globalaccelerator', 'ssm',
];

/**
 * `rehearsal_override.tf.json` for one stack dir: every aws provider (the
 * default and each alias) sends its calls to the emulator with dummy keys.
 * Test-only: written by this rig into a temp synth dir, never by infra/.
 */
export function writeEndpointOverride(stackDir: string, tf: Record<string, any>, endpoint: string): void {
  const providers = (tf.provider?.aws ?? []) as { alias?: string }[];
  const endpoints = Object.fromEntries(SERVICES.map((s) => [s, endpoint]));
  const block = (alias?: string) => ({
    ...(alias ? { alias } : {}),
    access_key: 'rehearsal',
    secret_key: 'rehearsal',
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    endpoints: [endpoints],
  });
  writeFileSync(join(stackDir, 'rehearsal_override.tf.json'), JSON.stringify({ provider: { aws: providers.map((p) => block(p.alias)) } }, null, 2));
}

export interface Run { status: number | null; stdout: string; stderr: string; ms: number }

export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 600_000): Run {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? `\n${r.error.message}` : ''), ms: performance.now() - t0 };
}
