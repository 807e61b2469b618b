import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CheckRepository } from '../db/checks';
import { atsModuleFor } from '../ats';
import type { ConnectionSummary } from '../ats/connection';
import type { LeverRateLimits } from '../ats/lever/rate-limiter';
import type { AtsCallDeps } from '../ats/types';
import type { ConnectionRepository, EventInput } from '../db/connections';
import { publicView } from '../domain/connection';
import type { HttpLimits } from '../integrations/http-client';
import type { Logger } from '../logger';
import { integrationFor } from '../vendors';
import { checkWorkflowId } from '../domain/workflow-ids';
import { cancelCheckSignal, checkStateQuery } from '../workflows/definitions';
import { stopOnboardingSignal } from '../workflows/onboarding-definitions';
import { adminActor, requireAdminToken } from './admin-auth';
import {
  fieldIssues,
  resolveConnection,
  resolvePatch,
  settingChanges,
  type Refusal,
} from './connection-input';
import { eraseSecrets, runningWorkflows, type RunningWorkflow } from './connection-retirement';
import { sendProblem } from './problem';

export interface AdminDeps {
  connections: ConnectionRepository;
  checks: CheckRepository;
  temporal: Client;
  logger: Logger;
  adminToken: string;
  publicBaseUrl?: string;
  /** The limit of the Lever calls made to check a connection; default this process's own limiter. */
  leverRateLimiter?: LeverRateLimits;
  /** Request timeout and response limit of those Lever calls (src/config.ts); their defaults when not given. */
  httpLimits?: HttpLimits;
}

const deleteQuerySchema = z.strictObject({
  cancelRunning: z.enum(['true', 'false'], { error: 'must be "true" or "false"' }).default('false'),
});
const listQuerySchema = z.strictObject({
  includeDeleted: z.enum(['true', 'false'], { error: 'must be "true" or "false"' }).default('false'),
});

/** `If-Match: "<version>"` (or `W/"<version>"`, or `*`): the version a change was based on, or undefined. */
function ifMatch(req: Request): { ok: true; version?: number } | { ok: false } {
  const header = req.get('if-match');
  if (header === undefined || header.trim() === '*') return { ok: true };
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(header);
  return match?.[1] === undefined ? { ok: false } : { ok: true, version: Number(match[1]) };
}

const etag = (connection: ConnectionSummary) => `"${connection.lifecycle.version}"`;

function sendRefusal(res: Response, refusal: Refusal) {
  sendProblem(res, refusal.status, refusal.detail, refusal.errors ? { errors: refusal.errors } : {});
}

/**
 * Admin API: connections (one customer's ATS account + vendor settings) over their whole life — created,
 * changed, paused, resumed, deleted — with an append-only event log, and a look at a check.
 */
