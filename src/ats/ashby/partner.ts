import { randomBytes } from 'node:crypto';
import express, { Router, type Response } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { z } from 'zod';
import type { AssessmentRepository } from './assessments';
import type { Connection } from '../connection';
import {
  ashbyPartnerAuthorized,
  assessmentCancelRequestSchema,
  assessmentStartRequestSchema,
} from './client';
import type { Logger } from '../../logger';
import { checkAdapterFor } from '../../vendors';
import type { CheckVendorAdapter } from '../../vendors/types';
import { checkWorkflowId } from '../../domain/workflow-ids';
import { cancelCheckSignal } from '../../workflows/definitions';
import { DEFAULT_START_TIMEOUT_MS, type StartOptions } from '../../api/check-starter';
import { startRecordedDelivery } from '../../api/recorded-start';
import { HANDLER_HOLD_MS, type WebhookInbox } from '../../db/inbox';
import { sendProblem } from '../../api/problem';
import type { ConnectionReader } from '../../api/connection-cache';

export interface AshbyPartnerDeps {
  connections: ConnectionReader;
  assessments: AssessmentRepository;
  temporal: Client;
  logger: Logger;
  start: StartOptions;
  /** Where assessment.start records its start, with the assessment (the inbox relay makes what it could not). */
  inbox: WebhookInbox;
  /** Deadline of the request's own start attempt (ms). */
  startTimeoutMs?: number;
}

/** Ashby shows `message` to its user; problem+json's `detail` says the same for everyone else. */
function refuse(res: Response, status: number, message: string) {
  sendProblem(res, status, message, { message });
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'the request is not valid';
}

/**
 * The service as Ashby's assessment partner, one base URL per connection (docs/ashby-partner.md): Ashby lists
 * the packages, starts an assessment (one background check) and may cancel it. Ashby authenticates with the
 * connection's shared partner secret.
 */
