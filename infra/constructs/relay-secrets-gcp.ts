// The GCP relays' secrets: the same three files as the AWS relays
// (RELAY_SECRET_FILES) as Secret Manager secrets, replicated in the relays'
// region, each readable (secretAccessor on that secret, not the project) by the
// relays' service account only. Only the containers are created; the operator
// adds versions (RUNBOOK), so no value is in a plan or in state. Encryption is
// Google-managed: the gcp stack has no Cloud KMS key (a CMEK would be
// `replication.userManaged.replicas[].customerManagedEncryption`).

import type { SecretFile } from '../../agent/install/secrets-fetch.ts';
import { Construct, SecretManagerSecret, SecretManagerSecretIamMember } from '../lib/cdk.ts';
import { invariant } from '../lib/errors.ts';
import { RELAY_SECRET_FILES } from './relay-secrets.ts';

export interface GcpRelaySecretsProps {
  readonly project: string;
  /** Region the secrets are replicated in (the relays' region). */
  readonly region: string;
  /** Prefix of the secret ids: `<name>-relay-<tls-cert|tls-key|agents-secrets>`. */
  readonly name: string;
  /** The relays' service account email: the only reader. */
  readonly readerEmail: string;
}

export class GcpRelaySecrets extends Construct {
  readonly secrets: readonly SecretManagerSecret[];
  /** Secret id -> file path for the boot script. */
  readonly files: readonly SecretFile[];

  constructor(scope: Construct, id: string, props: GcpRelaySecretsProps) {
    super(scope, id);
    invariant(/^[a-z][a-z0-9-]{0,200}$/.test(props.name), `GcpRelaySecrets ${id}`, `name: lower-case letters, digits, hyphens, got ${props.name}`);
    const keys = Object.keys(RELAY_SECRET_FILES) as Array<keyof typeof RELAY_SECRET_FILES>;
    this.secrets = keys.map((k) => {
      const secret = new SecretManagerSecret(this, k, {
        project: props.project,
        secretId: `${props.name}-relay-${k}`,
        replication: { userManaged: { replicas: [{ location: props.region }] } },
      });
      new SecretManagerSecretIamMember(this, `${k}-reader`, {
        project: props.project,
        secretId: secret.secretId,
        role: 'roles/secretmanager.secretAccessor',
        member: `serviceAccount:${props.readerEmail}`,
      });
      return secret;
    });
    this.files = keys.map((k) => ({ secretId: `${props.name}-relay-${k}`, path: RELAY_SECRET_FILES[k] }));
  }
}
