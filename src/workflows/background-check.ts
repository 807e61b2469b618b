import { condition, log, patched, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { FAILURE } from '../domain/failures';
import { isTerminal, transition, type CheckStatus } from '../domain/status';
import { CHECK_STATUS_KEY } from '../temporal/search-attributes';
import type { StatusReason } from '../domain/candidate';
import {
  cancelCheckSignal,
  checkStateQuery,
  SIGNAL_ARGUMENT_REQUIRED_PATCH,
  STATUS_IN_ONE_STEP_PATCH,
  vendorEventSignal,
  type BackgroundCheckInput,
  type CancelRequest,
  type CheckState,
  type StatusEntry,
  type VendorEvent,
} from './definitions';
import { externalCalls, failureMessage, failureType, isFinalFailure } from './failures';

/**
 * One background check of one candidate: decide what to order (or why not), order it from the vendor, follow
 * the vendor's progress (callbacks as signals, with a polling timer as a safety net) and mirror each status and
 * the results to the ATS. Everything vendor- or ATS-specific happens in activities, behind the adapters.
 */
export async function backgroundCheck(input: BackgroundCheckInput): Promise<CheckState> {
  // Calls to the ATS and vendors: short attempts, retried with backoff (about half an hour by default).
  const acts = externalCalls(input.maxAttempts);
  const ref = { connectionId: input.connectionId, subjectId: input.subjectId };
  const state: CheckState = { status: null, history: [] };
  let vendorEvents = 0;
  let cancel: CancelRequest | undefined;
  /** Status changes after the order take one activity (see STATUS_IN_ONE_STEP_PATCH); set once ordered. */
  let oneStep = false;

  /** A signal without its argument was not sent with the keys: ignored (see SIGNAL_ARGUMENT_REQUIRED_PATCH). */
  const unsigned = (signal: string, argument: unknown, valid: boolean): boolean => {
    if (valid || !patched(SIGNAL_ARGUMENT_REQUIRED_PATCH)) return false;
    log.warn('ignored a signal without a valid argument', { signal, argument: typeof argument });
    return true;
  };
  setHandler(vendorEventSignal, (event: VendorEvent | undefined) => {
    if (unsigned(vendorEventSignal.name, event, typeof event?.eventId === 'string')) return;
    vendorEvents += 1;
  });
  setHandler(cancelCheckSignal, (request: CancelRequest | undefined) => {
    if (unsigned(cancelCheckSignal.name, request, request?.by === 'ats' || request?.by === 'admin')) return;
    cancel ??= request ?? { by: 'ats' };
  });
  setHandler(checkStateQuery, () => state);

  /** Moves the state machine forward and shows the new status in the ATS; ignored moves change nothing. */
  async function moveTo(
    next: CheckStatus,
    options: {
      reason?: StatusReason;
      detail?: string;
      publish?: boolean;
      /** With `oneStep`: the vendor case whose results this change publishes, and why the vendor ended it. */
      resultsOf?: string;
      vendorEnded?: string;
    } = {},
  ): Promise<boolean> {
    if (transition(state.status, next).kind === 'ignored') return false;
    state.status = next;
    const now = new Date();
    const entry: StatusEntry = { status: next, at: now.toISOString() };
    if (options.reason !== undefined) entry.reason = options.reason;
    if (options.detail !== undefined) entry.detail = options.detail;
    state.history.push(entry);
    upsertSearchAttributes([{ key: CHECK_STATUS_KEY, value: next }]);
    if (oneStep) {
      await acts.applyStatus({
        ...ref,
        seq: state.history.length,
        status: next,
        reason: options.reason,
        detail: options.detail,
        at: now.getTime(),
        publish: options.publish !== false,
        resultsOf: options.resultsOf,
        vendorEnded: options.vendorEnded,
      });
      return true;
    }
    await acts.recordStatus({ ...ref, seq: state.history.length, status: next, detail: options.detail });
    if (options.publish !== false) {
      await acts.publishStatus({
        ...ref,
        status: next,
        reason: options.reason,
        at: now.getTime(),
        first: state.history.length === 1,
      });
    }
    return true;
  }

  /**
   * Stops at the request of the ATS (which already knows: nothing is shown there) or of an admin who deleted the
   * connection (the ATS shows the end, and a note tells the recruiter why). The vendor order, if any, is cancelled.
   */
  async function stopOnRequest(request: CancelRequest, externalId: string | undefined): Promise<void> {
    if (externalId !== undefined) await acts.cancelOrder({ ...ref, externalId });
    if (request.by === 'ats') {
      await moveTo('Error', { reason: 'cancelled', detail: 'cancelled by the ATS', publish: false });
      return;
    }
    await moveTo('Error', { reason: 'integration-removed', detail: 'cancelled: the connection was deleted' });
    await acts.addCheckNote({ ...ref, kind: 'cancelled', ordered: externalId !== undefined });
  }

  try {
    const plan = await acts.prepareCheck(ref);
    if (plan.kind === 'not-at-trigger') {
      // Nothing is written to the ATS (prepareCheck logged why): a forged trigger learns nothing, and the
      // candidate's profile gets no noise.
      await moveTo('Error', {
        reason: 'not-in-trigger-stage',
        detail: 'nothing ordered: the ATS does not show the candidate in the trigger stage',
        publish: false,
      });
      return state;
    }
    if (plan.kind === 'refuse') {
      await moveTo(plan.status, { reason: plan.reason, detail: plan.note ?? plan.reason });
      if (plan.note !== null) await acts.addCheckNote({ ...ref, kind: 'refused', detail: plan.note });
      return state;
    }
    state.packageName = plan.packageName;
    if (cancel !== undefined) {
      await stopOnRequest(cancel, undefined);
      return state;
    }
    const order = await acts.orderCheck({ ...ref, plan });
    if (order.kind === 'refused') {
      // The activity already put the vendor's explanation on the candidate.
      await moveTo('Rejected', { reason: 'refused', detail: 'the vendor refused the order' });
      return state;
    }
    const { externalId } = order;
    state.externalId = externalId;
    oneStep = patched(STATUS_IN_ONE_STEP_PATCH);
    await moveTo('Pending', { detail: `ordered package ${plan.packageName}` });

    while (state.status !== null && !isTerminal(state.status)) {
      const progress = await acts.fetchProgress({ ...ref, externalId });
      const advances = transition(state.status, progress.status).kind === 'moved';
      if (oneStep) {
        await moveTo(progress.status, {
          reason: progress.reason,
          detail: progress.vendorStatus,
          resultsOf: advances && progress.resultsAvailable ? externalId : undefined,
          vendorEnded: advances && progress.status === 'Error' ? progress.vendorStatus : undefined,
        });
      } else {
        const at = new Date().getTime();
        if (advances && progress.resultsAvailable) {
          await acts.publishResults({ ...ref, externalId, status: progress.status, at });
        }
        if (advances && progress.status === 'Error') {
          await acts.addCheckNote({ ...ref, kind: 'vendor-ended', detail: progress.vendorStatus });
        }
        await moveTo(progress.status, { reason: progress.reason, detail: progress.vendorStatus });
      }
      if (isTerminal(progress.status)) break;
      // A callback wakes us at once; without one we ask the vendor again after the poll interval.
      await condition(() => vendorEvents > 0 || cancel !== undefined, input.pollIntervalMs);
      vendorEvents = 0;
      if (cancel !== undefined) await stopOnRequest(cancel, externalId);
    }
  } catch (err) {
    const type = failureType(err);
    const message = failureMessage(err);
    if (type === FAILURE.AtsAccessDenied) {
      // We can no longer write to this ATS account: record the end, do not retry, do not touch the ATS.
      log.error('the ATS denied access; the check ends in Error', { connectionId: ref.connectionId });
      await moveTo('Error', { reason: 'access-denied', detail: message, publish: false });
      return state;
    }
    log.error('check failed', { connectionId: ref.connectionId, failureType: type ?? 'unknown' });
    const reason: StatusReason = isFinalFailure(type) ? 'failed' : 'communication';
    await moveTo('Error', { reason, detail: message });
    await acts.addCheckNote({ ...ref, kind: 'failed', detail: message });
  }
  return state;
}
