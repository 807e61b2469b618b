/**
 * Benchmark "Ingest": signed Lever `candidateStageChange` webhooks into the trigger stage, each for an opportunity
 * of its own, sent at several concurrencies to the API (src/main.ts, a process of its own) with the worker stopped:
 * what the service acknowledges per second, how long a sender waits for its answer, and how long until Temporal
 * has started the check. Floor, in the same run on the same server at the same concurrency: `client.workflow.start`
 * of the same workflow type with the same options (ID, task queue, search attributes), nothing else.
 *
 *   npx tsx bench/ingest.ts [--webhooks 2000] [--tiny] [--json figures.json]
 *
 * Each concurrency level uses a connection (customer) of its own: the API accepts 3,000 webhooks per connection
 * per minute (RATE_LIMIT_CONNECTION_ACCEPTED), and a level sends at most `webhooks` of them.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { startCertnEmulator } from '../src/sandbox/certn-emulator';
import { startLeverEmulator } from '../src/sandbox/lever-emulator';
import { CONNECTION_KEY, VENDOR_KEY } from '../src/temporal/search-attributes';
import { checkWorkflowId, type BackgroundCheckInput } from '../src/workflows/definitions';
import { connectLeverToCertn } from '../test/support/connect-certn';
import { leverBody } from '../test/support/flood-client';
import {
  atExit,
  benchArgs,
  benchEnvironment,
  finishReport,
  latencies,
  runBenchmark,
  type Latencies,
  type Row,
} from './lib';
import { BenchService } from './service';

const args = benchArgs({ sizes: { webhooks: 2000 }, tiny: { webhooks: 20 } });
const LEVELS = args.tiny ? [1, 5] : [1, 50, 200];

interface LevelFigures {
  /** Answered per second over the level (first send to last answer). */
  perSecond: number;
  /** Send → answer (ms). */
  ack: Latencies;
  /** Send → the workflow's start time as Temporal recorded it (ms). */
  started: Latencies;
  /** Answers other than 2xx, by status. */
  refused: Record<string, number>;
}

/** Runs `count` tasks, at most `concurrency` at once; returns the wall time (ms). */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const begun = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) await task(i);
    }),
  );
  return performance.now() - begun;
}

