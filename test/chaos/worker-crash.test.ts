import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { startCertnEmulator, type RunningCertnEmulator } from '../../src/sandbox/certn-emulator';
import { startLeverEmulator, type RunningLeverEmulator } from '../../src/sandbox/lever-emulator';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { connectLeverToCertn } from '../support/connect-certn';
import { startServiceProcess, stopProcess } from '../support/service-process';
import { eventually } from '../support/stack';
import { DevServerProcess, freePort } from '../../src/temporal/dev-server-process';

// The long version: CHAOS_CANDIDATES=100 CHAOS_WORKER_KILLS=10 npx jest test/chaos (prints the same figures).
const CANDIDATES = Number(process.env.CHAOS_CANDIDATES ?? 12);
const WORKER_KILLS = Number(process.env.CHAOS_WORKER_KILLS ?? 3);
const ADMIN_TOKEN = `chaos-${randomBytes(12).toString('hex')}`;

/**
 * Crashes: the worker process is killed with SIGKILL several times while checks are in flight, and the Temporal
 * dev server (persisted SQLite) is restarted once. Every check still completes, each with one vendor order.
 */
describe('worker and server crashes', () => {
  let temporal: DevServerProcess;
  let lever: RunningLeverEmulator;
  let certn: RunningCertnEmulator;
  let api: ChildProcess;
  let worker: ChildProcess;
  let env: NodeJS.ProcessEnv;
  let apiUrl: string;

  beforeAll(async () => {
    temporal = await DevServerProcess.inTempDir('bgc-chaos-');
    await temporal.start();
    lever = await startLeverEmulator({ webhookRetryDelaysMs: [200, 400, 800, 1600, 3200] });
    certn = await startCertnEmulator({ autoAdvanceMs: 400, webhookRetryDelaysMs: [200, 1000, 3000] });
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    env = {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: `chaos-${randomBytes(4).toString('hex')}`,
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

  it('completes every check, once each, through worker SIGKILLs and a server restart', async () => {
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
    const trigger = lever.stageIdByName('Background Check');
    const deliveries = await Promise.all(opportunities.map((o) => lever.moveToStage(o.id, trigger)));
    expect(deliveries.flat().every((d) => d.delivered)).toBe(true);

    const completed = () =>
      opportunities.filter((o) => lever.opportunity(o.id).tags.includes('CERTN - Complete')).length;
    let kills = 0;
    for (let k = 1; k <= WORKER_KILLS; k++) {
      // Kill while checks are in flight: after some orders exist, before everything completed.
      await eventually(
        () => (certn.cases().length >= Math.min(CANDIDATES, k * 3) ? true : undefined),
        90_000,
      );
      await stopProcess(worker, 'SIGKILL');
      kills += 1;
      if (k === 2) {
        await temporal.stop();
        await temporal.start();
      }
      worker = startServiceProcess('src/worker.ts', env);
    }

    await eventually(
      () => (completed() === CANDIDATES ? true : undefined),
      240_000,
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
      console.log(
        `worker-crash figures: checks=${CANDIDATES} workerKills=${kills} serverRestarts=1 ` +
          `completed=${completed()} vendorOrders=${certn.cases().length} duplicates=${duplicates}`,
      );
    } finally {
      await client.connection.close();
    }
  });
});
