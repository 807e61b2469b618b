import type { Client } from '@temporalio/client';
import type { DeliveryOutcome, WebhookInbox } from '../../db/inbox';
import type { Connection } from '../connection';
import type { LeverSettings } from './config';
import { hiredDataSchema, stageChangeDataSchema, type LeverWebhook } from './webhook-schema';
import type { Logger } from '../../logger';
import type { IntegrationDefinition } from '../../vendors/types';
import {
  isTemporalUnavailable,
  startWorkflowWithin,
  type StartOptions,
  type StartOutcome,
} from '../../api/check-starter';

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

export interface DeliveryStartDeps {
  inbox: Pick<WebhookInbox, 'markProcessed' | 'recordFailure'>;
  temporal: Client;
  start: StartOptions;
  /** Deadline of one start attempt (ms). */
  startTimeoutMs: number;
  logger: Logger;
}

/**
 * The result of trying to start a recorded delivery's workflow: `started` (or already running) and the row
 * processed; `unavailable`: Temporal unreachable, the row due again at once; `failed`: Temporal refused this
 * start, the row due again after a backoff. Either way the row stays until its workflow is started.
 */
export type DeliveryStartResult =
  | { kind: 'started'; start: StartOutcome }
  | { kind: 'unavailable'; error: unknown; reason: string }
  | { kind: 'failed'; error: unknown; reason: string };

/** Backoff of a delivery whose start Temporal refused: 1 s, 2 s, 4 s … up to 10 minutes. */
export function refusedStartBackoffMs(previousFailures: number): number {
  return Math.min(1000 * 2 ** Math.min(previousFailures, 20), 10 * 60 * 1000);
}

/** Starts the workflow a recorded delivery asks for and records the outcome on its inbox row. */
export async function startRecordedDelivery(
  deps: DeliveryStartDeps,
  target: {
    inboxId: string;
    /** Failed start attempts before this one. */
    attempts: number;
    connection: Connection;
    integration: IntegrationDefinition;
    opportunityId: string;
  },
): Promise<DeliveryStartResult> {
  let start: StartOutcome;
  try {
    start = await startWorkflowWithin(
      deps.startTimeoutMs,
      deps.temporal,
      deps.start,
      target.integration,
      target.connection,
      target.opportunityId,
    );
  } catch (error) {
    const unavailable = isTemporalUnavailable(error);
    const message = error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    const reason = message.includes(cause) ? message : `${message}${cause}`;
    await deps.inbox.recordFailure(
      target.inboxId,
      reason,
      unavailable ? 0 : refusedStartBackoffMs(target.attempts),
    );
    return unavailable ? { kind: 'unavailable', error, reason } : { kind: 'failed', error, reason };
  }
  await deps.inbox.markProcessed(target.inboxId, start.outcome, {
    workflowId: start.workflowId,
    runId: start.outcome === 'started' ? start.runId : undefined,
  });
  deps.logger.info(
    { connectionId: target.connection.id, workflowId: start.workflowId, outcome: start.outcome },
    'trigger handled',
  );
  return { kind: 'started', start };
}
