import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ExternalApiError } from '../../integrations/http-client';

/**
 * Lever allows 10 requests/s per API key with bursts to 20 and answers `429` (without Retry-After) beyond
 * that. Every Lever call of this process first takes a token from the bucket of its API key here; a caller
 * without a token **waits** in line instead of failing, up to a bound (so the activity making the call never
 * runs into its start-to-close timeout); past it the call fails at once with a retryable `429`-like error
 * whose `retryAfterMs` is the estimated wait, and Temporal's retry takes over.
 *
 * - Per key: different API keys (connections) never wait for each other.
 * - Fair and efficient: a caller that already made a call (the second and later calls of one activity) is
 *   served before callers that have not started yet, so activities that hold a token finish instead of
 *   running out of time half-way and wasting the tokens they used.
 * - A `429` or `503` from Lever pauses the key for its Retry-After (or `DEFAULT_429_PAUSE_MS` for a `429`
 *   without one).
 *
 * This limit holds per process. `SharedLeverRateLimiter` (shared-rate-limit.ts) puts it in front of a slot
 * reservation in PostgreSQL, so that the limit holds across every API and worker process.
 *
 * API keys are never stored: buckets are keyed by a SHA-256 of the key.
 */

export interface LeverRateLimitSettings {
  /** Tokens added per second: the steady request rate. */
  perSecond: number;
  /** Size of the bucket: requests that may go out at once after a quiet period. */
  burst: number;
  /** Longest a call waits for a token; a longer wait fails the call (retryable) instead. */
  maxWaitMs: number;
}

/** Slightly under Lever's 10/s with burst 20, leaving room for clock skew and network jitter. */
export const DEFAULT_LEVER_RATE_LIMIT: LeverRateLimitSettings = {
  perSecond: 9,
  burst: 15,
  maxWaitMs: 20_000,
};

/** How long a key is paused after a `429` without Retry-After: Lever's bucket refills 10 tokens in that time. */
export const DEFAULT_429_PAUSE_MS = 1_000;

/** Time source and timers; tests use a fake one. */
export interface LimiterClock {
  now(): number;
  /** Calls `fn` after `ms`; returns a function that cancels the timer. */
  schedule(fn: () => void, ms: number): () => void;
}

