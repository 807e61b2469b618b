import { ExternalApiError } from '../../src/integrations/http-client';
import { startJustworksEmulator, type RunningJustworksEmulator } from '../../sandbox/justworks-emulator';
import { startSmtpCatcher, type RunningSmtpCatcher } from '../../sandbox/smtp-catcher';
import {
  JustworksClient,
  JustworksInvalidPendingHireError,
  TYPES_OF_EARNINGS,
  pendingHireSchema,
  type PendingHire,
} from '../../src/vendors/justworks/client';
import {
  HIRE_NOTIFICATION_SUBJECT,
  HireNotificationError,
  sendHireNotification,
} from '../../src/vendors/justworks/mailer';

const KEY = 'jw-company-a';
const OTHER_KEY = 'jw-company-b';

const hire = (extra: Partial<PendingHire> = {}): PendingHire => ({
  external_id: 'opp-ada-1',
  member_type: 'employee',
  first_name: 'Ada',
  last_name: 'Lovelace',
  home_email: 'ada@example.com',
  title: 'Analytical Engineer',
  department: 'Engineering',
  office: 'New York',
  manager: 'Charles Babbage',
  start_date: '2025-03-03',
  compensation: { amount: 150000, currency: 'USD', type_of_earnings: 'year (salary)' },
  exemption_status: 'exempt',
  ...extra,
});

