import { NativeConnection } from '@temporalio/worker';
import { loadConfig, requireKeys, workerConfigSchema } from './config';
import { createPool, idleErrorWarning } from './db/pool';
import { checkRuntimeDatabase } from './db/runtime-database';
import { secretBoxFromConfig } from './db/secret-box';
import { httpLimitsOf } from './integrations/http-error';
import { leverRateLimitsFromConfig } from './ats/lever/shared-rate-limit';
import { checkUrlPolicy } from './integrations/url-policy';
import { createLogger } from './logger';
import { reportLinksFromConfig } from './report-links';
import { temporalTls } from './temporal/connection';
import { createDataConverter } from './temporal/data-converter';
import { createCheckWorker } from './worker-factory';

async function run(): Promise<void> {
  const config = loadConfig(workerConfigSchema);
  checkUrlPolicy(config); // refuses ALLOW_HTTP_URLS in production
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  requireKeys(config); // refuses to start without the keys, unless BGC_DEVELOPMENT_KEYS (never in production)
  const tls = temporalTls(config); // a wrong TEMPORAL_TLS_* stops here, before any work
  const dataConverter = createDataConverter(config);
  if (!dataConverter.payloadCodecs?.length)
    logger.warn('PAYLOAD_KEYS is not set (BGC_DEVELOPMENT_KEYS): Temporal payloads are not encrypted');
  else if (config.PAYLOAD_ALLOW_PLAINTEXT)
    logger.warn(
      'PAYLOAD_ALLOW_PLAINTEXT: plain Temporal payloads are accepted, anyone who reaches Temporal can forge them',
    );
  // Activities decrypt connection secrets (their repositories read these same variables): check them now, so
  // a worker without keys stops here instead of failing every activity.
  const secretBox = secretBoxFromConfig(config);
  if (secretBox.development)
    logger.warn('SECRETS_KEYS is not set (BGC_DEVELOPMENT_KEYS): connection secrets use the development key');
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
