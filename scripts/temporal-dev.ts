/**
 * Starts the Temporal dev server: persisted SQLite store with fast pragmas, the project's search attributes and
 * the Web UI. Environment: TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), TEMPORAL_DB_FILE (.data/temporal.db),
 * TEMPORAL_UI_CODEC_ENDPOINT (optional: lets the Web UI decode payloads through our codec endpoint).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SQLITE_PRAGMA_ARGS, TEMPORAL_CLI_PATH, searchAttributeArgs } from '../src/temporal/dev-server';

const dbFile = process.env.TEMPORAL_DB_FILE ?? path.resolve(__dirname, '..', '.data', 'temporal.db');
mkdirSync(path.dirname(dbFile), { recursive: true });
const args = [
  'server',
  'start-dev',
  '--ip',
  '127.0.0.1',
  '--port',
  process.env.TEMPORAL_PORT ?? '7233',
  '--ui-port',
  process.env.TEMPORAL_UI_PORT ?? '8233',
  '--db-filename',
  dbFile,
  ...SQLITE_PRAGMA_ARGS,
  ...searchAttributeArgs(),
  '--log-level',
  'warn',
  ...(process.env.TEMPORAL_UI_CODEC_ENDPOINT
    ? ['--ui-codec-endpoint', process.env.TEMPORAL_UI_CODEC_ENDPOINT]
    : []),
];
const server = spawn(TEMPORAL_CLI_PATH, args, { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
