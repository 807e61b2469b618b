import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities, type ActivityDeps } from './activities';
import type { Logger } from './logger';
import { createDataConverter } from './temporal/data-converter';

export interface CheckWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: Pool;
  logger: Logger;
  mail?: ActivityDeps['mail'];
  maxConcurrentActivityTaskExecutions?: number;
  /** A prebuilt workflow bundle (tests share one to save the bundling time). */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export const WORKFLOWS_PATH = path.join(__dirname, 'workflows');

/** Creates the worker that runs check workflows and their activities. */
export function createCheckWorker(options: CheckWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve(WORKFLOWS_PATH) }),
    dataConverter: createDataConverter(),
    activities: createActivities({ pool: options.pool, logger: options.logger, mail: options.mail }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions,
  });
}
