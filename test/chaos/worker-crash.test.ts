import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { startCertnEmulator, type RunningCertnEmulator } from '../../sandbox/certn-emulator';
import { startLeverEmulator, type RunningLeverEmulator } from '../../sandbox/lever-emulator';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { connectLeverToCertn } from '../support/connect-certn';
import { lastPolls, workerIdentity } from '../support/pollers';
import { isRunning } from '../support/processes';
import { entryProcess, startServiceProcess, stopProcess } from '../support/service-process';
import { eventually, waitForPoller } from '../support/waits';
import { freePort } from '../../src/temporal/dev-server-process';
import { temporalServerInTempDir, type TemporalServerProcess } from '../../src/temporal/server-process';

// The long version: CHAOS_CANDIDATES=300 CHAOS_WORKER_KILLS=5 npx jest test/chaos (prints the same figures).
const CANDIDATES = Number(process.env.CHAOS_CANDIDATES ?? 12);
const WORKER_KILLS = Number(process.env.CHAOS_WORKER_KILLS ?? 3);
// The Lever emulator answers 10 requests/s per API key, and a check makes about ten.
const COMPLETION_TIMEOUT_MS = Math.max(240_000, CANDIDATES * 2_500);
const ADMIN_TOKEN = `chaos-${randomBytes(12).toString('hex')}`;

/**
 * Crashes: the worker process is killed with SIGKILL several times while checks are in flight, and the Temporal
 * dev server (persisted SQLite) is restarted once. Every check still completes, each with one vendor order.
 * Each kill is proven: the node process that ran src/worker.ts (below tsx) is gone, and Temporal, which listed
 * that worker polling before the kill, never sees it poll again.
 */
