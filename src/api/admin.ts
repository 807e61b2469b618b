import { randomBytes } from 'node:crypto';
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CheckRepository } from '../db/checks';
import type { ConnectionRepository } from '../db/connections';
import {
  ashbyConnectionInputSchema,
  leverConnectionInputSchema,
  publicView,
  type AtsConfig,
  type Connection,
  type LeverConnectionInput,
} from '../domain/connection';
import { ExternalApiError } from '../integrations/http-error';
import { LeverClient } from '../integrations/lever/client';
import { integrationFor, integrationNames } from '../vendors';
import type { IntegrationDefinition } from '../vendors/types';
import { checkStateQuery, checkWorkflowId } from '../workflows/definitions';
import { requireAdminToken } from './admin-auth';
import { sendProblem } from './problem';

const connectionInputSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    lever: leverConnectionInputSchema.optional(),
    ashby: ashbyConnectionInputSchema.optional(),
    vendor: z.looseObject({ type: z.string().min(1) }),
  })
  .refine((v) => (v.lever === undefined) !== (v.ashby === undefined), {
    message: 'give exactly one ATS: lever or ashby',
    path: ['lever'],
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

type AtsResolution =
  { ok: true; ats: AtsConfig; partnerSecret?: string } | { ok: false; status: number; detail: string };

/**
 * Lever: checks the API key against Lever (reading the pipeline stages) and resolves the trigger stage, given by
 * name or ID, to the stage ID that webhooks carry — when the integration is started by a stage change.
 */
async function resolveLever(
  input: LeverConnectionInput,
  integration: IntegrationDefinition,
): Promise<AtsResolution> {
  const secrets = { apiKey: input.apiKey, signatureToken: input.signatureToken };
  let stages: { id: string; text: string }[];
  try {
    stages = await new LeverClient(input.apiBaseUrl, input.apiKey).listStages();
  } catch (err) {
    if (err instanceof ExternalApiError && err.accessDenied) {
      return {
        ok: false,
        status: 422,
        detail: 'Lever refused the API key while reading the pipeline stages.',
      };
    }
    if (err instanceof ExternalApiError && err.permanent) {
      // Lever answered, and will answer the same again: the given base URL or key is wrong (e.g. 404, 431).
      return {
        ok: false,
        status: 422,
        detail: `Lever refused to list the pipeline stages (HTTP ${err.status}); check lever.apiBaseUrl and lever.apiKey.`,
      };
    }
    return { ok: false, status: 502, detail: 'Lever could not be asked for the pipeline stages; try again.' };
  }
  if (integration.leverTrigger !== 'stage-change') {
    return { ok: true, ats: { kind: 'lever', settings: { apiBaseUrl: input.apiBaseUrl }, secrets } };
  }
  const { triggerStageId, triggerStageName } = input;
  if (triggerStageId === undefined && triggerStageName === undefined) {
    return {
      ok: false,
      status: 400,
      detail: `${integration.displayName} needs lever.triggerStageName or lever.triggerStageId.`,
    };
  }
  const stage = stages.find((s) =>
    triggerStageId !== undefined ? s.id === triggerStageId : s.text === triggerStageName,
  );
  if (stage === undefined) {
    const wanted =
      triggerStageId !== undefined ? `with ID "${triggerStageId}"` : `named "${triggerStageName}"`;
    return { ok: false, status: 422, detail: `Lever has no pipeline stage ${wanted}.` };
  }
  return {
    ok: true,
    ats: {
      kind: 'lever',
      settings: { apiBaseUrl: input.apiBaseUrl, triggerStageId: stage.id, triggerStageName: stage.text },
      secrets,
    },
  };
}

/** Admin API: connections (one customer's ATS account + vendor settings) and a look at a check. */
export function adminRouter(deps: AdminDeps): Router {
  const router = Router();
  router.use('/admin', requireAdminToken(deps.adminToken), express.json({ limit: '256kb' }));
  const baseUrl = (req: Request) =>
    deps.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  const view = (connection: Connection, req: Request) =>
    publicView(connection, baseUrl(req), {
      vendorCallbacks: integrationFor(connection.vendor)?.workflow === 'backgroundCheck',
    });

  router.post('/admin/connections', async (req, res) => {
    const input = connectionInputSchema.safeParse(req.body);
    if (!input.success)
      return sendProblem(res, 400, 'The connection is not valid.', { errors: issues(input.error) });
    const integration = integrationFor(input.data.vendor.type);
    if (integration === undefined) {
      return sendProblem(res, 422, `Unknown vendor type; use one of: ${integrationNames().join(', ')}.`);
    }
    const atsKind = input.data.lever ? 'lever' : 'ashby';
    if (!integration.supportedAts.includes(atsKind)) {
      return sendProblem(res, 422, `${integration.displayName} cannot be connected to ${atsKind}.`);
    }
    const vendor = integration.connectionInputSchema.safeParse(input.data.vendor);
    if (!vendor.success) {
      return sendProblem(res, 400, 'The vendor settings are not valid.', { errors: issues(vendor.error) });
    }
    let resolved: AtsResolution;
    if (input.data.lever) {
      resolved = await resolveLever(input.data.lever, integration);
    } else {
      const ashby = input.data.ashby!;
      const partnerSecret = ashby.partnerSecret ?? randomBytes(32).toString('base64url');
      resolved = {
        ok: true,
        ats: {
          kind: 'ashby',
          settings: { apiBaseUrl: ashby.apiBaseUrl },
          secrets: { apiKey: ashby.apiKey, partnerSecret },
        },
        partnerSecret,
      };
    }
    if (!resolved.ok) return sendProblem(res, resolved.status, resolved.detail);
    const connection = await deps.connections.create({
      name: input.data.name,
      ats: resolved.ats,
      vendor: integration.vendor,
      vendorSettings: vendor.data.settings,
      vendorSecrets: vendor.data.secrets,
    });
    // The partner secret is shown once, here: the admin gives it to Ashby with the partner base URL.
    res.status(201).json({
      ...view(connection, req),
      ...(resolved.partnerSecret ? { partnerSecret: resolved.partnerSecret } : {}),
    });
  });

  router.get('/admin/connections', async (req, res) => {
    res.json({ connections: (await deps.connections.list()).map((c) => view(c, req)) });
  });

  router.get('/admin/connections/:id', async (req, res) => {
    const connection = await deps.connections.find(req.params.id);
    if (connection === undefined) return sendProblem(res, 404, 'No such connection.');
    res.json(view(connection, req));
  });

  /** The latest check of an opportunity: live state from the workflow, and the status log from PostgreSQL. */
  router.get('/admin/connections/:id/checks/:subjectId', async (req, res) => {
    const connection = await deps.connections.find(req.params.id);
    if (connection === undefined) return sendProblem(res, 404, 'No such connection.');
    const workflowId = checkWorkflowId(connection.id, req.params.subjectId);
    try {
      const state = await deps.temporal.workflow.getHandle(workflowId).query(checkStateQuery);
      const log = await deps.checks.statusLog(connection.id, req.params.subjectId);
      res.json({ workflowId, state, log });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        return sendProblem(res, 404, 'No check for this opportunity.');
      throw err;
    }
  });
  return router;
}
