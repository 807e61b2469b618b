import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Pool } from 'pg';
import { PROBLEM_CONTENT_TYPE } from '../../src/api/problem';
import { leverSignature } from '../../src/api/signature';
import type { WebhookDelivery } from '../../src/sandbox/lever-emulator';
import type { Stack } from './stack';

/** One request of a flood; `kind` groups the figures. */
export interface FloodRequest {
  kind: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface FloodOptions {
  requests: number;
  /** Requests in flight at once, shared evenly by the sources. */
  concurrency: number;
  /**
   * Local addresses the requests come from, in turn: every 127.x.y.z reaches a server on 127.0.0.1 on Linux, so
   * each one is a source of its own for the service (its peer address), as distinct clients would be.
   */
  sources: string[];
  /** The n-th request (0-based). */
  request: (n: number) => FloodRequest;
  /** Called after each answered request with how many have been answered. */
  onAnswered?: (answered: number) => void;
}

export interface FloodFigures {
  requests: number;
  ms: number;
  /** Status → count; 0 = no answer (connection error). */
  statuses: Map<number, number>;
  byKind: Map<string, Map<number, number>>;
  /** 429 answers without problem+json or without a Retry-After of whole seconds. */
  malformed429: number;
}

const add = (map: Map<number, number>, status: number) => map.set(status, (map.get(status) ?? 0) + 1);

/**
 * Sends `requests` POSTs, `concurrency` at a time, over keep-alive connections from each source address, and
 * counts the answers. Every socket is closed when it resolves.
 */
export async function flood(options: FloodOptions): Promise<FloodFigures> {
  const perSource = Math.max(1, Math.ceil(options.concurrency / options.sources.length));
  const agents = options.sources.map(
    (localAddress) => new http.Agent({ keepAlive: true, maxSockets: perSource, localAddress }),
  );
  const figures: FloodFigures = {
    requests: 0,
    ms: 0,
    statuses: new Map(),
    byKind: new Map(),
    malformed429: 0,
  };
  let next = 0;
  let answered = 0;
  const send = (n: number) =>
    new Promise<void>((resolve) => {
      const { kind, url, headers, body } = options.request(n);
      const agent = agents[n % agents.length];
      let noted = false;
      const note = (status: number, malformed = false) => {
        if (noted) return;
        noted = true;
        add(figures.statuses, status);
        const kindStatuses = figures.byKind.get(kind) ?? new Map<number, number>();
        figures.byKind.set(kind, add(kindStatuses, status));
        if (malformed) figures.malformed429 += 1;
        answered += 1;
        options.onAnswered?.(answered);
        resolve();
      };
      const req = http.request(
        url,
        { method: 'POST', agent, headers: { 'Content-Type': 'application/json', ...headers } },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const malformed =
              status === 429 &&
              (!String(res.headers['content-type']).startsWith(PROBLEM_CONTENT_TYPE) ||
                !/^\d+$/.test(String(res.headers['retry-after'])));
            note(status, malformed);
          });
        },
      );
      req.on('error', () => note(0));
      req.on('response', (res) => res.on('error', () => note(0)));
      req.end(body);
    });
  const started = Date.now();
  const lane = async () => {
    while (next < options.requests) {
      const n = next;
      next += 1;
      await send(n);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, lane));
  } finally {
    for (const agent of agents) agent.destroy();
  }
  figures.requests = answered;
  figures.ms = Date.now() - started;
  return figures;
}

