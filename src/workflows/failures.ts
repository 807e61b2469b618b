import { ActivityFailure, ApplicationFailure, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FAILURE } from '../domain/failures';

/**
 * What the workflows share about their activities: how a call to the ATS or a vendor is retried, and how a failed
 * activity is told apart (its failure type, src/domain/failures.ts). Workflow code: deterministic, no I/O.
 */

/** Retried with backoff: about half an hour with the default 20 attempts. */
export function activityRetry(maxAttempts: number | undefined): RetryPolicy {
  return {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: maxAttempts ?? 20,
  };
}

/** Calls to the ATS and vendors: short attempts, retried with backoff (`activityRetry`). */
export function externalCalls(maxAttempts: number | undefined) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: activityRetry(maxAttempts),
  });
}

/** The failure type an activity failed with (one of FAILURE), if it said one. */
export function failureType(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

/** What went wrong: the activity's own message rather than Temporal's "Activity task failed". */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** Whether retrying later cannot help: a permanent error, or the vendor refusing the connection's key. */
export function isFinalFailure(type: string | undefined): boolean {
  return type === FAILURE.Permanent || type === FAILURE.VendorAccessDenied;
}
