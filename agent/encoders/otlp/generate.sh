#!/usr/bin/env bash
# Generates protobufjs static code (no reflection at run time) for logs.proto
# into generated/ (git-ignored). .ci/setup.sh runs this on every setup, so it
# returns at once when the output is newer than its inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out="$here/generated"
js="$out/logs.js"
dts="$out/logs.d.ts"
if [ -f "$js" ] && [ -f "$dts" ] && [ "$js" -nt "$here/logs.proto" ] && [ "$js" -nt "$here/generate.sh" ]; then
  exit 0
fi
bin="$root/node_modules/.bin"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# ES module wrapper; --no-create/--no-verify/--no-convert/--no-delimited/
# --no-typeurl drop helpers we never call (smaller, faster to load);
# --force-long keeps 64-bit fields exact.
"$bin/pbjs" -t static-module -w es6 --root edgelog_otlp --force-long \
  --no-create --no-verify --no-convert --no-delimited --no-typeurl --no-service \
  -o "$tmp/logs.js" "$here/logs.proto"
# Node ESM needs the file name: protobufjs has no "exports" map for the subpath.
sed -i 's#from "protobufjs/minimal"#from "protobufjs/minimal.js"#' "$tmp/logs.js"
"$bin/pbts" --no-comments -o "$tmp/logs.d.ts" "$tmp/logs.js"
mv "$tmp/logs.d.ts" "$dts"
mv "$tmp/logs.js" "$js"
