#!/usr/bin/env bash
# edgelog installer: install | upgrade | rollback | uninstall | status | unit
#
# One script for every way edgelog lands on a node: `edgelog install` execs it,
# cloud-init user data (agent/install/cloud-init.ts) runs it from the unpacked
# release tarball, and an operator can run it by hand. Plain bash + coreutils
# (+ tar, getent, useradd, systemctl when present), no Node needed.
#
# Layout (all under --root, default /):
#   /opt/edgelog/releases/<version>/   one directory per installed release (root-owned, read-only to the service)
#   /opt/edgelog/current  -> releases/<version>   swapped atomically (symlink to a temp name, then rename)
#   /opt/edgelog/previous -> releases/<version>   what `rollback` goes back to
#   /opt/edgelog/install.env            role, guard and user chosen at install time (upgrade keeps them)
#   /usr/local/bin/edgelog -> /opt/edgelog/current/bin/edgelog
#   /etc/edgelog/edgelog.yaml           the config, 0640 root:edgelog; NEVER overwritten once it exists
#   /etc/edgelog/edgelog.yaml.dist      the release's defaults for this role, refreshed on every install/upgrade
#   /var/lib/edgelog/{checkpoints,spool}  state, 0750 edgelog:edgelog; kept by uninstall unless --purge
#   /var/cache/edgelog/node-compile-cache  Node's compile cache (systemd CacheDirectory=, 0700); removed by uninstall
#   /etc/systemd/system/edgelog.service the hardened unit (see render_unit)
#
# Ownership under --root: with --root other than / we never touch the host's
# user database (a staged root is usually an image being built). If the user
# already exists on this host its ids are applied (chown); if not, files stay
# owned by the invoking user and the intended owner of every path is written
# to /opt/edgelog/ownership.pending ("user:group mode path" per line) for the
# image build to apply. With --root / the user is created (useradd --system).
#
# --dry-run prints every action that would change something ("+ ..." lines on
# stdout) and changes nothing.
#
# A tarball (--from X.tar.gz) is unpacked only after X.tar.gz.sha256 and the
# detached minisign signature X.tar.gz.minisig beside it verify, with the key
# from --pubkey or the one recorded at the first install (/etc/edgelog/release.pub).
set -euo pipefail
umask 022

PROG=edgelog-install
CMD=install
ROOT=/
ROLE=
GUARD=
FROM=
VERSION=
DRY=0
PURGE=0
CONFIG=
START=1
SVC_USER=
PUBKEY=
VERIFIED=0

usage() {
  cat <<'USAGE'
usage: install.sh [install|upgrade|rollback|uninstall|status|unit] [options]

commands:
  install     install a release (default); idempotent, never overwrites /etc/edgelog/edgelog.yaml
  upgrade     install a new release beside the current one, swap atomically, restart the service
  rollback    swap back to the previous release and restart
  uninstall   remove the service and the binaries; keep /etc/edgelog and /var/lib/edgelog unless --purge
  status      print installed versions, role and service state
  unit        print the systemd unit for --role/--guard/--user to stdout (nothing installed)

options:
  --root DIR          stage everything under DIR (default /); systemctl and useradd are skipped unless DIR is /
  --role edge|relay   edge reads local logs (group adm, no capability); relay forwards to Kafka
  --guard             enable the tc/eBPF ingress guard: attached and pinned by a privileged ExecStartPre=+,
                      the agent itself keeps no capability (AF_NETLINK and bpf() on pinned maps only)
  --no-guard          disable the guard on upgrade when it was on
  --from DIR|TARBALL  release to install (default: the release this script belongs to)
  --version V         release version (default: the release's VERSION file)
  --config FILE       config to install as /etc/edgelog/edgelog.yaml when none exists yet
  --pubkey FILE       minisign public key that signed the release (recorded as /etc/edgelog/release.pub;
                      later upgrades verify with the recorded key when --pubkey is not given)
  --user NAME         service user (default edgelog)
  --no-start          install/upgrade without enabling or (re)starting the service
  --purge             with uninstall: also remove /etc/edgelog, /var/lib/edgelog and the user
  --dry-run           print what would be done, change nothing
  -h, --help          this text
USAGE
}

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# --- argument parsing -----------------------------------------------------------
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
if [ $# -gt 0 ]; then
  case "$1" in
    install|upgrade|rollback|uninstall|status|unit) CMD=$1; shift ;;
  esac
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --root) need_arg "$@"; ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --role) need_arg "$@"; ROLE=$2; shift 2 ;;
    --role=*) ROLE=${1#*=}; shift ;;
    --guard) GUARD=1; shift ;;
    --no-guard) GUARD=0; shift ;;
    --from) need_arg "$@"; FROM=$2; shift 2 ;;
    --from=*) FROM=${1#*=}; shift ;;
    --version) need_arg "$@"; VERSION=$2; shift 2 ;;
    --version=*) VERSION=${1#*=}; shift ;;
    --config) need_arg "$@"; CONFIG=$2; shift 2 ;;
    --config=*) CONFIG=${1#*=}; shift ;;
    --pubkey) need_arg "$@"; PUBKEY=$2; shift 2 ;;
    --pubkey=*) PUBKEY=${1#*=}; shift ;;
    --user) need_arg "$@"; SVC_USER=$2; shift 2 ;;
    --user=*) SVC_USER=${1#*=}; shift ;;
    --no-start) START=0; shift ;;
    --purge) PURGE=1; shift ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

