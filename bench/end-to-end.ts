/**
 * Benchmark "End to end": Lever → Certn checks from the move into the trigger stage to `CERTN - Complete` in
 * Lever, with the emulators answering at once (Lever's limit lifted in the emulator and in the worker's limiter,
 * Certn advancing every 10 ms), the API and the worker each a process of their own. Floor, in the same run on the
 * same Temporal server: a workflow with the same number of activities, timers and signals as a real check (counted
 * from real checks' histories) that does nothing, started and signalled by a client, its worker in this process;
 * its payloads are encrypted by the service's codec as the checks' are.
 *
 *   npx tsx bench/end-to-end.ts [--checks 500] [--concurrency 50] [--tiny] [--json figures.json]
 *
 * `--concurrency`: moves in flight at once (the Lever emulator delivers each webhook), and floor starts.
 */
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { baseConfigSchema, loadConfig } from '../src/config';
import { startCertnEmulator } from '../sandbox/certn-emulator';
import { startLeverEmulator } from '../sandbox/lever-emulator';
import { createDataConverter } from '../src/temporal/data-converter';
import { checkWorkflowId } from '../src/workflows/definitions';
import { connectLeverToCertn } from '../test/support/connect-certn';
import * as floorActivities from './floor/activities';
import { floorSignal, type FloorShape } from './floor/workflows';
import {
  atExit,
  benchArgs,
  benchEnvironment,
  finishReport,
  inPool,
  latencies,
  runBenchmark,
  type Row,
} from './lib';
import { BenchService, describeTopology, topology } from './service';

const args = benchArgs({ sizes: { checks: 500, concurrency: 50 }, tiny: { checks: 5, concurrency: 5 } });
const COMPLETE = 'CERTN - Complete';
const LIFTED = 1_000_000;

/** Activities, timers and signals in a closed workflow's history. */
async function shapeOf(client: Client, workflowId: string): Promise<FloorShape> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const shape = { activities: 0, timers: 0, signals: 0 };
  for (const event of history.events ?? []) {
    if (event.activityTaskScheduledEventAttributes) shape.activities += 1;
    if (event.timerStartedEventAttributes) shape.timers += 1;
    if (event.workflowExecutionSignaledEventAttributes) shape.signals += 1;
  }
  return shape;
}

