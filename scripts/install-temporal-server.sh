#!/usr/bin/env bash
# Installs the pinned Temporal server and its SQL schema tool into .tools/temporal-server unless that exact version
# is there: the server docker-compose.yml runs, persisting to PostgreSQL, for running the service on its production
# topology without Docker (README, "Production topology on one machine"). Built from the Go module proxy (about
# four minutes the first time); the PostgreSQL schemas come from the same module and are copied beside the binaries.
set -euo pipefail
TEMPORAL_SERVER_VERSION="1.29.1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.tools/temporal-server"
stamp="$dir/version"
if [ -x "$dir/temporal-server" ] && [ -x "$dir/temporal-sql-tool" ] && [ -d "$dir/schema/postgresql" ] &&
  [ "$(cat "$stamp" 2>/dev/null)" = "$TEMPORAL_SERVER_VERSION" ]; then
  exit 0
fi
echo "Installing Temporal server v$TEMPORAL_SERVER_VERSION into .tools/temporal-server (first build takes a few minutes)..." >&2
mkdir -p "$dir/gobin"
GOBIN="$dir/gobin" go install "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION"
GOBIN="$dir/gobin" go install "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
mv -f "$dir/gobin/server" "$dir/temporal-server"
mv -f "$dir/gobin/sql" "$dir/temporal-sql-tool"
rmdir "$dir/gobin"
module="$(go env GOMODCACHE)/go.temporal.io/server@v$TEMPORAL_SERVER_VERSION"
rm -rf "$dir/schema"
mkdir -p "$dir/schema"
cp -R "$module/schema/postgresql" "$dir/schema/postgresql"
chmod -R u+w "$dir/schema"
echo "$TEMPORAL_SERVER_VERSION" >"$stamp"
echo "Temporal server v$TEMPORAL_SERVER_VERSION installed" >&2
