#!/usr/bin/env bash
# Release builder: one reproducible tarball per architecture.
#
#   bash agent/install/release/build.sh [--version V] [--out DIR] [--src DIR] [--without-demo-kafka] [--keep-stage]
#   (npm run release)
#
# Produces DIR/edgelog-<version>-linux-<arch>.tar.gz (DIR defaults to dist/)
# and, beside it, .sha256 and .minisig (detached minisign signature with
# EDGELOG_SIGNING_KEY, or a development key under .cache/release-key/). The tarball holds one top-level directory
# edgelog-<version>-linux-<arch>/ with:
#   bin/node            the Node.js runtime pinned by version + sha256 in node-runtime.txt (checked here)
#   bin/edgelog         launcher: bin/node agent/cli/main.ts with the bundled native lib and jars
#   agent/              the agent sources (TypeScript, run by Node's type stripping) incl. generated code
#   node_modules/       production dependencies only (npm ci --omit=dev into a staging dir)
#   package.json, package-lock.json
#   native/             native/build/*.so and *.bpf.o when they were built
#   kafka/libs/         Kafka broker jars for `edgelog demo` (default on; --without-demo-kafka)
#   install.sh          the installer (same file as agent/install/install.sh)
#   VERSION, BUILDINFO  version; node version, arch, source commit
#   MANIFEST.sha256     sha256 of every other file (sha256sum -c format)
#
# Reproducible: the same source tree gives the same bytes. Every file time is
# set to SOURCE_DATE_EPOCH (default: the last commit's time), entries are
# sorted, owners are 0:0 numeric, modes normalized, gzip without name/time.
set -euo pipefail
umask 022

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../../.." && pwd -P)   # the source tree; --src overrides (tests build from a snapshot)
VERSION=
OUT=
WITH_KAFKA=1
KEEP=0

while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION=$2; shift 2 ;;
    --version=*) VERSION=${1#*=}; shift ;;
    --src) repo=$(cd "$2" && pwd -P); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --out=*) OUT=${1#*=}; shift ;;
    --with-demo-kafka) WITH_KAFKA=1; shift ;;
    --without-demo-kafka) WITH_KAFKA=0; shift ;;
    --keep-stage) KEEP=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { printf '[release] %s\n' "$*" >&2; }
OUT=${OUT:-$repo/dist}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
cd "$repo"

node_bin=$(readlink -f node_modules/node/bin/node 2>/dev/null || true)
[ -x "$node_bin" ] || { echo "build.sh: node_modules/node/bin/node missing; run npm ci (or .ci/setup.sh) first" >&2; exit 1; }
node_version=$("$node_bin" --version)

if [ -z "$VERSION" ]; then
  VERSION=$("$node_bin" -p 'require("./package.json").version')
fi
case "$VERSION" in ''|*[!0-9A-Za-z._+-]*|.*) echo "build.sh: bad version '$VERSION'" >&2; exit 2 ;; esac

case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
name="edgelog-$VERSION-linux-$arch"

# --- pinned Node runtime ------------------------------------------------------------
# The binary must be the one node-runtime.txt pins for this arch (version and
# sha256): the `node` package's preinstall fetches it outside the lockfile.
pin_file="$repo/agent/install/release/node-runtime.txt"
[ -f "$pin_file" ] || { echo "build.sh: $pin_file missing" >&2; exit 1; }
pin=$(awk -v a="$arch" '$1 !~ /^#/ && $2 == a { print $1, $3 }' "$pin_file")
[ -n "$pin" ] || { echo "build.sh: no pinned Node runtime for $arch in $pin_file; add 'VERSION $arch SHA256'" >&2; exit 1; }
pin_version=${pin%% *}; pin_sha=${pin##* }
[ "$node_version" = "$pin_version" ] || { echo "build.sh: node_modules/node is $node_version, $pin_file pins $pin_version for $arch" >&2; exit 1; }
node_sha=$(sha256sum "$node_bin" | cut -d' ' -f1)
[ "$node_sha" = "$pin_sha" ] || { echo "build.sh: $node_bin sha256 $node_sha differs from the pinned $pin_sha ($pin_file); refusing to bundle it" >&2; exit 1; }

# --- signing key ------------------------------------------------------------------------
# EDGELOG_SIGNING_KEY: a minisign secret key without password (the release
# manager's). Without it a development key is made once under .cache/ and
# used, and the build says so: such a tarball verifies only with that key.
command -v minisign >/dev/null 2>&1 || { echo "build.sh: minisign not installed (apt-get install minisign; .ci/setup.sh does)" >&2; exit 1; }
sign_key=${EDGELOG_SIGNING_KEY:-}
if [ -z "$sign_key" ]; then
  sign_key="$repo/.cache/release-key/edgelog-dev.key"
  if [ ! -f "$sign_key" ]; then
    mkdir -p "$(dirname "$sign_key")"
    minisign -G -W -p "${sign_key%.key}.pub" -s "$sign_key" >/dev/null
  fi
  log "EDGELOG_SIGNING_KEY not set: signing with the development key $sign_key (public key ${sign_key%.key}.pub)"
fi
[ -f "$sign_key" ] || { echo "build.sh: signing key $sign_key not found" >&2; exit 1; }

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
commit=${EDGELOG_BUILD_COMMIT:-$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)}

