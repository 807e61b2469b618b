import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Client, type Pool } from 'pg';
import { LOCAL_RUNTIME_LOGIN, localRuntimeDatabaseUrl } from '../../src/db/local-runtime-role';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { checkRuntimeDatabase, inspectRuntimeDatabase, RUNTIME_ROLE } from '../../src/db/runtime-database';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { asOwner } from '../support/database';
import { startServiceProcess, stopProcess } from '../support/service-process';
import { startStack, type Stack } from '../support/stack';
import { eventually, startedHandle } from '../support/waits';

/**
 * The service connects to PostgreSQL as a role that holds only the rights it uses (granted to bgc_runtime by a
 * migration): everything it does works, and nothing it could be made to do changes the schema or rewrites the
 * append-only logs. global-setup runs every test's stack as that role; the migration role owns the schema.
 */
describe('database roles: the service runs as a role that cannot alter the schema or rewrite the logs', () => {
  let stack: Stack;
  let conn: Awaited<ReturnType<Stack['createConnection']>>;

  beforeAll(async () => {
    stack = await startStack({ vendorAutoAdvanceMs: 100 });
    conn = await stack.createConnection();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const statusLog = async (client: Pool | Client) =>
    (
      await client.query<{ status: string }>(
        'SELECT status FROM check_status_log WHERE connection_id = $1 ORDER BY id',
        [conn.id],
      )
    ).rows.map((r) => r.status);
  const eventCount = async (client: Pool | Client) =>
    Number(
      (
        await client.query<{ n: string }>(
          'SELECT count(*) AS n FROM connection_events WHERE connection_id = $1',
          [conn.id],
        )
      ).rows[0]?.n,
    );

  it('runs a whole Lever → Certn check, a connection change and a pause as that role', async () => {
    const role = await stack.pool.query<{ user: string; member: boolean }>(
      `SELECT current_user AS user, pg_has_role(current_user, $1, 'MEMBER') AS member`,
      [RUNTIME_ROLE],
    );
    expect(role.rows[0]).toEqual({ user: LOCAL_RUNTIME_LOGIN, member: true });
    expect(await inspectRuntimeDatabase(stack.pool)).toEqual({
      role: LOCAL_RUNTIME_LOGIN,
      pending: [],
      excessRights: [],
    });

    const posting = stack.lever.createPosting({ text: 'Database Administrator', tags: [] });
    const opp = stack.lever.createOpportunity({
      name: 'Edgar Codd',
      emails: [`edgar-${randomBytes(4).toString('hex')}@example.com`],
      tags: [],
      postingId: posting.id,
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    const [delivery] = await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
    expect(delivery?.attempts.at(-1)?.status).toBe(202);
    const handle = await startedHandle(stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id)));
    expect(((await handle.result()) as { status: string }).status).toBe('Complete');
    expect(stack.lever.opportunity(opp.id).tags).toContain('CERTN - Complete');
    expect((await statusLog(stack.pool)).at(-1)).toBe('Complete');

    const renamed = await stack.adminFetch(`/admin/connections/${conn.id}`, {
      method: 'PATCH',
      body: { name: 'Renamed by the runtime role' },
    });
    expect(renamed.status).toBe(200);
    expect((await stack.adminFetch(`/admin/connections/${conn.id}/pause`, { method: 'POST' })).status).toBe(
      200,
    );
    expect((await stack.adminFetch(`/admin/connections/${conn.id}/resume`, { method: 'POST' })).status).toBe(
      200,
    );
    expect(await eventCount(stack.pool)).toBe(4); // created, updated, paused, resumed
  });

  // Each as that role, on its own connection (a SET that worked would otherwise stay on a pooled one).
  const refused: [string, string][] = [
    ['UPDATE check_status_log', `UPDATE check_status_log SET status = 'Complete'`],
    ['DELETE FROM check_status_log', 'DELETE FROM check_status_log'],
    ['TRUNCATE check_status_log (which row triggers do not see)', 'TRUNCATE check_status_log'],
    [
      'ALTER TABLE … DISABLE TRIGGER',
      'ALTER TABLE check_status_log DISABLE TRIGGER check_status_log_no_change',
    ],
    ['ALTER TABLE … DISABLE TRIGGER ALL', 'ALTER TABLE check_status_log DISABLE TRIGGER ALL'],
    ['DROP TRIGGER', 'DROP TRIGGER check_status_log_no_change ON check_status_log'],
    ['replacing the trigger function', 'DROP FUNCTION check_status_log_is_append_only() CASCADE'],
    [
      'rewriting the trigger function',
      `CREATE OR REPLACE FUNCTION check_status_log_is_append_only() RETURNS trigger LANGUAGE plpgsql
         AS $$ BEGIN RETURN NEW; END; $$`,
    ],
    ['DROP TABLE check_status_log', 'DROP TABLE check_status_log'],
    [
      'a trigger of its own',
      `CREATE TRIGGER mine BEFORE INSERT ON check_status_log
         FOR EACH ROW EXECUTE FUNCTION check_status_log_is_append_only()`,
    ],
    ['skipping every trigger (session_replication_role)', 'SET session_replication_role = replica'],
    ['becoming the owner (SET ROLE)', 'SET ROLE postgres'],
    ['UPDATE connection_events', `UPDATE connection_events SET actor = 'someone'`],
    ['DELETE FROM connection_events', 'DELETE FROM connection_events'],
    ['TRUNCATE connection_events', 'TRUNCATE connection_events'],
    ['ALTER TABLE connection_events DISABLE TRIGGER', 'ALTER TABLE connection_events DISABLE TRIGGER ALL'],
    ['DELETE FROM connections', 'DELETE FROM connections'],
    ['CREATE TABLE (no DDL)', 'CREATE TABLE mine (id int)'],
    ['forging the applied migrations', `DELETE FROM pgmigrations`],
  ];
  it.each(refused)('refuses %s to that role, and the logs stay as they were', async (_, sql) => {
    const before = await asOwner(async (owner) => ({
      log: await statusLog(owner),
      events: await eventCount(owner),
    }));
    expect(before.log.at(-1)).toBe('Complete');
    const runtime = new Client({ connectionString: process.env.DATABASE_URL });
    await runtime.connect();
    try {
      await expect(runtime.query(sql)).rejects.toMatchObject({ code: '42501' }); // insufficient_privilege
    } finally {
      await runtime.end();
    }
    await asOwner(async (owner) => {
      expect({ log: await statusLog(owner), events: await eventCount(owner) }).toEqual(before);
      const triggers = await owner.query<{ tgname: string; tgenabled: string }>(
        `SELECT tgname, tgenabled FROM pg_trigger
          WHERE tgrelid IN ('check_status_log'::regclass, 'connection_events'::regclass) AND NOT tgisinternal
          ORDER BY tgname`,
      );
      expect(triggers.rows).toEqual([
        { tgname: 'check_status_log_no_change', tgenabled: 'O' },
        { tgname: 'connection_events_no_change', tgenabled: 'O' },
      ]);
    });
  });

  it('grants that role exactly what the service uses, on every table (a new table must be granted on purpose)', async () => {
    const privileges = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
    const granted = await asOwner(
      async (owner) =>
        (
          await owner.query<{ table: string; granted: string[] }>(
            `SELECT c.relname AS table,
                    array(SELECT p FROM unnest($2::text[]) AS p WHERE has_table_privilege($1, c.oid, p)) AS granted
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
              ORDER BY c.relname`,
            [RUNTIME_ROLE, privileges],
          )
        ).rows,
    );
    expect(Object.fromEntries(granted.map((r) => [r.table, r.granted]))).toEqual({
      ashby_assessments: ['SELECT', 'INSERT'],
      check_status_log: ['SELECT', 'INSERT'],
      connection_events: ['SELECT', 'INSERT'],
      connections: ['SELECT', 'INSERT', 'UPDATE'],
      // The shared Lever rate limit: one row per API key hash, booked and moved, never deleted.
      lever_rate_limits: ['SELECT', 'INSERT', 'UPDATE'],
      pgmigrations: ['SELECT'],
      // DELETE for the retention job (processed dedupe rows past WEBHOOK_RETENTION_MS).
      vendor_callbacks: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
      vendor_orders: ['SELECT', 'INSERT'],
      webhook_inbox: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    });
    const role = await stack.pool.query(
      `SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
    );
    expect(role.rows[0]).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolbypassrls: false,
    });
  });

  it('at start, refuses a schema older than the code, and in production a role that could alter the log', async () => {
    const warnings: string[] = [];
    const warn = (message: string) => warnings.push(message);
    await expect(checkRuntimeDatabase(stack.pool, { production: true, warn })).resolves.toBeUndefined();
    expect(warnings).toEqual([]);

    // The superuser that migrated the tests' database: it could drop the trigger.
    const owner = createPool(process.env.MIGRATION_DATABASE_URL ?? '', { max: 1 });
    try {
      await expect(checkRuntimeDatabase(owner, { production: true, warn })).rejects.toThrow(
        /^Invalid configuration: DATABASE_URL connects as "\w+", which is a superuser, .*owns the tables/,
      );
      await checkRuntimeDatabase(owner, { production: false, warn });
      expect(warnings).toEqual([expect.stringContaining(`a member of ${RUNTIME_ROLE}`)]);
    } finally {
      await owner.end();
    }

    // A database nobody migrated.
    const url = new URL(process.env.MIGRATION_DATABASE_URL ?? '');
    const name = `bgc_unmigrated_${process.pid}`;
    await asOwner((admin) => admin.query(`CREATE DATABASE "${name}"`));
    url.pathname = `/${name}`;
    const unmigrated = createPool(url.toString(), { max: 1 });
    try {
      await expect(checkRuntimeDatabase(unmigrated, { production: false, warn })).rejects.toThrow(
        /lacks \d+ migration\(s\) of this version \(1732330000000_initial, .*1732395000000_runtime-role.*\): run npm run migrate/,
      );
    } finally {
      await unmigrated.end();
      await asOwner((admin) => admin.query(`DROP DATABASE "${name}" WITH (FORCE)`));
    }
  });

  describe('the API as a production process', () => {
    // A database of its own, so that the API's inbox relay and connection sweep find nothing of the other tests.
    const ownerUrl = new URL(process.env.MIGRATION_DATABASE_URL ?? '');
    const name = `bgc_roles_api_${process.pid}`;
    ownerUrl.pathname = `/${name}`;
    const started: ChildProcess[] = [];
    beforeAll(async () => {
      await migrate(ownerUrl.toString());
    });
    afterEach(async () => {
      await Promise.all(started.splice(0).map((child) => stopProcess(child)));
    });
    afterAll(async () => {
      await asOwner((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    });

    const freePort = () =>
      new Promise<number>((resolve, reject) => {
        const server = createServer().listen(0, '127.0.0.1', () => {
          const address = server.address();
          server.close(() =>
            typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
          );
        });
      });
    const productionEnv = (databaseUrl: string, port: number): NodeJS.ProcessEnv => ({
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      ADMIN_TOKEN: randomBytes(16).toString('hex'),
      CODEC_TOKEN: randomBytes(16).toString('hex'),
      REPORT_LINK_KEY: randomBytes(32).toString('base64'),
      PUBLIC_BASE_URL: 'https://bgc.example.com',
      // The tests let the service call the emulators over http://; production never does.
      ALLOW_HTTP_URLS: 'false',
    });

    it('refuses to start with the owner’s DATABASE_URL, and starts with the runtime role’s', async () => {
      const child = startServiceProcess('src/main.ts', productionEnv(ownerUrl.toString(), await freePort()), {
        captureStderr: true,
      });
      started.push(child);
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/Invalid configuration: DATABASE_URL connects as "\w+", which is a superuser/);

      const port = await freePort();
      const runtimeUrl = await localRuntimeDatabaseUrl(ownerUrl.toString());
      started.push(startServiceProcess('src/main.ts', productionEnv(runtimeUrl, port)));
      await eventually(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ? true : undefined,
        60_000,
        'the API to answer /healthz',
      );
    });
  });
});
