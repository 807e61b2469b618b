import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createPool } from '../../db/pool';
import { ExternalApiError } from '../../integrations/http-client';
import {
  abortReason,
  apiKeyId,
  DEFAULT_LEVER_RATE_LIMIT,
  LeverRateLimiter,
  rateLimitWaitError,
  type AcquireOptions,
  type KeyRateLimit,
  type LeverRateLimits,
  type LeverRateLimitSettings,
  type LeverRateLimitStats,
} from './rate-limiter';

/**
 * Lever's limit (10 requests/s per API key) holds for the key, not for a process: two workers on one key, each
 * within its own limit, make Lever answer 429. `SharedLeverRateLimiter` makes the limit hold across every API
 * and worker process, with its state in the service's PostgreSQL (table `lever_rate_limits`, one row per key,
 * keyed by `apiKeyId()`, never the key).
 *
 * - **GCRA on PostgreSQL's clock.** A row holds the key's theoretical arrival time `tat`. One statement reserves
 *   the next request slot: `tat = GREATEST(tat, now) + interval`, the slot being `tat - burst × interval`
 *   (`interval` = 1 / LEVER_RATE_PER_SECOND), so a quiet key has `burst` slots at once and then one per interval,
 *   whichever process asks. `now` is `clock_timestamp()` of the database, so processes never compare their own
 *   clocks. The caller gets the wait until its slot, measured on that clock, and sleeps it after the answer came:
 *   a request never goes out before its slot.
 * - **The process's own limiter in front.** A call first takes a token of this process's `LeverRateLimiter`
 *   (same settings): one process alone never exceeds the limit, its waiting callers are ordered there
 *   (continuing callers first), and the database sees at most one reservation per token.
 * - **Short bookings, fair line.** A process books a slot at most `horizonMs` (1 s) ahead. Its callers that
 *   have a token wait in the key's line (continuing callers first); the head books, and when the next slot is
 *   further away, the line sleeps until it comes within the horizon and asks again. So a continuing call is
 *   not stuck behind slots booked far ahead by callers that have not started, and processes take turns.
 * - **Bounded waits.** A call never waits past its `maxWaitMs` (and the limiter's): when the next slot is
 *   further, it fails at once with the same retryable `429`-like error as the process's limiter
 *   (`rateLimitWaitError`). An `AbortSignal` stops the wait (a booked slot then goes unused).
 * - **`pause(ms)`** (Lever answered 429/503) pauses the process's limiter and moves the key's `tat` so that no
 *   process gets a slot for `ms`, and slots come one interval apart after that (no burst).
 * - **Fails closed.** When PostgreSQL cannot be reached, fails, or takes longer than `timeoutMs` (2 s, the wait
 *   for a pool connection included), no request goes to Lever: the calls waiting in the key's line fail with a
 *   retryable `429`-like error (`sharedLimitUnavailableError`, retry after 5 s; Temporal retries the activity),
 *   and a warning without the key or the error's details is logged (at most one every 10 s). A failed `pause`
 *   is logged and leaves the pause to this process's limiter.
 */

/** Longest one reservation may take, waiting for a pool connection included (LEVER_RATE_SHARED_TIMEOUT_MS). */
export const DEFAULT_SHARED_TIMEOUT_MS = 2_000;
/** How far ahead a process books a slot: beyond it, callers wait in the process's line. */
export const DEFAULT_SHARED_HORIZON_MS = 1_000;
/** When a call refused because the shared limit could not be checked is retried. */
export const UNAVAILABLE_RETRY_AFTER_MS = 5_000;
/** At most one warning per this many ms while the database fails. */
const WARNING_INTERVAL_MS = 10_000;
/** Connections of the limiter's own pool: one reservation at a time per busy key and process. */
const POOL_SIZE = 4;

/** Refusal when the shared limit could not be checked: retryable, shaped like Lever's own 429. */
export function sharedLimitUnavailableError(): ExternalApiError {
  return new ExternalApiError(
    'Lever',
    429,
    'Lever rate limit of this API key could not be checked (the shared limit in PostgreSQL did not answer); ' +
      'no request was sent, retrying later',
    UNAVAILABLE_RETRY_AFTER_MS,
  );
}

