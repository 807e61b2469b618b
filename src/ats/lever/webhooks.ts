import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { isRefused, type DeliveryOutcome, type RefusedOutcome, type WebhookInbox } from '../../db/inbox';
import { leverWebhookSchema } from './webhook-schema';
import type { Logger } from '../../logger';
import { integrationFor } from '../../vendors';
import { DEFAULT_START_TIMEOUT_MS, type StartOptions } from '../../api/check-starter';
import { fieldIssues, type FieldIssue } from '../../api/connection-input';
import { decideLeverDelivery, triggeredAtRefusal } from './delivery';
import { startRecordedDelivery } from '../../api/recorded-start';
import { BackgroundTasks, Batcher } from '../../api/background-tasks';
import { isUnstorableValue, sendProblem } from '../../api/problem';
import { verifyLeverSignature } from '../../integrations/signature';
import type { ConnectionReader } from '../../api/connection-cache';

/** Workflow starts in flight at once in one API process (more wait their turn; the relay is the safety net). */
const START_CONCURRENCY = 200;

/** The part of the body Lever signs; judged before the connection is looked up, so it says nothing about the id. */
const signedFieldsSchema = z.object({
  token: z.string().min(1).max(200),
  // At most the last instant a Date (and so the inbox's timestamptz) holds.
  triggeredAt: z.number().int().nonnegative().max(8.64e15),
  signature: z.string().min(1).max(200),
});

/** The event of a refused delivery as recorded: its text when it is text PostgreSQL can hold, else empty. */
const eventOf = (body: unknown): string => {
  const event = typeof body === 'object' && body !== null ? (body as { event?: unknown }).event : undefined;
  return typeof event === 'string' && !event.includes('\u0000') ? event.slice(0, 100) : '';
};

/**
 * The one answer to a delivery that is not signed for its URL: an unknown or deleted connection, one of another
 * ATS, and a missing or wrong signature all look the same, so the URL tells nobody which connections exist.
 */
function unauthenticated(res: Response) {
  sendProblem(res, 401, 'The delivery is not signed for this webhook URL.');
}

export interface LeverWebhookDeps {
  connections: ConnectionReader;
  inbox: WebhookInbox;
  temporal: Client;
  logger: Logger;
  start: StartOptions;
  bodyLimit: number;
  /** A delivery whose `triggeredAt` is older than this (ms) is refused (see `triggeredAtRefusal`). */
  maxAgeMs: number;
  /** Deadline of the start attempt made right after the answer (ms); default 3 s. */
  startTimeoutMs?: number;
}

/**
 * Lever webhooks: verify the signature, refuse a stale `triggeredAt`, validate, record in the inbox (deduped on
 * Lever's token), and start the connection's workflow when the delivery is its trigger. Only a recorded delivery
 * gets a 2xx. A signed delivery that is refused is recorded too, so its token is used up. A trigger is
 * acknowledged (`202`, outcome `queued`) once it is recorded, before its workflow starts: Lever waits for
 * PostgreSQL only. The start follows at once in this process; when Temporal is unreachable, or this process stops
 * first, the inbox relay starts it (src/api/inbox-relay.ts).
 */
