import type { WorkflowHandle } from '@temporalio/client';
import type { OfferField } from '../../src/sandbox/lever-emulator';
import { JUSTWORKS_FILE_FIELDS } from '../../src/sandbox/justworks-emulator';
import { HIRE_NOTIFICATION_SUBJECT } from '../../src/vendors/justworks/mailer';
import {
  hireWorkflowId,
  onboardingStateQuery,
  type OnboardingState,
} from '../../src/workflows/onboarding-definitions';
import { decodeHistory, eventually, startStack, type Stack } from '../support/stack';

const START_MS = Date.UTC(2025, 2, 3); // 2025-03-03
const SALARY = 187_654;
const CONTRACT_FIELDS = [
  'compensation',
  'department',
  'exemption_status',
  'external_id',
  'first_name',
  'home_email',
  'last_name',
  'manager',
  'member_type',
  'office',
  'start_date',
  'title',
];

/** Every string of a workflow's history, payloads decoded: what Temporal stores about the run. */
async function historyText(handle: WorkflowHandle): Promise<string> {
  const history = await decodeHistory(await handle.fetchHistory());
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) texts.push(Buffer.from(value).toString('utf8'));
    else if (typeof value === 'string') texts.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(history);
  return texts.join('\n');
}

describe('Lever → Justworks end to end (real HTTP, Temporal dev server, PostgreSQL, SMTP)', () => {
  let stack: Stack;
  let conn: { id: string; webhookUrl: string };
  let webhookId: string;
  let justworksKey: string;
  let admins: { maya: string; lee: string; otto: string };

  beforeAll(async () => {
    stack = await startStack();
    const account = stack.leverAccount();
    justworksKey = stack.unique('jw-key');
    admins = {
      maya: `maya-${stack.taskQueue}@acme.test`,
      lee: `lee-${stack.taskQueue}@acme.test`,
      otto: `otto-${stack.taskQueue}@acme.test`,
    };
    stack.justworks.addCompany({ apiKey: justworksKey, name: 'Acme Corp' });
    conn = await stack.adminCreate({
      name: stack.unique('Acme'),
      lever: { ...account },
      vendor: {
        type: 'justworks',
        apiBaseUrl: stack.justworks.apiBaseUrl,
        apiKey: justworksKey,
        companyName: 'Acme Corp',
        admins: [
          { name: 'Maya Admin', email: admins.maya, permissions: ['manage_employees'] },
          { name: 'Lee Admin', email: admins.lee, permissions: ['Manage employees', 'payroll'] },
          { name: 'Otto Viewer', email: admins.otto, permissions: ['view_reports'] },
        ],
      },
    });
    webhookId = stack.lever.addWebhook({
      event: 'candidateHired',
      url: conn.webhookUrl,
      signatureToken: account.signatureToken,
    }).id;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  let counter = 0;
  function candidate(lastName: string) {
    counter += 1;
    const posting = stack.lever.createPosting({
      text: 'Engineer (posting title)',
      categories: {
        team: 'Platform',
        department: 'Engineering',
        location: 'New York',
        commitment: 'Full-time',
      },
    });
    return stack.lever.createOpportunity({
      name: `Ada ${lastName}`,
      emails: [`ada-${counter}-${stack.taskQueue}@example.com`, 'second@example.com'],
      phones: [{ type: 'mobile', value: '+1 555 0100' }],
      postingId: posting.id,
      stageId: stack.lever.stageIdByName('Offer'),
    });
  }

  function offerFields(overrides: Record<string, OfferField['value']> = {}): OfferField[] {
    const values: Record<string, OfferField['value']> = {
      job_title: 'Analytical Engineer',
      salary_amount: SALARY,
      compensation_currency: 'USD',
      salary_interval: 'year (salary)',
      hiring_manager: 'Charles Babbage',
      anticipated_start_date: START_MS,
      ...overrides,
    };
    return Object.entries(values).map(([identifier, value]) => ({ text: identifier, identifier, value }));
  }

  const handleFor = (opportunityId: string) =>
    stack.temporal.workflow.getHandle(hireWorkflowId(conn.id, opportunityId));
  const hiresFor = (opportunityId: string) =>
    stack.justworks.pendingHires(justworksKey).filter((h) => h.external_id === opportunityId);
  const requestsFor = (opportunityId: string) =>
    stack.justworks
      .requests()
      .filter((r) => (r.body as { external_id?: unknown } | null)?.external_id === opportunityId);
  const mailsAbout = (candidateName: string) =>
    stack.smtp.messages().filter((m) => m.text.includes(candidateName));
  const secretNotes = (opportunityId: string) =>
    stack.lever
      .notes(opportunityId)
      .filter((n) => n.secret)
      .map((n) => n.value);
  const waitForState = (opportunityId: string, status: OnboardingState['status']) =>
    eventually(
      async () => {
        const state = await handleFor(opportunityId).query(onboardingStateQuery);
        return state.status === status ? state : undefined;
      },
      60_000,
      `onboarding state ${status}`,
    );
  const waitForNote = (opportunityId: string, fragment: string) =>
    eventually(
      () => secretNotes(opportunityId).find((n) => n.includes(fragment)),
      30_000,
      `a secret note with "${fragment}"`,
    );
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('creates the pending hire with every synced field, e-mails each Manage-employees admin once, sends no file', async () => {
    const opp = candidate('Lovelace');
    stack.lever.setOffer(opp.id, { status: 'signed', fields: offerFields() });
    const [delivery] = await stack.lever.hire(opp.id);
    expect(delivery?.attempts.at(-1)?.status).toBe(202);

    const result = (await handleFor(opp.id).result()) as OnboardingState;
    const [hire] = hiresFor(opp.id);
    expect(hire).toBeDefined();
    expect(result).toEqual({
      status: 'created',
      pendingHireId: hire!.id,
      reviewUrl: hire!.review_url,
      notified: 2,
    });
    expect(hiresFor(opp.id)).toHaveLength(1);
    expect(hire).toEqual({
      id: hire!.id,
      status: 'pending',
      review_url: `${stack.justworks.url}/manage/employees/pending/${hire!.id}`,
      created_at: expect.any(String) as unknown,
      external_id: opp.id,
      member_type: 'employee',
      first_name: 'Ada',
      last_name: 'Lovelace',
      home_email: opp.emails[0],
      title: 'Analytical Engineer',
      department: 'Engineering',
      office: 'New York',
      manager: 'Charles Babbage',
      start_date: '2025-03-03',
      compensation: { amount: SALARY, currency: 'USD', type_of_earnings: 'year (salary)' },
      exemption_status: 'exempt',
    });

    // Exactly the contract's fields went to Justworks: no file, no resume, no phone.
    const requests = requestsFor(opp.id);
    expect(requests.map((r) => r.status)).toEqual([201]);
    expect(requests[0]?.idempotencyKey).toBe(hireWorkflowId(conn.id, opp.id));
    expect(requests[0]?.contentType).toContain('application/json');
    const body = requests[0]?.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(CONTRACT_FIELDS);
    for (const field of JUSTWORKS_FILE_FIELDS) expect(body).not.toHaveProperty(field);
    expect(stack.justworks.requests().filter((r) => r.error === 'files_not_accepted')).toEqual([]);

    // One message per admin with Manage employees, each to that admin alone, with the review link.
    for (const address of [admins.maya, admins.lee]) {
      await stack.smtp.waitFor((m) => m.to.includes(address) && m.text.includes('Ada Lovelace'), 10_000);
    }
    const mails = mailsAbout('Ada Lovelace');
    expect(mails.map((m) => m.to).sort()).toEqual([[admins.lee], [admins.maya]]);
    for (const mail of mails) {
      expect(mail.subject).toBe(HIRE_NOTIFICATION_SUBJECT);
      expect(mail.subject).toBe('A candidate has been hired in Lever!');
      expect(mail.cc).toEqual([]);
      expect(mail.envelope.to).toEqual(mail.to);
      expect(mail.text).toContain(hire!.review_url);
      expect(mail.text).toContain('Acme Corp');
      expect(mail.html).toContain(`href="${hire!.review_url}"`);
      expect(mail.text).not.toContain(String(SALARY));
      expect(mail.headers['x-idempotency-key']).toBe(`hire-${hire!.id}`);
    }
    expect(stack.smtp.messages().filter((m) => m.to.includes(admins.otto))).toEqual([]);

    // The review link works, the recruiter sees what happened, operators can filter the run.
    const page = await fetch(hire!.review_url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Review &amp; Invite: Ada Lovelace');
    expect(secretNotes(opp.id)).toEqual([
      `Justworks: a pending hire was created for this hire and 2 Justworks admin(s) with "Manage employees" were e-mailed a link to review it: ${hire!.review_url}`,
    ]);
    const description = await handleFor(opp.id).describe();
    expect(description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([
        ['BgcStatus', 'Created'],
        ['BgcVendor', 'justworks'],
        ['BgcConnection', conn.id],
      ]),
    );

    // No candidate data in the workflow's history (inputs, activity results, notes).
    const text = await historyText(handleFor(opp.id));
    expect(text).toContain(hire!.id);
    for (const pii of ['Lovelace', opp.emails[0]!, String(SALARY), 'Charles Babbage', admins.maya]) {
      expect({ pii, inHistory: text.includes(pii) }).toEqual({ pii, inHistory: false });
    }
  });

  it('refuses a "month" type of earnings: nothing is sent to Justworks, a clear secret note says why', async () => {
    const opp = candidate('Monthly');
    stack.lever.setOffer(opp.id, { status: 'signed', fields: offerFields({ salary_interval: 'month' }) });
    const [delivery] = await stack.lever.hire(opp.id);
    expect(delivery?.attempts.at(-1)?.status).toBe(202);

    const state = await waitForState(opp.id, 'refused');
    expect(state).toEqual({ status: 'refused', reason: expect.stringContaining('"month"') as unknown });
    const note = await waitForNote(opp.id, 'Type of earnings "month" is not accepted by Justworks');
    expect(note).toContain('it accepts only "hour (wage)" or "year (salary)"');
    expect(note).toContain('Justworks: no pending hire was created for this hire.');
    expect(hiresFor(opp.id)).toEqual([]);
    expect(requestsFor(opp.id)).toEqual([]);
    expect(mailsAbout('Ada Monthly')).toEqual([]);
    expect(secretNotes(opp.id)).toHaveLength(1);
    const description = await handleFor(opp.id).describe();
    expect(description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([['BgcStatus', 'Refused']]),
    );
  });

  it('keeps one pending hire and one e-mail per admin when candidateHired is redelivered or sent again', async () => {
    const opp = candidate('Twice');
    stack.lever.setOffer(opp.id, { status: 'signed', fields: offerFields() });
    const [first] = await stack.lever.hire(opp.id);
    await handleFor(opp.id).result();
    expect(hiresFor(opp.id)).toHaveLength(1);

    const again = await stack.lever.redeliver(first!.id);
    expect(again.body.token).toBe(first!.body.token);
    expect(again.attempts.at(-1)?.status).toBe(200);
    const [second] = await stack.lever.hire(opp.id);
    expect(second?.body.token).not.toBe(first!.body.token);
    expect(second?.attempts.at(-1)?.status).toBe(202);

    const rows = await stack.pool.query<{ outcome: string }>(
      `SELECT outcome FROM webhook_inbox WHERE connection_id = $1 AND data->>'opportunityId' = $2 ORDER BY id`,
      [conn.id, opp.id],
    );
    expect(rows.rows.map((r) => r.outcome)).toEqual(['started', 'already-running']);
    await pause(1500);
    expect(hiresFor(opp.id)).toHaveLength(1);
    expect(requestsFor(opp.id)).toHaveLength(1);
    expect(
      mailsAbout('Ada Twice')
        .map((m) => m.to)
        .sort(),
    ).toEqual([[admins.lee], [admins.maya]]);
    const { count } = await stack.temporal.workflow.count(
      `WorkflowId = '${hireWorkflowId(conn.id, opp.id)}'`,
    );
    expect(count).toBe(1);
  });

  it('answers Lever’s Verify Connection test event with 2xx and starts nothing', async () => {
    const before = await stack.temporal.workflow.count(`BgcConnection = '${conn.id}'`);
    const delivery = await stack.lever.verifyConnection(webhookId);
    expect(delivery.body.event).toBe('candidateHired');
    expect(delivery.body.data).toEqual({});
    expect(delivery.attempts.at(-1)?.status).toBe(200);
    const row = await stack.pool.query('SELECT outcome FROM webhook_inbox WHERE token = $1', [
      delivery.body.token,
    ]);
    expect(row.rows).toEqual([{ outcome: 'verified' }]);
    await pause(500);
    expect((await stack.temporal.workflow.count(`BgcConnection = '${conn.id}'`)).count).toBe(before.count);
  });

  it('refuses an offer not yet signed (no manager or start date is sent), then creates the hire once it is signed', async () => {
    const opp = candidate('Pending');
    stack.lever.setOffer(opp.id, {
      status: 'sent',
      fields: offerFields({
        direct_manager: 'Grace Hopper',
        salary_interval: 'hour (wage)',
        salary_amount: 55,
      }),
    });
    await stack.lever.hire(opp.id);

    const note = await waitForNote(opp.id, 'The offer is not signed yet (status: sent).');
    expect(note).toContain('mark the offer as signed');
    expect(note).toContain('there is no need to hire the candidate again');
    expect(await waitForState(opp.id, 'refused')).toMatchObject({ status: 'refused' });
    expect(requestsFor(opp.id)).toEqual([]);
    expect(hiresFor(opp.id)).toEqual([]);
    expect(mailsAbout('Ada Pending')).toEqual([]);

    // The recruiter completes the offer workflow: the workflow's next look at the opportunity sends it.
    stack.lever.setOffer(opp.id, {
      status: 'signed',
      fields: offerFields({
        direct_manager: 'Grace Hopper',
        salary_interval: 'hour (wage)',
        salary_amount: 55,
      }),
    });
    const created = await waitForState(opp.id, 'created');
    const [hire] = hiresFor(opp.id);
    expect(created).toMatchObject({ status: 'created', pendingHireId: hire?.id, notified: 2 });
    expect(hire).toMatchObject({
      manager: 'Grace Hopper',
      start_date: '2025-03-03',
      compensation: { amount: 55, currency: 'USD', type_of_earnings: 'hour (wage)' },
      exemption_status: 'non-exempt',
    });
    await stack.smtp.waitFor((m) => m.to.includes(admins.maya) && m.text.includes('Ada Pending'), 10_000);
    expect(requestsFor(opp.id)).toHaveLength(1);
  }, 90_000);
});
