import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CheckRepository } from '../db/checks';
import type { ConnectionRepository } from '../db/connections';
import { leverConnectionInputSchema, publicView } from '../domain/connection';
import { ExternalApiError } from '../integrations/http-error';
import { LeverClient } from '../integrations/lever/client';
import { vendorAdapter, vendorNames } from '../vendors';
import { checkStateQuery, checkWorkflowId } from '../workflows/definitions';
import { requireAdminToken } from './admin-auth';
import { sendProblem } from './problem';

const connectionInputSchema = z.object({
  name: z.string().trim().min(1).max(200),
  lever: leverConnectionInputSchema,
  vendor: z.looseObject({ type: z.string().min(1) }),
});

export interface AdminDeps {
  connections: ConnectionRepository;
  checks: CheckRepository;
  temporal: Client;
  adminToken: string;
  publicBaseUrl?: string;
}

function issues(error: z.ZodError) {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Admin API: connections (one customer's ATS account + vendor settings) and a look at a check. */
export function adminRouter(deps: AdminDeps): Router {
  const router = Router();
  router.use('/admin', requireAdminToken(deps.adminToken), express.json({ limit: '256kb' }));
  const baseUrl = (req: Request) =>
    deps.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;

  router.post('/admin/connections', async (req, res) => {
    const input = connectionInputSchema.safeParse(req.body);
    if (!input.success)
      return sendProblem(res, 400, 'The connection is not valid.', { errors: issues(input.error) });
    const adapter = vendorAdapter(input.data.vendor.type);
    if (adapter === undefined) {
      return sendProblem(res, 422, `Unknown vendor type; use one of: ${vendorNames().join(', ')}.`);
    }
    const vendor = adapter.connectionInputSchema.safeParse(input.data.vendor);
    if (!vendor.success) {
      return sendProblem(res, 400, 'The vendor settings are not valid.', { errors: issues(vendor.error) });
    }
    const lever = input.data.lever;
    let triggerStageId = lever.triggerStageId;
    if (triggerStageId === undefined) {
      // Stage names are what the customer configures; Lever's webhooks carry stage IDs.
      try {
        const stages = await new LeverClient(lever.apiBaseUrl, lever.apiKey).listStages();
        triggerStageId = stages.find((s) => s.text === lever.triggerStageName)?.id;
      } catch (err) {
        if (err instanceof ExternalApiError && err.accessDenied) {
          return sendProblem(res, 422, 'Lever refused the API key while reading the pipeline stages.');
        }
        return sendProblem(res, 502, 'Lever could not be asked for the pipeline stages; try again.');
      }
      if (triggerStageId === undefined) {
        return sendProblem(res, 422, `Lever has no pipeline stage named "${lever.triggerStageName}".`);
      }
    }
    const connection = await deps.connections.create({
      name: input.data.name,
      ats: 'lever',
      vendor: adapter.vendor,
      lever: { apiBaseUrl: lever.apiBaseUrl, triggerStageId, triggerStageName: lever.triggerStageName },
      leverSecrets: { apiKey: lever.apiKey, signatureToken: lever.signatureToken },
      vendorSettings: vendor.data.settings,
      vendorSecrets: vendor.data.secrets,
    });
    res.status(201).json(publicView(connection, baseUrl(req)));
  });

  router.get('/admin/connections', async (req, res) => {
    res.json({ connections: (await deps.connections.list()).map((c) => publicView(c, baseUrl(req))) });
  });

  router.get('/admin/connections/:id', async (req, res) => {
    const connection = await deps.connections.find(req.params.id);
    if (connection === undefined) return sendProblem(res, 404, 'No such connection.');
    res.json(publicView(connection, baseUrl(req)));
  });

  /** The latest check of an opportunity: live state from the workflow, and the status log from PostgreSQL. */
  router.get('/admin/connections/:id/checks/:opportunityId', async (req, res) => {
    const connection = await deps.connections.find(req.params.id);
    if (connection === undefined) return sendProblem(res, 404, 'No such connection.');
    const workflowId = checkWorkflowId(connection.id, req.params.opportunityId);
    try {
      const state = await deps.temporal.workflow.getHandle(workflowId).query(checkStateQuery);
      const log = await deps.checks.statusLog(connection.id, req.params.opportunityId);
      res.json({ workflowId, state, log });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        return sendProblem(res, 404, 'No check for this opportunity.');
      throw err;
    }
  });
  return router;
}
