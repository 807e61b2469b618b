import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { apiConfigSchema, loadConfig, workerConfigSchema } from '../../src/config';
import { createPool } from '../../src/db/pool';
import { ExternalApiError } from '../../src/integrations/http-client';
import { LeverClient } from '../../src/ats/lever/client';
import { apiKeyId, LeverRateLimiter, type LeverRateLimits } from '../../src/ats/lever/rate-limiter';
import {
  createLeverRateLimitPool,
  leverRateLimitsFromConfig,
  SharedLeverRateLimiter,
  UNAVAILABLE_RETRY_AFTER_MS,
} from '../../src/ats/lever/shared-rate-limit';
import { startLeverEmulator, type RunningLeverEmulator } from '../../sandbox/lever-emulator';

/**
 * The shared Lever limit on the run's real PostgreSQL, as the service's runtime role (DATABASE_URL): two limiter
 * instances on one database stand for two processes (each has its own in-process limiter in front).
 */
const RATE = { perSecond: 10, burst: 5, maxWaitMs: 10_000 };

const databaseUrl = () => {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('global setup did not provide DATABASE_URL');
  return url;
};
const newKey = () => `lever-key-${randomBytes(8).toString('hex')}`;

/** Starts `count` acquisitions at once on each limiter; resolves with every grant's time, in grant order. */
async function grantTimes(limiters: LeverRateLimits[], apiKey: string, count: number) {
  const grants: { at: number; by: number }[] = [];
  await Promise.all(
    limiters.flatMap((limiter, by) => {
      const limit = limiter.forKey(apiKey);
      return Array.from({ length: count }, () =>
        limit.acquire().then(() => {
          grants.push({ at: performance.now(), by });
        }),
      );
    }),
  );
  return grants.sort((a, b) => a.at - b.at);
}

/** The largest number of grants within any `windowMs` (each window starting at a grant). */
function busiestWindow(times: number[], windowMs = 1_000): number {
  let busiest = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && (times[j] ?? Infinity) < (times[i] ?? 0) + windowMs) j++;
    busiest = Math.max(busiest, j - i);
  }
  return busiest;
}

