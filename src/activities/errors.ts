import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ConnectionUnavailable } from '../db/connections';
import {
  ExternalApiError,
  RefusedUrlError,
  withRequestBudget,
  type RequestBudget,
} from '../integrations/http-client';
import { FAILURE } from '../domain/failures';

/** Services on the ATS side: when they deny access, nothing can be written back to the candidate. */
const ATS_SERVICES = new Set(['Lever', 'Ashby']);

/** Failure type of a 5xx (or no answer) that said when to come back (Retry-After). */
export const UNAVAILABLE_FAILURE = 'ServiceUnavailable';

/** A Retry-After longer than this is shortened to it: one header must not park a check for hours. */
export const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

/** Time kept free at the end of an attempt's start-to-close timeout, so its requests end before it does. */
const ATTEMPT_MARGIN_MS = 2_000;

/** What the recruiter (or operator) can do about a permanent answer; it ends up in the check's note. */
function whatToDo(err: ExternalApiError): string {
  const { service } = err;
  if (err.accessDenied) {
    return ATS_SERVICES.has(service)
      ? `${service} refused the connection's API key (revoked or without the needed permissions)`
      : `${service} refused the connection's API key: update the ${service} API key of the connection`;
  }
  if (err instanceof RefusedUrlError) {
    return `update the connection's ${service} settings: every ${service} URL must be https://`;
  }
  if (err.status !== null && err.status >= 300 && err.status < 400) {
    return `${service} redirected the request, and redirects are not followed: check the connection's ${service} base URL`;
  }
  switch (err.status) {
    case 400:
    case 422:
      return `${service} refused the request as invalid: check the candidate's details (name, email) and the connection's ${service} settings`;
    case 404:
      return `${service} does not know what was asked for: it was deleted, or the connection's ${service} settings name something that does not exist`;
    case 409:
      return `${service} refused the request as conflicting with an earlier one`;
    default:
      return `${service} refused the request`;
  }
}

/**
 * Turns an external API error into the failure Temporal should see: a connection that is gone, access denied
 * and other 4xx are not retried (the same request fails the same way) and say what to do; an answer with
 * Retry-After (429, 503) is retried after that long; everything else (5xx, 429 without Retry-After, no answer:
 * connection refused or reset, timeout) is retried with the workflow's backoff.
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof ConnectionUnavailable) {
    // Deleted and its secrets erased (or never there): no retry brings it back.
    return ApplicationFailure.create({ message: err.message, type: FAILURE.Permanent, nonRetryable: true });
  }
  if (!(err instanceof ExternalApiError)) return err;
  if (err.accessDenied) {
    const type = ATS_SERVICES.has(err.service) ? FAILURE.AtsAccessDenied : FAILURE.VendorAccessDenied;
    return ApplicationFailure.create({
      message: `${err.message.replace(/\.+$/, '')}. ${whatToDo(err)}`,
      type,
      nonRetryable: true,
      details: [err.service],
    });
  }
  if (err.permanent) {
    return ApplicationFailure.create({
      message: `${err.message.replace(/\.+$/, '')}. ${whatToDo(err)}`,
      type: FAILURE.Permanent,
      nonRetryable: true,
    });
  }
  if (err.retryAfterMs !== undefined) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.status === 429 ? FAILURE.RateLimited : UNAVAILABLE_FAILURE,
      // Zero would mean "not set" (the default backoff) to Temporal; Retry-After: 0 means "now".
      nextRetryDelay: Math.min(Math.max(err.retryAfterMs, 1), MAX_RETRY_AFTER_MS),
    });
  }
  if (err.status === 429) {
    return ApplicationFailure.create({ message: err.message, type: FAILURE.RateLimited });
  }
  return err;
}

/**
 * The current activity attempt's request budget: requests end before its start-to-close timeout (Temporal does
 * not stop an attempt that does not heartbeat, so it would otherwise overlap its own retry) and on cancellation.
 */
function attemptBudget(): RequestBudget {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return {}; // not inside an activity (e.g. a unit test calling the function directly)
  }
  const { startToCloseTimeoutMs } = context.info;
  const budget: RequestBudget = { signal: context.cancellationSignal };
  if (startToCloseTimeoutMs > 0) {
    budget.deadline =
      Date.now() + startToCloseTimeoutMs - Math.min(ATTEMPT_MARGIN_MS, startToCloseTimeoutMs / 10);
  }
  return budget;
}

/** Runs an activity body within its attempt's request budget, translating external API errors into failures. */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await withRequestBudget(attemptBudget(), fn);
  } catch (err) {
    throw toActivityFailure(err);
  }
}
