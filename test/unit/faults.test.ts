import express from 'express';
import { listen, type RunningServer } from '../../sandbox/kit';
import { startCertnEmulator, type RunningCertnEmulator } from '../../sandbox/certn-emulator';
import { startJustifactsEmulator } from '../../sandbox/justifacts-emulator';
import { startLeverEmulator, type RunningLeverEmulator } from '../../sandbox/lever-emulator';
import { startVictigEmulator } from '../../sandbox/victig-emulator';
import { FaultInjector, mulberry32 } from '../../sandbox/faults';

/** `expect.any(String)` without the `any` type. */
const anyString: unknown = expect.any(String);

const CERTN_KEY = 'certn-team-key';
const LEVER_KEY = 'lever-key';
const leverAuth = { Authorization: `Basic ${Buffer.from(`${LEVER_KEY}:`).toString('base64')}` };

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.text()) || undefined, headers: res.headers };
}

/** A receiver counting the callbacks it gets. */
async function startReceiver(): Promise<RunningServer & { hits: () => number }> {
  let hits = 0;
  const app = express();
  app.post('/hook', (_req, res) => {
    hits += 1;
    res.status(200).json({ ok: true });
  });
  const server = await listen(app);
  return Object.assign(server, { hits: () => hits });
}

describe('fault injection: the PRNG', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const first = Array.from({ length: 20 }, () => a());
    expect(Array.from({ length: 20 }, () => b())).toEqual(first);
    expect(Array.from({ length: 20 }, () => c())).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('rejects rates outside 0..1 and errors + 429 above 1', () => {
    const faults = new FaultInjector();
    expect(() => faults.set({ errorRate: 1.5 })).toThrow();
    expect(() => faults.set({ errorRate: 0.6, rateLimitRate: 0.6 })).toThrow(/must not exceed 1/);
    expect(faults.set({ errorRate: 0.5, seed: 7 })).toMatchObject({
      errorRate: 0.5,
      rateLimitRate: 0,
      seed: 7,
    });
    expect(faults.set({}).seed).toEqual(expect.any(Number)); // a random seed, reported
  });
});