describe('SharedLeverRateLimiter: one Lever limit per API key across processes (real PostgreSQL)', () => {
  let pool: Pool;
  const warnings: object[] = [];
  beforeAll(() => {
    pool = createLeverRateLimitPool(databaseUrl());
  });
  afterEach(() => {
    expect(warnings).toEqual([]); // the database answered every reservation
  });
  afterAll(async () => {
    await pool?.end();
  });
  const shared = (settings: Partial<typeof RATE> = {}) =>
    new SharedLeverRateLimiter({
      pool,
      settings: { ...RATE, ...settings },
      logger: { warn: (details) => warnings.push(details) },
    });

  it('two instances on one key grant no more than the rate together', async () => {
    const [a, b] = [shared(), shared()];
    const key = newKey();
    const count = 20; // from each instance, all at once
    const grants = await grantTimes([a, b], key, count);

    const times = grants.map((g) => g.at);
    // Any second holds at most the burst and a second's worth of slots.
    expect(busiestWindow(times)).toBeLessThanOrEqual(RATE.burst + RATE.perSecond);
    // After the burst, one slot per 1/rate s: 40 grants take at least (40 - 5) / 10 = 3.5 s.
    const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
    expect(span).toBeGreaterThanOrEqual(((2 * count - RATE.burst) * 1000) / RATE.perSecond - 50);
    expect(span).toBeLessThan(((2 * count - RATE.burst) * 1000) / RATE.perSecond + 5_000);
    expect(grants.filter((g) => g.by === 0)).toHaveLength(count);
    expect(grants.filter((g) => g.by === 1)).toHaveLength(count);
    for (const limiter of [a, b]) {
      expect(limiter.stats(key)).toMatchObject({ granted: count, refused: 0, unavailable: 0 });
    }
    // The database holds the key's hash, never the key.
    const rows = await pool.query<{ key_id: string }>(
      'SELECT key_id FROM lever_rate_limits WHERE key_id = $1',
      [apiKeyId(key)],
    );
    expect(rows.rowCount).toBe(1);
    const all = await pool.query('SELECT key_id FROM lever_rate_limits');
    expect(JSON.stringify(all.rows)).not.toContain(key);
  });

  it('(control) two per-process limiters on one key together exceed the rate the check above holds', async () => {
    const grants = await grantTimes([new LeverRateLimiter(RATE), new LeverRateLimiter(RATE)], newKey(), 10);
    expect(busiestWindow(grants.map((g) => g.at))).toBeGreaterThan(RATE.burst + RATE.perSecond);
  });

  it('does not hold a second key back behind the first one’s line', async () => {
    const [a, b] = [shared(), shared()];
    const busy = newKey();
    const other = newKey();
    const order: string[] = [];
    const busyDone = Promise.all(
      [a, b].flatMap((limiter) =>
        Array.from({ length: 15 }, () => limiter.acquire(busy).then(() => order.push('busy'))),
      ),
    );
    // Once the busy key's line reaches beyond a second, the other key asks on both instances.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(order.length).toBeLessThan(20);
    const otherDone = Promise.all(
      [a, b, a].map((limiter) => limiter.acquire(other).then(() => order.push('other'))),
    );
    await Promise.all([busyDone, otherDone]);
    // All three of the other key's calls came before the busy key's last ten (a second of its slots).
    expect(order.lastIndexOf('other')).toBeLessThan(order.length - 10);
    expect(a.stats(other)).toMatchObject({ granted: 2, refused: 0 });
    expect(b.stats(other)).toMatchObject({ granted: 1, refused: 0 });
  });

  it('a pause on one instance holds the other: no slot for its length, and no burst after it', async () => {
    const [a, b] = [shared(), shared()];
    const key = newKey();
    await a.acquire(key); // the key is known to the database, with its burst nearly whole
    await a.pause(key, 1_500); // Lever answered 429 to a's request
    const started = performance.now();
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 3 }, () => b.acquire(key).then(() => times.push(performance.now() - started))),
    );
    times.sort((x, y) => x - y);
    expect(times[0]).toBeGreaterThanOrEqual(1_400);
    // After the pause, one slot per interval (100 ms), not the burst.
    expect((times[2] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(2 * 100 - 20);
    expect(a.stats(key).paused).toBe(1);
    expect(b.stats(key)).toMatchObject({ granted: 3, paused: 0 });
  });

  it('serves the later calls of started activities first while the key waits, across the shared line too', async () => {
    const [a, b] = [shared(), shared()];
    const key = newKey();
    await a.acquire(key);
    await a.pause(key, 2_500); // another process was answered 429: b's own limiter has tokens, the key has no slot
    const order: string[] = [];
    const fresh = b.acquire(key).then(() => order.push('fresh'));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the fresh call waits in b's line first
    const continuing = b.acquire(key, { continuing: true }).then(() => order.push('continuing'));
    await Promise.all([fresh, continuing]);
    expect(order).toEqual(['continuing', 'fresh']);
  });

  it('refuses at once, retryable and without using a slot, a call whose slot is further than it may wait', async () => {
    const [a, b] = [shared({ maxWaitMs: 1_000 }), shared({ maxWaitMs: 1_000 })];
    const key = newKey();
    await a.acquire(key);
    await a.pause(key, 5_000);
    const tat = async () =>
      (
        await pool.query<{ tat: Date }>('SELECT tat FROM lever_rate_limits WHERE key_id = $1', [
          apiKeyId(key),
        ])
      ).rows[0]?.tat.getTime();
    const before = await tat();
    const started = performance.now();
    const error: unknown = await b.acquire(key).catch((err: unknown) => err);
    expect(performance.now() - started).toBeLessThan(4_000); // refused, not waited out
    expect(error).toBeInstanceOf(ExternalApiError);
    expect(error).toMatchObject({ service: 'Lever', status: 429 });
    expect((error as ExternalApiError).message).toMatch(/rate limit of this API key/);
    // Retried after about the wait that was refused.
    expect((error as ExternalApiError).retryAfterMs).toBeGreaterThanOrEqual(4_000);
    // The caller's own, shorter bound too.
    await expect(b.acquire(key, { maxWaitMs: 100 })).rejects.toMatchObject({ status: 429 });
    expect(await tat()).toBe(before);
    expect(b.stats(key)).toMatchObject({ granted: 0, refused: 2, unavailable: 0 });
  });

  it('stops waiting when the caller is cancelled', async () => {
    const limiter = shared();
    const key = newKey();
    await limiter.acquire(key);
    await limiter.pause(key, 3_000);
    const controller = new AbortController();
    const waiting = limiter.acquire(key, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('activity cancelled')), 200);
    const started = performance.now();
    await expect(waiting).rejects.toThrow('activity cancelled');
    expect(performance.now() - started).toBeLessThan(2_500);
  });
});

