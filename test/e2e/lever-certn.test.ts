import { leverSignature } from '../../src/integrations/signature';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { waitForCheckStatus, waitForInboxOutcomes, waitForOnlyTag } from '../support/waits';

const CERTN_TAG = /^CERTN - /;

describe('Lever → Certn end to end (real HTTP, Temporal dev server, PostgreSQL)', () => {
  let stack: Stack;
  let conn: Awaited<ReturnType<Stack['createConnection']>>;

  beforeAll(async () => {
    stack = await startStack();
    conn = await stack.createConnection();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const stageId = (name: string) => stack.lever.stageIdByName(name);
  const certnTags = (opportunityId: string) =>
    stack.lever.opportunity(opportunityId).tags.filter((t) => CERTN_TAG.test(t));
  const casesFor = (email: string) => stack.certn.cases().filter((c) => c.email_address === email);
  const inboxCount = async (connectionId: string) =>
    Number(
      (
        await stack.pool.query<{ n: string }>(
          'SELECT count(*) AS n FROM webhook_inbox WHERE connection_id = $1',
          [connectionId],
        )
      ).rows[0]?.n,
    );
  function candidate(overrides: { emails?: string[]; tags?: string[] } = {}) {
    const posting = stack.lever.createPosting({ text: 'Site Reliability Engineer', tags: ['Engineering'] });
    return stack.lever.createOpportunity({
      name: 'Ada Lovelace',
      emails: overrides.emails ?? [`ada-${Math.random().toString(36).slice(2)}@example.com`],
      tags: overrides.tags ?? ['Referral'],
      postingId: posting.id,
      stageId: stageId('Phone screen'),
    });
  }

  it('orders the check, follows Certn to Complete, keeps exactly one CERTN tag and adds the report link', async () => {
    const opp = candidate();
    const [delivery] = await stack.lever.moveToStage(opp.id, stageId('Background Check'));
    expect(delivery?.attempts.at(-1)?.status).toBe(202);

    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Pending');
    const [certnCase] = casesFor(opp.emails[0]!);
    expect(certnCase).toBeDefined();
    const caseId = certnCase!.id;
    expect(certnCase!.package_id).toBe(conn.packages[0]!.id);

    await stack.certn.advance(caseId); // applicant started: In-Progress, Certn has no tag for it
    await waitForCheckStatus(stack, conn.id, opp.id, 'In-Progress');
    expect(certnTags(opp.id)).toEqual(['CERTN - Pending']);
    await stack.certn.advance(caseId); // submitted
    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Analyzing');
    await stack.certn.advance(caseId); // in progress
    await stack.certn.advance(caseId); // partial results
    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Partial');
    await stack.certn.advance(caseId); // complete
    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Complete');

    const final = stack.lever.opportunity(opp.id);
    expect(certnTags(opp.id)).toEqual(['CERTN - Complete']);
    expect(final.tags).toEqual(expect.arrayContaining(['Referral', 'Engineering']));
    expect(final.links.length).toBeGreaterThanOrEqual(1);
    const reportLink = final.links.at(-1)!;
    const pdf = await fetch(reportLink);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toContain('application/pdf');
    const notes = stack.lever.notes(opp.id);
    expect(
      notes.some((n) => n.secret && n.value.includes(reportLink) && n.value.includes('Complete results')),
    ).toBe(true);

    const handle = stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id));
    const result = (await handle.result()) as { status: string; history: { status: string }[] };
    expect(result.status).toBe('Complete');
    expect(result.history.map((h) => h.status)).toEqual([
      'Pending',
      'In-Progress',
      'Analyzing',
      'Partial',
      'Complete',
    ]);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([
        ['BgcKind', 'backgroundCheck'],
        ['BgcStatus', 'Complete'],
        ['BgcVendor', 'certn'],
        ['BgcConnection', conn.id],
      ]),
    );
    const log = await stack.pool.query(
      'SELECT status FROM check_status_log WHERE connection_id = $1 AND subject_id = $2 ORDER BY seq',
      [conn.id, opp.id],
    );
    expect(log.rows.map((r: { status: string }) => r.status)).toEqual([
      'Pending',
      'In-Progress',
      'Analyzing',
      'Partial',
      'Complete',
    ]);
  });

  it('orders the package named by an opportunity tag instead of the default', async () => {
    const opp = candidate({ tags: ['Executive Screening'] });
    await stack.lever.moveToStage(opp.id, stageId('Background Check'));
    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Pending');
    expect(casesFor(opp.emails[0]!)[0]?.package_id).toBe(conn.packages[1]!.id);
  });

  it('starts one check for a redelivered webhook and answers the duplicate with 2xx', async () => {
    const opp = candidate();
    const [first] = await stack.lever.moveToStage(opp.id, stageId('Background Check'));
    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Pending');
    const again = await stack.lever.redeliver(first!.id);
    expect(again.attempts.at(-1)?.status).toBe(200);
    expect(again.body.token).toBe(first!.body.token);
    const rows = await stack.pool.query('SELECT outcome FROM webhook_inbox WHERE token = $1', [
      first!.body.token,
    ]);
    expect(rows.rows).toEqual([{ outcome: 'started' }]);
    expect(casesFor(opp.emails[0]!)).toHaveLength(1);
  });

  it('refuses a second check while one runs for the same opportunity (new token, same stage)', async () => {
    const opp = candidate();
    await stack.lever.moveToStage(opp.id, stageId('Background Check'));
    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Pending');
    const [second] = await stack.lever.moveToStage(opp.id, stageId('Background Check'));
    expect(second?.attempts.at(-1)?.status).toBe(202);
    // The second delivery is answered once recorded; its start follows and finds the check running.
    const outcomes = await waitForInboxOutcomes(stack, conn.id, opp.id);
    expect(outcomes).toEqual(['started', 'already-running']);
    expect(casesFor(opp.emails[0]!)).toHaveLength(1);
  });

  it('rejects a wrong signature with 401 problem+json and records nothing', async () => {
    const before = await inboxCount(conn.id);
    const token = 'x'.repeat(48);
    const triggeredAt = Date.now();
    for (const signature of [leverSignature('not-the-token', token, triggeredAt), undefined]) {
      const res = await fetch(conn.webhookUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          event: 'candidateStageChange',
          triggeredAt,
          token,
          signature,
          data: { opportunityId: 'o', toStageId: stageId('Background Check') },
        }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { status: number }).status).toBe(401);
    }
    expect(await inboxCount(conn.id)).toBe(before);
  });

  it('rejects a malformed body with 400 problem+json and an oversized one with 413, recording only the signed token', async () => {
    const before = await inboxCount(conn.id);
    const token = 'y'.repeat(48);
    const triggeredAt = Date.now();
    const signature = leverSignature(conn.signatureToken, token, triggeredAt);
    const post = (body: string) =>
      fetch(conn.webhookUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    const cases: [string, number][] = [
      ['{"event": ', 400],
      [
        JSON.stringify({
          event: 'candidateStageChange',
          triggeredAt,
          token,
          signature,
          pad: 'z'.repeat(200_000),
        }),
        413,
      ],
      [
        JSON.stringify({
          event: 'candidateStageChange',
          triggeredAt,
          token,
          signature,
          data: { toStageId: 's' },
        }),
        400,
      ],
      [JSON.stringify({ triggeredAt, token, signature, data: { opportunityId: 'o', toStageId: 's' } }), 400],
    ];
    for (const [body, status] of cases) {
      const res = await post(body);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    // Signed deliveries are recorded even when refused, once per token: the token is used up.
    const rows = await stack.pool.query(
      'SELECT outcome, data FROM webhook_inbox WHERE connection_id = $1 AND token = $2',
      [conn.id, token],
    );
    expect(rows.rows).toEqual([{ outcome: 'refused-invalid', data: null }]);
    expect(await inboxCount(conn.id)).toBe(before + 1);
  });

  it('answers Lever’s Verify Connection test event with 2xx and starts nothing', async () => {
    const workflowsBefore = await countWorkflows(stack, conn.id);
    const delivery = await stack.lever.verifyConnection(conn.webhookId);
    expect(delivery.body.data).toEqual({});
    expect(delivery.attempts.at(-1)?.status).toBe(200);
    const row = await stack.pool.query('SELECT outcome FROM webhook_inbox WHERE token = $1', [
      delivery.body.token,
    ]);
    expect(row.rows).toEqual([{ outcome: 'verified' }]);
    expect(await countWorkflows(stack, conn.id)).toBe(workflowsBefore);
  });

  it('starts nothing when the candidate moves into another stage', async () => {
    const opp = candidate();
    const [delivery] = await stack.lever.moveToStage(opp.id, stageId('On-site interview'));
    expect(delivery?.attempts.at(-1)?.status).toBe(200);
    const row = await stack.pool.query('SELECT outcome FROM webhook_inbox WHERE token = $1', [
      delivery!.body.token,
    ]);
    expect(row.rows).toEqual([{ outcome: 'ignored-stage' }]);
    await expect(
      stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id)).describe(),
    ).rejects.toThrow();
  });

  it('tags a candidate without email CERTN - Error (No Email), orders nothing, and a re-trigger after adding one completes', async () => {
    const opp = candidate({ emails: [] });
    await stack.lever.moveToStage(opp.id, stageId('Background Check'));
    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Error (No Email)');
    const handle = stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id));
    expect(((await handle.result()) as { status: string }).status).toBe('Error');
    const ordersBefore = stack.certn.orders().length;
    expect(
      stack.certn
        .orders()
        .filter((o) => (o.body as { external_reference?: string }).external_reference === opp.id),
    ).toHaveLength(0);

    stack.lever.setEmails(opp.id, ['ada.fixed@example.com']);
    await stack.lever.moveToStage(opp.id, stageId('Phone screen'));
    await stack.lever.moveToStage(opp.id, stageId('Background Check'));
    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Pending');
    expect(certnTags(opp.id)).toEqual(['CERTN - Pending']);
    expect(stack.certn.orders().length).toBe(ordersBefore + 1);
    const [certnCase] = casesFor('ada.fixed@example.com');
    for (let i = 0; i < 5; i++) await stack.certn.advance(certnCase!.id);
    await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Complete');
    expect(certnTags(opp.id)).toEqual(['CERTN - Complete']);
    const runs = await countWorkflows(stack, conn.id, opp.id);
    expect(runs).toBe(2);
  });
});

async function countWorkflows(stack: Stack, connectionId: string, opportunityId?: string): Promise<number> {
  const id = opportunityId ? ` AND WorkflowId = '${checkWorkflowId(connectionId, opportunityId)}'` : '';
  const { count } = await stack.temporal.workflow.count(`BgcConnection = '${connectionId}'${id}`);
  return count;
}
