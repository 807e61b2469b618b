import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Pool } from 'pg';
import { createApp } from '../../src/api/app';
import { PUBLIC_LIMIT_DEFAULTS } from '../../src/config';
import { createPool } from '../../src/db/pool';
import { createLogger } from '../../src/logger';
import { listen, type RunningServer } from '../../sandbox/kit';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { describeLeverFlood, floodWhileLeverDelivers, watchConnectionReads } from '../support/flood';
import { leverBody } from '../support/flood-client';
import { ADMIN_TOKEN, startStack, type Stack } from '../support/stack';
import { eventually } from '../support/waits';

/**
 * Work before authentication (README, Security: floods and rate limits). The public routes read connections
 * through a short-lived cache, count refused requests per source (and connection) and accepted ones per
 * connection before a body is read, and the API's pool answers 503 instead of queueing without end.
 *
 * Sources: every 127.x.y.z address reaches the API on 127.0.0.1 (Linux), so the flood comes from addresses of its
 * own, as an attacker's would, while the Lever emulator delivers from 127.0.0.1. The flood client runs as a process
 * of its own (test/support/flood-client.ts), so its work is not the service's.
 */

type Connection = Awaited<ReturnType<Stack['createConnection']>>;

interface Answer {
  status: number;
  contentType: string;
  retryAfter: string | undefined;
  body: string;
}

/** One POST from the local address `from` (a source of its own). */
function post(
  url: string,
  body: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        localAddress: from,
        headers: { 'Content-Type': 'application/json', Connection: 'close', ...headers },
        signal: AbortSignal.timeout(20_000),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type']),
            retryAfter: res.headers['retry-after'],
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function expectTooManyRequests(answer: Answer) {
  expect(answer.status).toBe(429);
  expect(answer.contentType).toContain('application/problem+json');
  expect(answer.retryAfter).toMatch(/^\d+$/);
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
  expect(JSON.parse(answer.body)).toMatchObject({ status: 429 });
}

describe('a flood of bad signatures while Lever delivers (real HTTP, the service’s default limits)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('acknowledges every real delivery, never refused, and starts each check once; the flood gets 401/429 and no database work', async () => {
    const options = { requests: 5000, concurrency: 200, sources: ['127.0.0.2', '127.0.0.3'], candidates: 30 };
    const result = await floodWhileLeverDelivers(stack, options);
    const { connection: conn, opportunities, unknownIds, figures, real, readsById } = result;
    console.info(describeLeverFlood(result, options));

    // The flood: every request answered, refused (401: unknown ids and wrong signatures look the same) or cut off
    // at its sources (429 problem+json).
    expect(figures.requests).toBe(options.requests);
    const statuses = new Map(figures.statuses);
    expect([...statuses.keys()].sort((a, b) => a - b)).toEqual([401, 429]);
    expect(statuses.get(429)).toBeGreaterThan(options.requests / 4);
    expect(figures.malformed429).toBe(0);

    // Every real delivery was acknowledged and none refused: on its first attempt, or, when the first answer came
    // after the emulator's 10 s timeout (a loaded machine), on Lever's retry, which finds it recorded (duplicate).
    expect(real).toHaveLength(options.candidates);
    for (const delivery of real) {
      const opportunity = delivery.body.data.opportunityId;
      const refused = delivery.attempts.filter(
        (a) => a.status !== null && (a.status < 200 || a.status >= 300),
      );
      expect({ opportunity, delivered: delivery.delivered, refused }).toEqual({
        opportunity,
        delivered: true,
        refused: [],
      });
    }

    // The flood cost at most one read of each connection id per cache lifetime, not one per request (plus one per
    // start the inbox relay retried, which reads the connection itself).
    const inbox = await stack.pool.query<{ attempts: number }>(
      'SELECT attempts FROM webhook_inbox WHERE connection_id = $1',
      [conn.id],
    );
    expect(inbox.rows).toHaveLength(options.candidates);
    const relayed = inbox.rows.reduce((n, row) => n + row.attempts, 0);
    const bound = Math.ceil(figures.ms / PUBLIC_LIMIT_DEFAULTS.CONNECTION_CACHE_TTL_MS) + 1;
    const overBound = [conn.id, ...unknownIds]
      .map((id) => ({ id, reads: readsById.get(id) ?? 0 }))
      .filter(({ id, reads }) => reads > bound + (id === conn.id ? relayed : 0));
    expect(overBound).toEqual([]);

    // Each check started exactly once: one workflow and one Certn case per candidate (and one inbox row, above).
    await eventually(
      () =>
        opportunities.every((id) => stack.lever.opportunity(id).tags.includes('CERTN - Pending'))
          ? true
          : undefined,
      60_000,
      `CERTN - Pending on all ${options.candidates} candidates`,
    );
    for (const id of opportunities) {
      const workflowId = checkWorkflowId(conn.id, id);
      const { count } = await stack.temporal.workflow.count(`WorkflowId = '${workflowId}'`);
      const email = stack.lever.opportunity(id).emails[0];
      const cases = stack.certn.cases().filter((c) => c.email_address === email).length;
      expect({ id, count, cases }).toEqual({ id, count: 1, cases: 1 });
    }
  }, 120_000);
});