const ms = (expression: string) => `(${expression})::float8 * interval '1 millisecond'`;

/**
 * $1 key id, $2 interval (ms), $3 burst × interval (ms), $4 horizon (ms). Books the next slot if it is at most
 * the horizon away; answers whether it did and the wait until the slot (booked, or the next one if refused).
 */
const RESERVE_SQL = `
WITH c AS (SELECT clock_timestamp() AS now),
reserved AS (
  INSERT INTO lever_rate_limits AS l (key_id, tat)
  SELECT $1, c.now + ${ms('$2')} FROM c
  ON CONFLICT (key_id) DO UPDATE
     SET tat = GREATEST(l.tat, (SELECT now FROM c)) + ${ms('$2')}
   WHERE GREATEST(l.tat, (SELECT now FROM c)) + ${ms('$2::float8 - $3::float8 - $4::float8')} <= (SELECT now FROM c)
  RETURNING l.tat
)
SELECT r.tat IS NOT NULL AS granted,
       (extract(epoch FROM COALESCE(r.tat, GREATEST(cur.tat, c.now) + ${ms('$2')}) - c.now) * 1000
         - $3::float8)::float8 AS wait_ms
  FROM c LEFT JOIN reserved r ON true LEFT JOIN lever_rate_limits cur ON cur.key_id = $1`;

/** $1 key id, $2 pause + (burst - 1) × interval (ms): the next slot is the pause away, then one per interval. */
const PAUSE_SQL = `
INSERT INTO lever_rate_limits AS l (key_id, tat) VALUES ($1, clock_timestamp() + ${ms('$2')})
ON CONFLICT (key_id) DO UPDATE SET tat = GREATEST(l.tat, excluded.tat)`;

const reservationSchema = z.object({ granted: z.boolean(), wait_ms: z.number() });

export interface Reservation {
  granted: boolean;
  /** ms from the database's now to the booked slot, or to the next slot when refused (≤ 0: now). */
  waitMs: number;
}

/** The two statements on `lever_rate_limits`, each bounded by `timeoutMs`. */
export class LeverRateLimitStore {
  constructor(
    private readonly pool: Pool,
    private readonly timeoutMs: number,
  ) {}

  async reserve(keyId: string, intervalMs: number, burst: number, horizonMs: number): Promise<Reservation> {
    const { rows } = await this.query('lever_rate_reserve', RESERVE_SQL, [
      keyId,
      intervalMs,
      burst * intervalMs,
      horizonMs,
    ]);
    const row = reservationSchema.parse(rows[0]);
    return { granted: row.granted, waitMs: row.wait_ms };
  }

  async pause(keyId: string, pauseMs: number, intervalMs: number, burst: number): Promise<void> {
    await this.query('lever_rate_pause', PAUSE_SQL, [keyId, pauseMs + (burst - 1) * intervalMs]);
  }

  private query(name: string, text: string, values: unknown[]) {
    const query = this.pool.query<Record<string, unknown>>({ name, text, values });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from PostgreSQL within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    query.catch(() => undefined); // a late failure after the timeout is no one's to handle
    return Promise.race([query, timeout]).finally(() => clearTimeout(timer));
  }
}

/** Where the limiter's warnings go (the service's pino logger). */
export interface WarnLogger {
  warn(details: object, message: string): void;
}

export interface SharedLeverRateLimitOptions {
  /** The service's database (a pool with bounded timeouts: `createLeverRateLimitPool`). */
  pool: Pool;
  /** Rate, burst and longest wait, the same on every process (LEVER_RATE_*). */
  settings?: Partial<LeverRateLimitSettings>;
  /** Longest one reservation may take (LEVER_RATE_SHARED_TIMEOUT_MS). */
  timeoutMs?: number;
  /** How far ahead a process books a slot. */
  horizonMs?: number;
  logger?: WarnLogger;
}

export interface SharedLeverRateLimitStats extends LeverRateLimitStats {
  /** Calls refused because the shared limit could not be checked (counted in `refused` too). */
  unavailable: number;
}

