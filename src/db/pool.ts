import { Pool, type PoolClient } from 'pg';

export interface PoolOptions {
  /** Connections at most; default 10. */
  max?: number;
  /**
   * Longest wait for a connection (ms), in the pool's queue or while a new one is opened; then the query fails
   * (see `isDatabaseUnavailable`). Default: no limit.
   */
  connectionTimeoutMs?: number;
  /** Longest wait for the answer to one query (ms), after which it fails and its connection is dropped. */
  queryTimeoutMs?: number;
  /**
   * An idle connection failed (PostgreSQL restarted, or ended it): the pool drops it and opens a new one when
   * needed. Told here; the process goes on either way.
   */
  onIdleError?: (err: Error) => void;
}

export function createPool(databaseUrl: string, options: PoolOptions = {}): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs,
    ...(options.queryTimeoutMs === undefined ? {} : { query_timeout: options.queryTimeoutMs }),
  });
  // Without a listener, pg-pool's 'error' event for an idle connection would end the process.
  pool.on('error', (err) => options.onIdleError?.(err));
  return pool;
}

/** What a process logs when an idle database connection fails: the error's code, never its text (it may hold a URL). */
export function idleErrorWarning(warn: (fields: object, message: string) => void): (err: Error) => void {
  return (err) => {
    const code = (err as { code?: unknown }).code;
    warn(
      { code: typeof code === 'string' ? code : undefined },
      'an idle PostgreSQL connection failed; reconnecting when needed',
    );
  };
}

/** pg-pool's errors when no connection came within `connectionTimeoutMillis` (it gives them no code). */
const POOL_TIMEOUT_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
];

/** Why a new connection could not be opened: refused, the server starting up, or out of connection slots. */
const CONNECT_FAILURE_CODES = ['ECONNREFUSED', '57P03', '53300'];

/** No database connection could be had: none came within the pool's timeout, or the server refused one. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (
    POOL_TIMEOUT_MESSAGES.includes(err.message) ||
    (typeof code === 'string' && CONNECT_FAILURE_CODES.includes(code))
  );
}

/** Runs `fn` in one transaction on one pooled client: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
