/**
 * Starts the Temporal dev server: persisted SQLite store with fast pragmas, the project's search attributes and
 * the Web UI. Environment: TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), TEMPORAL_DB_FILE (.data/temporal.db),
 * TEMPORAL_UI_CODEC_ENDPOINT (the Web UI decodes payloads through it; default: the API's `/codec` on
 * 127.0.0.1:API_PORT, 8080 by default; set it empty to leave the UI without a codec endpoint).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SQLITE_PRAGMA_ARGS, TEMPORAL_CLI_PATH, searchAttributeArgs } from '../src/temporal/dev-server';

const codecEndpoint =
  process.env.TEMPORAL_UI_CODEC_ENDPOINT ?? `http://127.0.0.1:${process.env.API_PORT ?? '8080'}/codec`;
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
  ...(codecEndpoint === '' ? [] : ['--ui-codec-endpoint', codecEndpoint]),
];
const server = spawn(TEMPORAL_CLI_PATH, args, { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
