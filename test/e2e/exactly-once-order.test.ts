import { randomUUID } from 'node:crypto';
import type { CheckState } from '../../src/workflows/definitions';
import { checkStateQuery, checkWorkflowId } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { eventually, waitForTag } from '../support/waits';

/**
 * Exactly once under retries: a Certn order whose answer is lost to the client's timeout is ordered once (the
 * retry carries the same Idempotency-Key, `workflowId/runId`, and Certn answers with the same case), and a Lever
 * write that took effect but whose answer was an error (so the activity retries) is not written twice: status tag,
 * results note, report link, explanation note.
 */

// Short enough that the test does not wait long for the lost answer; read by requestJson at each call.
const REQUEST_TIMEOUT_MS = 1500;
process.env.VENDOR_REQUEST_TIMEOUT_MS = String(REQUEST_TIMEOUT_MS);

process.env.TEST_SDK_LOG_LEVEL ??= 'ERROR'; // the retries are the point: no warning for each

const CERTN_TAG = /^CERTN - /;

describe('exactly once: orders, tags, notes and links when calls are retried', () => {
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
  const handleFor = (opportunityId: string) =>
    stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opportunityId));

  /** The attempt that completed each run of the activity, in order (1 = not retried). */
  async function attempts(opportunityId: string, activity: string): Promise<number[]> {
    const { events } = await handleFor(opportunityId).fetchHistory();
    const scheduled = new Set<string>();
    const result: number[] = [];
    for (const event of events ?? []) {
      if (event.activityTaskScheduledEventAttributes?.activityType?.name === activity) {
        scheduled.add(String(event.eventId));
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started && scheduled.has(String(started.scheduledEventId))) result.push(started.attempt ?? 0);
    }
    return result;
  }

  /** Waits until the check has fetched the case and parked again, i.e. every write for the status is done. */
  async function waitUntilParked(opportunityId: string) {
    await eventually(
      async () => {
        const { events } = await handleFor(opportunityId).fetchHistory();
        const last = events?.at(-1);
        return last?.timerStartedEventAttributes != null || last?.workflowTaskCompletedEventAttributes != null
          ? true
          : undefined;
      },
      30_000,
      'the check to wait for Certn',
    );
  }

  async function closedResult(opportunityId: string): Promise<CheckState> {
    const handle = handleFor(opportunityId);
    await eventually(
      async () => ((await handle.describe()).status.name === 'RUNNING' ? undefined : true),
      30_000,
      'the check to finish',
    );
    return (await handle.result()) as CheckState;
  }

  async function startCheck() {
    const opp = stack.lever.createOpportunity({
      name: 'Katherine Johnson',
      emails: [`katherine-${randomUUID()}@example.com`],
      tags: ['Referral'],
      stageId: stageId('Phone screen'),
    });
    await stack.lever.moveToStage(opp.id, stageId('Background Check'));
    await waitForTag(() => certnTags(opp.id), 'CERTN - Pending');
    const caseId = (await handleFor(opp.id).query(checkStateQuery)).externalId;
    if (caseId === undefined) throw new Error('the check has no Certn case');
    await waitUntilParked(opp.id);
    return { opp, caseId, email: opp.emails[0] ?? '' };
  }

  const ordersFor = (opportunityId: string) =>
    stack.certn
      .orders()
      .filter((o) => (o.body as { external_reference?: string }).external_reference === opportunityId);

  it('orders once when Certn accepted the order but its answer came after the client gave up', async () => {
    // Certn takes the order, then answers well after the client's timeout.
    stack.certn.delayNextResponse(REQUEST_TIMEOUT_MS + 2500, { method: 'POST', path: '/cases/order' });
    const { opp, caseId, email } = await startCheck();

    const orders = ordersFor(opp.id);
    const { workflowId, runId } = await handleFor(opp.id)
      .describe()
      .then((d) => ({ workflowId: d.workflowId, runId: d.runId }));
    expect(orders.length).toBeGreaterThanOrEqual(2);
    expect(orders[0]).toMatchObject({ replayed: false, caseId });
    expect(orders.slice(1).every((o) => o.replayed && o.caseId === caseId)).toBe(true);
    expect(new Set(orders.map((o) => o.idempotencyKey))).toEqual(new Set([`${workflowId}/${runId}`]));
    expect(stack.certn.cases().filter((c) => c.email_address === email)).toHaveLength(1);
    expect(stack.certn.faults().stats.slow).toBeGreaterThanOrEqual(1);
    // The first attempt timed out; a retry got the same case.
    expect((await attempts(opp.id, 'orderCheck'))[0]).toBeGreaterThanOrEqual(2);

    await stack.certn.setStatus(caseId, 'COMPLETE');
    const result = await closedResult(opp.id);
    expect(result).toMatchObject({ status: 'Complete', externalId: caseId });
    expect(certnTags(opp.id)).toEqual(['CERTN - Complete']);
    expect(stack.certn.cases().filter((c) => c.email_address === email)).toHaveLength(1);
  });

  it('adds the status tag once when Lever applied it but answered 500', async () => {
    stack.lever.failNextAfterWrite(1, { method: 'POST', path: '/addTags' });
    const { opp } = await startCheck();
    expect(stack.lever.faults().stats.failedAfterWrite).toBe(1);
    expect(stack.lever.faults().pending.failNextAfterWrite).toBe(0);
    // The status change (one activity: the status log and the tag) was retried once.
    expect(await attempts(opp.id, 'applyStatus')).toEqual([2]);
    expect(certnTags(opp.id)).toEqual(['CERTN - Pending']);
  });

  it.each([
    ['the results note', '/notes'],
    ['the report link', '/addLinks'],
  ])(
    'writes one results note and one report link when Lever saved %s but answered 500',
    async (_what, path) => {
      const { opp, caseId } = await startCheck();
      const before = stack.lever.faults().stats.failedAfterWrite;
      stack.lever.failNextAfterWrite(1, { method: 'POST', path });

      await stack.certn.setStatus(caseId, 'COMPLETE');
      expect((await closedResult(opp.id)).status).toBe('Complete');
      expect(stack.lever.faults().stats.failedAfterWrite).toBe(before + 1);
      // Pending's change ran once; Complete's (results note, link, status log, tag) was retried once.
      expect(await attempts(opp.id, 'applyStatus')).toEqual([1, 2]);

      const notes = stack.lever.notes(opp.id).filter((n) => n.value.includes('Complete results'));
      expect(notes).toHaveLength(1);
      const links = stack.lever.opportunity(opp.id).links;
      expect(links).toHaveLength(1);
      expect(notes[0]?.value).toContain(links[0]);
      expect(certnTags(opp.id)).toEqual(['CERTN - Complete']);
    },
  );

  it('writes the note explaining why a check ended once when Lever saved it but answered 500', async () => {
    const { opp, caseId } = await startCheck();
    stack.lever.failNextAfterWrite(1, { method: 'POST', path: '/notes' });

    await stack.certn.setStatus(caseId, 'CANCELLED');
    expect((await closedResult(opp.id)).status).toBe('Error');
    // Pending's change ran once; Error's (the note, the status log) was retried once.
    expect(await attempts(opp.id, 'applyStatus')).toEqual([1, 2]);
    const notes = stack.lever.notes(opp.id).filter((n) => n.value.includes('CANCELLED'));
    expect(notes).toHaveLength(1);
    expect(notes[0]?.secret).toBe(true);
    expect(certnTags(opp.id)).toEqual(['CERTN - Pending']);
  });
});
