import { Client } from 'pg';
import { migrate } from '../../src/db/migrate';

/** Drops and recreates the test database, then runs every migration; returns its URL. */
export async function recreateDatabase(databaseUrl: string): Promise<string> {
  const url = new URL(databaseUrl);
  const name = url.pathname.replace(/^\//, '');
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  await migrate(databaseUrl);
  return databaseUrl;
}

/**
 * Runs `fn` connected to the run's database as its owner, the role that migrated it (MIGRATION_DATABASE_URL, set
 * by global-setup; the service and `stack.pool` use the runtime role of DATABASE_URL), then disconnects.
 */
export async function asOwner<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const connectionString = process.env.MIGRATION_DATABASE_URL;
  if (!connectionString) throw new Error('global setup did not provide MIGRATION_DATABASE_URL');
  const client = new Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
