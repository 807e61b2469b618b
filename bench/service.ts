import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../src/temporal/dev-server-process';
import { waitForPoller, workerIdentity } from '../test/support/pollers';
import { entryProcess, startServiceProcess, stopProcess } from '../test/support/service-process';
import { atExit } from './lib';

const ROOT = path.resolve(__dirname, '..');
const LOG_DIR = path.join(ROOT, '.data', 'logs');
/** The workflow bundle `npm run build:workflows` writes, which the compiled worker loads. */
const WORKFLOW_BUNDLE = path.join(ROOT, 'dist', 'workflow-bundle.js');
/** Set once the service is compiled (bench/run.ts builds once for every benchmark it runs). */
const BUILT_VARIABLE = 'BENCH_SERVICE_BUILT';

/**
 * Compiles the service (`npm run build`) and its workflow bundle (`npm run build:workflows`) into dist/, as the
 * image does, unless this process or its parent did already: the benchmarks measure the service as it runs in
 * production, node running compiled code with a prebuilt bundle.
 */
export function buildService(): void {
  if (process.env[BUILT_VARIABLE] === '1') return;
  const started = Date.now();
  for (const script of ['build', 'build:workflows']) {
    const run = spawnSync('npm', ['run', '--silent', script], { cwd: ROOT, stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`npm run ${script} failed (${run.status ?? run.signal})`);
  }
  // As the image does: the compiled API checks the schema against the migrations next to it.
  cpSync(path.join(ROOT, 'src', 'db', 'migrations'), path.join(ROOT, 'dist', 'src', 'db', 'migrations'), {
    recursive: true,
  });
  process.env[BUILT_VARIABLE] = '1';
  console.log(`service compiled into dist/ in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ServiceOptions {
  /** Names the task queue and the log files `.data/logs/bench-<name>-{api,worker}.log`. */
  name: string;
  temporalAddress: string;
  /** Extra environment of both processes (e.g. the worker's Lever limiter, the API's rate limits). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The service on its production shape: the API (dist/src/main.js) and the worker (dist/src/worker.js, with the
 * prebuilt workflow bundle) each a process of its own, run by node from compiled code (`buildService` first),
 * with their own process group (stopped as a group), against the benchmark's Temporal server and database.
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
    buildService();
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
      WORKFLOW_BUNDLE_PATH: WORKFLOW_BUNDLE,
      ...options.env,
    };
    service.api = startServiceProcess('src/main.ts', service.env, {
      logFile: service.logFile('api'),
      compiled: true,
    });
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
    // BENCH_WORKER_NODE_OPTIONS: node options of the worker alone (e.g. a heap limit, to measure its memory under one).
    const nodeOptions = process.env.BENCH_WORKER_NODE_OPTIONS;
    const env = nodeOptions === undefined ? this.env : { ...this.env, NODE_OPTIONS: nodeOptions };
    this.worker = startServiceProcess('src/worker.ts', env, { logFile, compiled: true });
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
