import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { PROBLEM_CONTENT_TYPE } from '../../src/api/problem';
import { leverSignature } from '../../src/integrations/signature';

/**
 * The attacker of the flood tests, run as a process of its own (test/support/flood.ts starts it) so that its work
 * is not the service's: forged requests at high concurrency from several source addresses.
 */

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

export interface FloodPlan {
  requests: number;
  /** Requests in flight at once, shared evenly by the sources. */
  concurrency: number;
  /**
   * Local addresses the requests come from, in turn: every 127.x.y.z reaches a server on 127.0.0.1 on Linux, so
   * each one is a source of its own for the service (its peer address), as distinct clients would be.
   */
  sources: string[];
  /** A real connection's Lever webhook URL: 8 requests in 10 are forged deliveries to it. */
  leverUrl: string;
  /** The `data` of those deliveries, in turn. */
  leverData: Record<string, unknown>[];
  /** Webhook URLs of made-up connection ids: 1 request in 10, in turn. */
  unknownUrls: string[];
  /** A real connection's Certn callback URL: 1 request in 10, with a wrong X-Signature. */
  callbackUrl: string;
}

/** Answers by status (0: no answer, a connection error). */
export type StatusCounts = [status: number, count: number][];

export interface FloodFigures {
  requests: number;
  ms: number;
  statuses: StatusCounts;
  byKind: [kind: string, statuses: StatusCounts][];
  /** 429 answers without problem+json or without a Retry-After of whole seconds. */
  malformed429: number;
}

function request(plan: FloodPlan, n: number) {
  if (n % 10 === 8) {
    return {
      kind: 'lever, unknown id',
      url: plan.unknownUrls[Math.floor(n / 10) % plan.unknownUrls.length] ?? plan.leverUrl,
      headers: {},
      body: leverBody('guessed', plan.leverData[0] ?? {}),
    };
  }
  if (n % 10 === 9) {
    return {
      kind: 'certn callback, bad signature',
      url: plan.callbackUrl,
      headers: { 'X-Signature': randomBytes(32).toString('hex') },
      body: JSON.stringify({ id: randomUUID(), type: 'CASE_STATUS_CHANGED', object_id: randomUUID() }),
    };
  }
  return {
    kind: 'lever, bad signature',
    url: plan.leverUrl,
    headers: {},
    body: leverBody('guessed', plan.leverData[n % plan.leverData.length] ?? {}),
  };
}

const add = (map: Map<number, number>, status: number) => map.set(status, (map.get(status) ?? 0) + 1);

/**
 * Sends the plan's requests, `concurrency` at a time, over keep-alive connections from each source address, and
 * counts the answers; `onAnswered` after each. Every socket is closed when it resolves.
 */
export async function runFlood(
  plan: FloodPlan,
  onAnswered?: (answered: number) => void,
): Promise<FloodFigures> {
  const perSource = Math.max(1, Math.ceil(plan.concurrency / plan.sources.length));
  const agents = plan.sources.map(
    (localAddress) => new http.Agent({ keepAlive: true, maxSockets: perSource, localAddress }),
  );
  const statuses = new Map<number, number>();
  const byKind = new Map<string, Map<number, number>>();
  let malformed429 = 0;
  let next = 0;
  let answered = 0;
  const send = (n: number) =>
    new Promise<void>((resolve) => {
      const { kind, url, headers, body } = request(plan, n);
      let noted = false;
      const note = (status: number, malformed = false) => {
        if (noted) return;
        noted = true;
        add(statuses, status);
        byKind.set(kind, add(byKind.get(kind) ?? new Map<number, number>(), status));
        if (malformed) malformed429 += 1;
        answered += 1;
        onAnswered?.(answered);
        resolve();
      };
      const req = http.request(
        url,
        {
          method: 'POST',
          // Blocks of ten from each source in turn, so every source sends the same mix.
          agent: agents[Math.floor(n / 10) % agents.length],
          headers: { 'Content-Type': 'application/json', ...headers },
        },
        (res) => {
          res.resume();
          res.on('error', () => note(0));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            note(
              status,
              status === 429 &&
                (!String(res.headers['content-type']).startsWith(PROBLEM_CONTENT_TYPE) ||
                  !/^\d+$/.test(String(res.headers['retry-after']))),
            );
          });
        },
      );
      req.on('error', () => note(0));
      req.end(body);
    });
  const started = Date.now();
  const lane = async () => {
    while (next < plan.requests) {
      const n = next;
      next += 1;
      await send(n);
    }
  };
  try {
    await Promise.all(Array.from({ length: plan.concurrency }, lane));
  } finally {
    for (const agent of agents) agent.destroy();
  }
  return {
    requests: answered,
    ms: Date.now() - started,
    statuses: [...statuses],
    byKind: [...byKind].map(([kind, counts]) => [kind, [...counts]]),
    malformed429,
  };
}

/** Run as a process: takes the plan from the parent, reports progress every 50 answers, then the figures. */
if (require.main === module) {
  // The parent has gone (ended or killed): nobody reads the figures.
  process.once('disconnect', () => process.exit(1));
  process.once('message', (plan: FloodPlan) => {
    const report = (message: unknown) =>
      new Promise<void>((resolve) => process.send?.(message, () => resolve()));
    void runFlood(plan, (answered) => {
      if (answered % 50 === 0) void report({ answered });
    })
      .then((figures) => report({ figures }))
      .finally(() => process.exit(0));
  });
}
