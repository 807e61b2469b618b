import { WorkflowNotFoundError } from '@temporalio/client';
import type { FaultSettingsInput, FaultStats } from '../../sandbox/faults';
import { checkWorkflowId, type CheckState } from '../../src/workflows/definitions';
import type { Stack } from './stack';

/**
 * N Lever → Certn checks of one connection while the Lever and Certn emulators inject faults (5xx, 429 with and
 * without Retry-After, slow answers, dropped callbacks): every check should still reach `CERTN - Complete`, with
 * one Certn order per candidate and nothing written twice. Shared by test/e2e/faults.test.ts and
 * scripts/faults/vendor-faults.ts.
 */

export interface FaultScenarioOptions {
  checks: number;
  /** Faults of both emulators (Certn's seed is `seed + 1`). */
  faults: FaultSettingsInput & { seed: number };
  /** Give up waiting for the checks after this long. */
  timeoutMs: number;
  /** Progress lines (e.g. for the script); none by default. */
  progress?: (line: string) => void;
}

export interface CheckOutcome {
  opportunityId: string;
  status: string | null;
  statusTags: string[];
  /** Certn orders that created a case (not replays) for this candidate. */
  orders: number;
  /** Replayed orders (same Idempotency-Key) for this candidate. */
  replays: number;
  cases: number;
  /** Notes whose marker line (the check reference, with the results status) appears more than once. */
  duplicateNotes: number;
  /** Links beyond one per results note, or not named in any note. */
  duplicateLinks: number;
  /** Attempts beyond the first, over all of the check's activities. */
  retries: number;
  /** From the bulk move until the check closed; null if it had not by the timeout. */
  closedAfterMs: number | null;
  /** For a check that did not close: where it is (not started, or its pending activities and their last failure). */
  stuck?: string;
}

export interface FaultScenarioFigures {
  checks: number;
  completed: number;
  elapsedMs: number;
  lever: FaultStats;
  certn: FaultStats;
  /** Certn webhooks of this connection's cases: delivered, dropped (never sent). */
  certnCallbacks: { delivered: number; dropped: number };
  duplicates: { orders: number; cases: number; statusTags: number; notes: number; links: number };
  replayedOrders: number;
  activityRetries: number;
  outcomes: CheckOutcome[];
}

const CERTN_TAG = /^CERTN - /;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for the run of one check to close and returns its result; undefined if it has not by `deadline`. */
async function closedResult(
  stack: Stack,
  workflowId: string,
  deadline: number,
): Promise<CheckState | undefined> {
  const handle = stack.temporal.workflow.getHandle(workflowId);
  while (Date.now() < deadline) {
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return (await handle.result()) as CheckState;
    } catch (err) {
      // The webhook is acknowledged before the check starts (inbox relay): not found yet is expected.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    await sleep(250);
  }
  return undefined;
}

/** Where a check that did not close is: never started, or waiting on which activity after which failure. */
async function whereStuck(stack: Stack, workflowId: string): Promise<string> {
  try {
    const { raw, status } = await stack.temporal.workflow.getHandle(workflowId).describe();
    const pending = (raw.pendingActivities ?? []).map(
      (a) =>
        `${a.activityType?.name ?? '?'} attempt ${a.attempt ?? '?'} (${a.lastFailure?.message ?? 'no failure yet'})`,
    );
    return `${status.name}: ${pending.length > 0 ? pending.join('; ') : 'no pending activity'}`;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'never started';
    throw err;
  }
}