async function main(): Promise<number> {
  const { checks, concurrency } = args.sizes;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await benchEnvironment('end-to-end');
  const lever = await startLeverEmulator({ rateLimit: { perSecond: LIFTED, burst: LIFTED } });
  atExit(() => lever.close());
  const certn = await startCertnEmulator({ autoAdvanceMs: 10, webhookRetryDelaysMs: [200, 1000, 3000] });
  atExit(() => certn.close());
  const service = await BenchService.start({
    name: 'end-to-end',
    temporalAddress: env.temporal.address,
    env: {
      LEVER_RATE_PER_SECOND: String(LIFTED),
      LEVER_RATE_BURST: String(LIFTED),
      RATE_LIMIT_CONNECTION_ACCEPTED: String(LIFTED),
    },
  });
  await service.startWorker();
  // The service's data converter (payloads encrypted with the keys the service got): the floor pays for it too.
  const dataConverter = createDataConverter(loadConfig(baseConfigSchema));
  const client = new Client({
    connection: await Connection.connect({ address: env.temporal.address }),
    dataConverter,
  });
  atExit(() => client.connection.close());
  console.log(
    `end-to-end: ${checks} Lever → Certn checks to ${COMPLETE}, ${concurrency} moves at once; ` +
      `emulators answering at once; floor: a workflow of the same shape doing nothing (one worker, in this ` +
      `process); ${describeTopology(env.temporal.kind)}`,
  );

  // The service.
  const conn = await connectLeverToCertn({
    apiUrl: service.apiUrl,
    adminToken: service.adminToken,
    lever,
    certn,
    name: 'End-to-end customer',
  });
  const trigger = lever.stageIdByName('Background Check');
  const opportunities = Array.from({ length: checks }, (_, i) =>
    lever.createOpportunity({ name: `Bench Candidate ${i}`, emails: [`bench-${i}@example.com`] }),
  );
  const index = new Map(opportunities.map((o, i) => [o.id, i]));
  const movedAt = new Array<number>(checks);
  const completeAt = new Array<number | undefined>(checks);
  let completed = 0;
  let allComplete: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allComplete = resolve));
  const stopListening = lever.onTagsChanged(({ opportunityId, tags, at }) => {
    const i = index.get(opportunityId);
    if (i === undefined || completeAt[i] !== undefined || !tags.includes(COMPLETE)) return;
    completeAt[i] = at;
    completed += 1;
    if (completed === checks) allComplete();
  });
  const begun = performance.now();
  let undelivered = 0;
  await inPool(checks, concurrency, async (i) => {
    movedAt[i] = performance.now();
    const deliveries = await lever.moveToStage(opportunities[i]!.id, trigger);
    if (!deliveries.every((d) => d.delivered)) undelivered += 1;
  });
  const timeoutMs = 300_000 + checks * 1_000;
  const timedOut = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
  ]);
  stopListening();
  const serviceMs = performance.now() - begun;
  if (timedOut || undelivered > 0) {
    console.error(`${completed} of ${checks} checks reached ${COMPLETE}; ${undelivered} moves not delivered`);
    return 1;
  }
  const perCheck = completeAt.map((at, i) => at! - movedAt[i]!);

  // Every check's run closes after its last write; its history is then final. The floor takes its shape from
  // a sample of them: the mean count of each kind, rounded up.
  const sample = opportunities.slice(0, Math.min(10, checks)).map((o) => checkWorkflowId(conn.id, o.id));
  for (const workflowId of sample) await client.workflow.getHandle(workflowId).result();
  const shapes = await Promise.all(sample.map((id) => shapeOf(client, id)));
  const mean = (pick: (s: FloorShape) => number) =>
    Math.ceil(shapes.reduce((sum, s) => sum + pick(s), 0) / shapes.length);
  const shape: FloorShape = {
    activities: mean((s) => s.activities),
    timers: mean((s) => s.timers),
    signals: mean((s) => s.signals),
  };
  console.log(
    `  service: ${checks} checks in ${(serviceMs / 1000).toFixed(1)} s; a check's history: ` +
      `${shape.activities} activities, ${shape.timers} timers, ${shape.signals} signals`,
  );
  await service.stopWorker();

  // The floor: the same shape, doing nothing, on the same server.
  const floorQueue = `${service.taskQueue}-floor`;
  const workerConnection = await NativeConnection.connect({ address: env.temporal.address });
  atExit(() => workerConnection.close());
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue: floorQueue,
    workflowsPath: require.resolve('./floor/workflows'),
    activities: floorActivities,
    dataConverter,
    maxConcurrentActivityTaskExecutions: 500,
  });
  const running = worker.run();
  atExit(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  const floorStartedAt = new Array<number>(checks).fill(0);
  const floorResults: Promise<number>[] = [];
  const floorBegun = performance.now();
  await inPool(checks, concurrency, async (i) => {
    floorStartedAt[i] = performance.now();
    const handle = await client.workflow.start('floorCheck', {
      taskQueue: floorQueue,
      workflowId: `floor-${floorQueue}-${i}`,
      args: [shape],
    });
    for (let s = 0; s < shape.signals; s++) await handle.signal(floorSignal, s);
    floorResults[i] = handle.result().then(() => performance.now());
  });
  const floorDoneAt = await Promise.all(floorResults);
  const floorMs = Math.max(...floorDoneAt) - floorBegun;
  const floorPerCheck = floorDoneAt.map((at, i) => at - floorStartedAt[i]!);

  const service_ = latencies(perCheck);
  const floor = latencies(floorPerCheck);
  const rows: Row[] = [
    {
      measure: `checks per second (move → ${COMPLETE})`,
      value: (checks / serviceMs) * 1000,
      unit: '/s',
      floor: (checks / floorMs) * 1000,
    },
    { measure: 'time for all checks', value: serviceMs / 1000, unit: 's', floor: floorMs / 1000 },
    { measure: 'one check p50', value: service_.p50, unit: 'ms', floor: floor.p50 },
    { measure: 'one check p99', value: service_.p99, unit: 'ms', floor: floor.p99 },
  ];
  finishReport(
    {
      benchmark: 'end-to-end',
      parameters: {
        checks,
        concurrency,
        activities: shape.activities,
        timers: shape.timers,
        signals: shape.signals,
        tiny: args.tiny,
        ...topology(env.temporal.kind),
      },
      rows,
      details: { service: service_, floor, shape, shapes },
    },
    args,
  );
  return 0;
}

runBenchmark(main);