describe('fault injection on the Certn emulator', () => {
  let certn: RunningCertnEmulator;
  let packageId: string;
  beforeEach(async () => {
    certn = await startCertnEmulator();
    packageId = certn.addTeam({ apiKey: CERTN_KEY }).packages[0]?.id ?? '';
  });
  afterEach(async () => {
    await certn.close();
  });

  const getPackages = async () =>
    (await fetch(`${certn.url}/api/public/packages/`, { headers: { Authorization: `Api-Key ${CERTN_KEY}` } }))
      .status;

  it('is reproducible with a seed: the same calls meet the same faults, counted per kind', async () => {
    const run = async () => {
      const answer = await post(`${certn.url}/_sandbox/faults`, {
        errorRate: 0.3,
        rateLimitRate: 0.2,
        seed: 12345,
      });
      expect(answer.status).toBe(200);
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push(await getPackages());
      return { statuses, stats: certn.faults().stats };
    };
    const first = await run();
    const second = await run();
    expect(second.statuses).toEqual(first.statuses);
    const count = (s: number) => first.statuses.filter((x) => x === s).length;
    expect(first.stats).toMatchObject({
      calls: 60,
      errors: { 500: count(500), 502: count(502), 503: count(503) },
      rateLimited: count(429),
    });
    expect(count(200)).toBe(60 - count(500) - count(502) - count(503) - count(429));
    expect(count(200)).toBeGreaterThan(15);
    expect(count(429)).toBeGreaterThan(0);
  });

  it('never faults /_sandbox routes, and answers 400 to invalid settings', async () => {
    certn.setFaults({ errorRate: 1 });
    expect(await getPackages()).toBeGreaterThanOrEqual(500);
    expect((await fetch(`${certn.url}/_sandbox/cases`)).status).toBe(200);
    expect((await fetch(`${certn.url}/_sandbox/faults`)).status).toBe(200);
    expect((await post(`${certn.url}/_sandbox/faults`, { errorRate: 2 })).status).toBe(400);
    expect((await post(`${certn.url}/_sandbox/faults`, { errorRate: 0.7, rateLimitRate: 0.7 })).status).toBe(
      400,
    );
    expect((await fetch(`${certn.url}/_sandbox/faults`, { method: 'DELETE' })).status).toBe(204);
    expect(await getPackages()).toBe(200);
  });

  it('sends Retry-After on injected 429 and 503 answers as configured', async () => {
    certn.setFaults({ rateLimitRate: 1, retryAfterShare: 1, retryAfterSeconds: 2 });
    const limited = await fetch(`${certn.url}/api/public/packages/`, {
      headers: { Authorization: `Api-Key ${CERTN_KEY}` },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await limited.json()).toEqual({ detail: 'Request was throttled.' });

    certn.setFaults({ rateLimitRate: 1, retryAfterShare: 0 });
    const bare = await fetch(`${certn.url}/api/public/packages/`, {
      headers: { Authorization: `Api-Key ${CERTN_KEY}` },
    });
    expect(bare.status).toBe(429);
    expect(bare.headers.get('retry-after')).toBeNull();
    expect(certn.faults().stats).toMatchObject({ rateLimited: 1, withRetryAfter: 0 });
  });

  it('slows answers down by slowMs', async () => {
    certn.setFaults({ slowRate: 1, slowMs: 300 });
    const started = Date.now();
    expect(await getPackages()).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(certn.faults().stats.slow).toBe(1);
  });

  it('delayNextResponse: the order is taken, the answer comes after the client gave up; the retry replays it', async () => {
    certn.delayNextResponse(1500, { method: 'POST', path: '/cases/order' });
    const order = {
      email_address: 'ada@example.com',
      package_id: packageId,
      external_reference: 'opp-1',
    };
    const headers = {
      'Content-Type': 'application/json',
      Authorization: `Api-Key ${CERTN_KEY}`,
      'Idempotency-Key': 'wf/run',
    };
    const url = `${certn.url}/api/public/cases/order-package/`;
    await expect(
      fetch(url, { method: 'POST', headers, body: JSON.stringify(order), signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    expect(certn.cases()).toHaveLength(1);

    const retry = await fetch(url, { method: 'POST', headers, body: JSON.stringify(order) });
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { id: string }).id).toBe(certn.cases()[0]?.id);
    expect(certn.orders().map((o) => o.replayed)).toEqual([false, true]);
    expect(certn.faults().pending.delayNextResponse).toBe(0);
  });

  it('drops callbacks: a dropped webhook is recorded, never sent and never retried', async () => {
    const receiver = await startReceiver();
    try {
      certn.setWebhook(CERTN_KEY, { url: `${receiver.url}/hook`, secret: 'whsec' });
      const created = certn.order(
        CERTN_KEY,
        'order-package',
        { email_address: 'b@example.com', package_id: packageId },
        null,
      );
      certn.setFaults({ dropCallbackRate: 1 });
      await certn.advance(created.case.id);
      expect(receiver.hits()).toBe(0);
      expect(certn.deliveries().map((d) => [d.status, d.attempts.length])).toEqual([['dropped', 0]]);
      expect(certn.faults().stats).toMatchObject({ callbacks: 1, droppedCallbacks: 1 });

      certn.clearFaults();
      await certn.advance(created.case.id);
      expect(receiver.hits()).toBe(1);
    } finally {
      await receiver.close();
    }
  });
});

describe('fault injection on the Lever emulator', () => {
  let lever: RunningLeverEmulator;
  beforeEach(async () => {
    lever = await startLeverEmulator({
      webhookRetryDelaysMs: [10, 10],
      rateLimit: { perSecond: 1000, burst: 1000 },
    });
    lever.addApiKey(LEVER_KEY);
  });
  afterEach(async () => {
    await lever.close();
  });

  it('failNextAfterWrite: the note is written, the answer is 500, the next write is normal', async () => {
    const opp = lever.createOpportunity({ name: 'Ada' });
    lever.failNextAfterWrite(1, { path: '/notes' });
    const url = `${lever.apiBaseUrl}/opportunities/${opp.id}/notes`;
    const failed = await post(url, { value: 'first', secret: true }, leverAuth);
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body ?? '{}')).toEqual({ code: 'InternalError', message: 'Injected fault' });
    expect(lever.notes(opp.id).map((n) => n.value)).toEqual(['first']);
    expect((await post(url, { value: 'second' }, leverAuth)).status).toBe(201);
    expect(lever.faults().stats.failedAfterWrite).toBe(1);
    // A write that fails validation stays a 400.
    lever.failNextAfterWrite(1);
    expect((await post(url, { value: '' }, leverAuth)).status).toBe(400);
  });

  it('faults /v1 and not /_sandbox; a dropped webhook attempt is retried by Lever like a lost one', async () => {
    lever.setFaults({ errorRate: 1, seed: 1 });
    const opp = lever.createOpportunity({ name: 'Ada' });
    const res = await fetch(`${lever.apiBaseUrl}/opportunities/${opp.id}`, { headers: leverAuth });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect((await fetch(`${lever.url}/_sandbox/stages`)).status).toBe(200);

    const receiver = await startReceiver();
    try {
      lever.addWebhook({ event: 'candidateStageChange', url: `${receiver.url}/hook`, signatureToken: 't' });
      lever.setFaults({ dropCallbackRate: 1 });
      const [dropped] = await lever.moveToStage(opp.id, lever.stageIdByName('Background Check'));
      expect(dropped?.delivered).toBe(false);
      expect(dropped?.attempts.map((a) => [a.status, a.dropped])).toEqual([
        [null, true],
        [null, true],
        [null, true],
      ]);
      expect(receiver.hits()).toBe(0);
      lever.clearFaults();
      const [delivered] = await lever.moveToStage(opp.id, lever.stageIdByName('Offer'));
      expect(delivered?.delivered).toBe(true);
      expect(receiver.hits()).toBe(1);
    } finally {
      await receiver.close();
    }
  });
});