export function leverWebhookRouter(deps: LeverWebhookDeps): Router {
  const router = Router();
  // The starts' outcomes are written to the inbox together (one UPDATE for many rows under load).
  const processed = new Batcher<Parameters<WebhookInbox['markProcessedMany']>[0][number]>((rows) =>
    deps.inbox.markProcessedMany(rows),
  );
  const startDeps = {
    inbox: {
      markProcessed: (
        id: string,
        outcome: DeliveryOutcome,
        workflow?: { workflowId: string; runId?: string },
      ) => processed.add({ id, outcome, workflowId: workflow?.workflowId, runId: workflow?.runId }),
      recordFailure: deps.inbox.recordFailure.bind(deps.inbox),
    },
    temporal: deps.temporal,
    start: deps.start,
    startTimeoutMs: deps.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    logger: deps.logger,
  };
  const starts = new BackgroundTasks(deps.logger, START_CONCURRENCY);
  router.post(
    '/webhooks/lever/:connectionId',
    express.json({ limit: deps.bodyLimit, type: () => true }),
    async (req, res) => {
      const body: unknown = req.body;
      const signed = signedFieldsSchema.safeParse(body);
      if (!signed.success) {
        const hasSignature = typeof body === 'object' && body !== null && 'signature' in body;
        return hasSignature
          ? sendProblem(res, 400, 'token and triggeredAt must be present to check the signature.')
          : unauthenticated(res);
      }
      const connection = await deps.connections.find(req.params.connectionId);
      const integration = connection && integrationFor(connection.vendor);
      if (
        connection === undefined ||
        integration === undefined ||
        connection.ats.kind !== 'lever' ||
        connection.lifecycle.status === 'deleted' ||
        !verifyLeverSignature(connection.ats.secrets.signatureToken, signed.data)
      ) {
        return unauthenticated(res);
      }
      const lever = connection.ats;
      const { token, triggeredAt } = signed.data;

      // Signed by Lever, but Lever signs only token + triggeredAt: whatever else is refused is recorded, so the
      // same envelope cannot come back with other data.
      const refuse = async (outcome: RefusedOutcome, detail: string, errors: FieldIssue[]) => {
        await deps.inbox.recordRefused({
          connectionId: connection.id,
          source: 'lever',
          token,
          event: eventOf(body),
          triggeredAt: new Date(triggeredAt),
          outcome,
          refusal: errors.map((e) => `${e.path}: ${e.message}`).join('; '),
        });
        deps.logger.warn({ connectionId: connection.id, outcome }, 'signed Lever delivery refused');
        sendProblem(res, 400, detail, { errors });
      };

      const stale = triggeredAtRefusal(triggeredAt, Date.now(), deps.maxAgeMs);
      if (stale !== undefined) {
        return refuse(
          'refused-stale',
          'triggeredAt is outside the accepted window: a delivery this old or this early is not acted on.',
          [{ path: 'triggeredAt', message: stale }],
        );
      }
      const hook = leverWebhookSchema.safeParse(body);
      if (!hook.success) {
        return refuse(
          'refused-invalid',
          'The body is not a Lever webhook delivery.',
          fieldIssues(hook.error),
        );
      }
      const decision = decideLeverDelivery(hook.data, integration, lever.settings);
      if (decision.kind === 'invalid') {
        return refuse('refused-invalid', decision.detail, [{ path: 'data', message: decision.detail }]);
      }

      let recorded: Awaited<ReturnType<WebhookInbox['record']>>;
      try {
        recorded = await deps.inbox.record({
          connectionId: connection.id,
          source: 'lever',
          token: hook.data.token,
          event: hook.data.event,
          triggeredAt: new Date(hook.data.triggeredAt),
          data: hook.data.data,
        });
      } catch (err) {
        if (!isUnstorableValue(err)) throw err;
        const detail = 'The delivery carries a value that cannot be stored (e.g. a NUL character).';
        return refuse('refused-invalid', detail, [{ path: 'data', message: detail }]);
      }
      const { row, duplicate } = recorded;
      if (duplicate && row.processedAt !== null) {
        if (isRefused(row.outcome)) {
          return sendProblem(
            res,
            409,
            'This delivery’s token was used by a delivery that was refused; it is not acted on.',
            { outcome: row.outcome },
          );
        }
        return res.status(200).json({ accepted: true, duplicate: true, outcome: row.outcome });
      }
      if (decision.kind === 'done') {
        await deps.inbox.markProcessed(row.id, decision.outcome);
        return res.status(200).json({ accepted: true, outcome: decision.outcome });
      }
      if (connection.lifecycle.status === 'paused') {
        // Recorded (the row says why nothing started); resuming the connection does not replay it.
        await deps.inbox.markProcessed(row.id, 'paused');
        return res.status(200).json({ accepted: true, outcome: 'paused' });
      }

      // Recorded: the sender is answered now, and the workflow is started right after, in this process (the inbox
      // relay starts it if this process stops first, or while Temporal is unreachable). The workflow ID is the
      // dedupe key, so a redelivery meanwhile starts nothing twice.
      res.status(202).json({ accepted: true, outcome: 'queued' });
      const target = {
        inboxId: row.id,
        attempts: row.attempts,
        connection,
        integration,
        subjectId: decision.opportunityId,
      };
      // Dropped when too many starts wait (Temporal unreachable during a flood): the row waits for the relay.
      starts.run(async () => {
        const result = await startRecordedDelivery(startDeps, target);
        if (result.kind === 'unavailable') {
          deps.logger.warn(
            { reason: result.reason, connectionId: connection.id, inboxId: row.id },
            'Temporal unreachable: delivery queued for the inbox relay',
          );
        } else if (result.kind === 'failed') {
          // Temporal refused the start: the relay retries it with backoff.
          deps.logger.error(
            { err: result.error, connectionId: connection.id, inboxId: row.id },
            'could not start the workflow',
          );
        }
      });
    },
  );
  return router;
}
