import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Pool } from 'pg';
import type { WebhookDelivery } from '../../sandbox/lever-emulator';
import type { FloodFigures, FloodPlan, StatusCounts } from './flood-client';
import type { Stack } from './stack';

const ROOT = path.resolve(__dirname, '..', '..');
const CLIENT = path.join(__dirname, 'flood-client.ts');

/**
 * Runs the plan in a flood client process of its own (test/support/flood-client.ts), calling `onAnswered` with
 * the number of answers so far every 50 answers; resolves with its figures once it has exited.
 */
export function flood(plan: FloodPlan, onAnswered?: (answered: number) => void): Promise<FloodFigures> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLIENT], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let figures: FloodFigures | undefined;
    child.on('message', (message: { answered?: number; figures?: FloodFigures }) => {
      if (message.answered !== undefined) onAnswered?.(message.answered);
      if (message.figures !== undefined) figures = message.figures;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      figures ? resolve(figures) : reject(new Error(`the flood client exited (${code}) without its figures`)),
    );
    child.send(plan);
  });
}

/** `401×3120 429×1880` */
export function formatStatuses(statuses: StatusCounts): string {
  return [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status === 0 ? 'no answer' : status}×${count}`)
    .join(' ');
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
  /** For each acknowledged real delivery, ms from the move in Lever to its 2xx answer (retries included). */
  ackMs: number[];
  /** The API's reads of connections during the flood, by id. */
  readsById: Map<string, number>;
}

/**
 * The flood scenario on a new Lever → Certn connection: 80 % forged deliveries to its webhook URL (well-formed,
 * signed with a wrong token), 10 % deliveries to made-up connection ids, 10 % forged Certn callbacks to its
 * callback URL, sent by the flood client process; meanwhile the Lever emulator moves `candidates` candidates into
 * the trigger stage, three at a time, spread evenly over the flood.
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
  const plan: FloodPlan = {
    ...options,
    leverUrl: connection.webhookUrl,
    leverData: opportunities.map((opportunityId) => ({ opportunityId, toStageId: trigger })),
    unknownUrls: unknownIds.map((id) => `${webhookBase}${id}`),
    callbackUrl: connection.vendorCallbackUrl,
  };

  const batches = Math.ceil(options.candidates / 3);
  const every = Math.max(1, Math.floor(options.requests / (batches + 1)));
  const deliveries: Promise<WebhookDelivery[]>[] = [];
  const movedAt = new Map<string, number>();
  const onAnswered = (answered: number) => {
    while (deliveries.length < batches && answered >= (deliveries.length + 1) * every) {
      const batch = opportunities.slice(deliveries.length * 3, deliveries.length * 3 + 3);
      for (const id of batch) movedAt.set(id, Date.now());
      deliveries.push(
        Promise.all(batch.map((id) => stack.lever.moveToStage(id, trigger))).then((d) => d.flat()),
      );
    }
  };

  const watch = watchConnectionReads(stack.apiPool);
  let figures: FloodFigures;
  try {
    figures = await flood(plan, onAnswered);
  } finally {
    watch.stop();
  }
  const real = (await Promise.all(deliveries)).flat();
  const ackMs = real.flatMap((d) => {
    const acknowledged = d.attempts.find((a) => a.status !== null && a.status >= 200 && a.status < 300);
    const moved = movedAt.get(String(d.body.data.opportunityId));
    return acknowledged && moved !== undefined ? [acknowledged.at - moved] : [];
  });
  return { connection, opportunities, unknownIds, figures, real, ackMs, readsById: watch.reads };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
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
      `never: ${real.filter((d) => !d.delivered).length}; acknowledged after (ms) median ${percentile(result.ackMs, 0.5)}, ` +
      `90th percentile ${percentile(result.ackMs, 0.9)}, longest ${percentile(result.ackMs, 1)}`,
    `connection reads by the API during the flood: ${[...readsById.values()].reduce((a, b) => a + b, 0)} ` +
      `(${readsById.size} ids)`,
  ].join('\n');
}