describe('fault injection on the Justifacts and VICTIG emulators', () => {
  it('answers injected faults with each vendor’s error body, and leaves /_sandbox alone', async () => {
    const justifacts = await startJustifactsEmulator();
    const victig = await startVictigEmulator();
    try {
      justifacts.addAccount({ apiKey: 'jf-key' });
      justifacts.setFaults({ errorRate: 1, seed: 3 });
      const jf = await fetch(`${justifacts.url}/api/v1/packages`, {
        headers: { Authorization: 'Bearer jf-key' },
      });
      expect(jf.status).toBeGreaterThanOrEqual(500);
      expect(await jf.json()).toEqual({ error: { code: anyString, message: anyString } });
      expect((await fetch(`${justifacts.url}/_sandbox/orders`)).status).toBe(200);

      victig.addAccount({ accountId: 'acct', apiKey: 'vk' });
      victig.setFaults({ rateLimitRate: 1, retryAfterShare: 1 });
      const basic = `Basic ${Buffer.from('acct:vk').toString('base64')}`;
      const vt = await fetch(`${victig.url}/api/v1/catalog`, { headers: { Authorization: basic } });
      expect(vt.status).toBe(429);
      expect(vt.headers.get('retry-after')).toBe('1');
      expect(await vt.json()).toEqual({
        error: { code: 'rate_limited', description: 'Injected fault (429).' },
      });
      expect((await fetch(`${victig.url}/_sandbox/faults`)).status).toBe(200);
    } finally {
      await justifacts.close();
      await victig.close();
    }
  });
});
