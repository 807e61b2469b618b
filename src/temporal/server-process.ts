import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DevServerProcess } from './dev-server-process';
import { PostgresTemporalServer } from './postgres-server-process';

/**
 * Which Temporal server the demo, the tests, the benchmarks and the fault scripts start: `dev` (default) is the
 * CLI's dev server on SQLite; `postgres` is the production server persisting to PostgreSQL, as docker-compose.yml
 * runs it (built by scripts/install-temporal-server.sh). Set with `BGC_TEMPORAL=postgres`.
 */
export type TemporalServerKind = 'dev' | 'postgres';

export function temporalServerKind(env: NodeJS.ProcessEnv = process.env): TemporalServerKind {
  const value = env.BGC_TEMPORAL ?? 'dev';
  if (value !== 'dev' && value !== 'postgres') {
    throw new Error(`BGC_TEMPORAL must be "dev" or "postgres", not "${value}"`);
  }
  return value;
}

/** What the tests, benchmarks and scripts need of either server: start, stop (an outage), start again. */
export interface TemporalServerProcess {
  readonly kind: TemporalServerKind;
  readonly address: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  start(timeoutMs?: number): Promise<void>;
  stop(killAfterMs?: number): Promise<void>;
  /** Bytes Temporal has stored: the SQLite file and its WAL, or the size of its two PostgreSQL databases. */
  storageBytes(): Promise<number>;
  /** Stops the server and removes what it stored (its folder; for `postgres`, its two databases). */
  dispose(): Promise<void>;
}

/** PostgreSQL server (superuser) for Temporal's databases: TEMPORAL_POSTGRES_URL, by default the local one. */
export function temporalPostgresUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEMPORAL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/**
 * A server of the chosen kind on free ports, storing into a new temporary folder named by `prefix` (and for
 * `postgres`, two new databases named after it); nothing runs until `start()`.
 */
export async function temporalServerInTempDir(
  prefix: string,
  kind: TemporalServerKind = temporalServerKind(),
): Promise<TemporalServerProcess> {
  if (kind === 'dev') return DevServerProcess.inTempDir(prefix);
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const stem = prefix
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 30);
  return PostgresTemporalServer.create({
    adminUrl: temporalPostgresUrl(),
    database: `t_${stem}_${randomBytes(4).toString('hex')}`,
    dir,
  });
}
