import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { startCertnEmulator, type RunningCertnEmulator } from '../../sandbox/certn-emulator';
import {
  startLeverEmulator,
  type ApiRequestRecord,
  type RunningLeverEmulator,
} from '../../sandbox/lever-emulator';
import { freePort } from '../../src/temporal/dev-server-process';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { connectLeverToCertn, type ProcessConnection } from '../support/connect-certn';
import { workerIdentity } from '../support/pollers';
import { entryProcess, startServiceProcess, stopProcess } from '../support/service-process';
import { eventually, waitForPoller } from '../support/waits';

const BULK = 40;
const OTHER = 3;
const PENDING = 'CERTN - Pending';
/** The activities that call Lever on a check's way to its first status tag. */
const LEVER_ACTIVITIES = new Set(['prepareCheck', 'publishStatus']);

/**
 * Lever allows 10 requests/s per API key, bursts to 20, whichever process sends them. Two worker processes (and the
 * API, another process) on one key, with the service's default limit (9/s, burst 15, LEVER_RATE_SHARED on): a bulk
 * move of 40 candidates into the trigger stage, against a Lever emulator at Lever's real limit, gets no 429 — each
 * worker alone within its own limit would together send up to twice the rate. A second customer (its own API key,
 * on a second Lever emulator: a second Lever account), moved while the bulk waits for its turn, is not held back.
 */
