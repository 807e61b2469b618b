import type { Pool } from 'pg';
import { z } from 'zod';
import { migrationNames } from './migrate';

/**
 * The group role the migrations grant the service's rights to (src/db/migrations/*_runtime-role.sql); the login
 * role in DATABASE_URL is a member of it.
 */
export const RUNTIME_ROLE = 'bgc_runtime';

const privilegesSchema = z.object({
  role: z.string(),
  superuser: z.boolean(),
  createrole: z.boolean(),
  owner: z.boolean(),
  rewrite: z.boolean(),
  ddl: z.boolean(),
});

export interface RuntimeDatabase {
  /** The role DATABASE_URL connects as. */
  role: string;
  /** Migrations of this code that the database has not had yet. */
  pending: string[];
  /** What lets that role change the schema or rewrite the append-only logs; empty when nothing does. */
  excessRights: string[];
}

/** What the API and the worker find in their database: the migrations it lacks, and rights it should not have. */
export async function inspectRuntimeDatabase(pool: Pool): Promise<RuntimeDatabase> {
  let applied: string[];
  try {
    applied = (await pool.query<{ name: string }>('SELECT name FROM pgmigrations')).rows.map((r) => r.name);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '42P01')
      applied = []; // never migrated
    else if (code === '42501') {
      throw new Error(
        `DATABASE_URL's role may not read the applied migrations (pgmigrations): run the migrations (npm run ` +
          `migrate with MIGRATION_DATABASE_URL), which grant ${RUNTIME_ROLE} its rights, and make that role a ` +
          `member of ${RUNTIME_ROLE} (README, Security)`,
        { cause: err },
      );
    } else throw err;
  }
  const done = new Set(applied);
  const pending = migrationNames().filter((name) => !done.has(name));
  const { rows } = await pool.query(
    `SELECT current_user AS role, r.rolsuper AS superuser, r.rolcreaterole AS createrole,
            pg_has_role(current_user, c.relowner, 'USAGE') AS owner,
            has_table_privilege(c.oid, 'UPDATE') OR has_table_privilege(c.oid, 'DELETE')
              OR has_table_privilege(c.oid, 'TRUNCATE') AS rewrite,
            has_schema_privilege('public', 'CREATE') AS ddl
       FROM pg_roles r, pg_class c
      WHERE r.rolname = current_user AND c.oid = to_regclass('public.check_status_log')`,
  );
  const found = rows[0] === undefined ? undefined : privilegesSchema.parse(rows[0]);
  if (found === undefined) {
    const role = (await pool.query<{ role: string }>('SELECT current_user AS role')).rows[0]?.role ?? '';
    return { role, pending, excessRights: [] };
  }
  const excessRights = [
    found.superuser && 'is a superuser',
    found.createrole && 'may create roles and grant itself others',
    found.owner && 'owns the tables (may alter them and drop their triggers)',
    found.rewrite && 'may update, delete or truncate check_status_log',
    found.ddl && 'may create objects in the schema',
  ].filter((reason): reason is string => typeof reason === 'string');
  return { role: found.role, pending, excessRights };
}

/**
 * Run by the API and the worker at start, which never migrate: refuses a schema older than the code, and in
 * production a DATABASE_URL whose role could change the schema or the append-only logs (elsewhere it warns).
 */
export async function checkRuntimeDatabase(
  pool: Pool,
  options: { production: boolean; warn: (message: string) => void },
): Promise<void> {
  const db = await inspectRuntimeDatabase(pool);
  if (db.pending.length > 0) {
    throw new Error(
      `The database lacks ${db.pending.length} migration(s) of this version (${db.pending.join(', ')}): run ` +
        `npm run migrate (node dist/src/db/migrate-cli.js in the image) with MIGRATION_DATABASE_URL first`,
    );
  }
  if (db.excessRights.length === 0) return;
  const problem =
    `DATABASE_URL connects as "${db.role}", which ${db.excessRights.join(', ')}: the API and the worker ` +
    `should connect as a login role that is a member of ${RUNTIME_ROLE} and owns nothing (README, Security)`;
  if (options.production) throw new Error(`Invalid configuration: ${problem}`);
  options.warn(problem);
}