/** Start times (ms since the epoch) of the workflows Temporal lists for `connectionId`, once it lists `count`. */
async function startTimes(client: Client, connectionId: string, count: number): Promise<Map<string, number>> {
  const deadline = Date.now() + 120_000 + count * 50;
  for (;;) {
    const times = new Map<string, number>();
    for await (const execution of client.workflow.list({
      query: `${CONNECTION_KEY.name} = '${connectionId}'`,
      pageSize: 1000,
    })) {
      times.set(execution.workflowId, execution.startTime.getTime());
    }
    if (times.size >= count) return times;
    if (Date.now() > deadline) {
      throw new Error(`Temporal lists ${times.size} of ${count} workflows of ${connectionId}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main(): Promise<number> {
  const count = args.sizes.webhooks;
  const env = await benchEnvironment('ingest');
  const lever = await startLeverEmulator();
  atExit(() => lever.close());
  const certn = await startCertnEmulator({ autoAdvanceMs: null });
  atExit(() => certn.close());
  const service = await BenchService.start({ name: 'ingest', temporalAddress: env.temporal.address });
  const client = new Client({ connection: await Connection.connect({ address: env.temporal.address }) });
  atExit(() => client.connection.close());
  const triggerStageId = lever.stageIdByName('Background Check');
  const fromStageId = lever.stageIdByName(lever.stages()[0]!.text);

  console.log(
    `ingest: ${count} webhooks per level at concurrency ${LEVELS.join(', ')}; worker stopped; ` +
      `floor: client.workflow.start on the same server`,
  );

  const service_: Record<number, LevelFigures> = {};
  const floor: Record<number, LevelFigures> = {};
  for (const concurrency of LEVELS) {
    // The service: signed webhooks over HTTP, each acknowledged once the delivery is recorded and its start tried.
    const conn = await connectLeverToCertn({
      apiUrl: service.apiUrl,
      adminToken: service.adminToken,
      lever,
      certn,
      name: `Ingest customer c${concurrency}`,
    });
    const opportunities = Array.from({ length: count }, () => randomUUID());
    const sentAt = new Array<number>(count);
    const ack: number[] = [];
    const refused: Record<string, number> = {};
    const ms = await pool(count, concurrency, async (i) => {
      const body = leverBody(conn.signatureToken, {
        opportunityId: opportunities[i],
        candidateId: opportunities[i],
        contactId: opportunities[i],
        fromStageId,
        toStageId: triggerStageId,
      });
      sentAt[i] = Date.now();
      const begun = performance.now();
      const res = await fetch(conn.webhookUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
      await res.arrayBuffer();
      ack.push(performance.now() - begun);
      if (!res.ok) refused[res.status] = (refused[res.status] ?? 0) + 1;
    });
    const accepted = count - Object.values(refused).reduce((a, b) => a + b, 0);
    const started = await startTimes(client, conn.id, accepted);
    service_[concurrency] = {
      perSecond: (count / ms) * 1000,
      ack: latencies(ack),
      started: latencies(
        opportunities.flatMap((o, i) => {
          const at = started.get(checkWorkflowId(conn.id, o));
          return at === undefined ? [] : [at - sentAt[i]!];
        }),
      ),
      refused,
    };

    // The floor: the same start, straight from a client.
    const floorConnection = `floor-${randomUUID()}`;
    const floorSentAt = new Array<number>(count);
    const floorAck: number[] = [];
    const floorRefused: Record<string, number> = {};
    const floorMs = await pool(count, concurrency, async (i) => {
      const args: [BackgroundCheckInput] = [
        { connectionId: floorConnection, subjectId: opportunities[i]!, pollIntervalMs: 3_600_000 },
      ];
      floorSentAt[i] = Date.now();
      const begun = performance.now();
      try {
        await client.workflow.start('backgroundCheck', {
          taskQueue: service.taskQueue,
          workflowId: checkWorkflowId(floorConnection, opportunities[i]!),
          args,
          typedSearchAttributes: [
            { key: CONNECTION_KEY, value: floorConnection },
            { key: VENDOR_KEY, value: 'certn' },
          ],
        });
      } catch {
        floorRefused.error = (floorRefused.error ?? 0) + 1;
      }
      floorAck.push(performance.now() - begun);
    });
    const floorStarted = await startTimes(client, floorConnection, count - (floorRefused.error ?? 0));
    floor[concurrency] = {
      perSecond: (count / floorMs) * 1000,
      ack: latencies(floorAck),
      started: latencies(
        opportunities.flatMap((o, i) => {
          const at = floorStarted.get(checkWorkflowId(floorConnection, o));
          return at === undefined ? [] : [at - floorSentAt[i]!];
        }),
      ),
      refused: floorRefused,
    };
    const s = service_[concurrency];
    console.log(
      `  c=${concurrency}: ${s.perSecond.toFixed(1)}/s (floor ${floor[concurrency].perSecond.toFixed(1)}/s), ` +
        `ack p99 ${s.ack.p99.toFixed(0)} ms (floor ${floor[concurrency].ack.p99.toFixed(0)} ms)` +
        (Object.keys(refused).length > 0 ? `, refused ${JSON.stringify(refused)}` : ''),
    );
  }

  const rows: Row[] = [];
  for (const c of LEVELS) {
    const s = service_[c]!;
    const f = floor[c]!;
    rows.push(
      {
        measure: `c=${c} webhooks acknowledged per second`,
        value: s.perSecond,
        unit: '/s',
        floor: f.perSecond,
      },
      { measure: `c=${c} ack latency p50`, value: s.ack.p50, unit: 'ms', floor: f.ack.p50 },
      { measure: `c=${c} ack latency p99`, value: s.ack.p99, unit: 'ms', floor: f.ack.p99 },
      { measure: `c=${c} ack latency max`, value: s.ack.max, unit: 'ms', floor: f.ack.max },
      {
        measure: `c=${c} webhook → workflow started p50`,
        value: s.started.p50,
        unit: 'ms',
        floor: f.started.p50,
      },
      {
        measure: `c=${c} webhook → workflow started p99`,
        value: s.started.p99,
        unit: 'ms',
        floor: f.started.p99,
      },
    );
  }
  finishReport(
    {
      benchmark: 'ingest',
      parameters: { webhooks: count, concurrency: LEVELS.join('/'), worker: 'stopped', tiny: args.tiny },
      rows,
      details: { service: service_, floor },
    },
    args,
  );
  const failures = LEVELS.flatMap((c) => {
    const refused = Object.entries(service_[c]!.refused);
    const missing = count - service_[c]!.started.count;
    return [
      ...(refused.length > 0 ? [`c=${c}: answers other than 2xx ${JSON.stringify(refused)}`] : []),
      ...(missing > 0 ? [`c=${c}: ${missing} webhooks without a started workflow`] : []),
    ];
  });
  for (const failure of failures) console.error(failure);
  return failures.length > 0 ? 1 : 0;
}

runBenchmark(main);
