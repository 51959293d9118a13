// What a region's relays need that must not be in user data or Terraform
// state: the TLS certificate and key of the forward listener, and the
// agents' secrets file (one `<agent id> <secret>` line per agent). This
// construct creates the three Secrets Manager secrets (containers only: no
// value, so nothing secret is planned or stored), encrypted with their own
// customer KMS key. The operator puts the values (infra/RUNBOOK.md); each
// relay fetches them at every service start (`edgelog secrets fetch`, a
// privileged ExecStartPre=+ step, agent/secrets/) and waits while one has no
// value yet, so a fleet deployed before the values exist comes up by itself
// once they are put. RelayFleet grants read access to exactly these ARNs.

import { Construct, KmsAlias, KmsKey, SecretsmanagerSecret } from '../lib/cdk.ts';
import { invariant } from '../lib/errors.ts';

/** Where the relay YAML (infra/config.ts relayConfigYaml) reads each file. */
export const RELAY_SECRET_FILES = {
  'relay-tls-cert': '/etc/edgelog/tls/relay.pem',
  'relay-tls-key': '/etc/edgelog/tls/relay.key',
  'agents-secrets': '/etc/edgelog/agents.secrets',
} as const;

/** The relays' secrets.yaml for the secrets of `name` in `region` (pure: the user-data test renders it too). */
export function relaySecretsYaml(name: string, region: string, group = 'edgelog'): string {
  // Names, not ARNs: known at synth (ARNs carry a random suffix), and GetSecretValue takes either.
  return [
    '# Rendered by infra/constructs/relay-secrets.ts: fetched by `edgelog secrets fetch` before each start.',
    'source: aws_secrets_manager',
    `region: ${region}`,
    `group: ${group}`,
    'files:',
    ...Object.entries(RELAY_SECRET_FILES).map(([file, path]) => `  - { secret: edgelog/${name}/${file}, path: ${path} }`),
    '',
  ].join('\n');
}

export interface RelaySecretsProps {
  /** Prefix of the secret names (`edgelog/<name>/<file>`) and of the key alias. */
  readonly name: string;
  /** AWS region of the secrets, written into the relays' secrets.yaml. */
  readonly region: string;
  /**
   * Days a deleted secret can still be restored (7 to 30).
   * @default 7
   */
  readonly recoveryWindowInDays?: number;
  /**
   * The Unix group that may read the files on a relay (the service's group).
   * @default 'edgelog'
   */
  readonly group?: string;
}

export class RelaySecrets extends Construct {
  readonly key: KmsKey;
  /** One secret per file, keyed as RELAY_SECRET_FILES. */
  readonly secrets: Readonly<Record<keyof typeof RELAY_SECRET_FILES, SecretsmanagerSecret>>;
  /** The relays' /etc/edgelog/secrets.yaml (agent/secrets/README.md). */
  readonly secretsYaml: string;

  constructor(scope: Construct, id: string, props: RelaySecretsProps) {
    super(scope, id);
    const what = `RelaySecrets ${id}`;
    const recovery = props.recoveryWindowInDays ?? 7;
    invariant(/^[A-Za-z0-9-]{1,40}$/.test(props.name), what, `name: 1-40 letters, digits or hyphens, got ${props.name}`);
    invariant(recovery >= 7 && recovery <= 30, what, `recoveryWindowInDays: 7..30, got ${recovery}`);
    invariant(/^[a-z]{2}(-[a-z]+)+-\d$/.test(props.region), what, `region: an AWS region name, got ${props.region}`);

    this.key = new KmsKey(this, 'key', {
      description: `${props.name}: relay TLS key and agents' secrets`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    });
    new KmsAlias(this, 'key-alias', { name: `alias/${props.name}-relay-secrets`, targetKeyId: this.key.keyId });
    const make = (file: keyof typeof RELAY_SECRET_FILES): SecretsmanagerSecret => new SecretsmanagerSecret(this, file, {
      name: `edgelog/${props.name}/${file}`,
      description: `edgelog relays: ${RELAY_SECRET_FILES[file]}`,
      kmsKeyId: this.key.keyId,
      recoveryWindowInDays: recovery,
    });
    this.secrets = { 'relay-tls-cert': make('relay-tls-cert'), 'relay-tls-key': make('relay-tls-key'), 'agents-secrets': make('agents-secrets') };
    this.secretsYaml = relaySecretsYaml(props.name, props.region, props.group);
  }

  /** The ARNs the relays may read. */
  get arns(): string[] {
    return Object.values(this.secrets).map((s) => s.arn);
  }
}
