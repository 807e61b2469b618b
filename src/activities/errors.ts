import { ApplicationFailure } from '@temporalio/common';
import { ExternalApiError } from '../integrations/http-error';
import { FAILURE } from '../domain/failures';

/** Services on the ATS side: when they deny access, nothing can be written back to the candidate. */
const ATS_SERVICES = new Set(['Lever', 'Ashby']);

/**
 * Turns an external API error into the failure Temporal should see: access denied and other 4xx are not
 * retried (the same request fails the same way), 429 waits as long as Retry-After says, the rest retries.
 */
export function toActivityFailure(err: unknown): unknown {
  if (!(err instanceof ExternalApiError)) return err;
  if (err.accessDenied) {
    const type = ATS_SERVICES.has(err.service) ? FAILURE.AtsAccessDenied : FAILURE.VendorAccessDenied;
    return ApplicationFailure.create({
      message: err.message,
      type,
      nonRetryable: true,
      details: [err.service],
    });
  }
  if (err.permanent) {
    return ApplicationFailure.create({ message: err.message, type: FAILURE.Permanent, nonRetryable: true });
  }
  if (err.status === 429) {
    return ApplicationFailure.create({
      message: err.message,
      type: FAILURE.RateLimited,
      nextRetryDelay: err.retryAfterMs,
    });
  }
  return err;
}

/** Runs an activity body, translating external API errors into Temporal failures. */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err);
  }
}
