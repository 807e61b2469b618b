import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { LOCAL_RUNTIME_LOGIN } from '../../src/db/local-runtime-role';
import { migrate } from '../../src/db/migrate';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

describe('migrations', () => {
  const url = new URL(process.env.MIGRATION_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc_test');
  url.pathname = `/bgc_migrate_${process.pid}`;
  const databaseUrl = url.toString();

  const cliName = `bgc_migrate_cli_${process.pid}`;

  afterAll(async () => {
    const admin = new Client({ connectionString: databaseUrl.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "bgc_migrate_${process.pid}" WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS "${cliName}" WITH (FORCE)`);
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

  it('npm run migrate connects as MIGRATION_DATABASE_URL (the owner), not as DATABASE_URL (the service)', async () => {
    const owner = new URL(databaseUrl);
    owner.pathname = `/${cliName}`;
    const runtime = new URL(owner);
    runtime.username = LOCAL_RUNTIME_LOGIN; // global-setup made it; it may neither create the database nor tables
    await promisify(execFile)(process.execPath, [TSX, 'src/db/migrate-cli.ts'], {
      cwd: ROOT,
      env: { ...process.env, MIGRATION_DATABASE_URL: owner.toString(), DATABASE_URL: runtime.toString() },
    });
    const client = new Client({ connectionString: owner.toString() });
    await client.connect();
    try {
      const owners = await client.query<{ owner: string }>(
        `SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`,
      );
      expect(owners.rows).toEqual([{ owner: decodeURIComponent(owner.username) }]);
    } finally {
      await client.end();
    }
  });
});
