import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';

/**
 * Fault injection shared by the sandbox emulators: a share of public API calls answered 500/502/503 or 429 (with
 * or without Retry-After) without being processed, answers delayed, writes that take effect and then answer 500,
 * and callbacks silently not sent. Deterministic with a seed (one small PRNG stream for API calls, one for
 * callbacks), so a test can reproduce a run. Control routes (`/_sandbox/*`) are never faulted.
 */

const rate = z.number().min(0).max(1);

export const faultSettingsSchema = z
  .object({
    /** Share of API calls answered 500, 502 or 503 (chosen evenly) without being processed. */
    errorRate: rate.default(0),
    /** Share of API calls answered 429 without being processed. */
    rateLimitRate: rate.default(0),
    /** Share of injected 429 and 503 answers that carry `Retry-After: retryAfterSeconds`. */
    retryAfterShare: rate.default(0.5),
    retryAfterSeconds: z.number().int().min(0).max(3600).default(1),
    /** Share of API calls answered `slowMs` later than they would be (drawn independently of the above). */
    slowRate: rate.default(0),
    slowMs: z.number().int().min(0).max(120_000).default(1000),
    /** Share of successful writes (POST, PUT, PATCH, DELETE) answered 500 after they took effect. */
    failAfterWriteRate: rate.default(0),
    /** Share of callbacks (webhooks) silently not sent; each emulator says what "not sent" means for it. */
    dropCallbackRate: rate.default(0),
    /** Seed of the PRNG; without it a random seed is used (and reported by `faults()`). */
    seed: z.number().int().min(0).max(0xffffffff).optional(),
  })
  .refine((f) => f.errorRate + f.rateLimitRate <= 1, {
    message: 'errorRate + rateLimitRate must not exceed 1',
  });
export type FaultSettingsInput = z.input<typeof faultSettingsSchema>;
export type FaultSettings = z.output<typeof faultSettingsSchema> & { seed: number };

/** What the fault layer did since the settings were last set. */
export interface FaultStats {
  /** Public API calls that went through the fault layer. */
  calls: number;
  /** Injected 5xx answers by status. */
  errors: { 500: number; 502: number; 503: number };
  /** Injected 429 answers. */
  rateLimited: number;
  /** Injected 429/503 answers that carried Retry-After. */
  withRetryAfter: number;
  /** Calls answered late (`slowRate`, plus one-shot `delayNextResponse`). */
  slow: number;
  /** Writes that took effect and were answered 500. */
  failedAfterWrite: number;
  /** Callbacks the emulator was about to send. */
  callbacks: number;
  droppedCallbacks: number;
}

export interface FaultState {
  settings: FaultSettings;
  stats: FaultStats;
  /** One-shot faults not used yet. */
  pending: { delayNextResponse: number; failNextAfterWrite: number };
}

/** Which requests a one-shot fault applies to: method (any when absent) and a part of the path. */
export interface RequestMatch {
  method?: string;
  path?: string;
}

const requestMatchSchema = z.object({
  method: z.string().min(1).max(10).optional(),
  path: z.string().min(1).max(500).optional(),
});
const delayNextSchema = requestMatchSchema.extend({ ms: z.number().int().min(0).max(600_000) });
const failAfterWriteSchema = requestMatchSchema.extend({
  count: z.number().int().min(0).max(10_000).default(1),
});

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG; the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const emptyStats = (): FaultStats => ({
  calls: 0,
  errors: { 500: 0, 502: 0, 503: 0 },
  rateLimited: 0,
  withRetryAfter: 0,
  slow: 0,
  failedAfterWrite: 0,
  callbacks: 0,
  droppedCallbacks: 0,
});

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ERROR_STATUSES = [500, 502, 503] as const;

interface Decision {
  error: { status: number; retryAfterSeconds: number | null } | null;
  slowMs: number;
  failAfterWrite: boolean;
}

function matches(match: RequestMatch, req: Request): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== req.method) return false;
  if (match.path !== undefined && !req.originalUrl.split('?')[0]?.includes(match.path)) return false;
  return true;
}

export class FaultInjector {
  #settings: FaultSettings = FaultInjector.#parse({});
  #apiRandom = mulberry32(this.#settings.seed);
  #callbackRandom = mulberry32(this.#settings.seed ^ 0x9e3779b9);
  #stats = emptyStats();
  #delayNext: (RequestMatch & { ms: number })[] = [];
  #failNextAfterWrite: RequestMatch[] = [];
  #timers = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  #stopped = false;

