import { apiConfigSchema, loadConfig } from './config';
import { createApp } from './api/app';
import { ConnectionRetirement } from './api/connection-retirement';
import { DedupeRetention } from './api/dedupe-retention';
import { createInboxRelay } from './api/inbox-relay';
import { ConnectionRepository } from './db/connections';
import { createPool, idleErrorWarning } from './db/pool';
import { checkRuntimeDatabase } from './db/runtime-database';
import { httpLimitsOf } from './integrations/http-client';
import { leverRateLimitsFromConfig } from './ats/lever/shared-rate-limit';
import { applyUrlPolicy } from './integrations/url-policy';
import { createLogger } from './logger';
import { startupKeys } from './startup';
import { reportLinkKeyFromConfig } from './report-links';
import { connectClient } from './temporal/connection';

async function run(): Promise<void> {
  const config = loadConfig(apiConfigSchema);
  applyUrlPolicy(config); // refuses ALLOW_HTTP_URLS in production
  const logger = createLogger(config.LOG_LEVEL, 'api');
  const { dataConverter, secretBox } = startupKeys(config, logger); // refuses to start without the keys
  const reportLinkKey = reportLinkKeyFromConfig(config);
  if (reportLinkKey.development)
    logger.warn(
      'REPORT_LINK_KEY is not set (BGC_DEVELOPMENT_KEYS): report links are checked with the development key',
    );
  const pool = createPool(config.DATABASE_URL, {
    connectionTimeoutMs: config.DATABASE_POOL_TIMEOUT_MS,
    onIdleError: idleErrorWarning((fields, message) => logger.warn(fields, message)),
  });
  // Migrations run as their own role (npm run migrate); this one only checks the schema and its own rights.
  await checkRuntimeDatabase(pool, {
    production: config.NODE_ENV === 'production',
    warn: (message) => logger.warn(message),
  });
  const temporal = await connectClient(config, dataConverter);
  // The admin API reads a new connection's stages from Lever: within the key's limit shared with the workers.
  const leverRate = leverRateLimitsFromConfig(config, logger);
  // One repository for the app and the secret erasure, so the public routes' cache forgets erased connections.
  const connections = new ConnectionRepository(pool, secretBox);
  const app = createApp({
    config,
    pool,
    temporal,
    logger,
    secretBox,
    reportLinkKey,
    connections,
    leverRateLimiter: leverRate.limits,
    httpLimits: httpLimitsOf(config),
  });
  const server = app.listen(config.API_PORT, config.API_HOST, () => {
    logger.info({ host: config.API_HOST, port: config.API_PORT }, 'api listening');
  });
  // Starts the workflows of recorded deliveries that could not be started on arrival (Temporal unreachable).
  const relay = createInboxRelay({ config, pool, temporal, logger, secretBox });
  relay.start();
  // Erases the secrets of deleted connections once their last running check has ended.
  const retirement = new ConnectionRetirement({
    connections,
    temporal,
    logger,
    intervalMs: config.CONNECTION_SWEEP_INTERVAL_MS,
  });
  retirement.start();
  // Deletes processed dedupe rows (webhook_inbox, vendor_callbacks) past WEBHOOK_RETENTION_MS.
  const retention = new DedupeRetention({ pool, logger, retentionMs: config.WEBHOOK_RETENTION_MS });
  retention.start();
  const shutdown = () => {
    server.close(() => {
      void Promise.all([relay.stop(), retirement.stop(), retention.stop()])
        .then(() => Promise.all([pool.end(), leverRate.close(), temporal.connection.close()]))
        .finally(() => process.exit(0));
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
