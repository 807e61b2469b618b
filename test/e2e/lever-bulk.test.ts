import { checkStateQuery, checkWorkflowId } from '../../src/workflows/definitions';
import { startStack, type Stack, type StackOptions } from '../support/stack';
import { eventually } from '../support/waits';

/**
 * Lever allows 10 requests/s per API key (burst 20) and answers 429 beyond. Every check makes four Lever calls
 * on its way to its first status tag (read the candidate when planning and again when ordering, read and tag when
 * publishing), so 200 checks at Lever's real limit take 90 s: the bulk runs against a Lever emulator at 2.5 times
 * Lever's limit (25/s, burst 50), with the worker's limiter at the same fraction of it as the production
 * defaults are of Lever's (9/10 of the rate, 15/20 of the burst). The two-connection test runs at a fifth of
 * Lever's limit instead, so that the busy connection's API key, not this machine, is what holds its checks back.
 * `npx tsx scripts/faults/lever-bulk.ts` runs the bulk at Lever's real limit and prints the figures.
 */
const PENDING = 'CERTN - Pending';

function useStack(options: StackOptions): () => Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(options);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return () => {
    if (stack === undefined) throw new Error('the stack did not start');
    return stack;
  };
}

function candidates(stack: Stack, count: number, label: string): string[] {
  const stageId = stack.lever.stageIdByName('Phone screen');
  return Array.from(
    { length: count },
    (_, i) =>
      stack.lever.createOpportunity({
        name: `${label} Candidate ${i}`,
        emails: [`${label.toLowerCase()}-${i}-${Math.random().toString(36).slice(2)}@example.com`],
        stageId,
      }).id,
  );
}

/** Moves the candidates into the trigger stage, `batch` at a time in parallel; every webhook is accepted. */
async function moveAll(stack: Stack, ids: string[], batch = 25): Promise<void> {
  const trigger = stack.lever.stageIdByName('Background Check');
  for (let i = 0; i < ids.length; i += batch) {
    const deliveries = await Promise.all(
      ids.slice(i, i + batch).map((id) => stack.lever.moveToStage(id, trigger)),
    );
    for (const [delivery] of deliveries) expect(delivery?.delivered).toBe(true);
  }
}

/** Records the order in which the candidates get their first status tag; resolves when all have it. */
function watchPending(stack: Stack, ids: string[], timeoutMs: number): Promise<string[]> {
  const order: string[] = [];
  const waiting = new Set(ids);
  return eventually(
    () => {
      for (const id of waiting) {
        if (stack.lever.opportunity(id).tags.includes(PENDING)) {
          order.push(id);
          waiting.delete(id);
        }
      }
      return waiting.size === 0 ? order : undefined;
    },
    timeoutMs,
    `${PENDING} on all ${ids.length} candidates`,
  );
}

/** The status of each candidate's check, from the workflow itself. */
async function checkStatuses(stack: Stack, connectionId: string, ids: string[]): Promise<string[]> {
  const statuses: string[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const batch = await Promise.all(
      ids.slice(i, i + 50).map(async (id) => {
        const handle = stack.temporal.workflow.getHandle(checkWorkflowId(connectionId, id));
        return (await handle.query(checkStateQuery)).status ?? 'none';
      }),
    );
    statuses.push(...batch);
  }
  return statuses;
}

describe('Lever rate limit: 200 checks of one connection at once (real HTTP, Temporal dev server)', () => {
  const stack = useStack({
    leverRateLimit: { perSecond: 25, burst: 50 },
    leverLimiter: { perSecond: 22.5, burst: 37 },
  });

  it('tags all 200 candidates, with at most a handful of 429s from Lever and no failed check', async () => {
    const conn = await stack().createConnection();
    const ids = candidates(stack(), 200, 'Bulk');
    stack().lever.resetStats();
    const tagged = watchPending(stack(), ids, 120_000);

    await moveAll(stack(), ids);
    await tagged;

    const lever = stack().lever.stats();
    expect(lever.rateLimited).toBeLessThanOrEqual(5);
    // Every call went through the limiter (how many waited depends on how fast this machine makes them).
    const limiter = stack().leverRateLimiter.stats(conn.leverApiKey);
    // Before its Pending tag shows, a check read the opportunity and added the tag (its removeTags of the other
    // status tags follows the tag; see lever-economy.test.ts).
    expect(limiter.granted).toBeGreaterThanOrEqual(ids.length * 2);
    expect(lever.requests).toBeGreaterThanOrEqual(limiter.granted);
    // No check failed or ended in Error over it: each one runs, at Pending, with exactly one Certn tag.
    expect((await checkStatuses(stack(), conn.id, ids)).filter((s) => s !== 'Pending')).toEqual([]);
    for (const id of ids) {
      expect(
        stack()
          .lever.opportunity(id)
          .tags.filter((t) => t.startsWith('CERTN - ')),
      ).toEqual([PENDING]);
    }
    const ordered = new Set(ids);
    const orders = stack()
      .certn.orders()
      .filter((o) => ordered.has((o.body as { external_reference?: string }).external_reference ?? ''));
    expect(orders.length).toBeGreaterThanOrEqual(ids.length);
  }, 180_000);
});

describe('Lever rate limit: connections do not slow each other down', () => {
  const stack = useStack({
    leverRateLimit: { perSecond: 2, burst: 4 },
    leverLimiter: { perSecond: 1.8, burst: 3 },
  });

  it('tags a second connection’s candidates while the first connection’s burst still waits for its turn', async () => {
    const busy = await stack().createConnection();
    const other = await stack().createConnection();
    const busyIds = candidates(stack(), 12, 'Busy');
    const otherIds = candidates(stack(), 3, 'Other');
    stack().lever.resetStats();
    const tagged = watchPending(stack(), [...busyIds, ...otherIds], 100_000);

    // The emulator stands in for two Lever accounts: only the account whose candidates move has its webhook.
    const { lever } = stack();
    lever.removeWebhook(other.webhookId);
    await moveAll(stack(), busyIds);
    // Once the busy connection's checks wait in line on its API key, the other connection starts its own.
    await eventually(
      () => (stack().leverRateLimiter.estimatedWait(busy.leverApiKey) >= 2_000 ? true : undefined),
      60_000,
      'a line on the busy connection’s API key',
    );
    lever.removeWebhook(busy.webhookId);
    lever.addWebhook({
      event: 'candidateStageChange',
      url: other.webhookUrl,
      signatureToken: other.signatureToken,
    });
    await moveAll(stack(), otherIds);
    const order = await tagged;

    // Every check of the other connection got its tag before half of the busy connection's did.
    const lastOther = Math.max(...otherIds.map((id) => order.indexOf(id)));
    const busyFirst = order.slice(0, lastOther).filter((id) => busyIds.includes(id)).length;
    expect(busyFirst).toBeLessThan(busyIds.length / 2);
    // Per API key: the busy connection queued, the other one never queued behind it nor was refused.
    const busyStats = stack().leverRateLimiter.stats(busy.leverApiKey);
    const otherStats = stack().leverRateLimiter.stats(other.leverApiKey);
    expect(busyStats.waited).toBeGreaterThan(0);
    expect(otherStats.maxQueue).toBeLessThanOrEqual(otherIds.length);
    expect(otherStats.refused).toBe(0);
    expect(stack().lever.stats().rateLimited).toBeLessThanOrEqual(5);
    expect((await checkStatuses(stack(), busy.id, busyIds)).filter((s) => s !== 'Pending')).toEqual([]);
    expect((await checkStatuses(stack(), other.id, otherIds)).filter((s) => s !== 'Pending')).toEqual([]);
  }, 150_000);
});
