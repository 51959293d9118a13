// Cloud-init user data for edgelog nodes (relay fleet in the CDK app, edge
// nodes provisioned the same way). The output is a plain `#!/bin/bash`
// script, which cloud-init runs once on first boot as root. A script rather
// than `#cloud-config` because the work is ordered (download, verify, unpack,
// install) and every step must stop the boot script on failure; runcmd would
// need the same shell anyway.
//
// Nothing is unpacked before two checks pass: the tarball's sha256 (carried
// in the user data) and its detached minisign signature (<url>.minisig)
// against the release public key (also in the user data). The key is handed
// to install.sh, which records it in /etc/edgelog/release.pub for upgrades.
//
// The script does not re-implement installation: it unpacks the release
// tarball and runs the install.sh shipped at its root, i.e. exactly what
// `edgelog install` runs. The given config is handed to the installer with
// `--config`, which writes it to /etc/edgelog/edgelog.yaml only when no config
// exists there yet (a re-run or a pre-baked image keeps its config).
//
// Deterministic: the output depends only on the options (no timestamps, no
// random names, fixed key order), so an infra plan diff shows real changes only.

import { EdgelogError } from '../core/errors.ts';
import {
  SECRETS_DROP_IN, SECRETS_FETCH_SCRIPT, SECRETS_FETCH_UNIT, renderSecretsDropIn, renderSecretsFetchScript, renderSecretsFetchUnit,
  type SecretsFetchOptions,
} from './secrets-fetch.ts';

export type InstallRole = 'edge' | 'relay';

export interface CloudInitOptions {
  role: InstallRole;
  /** Release version, e.g. `0.1.0`; must match the tarball's VERSION. */
  version: string;
  /** Where the node downloads `edgelog-<version>-linux-<arch>.tar.gz` from. */
  artifactUrl: string;
  /** Lower-case hex sha256 of the tarball (required): the script refuses a tarball that does not match. */
  artifactSha256: string;
  /**
   * The minisign public key that signed the release (the base64 line
   * `RW...`, or the whole .pub file). Required: the script fetches
   * `<artifactUrl>.minisig` and refuses a tarball whose signature does not
   * verify with it, before unpacking anything.
   */
  signingPublicKey: string;
  /** The edgelog.yaml to install when the node has none. */
  configYaml: string;
  /**
   * Secrets the node fetches from the cloud's secret store before the agent
   * starts (secrets-fetch.ts). When set, install.sh runs with --no-start and
   * the service is started without waiting, after the fetch unit is in place.
   */
  secrets?: SecretsFetchOptions;
}

export class CloudInitError extends EdgelogError {
  constructor(message: string) {
    super('EDGELOG_CLOUD_INIT', message, { retriable: false });
  }
}

/** Single-quote a value for bash; safe for any byte string without NUL. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new CloudInitError('value contains a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A heredoc delimiter that does not occur as a line of `body`. */
function heredocDelimiter(body: string, base = 'EDGELOG_CONFIG_EOF'): string {
  const lines = new Set(body.split('\n'));
  let delim = base;
  for (let i = 1; lines.has(delim); i++) delim = `${base}_${i}`;
  return delim;
}

/** The base64 key line of a minisign public key (Ed25519, "RW" + 54 chars), from the line or the whole .pub file. */
export function minisignKey(text: string | undefined): string {
  const line = (text ?? '').split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('untrusted comment:'));
  if (!line || !/^RW[A-Za-z0-9+/]{54}$/.test(line)) {
    throw new CloudInitError('signingPublicKey: expected a minisign public key (a line "RW" + 54 base64 characters, as in the release .pub file)');
  }
  return line;
}

const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z._+-]*$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

