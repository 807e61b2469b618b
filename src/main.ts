import { apiConfigSchema, loadConfig } from './config';
import { createApp } from './api/app';
import { migrate } from './db/migrate';
import { createPool } from './db/pool';
import { createLogger } from './logger';
import { connectClient } from './temporal/connection';

async function run(): Promise<void> {
  const config = loadConfig(apiConfigSchema);
  const logger = createLogger(config.LOG_LEVEL, 'api');
  await migrate(config.DATABASE_URL);
  const pool = createPool(config.DATABASE_URL);
  const temporal = await connectClient(config);
  const app = createApp({ config, pool, temporal, logger });
  const server = app.listen(config.API_PORT, config.API_HOST, () => {
    logger.info({ host: config.API_HOST, port: config.API_PORT }, 'api listening');
  });
  const shutdown = () => {
    server.close(() => {
      void Promise.all([pool.end(), temporal.connection.close()]).finally(() => process.exit(0));
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