describe('worker and server crashes', () => {
  let temporal: TemporalServerProcess;
  let lever: RunningLeverEmulator;
  let certn: RunningCertnEmulator;
  let api: ChildProcess;
  let worker: ChildProcess;
  let env: NodeJS.ProcessEnv;
  let apiUrl: string;
  let taskQueue: string;

  beforeAll(async () => {
    temporal = await temporalServerInTempDir('bgc-chaos-');
    await temporal.start();
    lever = await startLeverEmulator({ webhookRetryDelaysMs: [200, 400, 800, 1600, 3200] });
    certn = await startCertnEmulator({ autoAdvanceMs: 400, webhookRetryDelaysMs: [200, 1000, 3000] });
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    taskQueue = `chaos-${randomBytes(4).toString('hex')}`;
    env = {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ADMIN_TOKEN,
      API_PORT: String(apiPort),
      PUBLIC_BASE_URL: apiUrl,
      VENDOR_POLL_INTERVAL_MS: '2000',
      // Required by the worker; no hire happens here, so no e-mail: nobody listens there.
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
    };
    api = startServiceProcess('src/main.ts', env);
    worker = startServiceProcess('src/worker.ts', env);
    await eventually(
      async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined),
      60_000,
      'the API',
    );
  });

  afterAll(async () => {
    await Promise.all([api, worker].filter(Boolean).map((p) => stopProcess(p, 'SIGKILL')));
    await Promise.all([lever?.close(), certn?.close()]);
    await temporal?.dispose();
  });

  /** The worker's node process, once Temporal lists it polling the task queue; and Temporal's list then. */
  async function pollingWorker(child: ChildProcess) {
    const polling = await entryProcess(child, 60_000);
    const polls = await waitForPoller(temporal.address, taskQueue, workerIdentity(polling.pid));
    return { polling, polls };
  }

  /** A killed worker and its last poll as Temporal listed it once the next worker polled (none: forgotten). */
  const killed: { identity: string; lastPoll: number | undefined }[] = [];
  /**
   * Temporal saw each killed worker go: it lists a poller with the time of its last poll (for some minutes, or
   * until a restart), and a worker that still ran would poll again, as the replacement takes over its tasks.
   */
  async function expectKilledWorkersSilent(): Promise<void> {
    const polls = await lastPolls(temporal.address, taskQueue);
    for (const { identity, lastPoll } of killed) {
      const now = polls.get(identity);
      if (now !== undefined) expect({ identity, lastPoll: now }).toEqual({ identity, lastPoll });
    }
  }

  it(
    'completes every check, once each, through worker SIGKILLs and a server restart',
    async () => {
      const conn = await connectLeverToCertn({
        apiUrl,
        adminToken: ADMIN_TOKEN,
        lever,
        certn,
        name: 'Chaos customer',
      });

      const opportunities = Array.from({ length: CANDIDATES }, (_, i) =>
        lever.createOpportunity({ name: `Crash Candidate ${i}`, emails: [`crash-${i}@example.com`] }),
      );
      let { polling } = await pollingWorker(worker);
      const trigger = lever.stageIdByName('Background Check');
      const startedAt = Date.now();
      const deliveries = await Promise.all(opportunities.map((o) => lever.moveToStage(o.id, trigger)));
      expect(deliveries.flat().every((d) => d.delivered)).toBe(true);

      const completed = () =>
        opportunities.filter((o) => lever.opportunity(o.id).tags.includes('CERTN - Complete')).length;
      /** Orders and completed checks when each kill happened. */
      const atKills: string[] = [];
      for (let k = 1; k <= WORKER_KILLS; k++) {
        // Kill while checks are in flight, spread over the orders: after some exist, before everything completed.
        const orders = Math.min(CANDIDATES, Math.max(1, Math.floor((k * CANDIDATES) / (WORKER_KILLS + 1))));
        await eventually(
          () => (certn.cases().length >= orders ? true : undefined),
          120_000,
          `${orders} orders`,
        );
        await expectKilledWorkersSilent();
        await stopProcess(worker, 'SIGKILL');
        // The process that polled is gone, not only tsx above it.
        expect(isRunning(polling)).toBe(false);
        atKills.push(`${certn.cases().length}/${completed()}`);
        const identity = workerIdentity(polling.pid);
        if (k === 2) {
          await temporal.stop();
          await temporal.start();
        }
        worker = startServiceProcess('src/worker.ts', env);
        let polls: Map<string, number>;
        ({ polling, polls } = await pollingWorker(worker));
        killed.push({ identity, lastPoll: polls.get(identity) });
      }

      await eventually(
        () => (completed() === CANDIDATES ? true : undefined),
        COMPLETION_TIMEOUT_MS,
        'every check to complete',
      );

      const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
      try {
        // The Complete tag is added before the previous status tag is removed (Lever has no atomic replace): the
        // tags are final once each run has closed, as a run closes only after its last write to Lever.
        await eventually(
          async () => {
            const statuses = await Promise.all(
              opportunities.map(
                async (o) =>
                  (await client.workflow.getHandle(checkWorkflowId(conn.id, o.id)).describe()).status.name,
              ),
            );
            return statuses.every((s) => s === 'COMPLETED') ? true : undefined;
          },
          60_000,
          'every check to close',
        );
        let duplicates = 0;
        for (const o of opportunities) {
          const email = o.emails[0];
          duplicates += certn.cases().filter((c) => c.email_address === email).length - 1;
          const { count } = await client.workflow.count(`WorkflowId = '${checkWorkflowId(conn.id, o.id)}'`);
          expect(count).toBe(1);
          const tags = lever.opportunity(o.id).tags.filter((t) => t.startsWith('CERTN - '));
          expect(tags).toEqual(['CERTN - Complete']);
        }
        expect(duplicates).toBe(0);
        await expectKilledWorkersSilent();
        console.log(
          `worker-crash figures: checks=${CANDIDATES} workerKills=${killed.length} serverRestarts=1 ` +
            `completed=${completed()} vendorOrders=${certn.cases().length} duplicates=${duplicates} ` +
            `ordersAndCompletedAtKills=${atKills.join(',')} seconds=${Math.round((Date.now() - startedAt) / 1000)}`,
        );
      } finally {
        await client.connection.close();
      }
    },
    COMPLETION_TIMEOUT_MS + 300_000,
  );
});
