import { NativeConnection } from '@temporalio/worker';
import { loadConfig, workerConfigSchema } from './config';
import { createPool } from './db/pool';
import { migrate } from './db/migrate';
import { createLogger } from './logger';
import { createCheckWorker } from './worker-factory';

async function run(): Promise<void> {
  const config = loadConfig(workerConfigSchema);
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  await migrate(config.DATABASE_URL);
  const pool = createPool(config.DATABASE_URL);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const worker = await createCheckWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      pool,
      logger,
      mail: config.SMTP_URL ? { smtpUrl: config.SMTP_URL, from: config.MAIL_FROM } : undefined,
      maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    });
    logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker started');
    await worker.run();
  } finally {
    await connection.close();
    await pool.end();
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