export function renderCloudInit(opts: CloudInitOptions): string {
  if (opts.role !== 'edge' && opts.role !== 'relay') {
    throw new CloudInitError(`role: expected 'edge' or 'relay', got ${JSON.stringify(opts.role)}`);
  }
  if (!VERSION_RE.test(opts.version)) {
    throw new CloudInitError(`version: expected letters, digits and . _ + -, got ${JSON.stringify(opts.version)}`);
  }
  if (!/^(https?|file):\/\//.test(opts.artifactUrl)) {
    throw new CloudInitError(`artifactUrl: expected an http(s):// or file:// URL, got ${JSON.stringify(opts.artifactUrl)}`);
  }
  const sha = (opts.artifactSha256 ?? '').toLowerCase();
  if (!SHA256_RE.test(sha)) {
    throw new CloudInitError('artifactSha256: expected the 64 hex digits of the release tarball (required: an unverified release is never installed)');
  }
  const pubkey = minisignKey(opts.signingPublicKey);
  // A config without a final newline would glue its last line to the delimiter.
  const config = opts.configYaml.endsWith('\n') ? opts.configYaml : `${opts.configYaml}\n`;
  const delim = heredocDelimiter(config);
  const secretsPart = opts.secrets ? secretsSteps(opts.secrets) : [];

  const lines = [
    '#!/bin/bash',
    '# edgelog node bootstrap (cloud-init user data).',
    '# Generated by agent/install/cloud-init.ts renderCloudInit(); do not edit by hand.',
    '# Downloads the release, verifies it, unpacks it and runs its install.sh,',
    '# the same installer `edgelog install` runs.',
    'set -euo pipefail',
    'umask 022',
    '',
    `EDGELOG_ROLE=${shellQuote(opts.role)}`,
    `EDGELOG_VERSION=${shellQuote(opts.version)}`,
    `EDGELOG_URL=${shellQuote(opts.artifactUrl)}`,
    `EDGELOG_SHA256=${shellQuote(sha)}`,
    `EDGELOG_PUBKEY=${shellQuote(pubkey)}`,
    '',
    'work="$(mktemp -d /var/tmp/edgelog-bootstrap.XXXXXXXX)"',
    'trap \'rm -rf -- "$work"\' EXIT',
    '',
    'fetch() {  # fetch URL FILE',
    '  case "$1" in',
    '    file://*) cp -- "${1#file://}" "$2" ;;',
    '    *)',
    '      if command -v curl >/dev/null 2>&1; then',
    '        curl -fsSL --retry 10 --retry-delay 3 --retry-connrefused -o "$2" "$1"',
    '      else',
    '        wget -q --tries=10 --waitretry=3 -O "$2" "$1"',
    '      fi',
    '      ;;',
    '  esac',
    '}',
    '',
    '# Download the tarball and its detached signature (retry: the network may come up after cloud-init starts).',
    'fetch "$EDGELOG_URL" "$work/edgelog.tar.gz"',
    'fetch "$EDGELOG_URL.minisig" "$work/edgelog.tar.gz.minisig"',
    '',
    '# Verify before unpacking anything: the sha256 this user data carries, then the signature.',
    'echo "$EDGELOG_SHA256  $work/edgelog.tar.gz" | sha256sum -c --status - || {',
    '  echo "edgelog: refusing $EDGELOG_URL: sha256 mismatch (expected $EDGELOG_SHA256)" >&2; exit 1; }',
    'if ! command -v minisign >/dev/null 2>&1; then',
    '  if command -v apt-get >/dev/null 2>&1; then',
    '    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq minisign',
    '  elif command -v dnf >/dev/null 2>&1; then',
    '    dnf install -y -q minisign',
    '  fi',
    'fi',
    'command -v minisign >/dev/null 2>&1 || {',
    '  echo "edgelog: refusing $EDGELOG_URL: minisign is not installed, the signature cannot be checked" >&2; exit 1; }',
    'printf \'untrusted comment: edgelog release key\\n%s\\n\' "$EDGELOG_PUBKEY" > "$work/release.pub"',
    'minisign -V -q -m "$work/edgelog.tar.gz" -x "$work/edgelog.tar.gz.minisig" -p "$work/release.pub" >/dev/null 2>&1 || {',
    '  echo "edgelog: refusing $EDGELOG_URL: signature does not verify with the release key" >&2; exit 1; }',
    '',
    '# The tarball holds one top-level directory edgelog-<version>-linux-<arch>/.',
    'mkdir -p "$work/release"',
    'tar -xzf "$work/edgelog.tar.gz" -C "$work/release" --strip-components=1 --no-same-owner',
    '',
    '# Config for this node; install.sh installs it only if /etc/edgelog/edgelog.yaml is absent.',
    `cat > "$work/edgelog.yaml" <<'${delim}'`,
    config + delim,
    '',
    ...secretsPart,
    '# EDGELOG_INSTALL_ROOT is unset at boot; tests set it to stage under a directory.',
    'bash "$work/release/install.sh" install \\',
    '  ${EDGELOG_INSTALL_ROOT:+--root "$EDGELOG_INSTALL_ROOT"} \\',
    '  --role "$EDGELOG_ROLE" \\',
    '  --version "$EDGELOG_VERSION" \\',
    '  --from "$work/release" \\',
    '  --pubkey "$work/release.pub" \\',
    `  --config "$work/edgelog.yaml"${opts.secrets ? ' \\' : ''}`,
    ...(opts.secrets ? ['  --no-start', '', ...secretsStart()] : []),
    '',
  ];
  return lines.join('\n');
}

/** Write the fetch script, its unit and the drop-in that makes edgelog.service require it. */
function secretsSteps(secrets: SecretsFetchOptions): string[] {
  const files: Array<[string, string, string]> = [
    [SECRETS_FETCH_SCRIPT, '0755', renderSecretsFetchScript(secrets)],
    [`/etc/systemd/system/${SECRETS_FETCH_UNIT}`, '0644', renderSecretsFetchUnit()],
    [SECRETS_DROP_IN, '0644', renderSecretsDropIn()],
  ];
  const out = ['# Secrets come from the cloud secret store before the agent starts (edgelog-secrets.service).'];
  for (const [path, mode, body] of files) {
    const d = heredocDelimiter(body, 'EDGELOG_FILE_EOF');
    out.push(
      `mkdir -p "\${EDGELOG_INSTALL_ROOT:-}"${shellQuote(path.slice(0, path.lastIndexOf('/')))}`,
      `cat > "\${EDGELOG_INSTALL_ROOT:-}"${shellQuote(path)} <<'${d}'`,
      body.endsWith('\n') ? body + d : `${body}\n${d}`,
      `chmod ${mode} "\${EDGELOG_INSTALL_ROOT:-}"${shellQuote(path)}`,
    );
  }
  out.push('');
  return out;
}

/** Start without waiting: the fetch may wait for the operator, cloud-init must not. */
function secretsStart(): string[] {
  return [
    'if [ -z "${EDGELOG_INSTALL_ROOT:-}" ] && [ -d /run/systemd/system ]; then',
    '  systemctl daemon-reload',
    `  systemctl enable ${SECRETS_FETCH_UNIT} edgelog.service`,
    '  systemctl start --no-block edgelog.service',
    'fi',
  ];
}
