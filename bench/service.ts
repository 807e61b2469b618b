import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../src/temporal/dev-server-process';
import { waitForPoller, workerIdentity } from '../test/support/pollers';
import { entryProcess, startServiceProcess, stopProcess } from '../test/support/service-process';
import { atExit } from './lib';

const LOG_DIR = path.resolve(__dirname, '..', '.data', 'logs');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ServiceOptions {
  /** Names the task queue and the log files `.data/logs/bench-<name>-{api,worker}.log`. */
  name: string;
  temporalAddress: string;
  /** Extra environment of both processes (e.g. the worker's Lever limiter, the API's rate limits). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The service on its production shape: the API (src/main.ts) and the worker (src/worker.ts) each a process of its
 * own, with their own process group (stopped as a group), against the benchmark's Temporal server and database.
 * The worker is started and stopped on demand (ingest measures with it stopped).
 */
export class BenchService {
  readonly adminToken = `bench-${randomBytes(12).toString('hex')}`;
  readonly taskQueue: string;
  apiUrl = '';
  api: ChildProcess | undefined;
  worker: ChildProcess | undefined;
  /** The node process that runs src/worker.ts (its RSS is the worker's), once started. */
  workerPid: number | undefined;
  apiPid: number | undefined;
  private env: NodeJS.ProcessEnv = {};

  private constructor(private readonly options: ServiceOptions) {
    this.taskQueue = `bench-${options.name}-${randomBytes(4).toString('hex')}`;
  }

  static async start(options: ServiceOptions): Promise<BenchService> {
    const service = new BenchService(options);
    atExit(() => service.stop());
    const apiPort = await freePort();
    service.apiUrl = `http://127.0.0.1:${apiPort}`;
    service.env = {
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_TASK_QUEUE: service.taskQueue,
      ADMIN_TOKEN: service.adminToken,
      API_PORT: String(apiPort),
      PUBLIC_BASE_URL: service.apiUrl,
      // Required by the worker; the Lever → Certn checks measured here send no e-mail.
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
      LOG_LEVEL: 'warn',
      ...options.env,
    };
    service.api = startServiceProcess('src/main.ts', service.env, { logFile: service.logFile('api') });
    service.apiPid = (await entryProcess(service.api, 60_000)).pid;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${service.apiUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`the API did not answer; see ${service.logFile('api')}`);
      await sleep(100);
    }
    return service;
  }

  private logFile(which: 'api' | 'worker'): string {
    mkdirSync(LOG_DIR, { recursive: true });
    return path.join(LOG_DIR, `bench-${this.options.name}-${which}.log`);
  }

  /** Starts the worker and waits until Temporal lists it polling the task queue. */
  async startWorker(): Promise<void> {
    if (this.worker !== undefined) throw new Error('the worker runs already');
    const logFile = this.logFile('worker');
    rmSync(logFile, { force: true });
    this.worker = startServiceProcess('src/worker.ts', this.env, { logFile });
    this.workerPid = (await entryProcess(this.worker, 60_000)).pid;
    await waitForPoller(this.options.temporalAddress, this.taskQueue, workerIdentity(this.workerPid));
  }

  async stopWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.workerPid = undefined;
    if (worker !== undefined) await stopProcess(worker);
  }

  async stop(): Promise<void> {
    const api = this.api;
    this.api = undefined;
    await Promise.all([this.stopWorker(), api === undefined ? undefined : stopProcess(api)]);
  }
}
