import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  condition,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FAILURE } from '../domain/failures';
import { CHECK_STATUS_KEY, HIRE_STATUS, HIRE_STATUS_KEY, KIND_KEY } from '../temporal/search-attributes';
import type { OnboardingNote } from '../vendors/justworks/notes';
import type { Omission } from '../vendors/justworks/pending-hire';
import { SIGNAL_ARGUMENT_REQUIRED_PATCH } from './definitions';
import { activityRetry, externalCalls, failureMessage, failureType, isFinalFailure } from './failures';
import {
  HIRE_STATUS_ATTRIBUTE_PATCH,
  onboardingStateQuery,
  stopOnboardingSignal,
  type OnboardHireInput,
  type OnboardingState,
  type StopOnboardingRequest,
} from './onboarding-definitions';

/** After a refusal, the opportunity is read again after these waits (doubling), until the watch ends. */
export const FIRST_RECHECK_MS = 15_000;
export const MAX_RECHECK_MS = 6 * 60 * 60 * 1000;
export const WATCH_DAYS = 14;
const WATCH_MS = WATCH_DAYS * 24 * 60 * 60 * 1000;

/** Lever refused our API key: nothing can be read or written there any more. */
class LeverAccessDenied extends Error {}

/**
 * One Lever hire onboarded to Justworks (spec §5): read the hire in Lever and create a Justworks pending hire,
 * then e-mail the Justworks admins with "Manage employees" a link to review it.
 *
 * The pending hire is created once, with what Lever has at the hire: fields that depend on an offer that is
 * missing, unsigned or unusable (manager and start date without a signed offer, compensation with a type of
 * earnings other than hourly or yearly...) are left out, and the final secret note names them and says why;
 * the admin completes them in Justworks' Review & Invite (Justworks keeps the first body of a pending hire, so
 * a later signed offer could not change it anyway). Only a hire Justworks cannot take at all (no name or
 * home email) is refused, with a secret note saying what to fix. Since a hire is onboarded once ever (the
 * workflow ID rejects duplicates, so hiring the candidate again starts nothing), the workflow then keeps
 * watching: it reads the opportunity again after 15 s, doubling up to every 6 hours, for 14 days, and creates
 * the pending hire as soon as the recruiter has fixed it. A refusal with a new reason adds a new note; the
 * same reason is noted once. Lever or Justworks denying access, or a permanent error, ends the workflow; so
 * does the connection being deleted with its running work cancelled (`stopOnboardingSignal`), with a note.
 *
 * Deterministic: every read and write happens in activities; only ids, reasons and the review link (no
 * candidate data) pass through the workflow.
 */
