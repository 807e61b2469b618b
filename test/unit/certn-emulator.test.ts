import { certnSignature, hexSignatureMatches } from '../../src/integrations/signature';
import type { RunningServer } from '../../sandbox/kit';
import {
  CERTN_CASE_STATUSES,
  startCertnEmulator,
  type CertnCase,
  type RunningCertnEmulator,
} from '../../sandbox/certn-emulator';
import { startCallbackReceiver } from '../support/callback-receiver';
import { waitUntil } from '../support/waits';

const KEY = 'team-a-key';
const OTHER_KEY = 'team-b-key';
const SECRET = 'whsec-team-a';

interface ReceivedWebhook {
  raw: string;
  signature: string | undefined;
  event: { id: string; event_type: string; object_id: string; object_type: string };
}

/** A webhook receiver that records raw bodies; answers `failFirst` requests with 500 before answering 200. */
function startReceiver(failFirst = 0): Promise<RunningServer & { received: ReceivedWebhook[] }> {
  return startCallbackReceiver('/hooks/certn', failFirst, (body, req): ReceivedWebhook => {
    const raw = body.toString('utf8');
    return { raw, signature: req.get('x-signature'), event: JSON.parse(raw) as ReceivedWebhook['event'] };
  });
}

async function call(
  certn: RunningCertnEmulator,
  method: string,
  path: string,
  opts: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? KEY : opts.key;
  if (key !== null) headers.Authorization = `Api-Key ${key}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined || opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = opts.rawBody ?? JSON.stringify(opts.body);
  }
  const res = await fetch(`${certn.apiBaseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

const asCase = (body: unknown): CertnCase => body as CertnCase;
const asDetail = (body: unknown): Record<string, unknown> => body as Record<string, unknown>;

const orderBody = (extra: Record<string, unknown> = {}) => ({
  email_address: 'ada@example.com',
  check_types_with_arguments: { IDENTITY_VERIFICATION: {}, CRIMINAL_RECORD_CHECK: {} },
  ...extra,
});

async function order(certn: RunningCertnEmulator, extra: Record<string, unknown> = {}): Promise<CertnCase> {
  const res = await call(certn, 'POST', '/api/public/cases/order/', { body: orderBody(extra) });
  expect(res.status).toBe(201);
  return asCase(res.body);
}

describe('Certn emulator', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (closers.length > 0) await closers.pop()?.();
  });

  async function start(
    opts: Parameters<typeof startCertnEmulator>[0] = {},
    team: { webhookUrl?: string } = {},
  ): Promise<RunningCertnEmulator> {
    const certn = await startCertnEmulator(opts);
    closers.push(() => certn.close());
    certn.addTeam({ apiKey: KEY, webhookSecret: SECRET, ...team });
    certn.addTeam({ apiKey: OTHER_KEY });
    return certn;
  }

  async function receiver(failFirst = 0) {
    const r = await startReceiver(failFirst);
    closers.push(() => r.close());
    return r;
  }

  it('rejects requests without, with an unknown or with a revoked API key', async () => {
    const certn = await start();
    for (const key of [null, 'wrong-key']) {
      const res = await call(certn, 'GET', '/api/public/packages/', { key });
      expect(res).toEqual({ status: 401, body: { detail: 'Invalid API key.' } });
    }
    const bearer = await call(certn, 'GET', '/api/public/packages/', {
      key: null,
      headers: { Authorization: `Bearer ${KEY}` },
    });
    expect(bearer.status).toBe(401);
    expect((await call(certn, 'GET', '/api/public/packages/')).status).toBe(200);
    certn.revokeApiKey(KEY);
    expect((await call(certn, 'GET', '/api/public/packages/')).status).toBe(401);
    expect((await call(certn, 'POST', '/api/public/cases/order/', { body: orderBody() })).status).toBe(401);
  });

  it('lists the default packages of a team', async () => {
    const certn = await start();
    const res = await call(certn, 'GET', '/api/public/packages/');
    expect(res.status).toBe(200);
    const body = res.body as {
      count: number;
      next: null;
      previous: null;
      results: { id: string; name: string; check_types: string[] }[];
    };
    expect(body).toMatchObject({ count: 2, next: null, previous: null });
    expect(body.results.map(({ name, check_types }) => ({ name, check_types }))).toEqual([
      { name: 'Basic', check_types: ['IDENTITY_VERIFICATION', 'CRIMINAL_RECORD_CHECK'] },
      {
        name: 'Standard',
        check_types: ['IDENTITY_VERIFICATION', 'CRIMINAL_RECORD_CHECK', 'EMPLOYMENT_VERIFICATION'],
      },
    ]);
    for (const p of body.results) expect(p.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('orders a case: 201, APPLICANT_INVITED, pending check executions; CASE_ORDERED without invite', async () => {
    const certn = await start();
    const c = await order(certn, { external_reference: 'opp-1' });
    expect(c).toMatchObject({
      email_address: 'ada@example.com',
      overall_status: 'APPLICANT_INVITED',
      overall_score: null,
      package_id: null,
      external_reference: 'opp-1',
      report_ready: false,
    });
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.check_executions.map((x) => [x.check_type, x.status, x.result])).toEqual([
      ['IDENTITY_VERIFICATION', 'PENDING', null],
      ['CRIMINAL_RECORD_CHECK', 'PENDING', null],
    ]);
    expect(certn.invites()).toHaveLength(1);

    const silent = await order(certn, { email_address: 'bob@example.com', send_invite_email: false });
    expect(silent.overall_status).toBe('CASE_ORDERED');
    expect(certn.invites()).toHaveLength(1);

    const fetched = await call(certn, 'GET', `/api/public/cases/${c.id}/`);
    expect(fetched).toEqual({ status: 200, body: c });
  });

  it('answers 400 in DRF style for bad bodies and unknown packages', async () => {
    const certn = await start();
    const post = (path: string, body: unknown) => call(certn, 'POST', `/api/public/cases/${path}/`, { body });

    const noEmail = await post('order', { check_types_with_arguments: { IDENTITY_VERIFICATION: {} } });
    expect(noEmail).toEqual({ status: 400, body: { email_address: ['This field is required.'] } });

    const badEmail = await post('order', orderBody({ email_address: 'not-an-email' }));
    expect(badEmail.status).toBe(400);
    expect(asDetail(badEmail.body).email_address).toEqual(['Enter a valid email address.']);

    const unknownType = await post(
      'order',
      orderBody({ check_types_with_arguments: { ASTROLOGY_CHECK: {} } }),
    );
    expect(unknownType.status).toBe(400);
    expect(asDetail(unknownType.body).check_types_with_arguments).toEqual([
      '"ASTROLOGY_CHECK" is not a valid check type.',
    ]);

    const noTypes = await post('order', orderBody({ check_types_with_arguments: {} }));
    expect(noTypes.status).toBe(400);
    expect(asDetail(noTypes.body)).toHaveProperty('check_types_with_arguments');

    const unknownPackage = await post('order-package', {
      email_address: 'ada@example.com',
      package_id: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknownPackage.status).toBe(400);
    expect(asDetail(unknownPackage.body)).toHaveProperty('package_id');

    // Another team's package is unknown to this team.
    const other = certn.addTeam({
      apiKey: 'team-c',
      packages: [{ name: 'C', check_types: ['CREDIT_CHECK'] }],
    });
    const foreign = await post('order-package', {
      email_address: 'ada@example.com',
      package_id: other.packages[0]?.id,
    });
    expect(foreign.status).toBe(400);

    const malformed = await call(certn, 'POST', '/api/public/cases/order/', { rawBody: '{"email_address":' });
    expect(malformed.status).toBe(400);
    expect(asDetail(malformed.body)).toHaveProperty('detail');

    expect(certn.cases()).toHaveLength(0);
    expect(certn.orders()).toHaveLength(0);
  });

  it('orders a package: 201 with the package id and its check types', async () => {
    const certn = await start();
    const { packages } = certn.addTeam({
      apiKey: 'team-p',
      packages: [{ name: 'Driver', check_types: ['MOTOR_VEHICLE_RECORDS', 'CRIMINAL_RECORD_CHECK'] }],
    });
    const pkg = packages[0];
    if (!pkg) throw new Error('no package');
    const res = await call(certn, 'POST', '/api/public/cases/order-package/', {
      key: 'team-p',
      body: { email_address: 'ada@example.com', package_id: pkg.id, external_reference: 'x' },
    });
    expect(res.status).toBe(201);
    const c = asCase(res.body);
    expect(c.package_id).toBe(pkg.id);
    expect(c.overall_status).toBe('APPLICANT_INVITED');
    expect(c.check_executions.map((x) => x.check_type)).toEqual([
      'MOTOR_VEHICLE_RECORDS',
      'CRIMINAL_RECORD_CHECK',
    ]);
  });

  it('replays an order with the same Idempotency-Key and refuses the key with another body', async () => {
    const certn = await start();
    const headers = { 'Idempotency-Key': 'check-42' };
    const first = await call(certn, 'POST', '/api/public/cases/order/', { body: orderBody(), headers });
    const second = await call(certn, 'POST', '/api/public/cases/order/', { body: orderBody(), headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(asCase(second.body).id).toBe(asCase(first.body).id);
    expect(certn.cases()).toHaveLength(1);
    expect(certn.invites()).toHaveLength(1);
    expect(certn.orders().map((o) => [o.caseId, o.replayed, o.idempotencyKey])).toEqual([
      [asCase(first.body).id, false, 'check-42'],
      [asCase(first.body).id, true, 'check-42'],
    ]);

    const conflicting = await call(certn, 'POST', '/api/public/cases/order/', {
      body: orderBody({ email_address: 'someone-else@example.com' }),
      headers,
    });
    expect(conflicting.status).toBe(422);
    expect(asDetail(conflicting.body)).toHaveProperty('detail');

    // The key is scoped to the team: another team using it gets its own case.
    const otherTeam = await call(certn, 'POST', '/api/public/cases/order/', {
      key: OTHER_KEY,
      body: orderBody(),
      headers,
    });
    expect(otherTeam.status).toBe(201);
    expect(certn.cases()).toHaveLength(2);
  });

  it('advances step by step to COMPLETE, with a partial step, sending signed webhooks', async () => {
    const hooks = await receiver();
    const certn = await start({}, { webhookUrl: `${hooks.url}/hooks/certn` });
    const c = await order(certn);
    expect(hooks.received).toHaveLength(0);

    const seen: { status: string; checks: string[]; events: string[] }[] = [];
    for (let i = 0; i < 5; i++) {
      const before = hooks.received.length;
      const after = await certn.advance(c.id);
      // advance() resolves after the first delivery attempt of each webhook.
      seen.push({
        status: after.overall_status,
        checks: after.check_executions.map((x) => x.status),
        events: hooks.received.slice(before).map((h) => h.event.event_type),
      });
    }
    expect(seen).toEqual([
      { status: 'APPLICANT_STARTED', checks: ['PENDING', 'PENDING'], events: ['CASE_STATUS_CHANGED'] },
      { status: 'APPLICANT_SUBMITTED', checks: ['PENDING', 'PENDING'], events: ['CASE_STATUS_CHANGED'] },
      {
        status: 'IN_PROGRESS',
        checks: ['IN_PROGRESS', 'IN_PROGRESS'],
        events: ['CASE_STATUS_CHANGED', 'CHECK_STATUS_CHANGED'],
      },
      { status: 'IN_PROGRESS', checks: ['COMPLETE', 'IN_PROGRESS'], events: ['CHECK_STATUS_CHANGED'] },
      {
        status: 'COMPLETE',
        checks: ['COMPLETE', 'COMPLETE'],
        events: ['CASE_STATUS_CHANGED', 'CHECK_STATUS_CHANGED', 'CASE_REPORT_READY'],
      },
    ]);

    // The partial state is what the public API shows in between, too.
    const final = await call(certn, 'GET', `/api/public/cases/${c.id}/`);
    expect(final.body).toMatchObject({
      overall_status: 'COMPLETE',
      overall_score: 'CLEAR',
      report_ready: true,
    });
    expect(asCase(final.body).check_executions.every((x) => x.result === 'CLEAR')).toBe(true);

    for (const hook of hooks.received) {
      expect(hook.signature).toBe(certnSignature(SECRET, hook.raw));
      expect(hexSignatureMatches(certnSignature('wrong-secret', hook.raw), hook.signature)).toBe(false);
      expect(Object.keys(hook.event).sort()).toEqual(['event_type', 'id', 'object_id', 'object_type']);
      expect(hook.event.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(hook.event).toMatchObject({ object_id: c.id, object_type: 'CASE' });
    }
    expect(new Set(hooks.received.map((h) => h.event.id)).size).toBe(hooks.received.length);
    expect(
      certn.deliveries().every((d) => d.status === 'delivered' && d.attempts[0]?.statusCode === 204),
    ).toBe(true);

    await expect(certn.advance(c.id)).rejects.toThrow(/nothing to advance/);
  });

  it('retries a failed webhook with the same signed body', async () => {
    const hooks = await receiver(2);
    const certn = await start(
      { webhookRetryDelaysMs: [20, 20, 20] },
      { webhookUrl: `${hooks.url}/hooks/certn` },
    );
    const c = await order(certn);
    await certn.advance(c.id);
    await waitUntil(() => hooks.received.length === 3);
    const [first, ...rest] = hooks.received;
    for (const r of rest) {
      expect(r.raw).toBe(first?.raw);
      expect(r.signature).toBe(certnSignature(SECRET, r.raw));
    }
    await waitUntil(() => certn.deliveries()[0]?.status === 'delivered');
    expect(certn.deliveries()[0]?.attempts.map((a) => a.statusCode)).toEqual([500, 500, 204]);

    const again = await certn.redeliver(certn.deliveries()[0]?.id ?? '');
    expect(again.attempts).toHaveLength(4);
    expect(hooks.received[3]?.raw).toBe(first?.raw);
  });

  it('generates a report and serves its PDF through a signed URL', async () => {
    const certn = await start();
    const c = await order(certn);

    const early = await call(certn, 'POST', `/api/public/cases/${c.id}/generate-report/`);
    expect(early).toEqual({ status: 409, body: { detail: 'No results to report yet.' } });

    for (let i = 0; i < 4; i++) await certn.advance(c.id); // partial: one check COMPLETE
    const generated = await call(certn, 'POST', `/api/public/cases/${c.id}/generate-report/`);
    expect(generated.status).toBe(201);
    const report = generated.body as { id: string; case_id: string; status: string; created: string };
    expect(report).toMatchObject({ case_id: c.id, status: 'READY' });

    const file = await call(certn, 'GET', `/api/public/report-files/${report.id}/`);
    expect(file.status).toBe(200);
    const meta = file.body as { id: string; case_id: string; file_name: string; pdf_url: string };
    expect(meta).toMatchObject({ id: report.id, case_id: c.id });
    expect(meta.file_name).toMatch(/\.pdf$/);
    const pdfUrl = new URL(meta.pdf_url);
    expect(pdfUrl.origin).toBe(certn.url);
    expect(Number(pdfUrl.searchParams.get('expires'))).toBeGreaterThan(Date.now() + 59 * 60 * 1000);

    const pdf = await fetch(meta.pdf_url); // no API key
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toMatch(/^application\/pdf/);
    const bytes = Buffer.from(await pdf.arrayBuffer()).toString('latin1');
    expect(bytes.startsWith('%PDF-1.4')).toBe(true);
    expect(bytes.trimEnd().endsWith('%%EOF')).toBe(true);
    // Structurally valid: startxref points at the xref table, whose entries point at their objects.
    const startxref = Number(/startxref\n(\d+)\n%%EOF/.exec(bytes)?.[1]);
    expect(bytes.slice(startxref, startxref + 4)).toBe('xref');
    const offsets = [...bytes.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    expect(offsets.length).toBeGreaterThan(0);
    offsets.forEach((offset, i) => expect(bytes.slice(offset).startsWith(`${i + 1} 0 obj`)).toBe(true));
    expect(bytes).toContain(c.id);

    const tampered = new URL(meta.pdf_url);
    const sig = tampered.searchParams.get('signature') ?? '';
    tampered.searchParams.set('signature', `${sig.startsWith('0') ? '1' : '0'}${sig.slice(1)}`);
    expect((await fetch(tampered)).status).toBe(403);

    const extended = new URL(meta.pdf_url);
    extended.searchParams.set('expires', String(Number(extended.searchParams.get('expires')) + 1000));
    expect((await fetch(extended)).status).toBe(403);

    const unsigned = new URL(meta.pdf_url);
    unsigned.search = '';
    expect((await fetch(unsigned)).status).toBe(403);
  });

  it('signs pdf_url for reportUrlTtlMs; once expired it answers 403 like a real signed URL', async () => {
    const ttlMs = 300;
    const certn = await start({ reportUrlTtlMs: ttlMs });
    const c = await order(certn);
    await certn.setStatus(c.id, 'COMPLETE');
    const report = (await call(certn, 'POST', `/api/public/cases/${c.id}/generate-report/`)).body as {
      id: string;
    };
    const before = Date.now();
    const file = await call(certn, 'GET', `/api/public/report-files/${report.id}/`);
    const pdfUrl = (file.body as { pdf_url: string }).pdf_url;
    const expires = Number(new URL(pdfUrl).searchParams.get('expires'));
    expect(expires).toBeGreaterThanOrEqual(before + ttlMs);
    expect(expires).toBeLessThanOrEqual(Date.now() + ttlMs);

    // Past its lifetime the signature still matches, but the URL is refused, saying why.
    await waitUntil(() => Date.now() > expires);
    const expired = await fetch(pdfUrl);
    expect(expired.status).toBe(403);
    expect(await expired.json()).toEqual({ detail: 'Request has expired.' });

    // Another call signs a new URL, valid for another lifetime.
    certn.reportUrlTtlMs = 60_000;
    const again = await call(certn, 'GET', `/api/public/report-files/${report.id}/`);
    const fresh = await fetch((again.body as { pdf_url: string }).pdf_url);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('content-type')).toMatch(/^application\/pdf/);
  });

  it('cancels a case once, sending a webhook', async () => {
    const hooks = await receiver();
    const certn = await start({}, { webhookUrl: `${hooks.url}/hooks/certn` });
    const c = await order(certn);
    const res = await call(certn, 'POST', `/api/public/cases/${c.id}/cancel/`);
    expect(res.status).toBe(200);
    expect(asCase(res.body).overall_status).toBe('CANCELLED');
    expect(asCase(res.body).check_executions.every((x) => x.status === 'CANCELLED')).toBe(true);
    expect(certn.case(c.id).overall_status).toBe('CANCELLED');
    await waitUntil(() => hooks.received.some((h) => h.event.event_type === 'CASE_STATUS_CHANGED'));
    expect(hooks.received.every((h) => h.event.object_id === c.id)).toBe(true);

    const again = await call(certn, 'POST', `/api/public/cases/${c.id}/cancel/`);
    expect(again.status).toBe(409);

    const done = await order(certn);
    await certn.setStatus(done.id, 'COMPLETE');
    expect((await call(certn, 'POST', `/api/public/cases/${done.id}/cancel/`)).status).toBe(409);
  });

  it("hides a team's cases and reports from other teams", async () => {
    const certn = await start();
    const c = await order(certn);
    await certn.setStatus(c.id, 'COMPLETE');
    const report = await call(certn, 'POST', `/api/public/cases/${c.id}/generate-report/`);
    const reportId = (report.body as { id: string }).id;
    const notFound = { status: 404, body: { detail: 'Not found.' } };

    const other = { key: OTHER_KEY };
    expect(await call(certn, 'GET', `/api/public/cases/${c.id}/`, other)).toEqual(notFound);
    expect(await call(certn, 'POST', `/api/public/cases/${c.id}/cancel/`, other)).toEqual(notFound);
    expect(await call(certn, 'POST', `/api/public/cases/${c.id}/generate-report/`, other)).toEqual(notFound);
    expect(await call(certn, 'GET', `/api/public/report-files/${reportId}/`, other)).toEqual(notFound);
    expect(await call(certn, 'GET', '/api/public/cases/00000000-0000-4000-8000-000000000000/')).toEqual(
      notFound,
    );
    expect((await call(certn, 'GET', `/api/public/cases/${c.id}/`)).status).toBe(200);
  });

  it('sends an undeliverable invite to INVITE_UNDELIVERABLE with a webhook', async () => {
    const hooks = await receiver();
    const certn = await start({}, { webhookUrl: `${hooks.url}/hooks/certn` });
    const c = await order(certn, { email_address: 'ghost@undeliverable.test' });
    expect(c.overall_status).toBe('INVITE_UNDELIVERABLE');
    await waitUntil(() => hooks.received.length === 1);
    expect(hooks.received[0]?.event).toMatchObject({ event_type: 'CASE_STATUS_CHANGED', object_id: c.id });
    await expect(certn.advance(c.id)).rejects.toThrow();
  });

  it('moves a case to COMPLETE by itself with autoAdvanceMs', async () => {
    const hooks = await receiver();
    const certn = await start({ autoAdvanceMs: 20 }, { webhookUrl: `${hooks.url}/hooks/certn` });
    const c = await order(certn);
    const statuses = new Set<string>();
    await waitUntil(() => {
      const current = certn.case(c.id);
      statuses.add(current.overall_status);
      return current.overall_status === 'COMPLETE';
    });
    expect(statuses.has('COMPLETE')).toBe(true);
    await waitUntil(() => hooks.received.some((h) => h.event.event_type === 'CASE_REPORT_READY'));
    const statusEvents = hooks.received.filter((h) => h.event.event_type === 'CASE_STATUS_CHANGED');
    expect(statusEvents).toHaveLength(4); // STARTED, SUBMITTED, IN_PROGRESS, COMPLETE
  });

  it('stays put without autoAdvanceMs', async () => {
    const certn = await start();
    const c = await order(certn);
    await new Promise((r) => setTimeout(r, 100));
    expect(certn.case(c.id).overall_status).toBe('APPLICANT_INVITED');
  });

  it('is controllable over HTTP under /_sandbox', async () => {
    const certn = await startCertnEmulator();
    closers.push(() => certn.close());
    const hooks = await receiver();
    const sandbox = (method: string, path: string, body?: unknown) =>
      call(certn, method, `/_sandbox${path}`, { key: null, body });

    const team = await sandbox('POST', '/teams', {
      apiKey: 'http-team',
      packages: [{ name: 'Only', check_types: ['IDENTITY_VERIFICATION'] }],
    });
    expect(team.status).toBe(201);
    expect((team.body as { packages: { name: string }[] }).packages.map((p) => p.name)).toEqual(['Only']);
    expect((await sandbox('POST', '/teams', { packages: [] })).status).toBe(400);

    const hook = await sandbox('POST', '/teams/http-team/webhook', {
      url: `${hooks.url}/hooks/certn`,
      secret: 's',
    });
    expect(hook.status).toBe(200);

    const ordered = await call(certn, 'POST', '/api/public/cases/order/', {
      key: 'http-team',
      body: orderBody({ check_types_with_arguments: { IDENTITY_VERIFICATION: {} } }),
    });
    const id = asCase(ordered.body).id;

    const advanced = await sandbox('POST', `/cases/${id}/advance`);
    expect(advanced.status).toBe(200);
    expect(asCase(advanced.body).overall_status).toBe('APPLICANT_STARTED');
    expect(hooks.received).toHaveLength(1);
    expect(hooks.received[0]?.signature).toBe(certnSignature('s', hooks.received[0]?.raw ?? ''));

    const badStatus = await sandbox('POST', `/cases/${id}/status`, { status: 'DONE' });
    expect(badStatus.status).toBe(400);
    const set = await sandbox('POST', `/cases/${id}/status`, { status: 'CLIENT_ACTION_REQUIRED' });
    expect(asCase(set.body).overall_status).toBe('CLIENT_ACTION_REQUIRED');
    expect(CERTN_CASE_STATUSES).toContain(asCase(set.body).overall_status);

    expect(((await sandbox('GET', '/cases')).body as CertnCase[]).map((x) => x.id)).toEqual([id]);
    expect((await sandbox('GET', '/orders')).body).toHaveLength(1);
    expect((await sandbox('GET', '/deliveries')).body).toHaveLength(2);
    expect((await sandbox('POST', '/cases/nope/advance')).status).toBe(404);

    expect((await sandbox('DELETE', '/teams/http-team')).status).toBe(204);
    expect((await call(certn, 'GET', `/api/public/cases/${id}/`, { key: 'http-team' })).status).toBe(401);
  });
});
