import { Client } from 'pg';
import { createPool } from '../../src/db/pool';

/**
 * An idle connection of the service's pools that PostgreSQL ends (a restart, an operator, a failover) is dropped
 * and replaced: the process is told and goes on. Without createPool's listener, pg-pool's 'error' event would be
 * unhandled and end the process.
 */
describe('createPool', () => {
  it('survives an idle connection ended by the server, reports it, and queries again', async () => {
    const errors: Error[] = [];
    const pool = createPool(process.env.DATABASE_URL!, { max: 1, onIdleError: (err) => errors.push(err) });
    const admin = new Client({ connectionString: process.env.MIGRATION_DATABASE_URL });
    await admin.connect();
    try {
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const pid = rows[0]!.pid;
      // The connection is idle in the pool now; the server ends it.
      const ended = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
      expect(ended.rows[0]!.ok).toBe(true);
      const deadline = Date.now() + 10_000;
      while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // The fault happened: that backend is gone, and the pool heard of it.
      const still = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      expect(still.rowCount).toBe(0);
      expect(errors.length).toBe(1);
      // And the pool goes on, on a new connection.
      const again = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(again.rows[0]!.pid).not.toBe(pid);
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});
