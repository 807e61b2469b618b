import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { ApiConfig } from '../config';
import { CheckRepository } from '../db/checks';
import { ConnectionRepository } from '../db/connections';
import type { SecretBox } from '../db/secret-box';
import type { HttpLimits } from '../integrations/http-client';
import type { LeverRateLimits } from '../ats/lever/rate-limiter';
import { atsRouters } from '../ats/routers';
import type { Logger } from '../logger';
import type { ReportLinkKey } from '../report-links';
import { adminRouter } from './admin';
import { codecRouter } from './codec-router';
import { ConnectionCache } from './connection-cache';
import { answerParserErrorsWithProblems, notFoundHandler, problemHandler } from './problem';
import { publicRouteLimits } from './public-limits';
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
    | 'TRUST_PROXY'
    | 'RATE_LIMIT_WINDOW_MS'
    | 'RATE_LIMIT_SOURCE_REFUSED'
    | 'RATE_LIMIT_CONNECTION_ACCEPTED'
    | 'CONNECTION_CACHE_TTL_MS'
    | 'CONNECTION_CACHE_MAX'
  >;
  pool: Pool;
  /**
   * The connections: pass the repository other parts of the API process change connections through (e.g. the
   * secret erasure), so that the public routes' cache forgets what they change; made from `pool` when not given.
   */
  connections?: ConnectionRepository;
  temporal: Client;
  logger: Logger;
  /** Encrypts connection secrets at rest (src/main.ts: secretBoxFromConfig); used when `connections` is not given. */
  secretBox: SecretBox;
  /** Checks the report links on candidate profiles (src/main.ts: reportLinkKeyFromConfig). */
  reportLinkKey: ReportLinkKey;
  /** The Lever limit per API key of the admin API's calls (src/main.ts: shared); default this process's own. */
  leverRateLimiter?: LeverRateLimits;
  /**
   * Request timeout and response limit of the API's calls to ATSs and vendors (src/main.ts: VENDOR_REQUEST_TIMEOUT_MS,
   * VENDOR_RESPONSE_LIMIT_BYTES); their defaults when not given.
   */
  httpLimits?: HttpLimits;
}

/** The HTTP front: Lever webhooks, vendor callbacks, report links and the admin API. */
export function createApp(deps: AppDeps): Express {
  const { config, pool, temporal, logger, secretBox, reportLinkKey } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY ?? false);
  answerParserErrorsWithProblems(app);
  const connections = deps.connections ?? new ConnectionRepository(pool, secretBox);
  // The public routes read connections through a short-lived cache, so a flood costs no database work.
  const publicConnections = new ConnectionCache(connections, {
    ttlMs: config.CONNECTION_CACHE_TTL_MS,
    max: config.CONNECTION_CACHE_MAX,
  });
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
    publicRouteLimits({
      settings: {
        windowMs: config.RATE_LIMIT_WINDOW_MS,
        sourceRefused: config.RATE_LIMIT_SOURCE_REFUSED,
        connectionAccepted: config.RATE_LIMIT_CONNECTION_ACCEPTED,
      },
      connections: publicConnections,
      logger,
    }),
  );
  // Each ATS's public routes: Lever's webhooks, Ashby's partner endpoints.
  app.use(atsRouters({ pool, connections: publicConnections, temporal, logger, start, config }));
  app.use(
    vendorCallbackRouter({
      connections: publicConnections,
      checks,
      temporal,
      logger,
      bodyLimit: config.WEBHOOK_BODY_LIMIT,
    }),
  );
  app.use(
    adminRouter({
      connections,
      checks,
      temporal,
      logger,
      adminToken: config.ADMIN_TOKEN,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      ...(deps.leverRateLimiter === undefined ? {} : { leverRateLimiter: deps.leverRateLimiter }),
      httpLimits: deps.httpLimits,
    }),
  );
  app.use('/codec', codecRouter({ config, temporal }));
  app.use(
    reportLinkRouter({
      connections: publicConnections,
      key: reportLinkKey,
      logger,
      httpLimits: deps.httpLimits,
    }),
  );
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return app;
}