/** Attempts beyond the first over the run's activities (the history records each activity's last attempt). */
async function activityRetries(stack: Stack, workflowId: string): Promise<number> {
  const { events } = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (events ?? []).reduce(
    (sum, e) => sum + Math.max(0, (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1),
    0,
  );
}

export async function runFaultScenario(
  stack: Stack,
  options: FaultScenarioOptions,
): Promise<FaultScenarioFigures> {
  const say = options.progress ?? (() => undefined);
  const conn = await stack.createConnection();
  const stageId = (name: string) => stack.lever.stageIdByName(name);
  const posting = stack.lever.createPosting({ text: 'Fault-tolerant Engineer', tags: ['Engineering'] });
  const candidates = Array.from({ length: options.checks }, (_, i) =>
    stack.lever.createOpportunity({
      name: `Candidate ${i + 1}`,
      emails: [`faults-${i + 1}-${conn.id}@example.com`],
      tags: ['Referral'],
      postingId: posting.id,
      stageId: stageId('Phone screen'),
    }),
  );

  stack.lever.setFaults(options.faults);
  stack.certn.setFaults({ ...options.faults, seed: options.faults.seed + 1 });
  const started = Date.now();
  try {
    // A recruiter bulk-moves everyone into the trigger stage.
    await Promise.all(candidates.map((c) => stack.lever.moveToStage(c.id, stageId('Background Check'))));
    say(`${options.checks} candidates moved into Background Check`);
    const deadline = started + options.timeoutMs;
    let closed = 0;
    const closedAfter: (number | null)[] = [];
    const results = await Promise.all(
      candidates.map(async (c, i) => {
        const result = await closedResult(stack, checkWorkflowId(conn.id, c.id), deadline);
        closedAfter[i] = result === undefined ? null : Date.now() - started;
        closed += 1;
        if (closed % 10 === 0 || closed === options.checks) {
          say(
            `${closed}/${options.checks} checks closed after ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
        }
        return result;
      }),
    );
    const elapsedMs = Date.now() - started;
    const lever = stack.lever.faults().stats;
    const certn = stack.certn.faults().stats;
    stack.lever.clearFaults();
    stack.certn.clearFaults();

    const orders = stack.certn.orders().filter((o) => o.apiKey === conn.certnApiKey);
    const cases = stack.certn.cases();
    const outcomes: CheckOutcome[] = [];
    for (const [i, c] of candidates.entries()) {
      const mine = orders.filter(
        (o) => (o.body as { external_reference?: string }).external_reference === c.id,
      );
      const opportunity = stack.lever.opportunity(c.id);
      const notes = stack.lever.notes(c.id).map((n) => n.value);
      const markers = notes.map((text) => text.split('\n').at(-1) ?? '');
      const resultsNotes = notes.filter((text) => / results$/.test(text.split('\n').at(-1) ?? ''));
      const linked = opportunity.links.filter((link) => resultsNotes.some((text) => text.includes(link)));
      outcomes.push({
        opportunityId: c.id,
        status: results[i]?.status ?? null,
        statusTags: opportunity.tags.filter((t) => CERTN_TAG.test(t)),
        orders: mine.filter((o) => !o.replayed).length,
        replays: mine.filter((o) => o.replayed).length,
        cases: cases.filter((k) => k.email_address === c.emails[0]).length,
        duplicateNotes: markers.length - new Set(markers).size,
        duplicateLinks:
          opportunity.links.length - linked.length + Math.max(0, linked.length - resultsNotes.length),
        retries: results[i] === undefined ? 0 : await activityRetries(stack, checkWorkflowId(conn.id, c.id)),
        closedAfterMs: closedAfter[i] ?? null,
        ...(results[i] === undefined
          ? { stuck: await whereStuck(stack, checkWorkflowId(conn.id, c.id)) }
          : {}),
      });
    }
    const caseIds = new Set(orders.map((o) => o.caseId));
    const deliveries = stack.certn.deliveries().filter((d) => caseIds.has(d.caseId));
    const sum = (f: (o: CheckOutcome) => number) => outcomes.reduce((s, o) => s + f(o), 0);
    return {
      checks: options.checks,
      completed: outcomes.filter(
        (o) => o.status === 'Complete' && o.statusTags.length === 1 && o.statusTags[0] === 'CERTN - Complete',
      ).length,
      elapsedMs,
      lever,
      certn,
      certnCallbacks: {
        delivered: deliveries.filter((d) => d.status === 'delivered').length,
        dropped: deliveries.filter((d) => d.status === 'dropped').length,
      },
      duplicates: {
        orders: sum((o) => Math.max(0, o.orders - 1)),
        cases: sum((o) => Math.max(0, o.cases - 1)),
        statusTags: sum((o) => Math.max(0, o.statusTags.length - 1)),
        notes: sum((o) => o.duplicateNotes),
        links: sum((o) => o.duplicateLinks),
      },
      replayedOrders: sum((o) => o.replays),
      activityRetries: sum((o) => o.retries),
      outcomes,
    };
  } finally {
    stack.lever.clearFaults();
    stack.certn.clearFaults();
  }
}

const faultText = (s: FaultStats) =>
  `${s.calls} calls: ${s.errors[500]}×500 ${s.errors[502]}×502 ${s.errors[503]}×503, ${s.rateLimited}×429, ` +
  `${s.withRetryAfter} with Retry-After, ${s.slow} slow, ${s.droppedCallbacks}/${s.callbacks} callbacks dropped`;

/** The figures on a few lines: faults injected per kind, checks, completed, duplicates. */
export function summaryLines(f: FaultScenarioFigures): string[] {
  const d = f.duplicates;
  const times = f.outcomes
    .map((o) => o.closedAfterMs)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  const at = (q: number) =>
    ((times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0) / 1000).toFixed(1);
  return [
    `faults summary: ${f.completed}/${f.checks} checks reached CERTN - Complete in ${(f.elapsedMs / 1000).toFixed(1)} s; ` +
      `duplicates: orders ${d.orders}, cases ${d.cases}, status tags ${d.statusTags}, notes ${d.notes}, links ${d.links}; ` +
      `${f.activityRetries} activity retries, ${f.replayedOrders} replayed orders; ` +
      `check closed after p50 ${at(0.5)} s, p90 ${at(0.9)} s, max ${at(1)} s`,
    `  Lever faults: ${faultText(f.lever)}`,
    `  Certn faults: ${faultText(f.certn)}; webhooks of these cases delivered ${f.certnCallbacks.delivered}, dropped ${f.certnCallbacks.dropped}`,
    ...f.outcomes.flatMap((o) =>
      o.stuck === undefined ? [] : [`  not closed: ${o.opportunityId}: ${o.stuck}`],
    ),
  ];
}
