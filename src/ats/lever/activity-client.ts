import { Context } from '@temporalio/activity';
import { LeverClient } from './client';
import type { HttpLimits } from '../../integrations/http-client';
import type { LeverRateLimits } from './rate-limiter';

/**
 * Room left at the end of an activity attempt for the Lever call that got its token and whatever the activity
 * does afterwards (a vendor call, a database write): waiting for a request slot stops this long before the
 * start-to-close timeout.
 */
export const LEVER_WAIT_MARGIN_MS = 8_000;

/**
 * The Lever client of one activity attempt: its calls wait on the worker's per-API-key limiter, but never past
 * the attempt's start-to-close timeout (less the margin) — a longer wait fails as a retryable `RateLimited` —
 * and stop waiting when the activity is cancelled. `limits`: the configured request timeout and response limit.
 */
export function activityLeverClient(
  apiBaseUrl: string,
  apiKey: string,
  { rateLimiter, limits }: { rateLimiter: LeverRateLimits | undefined; limits: HttpLimits | undefined },
): LeverClient {
  const context = Context.current();
  return new LeverClient(apiBaseUrl, apiKey, {
    rateLimiter,
    limits,
    waitUntil: Date.now() + context.info.startToCloseTimeoutMs - LEVER_WAIT_MARGIN_MS,
    signal: context.cancellationSignal,
  });
}
