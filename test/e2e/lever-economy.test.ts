import type { ApiRequestRecord } from '../../sandbox/lever-emulator';
import { checkStateQuery, checkWorkflowId } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { eventually, startedHandle, waitForCheckStatus, waitForOnlyTag } from '../support/waits';

/**
 * Lever allows 10 requests/s per API key, shared by every check of a customer: a check spends only the requests
 * its path needs. A first attempt writes without reading first (tags, notes and links); only a retry looks.
 */
describe('Lever requests of a check (economy)', () => {
  let stack: Stack;
  let conn: Awaited<ReturnType<Stack['createConnection']>>;

  beforeAll(async () => {
    stack = await startStack();
    conn = await stack.createConnection();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const certnTags = (id: string) => stack.lever.opportunity(id).tags.filter((t) => t.startsWith('CERTN - '));

  /** The requests made while `run` runs, by `METHOD route`, for this opportunity or for none. */
  async function countRequests(opportunityId: string, run: () => Promise<void>) {
    const seen: ApiRequestRecord[] = [];
    const stop = stack.lever.onRequest((r) => {
      if (r.opportunityId === undefined || r.opportunityId === opportunityId) seen.push(r);
    });
    try {
      await run();
    } finally {
      stop();
    }
    const counts: Record<string, number> = {};
    for (const r of seen) counts[`${r.method} ${r.route}`] = (counts[`${r.method} ${r.route}`] ?? 0) + 1;
    return counts;
  }

  it('a Certn check to Complete: one read of the opportunity, no posting, no note list; one add and one remove per status tag', async () => {
    const posting = stack.lever.createPosting({ text: 'Analyst', tags: ['Finance'] });
    const opp = stack.lever.createOpportunity({
      name: 'Economy Candidate',
      emails: [`economy-${stack.taskQueue}@example.com`],
      tags: ['CERTN - Complete'], // left by an earlier check: the first status replaces it without reading
      postingId: posting.id,
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    const counts = await countRequests(opp.id, async () => {
      await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
      await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Pending');
      const caseId = stack.certn.cases().find((c) => c.email_address === opp.emails[0])!.id;
      const handle = stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id));
      await stack.certn.advance(caseId); // applicant started: In-Progress, no tag
      await waitForCheckStatus(stack, conn.id, opp.id, 'In-Progress');
      await stack.certn.advance(caseId); // submitted
      await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Analyzing');
      await stack.certn.advance(caseId); // in progress
      await stack.certn.advance(caseId); // partial results
      await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Partial');
      await stack.certn.advance(caseId); // complete
      await handle.result();
    });
    expect(certnTags(opp.id)).toEqual(['CERTN - Complete']);
    expect(stack.lever.opportunity(opp.id).links).toHaveLength(2); // Partial's report link, Complete's
    expect(stack.lever.notes(opp.id)).toHaveLength(2);
    expect(counts).toEqual({
      'GET /opportunities/:id': 1,
      // Pending, Analyzing, Partial, Complete (In-Progress has no tag in Certn's presentation)
      'POST /opportunities/:id/addTags': 4,
      'POST /opportunities/:id/removeTags': 4,
      'POST /opportunities/:id/notes': 2,
      'POST /opportunities/:id/addLinks': 2,
    });
  });

  it('a first status on a candidate without status tags: one read and one addTags, nothing to remove', async () => {
    const opp = stack.lever.createOpportunity({
      name: 'Fresh Candidate',
      emails: [`economy-fresh-${stack.taskQueue}@example.com`],
      tags: ['Referral'],
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    const counts = await countRequests(opp.id, async () => {
      await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
      await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Pending');
      const handle = stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id));
      await eventually(async () => {
        const { raw } = await handle.describe();
        return (raw.pendingActivities ?? []).length === 0 ? true : undefined;
      });
    });
    expect(stack.lever.opportunity(opp.id).tags).toEqual(['Referral', 'CERTN - Pending']);
    expect(counts).toEqual({ 'GET /opportunities/:id': 1, 'POST /opportunities/:id/addTags': 1 });
  });

  it('a refused check (no email) shows its status with one read and one addTags', async () => {
    const opp = stack.lever.createOpportunity({
      name: 'No Email Candidate',
      emails: [],
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    const counts = await countRequests(opp.id, async () => {
      await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
      await (
        await startedHandle(stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id)))
      ).result();
    });
    expect(certnTags(opp.id)).toEqual(['CERTN - Error (No Email)']);
    expect(counts).toEqual({ 'GET /opportunities/:id': 1, 'POST /opportunities/:id/addTags': 1 });
  });

  it('a retried status write reads first, and the opportunity still ends with exactly one status tag', async () => {
    const opp = stack.lever.createOpportunity({
      name: 'Retry Candidate',
      emails: [`economy-retry-${stack.taskQueue}@example.com`],
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    // The first addTags (CERTN - Pending) is written, but its answer is lost: the activity is retried.
    stack.lever.failNextAfterWrite(1, { method: 'POST', path: `/v1/opportunities/${opp.id}/addTags` });
    const counts = await countRequests(opp.id, async () => {
      await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
      await waitForOnlyTag(() => certnTags(opp.id), 'CERTN - Pending');
      // Pending is shown, and no activity is left to run or retry: the check waits for Certn.
      const handle = stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id));
      await eventually(
        async () => {
          const state = await handle.query(checkStateQuery);
          const { raw } = await handle.describe();
          return state.status === 'Pending' && (raw.pendingActivities ?? []).length === 0 ? true : undefined;
        },
        30_000,
        'Pending published and nothing pending',
      );
    });
    expect(certnTags(opp.id)).toEqual(['CERTN - Pending']);
    expect(stack.lever.faults().pending.failNextAfterWrite).toBe(0);
    // The first attempt wrote without reading; the retry read what it left (Pending there, no other status tag)
    // and wrote nothing more.
    expect(counts).toEqual({
      'GET /opportunities/:id': 2,
      'POST /opportunities/:id/addTags': 1,
    });
  });
});