  static #parse(input: FaultSettingsInput): FaultSettings {
    const parsed = faultSettingsSchema.parse(input);
    return { ...parsed, seed: parsed.seed ?? Math.floor(Math.random() * 0xffffffff) };
  }

  /** Replaces the settings (rates not given are 0), restarts the PRNG from the seed and the counters from 0. */
  set(input: FaultSettingsInput): FaultSettings {
    this.#settings = FaultInjector.#parse(input);
    this.#apiRandom = mulberry32(this.#settings.seed);
    this.#callbackRandom = mulberry32(this.#settings.seed ^ 0x9e3779b9);
    this.#stats = emptyStats();
    return { ...this.#settings };
  }

  /** No faults any more (one-shot faults included); the counters restart. */
  clear(): void {
    this.set({});
    this.#delayNext = [];
    this.#failNextAfterWrite = [];
  }

  state(): FaultState {
    return {
      settings: { ...this.#settings },
      stats: structuredClone(this.#stats),
      pending: {
        delayNextResponse: this.#delayNext.length,
        failNextAfterWrite: this.#failNextAfterWrite.length,
      },
    };
  }

  /** The next matching API call is processed, then answered `ms` later (a client may time out meanwhile). */
  delayNextResponse(ms: number, match: RequestMatch = {}): void {
    this.#delayNext.push({ ...delayNextSchema.parse({ ...match, ms }) });
  }

  /** The next `count` matching writes take effect, then are answered 500. */
  failNextAfterWrite(count = 1, match: RequestMatch = {}): void {
    const parsed = failAfterWriteSchema.parse({ ...match, count });
    for (let i = 0; i < parsed.count; i++)
      this.#failNextAfterWrite.push({ method: parsed.method, path: parsed.path });
  }

  /**
   * Whether a callback is sent, and how late. Always consumes the same number of draws, so with a seed the
   * n-th callback meets the same fate whatever the API calls did meanwhile.
   */
  callback(): { drop: boolean; delayMs: number } {
    const dropDraw = this.#callbackRandom();
    const slowDraw = this.#callbackRandom();
    this.#stats.callbacks += 1;
    if (dropDraw < this.#settings.dropCallbackRate) {
      this.#stats.droppedCallbacks += 1;
      return { drop: true, delayMs: 0 };
    }
    return { drop: false, delayMs: slowDraw < this.#settings.slowRate ? this.#settings.slowMs : 0 };
  }

  /** Waits (a timer `stop()` ends early). */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          resolve();
        }, ms),
        done: resolve,
      };
      this.#timers.add(entry);
    });
  }

  /** Ends every pending delay at once (delayed answers are not sent); used when the emulator closes. */
  stop(): void {
    this.#stopped = true;
    for (const entry of this.#timers) {
      clearTimeout(entry.timer);
      entry.done();
    }
    this.#timers.clear();
  }

  #decide(req: Request): Decision {
    const s = this.#settings;
    // Four draws per call whatever happens, so a seed reproduces the same fault for the n-th call.
    const kind = this.#apiRandom();
    const pick = this.#apiRandom();
    const slow = this.#apiRandom();
    const afterWrite = this.#apiRandom();
    this.#stats.calls += 1;
    let error: Decision['error'] = null;
    if (kind < s.errorRate) {
      const status = ERROR_STATUSES[Math.min(2, Math.floor(pick * 3))] ?? 500;
      error = { status, retryAfterSeconds: null };
      this.#stats.errors[status] += 1;
    } else if (kind < s.errorRate + s.rateLimitRate) {
      error = { status: 429, retryAfterSeconds: null };
      this.#stats.rateLimited += 1;
    }
    if (error !== null && (error.status === 429 || error.status === 503)) {
      // The share is drawn from the same number as the status, rescaled, to keep four draws per call.
      const share = error.status === 429 ? pick : (pick * 3) % 1;
      if (share < s.retryAfterShare) {
        error.retryAfterSeconds = s.retryAfterSeconds;
        this.#stats.withRetryAfter += 1;
      }
    }
    let slowMs = slow < s.slowRate ? s.slowMs : 0;
    let failAfterWrite = error === null && WRITE_METHODS.has(req.method) && afterWrite < s.failAfterWriteRate;
    if (error === null) {
      const delayIndex = this.#delayNext.findIndex((m) => matches(m, req));
      if (delayIndex !== -1) {
        slowMs += this.#delayNext.splice(delayIndex, 1)[0]?.ms ?? 0;
      }
      const failIndex = WRITE_METHODS.has(req.method)
        ? this.#failNextAfterWrite.findIndex((m) => matches(m, req))
        : -1;
      if (failIndex !== -1) {
        this.#failNextAfterWrite.splice(failIndex, 1);
        failAfterWrite = true;
      }
    }
    if (slowMs > 0) this.#stats.slow += 1;
    return { error, slowMs, failAfterWrite };
  }

  /**
   * Express middleware for an emulator's public API: injected errors are answered before the request is
   * processed (with the emulator's error body), slow answers are sent `slowMs` after processing, and a write
   * failing after the fact is processed and then answered 500.
   */
  middleware(errorBody: (status: number) => unknown): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const decision = this.#decide(req);
      const { error } = decision;
      if (error !== null) {
        const answer = () => {
          if (res.headersSent || res.destroyed) return;
          if (error.retryAfterSeconds !== null) res.set('Retry-After', String(error.retryAfterSeconds));
          res.status(error.status).json(errorBody(error.status));
        };
        if (decision.slowMs > 0) void this.sleep(decision.slowMs).then(answer);
        else answer();
        return;
      }
      if (decision.slowMs > 0 || decision.failAfterWrite) {
        const send = res.json.bind(res);
        res.json = ((body: unknown) => {
          let payload = body;
          if (decision.failAfterWrite && res.statusCode < 300) {
            this.#stats.failedAfterWrite += 1;
            res.status(500);
            payload = errorBody(500);
          }
          if (decision.slowMs <= 0) return send(payload);
          void this.sleep(decision.slowMs).then(() => {
            if (!this.#stopped && !res.headersSent && !res.destroyed) send(payload);
          });
          return res;
        }) as Response['json'];
      }
      next();
    };
  }
}