/** `401×3120 429×1880` */
export function formatStatuses(statuses: Map<number, number>): string {
  return [...statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status === 0 ? 'no answer' : status}×${count}`)
    .join(' ');
}

/** A Lever delivery signed with `signatureToken` (a wrong one for a forgery), as Lever sends it. */
export function leverBody(
  signatureToken: string,
  data: Record<string, unknown>,
  token = randomBytes(24).toString('hex'),
): string {
  const triggeredAt = Date.now();
  return JSON.stringify({
    id: randomUUID(),
    event: 'candidateStageChange',
    triggeredAt,
    token,
    signature: leverSignature(signatureToken, token, triggeredAt),
    data,
  });
}

/**
 * Counts the reads of connections (`SELECT * FROM connections WHERE id = $1`) made through `pool`, by id, until
 * `stop`: the pool's own `query` runs unchanged.
 */
export function watchConnectionReads(pool: Pool): { reads: Map<string, number>; stop: () => void } {
  const reads = new Map<string, number>();
  const query = Object.getOwnPropertyDescriptor(pool, 'query');
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  Object.defineProperty(pool, 'query', {
    configurable: true,
    writable: true,
    value: (...args: unknown[]) => {
      const [sql, params] = args;
      if (
        typeof sql === 'string' &&
        sql.startsWith('SELECT * FROM connections WHERE id') &&
        Array.isArray(params)
      ) {
        const id = String(params[0]);
        reads.set(id, (reads.get(id) ?? 0) + 1);
      }
      return original(...args);
    },
  });
  const stop = () => {
    if (query) Object.defineProperty(pool, 'query', query);
    else delete (pool as { query?: unknown }).query;
  };
  return { reads, stop };
}

export interface LeverFloodOptions {
  requests: number;
  concurrency: number;
  sources: string[];
  /** Candidates moved into the trigger stage in the Lever emulator during the flood, three at a time. */
  candidates: number;
}

export interface LeverFloodResult {
  connection: Awaited<ReturnType<Stack['createConnection']>>;
  opportunities: string[];
  unknownIds: string[];
  figures: FloodFigures;
  /** The Lever emulator's real deliveries made during the flood. */
  real: WebhookDelivery[];
  /** The API's reads of connections during the flood, by id. */
  readsById: Map<string, number>;
}

/**
 * The flood scenario on a new Lever → Certn connection: 80 % forged deliveries to its webhook URL (well-formed,
 * signed with a wrong token), 10 % deliveries to made-up connection ids, 10 % forged Certn callbacks to its
 * callback URL; meanwhile the Lever emulator moves `candidates` candidates into the trigger stage, three at a
 * time, spread evenly over the flood.
 */
export async function floodWhileLeverDelivers(
  stack: Stack,
  options: LeverFloodOptions,
): Promise<LeverFloodResult> {
  const connection = await stack.createConnection();
  const trigger = stack.lever.stageIdByName('Background Check');
  const phoneScreen = stack.lever.stageIdByName('Phone screen');
  const opportunities = Array.from(
    { length: options.candidates },
    (_, i) =>
      stack.lever.createOpportunity({
        name: `Flood Candidate ${i}`,
        emails: [`flood-${i}-${randomBytes(4).toString('hex')}@example.com`],
        stageId: phoneScreen,
      }).id,
  );
  const unknownIds = Array.from({ length: 20 }, () => `conn_${randomBytes(12).toString('hex')}`);
  const webhookBase = connection.webhookUrl.slice(0, connection.webhookUrl.lastIndexOf('/') + 1);
  const forged = (opportunityId: string | undefined) =>
    leverBody('guessed', { opportunityId, toStageId: trigger });

  const request = (n: number): FloodRequest => {
    if (n % 10 === 8) {
      return {
        kind: 'lever, unknown id',
        url: `${webhookBase}${unknownIds[Math.floor(n / 10) % unknownIds.length]}`,
        headers: {},
        body: forged(opportunities[0]),
      };
    }
    if (n % 10 === 9) {
      return {
        kind: 'certn callback, bad signature',
        url: connection.vendorCallbackUrl,
        headers: { 'X-Signature': randomBytes(32).toString('hex') },
        body: JSON.stringify({ id: randomUUID(), type: 'CASE_STATUS_CHANGED', object_id: randomUUID() }),
      };
    }
    return {
      kind: 'lever, bad signature',
      url: connection.webhookUrl,
      headers: {},
      body: forged(opportunities[n % opportunities.length]),
    };
  };

  const batches = Math.ceil(options.candidates / 3);
  const every = Math.max(1, Math.floor(options.requests / (batches + 1)));
  const deliveries: Promise<WebhookDelivery[]>[] = [];
  const onAnswered = (answered: number) => {
    if (answered % every !== 0 || deliveries.length >= batches) return;
    const batch = opportunities.slice(deliveries.length * 3, deliveries.length * 3 + 3);
    deliveries.push(
      Promise.all(batch.map((id) => stack.lever.moveToStage(id, trigger))).then((d) => d.flat()),
    );
  };

  const watch = watchConnectionReads(stack.apiPool);
  let figures: FloodFigures;
  try {
    figures = await flood({ ...options, request, onAnswered });
  } finally {
    watch.stop();
  }
  const real = (await Promise.all(deliveries)).flat();
  return { connection, opportunities, unknownIds, figures, real, readsById: watch.reads };
}

/** The figures of a flood scenario, a few lines. */
export function describeLeverFlood(result: LeverFloodResult, options: LeverFloodOptions): string {
  const { figures, real, readsById } = result;
  const firstAttempt = real.filter((d) => {
    const status = d.attempts[0]?.status ?? 0;
    return status >= 200 && status < 300;
  }).length;
  return [
    `flood: ${figures.requests} requests from ${options.sources.length} sources, ${options.concurrency} at a time, ` +
      `in ${figures.ms} ms (${Math.round((figures.requests * 1000) / Math.max(1, figures.ms))}/s): ` +
      formatStatuses(figures.statuses),
    ...[...figures.byKind].map(([kind, statuses]) => `  ${kind}: ${formatStatuses(statuses)}`),
    `real deliveries during the flood: ${real.length}, acknowledged on the first attempt: ${firstAttempt}, ` +
      `later (Lever's retry): ${real.filter((d) => d.delivered).length - firstAttempt}, ` +
      `never: ${real.filter((d) => !d.delivered).length}`,
    `connection reads by the API during the flood: ${[...readsById.values()].reduce((a, b) => a + b, 0)} ` +
      `(${readsById.size} ids)`,
  ].join('\n');
}
