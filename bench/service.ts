import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, mkdirSync, openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../src/temporal/dev-server-process';
import { temporalServerKind, type TemporalServerKind } from '../src/temporal/server-process';
import { workerIdentity } from '../test/support/pollers';
import { waitForPoller } from '../test/support/waits';
import { entryProcess, startServiceProcess, stopProcess } from '../test/support/service-process';
import { atExit, treeRss } from './lib';

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
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** How many API processes and workers a benchmark's service runs. */
export interface Scale {
  apis: number;
  workers: number;
}

/** `BENCH_APIS` and `BENCH_WORKERS` (whole numbers ≥ 1), 1 and 1 when unset. */
export function benchScale(env: NodeJS.ProcessEnv = process.env): Scale {
  const read = (name: string): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return 1;
    if (!/^[1-9]\d*$/.test(raw)) throw new Error(`${name} must be a whole number ≥ 1, not "${raw}"`);
    return Number(raw);
  };
  return { apis: read('BENCH_APIS'), workers: read('BENCH_WORKERS') };
}

/**
 * What a benchmark measured on, for its parameters (printed and in its JSON): the Temporal server (the dev server
 * on SQLite, or the production server on PostgreSQL with `BGC_TEMPORAL=postgres`), API processes, workers.
 */
export function topology(
  kind: TemporalServerKind = temporalServerKind(),
  scale: Scale = benchScale(),
): { temporal: string; apis: number; workers: number } {
  return {
    temporal: kind === 'dev' ? 'dev/SQLite' : 'server/PostgreSQL',
    apis: scale.apis,
    workers: scale.workers,
  };
}