case "$ROLE" in ''|edge|relay) ;; *) die "--role: expected edge or relay, got '$ROLE'" ;; esac
case "$VERSION" in ''|[0-9A-Za-z]*) ;; *) die "--version: bad version '$VERSION'" ;; esac
case "$VERSION" in *[!0-9A-Za-z._+-]*) die "--version: bad version '$VERSION'" ;; esac
case "$SVC_USER" in ''|[a-z_][a-z0-9_-]*) ;; *) die "--user: bad user name '$SVC_USER'" ;; esac
case "$SVC_USER" in *[!a-z0-9_-]*) die "--user: bad user name '$SVC_USER'" ;; esac

[ -d "$ROOT" ] || { [ "$CMD" = unit ] || [ "$DRY" = 1 ]; } || die "--root: $ROOT is not a directory"
ROOT=$(cd "$ROOT" 2>/dev/null && pwd -P || printf '%s' "$ROOT")
ROOT=${ROOT%/}          # "" for the real root; paths below are "$ROOT/opt/..."
LIVE=0; [ -z "$ROOT" ] && LIVE=1

OPT=/opt/edgelog
ETC=/etc/edgelog
STATE=/var/lib/edgelog
UNIT=/etc/systemd/system/edgelog.service
BINLINK=/usr/local/bin/edgelog

