/**
 * Benchmark "Ingest": signed Lever `candidateStageChange` webhooks into the trigger stage, each for an opportunity
 * of its own, sent at several concurrencies to the API (src/main.ts, a process of its own) with the worker stopped:
 * what the service acknowledges per second, how long a sender waits for its answer, and how long until Temporal
 * has started the check. Floor, in the same run on the same server at the same concurrency: `client.workflow.start`
 * of the same workflow type with the same options (ID, task queue, search attributes), nothing else. The two take
 * turns, half the webhooks each, floor–service–service–floor, so that neither always meets the larger database.
 * Figures: acknowledged per second, workflows started per second (from the first send to the last start),
 * latency send → answer and send → workflow started (as Temporal recorded it).
 *
 *   npx tsx bench/ingest.ts [--webhooks 2000] [--tiny] [--json figures.json]
 *
 * Each concurrency level uses a connection (customer) of its own: the API accepts 3,000 webhooks per connection
 * per minute (RATE_LIMIT_CONNECTION_ACCEPTED), and a level sends at most `webhooks` of them.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { startCertnEmulator } from '../sandbox/certn-emulator';
import { startLeverEmulator } from '../sandbox/lever-emulator';
import { CONNECTION_KEY } from '../src/temporal/search-attributes';
import { WORKFLOW_KINDS } from '../src/workflows/kinds';
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
  inPool,
} from './lib';
import { BenchService, describeTopology, topology } from './service';

const args = benchArgs({ sizes: { webhooks: 2000 }, tiny: { webhooks: 20 } });
const LEVELS = args.tiny ? [1, 5] : [1, 50, 200];

interface LevelFigures {
  /** Answered per second over the level (first send to last answer). */
  perSecond: number;
  /** Workflows started per second (first send to the last workflow started). */
  startedPerSecond: number;
  /** Send → answer (ms). */
  ack: Latencies;
  /** Send → the workflow's start time as Temporal recorded it (ms). */
  started: Latencies;
  /** Answers other than 2xx, by status. */
  refused: Record<string, number>;
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
      `floor: client.workflow.start on the same server; ${describeTopology(env.temporal.kind)}`,
  );

  /** What one sender did: `send` returns the status of a refused item, undefined when it was accepted. */
  interface Run {
    sentAt: Map<string, number>;
    ack: number[];
    refused: Record<string, number>;
    ms: number;
    /** The items of each `sendAll`: the start rate is measured over each part's own span. */
    parts: string[][];
  }
  const newRun = (): Run => ({ sentAt: new Map(), ack: [], refused: {}, ms: 0, parts: [] });
  async function sendAll(
    run: Run,
    items: string[],
    concurrency: number,
    send: (item: string) => Promise<number | undefined>,
  ): Promise<void> {
    run.parts.push(items);
    run.ms += await inPool(items.length, concurrency, async (i) => {
      const item = items[i]!;
      run.sentAt.set(item, Date.now());
      const begun = performance.now();
      const status = await send(item);
      run.ack.push(performance.now() - begun);
      if (status !== undefined) run.refused[status] = (run.refused[status] ?? 0) + 1;
    });
  }
  /** The run's figures, with the start times Temporal recorded for the workflows of `connectionId`. */
  async function figures(
    run: Run,
    connectionId: string,
    workflowIdOf: (item: string) => string,
  ): Promise<LevelFigures> {
    const refusedCount = Object.values(run.refused).reduce((a, b) => a + b, 0);
    const started = await startTimes(client, connectionId, run.sentAt.size - refusedCount);
    // From each part's first send to its last workflow started, summed over the parts.
    let startSpan = 0;
    for (const part of run.parts) {
      const starts = part.flatMap((item) => started.get(workflowIdOf(item)) ?? []);
      if (starts.length > 0)
        startSpan += Math.max(...starts) - Math.min(...part.map((item) => run.sentAt.get(item)!));
    }
    return {
      perSecond: (run.sentAt.size / run.ms) * 1000,
      startedPerSecond: (started.size / Math.max(1, startSpan)) * 1000,
      ack: latencies(run.ack),
      started: latencies(
        [...run.sentAt].flatMap(([item, sent]) => {
          const at = started.get(workflowIdOf(item));
          return at === undefined ? [] : [at - sent];
        }),
      ),
      refused: run.refused,
    };
  }

  const service_: Record<number, LevelFigures> = {};
  const floor: Record<number, LevelFigures> = {};
  for (const concurrency of LEVELS) {
    const conn = await connectLeverToCertn({
      apiUrl: service.apiUrl,
      adminToken: service.adminToken,
      lever,
      certn,
      name: `Ingest customer c${concurrency}`,
    });
    // The service: signed webhooks over HTTP, acknowledged as the API does.
    const webhook = async (opportunityId: string) => {
      const body = leverBody(conn.signatureToken, {
        opportunityId,
        candidateId: opportunityId,
        contactId: opportunityId,
        fromStageId,
        toStageId: triggerStageId,
      });
      const res = await fetch(conn.webhookUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
      await res.arrayBuffer();
      return res.ok ? undefined : res.status;
    };
    // The floor: the same start, straight from a client.
    const floorConnection = { id: `floor-${randomUUID()}`, vendor: 'certn' };
    const check = WORKFLOW_KINDS.backgroundCheck;
    const rawStart = async (opportunityId: string) => {
      try {
        await client.workflow.start(check.workflowType, {
          taskQueue: service.taskQueue,
          workflowId: check.workflowId(floorConnection.id, opportunityId),
          args: [check.input(floorConnection, opportunityId, { pollIntervalMs: 3_600_000 })],
          workflowIdReusePolicy: check.idReusePolicy,
          typedSearchAttributes: check.startAttributes(floorConnection),
        });
        return undefined;
      } catch {
        return 0;
      }
    };
    // In turns, floor–service–service–floor, each half of the items: neither always meets the larger database.
    const opportunities = Array.from({ length: count }, () => randomUUID());
    const half = Math.ceil(count / 2);
    const [first, second] = [opportunities.slice(0, half), opportunities.slice(half)];
    const serviceRun = newRun();
    const floorRun = newRun();
    await sendAll(floorRun, first, concurrency, rawStart);
    await sendAll(serviceRun, first, concurrency, webhook);
    await sendAll(serviceRun, second, concurrency, webhook);
    await sendAll(floorRun, second, concurrency, rawStart);
    service_[concurrency] = await figures(serviceRun, conn.id, (o) => check.workflowId(conn.id, o));
    floor[concurrency] = await figures(floorRun, floorConnection.id, (o) =>
      check.workflowId(floorConnection.id, o),
    );
    const s = service_[concurrency];
    const f = floor[concurrency];
    console.log(
      `  c=${concurrency}: ${s.perSecond.toFixed(1)}/s (floor ${f.perSecond.toFixed(1)}/s), ` +
        `ack p99 ${s.ack.p99.toFixed(0)} ms (floor ${f.ack.p99.toFixed(0)} ms)` +
        (Object.keys(s.refused).length > 0 ? `, refused ${JSON.stringify(s.refused)}` : ''),
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
      {
        measure: `c=${c} workflows started per second`,
        value: s.startedPerSecond,
        unit: '/s',
        floor: f.startedPerSecond,
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
      parameters: {
        webhooks: count,
        concurrency: LEVELS.join('/'),
        worker: 'stopped',
        tiny: args.tiny,
        ...topology(env.temporal.kind),
      },
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
