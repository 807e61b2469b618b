/**
 * test/e2e/lever-bulk.test.ts at Lever's real limit: N candidates of one connection moved into the trigger stage
 * at once (parallel batches), then the figures: Lever requests and 429s, time until every candidate has its
 * first status tag, requests/s achieved, what the worker's limiter did, and how the checks stand. With --other M,
 * a second connection (another Lever account and API key) moves M candidates right after the burst: the time
 * until those are tagged shows whether it waited behind the first connection.
 *
 *   npx tsx scripts/faults/lever-bulk.ts [--candidates 200] [--batch 25] [--other 0]
 *     [--lever-rate 10] [--lever-burst 20] [--rate 9] [--burst 15] [--max-wait-ms 20000]
 *     [--max-attempts 20] [--timeout-s 600]
 *
 * Needs PostgreSQL (FAULTS_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bgc_lever_bulk, recreated)
 * and the Temporal CLI (`npm run temporal:install`); starts its own Temporal dev server. Exit code 1 unless every
 * candidate got `CERTN - Pending`, no check failed, and Lever answered 429 at most 5 times.
 */
import { parseArgs } from 'node:util';
import { temporalServerInTempDir } from '../../src/temporal/server-process';
import { checkStateQuery, checkWorkflowId } from '../../src/workflows/definitions';
import { recreateDatabase } from '../../test/support/database';
import { stopOnInterrupt } from '../../test/support/interrupt';
import { useFreshKeys } from '../../test/support/keys';
import { startStack, type Stack } from '../../test/support/stack';

const { values: args } = parseArgs({
  options: {
    candidates: { type: 'string', default: '200' },
    batch: { type: 'string', default: '25' },
    other: { type: 'string', default: '0' },
    'lever-rate': { type: 'string', default: '10' },
    'lever-burst': { type: 'string', default: '20' },
    rate: { type: 'string', default: '9' },
    burst: { type: 'string', default: '15' },
    'max-wait-ms': { type: 'string', default: '20000' },
    'max-attempts': { type: 'string', default: '20' },
    'timeout-s': { type: 'string', default: '600' },
  },
});

function num(name: keyof typeof args): number {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
  return value;
}

const PENDING = 'CERTN - Pending';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function candidates(stack: Stack, count: number, label: string): string[] {
  const stageId = stack.lever.stageIdByName('Phone screen');
  return Array.from(
    { length: count },
    (_, i) =>
      stack.lever.createOpportunity({
        name: `${label} Candidate ${i}`,
        emails: [`${label.toLowerCase()}-${i}@example.com`],
        stageId,
      }).id,
  );
}

async function moveAll(stack: Stack, ids: string[], batch: number): Promise<number> {
  const trigger = stack.lever.stageIdByName('Background Check');
  let refused = 0;
  for (let i = 0; i < ids.length; i += batch) {
    const deliveries = await Promise.all(
      ids.slice(i, i + batch).map((id) => stack.lever.moveToStage(id, trigger)),
    );
    refused += deliveries.filter(([d]) => d?.delivered !== true).length;
  }
  return refused;
}

/** When (ms after `start`) each candidate first had the tag; stops at the deadline. */
async function tagTimes(stack: Stack, ids: string[], start: number, deadline: number) {
  const times = new Map<string, number>();
  while (times.size < ids.length && Date.now() < deadline) {
    for (const id of ids) {
      if (!times.has(id) && stack.lever.opportunity(id).tags.includes(PENDING))
        times.set(id, Date.now() - start);
    }
    await sleep(50);
  }
  return times;
}

async function statuses(stack: Stack, connectionId: string, ids: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 50) {
    const batch = await Promise.all(
      ids.slice(i, i + 50).map(async (id) => {
        const handle = stack.temporal.workflow.getHandle(checkWorkflowId(connectionId, id));
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING') return description.status.name;
        return (await handle.query(checkStateQuery)).status ?? 'none';
      }),
    );
    for (const status of batch) counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return counts;
}