describe('SharedLeverRateLimiter when PostgreSQL is unreachable: fails closed', () => {
  let lever: RunningLeverEmulator;
  const warnings: { obj: object; msg: string }[] = [];
  const logger = { warn: (obj: object, msg: string) => warnings.push({ obj, msg }) };
  beforeAll(async () => {
    lever = await startLeverEmulator();
  });
  afterAll(async () => {
    await lever?.close();
  });
  beforeEach(() => {
    warnings.length = 0;
  });

  /** A port nothing listens on. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  /** A server that accepts connections and never answers (a database that hangs). */
  async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return {
      port,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  const unreachableUrl = (port: number) => {
    const url = new URL(databaseUrl());
    url.host = `127.0.0.1:${port}`;
    return url.toString();
  };

  it('refuses every call with a retryable rate-limit error, sends nothing to Lever, and warns without the key', async () => {
    const pool = createLeverRateLimitPool(unreachableUrl(await closedPort()), 1_000);
    try {
      // The database really is unreachable from this pool.
      await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

      const limiter = new SharedLeverRateLimiter({ pool, settings: RATE, timeoutMs: 1_000, logger });
      const apiKey = newKey();
      lever.addApiKey(apiKey);
      const client = new LeverClient(lever.apiBaseUrl, apiKey, { rateLimiter: limiter });
      const before = lever.stats().requests;
      const errors = await Promise.all(
        Array.from({ length: 5 }, () => client.listStages().catch((err: unknown) => err)),
      );
      for (const error of errors) {
        expect(error).toBeInstanceOf(ExternalApiError);
        expect(error).toMatchObject({
          service: 'Lever',
          status: 429,
          retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS,
        });
        expect((error as ExternalApiError).message).toMatch(/could not be checked/);
      }
      expect(lever.stats().requests).toBe(before); // nothing went to Lever without a slot
      expect(limiter.stats(apiKey)).toMatchObject({ granted: 0, refused: 5, unavailable: 5 });
      // One warning for the lot (at most one per 10 s), naming neither the key nor its hash.
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.obj).toMatchObject({ code: 'ECONNREFUSED' });
      const logged = JSON.stringify(warnings);
      expect(logged).not.toContain(apiKey);
      expect(logged).not.toContain(apiKeyId(apiKey));
      // A pause that cannot be recorded still pauses this process.
      await limiter.pause(apiKey, 60_000);
      expect(limiter.stats(apiKey).paused).toBe(1);
      await expect(limiter.acquire(apiKey, { maxWaitMs: 1_000 })).rejects.toMatchObject({ status: 429 });
    } finally {
      await pool.end();
    }
  });

  it('bounds a reservation that gets no answer by the timeout, then refuses the call', async () => {
    const silent = await silentServer();
    // A pool without timeouts of its own: the limiter's bound alone ends the wait.
    const pool = createPool(unreachableUrl(silent.port), { max: 2 });
    pool.on('error', () => undefined);
    try {
      // The database really answers nothing here.
      const probe = await Promise.race([
        pool.query('SELECT 1').then(
          () => 'answered',
          () => 'failed',
        ),
        new Promise((resolve) => setTimeout(() => resolve('no answer'), 1_000)),
      ]);
      expect(probe).toBe('no answer');

      const limiter = new SharedLeverRateLimiter({ pool, settings: RATE, timeoutMs: 500, logger });
      const apiKey = newKey();
      const started = performance.now();
      await expect(limiter.acquire(apiKey)).rejects.toMatchObject({
        status: 429,
        retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS,
      });
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(RATE.maxWaitMs); // not the whole wait a caller may have
      expect(limiter.stats(apiKey)).toMatchObject({ unavailable: 1 });
      expect(warnings).toHaveLength(1);
    } finally {
      await silent.close();
      await pool.end();
    }
  });
});

describe('LEVER_RATE_* settings of the API and the worker', () => {
  const apiEnv = { ADMIN_TOKEN: 'x'.repeat(16) };
  const workerEnv = { SMTP_URL: 'smtp://127.0.0.1:2525' };

  it('shares the limit by default, on both, and lets a single-process deployment turn it off', async () => {
    for (const config of [loadConfig(apiConfigSchema, apiEnv), loadConfig(workerConfigSchema, workerEnv)]) {
      expect(config).toMatchObject({
        LEVER_RATE_PER_SECOND: 9,
        LEVER_RATE_BURST: 15,
        LEVER_RATE_MAX_WAIT_MS: 20_000,
        LEVER_RATE_SHARED: true,
        LEVER_RATE_SHARED_TIMEOUT_MS: 2_000,
      });
      const shared = leverRateLimitsFromConfig(
        { ...config, DATABASE_URL: databaseUrl() },
        { warn: () => {} },
      );
      try {
        expect(shared.shared).toBe(true);
        expect(shared.limits).toBeInstanceOf(SharedLeverRateLimiter);
        await expect(shared.limits.forKey(newKey()).acquire()).resolves.toBeUndefined();
      } finally {
        await shared.close();
      }
    }
    const alone = loadConfig(workerConfigSchema, { ...workerEnv, LEVER_RATE_SHARED: 'false' });
    const local = leverRateLimitsFromConfig(alone, { warn: () => {} });
    expect(local.shared).toBe(false);
    expect(local.limits).toBeInstanceOf(LeverRateLimiter);
    await local.close();
  });

  it('refuses a wrong value, naming the variable', () => {
    expect(() => loadConfig(workerConfigSchema, { ...workerEnv, LEVER_RATE_SHARED: 'sometimes' })).toThrow(
      /LEVER_RATE_SHARED/,
    );
    expect(() => loadConfig(apiConfigSchema, { ...apiEnv, LEVER_RATE_SHARED_TIMEOUT_MS: '0' })).toThrow(
      /LEVER_RATE_SHARED_TIMEOUT_MS/,
    );
  });
});
