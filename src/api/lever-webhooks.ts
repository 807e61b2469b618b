import express, { Router } from 'express';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { ConnectionRepository } from '../db/connections';
import { WebhookInbox } from '../db/inbox';
import { isVerifyConnection, leverWebhookSchema, stageChangeDataSchema } from '../domain/lever-webhook';
import type { Logger } from '../logger';
import { startCheck } from './check-starter';
import { sendProblem } from './problem';
import { verifyLeverSignature } from './signature';

const signedFieldsSchema = z.object({
  token: z.string().min(1).max(200),
  triggeredAt: z.number().int().nonnegative(),
  signature: z.string().min(1).max(200),
});

export interface LeverWebhookDeps {
  connections: ConnectionRepository;
  inbox: WebhookInbox;
  temporal: Client;
  logger: Logger;
  taskQueue: string;
  pollIntervalMs: number;
  bodyLimit: number;
}

/**
 * Lever webhooks: verify the signature, validate, record in the inbox (deduped on Lever's token), and start
 * the check when the candidate entered the connection's trigger stage. Only a recorded delivery gets a 2xx.
 */
export function leverWebhookRouter(deps: LeverWebhookDeps): Router {
  const router = Router();
  router.post(
    '/webhooks/lever/:connectionId',
    express.json({ limit: deps.bodyLimit, type: () => true }),
    async (req, res) => {
      const connection = await deps.connections.find(req.params.connectionId);
      if (connection === undefined) return sendProblem(res, 404, 'No connection has this webhook URL.');

      const body: unknown = req.body;
      const signed = signedFieldsSchema.safeParse(body);
      if (!signed.success) {
        const hasSignature = typeof body === 'object' && body !== null && 'signature' in body;
        return hasSignature
          ? sendProblem(res, 400, 'token and triggeredAt must be present to check the signature.')
          : sendProblem(res, 401, 'The delivery carries no signature.');
      }
      if (!verifyLeverSignature(connection.leverSecrets.signatureToken, signed.data)) {
        return sendProblem(res, 401, 'The signature does not match this connection’s signature token.');
      }
      const hook = leverWebhookSchema.safeParse(body);
      if (!hook.success) return sendProblem(res, 400, 'The body is not a Lever webhook delivery.');

      const verify = isVerifyConnection(hook.data);
      const isStageChange = !verify && hook.data.event === 'candidateStageChange';
      const stageChange = isStageChange ? stageChangeDataSchema.safeParse(hook.data.data) : undefined;
      if (stageChange !== undefined && !stageChange.success) {
        return sendProblem(res, 400, 'candidateStageChange data needs opportunityId and toStageId.');
      }

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

      const finish = async (status: number, outcome: Parameters<WebhookInbox['markProcessed']>[1]) => {
        await deps.inbox.markProcessed(row.id, outcome);
        res.status(status).json({ accepted: true, outcome });
      };
      if (verify) return finish(200, 'verified');
      if (stageChange === undefined) return finish(200, 'ignored-event');
      if (stageChange.data.toStageId !== connection.lever.triggerStageId) return finish(200, 'ignored-stage');

      let started;
      try {
        started = await startCheck(
          deps.temporal,
          { taskQueue: deps.taskQueue, pollIntervalMs: deps.pollIntervalMs },
          connection,
          stageChange.data.opportunityId,
        );
      } catch (err) {
        // The delivery is recorded but not processed: Lever's redelivery (same token) will start it.
        deps.logger.error({ err, connectionId: connection.id, inboxId: row.id }, 'could not start the check');
        return sendProblem(
          res,
          503,
          'The workflow engine is unavailable; the delivery will be processed on retry.',
        );
      }
      await deps.inbox.markProcessed(row.id, started.outcome, {
        workflowId: started.workflowId,
        runId: started.outcome === 'started' ? started.runId : undefined,
      });
      deps.logger.info(
        { connectionId: connection.id, workflowId: started.workflowId, outcome: started.outcome },
        'stage change handled',
      );
      res.status(202).json({ accepted: true, ...started });
    },
  );
  return router;
}