# --- actions: every change goes through these so --dry-run can print it -----------
act() {
  if [ "$DRY" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; return 0; fi
  "$@"
}
# write_file PATH MODE < content   (atomic: temp file in the same dir, then rename)
write_file() {
  local path=$1 mode=$2 tmp
  if [ "$DRY" = 1 ]; then printf '+ write %s (mode %s)\n' "$path" "$mode"; cat >/dev/null; return 0; fi
  tmp="$path.tmp.$$"
  cat >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
}
# swap_link NAME TARGET: point symlink NAME at TARGET atomically (rename(2) over the old link)
swap_link() {
  local name=$1 target=$2
  if [ "$DRY" = 1 ]; then printf '+ ln -s %s %s (atomic rename)\n' "$target" "$name"; return 0; fi
  ln -sfn "$target" "$name.tmp.$$"
  mv -T "$name.tmp.$$" "$name"
}

# Ownership: applied when the user exists here, else recorded (see header).
PENDING_LINES=""
own() {  # own USER:GROUP MODE PATH
  local og=$1 mode=$2 path=$3
  act chmod "$mode" "$path"
  if [ "$og" = root:root ] || [ "$HAVE_USER" = 1 ]; then
    if [ "$DRY" = 1 ]; then
      printf '+ chown %s %s\n' "$og" "$path"
    elif [ "$(id -u)" = 0 ]; then
      act chown "$(resolve_owner "$og")" "$path"
    fi
    return 0
  fi
  PENDING_LINES="${PENDING_LINES}${og} ${mode} ${path#"$ROOT"}
"
}
resolve_owner() {  # user:group -> numeric uid:gid from the host database (works for a staged root)
  local u=${1%%:*} g=${1#*:} uid gid
  uid=$(getent passwd "$u" | cut -d: -f3) || uid=0
  gid=$(getent group "$g" | cut -d: -f3) || gid=0
  printf '%s:%s' "${uid:-0}" "${gid:-0}"
}

# --- systemd unit -------------------------------------------------------------------
# The one template for the unit. TS code gets it through `install.sh unit`.
render_unit() {
  local role=$1 guard=$2 user=$3 families syscalls="" bpffs=""
  # No role holds a capability. edge reads /var/log through its groups: the
  # user joins adm (Debian's group for log files) at install and systemd
  # applies the user's supplementary groups. A log readable only by root
  # needs an ACL for the user (setfacl -m u:edgelog:r FILE; a default ACL on
  # its directory covers rotated files), not CAP_DAC_READ_SEARCH, which would
  # open every file on the host to a process that parses untrusted input.
  case "$role" in edge|relay) ;; esac
  families="AF_INET AF_INET6 AF_UNIX"
  if [ "$guard" = 1 ]; then
    # tc/eBPF ingress guard, split by privilege: ExecStartPre=+ (full
    # privileges, short-lived) loads the program, attaches the tc filter and
    # pins the maps in /sys/fs/bpf/edgelog, owned by the service user
    # ('-': a host without eBPF still ships logs; the agent reports the
    # guard degraded). The agent keeps no CAP_BPF/CAP_NET_ADMIN/CAP_PERFMON:
    # it updates rules and reads counters through the pinned maps, which
    # needs the bpf() syscall (not in @system-service) and, to check that the
    # filter is attached, an rtnetlink query (AF_NETLINK, unprivileged).
    families="$families AF_NETLINK"
    syscalls="bpf"
    bpffs="ExecStartPre=+-${OPT}/current/bin/edgelog install guard --config ${ETC}/edgelog.yaml --user ${user}
ReadWritePaths=-/sys/fs/bpf/edgelog"
  fi
  cat <<UNIT
# edgelog log shipper, role ${role}$( [ "$guard" = 1 ] && printf ', eBPF guard on' ).
# Rendered by /opt/edgelog/current/install.sh; local changes belong in a drop-in
# (systemctl edit edgelog) because upgrades re-render this file.
[Unit]
Description=edgelog log shipper (${role})
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=300
StartLimitBurst=10

[Service]
Type=simple
User=${user}
Group=${user}
ExecStart=${OPT}/current/bin/edgelog run --config ${ETC}/edgelog.yaml
# SIGHUP = config hot reload: re-read and validate, keep the old config if invalid.
ExecReload=/bin/kill -HUP \$MAINPID
Restart=on-failure
RestartSec=5s
# The agent flushes in-flight batches and checkpoints on SIGTERM; bound it so a
# dead broker cannot hold a shutdown or an upgrade forever (acked data is safe,
# the rest is replayed from checkpoints/spool at the next start).
TimeoutStopSec=30s
KillMode=mixed
Environment=NODE_ENV=production
# Native helper (.so) and BPF object of the running release; bin/edgelog
# derives EDGELOG_NATIVE_LIB / EDGELOG_BPF_OBJ from it.
Environment=EDGELOG_NATIVE_DIR=${OPT}/current/native
Environment=EDGELOG_STATE_DIR=${STATE}
# Secrets (e.g. EDGELOG_KAFKA_PASSWORD, referenced as \${EDGELOG_KAFKA_PASSWORD}
# in the config) live in a root-owned 0600 file, never in the unit or the YAML.
EnvironmentFile=-${ETC}/edgelog.env
WorkingDirectory=${STATE}
StateDirectory=edgelog
StateDirectoryMode=0750
# Node's compile cache (bin/edgelog puts it in \$CACHE_DIRECTORY): the type-stripped
# sources and compiled code of the release, private to the service user. Without
# it every start loads the type stripper and recompiles (+28 MB RSS, a slower start).
CacheDirectory=edgelog
CacheDirectoryMode=0700
UMask=0077
LimitNOFILE=65536
# io_uring registered buffers are locked memory.
LimitMEMLOCK=64M

# Privileges: none for the long-running agent (the guard's privileged step is
# the ExecStartPre=+ line above).
CapabilityBoundingSet=
AmbientCapabilities=
NoNewPrivileges=yes

# Filesystem: everything read-only except the state dir.
ProtectSystem=strict
ReadWritePaths=${STATE}
${bpffs:+$bpffs
}ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
DevicePolicy=closed
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RemoveIPC=yes
PrivateMounts=yes
KeyringMode=private

# Kernel interfaces.
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
# MemoryDenyWriteExecute stays off: V8's JIT writes code and then makes it
# executable (mprotect W -> X), which that setting forbids; Node aborts in
# Isolate::Initialize with it on (test/install/mdwe.test.ts shows it with the
# kernel's PR_SET_MDWE). Only --jitless runs, at a large throughput cost.
MemoryDenyWriteExecute=no
SystemCallArchitectures=native
SystemCallFilter=@system-service${syscalls:+ $syscalls}
SystemCallFilter=~@mount @swap @reboot @raw-io @module @obsolete @cpu-emulation @clock
SystemCallErrorNumber=EPERM
RestrictAddressFamilies=${families}

[Install]
WantedBy=multi-user.target
UNIT
}

# --- helpers --------------------------------------------------------------------------
script_dir() { cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P; }

# The release this script belongs to: its own dir (release root) or ../.. (agent/install/ inside a release).
default_from() {
  local d; d=$(script_dir)
  if [ -f "$d/VERSION" ]; then printf '%s' "$d"; return; fi
  if [ -f "$d/../../VERSION" ]; then (cd "$d/../.." && pwd -P); return; fi
  die "no --from given and $d is not inside a release (no VERSION file); pass --from DIR|TARBALL"
}

load_env() {  # previous install choices
  local f="$ROOT$OPT/install.env"
  [ -f "$f" ] || return 0
  local k v
  while IFS='=' read -r k v; do
    case "$k" in
      ROLE) [ -n "$ROLE" ] || ROLE=$v ;;
      GUARD) [ -n "$GUARD" ] || GUARD=$v ;;
      SVC_USER) [ -n "$SVC_USER" ] || SVC_USER=$v ;;
    esac
  done <"$f"
}

