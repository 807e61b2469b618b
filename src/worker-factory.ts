import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities, type ActivityDeps } from './activities';
import { DEFAULT_MAX_CACHED_WORKFLOWS, DEFAULT_MAX_CONCURRENT_ACTIVITIES } from './config';
import type { LeverRateLimits } from './ats/lever/rate-limiter';
import type { Logger } from './logger';

export interface CheckWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: Pool;
  logger: Logger;
  /** From createDataConverter (src/temporal/data-converter.ts): the one the service's clients use. */
  dataConverter: DataConverter;
  mail?: ActivityDeps['mail'];
  maxConcurrentActivityTaskExecutions?: number;
  /** Workflows kept in memory between tasks (the rest are replayed from history when they next have work). */
  maxCachedWorkflows?: number;
  /**
   * Limit of Lever calls per API key shared by all activities of this worker (src/worker.ts: by every process,
   * through PostgreSQL); default: this process's own limiter.
   */
  leverRateLimiter?: LeverRateLimits;
  /** Opens the connection secrets the activities read (src/worker.ts: secretBoxFromConfig). */
  secretBox: ActivityDeps['secretBox'];
  /** Stable report links for vendors whose report URLs expire; without it, profiles get the vendor's URL. */
  reportLinks?: ActivityDeps['reportLinks'];
  /** Request timeout and response limit of the ATS and vendor calls (src/worker.ts: from the configuration). */
  httpLimits?: ActivityDeps['httpLimits'];
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
    dataConverter: options.dataConverter,
    activities: createActivities({
      pool: options.pool,
      logger: options.logger,
      mail: options.mail,
      secretBox: options.secretBox,
      leverRateLimiter: options.leverRateLimiter,
      reportLinks: options.reportLinks,
      httpLimits: options.httpLimits,
    }),
    maxConcurrentActivityTaskExecutions:
      options.maxConcurrentActivityTaskExecutions ?? DEFAULT_MAX_CONCURRENT_ACTIVITIES,
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
  });
}
