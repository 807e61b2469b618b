import type { Client } from '@temporalio/client';
import type { Connection } from '../ats/connection';
import type { DeliveryOutcome, WebhookInbox } from '../db/inbox';
import type { Logger } from '../logger';
import type { IntegrationDefinition } from '../vendors/types';
import { cancelCheckSignal } from '../workflows/definitions';
import {
  isTemporalUnavailable,
  startWorkflowWithin,
  type StartOptions,
  type StartOutcome,
} from './check-starter';

/**
 * Starting what a row of the inbox (`webhook_inbox`) asks for, the one way every start goes: the Lever webhook
 * handler and Ashby's assessment.start record the row first (in the same transaction as what it belongs to) and
 * try at once; the inbox relay (src/api/inbox-relay.ts) tries again until it is done.
 */

export interface DeliveryStartDeps {
  /**
   * `markProcessed` may say the outcome the row has after it (WebhookInbox does): `cancelled` when the ATS cancelled
   * the start meanwhile. The Lever handler's batched writes say nothing (Lever cancels no recorded start).
   */
  inbox: {
    markProcessed(...args: Parameters<WebhookInbox['markProcessed']>): Promise<DeliveryOutcome | void>;
    recordFailure: WebhookInbox['recordFailure'];
  };
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
    /** The ATS object the workflow is for (the opportunity, the assessment…). */
    subjectId: string;
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
      target.subjectId,
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
  const outcome = await deps.inbox.markProcessed(target.inboxId, start.outcome, {
    workflowId: start.workflowId,
    runId: start.outcome === 'started' ? start.runId : undefined,
  });
  if (outcome === 'cancelled') {
    // The ATS cancelled it while this start was on its way (Ashby: assessment.cancel found the row still
    // unprocessed and answered): what was started is cancelled as the ATS asked.
    await deps.temporal.workflow.getHandle(start.workflowId).signal(cancelCheckSignal, { by: 'ats' });
  }
  deps.logger.info(
    { connectionId: target.connection.id, workflowId: start.workflowId, outcome: start.outcome },
    'trigger handled',
  );
  return { kind: 'started', start };
}