current_version() {
  local t
  t=$(readlink "$ROOT$OPT/current" 2>/dev/null) || return 0
  printf '%s' "${t##*/}"
}
previous_version() {
  local t
  t=$(readlink "$ROOT$OPT/previous" 2>/dev/null) || return 0
  printf '%s' "${t##*/}"
}

systemctl_live() {  # run systemctl only on the real root with a running systemd
  if [ "$LIVE" != 1 ]; then return 0; fi
  if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
    say "systemd is not running here; skipped: systemctl $*"
    return 0
  fi
  act systemctl "$@"
}

ensure_user() {
  HAVE_USER=0
  if getent passwd "$SVC_USER" >/dev/null 2>&1; then HAVE_USER=1; return 0; fi
  if [ "$LIVE" = 1 ]; then
    act useradd --system --user-group --no-create-home --home-dir "$STATE" \
      --shell /usr/sbin/nologin --comment "edgelog log shipper" "$SVC_USER"
    # Edge nodes read /var/log files of group adm (Debian) without needing the capability for those.
    if [ "$ROLE" = edge ] && getent group adm >/dev/null 2>&1; then act usermod -a -G adm "$SVC_USER"; fi
    HAVE_USER=1
  fi
}

# The release key: --pubkey, else the one recorded at the first install.
release_pubkey() {
  if [ -n "$PUBKEY" ]; then
    [ -f "$PUBKEY" ] || die "--pubkey: $PUBKEY is not a file"
    printf '%s' "$PUBKEY"
  elif [ -f "$ROOT$ETC/release.pub" ]; then
    printf '%s' "$ROOT$ETC/release.pub"
  fi
}