interface Waiter {
  deadline: number;
  limitMs: number;
  /** Called with the wait until the booked slot (ms). */
  resolve: (waitMs: number) => void;
  reject: (err: Error) => void;
  detach: () => void;
}

interface Line {
  /** Callers that hold a token of this process and wait for a shared slot: continuing ones first. */
  continuing: Waiter[];
  fresh: Waiter[];
  /** Whether the loop that books slots for this line runs. */
  draining: boolean;
  /** When (performance.now()) the next slot is expected, from the last refusal; 0 after a booking. */
  nextSlotAt: number;
  stats: SharedLeverRateLimitStats;
  /** The key in this process's limiter. */
  local: KeyRateLimit;
}

/** Lever's limit per API key across every process: this process's limiter, then a slot booked in PostgreSQL. */
export class SharedLeverRateLimiter implements LeverRateLimits {
  readonly settings: LeverRateLimitSettings;
  private readonly local: LeverRateLimiter;
  private readonly store: LeverRateLimitStore;
  private readonly intervalMs: number;
  private readonly horizonMs: number;
  private readonly logger: WarnLogger | undefined;
  private readonly lines = new Map<string, Line>();
  private lastWarningAt = -Infinity;
  private failuresSinceWarning = 0;

  constructor(options: SharedLeverRateLimitOptions) {
    this.settings = { ...DEFAULT_LEVER_RATE_LIMIT, ...options.settings };
    this.local = new LeverRateLimiter(this.settings); // validates the settings
    this.store = new LeverRateLimitStore(options.pool, options.timeoutMs ?? DEFAULT_SHARED_TIMEOUT_MS);
    this.intervalMs = 1000 / this.settings.perSecond;
    this.horizonMs = options.horizonMs ?? DEFAULT_SHARED_HORIZON_MS;
    this.logger = options.logger;
  }

  forKey(apiKey: string): KeyRateLimit {
    const id = apiKeyId(apiKey);
    const local = this.local.forKey(apiKey);
    return {
      acquire: (options) => this.acquireById(id, local, options),
      pause: (pauseMs) => void this.pauseById(id, local, pauseMs),
      stats: () => this.statsById(id),
    };
  }

  acquire(apiKey: string, options?: AcquireOptions): Promise<void> {
    return this.forKey(apiKey).acquire(options);
  }

  /** Pauses the key in this process at once, and for every process once the returned promise has settled. */
  pause(apiKey: string, pauseMs: number): Promise<void> {
    return this.pauseById(apiKeyId(apiKey), this.local.forKey(apiKey), pauseMs);
  }

  stats(apiKey: string): SharedLeverRateLimitStats {
    return this.statsById(apiKeyId(apiKey));
  }

  private async acquireById(id: string, local: KeyRateLimit, options: AcquireOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const line = this.line(id, local);
    const started = performance.now();
    const limitMs = Math.max(0, Math.min(this.settings.maxWaitMs, options.maxWaitMs ?? Infinity));
    const continuing = options.continuing === true;
    try {
      await local.acquire({ continuing, maxWaitMs: limitMs, ...(signal === undefined ? {} : { signal }) });
    } catch (err) {
      if (err instanceof ExternalApiError) line.stats.refused += 1;
      throw err;
    }
    const localWaitedMs = performance.now() - started;
    const waitMs = await this.enqueue(id, line, { continuing, deadline: started + limitMs, limitMs, signal });
    await sleep(waitMs, signal);
    const waited = performance.now() - started;
    line.stats.granted += 1;
    if (waitMs > 0 || localWaitedMs >= 1) line.stats.waited += 1;
    line.stats.totalWaitedMs += waited;
    line.stats.maxWaitedMs = Math.max(line.stats.maxWaitedMs, waited);
  }

