import type { Client } from '@temporalio/client';
import type { Router } from 'express';
import type { Pool } from 'pg';
import type { StartOptions } from '../api/check-starter';
import type { ConnectionReader } from '../api/connection-cache';
import type { ApiConfig } from '../config';
import { WebhookInbox } from '../db/inbox';
import type { Logger } from '../logger';
import { AssessmentRepository } from './ashby/assessments';
import { ashbyPartnerRouter } from './ashby/partner';
import { leverWebhookRouter } from './lever/webhooks';

export interface AtsRouterDeps {
  pool: Pool;
  /** The public routes' (cached) connections. */
  connections: ConnectionReader;
  temporal: Client;
  logger: Logger;
  start: StartOptions;
  config: Pick<ApiConfig, 'WEBHOOK_BODY_LIMIT' | 'LEVER_WEBHOOK_MAX_AGE_MS'>;
}

/**
 * The public routes of each ATS, for the API to mount: Lever's webhooks (`/webhooks/lever/:connectionId`) and
 * Ashby's partner endpoints (`/ashby/:connectionId/…`). Their paths do not overlap.
 */
export function atsRouters({ pool, config, ...deps }: AtsRouterDeps): Router[] {
  const inbox = new WebhookInbox(pool);
  return [
    leverWebhookRouter({
      ...deps,
      inbox,
      bodyLimit: config.WEBHOOK_BODY_LIMIT,
      maxAgeMs: config.LEVER_WEBHOOK_MAX_AGE_MS,
    }),
    ashbyPartnerRouter({ ...deps, inbox, assessments: new AssessmentRepository(pool) }),
  ];
}