export function ashbyPartnerRouter(deps: AshbyPartnerDeps): Router {
  const router = Router();

  /** Resolves the connection and checks Ashby's secret; an unknown connection looks like a wrong secret. */
  async function authorize(
    connectionId: string,
    authorization: string | undefined,
    res: Response,
  ): Promise<{ connection: Connection; adapter: CheckVendorAdapter; settings: unknown } | undefined> {
    if ((await deps.connections.findSummary(connectionId))?.lifecycle.status === 'deleted') {
      refuse(res, 404, 'This integration was removed from the account.');
      return undefined;
    }
    const connection = await deps.connections.find(connectionId);
    const adapter = connection && checkAdapterFor(connection.vendor);
    if (
      connection === undefined ||
      adapter === undefined ||
      connection.ats.kind !== 'ashby' ||
      !ashbyPartnerAuthorized(authorization, connection.ats.secrets.partnerSecret)
    ) {
      res.set('WWW-Authenticate', 'Bearer');
      refuse(res, 401, 'invalid partner secret');
      return undefined;
    }
    return { connection, adapter, settings: adapter.settingsSchema.parse(connection.vendorSettings) };
  }

  async function isRunning(workflowId: string): Promise<boolean> {
    try {
      return (await deps.temporal.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  router.use('/ashby/:connectionId', express.json({ limit: '64kb', type: () => true }));

  router.post('/ashby/:connectionId/assessment.list', async (req, res) => {
    const auth = await authorize(req.params.connectionId, req.get('authorization'), res);
    if (!auth) return;
    res.json({
      results: auth.adapter
        .packages(auth.settings)
        .map((p) => ({ assessment_type_id: p.id, name: p.name, description: p.description })),
    });
  });

  router.post('/ashby/:connectionId/assessment.start', async (req, res) => {
    const auth = await authorize(req.params.connectionId, req.get('authorization'), res);
    if (!auth) return;
    if (auth.connection.lifecycle.status === 'paused') {
      return refuse(
        res,
        422,
        `The ${auth.adapter.displayName} integration is paused for this account; ask your administrator to resume it, then start the assessment again.`,
      );
    }
    const parsed = assessmentStartRequestSchema.safeParse(req.body);
    if (!parsed.success)
      return refuse(res, 422, `The assessment request is not valid (${firstIssue(parsed.error)}).`);
    const request = parsed.data;
    const listing = auth.adapter.packages(auth.settings).find((p) => p.id === request.assessment_type_id);
    if (listing === undefined) {
      return refuse(
        res,
        422,
        `Unknown assessment type "${request.assessment_type_id}" for this ${auth.adapter.displayName} account.`,
      );
    }
    const email = request.candidate.email?.trim() || null;
    if (email === null) {
      return refuse(
        res,
        422,
        'The candidate has no email address; add one in Ashby and start the assessment again.',
      );
    }

    const key = {
      connectionId: auth.connection.id,
      candidateAshbyId: request.candidate.ashby_id,
      assessmentTypeId: listing.id,
    };
    const outcome = await deps.assessments.withCandidateLock(key, async (earlier, record) => {
      for (const assessment of earlier) {
        if (assessment.startPending || (await isRunning(assessment.workflowId)))
          return { kind: 'running' as const };
      }
      const id = `asm_${randomBytes(12).toString('hex')}`;
      const workflowId = checkWorkflowId(auth.connection.id, id);
      const inboxId = await record(
        {
          ...key,
          id,
          workflowId,
          candidate: {
            firstName: request.candidate.first_name,
            lastName: request.candidate.last_name,
            email,
            profileUrl: request.candidate.ashby_profile_url?.trim() || null,
          },
          jobName: request.job?.name ?? null,
        },
        HANDLER_HOLD_MS,
      );
      return { kind: 'recorded' as const, id, inboxId };
    });
    if (outcome.kind === 'running') {
      return refuse(res, 409, `This candidate is already being assessed with "${listing.name}".`);
    }
    // Recorded with its start: from here the assessment is Ashby's to keep, and Ashby is told its id whatever
    // happens next. Its check starts now, or else the inbox relay starts it once Temporal takes it.
    const fields = { connectionId: auth.connection.id, assessmentId: outcome.id, inboxId: outcome.inboxId };
    try {
      const result = await startRecordedDelivery(
        {
          inbox: deps.inbox,
          temporal: deps.temporal,
          start: deps.start,
          startTimeoutMs: deps.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
          logger: deps.logger,
        },
        {
          inboxId: outcome.inboxId,
          attempts: 0,
          connection: auth.connection,
          integration: auth.adapter,
          subjectId: outcome.id,
        },
      );
      if (result.kind === 'started') deps.logger.info(fields, 'assessment started');
      else deps.logger.warn({ ...fields, reason: result.reason }, 'assessment recorded; its start is queued');
    } catch (err) {
      // Our own failure after the record (database): the row stays unprocessed, the relay starts it.
      deps.logger.error({ ...fields, err }, 'assessment recorded; its start is left to the inbox relay');
    }
    res.json({ success: true, results: { assessment_id: outcome.id } });
  });

  router.post('/ashby/:connectionId/assessment.cancel', async (req, res) => {
    const auth = await authorize(req.params.connectionId, req.get('authorization'), res);
    if (!auth) return;
    const parsed = assessmentCancelRequestSchema.safeParse(req.body);
    if (!parsed.success)
      return refuse(res, 422, `The cancel request is not valid (${firstIssue(parsed.error)}).`);
    const assessment = await deps.assessments.find(auth.connection.id, parsed.data.assessment_id);
    if (assessment === undefined) return refuse(res, 404, 'No such assessment.');
    // A start still waiting in the inbox is not made any more (one on its way cancels what it starts).
    if (await deps.inbox.cancelPending(auth.connection.id, 'ashby', assessment.id)) {
      deps.logger.info(
        { connectionId: auth.connection.id, assessmentId: assessment.id },
        'queued assessment cancelled',
      );
      return res.json({ success: true });
    }
    if (await isRunning(assessment.workflowId)) {
      try {
        await deps.temporal.workflow
          .getHandle(assessment.workflowId)
          .signal(cancelCheckSignal, { by: 'ats' });
      } catch (err) {
        // The check ended between the two calls (e.g. an earlier cancel): there is nothing left to cancel.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    res.json({ success: true });
  });

  return router;
}
