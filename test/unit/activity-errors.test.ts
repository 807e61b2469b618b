import express from 'express';
import { ApplicationFailure } from '@temporalio/common';
import { MAX_RETRY_AFTER_MS, UNAVAILABLE_FAILURE, toActivityFailure } from '../../src/activities/errors';
import { FAILURE } from '../../src/domain/failures';
import { baseConfigSchema } from '../../src/config';
import {
  ExternalApiError,
  httpLimitsOf,
  requestJson,
  withRequestBudget,
} from '../../src/integrations/http-client';
import { listen, type RunningServer } from '../../sandbox/kit';

/** `expect.stringMatching` without the `any` type. */
const matching = (pattern: RegExp): unknown => expect.stringMatching(pattern);

function failure(err: unknown): ApplicationFailure {
  const converted = toActivityFailure(err);
  if (!(converted instanceof ApplicationFailure)) throw new Error('not an ApplicationFailure');
  return converted;
}

describe('toActivityFailure: which answers are retried, and when', () => {
  it('retries 5xx and "no answer" with the workflow backoff', () => {
    for (const err of [
      new ExternalApiError('Certn', 500, 'Certn answered 500: boom'),
      new ExternalApiError('Certn', 502, 'Certn answered 502'),
      new ExternalApiError('Certn', 503, 'Certn answered 503'),
      new ExternalApiError('Lever', null, 'Lever did not answer within 15000 ms'),
    ]) {
      expect(toActivityFailure(err)).toBe(err); // a plain error: retryable, default backoff
    }
  });

  it('honours Retry-After on 429 and on 503, capped, and "0" means at once', () => {
    expect(failure(new ExternalApiError('Certn', 429, 'x', 2000))).toMatchObject({
      type: FAILURE.RateLimited,
      nonRetryable: false,
      nextRetryDelay: 2000,
    });
    expect(failure(new ExternalApiError('Certn', 503, 'x', 5000))).toMatchObject({
      type: UNAVAILABLE_FAILURE,
      nonRetryable: false,
      nextRetryDelay: 5000,
    });
    expect(failure(new ExternalApiError('Certn', 503, 'x', 24 * 3600 * 1000)).nextRetryDelay).toBe(
      MAX_RETRY_AFTER_MS,
    );
    expect(failure(new ExternalApiError('Certn', 429, 'x', 0)).nextRetryDelay).toBe(1);
    const bare = failure(new ExternalApiError('Certn', 429, 'x'));
    expect(bare).toMatchObject({ type: FAILURE.RateLimited, nonRetryable: false });
    expect(bare.nextRetryDelay).toBeUndefined();
  });

  it('does not retry 400/404/409/422 and says what to do', () => {
    for (const [status, hint] of [
      [400, /invalid: check the candidate's details/],
      [422, /invalid: check the candidate's details/],
      [404, /does not know what was asked for/],
      [409, /conflicting/],
    ] as const) {
      const f = failure(new ExternalApiError('Certn', status, `Certn answered ${status}: nope.`));
      expect(f).toMatchObject({ type: FAILURE.Permanent, nonRetryable: true });
      expect(f.message).toMatch(new RegExp(`^Certn answered ${status}: nope\\. `));
      expect(f.message).toMatch(hint);
    }
  });

  it('does not retry 401/403 and tells ATS from vendor', () => {
    expect(failure(new ExternalApiError('Certn', 401, 'Certn answered 401: Invalid API key.'))).toMatchObject(
      {
        type: FAILURE.VendorAccessDenied,
        nonRetryable: true,
        message: matching(/update the Certn API key of the connection$/),
      },
    );
    expect(failure(new ExternalApiError('Lever', 403, 'Lever answered 403'))).toMatchObject({
      type: FAILURE.AtsAccessDenied,
      nonRetryable: true,
    });
  });
});

describe('requestJson: timeouts, broken answers, Retry-After, the attempt budget', () => {
  let server: RunningServer;
  let hits = 0;
  beforeAll(async () => {
    const app = express();
    app.use((_req, _res, next) => {
      hits += 1;
      next();
    });
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.json({ ok: true }), 1000).unref();
    });
    app.get('/busy', (_req, res) => {
      res.set('Retry-After', '3').status(503).json({ detail: 'Try later.' });
    });
    app.get('/cut', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 20).unref();
    });
    app.get('/invalid-email', (_req, res) => {
      res.status(400).json({ detail: "email_address: 'ada.lovelace+bgc@example.co.uk' is not deliverable." });
    });
    app.get('/ok', (_req, res) => {
      res.json({ ok: true });
    });
    server = await listen(app);
  });
  afterAll(async () => {
    await server.close();
  });

  it('gives up after the timeout, as "no answer" (retryable)', async () => {
    const err = await requestJson('Certn', `${server.url}/slow`, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExternalApiError);
    expect(err).toMatchObject({ status: null, message: 'Certn did not answer within 100 ms' });
  });

  it('takes the default timeout from VENDOR_REQUEST_TIMEOUT_MS', async () => {
    // As src/main.ts and src/worker.ts pass it: parsed with the configuration, then given to the client.
    const limits = httpLimitsOf(
      baseConfigSchema
        .pick({ VENDOR_REQUEST_TIMEOUT_MS: true, VENDOR_RESPONSE_LIMIT_BYTES: true })
        .parse({ VENDOR_REQUEST_TIMEOUT_MS: '150' }),
    );
    const err = await requestJson('Certn', `${server.url}/slow`, { limits }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: null, message: 'Certn did not answer within 150 ms' });
  });

  it('treats a connection reset in the middle of the body as "no answer"', async () => {
    const err = await requestJson('Lever', `${server.url}/cut`, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExternalApiError);
    expect(err).toMatchObject({ status: null });
    expect((err as Error).message).toMatch(/^Lever could not be reached/);
  });

  it('does not repeat an email address a vendor quotes in its error message', async () => {
    const err = await requestJson('Certn', `${server.url}/invalid-email`, {}).catch((e: unknown) => e);
    expect(err).toMatchObject({
      status: 400,
      message: "Certn answered 400: email_address: '[email]' is not deliverable.",
    });
  });

  it('reads Retry-After of a 503', async () => {
    const err = await requestJson('Certn', `${server.url}/busy`, { tries: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, retryAfterMs: 3000, message: 'Certn answered 503: Try later.' });
  });

  it('ends requests by the deadline of the attempt, and sends none once it passed', async () => {
    const started = Date.now();
    const late = await withRequestBudget({ deadline: Date.now() + 150 }, () =>
      requestJson('Certn', `${server.url}/slow`, { timeoutMs: 10_000 }),
    ).catch((e: unknown) => e);
    expect(late).toMatchObject({
      status: null,
      message: matching(/did not answer within 1\d\d ms/),
    });
    expect(Date.now() - started).toBeLessThan(1000);

    const before = hits;
    const none = await withRequestBudget({ deadline: Date.now() - 1 }, () =>
      requestJson('Certn', `${server.url}/ok`, {}),
    ).catch((e: unknown) => e);
    expect(none).toMatchObject({
      status: null,
      message: 'Certn was not called: this attempt ran out of time',
    });
    expect(hits).toBe(before);

    const cancelled = new AbortController();
    const pending = withRequestBudget({ signal: cancelled.signal }, () =>
      requestJson('Certn', `${server.url}/slow`, {}),
    ).catch((e: unknown) => e);
    cancelled.abort();
    expect(await pending).toMatchObject({ status: null });
    expect(await requestJson('Certn', `${server.url}/ok`, {})).toEqual({ ok: true });
  });
});

