import type { CheckState } from '../../src/workflows/definitions';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { runFaultScenario, summaryLines } from '../support/fault-scenario';
import { startStack, type Stack } from '../support/stack';
import { eventually } from '../support/waits';

/**
 * Vendor and ATS trouble in miniature: the Lever and Certn emulators fault 30% of their API calls (10% answered
 * 500/502/503, 10% answered 429, half of the 429/503 with Retry-After, 10% answered late) and drop 30% of their
 * callbacks. Every check still ends in `CERTN - Complete` (quick retries of reads and of 429s inside a call, the
 * activity retry with backoff for the rest, Retry-After honoured, Lever's webhook retries for a lost stage change,
 * the poll timer for a lost Certn callback) with one order per candidate and nothing written twice.
 * `scripts/faults/vendor-faults.ts` runs the long version (100 checks by default) and prints the figures.
 */
process.env.TEST_SDK_LOG_LEVEL ??= 'ERROR'; // not a warning per failed activity attempt: they are the point

const CHECKS = 20;

describe('Lever → Certn under injected faults (30% of API calls and of callbacks)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      vendorAutoAdvanceMs: 400,
      pollIntervalMs: 1000,
      maxAttempts: 30,
      // Lever's own 10/s would make the bulk move take ~40 s by itself; its limit has tests of its own.
      leverRateLimit: { perSecond: 100, burst: 200 },
      leverLimiter: { perSecond: 90, burst: 150 },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('ends a check in Error without retrying when Certn refuses the order (400), with a note saying what to do', async () => {
    const conn = await stack.createConnection();
    try {
      // The Certn team is set up again: the connection's package no longer exists there.
      stack.certn.addTeam({
        apiKey: conn.certnApiKey,
        packages: [{ name: 'Other', check_types: ['CREDIT_CHECK'] }],
      });
      const opp = stack.lever.createOpportunity({
        name: 'Ada Lovelace',
        emails: ['ada.permanent@example.com'],
        stageId: stack.lever.stageIdByName('Phone screen'),
      });
      await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
      const handle = stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id));
      await eventually(
        async () => ((await handle.describe()).status.name === 'RUNNING' ? undefined : true),
        30_000,
        'the check to end',
      );
      const result = (await handle.result()) as CheckState;
      expect(result.status).toBe('Error');
      expect(result.history.at(-1)).toMatchObject({ status: 'Error', reason: 'failed' });
      // Certn was asked once: a 400 is not retried.
      const { events } = await handle.fetchHistory();
      const orderEvent = events?.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'orderCheck',
      );
      const orderAttempts = events
        ?.filter(
          (e) =>
            String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(orderEvent?.eventId),
        )
        .map((e) => e.activityTaskStartedEventAttributes?.attempt);
      expect(orderAttempts).toEqual([1]);
      const notes = stack.lever.notes(opp.id);
      expect(notes).toHaveLength(1);
      expect(notes[0]?.secret).toBe(true);
      expect(notes[0]?.value).toMatch(/^Certn background check failed: Certn answered 400/);
      expect(notes[0]?.value).toMatch(/check the candidate's details .* and the connection's Certn settings/);
      expect(notes[0]?.value).toMatch(/move the candidate into the trigger stage again/);
    } finally {
      stack.lever.removeWebhook(conn.webhookId); // the next test's candidates are not this connection's
    }
  });

  it(`brings ${CHECKS} checks of one connection to CERTN - Complete, one order each, nothing duplicated`, async () => {
    const figures = await runFaultScenario(stack, {
      checks: CHECKS,
      faults: {
        errorRate: 0.1,
        rateLimitRate: 0.1,
        retryAfterShare: 0.5,
        retryAfterSeconds: 1,
        slowRate: 0.1,
        slowMs: 250,
        dropCallbackRate: 0.3,
        seed: 20_241_123,
      },
      // A bound, not a timing: checks close in about 40 s, but a run of unlucky faults on one activity (backoff
      // 1 s doubling: attempt 7 starts 63 s after the first failure) can take a check past a minute.
      timeoutMs: 150_000,
    });
    console.info(summaryLines(figures).join('\n'));

    // The faults happened, on both sides.
    for (const stats of [figures.lever, figures.certn]) {
      expect(stats.errors[500] + stats.errors[502] + stats.errors[503]).toBeGreaterThan(0);
      expect(stats.slow).toBeGreaterThan(0);
      expect(stats.droppedCallbacks).toBeGreaterThan(0);
    }
    expect(figures.lever.rateLimited + figures.certn.rateLimited).toBeGreaterThan(0);
    expect(figures.certnCallbacks.dropped).toBeGreaterThan(0);
    expect(figures.activityRetries).toBeGreaterThan(0);

    expect(figures.outcomes.filter((o) => o.status !== 'Complete')).toEqual([]);
    expect(figures.completed).toBe(CHECKS);
    for (const outcome of figures.outcomes) {
      expect(outcome).toMatchObject({ statusTags: ['CERTN - Complete'], orders: 1, cases: 1 });
    }
    expect(figures.duplicates).toEqual({ orders: 0, cases: 0, statusTags: 0, notes: 0, links: 0 });
  });
});
