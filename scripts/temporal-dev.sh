#!/usr/bin/env bash
# Starts the Temporal dev server with a persisted SQLite store, fast pragmas, the project's search attributes
# and the Web UI. Environment: TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), TEMPORAL_DB_FILE, TEMPORAL_UI_CODEC_ENDPOINT.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-temporal.sh"
db_file="${TEMPORAL_DB_FILE:-$root/.data/temporal.db}"
mkdir -p "$(dirname "$db_file")"
args=(server start-dev
  --ip 127.0.0.1
  --port "${TEMPORAL_PORT:-7233}"
  --ui-port "${TEMPORAL_UI_PORT:-8233}"
  --db-filename "$db_file"
  --sqlite-pragma journal_mode=wal
  --sqlite-pragma synchronous=normal
  --search-attribute BgcStatus=Keyword
  --search-attribute BgcVendor=Keyword
  --search-attribute BgcConnection=Keyword
  --log-level warn)
if [ -n "${TEMPORAL_UI_CODEC_ENDPOINT:-}" ]; then
  args+=(--ui-codec-endpoint "$TEMPORAL_UI_CODEC_ENDPOINT")
fi
exec "$root/.tools/bin/temporal" "${args[@]}"