stage=$(mktemp -d "$OUT/.stage-$name.XXXXXX")
cleanup() { if [ "$KEEP" = 1 ]; then log "stage kept: $stage"; else rm -rf "$stage"; fi; }
trap cleanup EXIT
rel="$stage/$name"
mkdir -p "$rel/bin"

log "staging $name (node $node_version) in $stage"

# --- agent sources -------------------------------------------------------------
# The whole agent/ tree as it is on disk. Logs and editor junk stay out.
tar -C "$repo" -cf - --exclude='*.log' --exclude='.*.swp' --exclude='*~' --exclude='node_modules' agent \
  | tar -C "$rel" -xf -

# --- production dependencies ---------------------------------------------------
cp package.json package-lock.json "$rel/"
log "npm ci --omit=dev"
(
  cd "$rel"
  # --ignore-scripts: the runtime deps ship prebuilt native binaries as
  # platform packages; no lifecycle script may run (or fetch anything) here.
  PATH="$(dirname "$node_bin"):$PATH" npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null
)
# npm writes a per-install cache of package metadata; it is not needed at run time.
rm -rf "$rel/node_modules/.cache"

# --- runtime ---------------------------------------------------------------------
cp "$node_bin" "$rel/bin/node"
cp "$repo/agent/install/release/launcher.sh" "$rel/bin/edgelog"
cp "$repo/agent/install/install.sh" "$rel/install.sh"
chmod 0755 "$rel/bin/node" "$rel/bin/edgelog" "$rel/install.sh"

# --- native helper -----------------------------------------------------------------
native_count=0
if [ -d native/build ]; then
  for f in native/build/*.so native/build/*.bpf.o; do
    [ -f "$f" ] || continue
    mkdir -p "$rel/native"
    cp "$f" "$rel/native/"
    native_count=$((native_count + 1))
  done
fi
[ "$native_count" -gt 0 ] || log "no native/build/*.so or *.bpf.o: release runs without the native helper"

# --- Kafka jars for the demo --------------------------------------------------------
if [ "$WITH_KAFKA" = 1 ]; then
  if [ -d .cache/kafka/libs ] && ls .cache/kafka/libs/*.jar >/dev/null 2>&1; then
    mkdir -p "$rel/kafka/libs"
    cp .cache/kafka/libs/*.jar "$rel/kafka/libs/"
  else
    log "no .cache/kafka/libs/*.jar (run .ci/setup.sh): release has no demo Kafka"
  fi
fi

# --- metadata ---------------------------------------------------------------------------
printf '%s\n' "$VERSION" >"$rel/VERSION"
{
  printf 'name=%s\n' "$name"
  printf 'version=%s\n' "$VERSION"
  printf 'arch=%s\n' "$arch"
  printf 'node=%s\n' "$node_version"
  printf 'node_sha256=%s\n' "$node_sha"
  printf 'commit=%s\n' "$commit"
  printf 'source_date_epoch=%s\n' "$SOURCE_DATE_EPOCH"
  printf 'demo_kafka=%s\n' "$( [ -d "$rel/kafka/libs" ] && echo yes || echo no )"
  printf 'native=%s\n' "$( [ "$native_count" -gt 0 ] && echo yes || echo no )"
} >"$rel/BUILDINFO"

# Normalize modes (the source tree's umask and npm's choices vary): everything
# readable, nothing group/other writable, executables keep their x bits.
chmod -R u+rwX,go+rX,go-w "$rel"

(cd "$rel" && find . -type f ! -name MANIFEST.sha256 -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sed 's#  \./#  #') >"$rel/MANIFEST.sha256"

# --- pack ---------------------------------------------------------------------------------
tarball="$OUT/$name.tar.gz"
log "packing $tarball"
tar -C "$stage" --sort=name --format=gnu \
  --mtime="@$SOURCE_DATE_EPOCH" \
  --owner=0 --group=0 --numeric-owner --hard-dereference \
  -cf - "$name" | gzip -n -6 >"$tarball.tmp"
mv -f "$tarball.tmp" "$tarball"
(cd "$OUT" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
# Detached signature beside the tarball. The trusted comment (signed too)
# names what was signed; no timestamp, so a rebuild gives the same bytes.
tar_sha=$(cut -d' ' -f1 "$OUT/$name.tar.gz.sha256")
rm -f "$tarball.minisig"
minisign -S -s "$sign_key" -m "$tarball" -x "$tarball.minisig" \
  -c "edgelog release signature" -t "$name.tar.gz sha256 $tar_sha" >/dev/null
pub_tmp="$stage/release.pub"
minisign -R -s "$sign_key" -p "$pub_tmp" >/dev/null
minisign -V -q -m "$tarball" -x "$tarball.minisig" -p "$pub_tmp" >/dev/null || { echo "build.sh: the signature does not verify" >&2; exit 1; }
log "signed by key $(sed -n 2p "$pub_tmp")"

size=$(du -m "$tarball" | cut -f1)
log "done: $tarball (${size} MiB) sha256 $(cut -d' ' -f1 "$OUT/$name.tar.gz.sha256")"
printf '%s\n' "$tarball"
