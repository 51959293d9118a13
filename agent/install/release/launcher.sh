#!/bin/sh
# bin/edgelog of a release: runs the agent CLI on the Node runtime bundled in
# the same release, with the bundled native helper and Kafka jars. Resolves
# its own path through symlinks (/usr/local/bin/edgelog -> /opt/edgelog/current
# -> releases/<version>), so a running process keeps using the files of the
# release it started from while an upgrade swaps `current`.
set -eu
self=$(readlink -f "$0")
release=$(cd "$(dirname "$self")/.." && pwd -P)
native=${EDGELOG_NATIVE_DIR:-$release/native}
if [ -z "${EDGELOG_NATIVE_LIB:-}" ]; then
  for f in "$native"/*.so; do
    if [ -f "$f" ]; then EDGELOG_NATIVE_LIB=$f; export EDGELOG_NATIVE_LIB; break; fi
  done
fi
if [ -z "${EDGELOG_BPF_OBJ:-}" ]; then
  for f in "$native"/*.bpf.o; do
    if [ -f "$f" ]; then EDGELOG_BPF_OBJ=$f; export EDGELOG_BPF_OBJ; break; fi
  done
fi
if [ -z "${EDGELOG_KAFKA_JARS:-}" ] && [ -d "$release/kafka/libs" ]; then
  EDGELOG_KAFKA_JARS=$release/kafka/libs; export EDGELOG_KAFKA_JARS
fi
EDGELOG_RELEASE=$release; export EDGELOG_RELEASE
# Node's compile cache in the directory systemd made for the service
# (CacheDirectory=edgelog: $CACHE_DIRECTORY, private to its user); without one
# (run by hand) no cache rather than a shared, writable path.
if [ -z "${NODE_COMPILE_CACHE:-}" ] && [ -n "${CACHE_DIRECTORY:-}" ]; then
  NODE_COMPILE_CACHE=${CACHE_DIRECTORY%%:*}/node-compile-cache; export NODE_COMPILE_CACHE
fi
if [ -z "${EDGELOG_VERSION:-}" ] && [ -f "$release/VERSION" ]; then
  EDGELOG_VERSION=$(cat "$release/VERSION"); export EDGELOG_VERSION
fi
# glibc mmap threshold, the GC flags and --preserve-symlinks, as in the repository launcher (agent/cli/edgelog), which says why each.
MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-65536}; export MALLOC_MMAP_THRESHOLD_
exec "$release/bin/node" --max-semi-space-size=8 --initial-old-space-size=64 --no-parallel-scavenge --preserve-symlinks "$release/agent/cli/main.ts" "$@"