describe('Lever rate limit across two worker processes (one API key)', () => {
  const adminToken = `two-workers-${randomBytes(12).toString('hex')}`;
  const temporalAddress = process.env.TEMPORAL_ADDRESS ?? '';
  const taskQueue = `two-workers-${randomBytes(4).toString('hex')}`;
  let busyLever: RunningLeverEmulator;
  let otherLever: RunningLeverEmulator;
  let certn: RunningCertnEmulator;
  let api: ChildProcess | undefined;
  const workers: ChildProcess[] = [];
  let apiUrl: string;
  let client: Client;

  beforeAll(async () => {
    busyLever = await startLeverEmulator();
    otherLever = await startLeverEmulator();
    certn = await startCertnEmulator(); // orders stay at their first status: no Lever calls after Pending
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    const env: NodeJS.ProcessEnv = {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ADMIN_TOKEN: adminToken,
      API_PORT: String(apiPort),
      PUBLIC_BASE_URL: apiUrl,
      // Required by the worker; no hire here, so no e-mail: nobody listens there.
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
      // The service's defaults, written out: the limit is shared through the run's PostgreSQL (DATABASE_URL).
      LEVER_RATE_SHARED: 'true',
      LEVER_RATE_PER_SECOND: '9',
      LEVER_RATE_BURST: '15',
    };
    api = startServiceProcess('src/main.ts', env);
    workers.push(startServiceProcess('src/worker.ts', env), startServiceProcess('src/worker.ts', env));
    client = new Client({ connection: await Connection.connect({ address: temporalAddress }) });
    await eventually(
      async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined),
      60_000,
      'the API',
    );
  });

  afterAll(async () => {
    await Promise.all([api, ...workers].filter((p) => p !== undefined).map((p) => stopProcess(p)));
    await client?.connection.close();
    await Promise.all([busyLever?.close(), otherLever?.close(), certn?.close()]);
  });

  /** When each opportunity got its first status tag (performance.now()), as the emulator changed its tags. */
  function watchPending(lever: RunningLeverEmulator): Map<string, number> {
    const at = new Map<string, number>();
    lever.onTagsChanged((change) => {
      if (!at.has(change.opportunityId) && change.tags.includes(PENDING))
        at.set(change.opportunityId, change.at);
    });
    return at;
  }

  /** Moves the opportunities into the trigger stage at once; every webhook is delivered. */
  async function moveAll(lever: RunningLeverEmulator, ids: string[]): Promise<void> {
    const trigger = lever.stageIdByName('Background Check');
    const deliveries = await Promise.all(ids.map((id) => lever.moveToStage(id, trigger)));
    expect(deliveries.flat().every((d) => d.delivered)).toBe(true);
  }

  /** How many Lever-calling activities (and activities in all) each worker identity ran for these checks. */
  async function activitiesByWorker(conn: ProcessConnection, ids: string[]) {
    const byWorker = new Map<string, { lever: number; all: number }>();
    for (const id of ids) {
      const { events } = await client.workflow.getHandle(checkWorkflowId(conn.id, id)).fetchHistory();
      const types = new Map<string, string>();
      for (const event of events ?? []) {
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (scheduled) types.set(String(event.eventId), scheduled.activityType?.name ?? '');
        const started = event.activityTaskStartedEventAttributes;
        if (started) {
          const identity = started.identity ?? '';
          const counts = byWorker.get(identity) ?? { lever: 0, all: 0 };
          counts.all += 1;
          if (LEVER_ACTIVITIES.has(types.get(String(started.scheduledEventId)) ?? '')) counts.lever += 1;
          byWorker.set(identity, counts);
        }
      }
    }
    return byWorker;
  }

  it('tags a bulk of 40 candidates with no 429 from Lever, both workers calling it, and does not hold another key back', async () => {
    // The emulator enforces Lever's own limit per API key.
    expect(busyLever.rateLimit).toEqual({ perSecond: 10, burst: 20 });
    expect(otherLever.rateLimit).toEqual({ perSecond: 10, burst: 20 });
    const [busy, other] = await Promise.all([
      connectLeverToCertn({ apiUrl, adminToken, lever: busyLever, certn, name: 'Bulk customer' }),
      connectLeverToCertn({ apiUrl, adminToken, lever: otherLever, certn, name: 'Other customer' }),
    ]);
    // Both workers poll the task queue before anything moves.
    const identities = await Promise.all(
      workers.map(async (worker) => workerIdentity((await entryProcess(worker, 60_000)).pid)),
    );
    for (const identity of identities) await waitForPoller(temporalAddress, taskQueue, identity);

    const bulkIds = Array.from(
      { length: BULK },
      (_, i) => busyLever.createOpportunity({ name: `Bulk ${i}`, emails: [`bulk-${i}@example.com`] }).id,
    );
    const otherIds = Array.from(
      { length: OTHER },
      (_, i) => otherLever.createOpportunity({ name: `Other ${i}`, emails: [`other-${i}@example.com`] }).id,
    );
    busyLever.resetStats();
    otherLever.resetStats();
    const busyRequests: ApiRequestRecord[] = [];
    const stopCounting = busyLever.onRequest((r) => busyRequests.push(r));
    const busyPending = watchPending(busyLever);
    const otherPending = watchPending(otherLever);

    const startedAt = performance.now();
    const bulkMoved = moveAll(busyLever, bulkIds);
    // The other customer moves its candidates once the bulk's checks call Lever.
    await eventually(() => (busyRequests.length >= 10 ? true : undefined), 60_000, 'the bulk calling Lever');
    const otherMovedAt = performance.now();
    await Promise.all([bulkMoved, moveAll(otherLever, otherIds)]);

    await eventually(
      () => (busyPending.size === BULK && otherPending.size === OTHER ? true : undefined),
      150_000,
      `${PENDING} on all ${BULK + OTHER} candidates`,
    );
    stopCounting();
    const bulkDoneAt = Math.max(...busyPending.values());
    const otherDoneAt = Math.max(...otherPending.values());

    // Lever (the emulator, at 10/s, burst 20 per key) never had to refuse a request.
    expect(busyLever.stats().rateLimited).toBe(0);
    expect(otherLever.stats().rateLimited).toBe(0);
    expect(busyRequests.filter((r) => r.status === 429)).toEqual([]);
    // Every check is at Pending with exactly one Certn tag.
    for (const id of bulkIds) {
      expect(busyLever.opportunity(id).tags.filter((t) => t.startsWith('CERTN - '))).toEqual([PENDING]);
    }
    for (const id of otherIds) {
      expect(otherLever.opportunity(id).tags.filter((t) => t.startsWith('CERTN - '))).toEqual([PENDING]);
    }
    // The other key's checks were tagged while part of the bulk still waited for its turn: the bulk's ~100 requests
    // take 10 s at 9/s, the other key's few go out at once (here: all 40 or 20 still waiting, on a loaded machine).
    const bulkLeft = [...busyPending.values()].filter((at) => at > otherDoneAt).length;
    expect(bulkLeft).toBeGreaterThanOrEqual(BULK / 8);

    // Both worker processes ran the bulk's checks, the activities that call Lever included.
    const byWorker = await eventually(
      async () => {
        const counts = await activitiesByWorker(busy, bulkIds);
        return identities.every((identity) => (counts.get(identity)?.lever ?? 0) > 0) ? counts : undefined;
      },
      30_000,
      'Lever activities of both workers in the histories',
    );
    expect([...byWorker.keys()].sort()).toEqual([...identities].sort());
    await expect(activitiesByWorker(other, otherIds)).resolves.toBeDefined();

    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    const busiest = busiestSecond(busyRequests.map((r) => r.at));
    console.log(
      `lever-two-workers figures: bulk=${BULK} requests=${busyRequests.length} 429s=${busyLever.stats().rateLimited} ` +
        `busiestSecond=${busiest} bulkTaggedIn=${seconds(bulkDoneAt - startedAt)}s ` +
        `otherTaggedIn=${seconds(otherDoneAt - otherMovedAt)}s bulkStillWaiting=${bulkLeft} ` +
        `activities=${JSON.stringify(Object.fromEntries(byWorker))}`,
    );
  }, 300_000);
});

/** The most requests within any one second (each window starting at a request). */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let busiest = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] ?? Infinity) < (sorted[i] ?? 0) + 1_000) j++;
    busiest = Math.max(busiest, j - i);
  }
  return busiest;
}