async function post(
  jw: RunningJustworksEmulator,
  body: unknown,
  opts: { key?: string | null; idempotencyKey?: string | null } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const key = opts.key === undefined ? KEY : opts.key;
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  const idem = opts.idempotencyKey === undefined ? 'idem-1' : opts.idempotencyKey;
  if (idem !== null) headers['Idempotency-Key'] = idem;
  const res = await fetch(`${jw.apiBaseUrl}/v1/pending_hires`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('Justworks emulator and client (real HTTP)', () => {
  let jw: RunningJustworksEmulator;

  beforeEach(async () => {
    jw = await startJustworksEmulator();
    jw.addCompany({
      apiKey: KEY,
      name: 'Analytical Engines Inc.',
      admins: [
        { email: 'hr@engines.test', name: 'HR', permissions: ['manage_employees'] },
        { email: 'payroll@engines.test', permissions: ['manage_payroll'] },
      ],
    });
    jw.addCompany({ apiKey: OTHER_KEY, name: 'Other Co' });
  });
  afterEach(async () => {
    await jw.close();
  });

  test('a wrong or revoked API key answers 401 unauthorized, seen by the client as access denied', async () => {
    const wrong = await post(jw, hire(), { key: 'not-a-key' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('unauthorized');
    const missing = await post(jw, hire(), { key: null });
    expect(missing.status).toBe(401);

    const err = await rejection(
      new JustworksClient(jw.apiBaseUrl, 'not-a-key').createPendingHire(hire(), 'k1'),
    );
    expect(err).toBeInstanceOf(ExternalApiError);
    expect((err as ExternalApiError).status).toBe(401);
    expect((err as ExternalApiError).accessDenied).toBe(true);

    const client = new JustworksClient(jw.apiBaseUrl, KEY);
    await expect(client.getCompany()).resolves.toMatchObject({ name: 'Analytical Engines Inc.' });
    jw.revokeApiKey(KEY);
    const revoked = await rejection(client.createPendingHire(hire(), 'k2'));
    expect((revoked as ExternalApiError).status).toBe(401);
    expect((await rejection(client.getCompany())) as ExternalApiError).toMatchObject({ status: 401 });
    expect(jw.pendingHires()).toHaveLength(0);
  });

  test('create answers 201 with a pending hire whose review_url serves the review page', async () => {
    const raw = await post(jw, hire());
    expect(raw.status).toBe(201);
    expect(raw.body).toMatchObject({ status: 'pending', external_id: 'opp-ada-1', first_name: 'Ada' });

    const client = new JustworksClient(jw.apiBaseUrl, KEY);
    const created = await client.createPendingHire(
      hire({ external_id: 'opp-grace-2', first_name: 'Grace' }),
      'k-2',
    );
    expect(created.status).toBe('pending');
    expect(created.review_url.url).toBe(`${jw.url}/manage/employees/pending/${created.id}`);
    expect(created.compensation).toEqual({
      amount: 150000,
      currency: 'USD',
      type_of_earnings: 'year (salary)',
    });

    const page = await fetch(created.review_url.url!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('Manage &gt; Employees &gt; Pending hire');
    expect(html).toContain('Grace Lovelace');
    expect(html).toContain('Analytical Engines Inc.');

    await expect(client.getPendingHire(created.id)).resolves.toEqual(created);
    const list = await client.listPendingHires();
    expect(list.map((h) => h.id)).toEqual([raw.body.id, created.id]);
    await expect(client.listPendingHires({ externalId: 'opp-grace-2' })).resolves.toEqual([created]);
    await expect(client.listAdmins()).resolves.toEqual([
      { email: 'hr@engines.test', name: 'HR', permissions: ['manage_employees'] },
    ]);

    // Another company cannot read it.
    const other = await rejection(new JustworksClient(jw.apiBaseUrl, OTHER_KEY).getPendingHire(created.id));
    expect((other as ExternalApiError).status).toBe(404);
    expect((await fetch(`${jw.url}/manage/employees/pending/nope`)).status).toBe(404);
  });

  test('a replay with the same Idempotency-Key or the same external_id returns the same pending hire', async () => {
    const client = new JustworksClient(jw.apiBaseUrl, KEY);
    const first = await client.createPendingHire(hire(), 'opp-ada-1:hired');

    const sameKey = await post(jw, hire(), { idempotencyKey: 'opp-ada-1:hired' });
    expect(sameKey.status).toBe(200);
    expect(sameKey.headers.get('idempotent-replayed')).toBe('true');
    expect(sameKey.body.id).toBe(first.id);

    const again = await client.createPendingHire(hire(), 'opp-ada-1:hired');
    expect(again.id).toBe(first.id);

    // A new key for the same Lever opportunity: still the same pending hire, first body kept.
    const sameExternal = await post(jw, hire({ title: 'Changed title' }), { idempotencyKey: 'another-key' });
    expect(sameExternal.status).toBe(200);
    expect(sameExternal.body).toMatchObject({ id: first.id, title: 'Analytical Engineer' });

    expect(jw.pendingHires(KEY)).toHaveLength(1);
    expect(jw.requests().map((r) => [r.status, r.replayed])).toEqual([
      [201, false],
      [200, true],
      [200, true],
      [200, true],
    ]);

    // The same external_id in another company is another company's pending hire.
    const other = await new JustworksClient(jw.apiBaseUrl, OTHER_KEY).createPendingHire(
      hire(),
      'opp-ada-1:hired',
    );
    expect(other.id).not.toBe(first.id);
    expect(jw.pendingHires()).toHaveLength(2);
  });

  test('a type of earnings other than hour (wage) / year (salary) answers 422 and creates nothing', async () => {
    expect(TYPES_OF_EARNINGS).toEqual(['hour (wage)', 'year (salary)']);
    const month = await post(jw, {
      ...hire(),
      compensation: { amount: 12000, currency: 'USD', type_of_earnings: 'month' },
    });
    expect(month.status).toBe(422);
    expect(month.body.error).toBe('invalid_type_of_earnings');
    expect(jw.pendingHires()).toHaveLength(0);

    const hourly = await post(jw, {
      ...hire(),
      compensation: { amount: 42.5, currency: 'USD', type_of_earnings: 'hour (wage)' },
      exemption_status: 'non-exempt',
    });
    expect(hourly.status).toBe(201);

    // The client refuses it before sending anything (permanent, not retried).
    const before = jw.requests().length;
    const bad = { ...hire(), compensation: { amount: 1, currency: 'USD', type_of_earnings: 'month' } };
    const err = await rejection(
      new JustworksClient(jw.apiBaseUrl, KEY).createPendingHire(bad as unknown as PendingHire, 'k-month'),
    );
    expect(err).toBeInstanceOf(JustworksInvalidPendingHireError);
    expect((err as ExternalApiError).permanent).toBe(true);
    expect(jw.requests()).toHaveLength(before);
  });

  test('a pending hire may leave out member type, title, compensation and exemption status (null), not the names or home email', async () => {
    const client = new JustworksClient(jw.apiBaseUrl, KEY);
    const partial = hire({
      member_type: null,
      title: null,
      manager: null,
      start_date: null,
      compensation: null,
      exemption_status: null,
    });
    const created = await client.createPendingHire(partial, 'partial-1');
    expect(created).toMatchObject({ ...partial, status: 'pending' });
    const html = await (await fetch(created.review_url.url!)).text();
    expect(html).toContain('<tr><th>Compensation</th><td>—</td></tr>');
    expect(html).toContain('<tr><th>Type of earnings</th><td>—</td></tr>');

    for (const [field, index] of [
      ['first_name', 1],
      ['last_name', 2],
      ['home_email', 3],
    ] as const) {
      const refused = await post(
        jw,
        { ...hire({ external_id: `opp-null-${index}` }), [field]: null },
        {
          idempotencyKey: `null-${index}`,
        },
      );
      expect([field, refused.status, refused.body.error]).toEqual([field, 400, 'invalid_request']);
    }
    expect(jw.pendingHires(KEY)).toHaveLength(1);
  });

  test('a body with a resume (or any file or unknown field) answers 400 and is recorded in requests()', async () => {
    const withResume = await post(jw, { ...hire(), resume: 'JVBERi0xLjQK' }, { idempotencyKey: 'r1' });
    expect(withResume.status).toBe(400);
    expect(withResume.body.error).toBe('files_not_accepted');

    const withAttachments = await post(
      jw,
      { ...hire(), attachments: [{ name: 'cv.pdf' }] },
      { idempotencyKey: 'r2' },
    );
    expect(withAttachments.body.error).toBe('files_not_accepted');

    const unknown = await post(jw, { ...hire(), salary_interval: 'year' }, { idempotencyKey: 'r3' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_request');

    const noKey = await post(jw, hire(), { idempotencyKey: null });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error).toBe('idempotency_key_required');

    expect(jw.pendingHires()).toHaveLength(0);
    const recorded = jw.requests();
    expect(recorded.map((r) => [r.idempotencyKey, r.status, r.error])).toEqual([
      ['r1', 400, 'files_not_accepted'],
      ['r2', 400, 'files_not_accepted'],
      ['r3', 400, 'invalid_request'],
      [null, 400, 'idempotency_key_required'],
    ]);
    expect(recorded[0]?.body).toMatchObject({ resume: 'JVBERi0xLjQK', external_id: 'opp-ada-1' });

    // The same record over the sandbox HTTP route.
    const viaHttp = (await (await fetch(`${jw.url}/_sandbox/requests`)).json()) as { body: unknown }[];
    expect(viaHttp).toHaveLength(4);

    // The client never sends file fields, even when the caller's object carries one.
    const sneaky = { ...hire(), resume: 'JVBERi0xLjQK' };
    const err = await rejection(new JustworksClient(jw.apiBaseUrl, KEY).createPendingHire(sneaky, 'r4'));
    expect(err).toBeInstanceOf(JustworksInvalidPendingHireError);
    expect(jw.requests()).toHaveLength(4);
    expect(pendingHireSchema.safeParse(sneaky).success).toBe(false);
  });

  test('sandbox HTTP routes add companies, revoke keys and list pending hires', async () => {
    const added = await fetch(`${jw.url}/_sandbox/companies`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiKey: 'http-key', name: 'Via HTTP' }),
    });
    expect(added.status).toBe(201);
    const client = new JustworksClient(jw.apiBaseUrl, 'http-key');
    const created = await client.createPendingHire(hire(), 'h1');
    const listed = (await (await fetch(`${jw.url}/_sandbox/pending_hires?apiKey=http-key`)).json()) as {
      id: string;
    }[];
    expect(listed.map((h) => h.id)).toEqual([created.id]);

    const invited = await fetch(`${jw.url}/_sandbox/pending_hires/${created.id}/invite`, { method: 'POST' });
    expect(invited.status).toBe(200);
    await expect(client.getPendingHire(created.id)).resolves.toMatchObject({ status: 'invited' });

    expect((await fetch(`${jw.url}/_sandbox/companies/http-key`, { method: 'DELETE' })).status).toBe(204);
    expect(((await rejection(client.getPendingHire(created.id))) as ExternalApiError).status).toBe(401);
  });

  test('a sandbox route replaces a company’s admins and their permissions, as GET /v1/admins then reports', async () => {
    const client = new JustworksClient(jw.apiBaseUrl, KEY);
    await expect(client.listAdmins()).resolves.toEqual([
      { email: 'hr@engines.test', name: 'HR', permissions: ['manage_employees'] },
    ]);
    const admins = [
      { email: 'hr@engines.test', name: 'HR', permissions: ['manage_payroll'] },
      { email: 'payroll@engines.test', permissions: ['manage_payroll', 'manage_employees'] },
      { email: 'new@engines.test', name: 'New', permissions: ['manage_employees'] },
    ];
    const replaced = await fetch(`${jw.url}/_sandbox/companies/${KEY}/admins`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ admins }),
    });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toEqual({
      admins: [
        { email: 'hr@engines.test', name: 'HR', permissions: ['manage_payroll'] },
        { email: 'payroll@engines.test', name: null, permissions: ['manage_payroll', 'manage_employees'] },
        { email: 'new@engines.test', name: 'New', permissions: ['manage_employees'] },
      ],
    });
    await expect(client.listAdmins()).resolves.toEqual([
      { email: 'payroll@engines.test', name: null, permissions: ['manage_payroll', 'manage_employees'] },
      { email: 'new@engines.test', name: 'New', permissions: ['manage_employees'] },
    ]);
    expect(jw.setAdmins(KEY, [{ email: 'solo@engines.test', permissions: ['manage_employees'] }])).toEqual([
      { email: 'solo@engines.test', name: null, permissions: ['manage_employees'] },
    ]);
    await expect(client.listAdmins()).resolves.toEqual([
      { email: 'solo@engines.test', name: null, permissions: ['manage_employees'] },
    ]);
    // The other company is untouched.
    await expect(new JustworksClient(jw.apiBaseUrl, OTHER_KEY).listAdmins()).resolves.toEqual([
      { email: 'admin@justworks-sandbox.test', name: 'Sandbox Admin', permissions: ['manage_employees'] },
    ]);

    const put = (key: string, body: unknown) =>
      fetch(`${jw.url}/_sandbox/companies/${key}/admins`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put('no-such-key', { admins: [] })).status).toBe(404);
    const invalid = await put(KEY, { admins: [{ email: 'not-an-email' }] });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toBe('invalid_request');
    await expect(client.listAdmins()).resolves.toHaveLength(1);
  });
});

