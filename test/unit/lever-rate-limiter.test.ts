import { DEFAULT_REQUEST_TRIES, ExternalApiError } from '../../src/integrations/http-client';
import { LeverClient } from '../../src/ats/lever/client';
import { apiKeyId, LeverRateLimiter, type LimiterClock } from '../../src/ats/lever/rate-limiter';
import { startLeverEmulator, type RunningLeverEmulator } from '../../sandbox/lever-emulator';

/** A clock that only moves when told to; timers fire in time order as it moves. */
class FakeClock implements LimiterClock {
  private time = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  now(): number {
    return this.time;
  }

  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing due timers (and letting resolved promises run) on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await flush();
    for (;;) {
      const next = this.timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)
        .at(0);
      if (next === undefined) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** Starts `acquire` and records when (fake time) it settled and how. */
function track(clock: FakeClock, promise: Promise<void>) {
  const result: { at?: number; error?: unknown } = {};
  promise.then(
    () => {
      result.at = clock.now();
    },
    (error: unknown) => {
      result.at = clock.now();
      result.error = error;
    },
  );
  return result;
}

describe('LeverRateLimiter (token bucket per API key, fake clock)', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
  });

  it('lets a burst through at once, then paces callers at the steady rate instead of failing them', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 10, burst: 5, maxWaitMs: 10_000 }, clock);
    const calls = Array.from({ length: 15 }, () => track(clock, limiter.acquire('key-a')));
    await flush();
    expect(calls.filter((c) => c.at === 0)).toHaveLength(5);
    await clock.advance(2_000);
    expect(calls.every((c) => c.error === undefined)).toBe(true);
    // One token every 100 ms after the burst, in arrival order.
    expect(calls.map((c) => c.at)).toEqual([
      0, 0, 0, 0, 0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000,
    ]);
    const stats = limiter.stats('key-a');
    expect(stats).toMatchObject({ granted: 15, waited: 10, refused: 0, maxQueue: 10, maxWaitedMs: 1000 });
  });

  it('never grants more than burst + rate × time over any window', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 9, burst: 15, maxWaitMs: 60_000 }, clock);
    const calls = Array.from({ length: 200 }, () => track(clock, limiter.acquire('key-a')));
    await clock.advance(30_000);
    const times = calls.map((c) => c.at).filter((t): t is number => t !== undefined);
    expect(times).toHaveLength(200);
    let worst = -Infinity; // most tokens granted in a window beyond what the bucket allows
    for (let i = 0; i < times.length; i++) {
      for (let j = i; j < times.length; j++) {
        worst = Math.max(worst, j - i + 1 - (15 + ((times[j]! - times[i]!) * 9) / 1000));
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('keeps API keys apart: a queue on one key does not delay another', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 10, burst: 2, maxWaitMs: 20_000 }, clock);
    const busy = Array.from({ length: 50 }, () => track(clock, limiter.acquire('key-a')));
    await clock.advance(100);
    const other = track(clock, limiter.acquire('key-b'));
    await flush();
    expect(other).toEqual({ at: 100 });
    expect(busy.filter((c) => c.at !== undefined).length).toBeLessThan(5);
    expect(limiter.stats('key-b')).toMatchObject({ granted: 1, waited: 0 });
  });

  it('fails at once with a retryable 429-like error when the wait would exceed the bound, consuming nothing', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 1, burst: 1, maxWaitMs: 2_500 }, clock);
    const first = track(clock, limiter.acquire('key-a'));
    const second = track(clock, limiter.acquire('key-a'));
    const third = track(clock, limiter.acquire('key-a'));
    const fourth = track(clock, limiter.acquire('key-a'));
    await flush();
    expect(first).toEqual({ at: 0 });
    expect(fourth.error).toBeInstanceOf(ExternalApiError);
    const error = fourth.error as ExternalApiError;
    expect(error.status).toBe(429);
    expect(error.service).toBe('Lever');
    expect(error.retryAfterMs).toBe(3_000);
    expect(error.message).not.toContain('key-a');
    await clock.advance(5_000);
    expect([second.at, third.at]).toEqual([1_000, 2_000]);
    expect(limiter.stats('key-a')).toMatchObject({ granted: 3, refused: 1 });
  });

  it('honours a tighter per-call bound (what is left of an activity) below the configured one', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 1, burst: 1, maxWaitMs: 20_000 }, clock);
    await limiter.acquire('key-a');
    const tight = track(clock, limiter.acquire('key-a', { maxWaitMs: 500 }));
    const roomy = track(clock, limiter.acquire('key-a', { maxWaitMs: 5_000 }));
    await clock.advance(3_000);
    expect((tight.error as ExternalApiError).status).toBe(429);
    expect(roomy).toEqual({ at: 1_000 });
  });

  it('serves callers that already made a call before callers that have not started', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 10, burst: 1, maxWaitMs: 10_000 }, clock);
    await limiter.acquire('key-a');
    const fresh = Array.from({ length: 3 }, () => track(clock, limiter.acquire('key-a')));
    const continuing = track(clock, limiter.acquire('key-a', { continuing: true }));
    await clock.advance(1_000);
    expect(continuing.at).toBe(100);
    expect(fresh.map((c) => c.at)).toEqual([200, 300, 400]);
  });

  it('refuses a fresh caller overtaken past its bound, with a retryable error', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 10, burst: 1, maxWaitMs: 10_000 }, clock);
    await limiter.acquire('key-a');
    const fresh = track(clock, limiter.acquire('key-a', { maxWaitMs: 250 })); // its token is due at 100 ms
    const overtaking = [0, 1, 2].map(() => track(clock, limiter.acquire('key-a', { continuing: true })));
    await clock.advance(1_000);
    expect(overtaking.map((c) => c.at)).toEqual([100, 200, 300]);
    expect(fresh.at).toBe(250);
    expect((fresh.error as ExternalApiError).status).toBe(429);
    expect(limiter.stats('key-a').refused).toBe(1);
  });

  it('pauses a key after Lever answered 429/503, then refills steadily (no burst)', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 10, burst: 10, maxWaitMs: 10_000 }, clock);
    limiter.pause('key-a', 2_000);
    const calls = Array.from({ length: 3 }, () => track(clock, limiter.acquire('key-a')));
    await clock.advance(5_000);
    expect(calls.map((c) => c.at)).toEqual([2_000, 2_100, 2_200]);
    expect(limiter.stats('key-a').paused).toBe(1);
  });

  it('stops waiting when the caller is cancelled, and the slot goes to the next caller', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 1, burst: 1, maxWaitMs: 10_000 }, clock);
    await limiter.acquire('key-a');
    const controller = new AbortController();
    const cancelled = track(clock, limiter.acquire('key-a', { signal: controller.signal }));
    const next = track(clock, limiter.acquire('key-a'));
    controller.abort(new Error('activity cancelled'));
    await clock.advance(3_000);
    expect(cancelled).toEqual({ at: 0, error: new Error('activity cancelled') });
    expect(next.at).toBe(1_000);
  });

  it('keys its buckets by a hash of the API key, never the key itself', () => {
    const limiter = new LeverRateLimiter({}, clock);
    void limiter.acquire('secret-lever-key');
    const id = apiKeyId('secret-lever-key');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).not.toContain('secret');
    const buckets = (limiter as unknown as { buckets: Map<string, unknown> }).buckets;
    expect([...buckets.keys()]).toEqual([id]);
    expect(JSON.stringify(limiter.stats('secret-lever-key'))).not.toContain('secret');
  });

  it('validates its settings', () => {
    expect(() => new LeverRateLimiter({ perSecond: 0 }, clock)).toThrow(/perSecond/);
    expect(() => new LeverRateLimiter({ burst: 0 }, clock)).toThrow(/burst/);
  });
});

