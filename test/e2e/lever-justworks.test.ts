import type { WorkflowHandle } from '@temporalio/client';
import type { OfferField } from '../../sandbox/lever-emulator';
import { JUSTWORKS_FILE_FIELDS } from '../../sandbox/justworks-emulator';
import { HIRE_NOTIFICATION_SUBJECT } from '../../src/vendors/justworks/mailer';
import {
  hireWorkflowId,
  onboardingStateQuery,
  type OnboardingState,
} from '../../src/workflows/onboarding-definitions';
import { decodeHistory, startStack, type Stack } from '../support/stack';
import { eventually, startedHandle, waitForInboxOutcomes, waitForNote, waitForState } from '../support/waits';

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
  let leverAccount: { apiBaseUrl: string; apiKey: string; signatureToken: string };

  beforeAll(async () => {
    stack = await startStack();
    const account = stack.leverAccount();
    justworksKey = stack.unique('jw-key');
    admins = {
      maya: `maya-${stack.taskQueue}@acme.test`,
      lee: `lee-${stack.taskQueue}@acme.test`,
      otto: `otto-${stack.taskQueue}@acme.test`,
    };
    // Justworks decides who is e-mailed: its admins with Manage employees, not a list on the connection.
    stack.justworks.addCompany({
      apiKey: justworksKey,
      name: 'Acme Corp',
      admins: [
        { name: 'Maya Admin', email: admins.maya, permissions: ['manage_employees'] },
        { name: 'Lee Admin', email: admins.lee, permissions: ['manage_employees', 'manage_payroll'] },
        { name: 'Otto Viewer', email: admins.otto, permissions: ['view_reports'] },
      ],
    });
    conn = await stack.adminCreate({
      name: stack.unique('Acme'),
      lever: { ...account },
      vendor: {
        type: 'justworks',
        apiBaseUrl: stack.justworks.apiBaseUrl,
        apiKey: justworksKey,
        companyName: 'Acme Corp',
      },
    });
    leverAccount = account;
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
  function candidate(lastName: string, emails?: string[]) {
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
      emails: emails ?? [`ada-${counter}-${stack.taskQueue}@example.com`, 'second@example.com'],
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
  /** The hire's result: the webhook is answered once recorded, and its workflow starts right after. */
  const resultFor = async (opportunityId: string) => {
    const handle = await startedHandle(handleFor(opportunityId), 10_000);
    return (await handle.result()) as OnboardingState;
  };
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
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('creates the pending hire with every synced field, e-mails each Manage-employees admin once, sends no file', async () => {
    const opp = candidate('Lovelace');
    stack.lever.setOffer(opp.id, { status: 'signed', fields: offerFields() });
    const [delivery] = await stack.lever.hire(opp.id);
    expect(delivery?.attempts.at(-1)?.status).toBe(202);

    const result = await resultFor(opp.id);
    const [hire] = hiresFor(opp.id);
    expect(hire).toBeDefined();
    expect(result).toEqual({
      status: 'created',
      pendingHireId: hire!.id,
      reviewUrl: hire!.review_url,
      notified: 2,
      leftOut: [],
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
    // A hire's status has an attribute of its own: the checks' BgcStatus never holds a hire's values.
    const description = await handleFor(opp.id).describe();
    const attributes = description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]);
    expect(attributes).toEqual(
      expect.arrayContaining([
        ['BgcKind', 'onboardHire'],
        ['BgcHireStatus', 'Created'],
        ['BgcVendor', 'justworks'],
        ['BgcConnection', conn.id],
      ]),
    );
    expect(attributes.map(([name]) => name)).not.toContain('BgcStatus');

    // No candidate data in the workflow's history (inputs, activity results, notes).
    const text = await historyText(handleFor(opp.id));
    expect(text).toContain(hire!.id);
    for (const pii of ['Lovelace', opp.emails[0]!, String(SALARY), 'Charles Babbage', admins.maya]) {
      expect({ pii, inHistory: text.includes(pii) }).toEqual({ pii, inHistory: false });
    }
  });

  it('creates the hire without compensation for a "month" type of earnings, e-mails the admins, and a secret note says what was left out and why', async () => {
    const opp = candidate('Monthly');
    stack.lever.setOffer(opp.id, { status: 'signed', fields: offerFields({ salary_interval: 'month' }) });
    const [delivery] = await stack.lever.hire(opp.id);
    expect(delivery?.attempts.at(-1)?.status).toBe(202);

    const result = await resultFor(opp.id);
    const [hire] = hiresFor(opp.id);
    expect(result).toEqual({
      status: 'created',
      pendingHireId: hire?.id,
      reviewUrl: hire?.review_url,
      notified: 2,
      leftOut: ['compensation', 'type_of_earnings', 'exemption_status'],
    });
    expect(hire).toMatchObject({
      first_name: 'Ada',
      last_name: 'Monthly',
      title: 'Analytical Engineer',
      manager: 'Charles Babbage',
      start_date: '2025-03-03',
      compensation: null,
      exemption_status: null,
    });
    // Sent once, accepted, with the left-out fields as null (nothing Justworks would refuse).
    expect(
      requestsFor(opp.id).map((r) => [r.status, (r.body as { compensation: unknown }).compensation]),
    ).toEqual([[201, null]]);
    for (const address of [admins.maya, admins.lee]) {
      await stack.smtp.waitFor((m) => m.to.includes(address) && m.text.includes('Ada Monthly'), 10_000);
    }
    expect(secretNotes(opp.id)).toEqual([
      `Justworks: a pending hire was created for this hire and 2 Justworks admin(s) with "Manage employees" were e-mailed a link to review it: ${hire!.review_url}\n` +
        'Compensation, type of earnings and exemption status were left out: type of earnings "month" is not accepted by Justworks, it accepts only "hour (wage)" or "year (salary)".\n' +
        'Complete them in Justworks (Review & Invite) before inviting the new member.',
    ]);
    const description = await handleFor(opp.id).describe();
    expect(description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([['BgcHireStatus', 'Created']]),
    );
  });

  it('keeps one pending hire and one e-mail per admin when candidateHired is redelivered or sent again', async () => {
    const opp = candidate('Twice');
    stack.lever.setOffer(opp.id, { status: 'signed', fields: offerFields() });
    const [first] = await stack.lever.hire(opp.id);
    await resultFor(opp.id);
    expect(hiresFor(opp.id)).toHaveLength(1);

    const again = await stack.lever.redeliver(first!.id);
    expect(again.body.token).toBe(first!.body.token);
    expect(again.attempts.at(-1)?.status).toBe(200);
    const [second] = await stack.lever.hire(opp.id);
    expect(second?.body.token).not.toBe(first!.body.token);
    expect(second?.attempts.at(-1)?.status).toBe(202);

    // The second delivery is answered once recorded; its start follows and finds the hire done.
    const outcomes = await waitForInboxOutcomes(stack, conn.id, opp.id);
    expect(outcomes).toEqual(['started', 'already-running']);
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

  it('creates the hire from an offer not yet signed without manager and start date, once, and says so in a secret note', async () => {
    const opp = candidate('Pending');
    const fields = offerFields({
      direct_manager: 'Grace Hopper',
      salary_interval: 'hour (wage)',
      salary_amount: 55,
    });
    stack.lever.setOffer(opp.id, { status: 'sent', fields });
    await stack.lever.hire(opp.id);

    const result = await resultFor(opp.id);
    const [hire] = hiresFor(opp.id);
    expect(result).toEqual({
      status: 'created',
      pendingHireId: hire?.id,
      reviewUrl: hire?.review_url,
      notified: 2,
      leftOut: ['manager', 'start_date'],
    });
    expect(hire).toMatchObject({
      title: 'Analytical Engineer',
      department: 'Engineering',
      office: 'New York',
      manager: null,
      start_date: null,
      compensation: { amount: 55, currency: 'USD', type_of_earnings: 'hour (wage)' },
      exemption_status: 'non-exempt',
    });
    const sent = requestsFor(opp.id)[0]?.body as Record<string, unknown>;
    expect(Object.keys(sent).sort()).toEqual(CONTRACT_FIELDS);
    expect(sent).toMatchObject({ manager: null, start_date: null });
    for (const address of [admins.maya, admins.lee]) {
      await stack.smtp.waitFor((m) => m.to.includes(address) && m.text.includes('Ada Pending'), 10_000);
    }
    expect(secretNotes(opp.id)).toEqual([
      `Justworks: a pending hire was created for this hire and 2 Justworks admin(s) with "Manage employees" were e-mailed a link to review it: ${hire!.review_url}\n` +
        'Manager and start date were left out: the offer is not signed yet (status: sent), Justworks takes them only from a signed offer.\n' +
        'Complete them in Justworks (Review & Invite) before inviting the new member.',
    ]);

    // Created once: signing the offer later changes nothing (the admin completes the hire in Justworks).
    stack.lever.setOffer(opp.id, { status: 'signed', fields });
    const [again] = await stack.lever.hire(opp.id);
    expect(again?.attempts.at(-1)?.status).toBe(202);
    expect(requestsFor(opp.id)).toHaveLength(1);
    expect(
      (await stack.temporal.workflow.count(`WorkflowId = '${hireWorkflowId(conn.id, opp.id)}'`)).count,
    ).toBe(1);

    const text = await historyText(handleFor(opp.id));
    for (const pii of ['Ada Pending', opp.emails[0]!, 'Grace Hopper']) {
      expect({ pii, inHistory: text.includes(pii) }).toEqual({ pii, inHistory: false });
    }
  });

  it('creates the hire of a candidate without any offer with what the opportunity and the posting give', async () => {
    const opp = candidate('Nooffer');
    await stack.lever.hire(opp.id);

    const result = await resultFor(opp.id);
    const [hire] = hiresFor(opp.id);
    expect(result).toMatchObject({ status: 'created', pendingHireId: hire?.id, notified: 2 });
    expect(hire).toMatchObject({
      external_id: opp.id,
      member_type: 'employee',
      first_name: 'Ada',
      last_name: 'Nooffer',
      home_email: opp.emails[0],
      title: 'Engineer (posting title)',
      department: 'Engineering',
      office: 'New York',
      manager: null,
      start_date: null,
      compensation: null,
      exemption_status: null,
    });
    await stack.smtp.waitFor((m) => m.to.includes(admins.maya) && m.text.includes('Ada Nooffer'), 10_000);
    expect(secretNotes(opp.id)).toEqual([
      expect.stringContaining(
        'Compensation, type of earnings, exemption status, manager and start date were left out: the opportunity has no offer.',
      ) as unknown,
    ]);
  });

  it('refuses a hire without an email (Justworks needs the home email), then creates it once the email is added', async () => {
    const opp = candidate('Noemail', []);
    stack.lever.setOffer(opp.id, { status: 'signed', fields: offerFields() });
    await stack.lever.hire(opp.id);

    const note = await waitForNote(stack, opp.id, 'The opportunity has no email address');
    expect(note).toContain('there is no need to hire the candidate again');
    expect(await waitForState(handleFor(opp.id), onboardingStateQuery, 'refused', 60_000)).toMatchObject({
      status: 'refused',
    });
    expect(requestsFor(opp.id)).toEqual([]);
    // Operators find the waiting hire by its own status attribute; a check's BgcStatus stays out of it.
    const waiting = await eventually(async () => {
      const attributes = new Map(
        (await handleFor(opp.id).describe()).typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]),
      );
      return attributes.get('BgcHireStatus') === 'Refused' ? attributes : undefined;
    }, 10_000);
    expect(Object.fromEntries(waiting)).toMatchObject({ BgcKind: 'onboardHire', BgcHireStatus: 'Refused' });
    expect(waiting.has('BgcStatus')).toBe(false);

    stack.lever.setEmails(opp.id, [`noemail-${stack.taskQueue}@example.com`]);
    const created = await waitForState(handleFor(opp.id), onboardingStateQuery, 'created', 60_000);
    expect(created).toMatchObject({ notified: 2, leftOut: [] });
    expect(hiresFor(opp.id)).toHaveLength(1);
  }, 90_000);

  it('refuses a connection that still sends admins with a 400 problem naming the field, and creates nothing', async () => {
    const count = async () =>
      Number((await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM connections')).rows[0]?.n);
    const before = await count();
    const res = await stack.adminFetch('/admin/connections', {
      method: 'POST',
      body: {
        name: stack.unique('Old style'),
        lever: { ...leverAccount },
        vendor: {
          type: 'justworks',
          apiBaseUrl: stack.justworks.apiBaseUrl,
          apiKey: justworksKey,
          admins: [{ name: 'Maya Admin', email: admins.maya, permissions: ['manage_employees'] }],
        },
      },
    });
    expect(res.status).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    const problem = res.body as { status: number; errors: { path: string; message: string }[] };
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      {
        path: 'vendor.admins',
        message: expect.stringMatching(
          /^admins is no longer a setting: .*"Manage employees".*Justworks/,
        ) as unknown,
      },
    ]);
    expect(await count()).toBe(before);
  });

  // Last: it changes the company's admins and the stored connection.
  it('e-mails the admins Justworks lists with Manage employees at each hire: a permission change there changes the next e-mail', async () => {
    // A connection stored before the admins setting was removed still carries it: it loads and decides nothing.
    await stack.pool.query(
      `UPDATE connections SET settings = jsonb_set(settings, '{vendor,admins}', $2::jsonb) WHERE id = $1`,
      [conn.id, JSON.stringify([{ name: 'Otto', email: admins.otto, permissions: ['manage_employees'] }])],
    );
    // The admin API does not show the setting the integration no longer has.
    const shown = await stack.adminFetch(`/admin/connections/${conn.id}`);
    expect((shown.body as { vendorSettings: Record<string, unknown> }).vendorSettings).not.toHaveProperty(
      'admins',
    );
    const hireAndWait = async (lastName: string) => {
      const opp = candidate(lastName);
      stack.lever.setOffer(opp.id, { status: 'signed', fields: offerFields() });
      await stack.lever.hire(opp.id);
      return { opp, state: await resultFor(opp.id) };
    };
    const recipients = (candidateName: string) =>
      mailsAbout(candidateName)
        .flatMap((m) => m.to)
        .sort();

    expect((await hireAndWait('First')).state).toMatchObject({ status: 'created', notified: 2 });
    expect(recipients('Ada First')).toEqual([admins.lee, admins.maya].sort());

    // In Justworks, Maya loses Manage employees and Otto gets it (the sandbox's admin settings page).
    const changed = await fetch(`${stack.justworks.url}/_sandbox/companies/${justworksKey}/admins`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        admins: [
          { name: 'Maya Admin', email: admins.maya, permissions: ['view_reports'] },
          { name: 'Lee Admin', email: admins.lee, permissions: ['manage_employees', 'manage_payroll'] },
          { name: 'Otto Viewer', email: admins.otto, permissions: ['view_reports', 'manage_employees'] },
        ],
      }),
    });
    expect(changed.status).toBe(200);

    expect((await hireAndWait('Second')).state).toMatchObject({ status: 'created', notified: 2 });
    expect(recipients('Ada Second')).toEqual([admins.lee, admins.otto].sort());
    expect(recipients('Ada First')).toEqual([admins.lee, admins.maya].sort());

    // Nobody left with Manage employees: the pending hire is still created; the note says nobody was e-mailed.
    stack.justworks.setAdmins(justworksKey, [{ email: admins.maya, permissions: ['view_reports'] }]);
    const third = await hireAndWait('Third');
    expect(third.state).toMatchObject({ status: 'created', notified: 0 });
    expect(recipients('Ada Third')).toEqual([]);
    const reviewUrl = hiresFor(third.opp.id)[0]?.review_url;
    expect(secretNotes(third.opp.id)).toEqual([
      'Justworks: a pending hire was created for this hire, but no Justworks admin with "Manage employees" could ' +
        'be e-mailed (Justworks lists none, or the mail server refused their addresses). Ask a Justworks admin ' +
        `to review it: ${reviewUrl}`,
    ]);
  });
});
