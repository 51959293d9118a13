// The relays' own secrets in one AWS region: the forward listener's TLS
// certificate and key and the per-agent secrets file, as Secrets Manager
// secrets encrypted with the stack's customer KMS key. Only the containers
// are created here: the values are put by the operator after the first deploy
// (RUNBOOK "After the first deploy"), so no secret value is ever in a plan or
// in Terraform state. Relays read them at boot (agent/install/secrets-fetch.ts)
// with the instance role, which RelayFleet grants GetSecretValue on exactly
// these ARNs.

import type { SecretFile } from '../../agent/install/secrets-fetch.ts';
import { Construct, SecretsmanagerSecret } from '../lib/cdk.ts';
import { invariant } from '../lib/errors.ts';

/** Where the relay YAML expects each file (agent/install/defaults/relay.yaml, config.ts relayConfigYaml). */
export const RELAY_SECRET_FILES = {
  'tls-cert': '/etc/edgelog/tls/relay.pem',
  'tls-key': '/etc/edgelog/tls/relay.key',
  'agents-secrets': '/etc/edgelog/agents.secrets',
} as const;

export interface RelaySecretsProps {
  /** Prefix of the secret names: `<name>/relay/<tls-cert|tls-key|agents-secrets>`. */
  readonly name: string;
  /** Customer KMS key (id or ARN) that encrypts the secrets; the relay role gets kms:Decrypt on it through Secrets Manager only. */
  readonly kmsKeyId: string;
  /** The key's ARN, for the relay role's policy. */
  readonly kmsKeyArn: string;
  /**
   * Days a deleted secret can be restored.
   * @default 7
   */
  readonly recoveryWindowInDays?: number;
}

export class RelaySecrets extends Construct {
  /** One secret per file, keyed like RELAY_SECRET_FILES. */
  readonly secrets: Readonly<Record<keyof typeof RELAY_SECRET_FILES, SecretsmanagerSecret>>;
  readonly kmsKeyArn: string;
  /** Secret names (known at synth, so the boot script needs no Terraform reference). */
  readonly names: Readonly<Record<keyof typeof RELAY_SECRET_FILES, string>>;

  constructor(scope: Construct, id: string, props: RelaySecretsProps) {
    super(scope, id);
    const what = `RelaySecrets ${id}`;
    const recovery = props.recoveryWindowInDays ?? 7;
    invariant(/^[A-Za-z0-9/_+=.@-]{1,400}$/.test(props.name), what, `name: Secrets Manager name characters only, got ${props.name}`);
    invariant(recovery === 0 || (recovery >= 7 && recovery <= 30), what, `recoveryWindowInDays: 0 or 7..30, got ${recovery}`);
    this.kmsKeyArn = props.kmsKeyArn;
    const make = (key: keyof typeof RELAY_SECRET_FILES, description: string) => new SecretsmanagerSecret(this, key, {
      name: this.secretName(props.name, key),
      description,
      kmsKeyId: props.kmsKeyId,
      recoveryWindowInDays: recovery,
    });
    this.secrets = {
      'tls-cert': make('tls-cert', 'edgelog relays: forward listener TLS certificate chain (PEM)'),
      'tls-key': make('tls-key', 'edgelog relays: forward listener TLS private key (PEM)'),
      'agents-secrets': make('agents-secrets', 'edgelog relays: per-agent secrets file, one "<agent id> <secret>" per line'),
    };
    this.names = Object.fromEntries(Object.keys(RELAY_SECRET_FILES).map((k) => [k, this.secretName(props.name, k)])) as Record<keyof typeof RELAY_SECRET_FILES, string>;
  }

  get arns(): string[] { return Object.values(this.secrets).map((s) => s.arn); }

  /** What the boot script fetches, and where it writes it. */
  get files(): SecretFile[] {
    return (Object.keys(RELAY_SECRET_FILES) as Array<keyof typeof RELAY_SECRET_FILES>).map((k) => ({ secretId: this.names[k], path: RELAY_SECRET_FILES[k] }));
  }

  private secretName(prefix: string, key: string): string { return `${prefix}/relay/${key}`; }
}