export const systemClock: LimiterClock = {
  now: () => performance.now(),
  schedule: (fn, ms) => {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

export interface AcquireOptions {
  /** The caller already made a call in this unit of work (an activity): it is served first. */
  continuing?: boolean;
  /** Bound on this wait, below the limiter's `maxWaitMs` (e.g. what is left of an activity's time). */
  maxWaitMs?: number;
  /** Stops waiting (the activity was cancelled); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Counters of one API key; they never name the key. */
export interface LeverRateLimitStats {
  /** Tokens handed out (each is one request sent to Lever). */
  granted: number;
  /** Of these, how many had to wait for their token. */
  waited: number;
  /** Calls refused because the wait would have been longer than allowed. */
  refused: number;
  /** Pauses after a 429/503 from Lever. */
  paused: number;
  /** Longest line of waiting callers seen. */
  maxQueue: number;
  /** Longest and total wait for a token, in ms. */
  maxWaitedMs: number;
  totalWaitedMs: number;
}

interface Waiter {
  enqueuedAt: number;
  deadline: number;
  resolve: () => void;
  reject: (err: Error) => void;
  detach: () => void;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** Callers that already made a call (served first), then new callers; each in arrival order. */
  continuing: Waiter[];
  fresh: Waiter[];
  cancelTimer: (() => void) | undefined;
  stats: LeverRateLimitStats;
}

/** What a LeverClient holds: the limit of one API key, without the key. */
export interface KeyRateLimit {
  acquire(options?: AcquireOptions): Promise<void>;
  /** Lever answered 429/503: no token for `ms` (and no burst right after). */
  pause(ms: number): void;
  stats(): LeverRateLimitStats;
}

/** Limits per Lever API key: this process's (`LeverRateLimiter`) or every process's (`SharedLeverRateLimiter`). */
export interface LeverRateLimits {
  /** The limit of one API key (the key itself is hashed at once and not kept). */
  forKey(apiKey: string): KeyRateLimit;
}

/** Hash of an API key: the only form in which keys are kept (map keys), never logged. */
export function apiKeyId(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 32);
}

/** A refusal to wait: shaped like Lever's own 429 so activities classify it as retryable `RateLimited`. */
export function rateLimitWaitError(waitMs: number, limitMs: number): ExternalApiError {
  const retryAfterMs = Math.max(1_000, Math.ceil(waitMs / 100) * 100);
  return new ExternalApiError(
    'Lever',
    429,
    `Lever rate limit of this API key: the next request slot is ${(waitMs / 1000).toFixed(1)} s away, ` +
      `longer than the ${(limitMs / 1000).toFixed(1)} s this call may wait; retrying later`,
    retryAfterMs,
  );
}

const IDLE_BUCKETS_SWEEP_AT = 1_000;
/** Tolerance for floating-point refill arithmetic (a token due "now" must count as there). */
const EPSILON = 1e-9;

/** Token buckets per Lever API key, shared by every LeverClient of the process (or of one worker). */
export class LeverRateLimiter implements LeverRateLimits {
  readonly settings: LeverRateLimitSettings;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    settings: Partial<LeverRateLimitSettings> = {},
    private readonly clock: LimiterClock = systemClock,
  ) {
    this.settings = { ...DEFAULT_LEVER_RATE_LIMIT, ...settings };
    const { perSecond, burst, maxWaitMs } = this.settings;
    if (!(perSecond > 0) || !(burst >= 1) || !(maxWaitMs >= 0)) {
      throw new Error('a Lever rate limit needs perSecond > 0, burst >= 1 and maxWaitMs >= 0');
    }
  }

  /** The limit of one API key (the key itself is hashed at once and not kept). */
  forKey(apiKey: string): KeyRateLimit {
    const id = apiKeyId(apiKey);
    return {
      acquire: (options) => this.acquireById(id, options),
      pause: (ms) => this.pauseById(id, ms),
      stats: () => this.statsById(id),
    };
  }

  acquire(apiKey: string, options?: AcquireOptions): Promise<void> {
    return this.acquireById(apiKeyId(apiKey), options);
  }

  pause(apiKey: string, ms: number): void {
    this.pauseById(apiKeyId(apiKey), ms);
  }

  stats(apiKey: string): LeverRateLimitStats {
    return this.statsById(apiKeyId(apiKey));
  }

  /** Estimated wait of a new caller now (ms), for monitoring and tests. */
  estimatedWait(apiKey: string, continuing = false): number {
    const bucket = this.buckets.get(apiKeyId(apiKey));
    if (bucket === undefined) return 0;
    this.refill(bucket);
    return this.waitFor(bucket, continuing);
  }

  private acquireById(id: string, options: AcquireOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const bucket = this.bucket(id);
    this.refill(bucket);
    const continuing = options.continuing === true;
    const ahead = continuing ? bucket.continuing.length : bucket.continuing.length + bucket.fresh.length;
    if (ahead === 0 && bucket.tokens >= 1 - EPSILON) {
      bucket.tokens -= 1;
      bucket.stats.granted += 1;
      return Promise.resolve();
    }
    const limitMs = Math.max(0, Math.min(this.settings.maxWaitMs, options.maxWaitMs ?? Infinity));
    const waitMs = this.waitFor(bucket, continuing);
    if (waitMs > limitMs) {
      bucket.stats.refused += 1;
      return Promise.reject(rateLimitWaitError(waitMs, limitMs));
    }
    return new Promise<void>((resolve, reject) => {
      const now = this.clock.now();
      const onAbort = () => {
        this.remove(bucket, waiter);
        reject(abortReason(signal));
        this.pump(bucket);
      };
      const waiter: Waiter = {
        enqueuedAt: now,
        deadline: now + limitMs,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      (continuing ? bucket.continuing : bucket.fresh).push(waiter);
      const queued = bucket.continuing.length + bucket.fresh.length;
      bucket.stats.maxQueue = Math.max(bucket.stats.maxQueue, queued);
      this.pump(bucket);
    });
  }

  private pauseById(id: string, ms: number): void {
    if (!(ms > 0)) return;
    const bucket = this.bucket(id);
    this.refill(bucket);
    // The next token exists `ms` from now, and the bucket refills steadily from there (no burst).
    bucket.tokens = Math.min(bucket.tokens, 1 - (ms * this.settings.perSecond) / 1000);
    bucket.stats.paused += 1;
    this.pump(bucket);
  }

  private statsById(id: string): LeverRateLimitStats {
    const bucket = this.buckets.get(id);
    return bucket === undefined ? emptyStats() : { ...bucket.stats };
  }

  /** ms until the token for a new caller of this class exists, given who waits ahead of it. */
  private waitFor(bucket: Bucket, continuing: boolean): number {
    const ahead = continuing ? bucket.continuing.length : bucket.continuing.length + bucket.fresh.length;
    const missing = ahead + 1 - bucket.tokens;
    return missing <= EPSILON ? 0 : (missing * 1000) / this.settings.perSecond;
  }

  private bucket(id: string): Bucket {
    let bucket = this.buckets.get(id);
    if (bucket === undefined) {
      if (this.buckets.size >= IDLE_BUCKETS_SWEEP_AT) this.sweepIdle();
      bucket = {
        tokens: this.settings.burst,
        updatedAt: this.clock.now(),
        continuing: [],
        fresh: [],
        cancelTimer: undefined,
        stats: emptyStats(),
      };
      this.buckets.set(id, bucket);
    }
    return bucket;
  }

  private refill(bucket: Bucket): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(this.settings.burst, bucket.tokens + (elapsed * this.settings.perSecond) / 1000);
    bucket.updatedAt = now;
  }

  /** Hands out the tokens there are (continuing callers first), refuses expired waits, sets the next wake-up. */
  private pump(bucket: Bucket): void {
    bucket.cancelTimer?.();
    bucket.cancelTimer = undefined;
    this.refill(bucket);
    const now = this.clock.now();
    while (bucket.tokens >= 1 - EPSILON) {
      const waiter = bucket.continuing.shift() ?? bucket.fresh.shift();
      if (waiter === undefined) break;
      bucket.tokens -= 1;
      const waited = now - waiter.enqueuedAt;
      bucket.stats.granted += 1;
      bucket.stats.waited += 1;
      bucket.stats.totalWaitedMs += waited;
      bucket.stats.maxWaitedMs = Math.max(bucket.stats.maxWaitedMs, waited);
      waiter.detach();
      waiter.resolve();
    }
    // Fresh callers overtaken by continuing ones may run out of their allowed wait: they fail (retryable).
    for (const line of [bucket.continuing, bucket.fresh]) {
      for (const waiter of line.filter((w) => w.deadline <= now)) {
        this.remove(bucket, waiter);
        bucket.stats.refused += 1;
        waiter.detach();
        waiter.reject(
          rateLimitWaitError(
            this.waitFor(bucket, line === bucket.continuing),
            waiter.deadline - waiter.enqueuedAt,
          ),
        );
      }
    }
    const waiting = [...bucket.continuing, ...bucket.fresh];
    if (waiting.length === 0) return;
    const nextToken = Math.max(0, ((1 - bucket.tokens) * 1000) / this.settings.perSecond);
    const nextDeadline = Math.min(...waiting.map((w) => w.deadline)) - now;
    bucket.cancelTimer = this.clock.schedule(
      () => this.pump(bucket),
      Math.max(0, Math.min(nextToken, nextDeadline)),
    );
  }

  private remove(bucket: Bucket, waiter: Waiter): void {
    for (const line of [bucket.continuing, bucket.fresh]) {
      const index = line.indexOf(waiter);
      if (index >= 0) line.splice(index, 1);
    }
  }

  /** Forgets keys nobody waits on whose bucket is full again (their stats go with them). */
  private sweepIdle(): void {
    for (const [id, bucket] of this.buckets) {
      this.refill(bucket);
      if (bucket.continuing.length + bucket.fresh.length === 0 && bucket.tokens >= this.settings.burst) {
        this.buckets.delete(id);
      }
    }
  }
}

function emptyStats(): LeverRateLimitStats {
  return { granted: 0, waited: 0, refused: 0, paused: 0, maxQueue: 0, maxWaitedMs: 0, totalWaitedMs: 0 };
}

export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('waiting for a Lever request slot was cancelled');
}

let processLimiter: LeverRateLimiter | undefined;

/**
 * The limiter of this process with the default settings, for Lever clients not given one (tests, scripts). The API
 * and the worker give theirs (src/main.ts, src/worker.ts): shared across processes unless LEVER_RATE_SHARED=false.
 */
export function processLeverRateLimiter(): LeverRateLimiter {
  processLimiter ??= new LeverRateLimiter();
  return processLimiter;
}