describe('hire notification mailer (real SMTP, caught by the SMTP catcher)', () => {
  let smtp: RunningSmtpCatcher;
  const review = {
    candidateName: 'Ada Lovelace',
    reviewUrl: 'http://127.0.0.1:9/manage/employees/pending/0b5e-ph-1',
    companyName: 'Analytical Engines Inc.',
  };

  beforeEach(async () => {
    smtp = await startSmtpCatcher({ rejectRecipients: ['gone@engines.test'] });
  });
  afterEach(async () => {
    await smtp.close();
  });

  test('one message per admin, with the exact subject and the review link, retry-safe', async () => {
    const admins = ['hr@engines.test', 'ceo@engines.test', 'HR@engines.test'];
    const result = await sendHireNotification(
      { host: smtp.host, port: smtp.port },
      'Lever to Justworks <notifications@bgc-bridge.test>',
      admins,
      review,
      { idempotencyKey: 'pending-hire-0b5e' },
    );
    expect(result.accepted).toEqual(['hr@engines.test', 'ceo@engines.test']);
    expect(result.rejected).toEqual([]);
    expect(result.deliveries.map((d) => d.to)).toEqual(['hr@engines.test', 'ceo@engines.test']);

    await smtp.waitFor((m) => m.envelope.to.includes('ceo@engines.test'));
    const messages = smtp.messages();
    expect(messages).toHaveLength(2);
    for (const [i, message] of messages.entries()) {
      const admin = admins[i] ?? '';
      // Each admin alone on the message: nobody sees the other addresses.
      expect(message.to).toEqual([admin]);
      expect(message.envelope.to).toEqual([admin]);
      expect(message.cc).toEqual([]);
      expect(message.raw).not.toContain(admins[1 - i] ?? '');
      expect(message.from).toBe('notifications@bgc-bridge.test');
      expect(message.subject).toBe('A candidate has been hired in Lever!');
      expect(message.subject).toBe(HIRE_NOTIFICATION_SUBJECT);
      expect(message.text).toContain(review.reviewUrl);
      expect(message.text).toContain('Ada Lovelace');
      expect(message.html).toContain(`href="${review.reviewUrl}"`);
      expect(message.headers['x-idempotency-key']).toBe('pending-hire-0b5e');
      expect(message.messageId).toBe(result.deliveries[i]?.messageId);
    }

    // A retry with the same key produces the same Message-IDs, so the duplicates are recognisable.
    smtp.clear();
    const retry = await sendHireNotification(
      { host: smtp.host, port: smtp.port, auth: { user: 'mailer', pass: 'secret' } },
      'notifications@bgc-bridge.test',
      admins,
      review,
      { idempotencyKey: 'pending-hire-0b5e' },
    );
    expect(retry.deliveries.map((d) => d.messageId)).toEqual(result.deliveries.map((d) => d.messageId));
    await smtp.waitFor((m) => m.envelope.to.includes('ceo@engines.test'));
    expect(smtp.messages().map((m) => m.messageId)).toEqual(result.deliveries.map((d) => d.messageId));
    expect(smtp.messages().every((m) => m.authUser === 'mailer')).toBe(true);
  });

  test('an admin address refused permanently is reported; a server that cannot be reached throws', async () => {
    const result = await sendHireNotification(
      { host: smtp.host, port: smtp.port },
      'notifications@bgc-bridge.test',
      ['gone@engines.test', 'hr@engines.test'],
      review,
    );
    expect(result.accepted).toEqual(['hr@engines.test']);
    expect(result.rejected).toEqual(['gone@engines.test']);
    expect(smtp.messages().map((m) => m.to)).toEqual([['hr@engines.test']]);

    const port = smtp.port;
    await smtp.close();
    const err = await rejection(
      sendHireNotification(
        { host: '127.0.0.1', port },
        'notifications@bgc-bridge.test',
        ['hr@engines.test'],
        review,
        {
          timeoutMs: 2000,
        },
      ),
    );
    expect(err).toBeInstanceOf(HireNotificationError);
    expect((err as HireNotificationError).result.accepted).toEqual([]);
    smtp = await startSmtpCatcher();
  });
});
