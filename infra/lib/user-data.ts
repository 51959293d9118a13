// Relay boot scripts come from the agent's installer (agent/install/cloud-init.ts),
// the single source of truth shared with `edgelog install`. Infra never edits
// the script text: it ships the installer's output byte for byte as a base64
// literal and, where a value is known only after apply (MSK bootstrap brokers),
// lets Terraform substitute one placeholder in it.
//
// Why a base64 literal: the script contains bash `${VAR}` expansions, which
// Terraform would read as interpolations in a plain string.

import { renderCloudInit } from '../../agent/install/cloud-init.ts';
import type { SecretsFetchOptions } from '../../agent/install/secrets-fetch.ts';
import { Fn } from './cdk.ts';

/** Placeholder in a relay YAML that Terraform replaces with the region's bootstrap brokers. */
export const KAFKA_BOOTSTRAP_PLACEHOLDER = '@@EDGELOG_KAFKA_BOOTSTRAP@@';

export interface AgentInstall {
  readonly version: string;
  readonly artifactUrl: string;
  /** sha256 of the release tarball; the boot script refuses any other bytes. */
  readonly artifactSha256: string;
  /** minisign public key of the release signer ("RW..."); the boot script verifies <artifactUrl>.minisig with it. */
  readonly signingPublicKey: string;
}

/** The installer's cloud-init script for a relay with this config. */
export function relayBootScript(install: AgentInstall, configYaml: string, secrets?: SecretsFetchOptions): string {
  return renderCloudInit({
    ...(secrets ? { secrets } : {}),
    role: 'relay',
    version: install.version,
    artifactUrl: install.artifactUrl,
    artifactSha256: install.artifactSha256,
    signingPublicKey: install.signingPublicKey,
    configYaml,
  });
}

export function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * EC2 user data (base64) = `script` with `placeholder` replaced by `value`
 * (a Terraform reference) at apply time.
 */
export function ec2UserData(script: string, placeholder: string, value: string): string {
  return Fn.base64encode(Fn.replace(Fn.base64decode(toBase64(script)), placeholder, value));
}

/** GCE `user-data` metadata (plain text) = `script`, carried as a base64 literal. */
export function gceUserData(script: string): string {
  return Fn.base64decode(toBase64(script));
}
