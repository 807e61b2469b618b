import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { startCertnEmulator, type RunningCertnEmulator } from '../../sandbox/certn-emulator';
import { startLeverEmulator, type RunningLeverEmulator } from '../../sandbox/lever-emulator';
import { freePort } from '../../src/temporal/dev-server-process';
import { temporalServerInTempDir, type TemporalServerProcess } from '../../src/temporal/server-process';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { connectLeverToCertn, type ProcessConnection } from './connect-certn';
import { startLoadBalancer, type RunningLoadBalancer } from './load-balancer';
import { workerIdentity } from './pollers';
import { isRunning, type ProcessInfo } from './processes';
import { entryProcess, startServiceProcess, stopProcess } from './service-process';
import { eventually, waitForPoller } from './waits';

/**
 * The service on its production shape, crashed while it works: the Temporal server persisting to PostgreSQL, two API
 * processes behind a load balancer, two workers on one task queue, `customers` Lever accounts (one Lever emulator
 * each, as each customer has its own Lever) with Certn as their vendor, and `checks` candidates moved into the
 * trigger stage at once. While the checks run, workers are killed with SIGKILL (the node process that polls, each
 * time the other one of the two, restarted as a supervisor would), the Temporal server is restarted, and one API
 * process is killed with SIGKILL and started again. Each fault is proven before the run goes on: the killed process
 * is gone; the server's and the API's ports are closed.
 *
 * Used by test/chaos/production-shape.test.ts (asserts) and scripts/faults/production-crash.ts (prints figures).
 */
export interface ProductionCrashOptions {
  checks: number;
  customers: number;
  workerKills: number;
  /** Milliseconds between Certn's status steps. */
  certnStepMs: number;
  timeoutMs: number;
  log?: (line: string) => void;
  /** Receives the function that stops everything the run started (a script calls it on Ctrl-C). */
  onStop?: (stop: () => Promise<void>) => void;
}

export interface ProductionCrashFigures {
  checks: number;
  customers: number;
  /** Checks whose Lever opportunity ended with `CERTN - Complete` as its only Certn tag. */
  complete: number;
  /** Runs that closed COMPLETED (one per check), and workflow IDs with more than one run. */
  closedCompleted: number;
  checksWithSeveralRuns: number;
  vendorOrders: number;
  /** Orders beyond one per candidate. */
  duplicateOrders: number;
  /** Notes on the candidates, those whose text an opportunity already had, status tags added again after they had gone. */
  notes: number;
  duplicateNotes: number;
  duplicateTags: number;
  workerKills: number;
  temporalRestarts: number;
  apiRestarts: number;
  /** Completed checks when each fault happened, in order ("w" worker kill, "t" server restart, "a" API restart). */
  faultsAt: string[];
  /** Requests the load balancer sent to each API, and those no API could take. */
  perApi: number[];
  unavailable: number;
  lever429: number;
  seconds: number;
}

