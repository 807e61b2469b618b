import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { runner } from 'node-pg-migrate';

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** The migrations of this code, by the name node-pg-migrate records in `pgmigrations` (the file without `.sql`). */
export function migrationNames(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => file.slice(0, -'.sql'.length))
    .sort();
}

/** Creates the database named in the URL when it does not exist yet (connecting to `postgres` to do so). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error('DATABASE_URL must name a database of [A-Za-z0-9_]');
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
      } catch (err) {
        // Another process created it between our check and our create (duplicate database, or the catalog's
        // unique index when both creates ran at the same moment).
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
  } finally {
    await admin.end();
  }
}

/**
 * Brings the schema up to date. node-pg-migrate takes an advisory lock and fails at once when another process
 * holds it, so the API and the worker starting together wait for each other here instead of crashing.
 */
export async function migrate(
  databaseUrl: string,
  log: (msg: string) => void = () => undefined,
  lockWaitMs = 60_000,
): Promise<void> {
  await ensureDatabase(databaseUrl);
  const deadline = Date.now() + lockWaitMs;
  for (;;) {
    try {
      await runner({
        databaseUrl,
        dir: MIGRATIONS_DIR,
        migrationsTable: 'pgmigrations',
        direction: 'up',
        count: Infinity,
        checkOrder: true,
        singleTransaction: true,
        log,
      });
      return;
    } catch (err) {
      const locked = err instanceof Error && /Another migration is already running/.test(err.message);
      if (!locked || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