# A tarball is unpacked only after both checks pass: the checksum file and
# the detached minisign signature that sit beside it (never inside: a file
# cannot vouch for the archive that carries it).
verify_tarball() {
  local tar=$1 sums="$1.sha256" sig="$1.minisig" key want got
  [ -f "$sums" ] || die "refusing $tar: no checksum file $sums beside it"
  [ -f "$sig" ] || die "refusing $tar: no signature $sig beside it"
  key=$(release_pubkey)
  [ -n "$key" ] || die "refusing $tar: no release public key (pass --pubkey FILE; it is recorded in $ETC/release.pub)"
  want=$(awk 'NR == 1 { print $1 }' "$sums")
  case "$want" in *[!0-9a-f]*|'') die "refusing $tar: $sums holds no sha256" ;; esac
  [ ${#want} = 64 ] || die "refusing $tar: $sums holds no sha256"
  got=$(sha256sum "$tar" | cut -d' ' -f1)
  [ "$got" = "$want" ] || die "refusing $tar: sha256 mismatch (file $got, $sums says $want)"
  command -v minisign >/dev/null 2>&1 || die "refusing $tar: minisign is not installed (apt-get install minisign) so the signature cannot be checked"
  minisign -V -q -m "$tar" -x "$sig" -p "$key" >/dev/null 2>&1 \
    || die "refusing $tar: signature $sig does not verify with public key $key"
  say "verified $tar: sha256 $got, signed by $(sed -n 2p "$key" | cut -c1-16)..."
}

# Record the release key at install so upgrades verify with the key the
# operator trusted, not with one that arrives with the new tarball.
record_pubkey() {
  [ -n "$PUBKEY" ] || return 0
  [ -f "$PUBKEY" ] || die "--pubkey: $PUBKEY is not a file"
  if [ -f "$ROOT$ETC/release.pub" ] && cmp -s "$PUBKEY" "$ROOT$ETC/release.pub"; then return 0; fi
  write_file "$ROOT$ETC/release.pub" 0644 <"$PUBKEY"
  own root:root 0644 "$ROOT$ETC/release.pub"
}

# Copy or unpack the release into releases/<version>; sets VERSION.
stage_release() {
  [ -n "$FROM" ] || FROM=$(default_from)
  local rel tmp src_version=""
  if [ -d "$FROM" ]; then
    [ -f "$FROM/VERSION" ] && src_version=$(tr -d ' \n' <"$FROM/VERSION")
  elif [ -f "$FROM" ]; then
    [ "$VERIFIED" = 1 ] || verify_tarball "$FROM"
    # The tarball's one top-level directory holds VERSION (not some */VERSION deeper down).
    local top
    top=$( (tar -tzf "$FROM" 2>/dev/null || true) | head -n1 | cut -d/ -f1) || true
    [ -n "$top" ] || die "--from: $FROM is not a readable .tar.gz"
    src_version=$( (tar -xzOf "$FROM" "$top/VERSION" 2>/dev/null || true) | tr -d ' \n')
  else
    die "--from: $FROM does not exist"
  fi
  [ -n "$VERSION" ] || VERSION=$src_version
  [ -n "$VERSION" ] || die "cannot tell the release version: no VERSION in $FROM and no --version"
  if [ -n "$src_version" ] && [ "$src_version" != "$VERSION" ]; then
    die "--version $VERSION does not match the release's VERSION $src_version"
  fi
  case "$VERSION" in *[!0-9A-Za-z._+-]*|.*) die "bad version '$VERSION'" ;; esac

  rel="$ROOT$OPT/releases/$VERSION"
  if [ -d "$rel" ]; then
    say "release $VERSION already present in $OPT/releases; keeping it"
    return 0
  fi
  act mkdir -p "$ROOT$OPT/releases"
  tmp="$ROOT$OPT/releases/.incoming-$VERSION.$$"
  act rm -rf "$tmp"
  act mkdir -p "$tmp"
  if [ -d "$FROM" ]; then
    act cp -a "$FROM/." "$tmp/"
  else
    act tar -xzf "$FROM" -C "$tmp" --strip-components=1 --no-same-owner
  fi
  [ "$DRY" = 1 ] || [ -x "$tmp/bin/edgelog" ] || { rm -rf "$tmp"; die "release has no executable bin/edgelog"; }
  # Releases are root-owned and not writable by the service.
  if [ "$(id -u)" = 0 ]; then act chown -R 0:0 "$tmp"; fi
  act chmod -R go-w,a+rX "$tmp"
  act mv -T "$tmp" "$rel"
}