interface Customer {
  lever: RunningLeverEmulator;
  conn: ProcessConnection;
  opportunityIds: string[];
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const portOf = (address: string) => Number(address.split(':').at(-1));

export async function runProductionCrash(options: ProductionCrashOptions): Promise<ProductionCrashFigures> {
  const log = options.log ?? (() => undefined);
  const started: { stop: () => Promise<void> }[] = [];
  let temporal: TemporalServerProcess | undefined;
  const apis: (ChildProcess | undefined)[] = [undefined, undefined];
  const workers: (ChildProcess | undefined)[] = [undefined, undefined];
  const customers: Customer[] = [];
  let certn: RunningCertnEmulator | undefined;
  let balancer: RunningLoadBalancer | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      await Promise.all(
        [...apis, ...workers].filter((p) => p !== undefined).map((p) => stopProcess(p, 'SIGKILL')),
      );
      await Promise.all([...started.map((s) => s.stop()), certn?.close(), balancer?.close()]);
      await temporal?.dispose();
    })());
  options.onStop?.(stopAll);
  try {
    temporal = await temporalServerInTempDir('bgc-production-shape-', 'postgres');
    await temporal.start();
    const temporalServer = temporal;
    log(`Temporal server (PostgreSQL) on ${temporal.address}`);
    certn = await startCertnEmulator({
      autoAdvanceMs: options.certnStepMs,
      webhookRetryDelaysMs: [200, 1000, 3000, 5000, 10000],
    });
    const apiPorts = [await freePort(), await freePort()];
    balancer = await startLoadBalancer(apiPorts.map((p) => `http://127.0.0.1:${p}`));
    const adminToken = `prod-${randomBytes(12).toString('hex')}`;
    const taskQueue = `production-${randomBytes(4).toString('hex')}`;
    const env = (apiPort: number): NodeJS.ProcessEnv => ({
      TEMPORAL_ADDRESS: temporalServer.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ADMIN_TOKEN: adminToken,
      API_PORT: String(apiPort),
      PUBLIC_BASE_URL: balancer!.url,
      VENDOR_POLL_INTERVAL_MS: '5000',
      // Required by the worker; no hire happens here, so no e-mail: nobody listens there.
      SMTP_URL: 'smtp://127.0.0.1:9',
      // The workflow code bundled once ahead, as the image does (the global setup's bundle under jest): a worker
      // (re)start does not spend its CPU on webpack while the other processes carry the load.
      ...(process.env.BGC_TEST_WORKFLOW_BUNDLE === undefined
        ? {}
        : { WORKFLOW_BUNDLE_PATH: process.env.BGC_TEST_WORKFLOW_BUNDLE }),
    });
    const startApi = async (i: number) => {
      const api = startServiceProcess('src/main.ts', env(apiPorts[i]!));
      apis[i] = api;
      await eventually(
        async () =>
          (await fetch(`http://127.0.0.1:${apiPorts[i]!}/healthz`).catch(() => undefined))?.ok
            ? true
            : undefined,
        60_000,
        `API ${i + 1}`,
      );
    };
    const startWorker = async (i: number): Promise<ProcessInfo> => {
      const worker = startServiceProcess('src/worker.ts', env(apiPorts[0]!));
      workers[i] = worker;
      const polling = await entryProcess(worker, 60_000);
      await waitForPoller(temporalServer.address, taskQueue, workerIdentity(polling.pid), 120_000);
      return polling;
    };
    await Promise.all([startApi(0), startApi(1)]);
    const polling = await Promise.all([startWorker(0), startWorker(1)]);
    log(`2 APIs behind ${balancer.url}, 2 workers polling ${taskQueue}`);

    for (let c = 0; c < options.customers; c++) {
      const lever = await startLeverEmulator({ webhookRetryDelaysMs: [200, 400, 800, 1600, 3200, 6400] });
      started.push({ stop: () => lever.close() });
      const conn = await connectLeverToCertn({
        apiUrl: balancer.url,
        adminToken,
        lever,
        certn,
        name: `Production customer ${c + 1}`,
      });
      customers.push({ lever, conn, opportunityIds: [] });
    }
    for (let i = 0; i < options.checks; i++) {
      const customer = customers[i % customers.length]!;
      const opportunity = customer.lever.createOpportunity({
        name: `Production Candidate ${i}`,
        emails: [`production-${i}@example.com`],
      });
      customer.opportunityIds.push(opportunity.id);
    }

    // Every status tag added, per opportunity: one added again after it had gone is a duplicate status write.
    let duplicateTags = 0;
    let lever429 = 0;
    for (const { lever } of customers) {
      const seen = new Map<string, Set<string>>();
      const present = new Map<string, Set<string>>();
      lever.onTagsChanged(({ opportunityId, tags }) => {
        const before = present.get(opportunityId) ?? new Set<string>();
        const ever = seen.get(opportunityId) ?? new Set<string>();
        for (const tag of tags) {
          if (!tag.startsWith('CERTN - ') || before.has(tag)) continue;
          if (ever.has(tag)) duplicateTags += 1;
          ever.add(tag);
        }
        present.set(opportunityId, new Set(tags));
        seen.set(opportunityId, ever);
      });
      lever.onRequest(({ status }) => {
        if (status === 429) lever429 += 1;
      });
    }

    const completed = () =>
      customers.reduce(
        (n, { lever, opportunityIds }) =>
          n + opportunityIds.filter((id) => lever.opportunity(id).tags.includes('CERTN - Complete')).length,
        0,
      );
    const startedAt = Date.now();
    const deliveries = await Promise.all(
      customers.flatMap(({ lever, opportunityIds }) => {
        const trigger = lever.stageIdByName('Background Check');
        return opportunityIds.map((id) => lever.moveToStage(id, trigger));
      }),
    );
    if (!deliveries.flat().every((d) => d.delivered)) throw new Error('a stage change was not delivered');
    log(`${options.checks} candidates moved into the trigger stage`);

    // Faults, spread over the completions: worker kills alternate between the two workers; the server restart
    // follows the second kill and the API restart the third.
    const faultsAt: string[] = [];
    let temporalRestarts = 0;
    let apiRestarts = 0;
    const waitCompleted = (n: number) =>
      eventually(() => (completed() >= n ? true : undefined), options.timeoutMs, `${n} checks complete`);
    for (let k = 1; k <= options.workerKills; k++) {
      await waitCompleted(Math.floor((k * options.checks) / (options.workerKills + 2)));
      const i = (k - 1) % 2;
      faultsAt.push(`w${completed()}`);
      await stopProcess(workers[i]!, 'SIGKILL');
      if (isRunning(polling[i]!))
        throw new Error(`worker ${i + 1} (pid ${polling[i]!.pid}) survived SIGKILL`);
      log(`killed worker ${i + 1} (pid ${polling[i]!.pid}) at ${completed()} complete`);
      if (k === 2) {
        faultsAt.push(`t${completed()}`);
        await temporalServer.stop();
        if (await portOpen(portOf(temporalServer.address)))
          throw new Error('the Temporal server still listens');
        await temporalServer.start();
        temporalRestarts += 1;
        log(`restarted the Temporal server at ${completed()} complete`);
      }
      if (k === 3) {
        faultsAt.push(`a${completed()}`);
        const api = apis[1]!;
        const apiProcess = await entryProcess(api);
        await stopProcess(api, 'SIGKILL');
        if (isRunning(apiProcess)) throw new Error('API 2 survived SIGKILL');
        if (await portOpen(apiPorts[1]!)) throw new Error('API 2 still listens');
        await startApi(1);
        apiRestarts += 1;
        log(`killed and restarted API 2 at ${completed()} complete`);
      }
      polling[i] = await startWorker(i);
    }

    await waitCompleted(options.checks);
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    log(`all ${options.checks} checks complete after ${seconds} s`);

    const client = new Client({ connection: await Connection.connect({ address: temporalServer.address }) });
    let closedCompleted = 0;
    let checksWithSeveralRuns = 0;
    try {
      // Tags are final once each run has closed: a run closes only after its last write to Lever.
      await eventually(
        async () => {
          const { count } = await client.workflow.count(
            `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`,
          );
          return count === 0 ? true : undefined;
        },
        120_000,
        'every check to close',
      );
      for (const { conn, opportunityIds } of customers) {
        for (const id of opportunityIds) {
          const handle = client.workflow.getHandle(checkWorkflowId(conn.id, id));
          if ((await handle.describe()).status.name === 'COMPLETED') closedCompleted += 1;
          const { count } = await client.workflow.count(`WorkflowId = '${checkWorkflowId(conn.id, id)}'`);
          if (count > 1) checksWithSeveralRuns += 1;
        }
      }
    } finally {
      await client.connection.close();
    }

    let complete = 0;
    let notes = 0;
    let duplicateNotes = 0;
    let duplicateOrders = 0;
    const cases = certn.cases();
    for (const { lever, opportunityIds } of customers) {
      for (const id of opportunityIds) {
        const opportunity = lever.opportunity(id);
        const tags = opportunity.tags.filter((t) => t.startsWith('CERTN - '));
        if (tags.length === 1 && tags[0] === 'CERTN - Complete') complete += 1;
        const texts = lever.notes(id).map((n) => n.value);
        notes += texts.length;
        duplicateNotes += texts.length - new Set(texts).size;
        const email = opportunity.emails[0];
        duplicateOrders += Math.max(0, cases.filter((c) => c.email_address === email).length - 1);
      }
    }
    const counts = balancer.counts();
    return {
      checks: options.checks,
      customers: options.customers,
      complete,
      closedCompleted,
      checksWithSeveralRuns,
      vendorOrders: cases.length,
      duplicateOrders,
      notes,
      duplicateNotes,
      duplicateTags,
      workerKills: options.workerKills,
      temporalRestarts,
      apiRestarts,
      faultsAt,
      perApi: apiPorts.map((p) => counts.byUpstream[`http://127.0.0.1:${p}`] ?? 0),
      unavailable: counts.unavailable,
      lever429,
      seconds,
    };
  } finally {
    await Promise.all(
      [...apis, ...workers].filter((p) => p !== undefined).map((p) => stopProcess(p, 'SIGKILL')),
    );
    await Promise.all([...started.map((s) => s.stop()), certn?.close(), balancer?.close()]);
    await temporal?.dispose();
  }
}