export function adminRouter(deps: AdminDeps): Router {
  const router = Router();
  // The ATSs' calls of the connection checks (Lever: reading the stages) take their turn within the key's limit.
  const ats: AtsCallDeps = { leverRateLimiter: deps.leverRateLimiter, httpLimits: deps.httpLimits };
  router.use(
    '/admin',
    requireAdminToken(deps.adminToken),
    express.json({ limit: '256kb', type: ['application/json', 'application/merge-patch+json'] }),
  );
  const baseUrl = (req: Request) =>
    deps.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  const view = (connection: ConnectionSummary, req: Request) => {
    const integration = integrationFor(connection.vendor);
    // Read through the vendor's schema, so a setting it no longer has (e.g. Justworks' old admins list) drops out.
    const settings = integration?.settingsSchema.safeParse(connection.vendorSettings);
    return publicView(
      settings?.success ? { ...connection, vendorSettings: settings.data } : connection,
      baseUrl(req),
      {
        vendorCallbacks: integration?.workflow === 'backgroundCheck',
        atsUrls: atsModuleFor(connection.ats.kind).publicUrls(baseUrl(req), connection.id),
      },
    );
  };
  /** Who made a change: a fingerprint of the bearer token the request carried (already checked). */
  const by = (req: Request): EventInput => ({ actor: adminActor(req.get('authorization') ?? '') });
  /** The connection named in the path, unless it is unknown (404) or deleted (409). */
  async function changeable(req: Request, res: Response): Promise<ConnectionSummary | undefined> {
    const summary = await deps.connections.findSummary(String(req.params.id));
    if (summary === undefined) {
      sendProblem(res, 404, 'No such connection.');
      return undefined;
    }
    if (summary.lifecycle.status === 'deleted') {
      sendProblem(res, 409, 'The connection was deleted; create a new one instead.');
      return undefined;
    }
    return summary;
  }

  router.post('/admin/connections', async (req, res) => {
    const resolved = await resolveConnection(req.body, undefined, ats);
    if (!resolved.ok) return sendRefusal(res, resolved);
    const connection = await deps.connections.create(resolved.connection, {
      ...by(req),
      detail: { vendor: resolved.connection.vendor, ats: resolved.connection.ats.kind },
    });
    // A generated secret (Ashby's partner secret) is shown once, here: the admin gives it to the ATS.
    res
      .status(201)
      .set('ETag', etag(connection))
      .json({ ...view(connection, req), ...resolved.shownOnce });
  });

  router.get('/admin/connections', async (req, res) => {
    const query = listQuerySchema.safeParse(req.query);
    if (!query.success) {
      return sendProblem(res, 400, 'The query is not valid.', { errors: fieldIssues(query.error) });
    }
    const all = await deps.connections.summaries({ includeDeleted: query.data.includeDeleted === 'true' });
    res.json({ connections: all.map((c) => view(c, req)) });
  });

  router.get('/admin/connections/:id', async (req, res) => {
    const connection = await deps.connections.findSummary(req.params.id);
    if (connection === undefined) return sendProblem(res, 404, 'No such connection.');
    res.set('ETag', etag(connection)).json(view(connection, req));
  });

  /**
   * Changes settings and rotates secrets: a JSON merge patch of the creation body, validated as a whole like a
   * new connection. Running checks use the new values from their next step.
   */
  router.patch('/admin/connections/:id', async (req, res) => {
    const summary = await changeable(req, res);
    if (summary === undefined) return;
    const precondition = ifMatch(req);
    if (!precondition.ok) return sendProblem(res, 400, 'If-Match must be an ETag such as "3", or *.');
    if (precondition.version !== undefined && precondition.version !== summary.lifecycle.version) {
      return sendProblem(res, 412, 'The connection changed since that version; read it again.');
    }
    const current = await deps.connections.get(summary.id);
    const resolved = await resolvePatch(current, req.body, ats);
    if (!resolved.ok) return sendRefusal(res, resolved);
    const changes = settingChanges(current, { ...current, ...resolved.connection });
    if (changes.length === 0) return res.set('ETag', etag(current)).json(view(current, req));
    const updated = await deps.connections.update(
      current.id,
      current.lifecycle.version,
      resolved.connection,
      {
        ...by(req),
        changes,
      },
    );
    if (updated === 'conflict') {
      return sendProblem(
        res,
        409,
        'The connection was changed or deleted meanwhile; read it again and retry.',
      );
    }
    deps.logger.info(
      { connectionId: updated.id, changed: changes.map((c) => c.path) },
      'connection changed by an admin',
    );
    res.set('ETag', etag(updated)).json({ ...view(updated, req), ...resolved.shownOnce });
  });

  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    router.post(`/admin/connections/:id/${action}`, async (req, res) => {
      const summary = await changeable(req, res);
      if (summary === undefined) return;
      const result = await deps.connections.setPaused(summary.id, paused, by(req));
      if (result === undefined) return sendProblem(res, 409, 'The connection was deleted meanwhile.');
      if (result.changed) deps.logger.info({ connectionId: summary.id }, `connection ${action}d by an admin`);
      res.set('ETag', etag(result.connection)).json(view(result.connection, req));
    });
  }

  /**
   * Deletes a connection: its webhook URLs stop answering at once and its status log and events stay. Checks
   * already running finish (or, with `cancelRunning=true`, are cancelled); its secrets are erased once none runs.
   */
  router.delete('/admin/connections/:id', async (req, res) => {
    const query = deleteQuerySchema.safeParse(req.query);
    if (!query.success) {
      return sendProblem(res, 400, 'The query is not valid.', { errors: fieldIssues(query.error) });
    }
    const summary = await changeable(req, res);
    if (summary === undefined) return;
    const cancelRunning = query.data.cancelRunning === 'true';
    // Asked before anything changes: with Temporal unreachable the answer is "nothing done, try again".
    let running: RunningWorkflow[];
    try {
      running = await runningWorkflows(deps.temporal, summary.id);
    } catch (err) {
      deps.logger.warn(
        { err, connectionId: summary.id },
        'cannot list the running workflows of a connection',
      );
      res.set('Retry-After', '5');
      return sendProblem(
        res,
        503,
        'Temporal cannot be asked which checks run; nothing was deleted. Try again.',
      );
    }
    if (!(await deps.connections.markDeleted(summary.id, { ...by(req), detail: { cancelRunning } }))) {
      return sendProblem(res, 409, 'The connection was deleted meanwhile.');
    }
    let cancelled = 0;
    if (cancelRunning) {
      for (const run of running) {
        const handle = deps.temporal.workflow.getHandle(run.workflowId, run.runId);
        try {
          if (run.type === 'backgroundCheck') await handle.signal(cancelCheckSignal, { by: 'admin' });
          else if (run.type === 'onboardHire') await handle.signal(stopOnboardingSignal, { by: 'admin' });
          else continue;
          cancelled += 1;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err; // it ended meanwhile
        }
      }
      if (cancelled > 0) {
        await deps.connections.recordEvent(summary.id, 'workflows-cancelled', {
          ...by(req),
          detail: { workflows: cancelled },
        });
      }
    }
    const secretsErased = running.length === 0 && (await eraseSecrets(deps.connections, summary.id));
    deps.logger.info(
      { connectionId: summary.id, running: running.length, cancelled, secretsErased },
      'connection deleted by an admin',
    );
    const deleted = await deps.connections.findSummary(summary.id);
    res.json({
      ...view(deleted ?? summary, req),
      runningWorkflows: running.length,
      cancelledWorkflows: cancelled,
    });
  });

  router.get('/admin/connections/:id/events', async (req, res) => {
    const connection = await deps.connections.findSummary(req.params.id);
    if (connection === undefined) return sendProblem(res, 404, 'No such connection.');
    const events = await deps.connections.events(connection.id);
    res.json({
      events: events.map((e) => ({
        id: e.id,
        at: e.at.toISOString(),
        action: e.action,
        actor: e.actor,
        changes: e.changes,
        ...(e.detail === null || e.detail === undefined ? {} : { detail: e.detail }),
      })),
    });
  });

  /** The latest check of an opportunity: live state from the workflow, and the status log from PostgreSQL. */
  router.get('/admin/connections/:id/checks/:subjectId', async (req, res) => {
    const connection = await deps.connections.findSummary(req.params.id);
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