  /** Waits in the key's line for a booked slot; resolves with the wait until it. */
  private enqueue(
    id: string,
    line: Line,
    request: { continuing: boolean; deadline: number; limitMs: number; signal: AbortSignal | undefined },
  ): Promise<number> {
    const { signal, deadline, limitMs } = request;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const now = performance.now();
    // The line knows the next slot is further than this caller may wait: no need to ask.
    if (line.nextSlotAt > deadline) {
      line.stats.refused += 1;
      return Promise.reject(rateLimitWaitError(line.nextSlotAt - now, limitMs));
    }
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        this.remove(line, waiter);
        reject(abortReason(signal));
      };
      // Still in line at its deadline (e.g. behind continuing callers): refused like any wait too long.
      const expiry = setTimeout(
        () => {
          this.remove(line, waiter);
          line.stats.refused += 1;
          waiter.detach();
          reject(rateLimitWaitError(Math.max(line.nextSlotAt - performance.now(), 0), limitMs));
        },
        Math.max(0, deadline - now),
      );
      const waiter: Waiter = {
        deadline,
        limitMs,
        resolve,
        reject,
        detach: () => {
          clearTimeout(expiry);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      (request.continuing ? line.continuing : line.fresh).push(waiter);
      line.stats.maxQueue = Math.max(line.stats.maxQueue, line.continuing.length + line.fresh.length);
      void this.drain(id, line);
    });
  }

  /** Books slots for the line's head, one after the other, until the line is empty. */
  private async drain(id: string, line: Line): Promise<void> {
    if (line.draining) return;
    line.draining = true;
    try {
      for (;;) {
        const head = line.continuing[0] ?? line.fresh[0];
        if (head === undefined) return;
        const horizonMs = Math.min(this.horizonMs, Math.max(0, head.deadline - performance.now()));
        let reservation: Reservation;
        try {
          reservation = await this.store.reserve(id, this.intervalMs, this.settings.burst, horizonMs);
        } catch (err) {
          this.unavailable(line, err);
          continue;
        }
        const now = performance.now();
        if (reservation.granted) {
          line.nextSlotAt = 0;
          // The head may have given up meanwhile (cancelled, or its deadline came): its slot goes unused.
          if (this.remove(line, head)) {
            head.detach();
            head.resolve(Math.max(0, reservation.waitMs));
          }
          continue;
        }
        // No slot within the horizon: who cannot get one before their deadline fails now, the rest sleep until
        // the next slot comes within the horizon and ask again.
        line.nextSlotAt = now + reservation.waitMs;
        for (const waiter of [...line.continuing, ...line.fresh]) {
          if (waiter.deadline < line.nextSlotAt) {
            this.remove(line, waiter);
            line.stats.refused += 1;
            waiter.detach();
            waiter.reject(rateLimitWaitError(reservation.waitMs, waiter.limitMs));
          }
        }
        if (line.continuing.length + line.fresh.length === 0) return;
        await sleep(Math.max(reservation.waitMs - this.horizonMs, this.intervalMs));
      }
    } finally {
      line.draining = false;
    }
  }

  private async pauseById(id: string, local: KeyRateLimit, pauseMs: number): Promise<void> {
    if (!(pauseMs > 0)) return;
    local.pause(pauseMs);
    this.line(id, local).stats.paused += 1;
    try {
      await this.store.pause(id, pauseMs, this.intervalMs, this.settings.burst);
    } catch (err) {
      this.warn(err, 'pause');
    }
  }

  /** The database failed: every caller in the line fails (retryable), none goes to Lever without a slot. */
  private unavailable(line: Line, err: unknown): void {
    const waiters = [...line.continuing, ...line.fresh];
    line.continuing.length = 0;
    line.fresh.length = 0;
    line.stats.refused += waiters.length;
    line.stats.unavailable += waiters.length;
    for (const waiter of waiters) {
      waiter.detach();
      waiter.reject(sharedLimitUnavailableError());
    }
    this.warn(err, 'reserve');
  }

  /** A warning without the key or the error's details (a driver's message may quote a query or a value). */
  private warn(err: unknown, what: 'reserve' | 'pause'): void {
    this.failuresSinceWarning += 1;
    const now = performance.now();
    if (now - this.lastWarningAt < WARNING_INTERVAL_MS) return;
    this.logger?.warn(
      { what, code: errorCode(err), failures: this.failuresSinceWarning },
      what === 'reserve'
        ? 'Lever rate limit: PostgreSQL did not reserve a request slot (unreachable, failing or too slow); ' +
            'the waiting Lever calls fail as rate-limited and are retried'
        : 'Lever rate limit: PostgreSQL did not record a pause of an API key; only this process pauses',
    );
    this.lastWarningAt = now;
    this.failuresSinceWarning = 0;
  }

  private remove(line: Line, waiter: Waiter): boolean {
    for (const queue of [line.continuing, line.fresh]) {
      const index = queue.indexOf(waiter);
      if (index >= 0) {
        queue.splice(index, 1);
        return true;
      }
    }
    return false;
  }

  private line(id: string, local: KeyRateLimit): Line {
    let line = this.lines.get(id);
    if (line === undefined) {
      if (this.lines.size >= 1_000) this.sweepIdle();
      line = { continuing: [], fresh: [], draining: false, nextSlotAt: 0, stats: emptyStats(), local };
      this.lines.set(id, line);
    }
    return line;
  }

  private statsById(id: string): SharedLeverRateLimitStats {
    const line = this.lines.get(id);
    if (line === undefined) return emptyStats();
    // The longest line of the two: this process's callers waiting for a token, or for a slot.
    return { ...line.stats, maxQueue: Math.max(line.stats.maxQueue, line.local.stats().maxQueue) };
  }

  /** Forgets keys nobody waits on (their stats go with them). */
  private sweepIdle(): void {
    for (const [id, line] of this.lines) {
      if (!line.draining && line.continuing.length + line.fresh.length === 0) this.lines.delete(id);
    }
  }
}

