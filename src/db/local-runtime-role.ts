import { Client } from 'pg';
import { RUNTIME_ROLE } from './runtime-database';

/** The login role the tests and the demo run the API and the worker as, on a local server with trust auth. */
export const LOCAL_RUNTIME_LOGIN = 'bgc_app';

/**
 * For a local PostgreSQL where `ownerUrl`'s role may create roles (tests, demo): makes sure the login role
 * LOCAL_RUNTIME_LOGIN exists and is a member of RUNTIME_ROLE (which the migrations create and grant to), and
 * returns `ownerUrl` with that user and no password. Roles belong to the whole server, so concurrent runs on
 * other databases may be creating it too. Call it after migrating.
 */
export async function localRuntimeDatabaseUrl(ownerUrl: string): Promise<string> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  // Another run may create or grant the same at the same moment: its duplicate is as good as ours.
  const unlessDuplicate = (err: unknown) => {
    const code = (err as { code?: string }).code;
    if (code !== '42710' && code !== '23505') throw err;
  };
  try {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [LOCAL_RUNTIME_LOGIN]);
    if (exists.rowCount === 0) {
      await client
        .query(`CREATE ROLE ${LOCAL_RUNTIME_LOGIN} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`)
        .catch(unlessDuplicate);
    }
    const member = await client.query<{ member: boolean }>(`SELECT pg_has_role($1, $2, 'MEMBER') AS member`, [
      LOCAL_RUNTIME_LOGIN,
      RUNTIME_ROLE,
    ]);
    if (member.rows[0]?.member !== true)
      await client.query(`GRANT ${RUNTIME_ROLE} TO ${LOCAL_RUNTIME_LOGIN}`).catch(unlessDuplicate);
  } finally {
    await client.end();
  }
  const url = new URL(ownerUrl);
  url.username = LOCAL_RUNTIME_LOGIN;
  url.password = '';
  return url.toString();
}
