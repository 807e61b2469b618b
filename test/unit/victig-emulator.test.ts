import { DEFAULT_REQUEST_TRIES, ExternalApiError } from '../../src/integrations/http-client';
import type { RunningServer } from '../../sandbox/kit';
import { startVictigEmulator, type RunningVictigEmulator } from '../../sandbox/victig-emulator';
import {
  VictigClient,
  VictigRefusal,
  verifyVictigCallback,
  victigSignature,
  type VictigCallbackEvent,
  type VictigOrderRequest,
} from '../../src/vendors/victig/client';
import { startCallbackReceiver } from '../support/callback-receiver';
import { waitUntil } from '../support/waits';

const ACCOUNT = 'acme';
const API_KEY = 'acme-key';
const SECRET = 'cbsec-acme';

interface ReceivedCallback {
  raw: string;
  signature: string | undefined;
  verdict: ReturnType<typeof verifyVictigCallback>;
}

/** A callback receiver that verifies with verifyVictigCallback; answers `failFirst` valid ones with 500 first. */
function startReceiver(failFirst = 0): Promise<RunningServer & { received: ReceivedCallback[] }> {
  return startCallbackReceiver(
    '/hooks/victig',
    failFirst,
    (raw, req): ReceivedCallback => {
      const signature = req.get('x-victig-signature');
      return { raw: raw.toString('utf8'), signature, verdict: verifyVictigCallback(raw, signature, SECRET) };
    },
    ({ verdict }, res) => {
      if (verdict.ok) return false;
      res.status(verdict.status).json({ detail: verdict.detail });
      return true;
    },
  );
}

