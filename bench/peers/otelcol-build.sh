#!/usr/bin/env bash
# Builds the OpenTelemetry Collector peer once per machine with the OpenTelemetry
# Collector Builder (ocb) from the Go module proxy. Only the components the bench
# uses are compiled in: filelog receiver, batch processor, kafka exporter,
# file_storage extension (the persistent sending queue). The binary is cached
# under .cache/otelcol/ and never committed. Prints the binary path on success.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION="${OTELCOL_VERSION:-0.165.0}"
OUT=".cache/otelcol/$VERSION"
BIN="$OUT/otelcol-edgelog-bench"
if [ -x "$BIN" ]; then echo "$PWD/$BIN"; exit 0; fi
mkdir -p .cache/otelcol
# One build at a time per machine: a second caller waits, then finds the binary.
exec 9>.cache/otelcol/build.lock
flock 9
if [ -x "$BIN" ]; then echo "$PWD/$BIN"; exit 0; fi
command -v go >/dev/null || { echo "otelcol-build: go not on PATH" >&2; exit 2; }
mkdir -p "$OUT"
export GOPATH="$PWD/.cache/go" GOFLAGS=-mod=mod
GOBIN="$PWD/.cache/go/bin" go install "go.opentelemetry.io/collector/cmd/builder@v$VERSION" >&2
CONTRIB=github.com/open-telemetry/opentelemetry-collector-contrib
cat > "$OUT/builder.yaml" <<YAML
dist:
  name: otelcol-edgelog-bench
  description: OpenTelemetry Collector peer for the edgelog bench
  output_path: $PWD/$OUT/build
receivers:
  - gomod: $CONTRIB/receiver/filelogreceiver v$VERSION
processors:
  - gomod: go.opentelemetry.io/collector/processor/batchprocessor v$VERSION
exporters:
  - gomod: $CONTRIB/exporter/kafkaexporter v$VERSION
extensions:
  - gomod: $CONTRIB/extension/storage/filestorage v$VERSION
YAML
"$PWD/.cache/go/bin/builder" --config "$OUT/builder.yaml" >&2
cp "$OUT/build/otelcol-edgelog-bench" "$BIN"
echo "$PWD/$BIN"