describe('rate limits, the connection cache and the pool timeout (another API on the same database)', () => {
  let stack: Stack;
  const servers: RunningServer[] = [];
  const pools: Pool[] = [];

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(pools.map((p) => p.end()));
    await stack?.stop();
  });

  /** An API process of its own on the stack's database and task queue, with these settings. */
  async function startApi(
    settings: Partial<typeof PUBLIC_LIMIT_DEFAULTS>,
    { poolMax = 10, trustProxy }: { poolMax?: number; trustProxy?: string[] } = {},
  ) {
    const config = { ...PUBLIC_LIMIT_DEFAULTS, ...settings };
    const pool = createPool(String(process.env.DATABASE_URL), {
      max: poolMax,
      connectionTimeoutMs: config.DATABASE_POOL_TIMEOUT_MS,
    });
    pools.push(pool);
    const server = await listen(
      createApp({
        config: {
          ...config,
          ADMIN_TOKEN,
          PUBLIC_BASE_URL: undefined,
          WEBHOOK_BODY_LIMIT: 100 * 1024,
          TEMPORAL_TASK_QUEUE: stack.taskQueue,
          VENDOR_POLL_INTERVAL_MS: 60 * 60 * 1000,
          ACTIVITY_MAX_ATTEMPTS: 5,
          LEVER_WEBHOOK_MAX_AGE_MS: 24 * 60 * 60 * 1000,
          TRUST_PROXY: trustProxy,
        },
        pool,
        temporal: stack.temporal,
        logger: createLogger('silent'),
        secretBox: stack.secretBox,
        reportLinkKey: stack.reportLinks.key,
      }),
    );
    servers.push(server);
    const webhookUrl = (c: { id: string }) => `${server.url}/webhooks/lever/${c.id}`;
    return { server, pool, webhookUrl };
  }

  /** A stage change into a stage that starts nothing: accepted (200) and recorded, no check. */
  const harmless = (conn: Connection, token?: string) =>
    leverBody(conn.signatureToken, { opportunityId: 'opp-harmless', toStageId: 'stage-harmless' }, token);

  it('cuts off a source after its refusals, before reading the body, while other sources deliver to the same URL', async () => {
    const api = await startApi({ RATE_LIMIT_SOURCE_REFUSED: 5 });
    const conn = await stack.createConnection();
    const other = await stack.createConnection();
    const attacker = '127.0.0.5';

    for (let i = 0; i < 5; i += 1) {
      expect((await post(api.webhookUrl(conn), leverBody('guessed', {}), attacker)).status).toBe(401);
    }
    expectTooManyRequests(await post(api.webhookUrl(conn), leverBody('guessed', {}), attacker));
    // Answered before the body is read: a body over the size limit gets 429, not 413.
    expectTooManyRequests(await post(api.webhookUrl(conn), 'x'.repeat(200 * 1024), attacker));
    // The source is cut off for this URL, signed deliveries included ...
    expectTooManyRequests(await post(api.webhookUrl(conn), harmless(conn), attacker));
    // ... but not for another connection's (Lever delivers for every customer from the same addresses).
    expect((await post(api.webhookUrl(other), harmless(other), attacker)).status).toBe(200);
    // Another source delivers to the same URL.
    expect((await post(api.webhookUrl(conn), harmless(conn), '127.0.0.6')).status).toBe(200);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY names the proxy: a forged header does not make a new source', async () => {
    const api = await startApi({ RATE_LIMIT_SOURCE_REFUSED: 2 });
    const conn = await stack.createConnection();
    const forged = (n: number) => ({ 'X-Forwarded-For': `203.0.113.${n}` });
    for (let n = 1; n <= 2; n += 1) {
      expect(
        (await post(api.webhookUrl(conn), leverBody('guessed', {}), '127.0.0.16', forged(n))).status,
      ).toBe(401);
    }
    expectTooManyRequests(
      await post(api.webhookUrl(conn), leverBody('guessed', {}), '127.0.0.16', forged(3)),
    );
  });

  it('behind a proxy named in TRUST_PROXY, counts each forwarded client as its own source', async () => {
    const api = await startApi({ RATE_LIMIT_SOURCE_REFUSED: 2 }, { trustProxy: ['127.0.0.17'] });
    const conn = await stack.createConnection();
    const client = (n: number) => ({ 'X-Forwarded-For': `203.0.113.${n}` });
    for (let i = 0; i < 2; i += 1) {
      expect(
        (await post(api.webhookUrl(conn), leverBody('guessed', {}), '127.0.0.17', client(1))).status,
      ).toBe(401);
    }
    expectTooManyRequests(
      await post(api.webhookUrl(conn), leverBody('guessed', {}), '127.0.0.17', client(1)),
    );
    expect((await post(api.webhookUrl(conn), harmless(conn), '127.0.0.17', client(2))).status).toBe(200);
  });

  it('counts refusals for unknown ids per source alone and reads each unknown id once', async () => {
    const api = await startApi({ RATE_LIMIT_SOURCE_REFUSED: 5 });
    const conn = await stack.createConnection();
    const watch = watchConnectionReads(api.pool);
    try {
      const repeated = `conn_${randomBytes(12).toString('hex')}`;
      for (let i = 0; i < 3; i += 1) {
        expect((await post(api.webhookUrl({ id: repeated }), '{}', '127.0.0.7')).status).toBe(401);
      }
      expect(watch.reads.get(repeated)).toBe(1);

      const made = Array.from({ length: 5 }, () => `conn_${randomBytes(12).toString('hex')}`);
      for (const id of made) {
        expect((await post(api.webhookUrl({ id }), '{}', '127.0.0.8')).status).toBe(401);
      }
      // Cut off before any lookup: another made-up id and a real connection alike.
      const more = `conn_${randomBytes(12).toString('hex')}`;
      expectTooManyRequests(await post(api.webhookUrl({ id: more }), '{}', '127.0.0.8'));
      expectTooManyRequests(await post(api.webhookUrl(conn), harmless(conn), '127.0.0.8'));
      expect(watch.reads.has(more)).toBe(false);
      expect(watch.reads.has(conn.id)).toBe(false);
    } finally {
      watch.stop();
    }
  });

  it('bounds the accepted requests of one connection (a replayed signed delivery), whatever their source', async () => {
    const api = await startApi({ RATE_LIMIT_CONNECTION_ACCEPTED: 5 });
    const conn = await stack.createConnection();
    const other = await stack.createConnection();
    const captured = harmless(conn);
    const sources = ['127.0.0.9', '127.0.0.10', '127.0.0.11'];
    for (let i = 0; i < 5; i += 1) {
      expect((await post(api.webhookUrl(conn), captured, sources[i % sources.length]!)).status).toBe(200);
    }
    expectTooManyRequests(await post(api.webhookUrl(conn), captured, '127.0.0.12'));
    expectTooManyRequests(await post(api.webhookUrl(conn), harmless(conn), '127.0.0.12'));
    expect((await post(api.webhookUrl(other), harmless(other), '127.0.0.12')).status).toBe(200);
  });

  it('applies a rotated signature token, a pause and a delete made through the API at once', async () => {
    const conn = await stack.createConnection();
    const from = '127.0.0.13';
    expect((await post(conn.webhookUrl, harmless(conn), from)).status).toBe(200);

    const rotated = stack.unique('sig');
    const patched = await stack.adminFetch(`/admin/connections/${conn.id}`, {
      method: 'PATCH',
      body: { lever: { signatureToken: rotated } },
    });
    expect(patched.status).toBe(200);
    expect((await post(conn.webhookUrl, harmless(conn), from)).status).toBe(401);
    const withRotated = { ...conn, signatureToken: rotated };
    expect((await post(conn.webhookUrl, harmless(withRotated), from)).status).toBe(200);

    expect((await stack.adminFetch(`/admin/connections/${conn.id}/pause`, { method: 'POST' })).status).toBe(
      200,
    );
    const opportunity = stack.lever.createOpportunity({
      name: 'Paused Candidate',
      emails: [`paused-${randomBytes(4).toString('hex')}@example.com`],
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    const trigger = leverBody(rotated, {
      opportunityId: opportunity.id,
      toStageId: stack.lever.stageIdByName('Background Check'),
    });
    const paused = await post(conn.webhookUrl, trigger, from);
    expect({ status: paused.status, body: JSON.parse(paused.body) as unknown }).toEqual({
      status: 200,
      body: { accepted: true, outcome: 'paused' },
    });

    expect((await stack.adminFetch(`/admin/connections/${conn.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await post(conn.webhookUrl, harmless(withRotated), from)).status).toBe(401);
  });

  it('lets another API process act on a changed connection for at most CONNECTION_CACHE_TTL_MS', async () => {
    const api = await startApi({ CONNECTION_CACHE_TTL_MS: 1000 });
    const conn = await stack.createConnection();
    const from = '127.0.0.14';
    expect((await post(api.webhookUrl(conn), harmless(conn), from)).status).toBe(200);
    const patched = await stack.adminFetch(`/admin/connections/${conn.id}`, {
      method: 'PATCH',
      body: { lever: { signatureToken: stack.unique('sig') } },
    });
    expect(patched.status).toBe(200);
    // The change went through the stack's API; this one reads it again once its entry is a second old.
    await eventually(
      async () =>
        (await post(api.webhookUrl(conn), harmless(conn), from)).status === 401 ? true : undefined,
      10_000,
      'the other API to refuse the old signature token',
    );
  });

  it('answers 503 problem+json with Retry-After when no database connection comes in time, instead of waiting', async () => {
    const api = await startApi({ DATABASE_POOL_TIMEOUT_MS: 300 }, { poolMax: 1 });
    const conn = await stack.createConnection();
    const delivery = harmless(conn);
    const held = await api.pool.connect();
    let busy: Answer;
    try {
      busy = await post(api.webhookUrl(conn), delivery, '127.0.0.15');
    } finally {
      held.release();
    }
    expect(busy.status).toBe(503);
    expect(busy.contentType).toContain('application/problem+json');
    expect(busy.retryAfter).toMatch(/^\d+$/);
    // Nothing was recorded: Lever's retry is accepted once a connection is free.
    const retried = await post(api.webhookUrl(conn), delivery, '127.0.0.15');
    expect({ status: retried.status, body: JSON.parse(retried.body) as unknown }).toEqual({
      status: 200,
      body: { accepted: true, outcome: 'ignored-stage' },
    });
  });
});
