import express from 'express';
import { ExternalApiError } from '../../src/integrations/http-client';
import { listen, type RunningServer } from '../../sandbox/kit';
import {
  startJustifactsEmulator,
  type JustifactsOrderView,
  type RunningJustifactsEmulator,
} from '../../sandbox/justifacts-emulator';
import {
  JustifactsClient,
  justifactsSignature,
  verifyJustifactsCallback,
  type JustifactsOrderRequest,
} from '../../src/vendors/justifacts/client';
import { startCallbackReceiver } from '../support/callback-receiver';
import { waitUntil } from '../support/waits';

const KEY = 'jweb-account-a';
const OTHER_KEY = 'jweb-account-b';
const SECRET = 'cb-secret-a';

interface ReceivedCallback {
  raw: Buffer;
  signature: string | undefined;
  userAgent: string | undefined;
}

/** A callback receiver recording raw bodies; answers `failFirst` requests with 500 before answering 204. */
function startReceiver(failFirst = 0): Promise<RunningServer & { received: ReceivedCallback[] }> {
  return startCallbackReceiver('/callbacks/justifacts', failFirst, (raw, req): ReceivedCallback => ({
    raw,
    signature: req.get('x-justifacts-signature'),
    userAgent: req.get('user-agent'),
  }));
}

