// Terraform for the deploy rehearsal: the machine's terraform binary, the
// hashicorp/aws provider from a local filesystem mirror (a CLI config whose
// provider_installation allows nothing else, so nothing comes from the
// internet), and the test-only endpoint override.

import { spawn, spawnSync } from 'node:child_process';
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

/**
 * The provider endpoint key each resource type calls: the first matching
 * prefix (specific before general). A type not listed here makes the override throw: a service left
 * without an emulator endpoint would go to the real AWS endpoint, which is
 * unreachable here, and the SDK's retries with backoff would stall the apply.
 */
const SERVICE_OF_PREFIX: readonly (readonly [string, string])[] = [
  ['aws_autoscaling_', 'autoscaling'],
  ['aws_appautoscaling_', 'applicationautoscaling'],
  ['aws_cloudwatch_log_', 'logs'],
  ['aws_cloudwatch_', 'cloudwatch'],
  ['aws_lb', 'elbv2'],
  ['aws_fis_', 'fis'],
  ['aws_iam_', 'iam'],
  ['aws_kms_', 'kms'],
  ['aws_msk_', 'kafka'],
  ['aws_route53_', 'route53'],
  ['aws_secretsmanager_', 'secretsmanager'],
  ['aws_ssm_', 'ssm'],
  ['aws_globalaccelerator_', 'globalaccelerator'],
  ['aws_caller_identity', 'sts'],
  ...['aws_vpc', 'aws_subnet', 'aws_route', 'aws_eip', 'aws_nat_gateway', 'aws_internet_gateway', 'aws_security_group', 'aws_launch_template', 'aws_instance', 'aws_ami', 'aws_availability_zones']
    .map((prefix) => [prefix, 'ec2'] as const),
];

/** The endpoint keys one stack's Terraform JSON needs (resources, data sources, ephemeral resources); sts always. */
export function servicesOf(tf: Record<string, any>): string[] {
  const services = new Set(['sts']);
  for (const section of ['resource', 'data', 'ephemeral']) {
    for (const type of Object.keys(tf[section] ?? {})) {
      if (!type.startsWith('aws_')) continue;
      const hit = SERVICE_OF_PREFIX.find(([prefix]) => type.startsWith(prefix));
      if (!hit) {
        throw new Error(`rehearsal: no emulator endpoint known for ${type}; add it to SERVICE_OF_PREFIX in test/infra/rehearsal/terraform.ts`);
      }
      services.add(hit[1]);
    }
  }
  return [...services].sort();
}

/**
 * `rehearsal_override.tf.json` for one stack dir: every aws provider (the
 * default and each alias) sends the calls of every service the stack uses to
 * the emulator, with dummy keys, no account/credential lookups and few
 * retries (a call the emulator does not answer fails in seconds instead of
 * 25 attempts with backoff). Test-only: written by this rig into a temp synth
 * dir; Terraform merges `*_override.tf.json` over the stack, so the
 * synthesized stack itself stays what a user deploys.
 */
export function writeEndpointOverride(stackDir: string, tf: Record<string, any>, endpoint: string): void {
  const providers = (tf.provider?.aws ?? []) as { alias?: string }[];
  const endpoints = Object.fromEntries(servicesOf(tf).map((s) => [s, endpoint]));
  const block = (alias?: string) => ({
    ...(alias ? { alias } : {}),
    access_key: 'rehearsal',
    secret_key: 'rehearsal',
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    max_retries: 2,
    endpoints: [endpoints],
  });
  writeFileSync(join(stackDir, 'rehearsal_override.tf.json'), JSON.stringify({ provider: { aws: providers.map((p) => block(p.alias)) } }, null, 2));
}

export interface Run { status: number | null; stdout: string; stderr: string; ms: number }

/**
 * Runs a command without blocking the event loop (the emulator's log and other
 * stacks' runs go on meanwhile); after `timeoutMs` it is sent SIGTERM (Terraform
 * then stops its provider plugins), SIGKILL 10 s later.
 */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    }, timeoutMs);
    let spawnError = '';
    child.on('error', (e) => { spawnError = `\n${e.message}`; });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(kill);
      const note = timedOut ? `\n${cmd} ${args[0]} did not finish within ${timeoutMs} ms and was stopped` : '';
      resolve({ status: timedOut ? null : code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + spawnError + note, ms: performance.now() - t0 });
    });
  });
}