export async function onboardHire(input: OnboardHireInput): Promise<OnboardingState> {
  // Lever and Justworks calls: short attempts, retried with backoff.
  const acts = externalCalls(input.maxAttempts);
  // One SMTP message per admin: a longer attempt that heartbeats after each admin.
  const mailer = proxyActivities<Activities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '1 minute',
    retry: activityRetry(input.maxAttempts),
  });
  const ref = { connectionId: input.connectionId, opportunityId: input.opportunityId };
  let state: OnboardingState = { status: 'running' };
  const current = (): OnboardingState => state;
  setHandler(onboardingStateQuery, current);
  let stopRequested = false;
  setHandler(stopOnboardingSignal, (request: StopOnboardingRequest | undefined) => {
    // A stop without its argument was not sent with the keys: ignored (see SIGNAL_ARGUMENT_REQUIRED_PATCH).
    if (request?.by !== 'admin' && patched(SIGNAL_ARGUMENT_REQUIRED_PATCH)) {
      log.warn('ignored a stopOnboarding signal without a valid argument', { argument: typeof request });
      return;
    }
    stopRequested = true;
  });

  function settle(next: OnboardingState): OnboardingState {
    state = next;
    const status = HIRE_STATUS[next.status];
    if (!patched(HIRE_STATUS_ATTRIBUTE_PATCH)) {
      // Replaying a status written before the hire had an attribute of its own: as it ran.
      upsertSearchAttributes([{ key: CHECK_STATUS_KEY, value: status }]);
      return state;
    }
    // A hire running across the upgrade: named (it was started without BgcKind), and its earlier status taken
    // out of the checks' BgcStatus. (The workflow info holds what this code upserted, so this is deterministic.)
    const attributes = workflowInfo().typedSearchAttributes;
    const update: SearchAttributeUpdatePair[] = [{ key: HIRE_STATUS_KEY, value: status }];
    if (attributes.get(KIND_KEY) === undefined)
      update.push({ key: KIND_KEY, value: workflowInfo().workflowType });
    if (attributes.get(CHECK_STATUS_KEY) !== undefined) update.push({ key: CHECK_STATUS_KEY, value: null });
    upsertSearchAttributes(update);
    return state;
  }

  /** Adds a secret note (once per text). Lever denying access stops everything; other failures are logged. */
  async function note(content: OnboardingNote): Promise<void> {
    try {
      await acts.addOnboardingNote(ref, content);
    } catch (err) {
      if (failureType(err) === FAILURE.AtsAccessDenied) throw new LeverAccessDenied(failureMessage(err));
      log.warn('could not add the onboarding note', { connectionId: ref.connectionId });
    }
  }

  const deadline = new Date().getTime() + WATCH_MS;
  let wait = FIRST_RECHECK_MS;
  try {
    let created: { pendingHireId: string; reviewUrl: string | null } | undefined;
    let omitted: Omission[] = [];
    while (created === undefined) {
      let reason: string;
      try {
        const outcome = await acts.createPendingHire(ref);
        if (outcome.kind === 'created') {
          created = { pendingHireId: outcome.pendingHireId, reviewUrl: outcome.reviewUrl };
          omitted = outcome.omitted;
          break;
        }
        reason = outcome.reason;
        await note({ kind: 'refused', reason, watchDays: WATCH_DAYS });
      } catch (err) {
        const type = failureType(err);
        if (type === FAILURE.AtsAccessDenied) throw new LeverAccessDenied(failureMessage(err));
        const message = failureMessage(err);
        if (isFinalFailure(type)) {
          log.error('the pending hire cannot be created', {
            connectionId: ref.connectionId,
            failureType: type,
          });
          await note(
            type === FAILURE.VendorAccessDenied
              ? { kind: 'vendor-access-denied' }
              : { kind: 'cannot-create', cause: message },
          );
          return settle({
            status: 'refused',
            reason: type === FAILURE.VendorAccessDenied ? 'vendor access denied' : message,
          });
        }
        // The ATS or the vendor unreachable even after the retries: keep watching, like a refusal.
        reason = `unreachable (${message}).`;
        await note({ kind: 'unreachable', watchDays: WATCH_DAYS });
      }
      settle({ status: 'refused', reason });
      if (new Date().getTime() + wait > deadline) {
        await note({ kind: 'gave-up', reason, watchDays: WATCH_DAYS });
        return state;
      }
      // The connection deleted with its running work cancelled: stop watching instead of waiting on.
      if (await condition(() => stopRequested, wait)) {
        await note({ kind: 'integration-removed' });
        return settle({ status: 'refused', reason: 'the integration was removed' });
      }
      wait = Math.min(wait * 2, MAX_RECHECK_MS);
    }

    const leftOut = [...new Set(omitted.flatMap((o) => o.fields))];
    let notified = 0;
    try {
      notified = (await mailer.notifyAdmins(ref, created)).notified;
    } catch (err) {
      if (failureType(err) === FAILURE.AtsAccessDenied) throw new LeverAccessDenied(failureMessage(err));
      log.error('the admins could not be e-mailed', { connectionId: ref.connectionId });
      settle({ status: 'created', ...created, notified, leftOut });
      await note({ kind: 'mail-failed', reviewUrl: created.reviewUrl, error: failureMessage(err), omitted });
      return state;
    }
    settle({ status: 'created', ...created, notified, leftOut });
    await note({ kind: 'created', reviewUrl: created.reviewUrl, notified, omitted });
    return state;
  } catch (err) {
    if (!(err instanceof LeverAccessDenied)) throw err;
    // We can no longer read or write this Lever account: record the end, touch nothing.
    log.error('Lever denied access; the onboarding ends', { connectionId: ref.connectionId });
    if (current().status === 'created') return current();
    return settle({ status: 'refused', reason: `Lever denied access: ${err.message}` });
  }
}
