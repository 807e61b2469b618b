import type { AshbyAssessmentUpdate } from '../../sandbox/ashby-emulator';
import { checkStateQuery, checkWorkflowId, type CheckState } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { eventually, waitForJustifactsOrder } from '../support/waits';

const EMP = {
  code: 'EmpCod',
  id: '13558',
  name: 'Employment Screening',
  description: 'Identity and employment.',
};
/** The seed's words for the first and third statuses (seed 003). */
const RECEIVED = 'Justifacts Received';
const IN_PROCESS = 'In Process Justifacts';

const CRIM = {
  code: 'CrimCod',
  id: '20417',
  name: 'Criminal Screening',
  description: 'National and county criminal searches.',
};

interface AshbyConnection {
  id: string;
  partnerBaseUrl: string;
  partnerSecret: string;
  vendorCallbackUrl: string;
  /** The partner's name in the Ashby emulator. */
  partner: string;
  ashbyApiKey: string;
  justifactsApiKey: string;
}

describe('Ashby → Justifacts end to end (real HTTP, Temporal dev server, PostgreSQL)', () => {
  let stack: Stack;
  let conn: AshbyConnection;

  /** An Ashby organization linked to a Justifacts account, registered as a partner on the Ashby emulator. */
  async function connect(): Promise<AshbyConnection> {
    const ashbyApiKey = stack.unique('ashby-key');
    stack.ashby.addOrganization({ apiKey: ashbyApiKey });
    const jfApiKey = stack.unique('justifacts-key');
    const callbackSecret = stack.unique('justifacts-callback');
    const created = await stack.adminCreate({
      name: stack.unique('Customer'),
      ashby: { apiBaseUrl: stack.ashby.apiBaseUrl, apiKey: ashbyApiKey },
      vendor: {
        type: 'justifacts',
        apiBaseUrl: stack.justifacts.apiBaseUrl,
        apiKey: jfApiKey,
        callbackSecret,
        packages: [EMP, CRIM],
      },
    });
    expect(created.partnerBaseUrl).toMatch(/^http/);
    expect(created.partnerSecret).toEqual(expect.any(String));
    const partner = stack.unique('justifacts');
    stack.ashby.registerPartner({
      name: partner,
      baseUrl: created.partnerBaseUrl,
      secret: created.partnerSecret,
      apiKey: ashbyApiKey,
    });
    stack.justifacts.addAccount({ apiKey: jfApiKey, callbackUrl: created.vendorCallbackUrl, callbackSecret });
    return { ...created, partner, ashbyApiKey, justifactsApiKey: jfApiKey };
  }

  beforeAll(async () => {
    stack = await startStack();
    conn = await connect();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const newEmail = () => `grace-${Math.random().toString(36).slice(2)}@example.com`;
  const start = (
    c: AshbyConnection,
    opts: { type?: string; email?: string | null; candidateAshbyId?: string } = {},
  ) =>
    stack.ashby.startAssessment(c.partner, {
      assessmentTypeId: opts.type ?? EMP.id,
      candidate: {
        firstName: 'Grace',
        lastName: 'Hopper',
        email: opts.email === undefined ? newEmail() : opts.email,
      },
      job: { name: 'Compiler Engineer' },
      ...(opts.candidateAshbyId === undefined ? {} : { candidateAshbyId: opts.candidateAshbyId }),
    });
  async function started(c: AshbyConnection, opts: Parameters<typeof start>[1] = {}) {
    const res = await start(c, opts);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      results: { assessment_id: expect.any(String) as unknown },
    });
    expect(res.assessmentId).toEqual(
      (res.body as { results: { assessment_id: string } }).results.assessment_id,
    );
    return {
      id: res.assessmentId!,
      email: res.request.candidate.email,
      candidateAshbyId: res.request.candidate.ashby_id,
    };
  }

  const handle = (c: AshbyConnection, assessmentId: string) =>
    stack.temporal.workflow.getHandle(checkWorkflowId(c.id, assessmentId));
  const statuses = (assessmentId: string) =>
    stack.ashby.updates(assessmentId).map((u: AshbyAssessmentUpdate) => u.assessment_status?.value);
  const waitForStatuses = (assessmentId: string, expected: string[]) =>
    eventually(
      () => (statuses(assessmentId).length >= expected.length ? statuses(assessmentId) : undefined),
      30_000,
      `Ashby statuses ${expected.join(', ')}`,
    ).then((got) => expect(got).toEqual(expected));

  async function rawCall(method: string, body: unknown, authorization?: string) {
    const res = await fetch(`${conn.partnerBaseUrl}/${method}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(authorization === undefined ? {} : { Authorization: authorization }),
      },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: await res.json(),
    };
  }

  it('assessment.list returns the connection’s packages', async () => {
    expect(await stack.ashby.listAssessments(conn.partner)).toEqual({
      results: [
        { assessment_type_id: EMP.id, name: EMP.name, description: EMP.description },
        { assessment_type_id: CRIM.id, name: CRIM.name, description: CRIM.description },
      ],
    });
  });

  it('assessment.start orders from Justifacts and pushes Justifacts Received, Started, In Process Justifacts, then Complete with the result URL', async () => {
    const a = await started(conn);
    const order = await waitForJustifactsOrder(stack, a.id);
    expect(order.package).toEqual({ code: EMP.code, id: EMP.id });
    expect(stack.justifacts.invitations().filter((i) => i.orderId === order.orderId)).toEqual([
      expect.objectContaining({
        email: a.email,
        firstName: 'Grace',
        lastName: 'Hopper',
        packageCode: EMP.code,
      }),
    ]);
    await waitForStatuses(a.id, [RECEIVED]);

    await stack.justifacts.setStatus(order.orderId, 'APPLICANT_STARTED');
    await waitForStatuses(a.id, [RECEIVED, 'Started']);
    await stack.justifacts.advance(order.orderId); // applicant submitted, Justifacts processing
    await waitForStatuses(a.id, [RECEIVED, 'Started', IN_PROCESS]);
    const completed = await stack.justifacts.advance(order.orderId);
    await waitForStatuses(a.id, [RECEIVED, 'Started', IN_PROCESS, 'Complete']);

    const updates = stack.ashby.updates(a.id);
    const last = updates.at(-1)!;
    expect(last.assessment_profile_url).toMatchObject({ type: 'url', value: completed.resultUrl });
    expect(last.assessment_result).toBeDefined();
    const timestamps = updates.map((u) => u.timestamp);
    expect([...timestamps].sort((x, y) => x - y)).toEqual(timestamps);
    expect(stack.ashby.assessment(a.id)).toMatchObject({
      status: 'Complete',
      completed: true,
      profileUrl: completed.resultUrl,
    });
    const page = await fetch(completed.resultUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(order.orderId);

    const result = (await handle(conn, a.id).result()) as CheckState;
    expect(result.status).toBe('Complete');
    expect(result.history.map((h) => h.status)).toEqual(['Pending', 'In-Progress', 'Analyzing', 'Complete']);
    expect(stack.ashby.rejectedUpdates().filter((r) => JSON.stringify(r.body).includes(a.id))).toEqual([]);
  });

  it('refuses a wrong or missing partner secret with 401 problem+json and starts nothing', async () => {
    const ordersBefore = stack.justifacts.orders().length;
    const startBody = {
      assessment_type_id: EMP.id,
      candidate: { ashby_id: 'c-1', first_name: 'Eve', last_name: 'X', email: newEmail() },
    };
    for (const authorization of [`Bearer ${conn.partnerSecret}x`, undefined, `Basic ${conn.partnerSecret}`]) {
      for (const [method, body] of [
        ['assessment.list', {}],
        ['assessment.start', startBody],
      ] as const) {
        const res = await rawCall(method, body, authorization);
        expect(res.status).toBe(401);
        expect(res.contentType).toContain('application/problem+json');
        expect(res.body).toMatchObject({ status: 401, message: expect.any(String) as unknown });
      }
    }
    expect(stack.justifacts.orders().length).toBe(ordersBefore);
    // The right secret on the same route is accepted.
    expect((await rawCall('assessment.list', {}, `Bearer ${conn.partnerSecret}`)).status).toBe(200);
  });

  it.each([
    ['missing', null],
    ['empty', ''],
  ])('answers 422 with a message when the candidate’s email is %s', async (_label, email) => {
    const ordersBefore = stack.justifacts.orders().length;
    const res = await start(conn, { email });
    expect(res.status).toBe(422);
    expect((res.body as { message?: unknown }).message).toMatch(/email/i);
    expect(res.assessmentId).toBeNull();
    expect(stack.justifacts.orders().length).toBe(ordersBefore);
  });

  it('answers 422 with a message for an unknown assessment type', async () => {
    const ordersBefore = stack.justifacts.orders().length;
    const res = await start(conn, { type: '99999' });
    expect(res.status).toBe(422);
    expect((res.body as { message?: unknown }).message).toEqual(expect.stringContaining('99999'));
    expect(stack.justifacts.orders().length).toBe(ordersBefore);
  });

  it('answers 409 for the same candidate and package while one runs; a different package is a new assessment', async () => {
    const first = await started(conn);
    await waitForJustifactsOrder(stack, first.id);

    const again = await start(conn, { candidateAshbyId: first.candidateAshbyId, email: first.email });
    expect(again.status).toBe(409);
    expect((again.body as { message?: unknown }).message).toEqual(expect.any(String));
    expect(again.assessmentId).toBeNull();

    const other = await started(conn, {
      type: CRIM.id,
      candidateAshbyId: first.candidateAshbyId,
      email: first.email,
    });
    expect(other.id).not.toBe(first.id);
    const otherOrder = await waitForJustifactsOrder(stack, other.id);
    expect(otherOrder.package).toEqual({ code: CRIM.code, id: CRIM.id });
    await waitForStatuses(other.id, [RECEIVED]);
    expect(stack.justifacts.orders().filter((o) => o.reference === first.id)).toHaveLength(1);
  });

  it('assessment.cancel cancels the Justifacts order and ends the check, telling Ashby nothing more', async () => {
    const a = await started(conn);
    const order = await waitForJustifactsOrder(stack, a.id);
    await waitForStatuses(a.id, [RECEIVED]);

    const res = await stack.ashby.cancelAssessment(conn.partner, a.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true });

    const result = (await handle(conn, a.id).result()) as CheckState;
    expect(result.status).toBe('Error');
    expect(result.history.at(-1)).toMatchObject({ status: 'Error', reason: 'cancelled' });
    expect(stack.justifacts.order(order.orderId).status).toBe('CANCELLED');
    // Ashby cancelled it itself: no update follows (the Justifacts cancellation's callback included).
    expect(stack.ashby.updates(a.id).filter((u) => u.cancelled_reason !== undefined)).toEqual([]);
    expect(statuses(a.id)).toEqual([RECEIVED]);
    // The check ended: the same candidate and package can be started again.
    const restarted = await started(conn, { candidateAshbyId: a.candidateAshbyId, email: a.email });
    expect(restarted.id).not.toBe(a.id);
  });

  it('ends the check in Error (access-denied) without retrying when Ashby revokes the API key', async () => {
    const revoked = await connect();
    const a = await started(revoked);
    const order = await waitForJustifactsOrder(stack, a.id);
    await waitForStatuses(a.id, [RECEIVED]);

    stack.ashby.revokeApiKey(revoked.ashbyApiKey);
    await stack.justifacts.setStatus(order.orderId, 'APPLICANT_STARTED');

    const state = await eventually(
      async () => {
        const s = await handle(revoked, a.id).query(checkStateQuery);
        return s.status === 'Error' ? s : undefined;
      },
      30_000,
      'the check in Error',
    );
    expect(state.history.at(-1)).toMatchObject({ status: 'Error', reason: 'access-denied' });
    const result = (await handle(revoked, a.id).result()) as CheckState;
    expect(result.status).toBe('Error');
    // The vendor's In-Progress is recorded; publishing it was denied, and that ended the check.
    expect(result.history.map((h) => [h.status, h.reason])).toEqual([
      ['Pending', undefined],
      ['In-Progress', undefined],
      ['Error', 'access-denied'],
    ]);
    // One refused update: the denied call was not retried.
    const refused = stack.ashby.rejectedUpdates().filter((r) => JSON.stringify(r.body).includes(a.id));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ status: 401, errors: ['invalid_api_key'] });
    expect(statuses(a.id)).toEqual([RECEIVED]);
    expect(stack.ashby.assessment(a.id)).toMatchObject({ cancelled: false, cancelledReason: null });
  });

  /** Waits for the assessment to be cancelled in Ashby; returns the reason Ashby shows. */
  const waitForCancelled = (assessmentId: string) =>
    eventually(
      () => {
        const state = stack.ashby.assessment(assessmentId);
        return state.cancelled ? state.cancelledReason : undefined;
      },
      30_000,
      'the assessment cancelled in Ashby',
    );

  it('cancels the assessment in Ashby with a reason when Justifacts cancels the order', async () => {
    const a = await started(conn);
    const order = await waitForJustifactsOrder(stack, a.id);
    await stack.justifacts.setStatus(order.orderId, 'APPLICANT_STARTED');
    await waitForStatuses(a.id, [RECEIVED, 'Started']);

    await stack.justifacts.setStatus(order.orderId, 'CANCELLED');
    const reason = await waitForCancelled(a.id);
    expect(reason).toMatch(/^Justifacts ended the background check without results/);
    expect(reason).toMatch(/start a new assessment/);
    for (const pii of ['Grace', 'Hopper', a.email]) expect(reason).not.toContain(pii);

    const result = (await handle(conn, a.id).result()) as CheckState;
    expect(result.history.at(-1)).toMatchObject({ status: 'Error', reason: 'vendor-ended' });
    const last = stack.ashby.updates(a.id).at(-1)!;
    expect(last).toMatchObject({ cancelled_reason: { identifier: 'cancelled_reason', value: reason } });
    expect(statuses(a.id)).toEqual([RECEIVED, 'Started', undefined]);
  });

  it('cancels the assessment in Ashby with a reason when the check fails (Justifacts revoked the API key)', async () => {
    const failing = await connect();
    const a = await started(failing);
    const order = await waitForJustifactsOrder(stack, a.id);
    await waitForStatuses(a.id, [RECEIVED]);

    stack.justifacts.revokeApiKey(failing.justifactsApiKey);
    // The callback makes the check read the order, which Justifacts now refuses (401).
    await stack.justifacts.setStatus(order.orderId, 'APPLICANT_STARTED');
    const reason = await waitForCancelled(a.id);
    expect(reason).toMatch(/^The Justifacts background check stopped/);
    expect(reason).toMatch(/API key/);
    for (const pii of ['Grace', 'Hopper', a.email]) expect(reason).not.toContain(pii);

    const result = (await handle(failing, a.id).result()) as CheckState;
    expect(result.history.map((h) => [h.status, h.reason])).toEqual([
      ['Pending', undefined],
      ['Error', 'failed'],
    ]);
    expect(statuses(a.id)).toEqual([RECEIVED, undefined]);
  });

  it('still ends the check in Error when Ashby refuses the cancellation of a failed check for good', async () => {
    const failing = await connect();
    const a = await started(failing);
    const order = await waitForJustifactsOrder(stack, a.id);
    await waitForStatuses(a.id, [RECEIVED]);

    stack.justifacts.revokeApiKey(failing.justifactsApiKey);
    stack.ashby.failUpdates(1, 400);
    await stack.justifacts.setStatus(order.orderId, 'APPLICANT_STARTED');
    const result = (await handle(failing, a.id).result()) as CheckState;
    expect(result.status).toBe('Error');
    expect(result.history.at(-1)).toMatchObject({ status: 'Error', reason: 'failed' });
    expect(stack.ashby.rejectedUpdates().filter((r) => JSON.stringify(r.body).includes(a.id))).toEqual([
      expect.objectContaining({ status: 400 }),
    ]);
  });
});
