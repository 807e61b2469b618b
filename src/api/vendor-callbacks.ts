import express, { Router, type Response } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CheckRepository } from '../db/checks';
import type { Logger } from '../logger';
import { checkAdapterFor } from '../vendors';
import { vendorEventSignal } from '../workflows/definitions';
import { sendProblem } from './problem';
import type { ConnectionReader } from './connection-cache';

/** The one answer to a callback that is not signed for its URL, whatever the reason. */
function unauthenticated(res: Response) {
  sendProblem(res, 401, 'The callback is not signed for this callback URL.');
}

export interface VendorCallbackDeps {
  connections: ConnectionReader;
  checks: CheckRepository;
  temporal: Client;
  logger: Logger;
  bodyLimit: number;
}

/**
 * Vendor callbacks, one URL per vendor and connection: the adapter authenticates the sender against the raw
 * body; the event is recorded once, then signalled to the check that ordered the vendor's case. Every callback
 * that cannot be authenticated for its URL gets the same 401, so the URL tells nobody which connections exist.
 */
export function vendorCallbackRouter(deps: VendorCallbackDeps): Router {
  const router = Router();
  router.post(
    '/callbacks/:vendor/:connectionId',
    express.raw({ limit: deps.bodyLimit, type: () => true }),
    async (req, res) => {
      const adapter = checkAdapterFor(req.params.vendor);
      const connection = adapter && (await deps.connections.find(req.params.connectionId));
      // An unknown vendor or connection (or one whose secrets were erased) looks like a wrong signature.
      if (adapter === undefined || connection === undefined || connection.vendor !== adapter.vendor) {
        return unauthenticated(res);
      }
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verdict = adapter.verifyCallback(
        rawBody,
        req.headers,
        adapter.secretsSchema.parse(connection.vendorSecrets),
      );
      if (!verdict.ok) {
        return verdict.status === 401
          ? unauthenticated(res)
          : sendProblem(res, verdict.status, verdict.detail);
      }
      const { callback } = verdict;

      const recorded = await deps.checks.recordCallback({
        connectionId: connection.id,
        vendor: adapter.vendor,
        eventId: callback.eventId,
        eventType: callback.eventType,
        objectId: callback.externalId,
      });
      if (recorded.duplicate && recorded.processed)
        return res.status(200).json({ accepted: true, duplicate: true });

      const order = await deps.checks.findOrder(connection.id, adapter.vendor, callback.externalId);
      if (order === undefined) {
        // The check fetches the case right after ordering, so an event that beat the order's record is not lost.
        await deps.checks.markCallbackProcessed(recorded.id, 'unknown-order');
        return res.status(200).json({ accepted: true, outcome: 'unknown-order' });
      }
      try {
        await deps.temporal.workflow
          .getHandle(order.workflowId, order.runId)
          .signal(vendorEventSignal, { eventId: callback.eventId, eventType: callback.eventType });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          await deps.checks.markCallbackProcessed(recorded.id, 'check-closed');
          return res.status(200).json({ accepted: true, outcome: 'check-closed' });
        }
        deps.logger.error({ err, connectionId: connection.id }, 'could not signal the check');
        return sendProblem(res, 503, 'The workflow engine is unavailable; please retry the delivery.');
      }
      await deps.checks.markCallbackProcessed(recorded.id, 'signalled');
      res.status(200).json({ accepted: true, outcome: 'signalled' });
    },
  );
  return router;
}