describe('LeverClient with the limiter (Lever emulator over HTTP)', () => {
  let lever: RunningLeverEmulator;
  beforeAll(async () => {
    lever = await startLeverEmulator({ rateLimit: { perSecond: 100, burst: 100 } });
    lever.addApiKey('client-key');
  });
  afterAll(async () => {
    await lever?.close();
  });

  it('takes a token per call and pauses the key after a 429 from Lever', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 50, burst: 50 });
    const client = new LeverClient(lever.apiBaseUrl, 'client-key', { rateLimiter: limiter });
    await client.listStages();
    expect(limiter.stats('client-key')).toMatchObject({ granted: 1, paused: 0 });
    lever.failNext(DEFAULT_REQUEST_TRIES, 429);
    await expect(client.listStages()).rejects.toMatchObject({ service: 'Lever', status: 429 });
    expect(limiter.stats('client-key').paused).toBe(DEFAULT_REQUEST_TRIES);
    // No Retry-After: the key waits about a second before its next call (and refills steadily from there).
    expect(limiter.estimatedWait('client-key')).toBeGreaterThan(900);
  });

  it('repeats a call answered 429 once the key may call again, taking a new token for it', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 50, burst: 50 });
    const client = new LeverClient(lever.apiBaseUrl, 'client-key', { rateLimiter: limiter });
    lever.failNext(1, 429);
    const started = Date.now();
    await expect(client.listStages()).resolves.toEqual(expect.any(Array));
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the pause after a 429 without Retry-After
    expect(limiter.stats('client-key')).toMatchObject({ granted: 2, paused: 1 });
  });

  it('fails at once, without calling Lever, when its turn would come after the caller’s deadline', async () => {
    const limiter = new LeverRateLimiter({ perSecond: 1, burst: 1 });
    const client = new LeverClient(lever.apiBaseUrl, 'client-key', {
      rateLimiter: limiter,
      waitUntil: Date.now() + 200,
    });
    await client.listStages();
    const before = lever.stats().requests;
    const error: unknown = await client.listStages().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ExternalApiError);
    expect(error).toMatchObject({ status: 429 });
    expect((error as ExternalApiError).retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(lever.stats().requests).toBe(before);
    expect(limiter.stats('client-key').refused).toBe(1);
  });
});
