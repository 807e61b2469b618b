import express, { Router } from 'express';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { WebhookInbox } from '../db/inbox';
import { leverWebhookSchema } from '../domain/lever-webhook';
import type { Logger } from '../logger';
import { integrationFor } from '../vendors';
import { DEFAULT_START_TIMEOUT_MS, type StartOptions } from './check-starter';
import { decideLeverDelivery, startRecordedDelivery } from './lever-delivery';
import { sendProblem } from './problem';
import { verifyLeverSignature } from './signature';
import type { ConnectionReader } from './connection-cache';

const signedFieldsSchema = z.object({
  token: z.string().min(1).max(200),
  // At most the last instant a Date (and so the inbox's timestamptz) holds.
  triggeredAt: z.number().int().nonnegative().max(8.64e15),
  signature: z.string().min(1).max(200),
});

export interface LeverWebhookDeps {
  connections: ConnectionReader;
  inbox: WebhookInbox;
  temporal: Client;
  logger: Logger;
  start: StartOptions;
  bodyLimit: number;
  /** Deadline of the start attempt made while Lever waits for the answer (ms); default 3 s. */
  startTimeoutMs?: number;
}

/**
 * Lever webhooks: verify the signature, validate, record in the inbox (deduped on Lever's token), and start the
 * connection's workflow when the delivery is its trigger. Only a recorded delivery gets a 2xx. When Temporal is
 * unreachable the delivery is still acknowledged (`202`, outcome `queued`): it is recorded, and the inbox relay
 * starts its workflow once Temporal is back (src/api/inbox-relay.ts).
 */
export function leverWebhookRouter(deps: LeverWebhookDeps): Router {
  const router = Router();
  router.post(
    '/webhooks/lever/:connectionId',
    express.json({ limit: deps.bodyLimit, type: () => true }),
    async (req, res) => {
      const connection = await deps.connections.find(req.params.connectionId);
      const integration = connection && integrationFor(connection.vendor);
      if (
        connection === undefined ||
        integration === undefined ||
        connection.ats.kind !== 'lever' ||
        connection.lifecycle.status === 'deleted'
      ) {
        return sendProblem(res, 404, 'No connection has this webhook URL.');
      }
      const lever = connection.ats;

      const body: unknown = req.body;
      const signed = signedFieldsSchema.safeParse(body);
      if (!signed.success) {
        const hasSignature = typeof body === 'object' && body !== null && 'signature' in body;
        return hasSignature
          ? sendProblem(res, 400, 'token and triggeredAt must be present to check the signature.')
          : sendProblem(res, 401, 'The delivery carries no signature.');
      }
      if (!verifyLeverSignature(lever.secrets.signatureToken, signed.data)) {
        return sendProblem(res, 401, 'The signature does not match this connection’s signature token.');
      }
      const hook = leverWebhookSchema.safeParse(body);
      if (!hook.success) return sendProblem(res, 400, 'The body is not a Lever webhook delivery.');
      const decision = decideLeverDelivery(hook.data, integration, lever.settings);
      if (decision.kind === 'invalid') return sendProblem(res, 400, decision.detail);

      const { row, duplicate } = await deps.inbox.record({
        connectionId: connection.id,
        source: 'lever',
        token: hook.data.token,
        event: hook.data.event,
        triggeredAt: new Date(hook.data.triggeredAt),
        data: hook.data.data,
      });
      if (duplicate && row.processedAt !== null) {
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

      const result = await startRecordedDelivery(
        {
          inbox: deps.inbox,
          temporal: deps.temporal,
          start: deps.start,
          startTimeoutMs: deps.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
          logger: deps.logger,
        },
        {
          inboxId: row.id,
          attempts: row.attempts,
          connection,
          integration,
          opportunityId: decision.opportunityId,
        },
      );
      if (result.kind === 'started') return res.status(202).json({ accepted: true, ...result.start });
      if (result.kind === 'unavailable') {
        // Recorded, so nothing is lost: acknowledge it; the relay starts the workflow once Temporal is back.
        deps.logger.warn(
          { reason: result.reason, connectionId: connection.id, inboxId: row.id },
          'Temporal unreachable: delivery queued for the inbox relay',
        );
        return res.status(202).json({ accepted: true, outcome: 'queued' });
      }
      // Temporal refused the start: the relay retries it with backoff, and so does Lever on this answer.
      deps.logger.error(
        { err: result.error, connectionId: connection.id, inboxId: row.id },
        'could not start the workflow',
      );
      return sendProblem(
        res,
        503,
        'The workflow could not be started; the delivery will be processed on retry.',
      );
    },
  );
  return router;
}
