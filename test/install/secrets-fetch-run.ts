// Runs a relay's boot-time secrets fetch (agent/install/secrets-fetch.ts) the
// way a node does, against the AWS emulator: the script is cut out of the
// boot script it was rendered into (cloud-init user data), run with the AWS
// CLI from the moto venv, its files staged under a directory
// (EDGELOG_INSTALL_ROOT) instead of /. Values are put with the command the
// runbook gives the operator (`aws secretsmanager put-secret-value`).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECRETS_FETCH_SCRIPT } from '../../agent/install/secrets-fetch.ts';
import { spawnSync } from 'node:child_process';
import { MOTO_VENV, VENV_PYTHON } from '../infra/rehearsal/moto.ts';

/** Why the fetch cannot run here, or null. */
export function awsCliMissing(): string | null {
  if (!existsSync(VENV_PYTHON)) return `AWS CLI not installed: no venv at ${MOTO_VENV} (.ci/setup.sh installs awscli into the moto venv)`;
  const r = spawnSync(VENV_PYTHON, ['-c', 'import awscli'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? null : `AWS CLI not installed: ${VENV_PYTHON} cannot import awscli (.ci/setup.sh installs it)`;
}

/**
 * A directory with an `aws` command that runs the venv's AWS CLI, for PATH
 * (the script calls `aws` by name, as on the node). Through `python -m`
 * because the venv's own bin/aws names, in its #! line, the directory the
 * venv was built in, which a copied .cache/ does not have.
 */
export function awsOnPath(dir: string): string {
  const bin = join(dir, 'aws-bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'aws'), `#!/bin/sh\nexec '${VENV_PYTHON}' -m awscli "$@"\n`, { mode: 0o755 });
  return bin;
}

/** The fetch script as the boot script writes it to SECRETS_FETCH_SCRIPT. */
export function fetchScriptOf(bootScript: string): string {
  const head = `cat > "\${EDGELOG_INSTALL_ROOT:-}"'${SECRETS_FETCH_SCRIPT}' <<'`;
  const i = bootScript.indexOf(head);
  if (i < 0) throw new Error('boot script has no secrets fetch step');
  const rest = bootScript.slice(i + head.length);
  const delim = rest.slice(0, rest.indexOf("'"));
  const body = rest.slice(rest.indexOf('\n') + 1);
  return body.slice(0, body.indexOf(`\n${delim}\n`) + 1);
}

export interface CmdResult { code: number | null; stdout: string; stderr: string }

/** Runs a command with the emulator's endpoint and test credentials; kills it at the deadline. */
export function runAws(cmd: string, args: string[], endpoint: string, region: string, extraEnv: Record<string, string> = {}, deadlineMs = 120_000): Promise<CmdResult> {
  return new Promise((resolve, reject) => {
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'rehearsal',
      AWS_SECRET_ACCESS_KEY: 'rehearsal',
      AWS_DEFAULT_REGION: region,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      ...extraEnv,
    };
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), deadlineMs);
    p.on('error', (e) => { clearTimeout(t); reject(e); });
    p.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

/** The operator's step from the runbook: put one value. */
export async function putSecretValue(endpoint: string, region: string, secretId: string, valueFile: string): Promise<void> {
  const r = await runAws(VENV_PYTHON, ['-m', 'awscli', 'secretsmanager', 'put-secret-value', '--region', region, '--secret-id', secretId, '--secret-string', `file://${valueFile}`], endpoint, region);
  if (r.code !== 0) throw new Error(`put-secret-value ${secretId}: ${r.stderr}`);
}

/** Writes the fetch script cut from `bootScript` into `dir` and returns a runner staging files under dir/root. */
export function fetcher(bootScript: string, dir: string, endpoint: string, region: string) {
  mkdirSync(join(dir, 'root'), { recursive: true });
  const path = `${awsOnPath(dir)}:${process.env.PATH}`;
  const script = join(dir, 'edgelog-fetch-secrets');
  writeFileSync(script, fetchScriptOf(bootScript), { mode: 0o755 });
  const group = process.getgid?.() === 0 ? 'root' : String(process.getgid?.());
  return {
    root: join(dir, 'root'),
    /** once: try each secret once (exit 75 when one is missing) instead of waiting. */
    run: (once: boolean, deadlineMs?: number) => runAws('bash', [script], endpoint, region, {
      PATH: path, EDGELOG_INSTALL_ROOT: join(dir, 'root'), EDGELOG_SECRETS_GROUP: group, ...(once ? { EDGELOG_SECRETS_ONCE: '1' } : {}),
    }, deadlineMs),
  };
}