describe('requestJson: quick retries of what is safe to repeat', () => {
  let server: RunningServer;
  const seen = new Map<string, number>();
  beforeAll(async () => {
    const app = express();
    // Answers the first `fail` requests of a key with `status` (and Retry-After when given), then 200.
    app.all('/flaky', (req, res) => {
      const key = typeof req.query.key === 'string' ? req.query.key : '';
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n <= Number(req.query.fail)) {
        const { retryAfter } = req.query;
        if (typeof retryAfter === 'string') res.set('Retry-After', retryAfter);
        res.status(Number(req.query.status)).json({ detail: `failure ${n}` });
        return;
      }
      res.json({ try: n });
    });
    server = await listen(app);
  });
  afterAll(async () => {
    await server.close();
  });
  let keys = 0;
  const flaky = (query: Record<string, string | number>) => {
    const key = `k${(keys += 1)}`;
    const params = new URLSearchParams({
      key,
      ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
    });
    return { key, url: `${server.url}/flaky?${params.toString()}` };
  };

  it('retries a read that got a 5xx, and returns the answer that came', async () => {
    const { key, url } = flaky({ fail: 2, status: 502 });
    expect(await requestJson('Certn', url, {})).toEqual({ try: 3 });
    expect(seen.get(key)).toBe(3);
  });

  it('stops after the tries it was given and reports the last failure', async () => {
    const { key, url } = flaky({ fail: 5, status: 500 });
    const err = await requestJson('Certn', url, {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, message: 'Certn answered 500: failure 3' });
    expect(seen.get(key)).toBe(3);
  });

  it('does not repeat a write that got a 5xx (it may have taken effect): the activity retry decides', async () => {
    const { key, url } = flaky({ fail: 1, status: 500 });
    const err = await requestJson('Lever', url, { method: 'POST', body: { a: 1 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500 });
    expect(seen.get(key)).toBe(1);
  });

  it('repeats a write answered 429 (not processed), after its Retry-After', async () => {
    const { key, url } = flaky({ fail: 1, status: 429, retryAfter: 1 });
    const started = Date.now();
    expect(await requestJson('Lever', url, { method: 'POST', body: { a: 1 } })).toEqual({ try: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(seen.get(key)).toBe(2);
  });

  it('leaves a long Retry-After to the activity retry (a durable timer, not a held worker slot)', async () => {
    const { key, url } = flaky({ fail: 1, status: 503, retryAfter: 30 });
    const err = await requestJson('Certn', url, {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, retryAfterMs: 30_000 });
    expect(seen.get(key)).toBe(1);
  });

  it('does not retry a permanent answer', async () => {
    const { key, url } = flaky({ fail: 1, status: 404 });
    await expect(requestJson('Certn', url, {})).rejects.toMatchObject({ status: 404 });
    expect(seen.get(key)).toBe(1);
  });

  it('does not start a retry the attempt has no time left for', async () => {
    const { key, url } = flaky({ fail: 1, status: 503 });
    const err = await withRequestBudget({ deadline: Date.now() + 800 }, () =>
      requestJson('Certn', url, {}),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503 });
    expect(seen.get(key)).toBe(1);
  });

  it('calls beforeTry before every try and onFailure with every failure', async () => {
    const { url } = flaky({ fail: 2, status: 429, retryAfter: 0 });
    const events: string[] = [];
    await requestJson('Lever', url, {
      beforeTry: () => {
        events.push('token');
        return Promise.resolve();
      },
      onFailure: (err) => events.push(`failed ${err.status}`),
    });
    expect(events).toEqual(['token', 'failed 429', 'token', 'failed 429', 'token']);
  });
});