async function main(): Promise<number> {
  process.env.DATABASE_URL = await recreateDatabase(
    process.env.FAULTS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc_lever_bulk',
  );
  useFreshKeys(); // the stack reads them, as the service's processes do
  process.env.TEST_SDK_LOG_LEVEL ??= 'ERROR';
  process.env.ALLOW_HTTP_URLS = 'true'; // the emulators serve plain http
  const temporal = await temporalServerInTempDir('bgc-lever-bulk-');
  // The stack runs in this process; the dev server is the child that would outlive an interrupted run.
  const stop = stopOnInterrupt(() => temporal.dispose());
  try {
    await temporal.start();
    process.env.TEMPORAL_ADDRESS = temporal.address;
    const leverLimit = { perSecond: num('lever-rate'), burst: num('lever-burst') };
    const workerLimit = { perSecond: num('rate'), burst: num('burst'), maxWaitMs: num('max-wait-ms') };
    const stack = await startStack({
      leverRateLimit: leverLimit,
      leverLimiter: workerLimit,
      maxAttempts: num('max-attempts'),
    });
    try {
      const count = num('candidates');
      const otherCount = num('other');
      const busy = await stack.createConnection();
      const other = otherCount > 0 ? await stack.createConnection() : undefined;
      const ids = candidates(stack, count, 'Bulk');
      const otherIds = other ? candidates(stack, otherCount, 'Other') : [];
      console.log(
        `Lever emulator: ${leverLimit.perSecond}/s, burst ${leverLimit.burst} per API key; worker limiter: ` +
          `${workerLimit.perSecond}/s, burst ${workerLimit.burst}, longest wait ${seconds(workerLimit.maxWaitMs)}`,
      );
      stack.lever.resetStats();
      const start = Date.now();
      const deadline = start + num('timeout-s') * 1000;
      const watching = tagTimes(stack, [...ids, ...otherIds], start, deadline);
      // One emulator stands in for two Lever accounts: only the account whose candidates move has its webhook.
      if (other) stack.lever.removeWebhook(other.webhookId);
      let undelivered = await moveAll(stack, ids, num('batch'));
      const movedMs = Date.now() - start;
      let otherMovedMs = 0;
      if (other) {
        stack.lever.removeWebhook(busy.webhookId);
        stack.lever.addWebhook({
          event: 'candidateStageChange',
          url: other.webhookUrl,
          signatureToken: other.signatureToken,
        });
        undelivered += await moveAll(stack, otherIds, num('batch'));
        otherMovedMs = Date.now() - start;
      }
      const times = await watching;
      const lever = stack.lever.stats();
      const busyTimes = ids.map((id) => times.get(id)).filter((t): t is number => t !== undefined);
      const allTaggedMs = Math.max(0, ...busyTimes);
      const limiter = stack.leverRateLimiter.stats(busy.leverApiKey);
      const busyStatuses = await statuses(stack, busy.id, ids);

      console.log(
        `candidates:                   ${count} (moved in ${seconds(movedMs)}, batches of ${args.batch})`,
      );
      console.log(`webhooks not delivered:       ${undelivered}`);
      console.log(`tagged ${PENDING}:      ${busyTimes.length} of ${count}`);
      console.log(`time until all tagged:        ${seconds(allTaggedMs)}`);
      console.log(`Lever requests (all keys):    ${lever.requests}`);
      console.log(`Lever 429 answers:            ${lever.rateLimited}`);
      console.log(`requests/s achieved:          ${(lever.requests / (allTaggedMs / 1000)).toFixed(2)}`);
      console.log(
        `limiter (this key):           ${limiter.granted} granted, ${limiter.waited} waited ` +
          `(longest ${seconds(limiter.maxWaitedMs)}, mean ${seconds(limiter.totalWaitedMs / Math.max(1, limiter.waited))}), ` +
          `${limiter.refused} refused (retried by Temporal), ${limiter.paused} pauses after a 429, ` +
          `longest line ${limiter.maxQueue}`,
      );
      console.log(`check statuses:               ${JSON.stringify(Object.fromEntries(busyStatuses))}`);
      let otherOk = true;
      if (other) {
        const otherTimes = otherIds.map((id) => times.get(id)).filter((t): t is number => t !== undefined);
        const otherDone = Math.max(0, ...otherTimes);
        const busyBefore = busyTimes.filter((t) => t <= otherDone).length;
        const otherStats = stack.leverRateLimiter.stats(other.leverApiKey);
        const otherStatuses = await statuses(stack, other.id, otherIds);
        const started = await Promise.all(
          otherIds.map(async (id) => {
            const handle = stack.temporal.workflow.getHandle(checkWorkflowId(other.id, id));
            return (await handle.describe()).startTime.getTime() - start;
          }),
        );
        console.log(
          `other connection:             ${otherTimes.length} of ${otherCount} tagged ` +
            `${seconds(otherDone - otherMovedMs)} after its moves (its last check started ` +
            `${seconds(Math.max(...started) - otherMovedMs)} after them); meanwhile ${busyBefore} of ${count} of the ` +
            `first connection; its limiter: ${otherStats.waited} waited (longest ${seconds(otherStats.maxWaitedMs)}), ` +
            `${otherStats.refused} refused; statuses ${JSON.stringify(Object.fromEntries(otherStatuses))}`,
        );
        otherOk = otherTimes.length === otherCount && otherStatuses.get('Pending') === otherCount;
      }
      const ok =
        busyTimes.length === count &&
        busyStatuses.get('Pending') === count &&
        lever.rateLimited <= 5 &&
        otherOk;
      console.log(ok ? 'OK' : 'NOT OK');
      return ok ? 0 : 1;
    } finally {
      await stack.stop();
    }
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
