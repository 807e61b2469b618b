import express, { Router } from 'express';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { ConnectionRepository } from '../db/connections';
import type { DeliveryOutcome, WebhookInbox } from '../db/inbox';
import type { LeverSettings } from '../domain/connection';
import {
  hiredDataSchema,
  isVerifyConnection,
  leverWebhookSchema,
  stageChangeDataSchema,
  type LeverWebhook,
} from '../domain/lever-webhook';
import type { Logger } from '../logger';
import { integrationFor } from '../vendors';
import type { IntegrationDefinition } from '../vendors/types';
import { startWorkflow, type StartOptions } from './check-starter';
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
  start: StartOptions;
  bodyLimit: number;
}

type Decision =
  | { kind: 'invalid'; detail: string }
  | { kind: 'done'; outcome: DeliveryOutcome }
  | { kind: 'start'; opportunityId: string };

/** What a delivery means for this connection's integration: start its workflow, or nothing. */
function decide(hook: LeverWebhook, integration: IntegrationDefinition, lever: LeverSettings): Decision {
  if (isVerifyConnection(hook)) return { kind: 'done', outcome: 'verified' };
  if (integration.leverTrigger === 'stage-change' && hook.event === 'candidateStageChange') {
    const data = stageChangeDataSchema.safeParse(hook.data);
    if (!data.success)
      return { kind: 'invalid', detail: 'candidateStageChange data needs opportunityId and toStageId.' };
    if (data.data.toStageId !== lever.triggerStageId) return { kind: 'done', outcome: 'ignored-stage' };
    return { kind: 'start', opportunityId: data.data.opportunityId };
  }
  if (integration.leverTrigger === 'hired' && hook.event === 'candidateHired') {
    const data = hiredDataSchema.safeParse(hook.data);
    if (!data.success) return { kind: 'invalid', detail: 'candidateHired data needs opportunityId.' };
    return { kind: 'start', opportunityId: data.data.opportunityId };
  }
  return { kind: 'done', outcome: 'ignored-event' };
}

/**
 * Lever webhooks: verify the signature, validate, record in the inbox (deduped on Lever's token), and start the
 * connection's workflow when the delivery is its trigger. Only a recorded delivery gets a 2xx.
 */
export function leverWebhookRouter(deps: LeverWebhookDeps): Router {
  const router = Router();
  router.post(
    '/webhooks/lever/:connectionId',
    express.json({ limit: deps.bodyLimit, type: () => true }),
    async (req, res) => {
      const connection = await deps.connections.find(req.params.connectionId);
      const integration = connection && integrationFor(connection.vendor);
      if (connection === undefined || integration === undefined || connection.ats.kind !== 'lever') {
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
      const decision = decide(hook.data, integration, lever.settings);
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

      let started;
      try {
        started = await startWorkflow(
          deps.temporal,
          deps.start,
          integration,
          connection,
          decision.opportunityId,
        );
      } catch (err) {
        // The delivery is recorded but not processed: Lever's redelivery (same token) will start it.
        deps.logger.error(
          { err, connectionId: connection.id, inboxId: row.id },
          'could not start the workflow',
        );
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
        'trigger handled',
      );
      res.status(202).json({ accepted: true, ...started });
    },
  );
  return router;
}