/** The topology as a benchmark prints it first: `temporal=dev/SQLite apis=1 workers=1`. */
export function describeTopology(kind?: TemporalServerKind): string {
  return Object.entries(topology(kind))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export interface ServiceOptions {
  /**
   * Names the task queue and the log files `.data/logs/bench-<name>-{api,worker}.log` (`-api-1.log`, `-api-2.log`,
   * … with several; the load balancer's is `bench-<name>-lb.log`).
   */
  name: string;
  temporalAddress: string;
  /** Extra environment of every process (e.g. the worker's Lever limiter, the API's rate limits). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The service on its production shape: API processes (dist/src/main.js) and workers (dist/src/worker.js, with the
 * prebuilt workflow bundle), each a process of its own, run by node from compiled code (`buildService` first),
 * each with its own process group (stopped as a group), against the benchmark's Temporal server and database.
 * How many of each: `BENCH_APIS` and `BENCH_WORKERS` (default 1 and 1, see `benchScale`). With more than one API
 * process, a round-robin load balancer (bench/load-balancer.ts, a process of its own) stands in front of them and
 * `apiUrl` (the service's PUBLIC_BASE_URL: Lever's webhooks, vendor callbacks, the admin API) is its URL, as in
 * production. Every worker polls the same task queue; they are started and stopped together, on demand (ingest
 * measures with them stopped).
 */
export class BenchService {
  readonly adminToken = `bench-${randomBytes(12).toString('hex')}`;
  readonly taskQueue: string;
  readonly scale: Scale;
  /** Where the service is reached: the load balancer with more than one API process, else the API itself. */
  apiUrl = '';
  apis: ChildProcess[] = [];
  /** The node process running src/main.ts in each API process (its RSS is the API's). */
  apiPids: number[] = [];
  workers: ChildProcess[] = [];
  /** The node process running src/worker.ts in each worker (its RSS is the worker's), while they run. */
  workerPids: number[] = [];
  loadBalancer: ChildProcess | undefined;
  private env: NodeJS.ProcessEnv = {};

  private constructor(private readonly options: ServiceOptions) {
    this.taskQueue = `bench-${options.name}-${randomBytes(4).toString('hex')}`;
    this.scale = benchScale();
  }

  static async start(options: ServiceOptions): Promise<BenchService> {
    buildService();
    const service = new BenchService(options);
    atExit(() => service.stop());
    const apiPorts: number[] = [];
    for (let i = 0; i < service.scale.apis; i++) apiPorts.push(await freePort());
    const apiUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`);
    if (service.scale.apis > 1) {
      const port = await freePort();
      service.apiUrl = `http://127.0.0.1:${port}`;
      const log = openSync(service.logFile('lb'), 'w');
      try {
        service.loadBalancer = spawn(
          TSX,
          [path.join(__dirname, 'load-balancer.ts'), String(port), ...apiUrls],
          {
            cwd: ROOT,
            stdio: ['ignore', log, log],
            detached: true, // its own process group, as the service's processes
          },
        );
      } finally {
        closeSync(log);
      }
    } else {
      service.apiUrl = apiUrls[0]!;
    }
    service.env = {
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_TASK_QUEUE: service.taskQueue,
      ADMIN_TOKEN: service.adminToken,
      API_PORT: String(apiPorts[0]),
      PUBLIC_BASE_URL: service.apiUrl,
      // Required by the worker; the Lever → Certn checks measured here send no e-mail.
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
      LOG_LEVEL: 'warn',
      WORKFLOW_BUNDLE_PATH: WORKFLOW_BUNDLE,
      ...options.env,
    };
    for (const [i, port] of apiPorts.entries()) {
      service.apis.push(
        startServiceProcess(
          'src/main.ts',
          { ...service.env, API_PORT: String(port) },
          { logFile: service.logFile('api', i, service.scale.apis), compiled: true },
        ),
      );
    }
    service.apiPids = (await Promise.all(service.apis.map((api) => entryProcess(api, 60_000)))).map(
      (p) => p.pid,
    );
    // Each API, then the load balancer in front of them.
    for (const url of service.scale.apis > 1 ? [...apiUrls, service.apiUrl] : apiUrls) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ok = await fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        const exited = [...service.apis, ...(service.loadBalancer ? [service.loadBalancer] : [])].find(
          (child) => child.exitCode !== null || child.signalCode !== null,
        );
        if (exited !== undefined || Date.now() > deadline) {
          throw new Error(
            `${url} did not answer${exited === undefined ? '' : ` (process ${exited.pid} exited)`}; ` +
              `see ${LOG_DIR}/bench-${options.name}-*.log`,
          );
        }
        await sleep(100);
      }
    }
    return service;
  }

  /** `which` alone when there is one of its kind, else numbered from 1. */
  private logFile(which: 'api' | 'worker' | 'lb', index = 0, count = 1): string {
    mkdirSync(LOG_DIR, { recursive: true });
    const suffix = count === 1 ? which : `${which}-${index + 1}`;
    return path.join(LOG_DIR, `bench-${this.options.name}-${suffix}.log`);
  }

  /** "worker" or "workers (2)": how the report names the workers' figures. */
  get workerLabel(): string {
    return this.scale.workers === 1 ? 'worker' : `workers (${this.scale.workers})`;
  }

  /** "API" or "APIs (2)". */
  get apiLabel(): string {
    return this.scale.apis === 1 ? 'API' : `APIs (${this.scale.apis})`;
  }

  /** Resident memory (bytes) of all the workers together (0 while they are stopped). */
  workerRss(): number {
    return this.workerPids.reduce((sum, pid) => sum + treeRss(pid), 0);
  }

  /** Resident memory (bytes) of all the API processes together (the load balancer not counted). */
  apiRss(): number {
    return this.apiPids.reduce((sum, pid) => sum + treeRss(pid), 0);
  }

  /** Starts every worker and waits until Temporal lists each polling the task queue. */
  async startWorker(): Promise<void> {
    if (this.workers.length > 0) throw new Error('the workers run already');
    // BENCH_WORKER_NODE_OPTIONS: node options of the workers alone (e.g. a heap limit, to measure their memory under one).
    const nodeOptions = process.env.BENCH_WORKER_NODE_OPTIONS;
    const env = nodeOptions === undefined ? this.env : { ...this.env, NODE_OPTIONS: nodeOptions };
    for (let i = 0; i < this.scale.workers; i++) {
      const logFile = this.logFile('worker', i, this.scale.workers);
      rmSync(logFile, { force: true });
      this.workers.push(startServiceProcess('src/worker.ts', env, { logFile, compiled: true }));
    }
    this.workerPids = (await Promise.all(this.workers.map((worker) => entryProcess(worker, 60_000)))).map(
      (p) => p.pid,
    );
    await Promise.all(
      this.workerPids.map((pid) =>
        waitForPoller(this.options.temporalAddress, this.taskQueue, workerIdentity(pid)),
      ),
    );
  }

  /** Stops every worker. */
  async stopWorker(): Promise<void> {
    const workers = this.workers.splice(0);
    this.workerPids = [];
    await settleAll(workers.map((worker) => stopProcess(worker)));
  }

  async stop(): Promise<void> {
    const apis = this.apis.splice(0);
    this.apiPids = [];
    const loadBalancer = this.loadBalancer;
    this.loadBalancer = undefined;
    await settleAll([
      this.stopWorker(),
      ...apis.map((api) => stopProcess(api)),
      ...(loadBalancer === undefined ? [] : [stopProcess(loadBalancer)]),
    ]);
  }
}

/** Waits for every promise, then rejects with the first failure, if any: one failing stops none of the others. */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
