import type { DeliveryOutcome } from '../../db/inbox';
import type { LeverSettings } from './config';
import { hiredDataSchema, stageChangeDataSchema, type LeverWebhook } from './webhook-schema';
import type { IntegrationDefinition } from '../../vendors/types';

/**
 * What the webhook handler and the inbox relay both act on: a Lever delivery's event and data, as received or
 * as stored in `webhook_inbox`.
 */
export type LeverDelivery = Pick<LeverWebhook, 'event' | 'data'>;

export type LeverDecision =
  | { kind: 'invalid'; detail: string }
  | { kind: 'done'; outcome: DeliveryOutcome }
  | { kind: 'start'; opportunityId: string };

/** Lever's ids are UUIDs; a much longer one could not even be part of a workflow ID (Temporal caps those). */
const MAX_OPPORTUNITY_ID_LENGTH = 200;
/** Lever's webhook data is flat; deeper JSON is refused rather than recorded (serializing it can overflow). */
const MAX_DATA_DEPTH = 32;

function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, depth] = item;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const inner of Object.values(v)) stack.push([inner, depth + 1]);
  }
  return false;
}

/**
 * How far ahead of this server's clock a `triggeredAt` may be: Lever stamps it with its own clock, which may run a
 * little ahead of ours.
 */
export const LEVER_CLOCK_SKEW_MS = 5 * 60 * 1000;

const hours = (ms: number) => `${Number((ms / 3_600_000).toFixed(2))} h`;

/**
 * Why a delivery's `triggeredAt` is outside the accepted window, `now - maxAgeMs` to `now + LEVER_CLOCK_SKEW_MS`,
 * or undefined when it is inside. Lever signs `token + triggeredAt`, so this bounds how long a captured envelope
 * can be replayed; the window is hours wide, as Lever retries a failed delivery for a while with the same body.
 */
export function triggeredAtRefusal(triggeredAt: number, now: number, maxAgeMs: number): string | undefined {
  if (now - triggeredAt > maxAgeMs) return `older than ${hours(maxAgeMs)}`;
  if (triggeredAt - now > LEVER_CLOCK_SKEW_MS)
    return `more than ${LEVER_CLOCK_SKEW_MS / 60_000} minutes ahead of the server's clock`;
  return undefined;
}

const startFor = (opportunityId: string): LeverDecision =>
  opportunityId.length > MAX_OPPORTUNITY_ID_LENGTH
    ? { kind: 'invalid', detail: `opportunityId is longer than ${MAX_OPPORTUNITY_ID_LENGTH} characters.` }
    : { kind: 'start', opportunityId };

/** What a delivery means for this connection's integration: start its workflow, or nothing. */
export function decideLeverDelivery(
  delivery: LeverDelivery,
  integration: IntegrationDefinition,
  lever: LeverSettings,
): LeverDecision {
  if (nestedDeeperThan(delivery.data, MAX_DATA_DEPTH)) {
    return { kind: 'invalid', detail: `The delivery data is nested deeper than ${MAX_DATA_DEPTH} levels.` };
  }
  // Lever's "Verify Connection" test event is signed and carries empty data (as isVerifyConnection).
  if (delivery.data == null || Object.keys(delivery.data).length === 0)
    return { kind: 'done', outcome: 'verified' };
  if (integration.leverTrigger === 'stage-change' && delivery.event === 'candidateStageChange') {
    const data = stageChangeDataSchema.safeParse(delivery.data);
    if (!data.success)
      return { kind: 'invalid', detail: 'candidateStageChange data needs opportunityId and toStageId.' };
    if (data.data.toStageId !== lever.triggerStageId) return { kind: 'done', outcome: 'ignored-stage' };
    return startFor(data.data.opportunityId);
  }
  if (integration.leverTrigger === 'hired' && delivery.event === 'candidateHired') {
    const data = hiredDataSchema.safeParse(delivery.data);
    if (!data.success) return { kind: 'invalid', detail: 'candidateHired data needs opportunityId.' };
    return startFor(data.data.opportunityId);
  }
  return { kind: 'done', outcome: 'ignored-event' };
}
