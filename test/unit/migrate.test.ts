import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../src/db/migrate';

describe('migrations', () => {
  const url = new URL(process.env.MIGRATION_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc_test');
  url.pathname = `/bgc_migrate_${process.pid}`;
  const databaseUrl = url.toString();

  afterAll(async () => {
    const admin = new Client({ connectionString: databaseUrl.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "bgc_migrate_${process.pid}" WITH (FORCE)`);
    await admin.end();
  });

  it('creates a missing database and lets several processes migrate it at once', async () => {
    await Promise.all([migrate(databaseUrl), migrate(databaseUrl), migrate(databaseUrl)]);
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining([
          'connections',
          'webhook_inbox',
          'vendor_callbacks',
          'vendor_orders',
          'check_status_log',
        ]),
      );
      const applied = await client.query('SELECT name FROM pgmigrations');
      const files = readdirSync(path.join(__dirname, '../../src/db/migrations')).filter((f) =>
        f.endsWith('.sql'),
      );
      expect(applied.rowCount).toBe(files.length);
    } finally {
      await client.end();
    }
  });
});