install_config() {
  local rel="$ROOT$OPT/releases/$VERSION" dist cfg="$ROOT$ETC/edgelog.yaml"
  act mkdir -p "$ROOT$ETC"
  own "root:$SVC_USER" 0750 "$ROOT$ETC"
  dist="$rel/agent/install/defaults/$ROLE.yaml"
  if [ "$DRY" = 1 ] && [ ! -f "$dist" ]; then dist="$FROM/agent/install/defaults/$ROLE.yaml"; fi
  if [ -f "$dist" ]; then
    write_file "$ROOT$ETC/edgelog.yaml.dist" 0640 <"$dist"
    own "root:$SVC_USER" 0640 "$ROOT$ETC/edgelog.yaml.dist"
  else
    say "release has no default config for role $ROLE ($dist)"
  fi
  if [ -e "$cfg" ]; then
    say "keeping existing $ETC/edgelog.yaml (the release defaults are in $ETC/edgelog.yaml.dist)"
    return 0
  fi
  if [ -n "$CONFIG" ]; then
    [ -f "$CONFIG" ] || die "--config: $CONFIG is not a file"
    write_file "$cfg" 0640 <"$CONFIG"
  elif [ -f "$dist" ]; then
    write_file "$cfg" 0640 <"$dist"
  else
    return 0
  fi
  own "root:$SVC_USER" 0640 "$cfg"
}

install_state() {
  local d
  for d in "$STATE" "$STATE/checkpoints" "$STATE/spool"; do
    if [ ! -d "$ROOT$d" ]; then act mkdir -p "$ROOT$d"; fi
    own "$SVC_USER:$SVC_USER" 0750 "$ROOT$d"
  done
}

# The unit belongs to the release it starts: render it with that release's
# install.sh (an old installer upgrading to a new release, or a rollback to an
# old one, must not leave the other release's unit behind). Falls back to this
# script's template when the release has no installer (or under --dry-run).
install_unit() {  # install_unit VERSION
  local script="$ROOT$OPT/releases/$1/install.sh" unit
  act mkdir -p "$ROOT/etc/systemd/system"
  if [ -f "$script" ] && [ "$script" -ef "${BASH_SOURCE[0]}" ]; then
    render_unit "$ROLE" "$GUARD" "$SVC_USER" | write_file "$ROOT$UNIT" 0644
  elif [ -f "$script" ]; then
    unit=$(bash "$script" unit --root /nonexistent/edgelog-unit --role "$ROLE" \
      "$( [ "$GUARD" = 1 ] && echo --guard || echo --no-guard )" --user "$SVC_USER") \
      || die "release $1: its install.sh could not render the unit"
    printf '%s\n' "$unit" | write_file "$ROOT$UNIT" 0644
  else
    render_unit "$ROLE" "$GUARD" "$SVC_USER" | write_file "$ROOT$UNIT" 0644
  fi
}

write_env() {
  printf 'ROLE=%s\nGUARD=%s\nSVC_USER=%s\n' "$ROLE" "$GUARD" "$SVC_USER" | write_file "$ROOT$OPT/install.env" 0644
}

write_pending() {
  local f="$ROOT$OPT/ownership.pending"
  if [ -n "$PENDING_LINES" ]; then
    say "user $SVC_USER does not exist on this host: intended owners recorded in $OPT/ownership.pending"
    # Merge with an earlier run (a kept config is not re-recorded); the newest entry per path wins.
    { [ -f "$f" ] && cat "$f"; printf '%s' "$PENDING_LINES"; } |
      awk '{ line[$3] = $0 } END { for (p in line) print line[p] }' | LC_ALL=C sort -k3 | write_file "$f" 0644
  elif [ -e "$f" ]; then
    act rm -f "$f"
  fi
}

