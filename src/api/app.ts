import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { ApiConfig } from '../config';
import { AssessmentRepository } from '../db/assessments';
import { CheckRepository } from '../db/checks';
import { ConnectionRepository } from '../db/connections';
import { WebhookInbox } from '../db/inbox';
import type { SecretBox } from '../db/secret-box';
import type { Logger } from '../logger';
import { reportLinkKeyFromEnv, type ReportLinkKey } from '../report-links';
import { adminRouter } from './admin';
import { ashbyPartnerRouter } from './ashby-partner';
import { codecRouter } from './codec-router';
import { leverWebhookRouter } from './lever-webhooks';
import { answerParserErrorsWithProblems, notFoundHandler, problemHandler } from './problem';
import { reportLinkRouter } from './report-links';
import { vendorCallbackRouter } from './vendor-callbacks';

export interface AppDeps {
  config: Pick<
    ApiConfig,
    | 'ADMIN_TOKEN'
    | 'PUBLIC_BASE_URL'
    | 'WEBHOOK_BODY_LIMIT'
    | 'LEVER_WEBHOOK_MAX_AGE_MS'
    | 'TEMPORAL_TASK_QUEUE'
    | 'VENDOR_POLL_INTERVAL_MS'
    | 'ACTIVITY_MAX_ATTEMPTS'
  >;
  pool: Pool;
  temporal: Client;
  logger: Logger;
  /** Encrypts connection secrets at rest; read from the environment when not given. */
  secretBox?: SecretBox;
  /** Checks the report links on candidate profiles; read from the environment when not given. */
  reportLinkKey?: ReportLinkKey;
}

/** The HTTP front: Lever webhooks, vendor callbacks, report links and the admin API. */
export function createApp({ config, pool, temporal, logger, secretBox, reportLinkKey }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  answerParserErrorsWithProblems(app);
  const connections = new ConnectionRepository(pool, secretBox);
  const checks = new CheckRepository(pool);
  const start = {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pollIntervalMs: config.VENDOR_POLL_INTERVAL_MS,
    maxAttempts: config.ACTIVITY_MAX_ATTEMPTS,
  };

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(
    leverWebhookRouter({
      connections,
      inbox: new WebhookInbox(pool),
      temporal,
      logger,
      start,
      bodyLimit: config.WEBHOOK_BODY_LIMIT,
      maxAgeMs: config.LEVER_WEBHOOK_MAX_AGE_MS,
    }),
  );
  app.use(
    vendorCallbackRouter({ connections, checks, temporal, logger, bodyLimit: config.WEBHOOK_BODY_LIMIT }),
  );
  app.use(
    adminRouter({
      connections,
      checks,
      temporal,
      logger,
      adminToken: config.ADMIN_TOKEN,
      publicBaseUrl: config.PUBLIC_BASE_URL,
    }),
  );
  app.use(
    ashbyPartnerRouter({ connections, assessments: new AssessmentRepository(pool), temporal, logger, start }),
  );
  app.use('/codec', codecRouter({ config, temporal }));
  app.use(reportLinkRouter({ connections, key: reportLinkKey ?? reportLinkKeyFromEnv(), logger }));
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return app;
}
