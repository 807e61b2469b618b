import { NativeConnection } from '@temporalio/worker';
import { loadConfig, workerConfigSchema } from './config';
import { createPool, idleErrorWarning } from './db/pool';
import { checkRuntimeDatabase } from './db/runtime-database';
import { httpLimitsOf } from './integrations/http-client';
import { leverRateLimitsFromConfig } from './ats/lever/shared-rate-limit';
import { applyUrlPolicy } from './integrations/url-policy';
import { createLogger } from './logger';
import { reportLinksFromConfig } from './report-links';
import { startupKeys } from './startup';
import { temporalTls } from './temporal/connection';
import { createCheckWorker } from './worker-factory';

async function run(): Promise<void> {
  const config = loadConfig(workerConfigSchema);
  applyUrlPolicy(config); // refuses ALLOW_HTTP_URLS in production
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  // Activities decrypt connection secrets with this box: made now, so a worker without keys stops here instead of
  // failing every activity.
  const { dataConverter, secretBox } = startupKeys(config, logger);
  const tls = temporalTls(config); // a wrong TEMPORAL_TLS_* stops here, before any work
  const reportLinks = reportLinksFromConfig(config); // refuses production without PUBLIC_BASE_URL
  if (reportLinks === undefined)
    logger.warn("PUBLIC_BASE_URL is not set: profiles get the vendors' own report URLs, which may expire");
  else if (reportLinks.key.development)
    logger.warn(
      'REPORT_LINK_KEY is not set (BGC_DEVELOPMENT_KEYS): report links are signed with the development key',
    );
  const pool = createPool(config.DATABASE_URL, {
    onIdleError: idleErrorWarning((fields, message) => logger.warn(fields, message)),
  });
  // Migrations run as their own role (npm run migrate); this one only checks the schema and its own rights.
  await checkRuntimeDatabase(pool, {
    production: config.NODE_ENV === 'production',
    warn: (message) => logger.warn(message),
  });
  // Lever's limit per API key holds across every worker and API process (LEVER_RATE_SHARED), through PostgreSQL.
  const leverRate = leverRateLimitsFromConfig(config, logger);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS, tls });
  try {
    const worker = await createCheckWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      pool,
      logger,
      dataConverter,
      mail: { smtpUrl: config.SMTP_URL, from: config.MAIL_FROM },
      secretBox,
      maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
      workflowBundle:
        config.WORKFLOW_BUNDLE_PATH === undefined ? undefined : { codePath: config.WORKFLOW_BUNDLE_PATH },
      reportLinks,
      leverRateLimiter: leverRate.limits,
      httpLimits: httpLimitsOf(config),
    });
    logger.info(
      { taskQueue: config.TEMPORAL_TASK_QUEUE, leverRateShared: leverRate.shared },
      'worker started',
    );
    await worker.run();
  } finally {
    await connection.close();
    await Promise.all([pool.end(), leverRate.close()]);
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