/**
 * The fault controls every emulator with a fault layer offers (its `faultInjector` serves `/_sandbox/faults` too).
 * What a dropped callback means differs per emulator; each says so in its class comment.
 */
export abstract class FaultyEmulator {
  /** Fault injection on the public API and on callbacks; `/_sandbox/faults` over HTTP. */
  readonly faultInjector = new FaultInjector();

  /** Random faults on the public API and on callbacks (see `FaultSettingsInput`); rates not given are 0. */
  setFaults(input: FaultSettingsInput): FaultSettings {
    return this.faultInjector.set(input);
  }

  clearFaults(): void {
    this.faultInjector.clear();
  }

  /** Fault settings, what was injected so far, and pending one-shot faults. */
  faults(): FaultState {
    return this.faultInjector.state();
  }

  /**
   * The next matching API call is processed, then answered `ms` later: e.g. an order accepted and answered after
   * the client gave up, so the client's retry must be recognised by its idempotency key.
   */
  delayNextResponse(ms: number, match?: RequestMatch): void {
    this.faultInjector.delayNextResponse(ms, match);
  }

  /** The next `count` matching writes take effect and are answered 500, so the caller retries them. */
  failNextAfterWrite(count = 1, match?: RequestMatch): void {
    this.faultInjector.failNextAfterWrite(count, match);
  }
}

/**
 * `/_sandbox/faults` control routes: `GET` (settings, counters, pending one-shots), `POST` (replace the settings),
 * `DELETE` (no faults), `POST /delay-next-response` `{ ms, method?, path? }`, `POST /fail-next-after-write`
 * `{ count?, method?, path? }`.
 */
export function faultRoutes(faults: FaultInjector): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: '64kb' }));
  const parse = <S extends z.ZodType>(schema: S, body: unknown, res: Response): z.output<S> | undefined => {
    const parsed = schema.safeParse(body ?? {});
    if (!parsed.success) {
      res.status(400).json({ message: z.prettifyError(parsed.error) });
      return undefined;
    }
    return parsed.data;
  };
  router.get('/', (_req, res) => {
    res.json(faults.state());
  });
  router.post('/', (req, res) => {
    const input = parse(faultSettingsSchema, req.body, res);
    if (input !== undefined) res.json({ settings: faults.set(input) });
  });
  router.delete('/', (_req, res) => {
    faults.clear();
    res.status(204).end();
  });
  router.post('/delay-next-response', (req, res) => {
    const input = parse(delayNextSchema, req.body, res);
    if (input === undefined) return;
    faults.delayNextResponse(input.ms, { method: input.method, path: input.path });
    res.status(204).end();
  });
  router.post('/fail-next-after-write', (req, res) => {
    const input = parse(failAfterWriteSchema, req.body, res);
    if (input === undefined) return;
    faults.failNextAfterWrite(input.count, { method: input.method, path: input.path });
    res.status(204).end();
  });
  return router;
}