const orderBody = (
  extra: Partial<VictigOrderRequest> = {},
  applicant: Partial<VictigOrderRequest['applicant']> = {},
): VictigOrderRequest => ({
  product: 'Criminal Package 1',
  subClientCode: 'NYC01',
  reference: 'Backend Engineer',
  applicant: {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    phone: '+1 555 0100',
    ...applicant,
  },
  position: { title: 'Backend Engineer', department: 'Engineering', location: 'New York' },
  tags: ['Product: Criminal Package 1'],
  externalId: 'check-1',
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

const basic = (account: string, key: string): string =>
  `Basic ${Buffer.from(`${account}:${key}`).toString('base64')}`;

describe('VICTIG emulator and client', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (closers.length > 0) await closers.pop()?.();
  });

  async function start(
    opts: Parameters<typeof startVictigEmulator>[0] = {},
    callbackUrl?: string,
  ): Promise<{ victig: RunningVictigEmulator; client: VictigClient }> {
    const victig = await startVictigEmulator(opts);
    closers.push(() => victig.close());
    victig.addAccount({
      accountId: ACCOUNT,
      apiKey: API_KEY,
      ...(callbackUrl ? { callbackUrl, callbackSecret: SECRET } : {}),
    });
    return { victig, client: new VictigClient(victig.apiBaseUrl, ACCOUNT, API_KEY) };
  }

  async function receiver(failFirst = 0) {
    const r = await startReceiver(failFirst);
    closers.push(() => r.close());
    return r;
  }

  it('answers 401 to missing, wrong and revoked credentials', async () => {
    const { victig, client } = await start();
    victig.addAccount({ accountId: 'other', apiKey: 'other-key' });

    const noAuth = await fetch(`${victig.url}/api/v1/catalog`);
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toEqual({
      error: { code: 'unauthorized', description: 'Invalid account id or API key.' },
    });
    for (const [account, key] of [
      [ACCOUNT, 'wrong-key'],
      ['nobody', API_KEY],
      ['other', API_KEY], // a valid key of another account
    ] as const) {
      const err = await rejection(new VictigClient(victig.apiBaseUrl, account, key).catalog());
      expect(err).toBeInstanceOf(ExternalApiError);
      expect(err).toMatchObject({ status: 401, accessDenied: true });
    }
    const bearer = await fetch(`${victig.url}/api/v1/catalog`, {
      headers: { Authorization: `Bearer ${API_KEY}` },
    });
    expect(bearer.status).toBe(401);

    await expect(client.catalog()).resolves.toBeDefined();
    victig.revokeApiKey(ACCOUNT);
    expect(await rejection(client.catalog())).toMatchObject({ status: 401 });
    expect(await rejection(client.createOrder(orderBody(), 'k-1'))).toMatchObject({ status: 401 });
    expect(victig.orders()).toHaveLength(0);
  });

  it('lists the default catalog, or the account-specific one', async () => {
    const { victig, client } = await start();
    expect(await client.catalog()).toEqual({
      products: [
        { name: 'Criminal Package 1' },
        { name: 'Criminal Package 2' },
        { name: 'Employment Package' },
      ],
      subClients: [
        { code: 'NYC01', name: 'Acme New York', city: 'New York' },
        { code: 'SF02', name: 'Acme San Francisco', city: 'San Francisco' },
      ],
    });
    const custom = victig.addAccount({
      accountId: 'globex',
      apiKey: 'globex-key',
      products: [{ name: 'Driver Package' }],
      subClients: [],
    });
    expect(await new VictigClient(victig.apiBaseUrl, 'globex', 'globex-key').catalog()).toEqual(custom);
    expect(custom).toEqual({ products: [{ name: 'Driver Package' }], subClients: [] });
  });

  it('creates an order (201 PENDING), sends the QuickApp by email and SMS, and stores what was sent', async () => {
    const { victig, client } = await start();
    const created = await client.createOrder(orderBody(), 'k-1');
    expect(created).toEqual({
      orderId: expect.any(String) as unknown,
      status: 'PENDING',
      quickAppSent: true,
    });
    expect(victig.orderRequests().map((r) => r.outcome)).toEqual(['created']);

    const stored = victig.order(created.orderId);
    expect(stored).toMatchObject({
      accountId: ACCOUNT,
      externalId: 'check-1',
      status: 'PENDING',
      results: null,
    });
    expect(stored.request).toEqual(orderBody());
    expect(victig.quickApps()).toEqual([
      {
        orderId: created.orderId,
        accountId: ACCOUNT,
        email: 'ada@example.com',
        phone: '+1 555 0100',
        at: expect.any(String) as unknown,
      },
    ]);

    // Without a phone (and without a sub-client) the QuickApp goes by email only.
    const second = await client.createOrder(
      orderBody({ subClientCode: null, externalId: 'check-2' }, { email: 'grace@example.com', phone: null }),
      'k-2',
    );
    expect(victig.quickApps()[1]).toMatchObject({
      orderId: second.orderId,
      email: 'grace@example.com',
      phone: null,
    });

    // Over the wire the status code is 201, and GET shows the order.
    const raw = await fetch(`${victig.url}/api/v1/orders`, {
      method: 'POST',
      headers: {
        Authorization: basic(ACCOUNT, API_KEY),
        'Content-Type': 'application/json',
        'Idempotency-Key': 'k-3',
      },
      body: JSON.stringify(orderBody({ externalId: 'check-3' })),
    });
    expect(raw.status).toBe(201);
    expect(await client.getOrder(created.orderId)).toEqual({
      orderId: created.orderId,
      externalId: 'check-1',
      status: 'PENDING',
      results: null,
    });
  });

  it('refuses orders with 422, each as a VictigRefusal with its code and description', async () => {
    const { victig, client } = await start();
    const cases: { body: VictigOrderRequest; code: string; description: string }[] = [
      {
        body: orderBody({}, { email: '' }),
        code: 'missing_email',
        description: 'The applicant has no email address.',
      },
      {
        body: orderBody({}, { email: '   ' }),
        code: 'missing_email',
        description: 'The applicant has no email address.',
      },
      {
        body: orderBody({}, { firstName: '', lastName: ' ' }),
        code: 'missing_name',
        description: 'The applicant has no name.',
      },
      {
        body: orderBody({}, { email: 'not-an-email' }),
        code: 'invalid_email',
        description: 'The applicant\'s email address "not-an-email" is not valid.',
      },
      {
        body: orderBody({ product: 'Criminal Package 9' }),
        code: 'unknown_product',
        description: 'The product "Criminal Package 9" does not exist on this account.',
      },
      {
        body: orderBody({ product: 'criminal package 1' }), // exact name only
        code: 'unknown_product',
        description: 'The product "criminal package 1" does not exist on this account.',
      },
      {
        body: orderBody({ subClientCode: 'LA03' }),
        code: 'unknown_sub_client',
        description: 'The sub-client "LA03" does not exist on this account.',
      },
    ];
    for (const [i, c] of cases.entries()) {
      const err = await rejection(client.createOrder(c.body, `refused-${i}`));
      expect(err).toBeInstanceOf(VictigRefusal);
      expect(err).not.toBeInstanceOf(ExternalApiError);
      expect(err).toMatchObject({ code: c.code, description: c.description });
    }
    expect(victig.orders()).toHaveLength(0);
    expect(victig.quickApps()).toHaveLength(0);
    expect(victig.orderRequests().map((r) => [r.outcome, r.errorCode])).toEqual(
      cases.map((c) => ['refused', c.code]),
    );

    // A missing email field (not just an empty one) is a refusal too, not a 400.
    const res = await fetch(`${victig.url}/api/v1/orders`, {
      method: 'POST',
      headers: {
        Authorization: basic(ACCOUNT, API_KEY),
        'Content-Type': 'application/json',
        'Idempotency-Key': 'no-email-field',
      },
      body: JSON.stringify({
        ...orderBody(),
        applicant: { firstName: 'Ada', lastName: 'Lovelace', phone: null },
      }),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: { code: 'missing_email', description: 'The applicant has no email address.' },
    });
  });

  it('answers 400 for a malformed body or a missing Idempotency-Key (not a refusal)', async () => {
    const { victig } = await start();
    const post = (body: string, key: string | null) =>
      fetch(`${victig.url}/api/v1/orders`, {
        method: 'POST',
        headers: {
          Authorization: basic(ACCOUNT, API_KEY),
          'Content-Type': 'application/json',
          ...(key === null ? {} : { 'Idempotency-Key': key }),
        },
        body,
      });
    const noKey = await post(JSON.stringify(orderBody()), null);
    expect(noKey.status).toBe(400);
    expect(await noKey.json()).toMatchObject({ error: { code: 'invalid_request' } });
    const noTags = await post(JSON.stringify({ ...orderBody(), tags: undefined }), 'k');
    expect(noTags.status).toBe(400);
    expect(((await noTags.json()) as { error: { description: string } }).error.description).toMatch(/^tags /);
    const notJson = await post('{"product":', 'k');
    expect(notJson.status).toBe(400);
    expect(victig.orders()).toHaveLength(0);
  });

  it('replays an order with the same Idempotency-Key and answers 409 to the key with another body', async () => {
    const { victig, client } = await start();
    const post = (body: VictigOrderRequest, key: string) =>
      fetch(`${victig.url}/api/v1/orders`, {
        method: 'POST',
        headers: {
          Authorization: basic(ACCOUNT, API_KEY),
          'Content-Type': 'application/json',
          'Idempotency-Key': key,
        },
        body: JSON.stringify(body),
      });
    const first = await client.createOrder(orderBody(), 'check-1-run-1');
    const replay = await post(orderBody(), 'check-1-run-1');
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ orderId: first.orderId, status: 'PENDING', quickAppSent: true });
    expect(await client.createOrder(orderBody(), 'check-1-run-1')).toEqual(first);
    expect(victig.orders()).toHaveLength(1);
    expect(victig.quickApps()).toHaveLength(1);

    const conflict = await rejection(
      client.createOrder(orderBody({}, { email: 'someone-else@example.com' }), 'check-1-run-1'),
    );
    expect(conflict).toBeInstanceOf(ExternalApiError);
    expect(conflict).toMatchObject({ status: 409, permanent: true });
    expect((conflict as Error).message).toContain('different request body');

    // Keys are per account: another account using the same key gets its own order.
    victig.addAccount({ accountId: 'other', apiKey: 'other-key' });
    const other = await new VictigClient(victig.apiBaseUrl, 'other', 'other-key').createOrder(
      orderBody(),
      'check-1-run-1',
    );
    expect(other.orderId).not.toBe(first.orderId);
    expect(victig.orderRequests().map((r) => r.outcome)).toEqual([
      'created',
      'replayed',
      'replayed',
      'conflict',
      'created',
    ]);
  });

  it('goes PENDING → IN_PROGRESS → COMPLETE with results, sending signed callbacks', async () => {
    const hooks = await receiver();
    const { victig, client } = await start({}, `${hooks.url}/hooks/victig`);
    const { orderId } = await client.createOrder(orderBody(), 'k-1');
    expect(hooks.received).toHaveLength(0); // no callback for the initial PENDING

    // advance() resolves after the first delivery attempt of the callback.
    expect((await victig.advance(orderId)).status).toBe('IN_PROGRESS');
    expect(hooks.received).toHaveLength(1);
    expect((await client.getOrder(orderId)).status).toBe('IN_PROGRESS');

    await victig.advance(orderId, { flagged: true, decision: 'Review', summary: '1 record found.' });
    expect(hooks.received).toHaveLength(2);
    const order = await client.getOrder(orderId);
    expect(order).toMatchObject({
      orderId,
      status: 'COMPLETE',
      results: { flagged: true, decision: 'Review', summary: '1 record found.' },
    });
    expect(new URL(order.results?.reportUrl.url ?? '').origin).toBe(victig.url);

    const events = hooks.received.map((h) => {
      if (!h.verdict.ok) throw new Error(`callback refused: ${h.verdict.detail}`);
      expect(h.signature).toBe(victigSignature(SECRET, h.raw));
      return h.verdict.event;
    });
    expect(events.map((e) => [e.orderId, e.status])).toEqual([
      [orderId, 'IN_PROGRESS'],
      [orderId, 'COMPLETE'],
    ]);
    const first = events[0] as VictigCallbackEvent;
    expect(Object.keys(JSON.parse(hooks.received[0]?.raw ?? '{}') as object).sort()).toEqual([
      'eventId',
      'occurredAt',
      'orderId',
      'status',
    ]);
    expect(first.eventId).not.toBe(events[1]?.eventId);
    expect(Number.isNaN(Date.parse(first.occurredAt))).toBe(false);
    expect(
      victig.deliveries().every((d) => d.status === 'delivered' && d.attempts[0]?.statusCode === 204),
    ).toBe(true);

    await expect(victig.advance(orderId)).rejects.toThrow(/nothing to advance/);

    // Default results, and CANCELLED through setStatus.
    const second = await client.createOrder(orderBody({ externalId: 'check-2' }), 'k-2');
    await victig.setStatus(second.orderId, 'COMPLETE');
    expect((await client.getOrder(second.orderId)).results).toMatchObject({
      flagged: false,
      decision: 'Eligible',
    });
    const third = await client.createOrder(orderBody({ externalId: 'check-3' }), 'k-3');
    await victig.setStatus(third.orderId, 'CANCELLED');
    expect(await client.getOrder(third.orderId)).toMatchObject({ status: 'CANCELLED', results: null });
    expect(hooks.received.at(-1)?.verdict).toMatchObject({ ok: true, event: { status: 'CANCELLED' } });
  });

  it('verifies callbacks: tampered body, wrong secret or missing signature → 401, bad body → 400', async () => {
    const hooks = await receiver();
    const { victig, client } = await start({}, `${hooks.url}/hooks/victig`);
    const { orderId } = await client.createOrder(orderBody(), 'k-1');
    await victig.advance(orderId);
    const genuine = hooks.received[0];
    if (!genuine?.signature) throw new Error('no callback');
    expect(genuine.verdict.ok).toBe(true);

    const tamperedBody = genuine.raw.replace('IN_PROGRESS', 'COMPLETE');
    const send = (body: string, signature?: string) =>
      fetch(`${hooks.url}/hooks/victig`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(signature ? { 'X-Victig-Signature': signature } : {}),
        },
        body,
      });
    expect((await send(tamperedBody, genuine.signature)).status).toBe(401);
    expect((await send(genuine.raw)).status).toBe(401);
    expect((await send(genuine.raw, victigSignature('wrong-secret', genuine.raw))).status).toBe(401);
    expect((await send(genuine.raw, genuine.signature)).status).toBe(204);

    const raw = Buffer.from(tamperedBody);
    expect(verifyVictigCallback(raw, genuine.signature, SECRET)).toMatchObject({ ok: false, status: 401 });
    expect(verifyVictigCallback(raw, undefined, SECRET)).toMatchObject({ ok: false, status: 401 });
    const notJson = Buffer.from('not json');
    expect(verifyVictigCallback(notJson, victigSignature(SECRET, notJson), SECRET)).toMatchObject({
      ok: false,
      status: 400,
    });
    const wrongShape = Buffer.from(
      JSON.stringify({ eventId: 'e', orderId: 'o', status: 'DONE', occurredAt: 'x' }),
    );
    expect(verifyVictigCallback(wrongShape, victigSignature(SECRET, wrongShape), SECRET)).toMatchObject({
      ok: false,
      status: 400,
    });
  });

  it('retries a failed callback with the same signed body, and redelivers on demand', async () => {
    const hooks = await receiver(2);
    const { victig, client } = await start(
      { webhookRetryDelaysMs: [20, 20, 20] },
      `${hooks.url}/hooks/victig`,
    );
    const { orderId } = await client.createOrder(orderBody(), 'k-1');
    await victig.advance(orderId);
    await waitUntil(() => victig.deliveries()[0]?.status === 'delivered');
    expect(victig.deliveries()[0]?.attempts.map((a) => a.statusCode)).toEqual([500, 500, 204]);
    const [first, ...rest] = hooks.received;
    expect(rest).toHaveLength(2);
    for (const r of rest) {
      expect(r.raw).toBe(first?.raw);
      expect(r.verdict.ok).toBe(true);
    }
    const again = await victig.redeliver(victig.deliveries()[0]?.id ?? '');
    expect(again.attempts).toHaveLength(4);
    expect(hooks.received[3]?.raw).toBe(first?.raw);
  });

  it('gives up after the last retry', async () => {
    const hooks = await receiver(10);
    const { victig, client } = await start({ webhookRetryDelaysMs: [10] }, `${hooks.url}/hooks/victig`);
    const { orderId } = await client.createOrder(orderBody(), 'k-1');
    await victig.advance(orderId);
    await waitUntil(() => victig.deliveries()[0]?.status === 'failed');
    expect(hooks.received).toHaveLength(2);
  });

  it('fails the next calls with failNext (503 by default) as ExternalApiError, then recovers', async () => {
    const { victig, client } = await start();
    // A write is not repeated by the client (the activity retry decides); a read is, DEFAULT_REQUEST_TRIES times.
    victig.failNext(1 + DEFAULT_REQUEST_TRIES);
    const createErr = await rejection(client.createOrder(orderBody(), 'k-1'));
    expect(createErr).toBeInstanceOf(ExternalApiError);
    expect(createErr).not.toBeInstanceOf(VictigRefusal);
    expect(createErr).toMatchObject({ status: 503, permanent: false });
    expect(await rejection(client.catalog())).toMatchObject({ status: 503 });
    expect(victig.orders()).toHaveLength(0);
    expect(victig.quickApps()).toHaveLength(0);

    const { orderId } = await client.createOrder(orderBody(), 'k-1');
    victig.failNext(DEFAULT_REQUEST_TRIES, 500);
    expect(await rejection(client.getOrder(orderId))).toMatchObject({ status: 500 });
    victig.failNext(DEFAULT_REQUEST_TRIES - 1, 500);
    expect((await client.getOrder(orderId)).status).toBe('PENDING'); // the last quick retry got through

    // An unreachable VICTIG is an ExternalApiError without a status.
    const port = new URL(victig.url).port;
    await victig.close();
    closers.length = 0;
    const down = await rejection(new VictigClient(`http://127.0.0.1:${port}`, ACCOUNT, API_KEY).catalog());
    expect(down).toBeInstanceOf(ExternalApiError);
    expect(down).toMatchObject({ status: null });
  });

  it('serves the report page only with the signed token', async () => {
    const { victig, client } = await start();
    const { orderId } = await client.createOrder(orderBody(), 'k-1');
    await victig.advance(orderId);
    await victig.advance(orderId, { decision: 'Not Eligible', flagged: true, summary: 'Felony <2019>' });
    const reportUrl = (await client.getOrder(orderId)).results?.reportUrl.url ?? '';

    const page = await fetch(reportUrl); // no credentials needed
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('Not Eligible');
    expect(html).toContain('Ada Lovelace');
    expect(html).toContain('Felony &#60;2019&#62;');

    const tampered = new URL(reportUrl);
    const token = tampered.searchParams.get('token') ?? '';
    tampered.searchParams.set('token', `${token.startsWith('0') ? '1' : '0'}${token.slice(1)}`);
    expect((await fetch(tampered)).status).toBe(403);
    const unsigned = new URL(reportUrl);
    unsigned.search = '';
    expect((await fetch(unsigned)).status).toBe(403);
    // A token is bound to its order.
    const other = await client.createOrder(orderBody({ externalId: 'check-2' }), 'k-2');
    await victig.setStatus(other.orderId, 'COMPLETE');
    const otherUrl = new URL(victig.reportUrl(other.orderId));
    otherUrl.searchParams.set('token', token);
    expect((await fetch(otherUrl)).status).toBe(403);
  });

  it("hides an account's orders from other accounts", async () => {
    const { victig, client } = await start();
    const { orderId } = await client.createOrder(orderBody(), 'k-1');
    victig.addAccount({ accountId: 'other', apiKey: 'other-key' });
    const err = await rejection(new VictigClient(victig.apiBaseUrl, 'other', 'other-key').getOrder(orderId));
    expect(err).toMatchObject({ status: 404 });
    expect(await rejection(client.getOrder('no-such-order'))).toMatchObject({ status: 404 });
  });

  it('moves orders to COMPLETE by itself with autoAdvanceMs, and stays put without it', async () => {
    const hooks = await receiver();
    const { victig, client } = await start({ autoAdvanceMs: 20 }, `${hooks.url}/hooks/victig`);
    const { orderId } = await client.createOrder(orderBody(), 'k-1');
    await waitUntil(() => victig.order(orderId).status === 'COMPLETE');
    await waitUntil(() => hooks.received.length === 2);
    expect(hooks.received.map((h) => (h.verdict.ok ? h.verdict.event.status : h.verdict.detail))).toEqual([
      'IN_PROGRESS',
      'COMPLETE',
    ]);

    const manual = await start();
    const order = await manual.client.createOrder(orderBody(), 'k-1');
    await new Promise((r) => setTimeout(r, 100));
    expect(manual.victig.order(order.orderId).status).toBe('PENDING');
  });

  it('is controllable over HTTP under /_sandbox', async () => {
    const victig = await startVictigEmulator();
    closers.push(() => victig.close());
    const hooks = await receiver();
    const sandbox = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${victig.url}/_sandbox${path}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
    };

    const account = await sandbox('POST', '/accounts', { accountId: 'http', apiKey: 'http-key' });
    expect(account.status).toBe(201);
    expect((account.body as { products: unknown[] }).products).toHaveLength(3);
    expect((await sandbox('POST', '/accounts', { apiKey: 'x' })).status).toBe(400);
    expect(
      (await sandbox('POST', '/accounts/http/callback', { url: `${hooks.url}/hooks/victig`, secret: SECRET }))
        .status,
    ).toBe(200);

    const client = new VictigClient(victig.apiBaseUrl, 'http', 'http-key');
    const { orderId } = await client.createOrder(orderBody(), 'k-1');
    const advanced = await sandbox('POST', `/orders/${orderId}/advance`);
    expect(advanced).toMatchObject({ status: 200, body: { status: 'IN_PROGRESS' } });
    expect(hooks.received).toHaveLength(1);
    const set = await sandbox('POST', `/orders/${orderId}/status`, {
      status: 'COMPLETE',
      results: { decision: 'Review' },
    });
    expect(set).toMatchObject({ status: 200, body: { status: 'COMPLETE', results: { decision: 'Review' } } });
    expect((await sandbox('POST', `/orders/${orderId}/status`, { status: 'DONE' })).status).toBe(400);
    expect((await sandbox('POST', '/orders/nope/advance')).status).toBe(404);

    expect((await sandbox('GET', `/orders/${orderId}`)).body).toMatchObject({
      request: { product: 'Criminal Package 1' },
    });
    expect((await sandbox('GET', '/orders')).body).toHaveLength(1);
    expect((await sandbox('GET', '/order-requests')).body).toHaveLength(1);
    expect((await sandbox('GET', '/quick-apps')).body).toHaveLength(1);
    const deliveries = (await sandbox('GET', '/deliveries')).body as { id: string }[];
    expect(deliveries).toHaveLength(2);
    const redelivered = await sandbox('POST', `/deliveries/${deliveries[0]?.id ?? ''}/redeliver`);
    expect(redelivered).toMatchObject({ status: 200, body: { status: 'delivered' } });
    expect(hooks.received).toHaveLength(3);

    expect((await sandbox('POST', '/fail-next', { count: DEFAULT_REQUEST_TRIES, status: 502 })).status).toBe(
      200,
    );
    expect(await rejection(client.catalog())).toMatchObject({ status: 502 });
    await expect(client.catalog()).resolves.toBeDefined();

    expect((await sandbox('DELETE', '/accounts/http')).status).toBe(204);
    expect(await rejection(client.catalog())).toMatchObject({ status: 401 });
  });
});