function emptyStats(): SharedLeverRateLimitStats {
  return {
    granted: 0,
    waited: 0,
    refused: 0,
    paused: 0,
    maxQueue: 0,
    maxWaitedMs: 0,
    totalWaitedMs: 0,
    unavailable: 0,
  };
}

/** A PostgreSQL SQLSTATE or a Node error code (ECONNREFUSED, …); nothing else of the error. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? code : 'timeout-or-unknown';
}

/** Resolves after `waitMs` (at once when ≤ 0); rejects when `signal` aborts first. */
function sleep(waitMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (!(waitMs > 0)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.ceil(waitMs));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The pool the shared limit books through: its own few connections, every wait bounded by `timeoutMs`. */
export function createLeverRateLimitPool(databaseUrl: string, timeoutMs = DEFAULT_SHARED_TIMEOUT_MS): Pool {
  return createPool(databaseUrl, {
    max: POOL_SIZE,
    connectionTimeoutMs: timeoutMs,
    queryTimeoutMs: timeoutMs,
  });
}

/** The LEVER_RATE_* settings of src/config.ts. */
export interface LeverRateLimitConfig {
  DATABASE_URL: string;
  LEVER_RATE_PER_SECOND: number;
  LEVER_RATE_BURST: number;
  LEVER_RATE_MAX_WAIT_MS: number;
  LEVER_RATE_SHARED: boolean;
  LEVER_RATE_SHARED_TIMEOUT_MS: number;
}

/**
 * The Lever limits of an API or worker process: shared through PostgreSQL (its own small pool, closed by
 * `close`), or this process's alone with LEVER_RATE_SHARED=false.
 */
export function leverRateLimitsFromConfig(
  config: LeverRateLimitConfig,
  logger: WarnLogger,
): { limits: LeverRateLimits; shared: boolean; close(): Promise<void> } {
  const settings = {
    perSecond: config.LEVER_RATE_PER_SECOND,
    burst: config.LEVER_RATE_BURST,
    maxWaitMs: config.LEVER_RATE_MAX_WAIT_MS,
  };
  if (!config.LEVER_RATE_SHARED) {
    return { limits: new LeverRateLimiter(settings), shared: false, close: () => Promise.resolve() };
  }
  // An idle connection that breaks (the server restarted) does not end the process (createPool listens).
  const pool = createLeverRateLimitPool(config.DATABASE_URL, config.LEVER_RATE_SHARED_TIMEOUT_MS);
  const limits = new SharedLeverRateLimiter({
    pool,
    settings,
    timeoutMs: config.LEVER_RATE_SHARED_TIMEOUT_MS,
    logger,
  });
  return { limits, shared: true, close: () => pool.end() };
}