/** Raw HTTP call to the emulator, to see statuses and error bodies the client turns into exceptions. */
async function call(
  jf: RunningJustifactsEmulator,
  method: string,
  path: string,
  opts: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? KEY : opts.key;
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${jf.apiBaseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

const orderBody = (
  extra: { email?: string | null; package?: { code: string; id: string }; reference?: string } = {},
): JustifactsOrderRequest => ({
  package: extra.package ?? { code: 'EmpCod', id: '13558' },
  applicant: {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: extra.email === undefined ? 'ada@example.com' : (extra.email as string),
  },
  reference: extra.reference ?? 'check-1',
});

async function rejection(promise: Promise<unknown>): Promise<ExternalApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ExternalApiError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const errorCode = (body: unknown): unknown => (body as { error?: { code?: unknown } }).error?.code;

describe('Justifacts emulator and client', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (closers.length > 0) await closers.pop()?.();
  });

  async function start(
    opts: Parameters<typeof startJustifactsEmulator>[0] = {},
    callbackUrl?: string,
  ): Promise<{ jf: RunningJustifactsEmulator; client: JustifactsClient }> {
    const jf = await startJustifactsEmulator(opts);
    closers.push(() => jf.close());
    jf.addAccount(callbackUrl ? { apiKey: KEY, callbackUrl, callbackSecret: SECRET } : { apiKey: KEY });
    jf.addAccount({ apiKey: OTHER_KEY, packages: [{ code: 'OthCod', id: '999', name: 'Other' }] });
    return { jf, client: new JustifactsClient(jf.apiBaseUrl, KEY) };
  }

  async function receiver(failFirst = 0) {
    const r = await startReceiver(failFirst);
    closers.push(() => r.close());
    return { ...r, callbackUrl: `${r.url}/callbacks/justifacts` };
  }

  it('answers 401 for a missing, unknown, wrongly-schemed or revoked API key', async () => {
    const { jf, client } = await start();
    const unknown = await rejection(new JustifactsClient(jf.apiBaseUrl, 'nope').listPackages());
    expect(unknown.status).toBe(401);
    expect(unknown.accessDenied).toBe(true);
    expect(unknown.service).toBe('Justifacts');

    const none = await call(jf, 'GET', '/api/v1/packages', { key: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) as unknown } });
    const apiKeyScheme = await call(jf, 'GET', '/api/v1/packages', {
      key: null,
      headers: { Authorization: `Api-Key ${KEY}` },
    });
    expect(apiKeyScheme.status).toBe(401);

    await expect(client.listPackages()).resolves.toHaveLength(2);
    jf.revokeApiKey(KEY);
    expect((await rejection(client.listPackages())).status).toBe(401);
    expect((await rejection(client.createOrder(orderBody(), 'k'))).status).toBe(401);
    expect(jf.orders()).toHaveLength(0);
  });

  it('rotates an account key: the new key sees the same orders, the revoked old one gets 401', async () => {
    const { jf, client } = await start();
    const order = await client.createOrder(orderBody({ reference: 'rotated' }), 'rot-1');
    const added = await call(jf, 'POST', `/_sandbox/accounts/${KEY}/keys`, {
      key: null,
      body: { apiKey: 'rotated-key' },
    });
    expect(added.status).toBe(201);
    jf.revokeApiKey(KEY);
    const rotated = new JustifactsClient(jf.apiBaseUrl, 'rotated-key');
    expect((await rejection(client.getOrder(order.orderId))).status).toBe(401);
    await expect(rotated.getOrder(order.orderId)).resolves.toMatchObject({ orderId: order.orderId });
    // The same idempotency key under the new key is the same order: the account, not the key, owns it.
    await expect(rotated.createOrder(orderBody({ reference: 'rotated' }), 'rot-1')).resolves.toMatchObject({
      orderId: order.orderId,
    });
    // Another account's orders stay out of reach.
    expect(
      (await rejection(new JustifactsClient(jf.apiBaseUrl, OTHER_KEY).getOrder(order.orderId))).status,
    ).toBe(404);
  });

  it("lists the account's packages (default seed) and only those", async () => {
    const { jf, client } = await start();
    expect(await client.listPackages()).toEqual([
      {
        code: 'EmpCod',
        id: '13558',
        name: 'Employment Screening',
        description: expect.any(String) as unknown,
      },
      {
        code: 'CrimCod',
        id: '20417',
        name: 'Criminal Screening',
        description: expect.any(String) as unknown,
      },
    ]);
    expect(await new JustifactsClient(jf.apiBaseUrl, OTHER_KEY).listPackages()).toEqual([
      { code: 'OthCod', id: '999', name: 'Other', description: '' },
    ]);
  });

  it('creates an order: 201 INVITED, the invitation emailed to the applicant, readable by id', async () => {
    const { jf, client } = await start();
    const raw = await call(jf, 'POST', '/api/v1/orders', {
      body: orderBody({ reference: 'check-raw' }),
      headers: { 'Idempotency-Key': 'raw-1' },
    });
    expect(raw.status).toBe(201);
    expect(raw.body).toMatchObject({ status: 'INVITED', reference: 'check-raw', resultUrl: null });

    const order = await client.createOrder(
      orderBody({
        email: 'grace@example.com',
        package: { code: 'crimcod', id: '20417' },
        reference: 'check-7',
      }),
      'check-7',
    );
    expect(order).toEqual({
      orderId: expect.stringMatching(/^JF-[0-9A-F]{16}$/) as unknown,
      status: 'INVITED',
      resultUrl: null,
      reference: 'check-7',
      package: { code: 'CrimCod', id: '20417' },
    });
    expect(jf.invitations()).toHaveLength(2);
    expect(jf.invitations()[1]).toMatchObject({
      orderId: order.orderId,
      email: 'grace@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      packageCode: 'CrimCod',
      packageName: 'Criminal Screening',
    });
    expect(await client.getOrder(order.orderId)).toEqual(order);
    expect(jf.order(order.orderId)).toMatchObject({ status: 'INVITED', reference: 'check-7' });
  });

  it('refuses a bad applicant email or an unknown package with 422, ordering and inviting nobody', async () => {
    const { jf, client } = await start();
    for (const email of [null, '', 'not-an-email']) {
      const res = await call(jf, 'POST', '/api/v1/orders', {
        body: orderBody({ email }),
        headers: { 'Idempotency-Key': `email-${String(email)}` },
      });
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe('invalid_applicant');
    }
    const viaClient = await rejection(client.createOrder(orderBody({ email: 'nope' }), 'email-client'));
    expect(viaClient.status).toBe(422);
    expect(viaClient.permanent).toBe(true);

    for (const pkg of [
      { code: 'EmpCod', id: '11111' },
      { code: 'CrimCod', id: '13558' }, // the id of another package
      { code: 'OthCod', id: '999' }, // another account's package
    ]) {
      const res = await call(jf, 'POST', '/api/v1/orders', {
        body: orderBody({ package: pkg }),
        headers: { 'Idempotency-Key': `pkg-${pkg.id}-${pkg.code}` },
      });
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe('unknown_package');
    }

    const noKey = await call(jf, 'POST', '/api/v1/orders', { body: orderBody() });
    expect(noKey.status).toBe(400);
    expect(errorCode(noKey.body)).toBe('invalid_request');
    const noPackage = await call(jf, 'POST', '/api/v1/orders', {
      body: { applicant: orderBody().applicant, reference: 'x' },
      headers: { 'Idempotency-Key': 'no-package' },
    });
    expect(noPackage.status).toBe(400);

    expect(jf.orders()).toHaveLength(0);
    expect(jf.invitations()).toHaveLength(0);
    expect(jf.orderRequests()).toHaveLength(0);

    // A refused request does not consume its key: the corrected body goes through.
    const fixed = await client.createOrder(orderBody(), 'email-client');
    expect(fixed.status).toBe('INVITED');
  });

  it('replays an order with the same Idempotency-Key and refuses the key with another body', async () => {
    const { jf, client } = await start();
    const headers = { 'Idempotency-Key': 'check-42' };
    const first = await call(jf, 'POST', '/api/v1/orders', { body: orderBody(), headers });
    // Same body with keys in another order is the same request.
    const { reference, applicant, package: pkg } = orderBody();
    const second = await call(jf, 'POST', '/api/v1/orders', {
      body: { reference, applicant, package: pkg },
      headers,
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    const firstId = (first.body as JustifactsOrderView).orderId;
    expect((second.body as JustifactsOrderView).orderId).toBe(firstId);
    expect((await client.createOrder(orderBody(), 'check-42')).orderId).toBe(firstId);
    expect(jf.orders()).toHaveLength(1);
    expect(jf.invitations()).toHaveLength(1);
    expect(jf.orderRequests().map((r) => [r.orderId, r.replayed, r.idempotencyKey])).toEqual([
      [firstId, false, 'check-42'],
      [firstId, true, 'check-42'],
      [firstId, true, 'check-42'],
    ]);

    const conflicting = await call(jf, 'POST', '/api/v1/orders', {
      body: orderBody({ email: 'someone-else@example.com' }),
      headers,
    });
    expect(conflicting.status).toBe(409);
    expect(errorCode(conflicting.body)).toBe('idempotency_conflict');
    expect((await rejection(client.createOrder(orderBody({ reference: 'other' }), 'check-42'))).status).toBe(
      409,
    );

    // The key is scoped to the account.
    await jf.advance(firstId);
    const other = await new JustifactsClient(jf.apiBaseUrl, OTHER_KEY).createOrder(
      orderBody({ package: { code: 'OthCod', id: '999' } }),
      'check-42',
    );
    expect(other.orderId).not.toBe(firstId);
    expect(jf.orders()).toHaveLength(2);
    // A replay answers the order as it is now.
    expect((await client.createOrder(orderBody(), 'check-42')).status).toBe('APPLICANT_COMPLETED');
  });

  it('progresses to COMPLETED sending signed callbacks that verifyJustifactsCallback accepts', async () => {
    const hooks = await receiver();
    const { jf, client } = await start({}, hooks.callbackUrl);
    const order = await client.createOrder(orderBody(), 'k1');
    expect(hooks.received).toHaveLength(0); // no callback for the creation itself

    const seen: { status: string; callbacks: string[]; resultUrl: string | null }[] = [];
    const step = async (move: () => Promise<unknown>) => {
      const before = hooks.received.length;
      await move(); // resolves after the first delivery attempt
      const current = await client.getOrder(order.orderId);
      seen.push({
        status: current.status,
        resultUrl: current.resultUrl?.url ?? null,
        callbacks: hooks.received.slice(before).map((h) => {
          const verdict = verifyJustifactsCallback(h.raw, h.signature, SECRET);
          if (!verdict.ok) throw new Error(verdict.detail);
          expect(verdict.event.orderId).toBe(order.orderId);
          return verdict.event.status;
        }),
      });
    };
    await step(() => jf.setStatus(order.orderId, 'APPLICANT_STARTED'));
    await step(() => jf.advance(order.orderId));
    await step(() => jf.advance(order.orderId));
    expect(seen).toEqual([
      { status: 'APPLICANT_STARTED', resultUrl: null, callbacks: ['APPLICANT_STARTED'] },
      { status: 'APPLICANT_COMPLETED', resultUrl: null, callbacks: ['APPLICANT_COMPLETED'] },
      {
        status: 'COMPLETED',
        resultUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/results\//) as unknown,
        callbacks: ['COMPLETED'],
      },
    ]);
    await expect(jf.advance(order.orderId)).rejects.toThrow(/nothing to advance/);

    for (const h of hooks.received) {
      expect(h.signature).toBe(justifactsSignature(SECRET, h.raw));
      expect(h.userAgent).toBe('Justifacts-Callbacks');
      const event = JSON.parse(h.raw.toString('utf8')) as Record<string, unknown>;
      expect(Object.keys(event).sort()).toEqual(['eventId', 'occurredAt', 'orderId', 'status']);
    }
    const events = hooks.received.map((h) => JSON.parse(h.raw.toString('utf8')) as { eventId: string });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(jf.deliveries().every((d) => d.status === 'delivered' && d.attempts[0]?.statusCode === 204)).toBe(
      true,
    );

    // Verification refuses anything but the exact signed bytes.
    const last = hooks.received[hooks.received.length - 1];
    if (!last) throw new Error('no callback');
    const tampered = Buffer.from(last.raw.toString('utf8').replace('COMPLETED', 'CANCELLED'));
    expect(verifyJustifactsCallback(tampered, last.signature, SECRET)).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(verifyJustifactsCallback(last.raw, last.signature, 'wrong-secret')).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(verifyJustifactsCallback(last.raw, undefined, SECRET)).toMatchObject({ ok: false, status: 401 });
    const bareHex = last.signature?.replace(/^sha256=/, '');
    expect(verifyJustifactsCallback(last.raw, bareHex, SECRET)).toMatchObject({ ok: false, status: 401 });
    const notEvent = Buffer.from(JSON.stringify({ orderId: order.orderId, status: 'DONE' }));
    expect(verifyJustifactsCallback(notEvent, justifactsSignature(SECRET, notEvent), SECRET)).toMatchObject({
      ok: false,
      status: 400,
    });
    const notJson = Buffer.from('not json');
    expect(verifyJustifactsCallback(notJson, justifactsSignature(SECRET, notJson), SECRET)).toMatchObject({
      ok: false,
      status: 400,
    });
  });

  it('serves the result page at resultUrl without an API key and refuses a wrong token with 403', async () => {
    const { jf, client } = await start();
    const order = await client.createOrder(orderBody(), 'k1');
    await jf.advance(order.orderId);
    await jf.advance(order.orderId);
    const resultUrl = (await client.getOrder(order.orderId)).resultUrl?.url;
    if (!resultUrl) throw new Error('no resultUrl');
    expect(new URL(resultUrl).origin).toBe(jf.url);

    const page = await fetch(resultUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain(order.orderId);
    expect(html).toContain('Employment Screening');

    const wrong = new URL(resultUrl);
    const token = wrong.searchParams.get('token') ?? '';
    wrong.searchParams.set('token', `${token.startsWith('0') ? '1' : '0'}${token.slice(1)}`);
    expect((await fetch(wrong)).status).toBe(403);
    const none = new URL(resultUrl);
    none.search = '';
    expect((await fetch(none)).status).toBe(403);
    // Another order's token does not open this one.
    const second = await client.createOrder(orderBody({ reference: 'check-2' }), 'k2');
    await jf.setStatus(second.orderId, 'COMPLETED');
    const secondUrl = new URL((await client.getOrder(second.orderId)).resultUrl?.url ?? '');
    const swapped = new URL(resultUrl);
    swapped.searchParams.set('token', secondUrl.searchParams.get('token') ?? '');
    expect((await fetch(swapped)).status).toBe(403);
  });

  it('retries a failed callback with the same signed body', async () => {
    const hooks = await receiver(2);
    const { jf, client } = await start({ webhookRetryDelaysMs: [20, 20, 20] }, hooks.callbackUrl);
    const order = await client.createOrder(orderBody(), 'k1');
    await jf.advance(order.orderId);
    await waitUntil(() => hooks.received.length === 3);
    const [first, ...rest] = hooks.received;
    for (const r of rest) {
      expect(r.raw.equals(first?.raw ?? Buffer.alloc(0))).toBe(true);
      expect(r.signature).toBe(first?.signature);
    }
    await waitUntil(() => jf.deliveries()[0]?.status === 'delivered');
    expect(jf.deliveries()[0]?.attempts.map((a) => a.statusCode)).toEqual([500, 500, 204]);

    const again = await jf.redeliver(jf.deliveries()[0]?.id ?? '');
    expect(again.attempts).toHaveLength(4);
    expect(hooks.received[3]?.raw.equals(first?.raw ?? Buffer.alloc(0))).toBe(true);
  });

  it('counts a redirect as a failed delivery and does not follow it', async () => {
    const hooks = await receiver();
    const app = express();
    app.post('/moved', (_req, res) => res.redirect(307, hooks.callbackUrl));
    const moved = await listen(app);
    closers.push(() => moved.close());
    const { jf, client } = await start({ webhookRetryDelaysMs: [] }, `${moved.url}/moved`);
    const order = await client.createOrder(orderBody(), 'k1');
    await jf.advance(order.orderId);
    expect(jf.deliveries().map((d) => [d.status, d.attempts.map((a) => a.statusCode)])).toEqual([
      ['failed', [307]],
    ]);
    expect(hooks.received).toHaveLength(0);
  });

  it('cancels an order with a callback; a cancelled one again is a no-op; a completed one is 409', async () => {
    const hooks = await receiver();
    const { jf, client } = await start({}, hooks.callbackUrl);
    const order = await client.createOrder(orderBody(), 'k1');
    const cancelled = await client.cancelOrder(order.orderId);
    expect(cancelled.status).toBe('CANCELLED');
    expect((await client.getOrder(order.orderId)).status).toBe('CANCELLED');
    await waitUntil(() => hooks.received.length === 1);
    const verdict = verifyJustifactsCallback(
      hooks.received[0]?.raw ?? Buffer.alloc(0),
      hooks.received[0]?.signature,
      SECRET,
    );
    expect(verdict).toMatchObject({ ok: true, event: { orderId: order.orderId, status: 'CANCELLED' } });

    expect((await client.cancelOrder(order.orderId)).status).toBe('CANCELLED');
    await new Promise((r) => setTimeout(r, 50));
    expect(hooks.received).toHaveLength(1);
    await expect(jf.advance(order.orderId)).rejects.toThrow(/nothing to advance/);

    const done = await client.createOrder(orderBody({ reference: 'check-2' }), 'k2');
    await jf.setStatus(done.orderId, 'COMPLETED');
    const refused = await call(jf, 'POST', `/api/v1/orders/${done.orderId}/cancel`, { body: {} });
    expect(refused.status).toBe(409);
    expect(errorCode(refused.body)).toBe('order_completed');
    expect((await rejection(client.cancelOrder(done.orderId))).status).toBe(409);
    expect(jf.order(done.orderId).status).toBe('COMPLETED');
  });

  it("hides an account's orders from other accounts (404)", async () => {
    const { jf, client } = await start();
    const order = await client.createOrder(orderBody(), 'k1');
    const other = new JustifactsClient(jf.apiBaseUrl, OTHER_KEY);
    expect((await rejection(other.getOrder(order.orderId))).status).toBe(404);
    expect((await rejection(other.cancelOrder(order.orderId))).status).toBe(404);
    const unknown = await call(jf, 'GET', '/api/v1/orders/JF-0000000000000000');
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown.body)).toBe('not_found');
    expect(jf.order(order.orderId).status).toBe('INVITED');
  });

  it('moves orders to COMPLETED by themselves with autoAdvanceMs, and stays put without it', async () => {
    const hooks = await receiver();
    const { jf, client } = await start({ autoAdvanceMs: 20 }, hooks.callbackUrl);
    const order = await client.createOrder(orderBody(), 'k1');
    await waitUntil(() => jf.order(order.orderId).status === 'COMPLETED');
    await waitUntil(() => hooks.received.length === 2);
    expect(
      hooks.received.map((h) => {
        const v = verifyJustifactsCallback(h.raw, h.signature, SECRET);
        return v.ok ? v.event.status : v.detail;
      }),
    ).toEqual(['APPLICANT_COMPLETED', 'COMPLETED']);
    expect((await client.getOrder(order.orderId)).resultUrl).not.toBeNull();

    const still = await start();
    const idle = await still.client.createOrder(orderBody(), 'k1');
    await new Promise((r) => setTimeout(r, 100));
    expect(still.jf.order(idle.orderId).status).toBe('INVITED');
  });

  it('turns a 2xx body that breaks the contract into an ExternalApiError', async () => {
    const app = express();
    app.get('/api/v1/orders/:id', (_req, res) => {
      res.json({ orderId: 'x', status: 'SOMETHING_NEW', reference: 'r', package: { code: 'a', id: 'b' } });
    });
    const server = await listen(app);
    closers.push(() => server.close());
    const err = await rejection(new JustifactsClient(server.url, KEY).getOrder('x'));
    expect(err.message).toMatch(/unexpected body \(status\)/);
  });

  it('is controllable over HTTP under /_sandbox', async () => {
    const jf = await startJustifactsEmulator();
    closers.push(() => jf.close());
    const hooks = await receiver();
    const sandbox = (method: string, path: string, body?: unknown) =>
      call(jf, method, `/_sandbox${path}`, { key: null, body });

    const account = await sandbox('POST', '/accounts', {
      apiKey: 'http-account',
      packages: [{ code: 'OnlyCod', id: '1', name: 'Only' }],
    });
    expect(account.status).toBe(201);
    expect(account.body).toEqual({ packages: [{ code: 'OnlyCod', id: '1', name: 'Only', description: '' }] });
    expect((await sandbox('POST', '/accounts', { packages: [] })).status).toBe(400);
    expect((await sandbox('POST', '/accounts', { apiKey: 'x', callbackUrl: hooks.callbackUrl })).status).toBe(
      400,
    );

    const cb = await sandbox('POST', '/accounts/http-account/callback', {
      url: hooks.callbackUrl,
      secret: 's',
    });
    expect(cb.status).toBe(200);

    const client = new JustifactsClient(jf.apiBaseUrl, 'http-account');
    const order = await client.createOrder(orderBody({ package: { code: 'OnlyCod', id: '1' } }), 'k1');

    const advanced = await sandbox('POST', `/orders/${order.orderId}/advance`);
    expect(advanced.status).toBe(200);
    expect((advanced.body as JustifactsOrderView).status).toBe('APPLICANT_COMPLETED');
    expect(hooks.received).toHaveLength(1);
    expect(
      verifyJustifactsCallback(hooks.received[0]?.raw ?? Buffer.alloc(0), hooks.received[0]?.signature, 's'),
    ).toMatchObject({ ok: true });

    expect((await sandbox('POST', `/orders/${order.orderId}/status`, { status: 'DONE' })).status).toBe(400);
    const set = await sandbox('POST', `/orders/${order.orderId}/status`, { status: 'COMPLETED' });
    expect((set.body as JustifactsOrderView).resultUrl).toMatch(/\/results\//);

    expect(((await sandbox('GET', '/orders')).body as JustifactsOrderView[]).map((o) => o.orderId)).toEqual([
      order.orderId,
    ]);
    expect((await sandbox('GET', `/orders/${order.orderId}`)).body).toMatchObject({ status: 'COMPLETED' });
    expect((await sandbox('GET', '/order-requests')).body).toHaveLength(1);
    expect((await sandbox('GET', '/invitations')).body).toHaveLength(1);
    const deliveries = (await sandbox('GET', '/deliveries')).body as { id: string }[];
    expect(deliveries).toHaveLength(2);
    const redelivered = await sandbox('POST', `/deliveries/${deliveries[0]?.id ?? ''}/redeliver`);
    expect(redelivered.status).toBe(200);
    expect(hooks.received).toHaveLength(3);
    expect((await sandbox('POST', '/orders/nope/advance')).status).toBe(404);

    expect((await sandbox('DELETE', '/accounts/http-account')).status).toBe(204);
    expect((await rejection(client.getOrder(order.orderId))).status).toBe(401);
  });
});