# Keep current and previous; older releases only take disk space on small nodes.
prune_releases() {
  local cur prev d v
  cur=$(current_version); prev=$(previous_version)
  for d in "$ROOT$OPT"/releases/*/; do
    [ -d "$d" ] || continue
    v=$(basename "$d")
    if [ "$v" != "$cur" ] && [ "$v" != "$prev" ]; then act rm -rf "$ROOT$OPT/releases/$v"; fi
  done
}

# --- commands -----------------------------------------------------------------------------
cmd_install() {
  local was_guard=0
  if [ -f "$ROOT$OPT/install.env" ] && grep -qx 'GUARD=1' "$ROOT$OPT/install.env"; then was_guard=1; fi
  load_env
  ROLE=${ROLE:-edge}; GUARD=${GUARD:-0}; SVC_USER=${SVC_USER:-edgelog}
  local old
  old=$(current_version)
  if [ -n "$old" ] && [ "$CMD" = install ]; then
    say "edgelog $old is already installed; installing again (use 'upgrade' to move to a new release)"
  fi
  # Verify a tarball before changing anything (user, directories, unit).
  if [ -n "$FROM" ] && [ -f "$FROM" ]; then verify_tarball "$FROM"; VERIFIED=1; fi
  ensure_user
  act mkdir -p "$ROOT$OPT"
  stage_release
  install_config
  record_pubkey
  install_state
  install_unit "$VERSION"
  write_env
  if [ -n "$old" ] && [ "$old" != "$VERSION" ]; then
    swap_link "$ROOT$OPT/previous" "releases/$old"
  fi
  swap_link "$ROOT$OPT/current" "releases/$VERSION"
  act mkdir -p "$ROOT/usr/local/bin"
  swap_link "$ROOT$BINLINK" "$OPT/current/bin/edgelog"
  write_pending
  if [ "$CMD" = upgrade ]; then prune_releases; fi
  systemctl_live daemon-reload
  # Turning the guard off: a pinned filter outlives the agent (by design), so
  # take it off the interface here, before the restart, with the new release.
  if [ "$was_guard" = 1 ] && [ "$GUARD" = 0 ] && [ "$LIVE" = 1 ] && [ -f "$ETC/edgelog.yaml" ]; then
    act "$OPT/current/bin/edgelog" install guard --detach --config "$ETC/edgelog.yaml" \
      || say "warning: the guard could not be detached; remove it with: tc filter del dev <interface> ingress"
  fi
  if [ "$START" = 1 ]; then
    if [ "$CMD" = upgrade ]; then
      systemctl_live try-restart edgelog.service
    else
      systemctl_live enable edgelog.service
      systemctl_live restart edgelog.service
    fi
  fi
  say "$( [ "$DRY" = 1 ] && printf 'dry run, would have ' )installed edgelog $VERSION (role $ROLE, guard $( [ "$GUARD" = 1 ] && echo on || echo off )) under ${ROOT:-/}"
}

cmd_upgrade() {
  [ -n "$(current_version)" ] || die "nothing installed under ${ROOT:-/}; use install"
  cmd_install
}

cmd_rollback() {
  load_env
  ROLE=${ROLE:-edge}; GUARD=${GUARD:-0}; SVC_USER=${SVC_USER:-edgelog}
  local cur prev
  cur=$(current_version); prev=$(previous_version)
  [ -n "$cur" ] || die "nothing installed under ${ROOT:-/}"
  [ -n "$prev" ] && [ -d "$ROOT$OPT/releases/$prev" ] || die "no previous release to roll back to"
  install_unit "$prev"
  swap_link "$ROOT$OPT/current" "releases/$prev"
  swap_link "$ROOT$OPT/previous" "releases/$cur"
  systemctl_live daemon-reload
  [ "$START" = 1 ] && systemctl_live try-restart edgelog.service
  say "$( [ "$DRY" = 1 ] && printf 'dry run, would have ' )rolled back from $cur to $prev"
}

cmd_uninstall() {
  load_env
  SVC_USER=${SVC_USER:-edgelog}
  if [ -f "$ROOT$UNIT" ]; then
    systemctl_live disable --now edgelog.service
    act rm -f "$ROOT$UNIT"
    systemctl_live daemon-reload
  fi
  # A pinned guard keeps filtering after the agent stops (by design, across
  # restarts); uninstall takes it off the interface with the release that put it there.
  if [ "${GUARD:-0}" = 1 ] && [ "$LIVE" = 1 ] && [ -x "$OPT/current/bin/edgelog" ] && [ -f "$ETC/edgelog.yaml" ]; then
    act "$OPT/current/bin/edgelog" install guard --detach --config "$ETC/edgelog.yaml" \
      || say "warning: the guard could not be detached; remove it with: tc filter del dev <interface> ingress"
  fi
  if [ -L "$ROOT$BINLINK" ]; then act rm -f "$ROOT$BINLINK"; fi
  if [ -d "$ROOT$OPT" ]; then act rm -rf "$ROOT$OPT"; fi
  # Only compiled copies of the releases just removed: nothing to keep.
  if [ -d "$ROOT/var/cache/edgelog" ]; then act rm -rf "$ROOT/var/cache/edgelog"; fi
  if [ "$PURGE" = 1 ]; then
    act rm -rf "$ROOT$ETC" "$ROOT$STATE"
    if [ "$LIVE" = 1 ] && getent passwd "$SVC_USER" >/dev/null 2>&1; then act userdel "$SVC_USER"; fi
    say "removed edgelog, its config and its state"
  else
    say "removed edgelog; kept $ETC and $STATE (use --purge to remove them)"
  fi
}

cmd_status() {
  load_env
  local cur prev
  cur=$(current_version); prev=$(previous_version)
  printf 'root: %s\n' "${ROOT:-/}"
  printf 'current: %s\n' "${cur:-none}"
  printf 'previous: %s\n' "${prev:-none}"
  printf 'releases: %s\n' "$(ls -1 "$ROOT$OPT/releases" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
  printf 'role: %s\n' "${ROLE:-none}"
  printf 'guard: %s\n' "$( [ "${GUARD:-0}" = 1 ] && echo on || echo off )"
  printf 'config: %s\n' "$( [ -e "$ROOT$ETC/edgelog.yaml" ] && echo present || echo absent )"
  printf 'state: %s\n' "$( [ -d "$ROOT$STATE" ] && echo present || echo absent )"
  if [ "$LIVE" = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    printf 'service: %s\n' "$(systemctl is-active edgelog.service 2>/dev/null || true)"
  else
    printf 'service: unknown (systemd not running here)\n'
  fi
  [ -n "$cur" ]
}

cmd_unit() {
  load_env
  render_unit "${ROLE:-edge}" "${GUARD:-0}" "${SVC_USER:-edgelog}"
}

# One installer at a time per root (a cloud-init run and an operator, say):
# lock the root directory itself, so no lock file is left behind.
if [ "$DRY" = 0 ] && command -v flock >/dev/null 2>&1; then
  case "$CMD" in
    install|upgrade|rollback|uninstall)
      exec 9<"${ROOT:-/}"
      flock -w 120 9 || die "another edgelog installer holds ${ROOT:-/}"
      ;;
  esac
fi

HAVE_USER=0
if [ "$LIVE" = 1 ] && [ "$(id -u)" != 0 ] && [ "$DRY" = 0 ]; then
  case "$CMD" in install|upgrade|rollback|uninstall) die "$CMD on / needs root (or use --root DIR / --dry-run)" ;; esac
fi
case "$CMD" in
  install) cmd_install ;;
  upgrade) cmd_upgrade ;;
  rollback) cmd_rollback ;;
  uninstall) cmd_uninstall ;;
  status) cmd_status ;;
  unit) cmd_unit ;;
esac
