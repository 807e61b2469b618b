#!/usr/bin/env bash
# Installs the pinned Temporal CLI (dev server + Web UI) into .tools/bin unless that exact version is there.
# It is built from the Go module proxy: no prebuilt binary can be downloaded on our machines.
set -euo pipefail
TEMPORAL_CLI_VERSION="1.5.1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin/temporal"
stamp="$root/.tools/bin/temporal.version"
# BGC_TEMPORAL=postgres runs the demo, the tests and the benchmarks on the production server (PostgreSQL) instead.
if [ "${BGC_TEMPORAL:-dev}" = "postgres" ]; then
  bash "$root/scripts/install-temporal-server.sh"
fi
# A `go install` build reports its version as 0.0.0-DEV, so a stamp file records which version was built.
if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$TEMPORAL_CLI_VERSION" ]; then
  exit 0
fi
echo "Installing Temporal CLI v$TEMPORAL_CLI_VERSION into .tools/bin (first build takes a few minutes)..." >&2
mkdir -p "$root/.tools/bin"
GOBIN="$root/.tools/bin" go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION"
echo "$TEMPORAL_CLI_VERSION" >"$stamp"
"$bin" --version >&2
