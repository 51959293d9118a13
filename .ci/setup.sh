#!/usr/bin/env bash
# Idempotent setup for a fresh clone on a fresh machine: npm deps (which bring
# the Node 24 runtime), Debian packages the native helper and tests need, Kafka
# jars from Maven Central (cached in .cache/), and the native library. Safe to
# run before every command; a second run is fast.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
log() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages (only what is missing) ------------------------------------
need_pkgs=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in clang llvm libbpf-dev liburing-dev libelf-dev zlib1g-dev bpftool iproute2; do
  have_pkg "$p" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have_cmd apt-get; then
    log "installing Debian packages: ${need_pkgs[*]}"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null \
      || log "warning: could not install ${need_pkgs[*]}; native helper and some tests will be skipped"
  else
    log "not root: skipping Debian packages ${need_pkgs[*]}"
  fi
fi

# --- node test rig and release signing (issue 13) ---------------------------------
# minisign signs and verifies releases; debootstrap + systemd-container
# (systemd-nspawn) boot a clean Debian with a real systemd for test/node/;
# acl lets test/install show the ACL an operator sets for a root-only log.
rig_pkgs=()
for p in minisign debootstrap systemd-container acl; do have_pkg "$p" || rig_pkgs+=("$p"); done
if [ ${#rig_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have_cmd apt-get; then
    log "installing Debian packages: ${rig_pkgs[*]}"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${rig_pkgs[@]}" >/dev/null \
      || log "warning: could not install ${rig_pkgs[*]}; release signing and the node rig will be skipped"
  else
    log "not root: skipping Debian packages ${rig_pkgs[*]}"
  fi
fi

# --- promtool (the alert-rule tests) -------------------------------------------
# Only the promtool binary, taken out of Debian's prometheus package into
# .cache/promtool: installing the package would start (and enable) a
# Prometheus service on the user's machine, and stopping it again could hit a
# Prometheus the user runs. Nothing is installed and no process is touched.
# The tests find it at .cache/bin/promtool (or on PATH).
promtool=.cache/bin/promtool
if [ ! -x "$promtool" ] && have_cmd apt-get && have_cmd dpkg-deb; then
  dl=$(mktemp -d)
  if ( cd "$dl" && apt-get download -q prometheus >/dev/null 2>&1 ) \
    || { [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 && ( cd "$dl" && apt-get download -q prometheus >/dev/null 2>&1 ); }; then
    rm -rf .cache/promtool && mkdir -p .cache/promtool .cache/bin
    dpkg-deb -x "$dl"/prometheus_*.deb .cache/promtool
    ln -sf ../promtool/usr/bin/promtool "$promtool"
    log "promtool extracted from Debian's prometheus package into .cache/promtool (no service installed)"
  else
    log "warning: could not download Debian's prometheus package for promtool; the alert-rule test will be skipped"
  fi
  rm -rf "$dl"
fi

# --- npm dependencies (also the Node 24 runtime through the 'node' package) ----
stamp=node_modules/.edgelog-stamp
want=$( (cat package.json package-lock.json 2>/dev/null || true) | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  echo "$want" > "$stamp"
fi
export PATH="$root/node_modules/.bin:$PATH"
node -e 'if (+process.versions.node.split(".")[0] < 24) { console.error("node " + process.version + " < 24"); process.exit(1) }'

# --- Kafka jars from Maven Central ----------------------------------------------
if [ -f agent/embedded-kafka/pom.xml ]; then
  jars=.cache/kafka/libs
  if [ ! -f "$jars/.complete" ]; then
    log "fetching Kafka jars from Maven Central into $jars"
    mkdir -p "$jars"
    mvn -q -B -f agent/embedded-kafka/pom.xml dependency:copy-dependencies \
      -DoutputDirectory="$root/$jars" -DincludeScope=runtime >/dev/null
    touch "$jars/.complete"
  fi
fi

# --- native helper ----------------------------------------------------------------
if [ -f native/Makefile ]; then
  if have_cmd clang && have_cmd gcc; then
    make -s -C native >/dev/null || { log "native build failed"; exit 1; }
  else
    log "no clang/gcc: native helper not built; the agent falls back to Node paths"
  fi
fi

# --- AWS emulator for the deploy rehearsal (test/infra/deploy-rehearsal.test.ts) ---
# moto[server] (and boto3 for the read-back) in a venv under .cache/, pinned;
# awscli runs the relays' boot-time secrets fetch against it (the AWS CLI is
# what the relay AMI uses; awscli 1.46.3 is the release built on botocore 1.44).
# The check imports them through the venv's own python: a venv copied from
# another directory keeps scripts whose #! lines point back there, so only
# `bin/python -m ...` is used (here and in test/infra/rehearsal/moto.ts).
moto_venv=.cache/moto-venv
moto_pins="moto[server]==5.2.5 boto3==1.44.8 awscli==1.46.3"
if ! "$moto_venv/bin/python" -c 'import moto.server, boto3, awscli; assert moto.__version__ == "5.2.5" and awscli.__version__ == "1.46.3"' >/dev/null 2>&1; then
  if have_cmd python3; then
    log "installing $moto_pins into $moto_venv"
    rm -rf "$moto_venv"
    # shellcheck disable=SC2086 # the pins are separate words on purpose
    python3 -m venv "$moto_venv" && "$moto_venv/bin/python" -m pip install -q --disable-pip-version-check $moto_pins >/dev/null \
      || log "warning: moto not installed; the deploy rehearsal will be skipped"
  else
    log "no python3: the deploy rehearsal will be skipped"
  fi
fi
