import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FAILURE } from '../domain/failures';
import { isTerminal, transition, type CheckStatus } from '../domain/status';
import { CHECK_STATUS_KEY } from '../temporal/search-attributes';
import type { StatusReason } from '../vendors/types';
import {
  checkStateQuery,
  vendorEventSignal,
  type BackgroundCheckInput,
  type CheckState,
  type StatusEntry,
} from './definitions';

/** Calls to Lever and vendors: short attempts, retried with backoff for about half an hour. */
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 20,
  },
});

/** Failures caused by our own inputs or by revoked access: no retry can fix them. */
function failureType(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * One background check of one candidate opportunity: decide the package, order it from the vendor, follow the
 * vendor's progress (callbacks as signals, with a polling timer as a safety net) and mirror each status to the ATS.
 */
export async function backgroundCheck(input: BackgroundCheckInput): Promise<CheckState> {
  const ref = { connectionId: input.connectionId, opportunityId: input.opportunityId };
  const state: CheckState = { status: null, history: [] };
  let vendorEvents = 0;

  setHandler(vendorEventSignal, () => {
    vendorEvents += 1;
  });
  setHandler(checkStateQuery, () => state);

  /** Moves the state machine forward and mirrors the new status; ignored moves change nothing. */
  async function moveTo(
    next: CheckStatus,
    options: { reason?: StatusReason; detail?: string; tag?: boolean } = {},
  ) {
    if (transition(state.status, next).kind === 'ignored') return false;
    state.status = next;
    const entry: StatusEntry = { status: next, at: new Date().toISOString() };
    if (options.reason !== undefined) entry.reason = options.reason;
    if (options.detail !== undefined) entry.detail = options.detail;
    state.history.push(entry);
    upsertSearchAttributes([{ key: CHECK_STATUS_KEY, value: next }]);
    await acts.recordStatus({ ...ref, seq: state.history.length, status: next, detail: options.detail });
    if (options.tag !== false) await acts.applyStatusTag({ ...ref, status: next, reason: options.reason });
    return true;
  }

  try {
    const plan = await acts.prepareCheck(ref);
    state.packageName = plan.packageName;
    if (!plan.hasEmail) {
      await moveTo('Error', { reason: 'no-email', detail: 'the candidate has no email address' });
      return state;
    }
    const { externalId } = await acts.orderCheck({
      ...ref,
      packageRef: plan.packageRef,
      packageName: plan.packageName,
    });
    state.externalId = externalId;
    await moveTo('Pending', { detail: `ordered package ${plan.packageName}` });

    while (state.status !== null && !isTerminal(state.status)) {
      const progress = await acts.fetchProgress({ connectionId: ref.connectionId, externalId });
      const advances = transition(state.status, progress.status).kind === 'moved';
      if (
        advances &&
        progress.resultsAvailable &&
        (progress.status === 'Partial' || progress.status === 'Complete')
      ) {
        await acts.attachReport({ ...ref, externalId, status: progress.status });
      }
      if (advances && progress.status === 'Error') {
        await acts.addCheckNote({ ...ref, kind: 'vendor-ended', detail: progress.vendorStatus });
      }
      await moveTo(progress.status, { reason: progress.reason, detail: progress.vendorStatus });
      if (isTerminal(progress.status)) break;
      // A callback wakes us at once; without one we ask the vendor again after the poll interval.
      await condition(() => vendorEvents > 0, input.pollIntervalMs);
      vendorEvents = 0;
    }
  } catch (err) {
    const type = failureType(err);
    const message = failureMessage(err);
    if (type === FAILURE.LeverAccessDenied) {
      // We can no longer write to this Lever account: record the end, do not retry, do not touch the ATS.
      log.error('Lever denied access; the check ends in Error', { connectionId: ref.connectionId });
      await moveTo('Error', { reason: 'access-denied', detail: message, tag: false });
      return state;
    }
    log.error('check failed', { connectionId: ref.connectionId, failureType: type ?? 'unknown' });
    await moveTo('Error', { reason: 'failed', detail: message });
    await acts.addCheckNote({ ...ref, kind: 'failed', detail: message });
  }
  return state;
}
