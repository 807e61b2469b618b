/**
 * Fault script "Temporal outage" (issue "Nothing lost"): the API and the worker run as their own processes
 * (src/main.ts, src/worker.ts) against a Temporal dev server of this script's own. The script stops Temporal,
 * sends signed Lever webhooks for many candidates while it is down (plus redeliveries of some), starts Temporal
 * again on the same port and SQLite file, and prints what happened: deliveries sent and acknowledged, checks
 * started, duplicates, and how long the inbox relay took to drain the queue.
 *
 *   npx tsx scripts/faults/temporal-outage.ts [--candidates 200] [--outage-seconds 60] [--redeliveries 20]
 *
 * Uses its own database (--database-url, default postgres://postgres@127.0.0.1:5432/bgc_fault_outage; created and
 * migrated, never dropped) and free ports; logs of the API and the worker go to .data/logs/fault-outage-*.log.
 * Exits 1 when a delivery was not acknowledged, a candidate got no check, or one got two.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { migrate } from '../../src/db/migrate';
import { startCertnEmulator } from '../../sandbox/certn-emulator';
import { startLeverEmulator, type WebhookDelivery } from '../../sandbox/lever-emulator';
import { freePort } from '../../src/temporal/dev-server-process';
import { temporalServerInTempDir } from '../../src/temporal/server-process';
import { useFreshKeys } from '../../test/support/keys';
import { connectLeverToCertn } from '../../test/support/connect-certn';
import { stopOnInterrupt } from '../../test/support/interrupt';
import { startServiceProcess, stopProcess } from '../../test/support/service-process';

const { values: args } = parseArgs({
  options: {
    candidates: { type: 'string', default: '200' },
    'outage-seconds': { type: 'string', default: '60' },
    redeliveries: { type: 'string', default: '20' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/bgc_fault_outage' },
  },
});
const candidates = Number(args.candidates);
const outageMs = Number(args['outage-seconds']) * 1000;
const redeliveries = Math.min(Number(args.redeliveries), candidates);
const databaseUrl = args['database-url'];
if (![candidates, outageMs, redeliveries].every((n) => Number.isInteger(n) && n >= 0) || candidates < 1) {
  throw new Error('--candidates, --outage-seconds and --redeliveries take whole numbers (candidates ≥ 1)');
}

const root = path.resolve(__dirname, '..', '..');
const logDir = path.join(root, '.data', 'logs');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line: string) => console.log(line);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const children: ChildProcess[] = [];

function startProcess(name: string, entry: 'src/main.ts' | 'src/worker.ts', env: NodeJS.ProcessEnv) {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `fault-outage-${name}.log`);
  rmSync(logFile, { force: true });
  children.push(startServiceProcess(entry, env, { logFile }));
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`${what} did not happen within ${seconds(timeoutMs)}`);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function main(): Promise<number> {
  const temporalServer = await temporalServerInTempDir('bgc-fault-outage-');
  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  const lever = await startLeverEmulator();
  const certn = await startCertnEmulator({ autoAdvanceMs: null });
  let temporal: Client | undefined;
  // The API and the worker first (process groups of their own), then Temporal and what runs in this process.
  const stop = stopOnInterrupt(async () => {
    await temporal?.connection.close();
    await Promise.all(children.map((child) => stopProcess(child)));
    await temporalServer.dispose();
    await Promise.all([lever.close(), certn.close(), pool.end()]);
  });
  try {
    say(`Temporal outage: ${candidates} candidates, ${redeliveries} redeliveries, ${seconds(outageMs)} down`);
    await temporalServer.start();
    await migrate(databaseUrl);
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const adminToken = `fault-${randomBytes(16).toString('hex')}`;
    useFreshKeys(); // the API and the worker inherit them: they refuse to start without keys
    const env = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalServer.address,
      TEMPORAL_TASK_QUEUE: `fault-outage-${randomBytes(4).toString('hex')}`,
      ADMIN_TOKEN: adminToken,
      API_PORT: String(apiPort),
      PUBLIC_BASE_URL: apiUrl,
      LOG_LEVEL: 'info',
      // Required by the worker; no hire happens here, so no e-mail: nobody listens there.
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
      // The emulators serve plain http.
      ALLOW_HTTP_URLS: 'true',
    };
    startProcess('worker', 'src/worker.ts', env);
    startProcess('api', 'src/main.ts', env);
    await until('the API', async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined), 120_000);

    // One customer: Lever account and Certn team on the emulators, connected through the admin API.
    const conn = await connectLeverToCertn({
      apiUrl,
      adminToken,
      lever,
      certn,
      name: 'Outage Inc.',
      packages: [{ name: 'Basic', check_types: ['IDENTITY_VERIFICATION', 'CRIMINAL_RECORD_CHECK'] }],
    });

    const trigger = lever.stageIdByName('Background Check');
    const posting = lever.createPosting({ text: 'Outage Engineer', tags: [] });
    const newCandidate = (label: string) =>
      lever.createOpportunity({
        name: `Candidate ${label}`,
        emails: [`${label}-${randomBytes(4).toString('hex')}@example.com`],
        tags: [],
        postingId: posting.id,
        stageId: lever.stageIdByName('Phone screen'),
      });
    const pending = (opportunityId: string) =>
      lever.opportunity(opportunityId).tags.includes('CERTN - Pending');

    // Warm-up: one check end to end while Temporal is up (the worker has bundled its workflows by then).
    const warmUp = newCandidate('warm-up');
    const warmUpStart = Date.now();
    await lever.moveToStage(warmUp.id, trigger);
    await until('the warm-up check', () => (pending(warmUp.id) ? true : undefined), 180_000);
    say(
      `- stack up; a check with Temporal up reaches CERTN - Pending in ${seconds(Date.now() - warmUpStart)}`,
    );

    const burst = Array.from({ length: candidates }, (_, i) => newCandidate(`outage-${i}`));
    const stoppedAt = Date.now();
    await temporalServer.stop();
    say(`- Temporal stopped (SIGTERM, exited in ${seconds(Date.now() - stoppedAt)})`);

    // The burst, spread over the first half of the outage, then redeliveries of some (same token and body).
    const spreadMs = outageMs / 2;
    const ackLatencies: number[] = [];
    /** Sends one delivery; the time to the answer of its first attempt is the acknowledgement time. */
    const timed = async (send: () => Promise<WebhookDelivery | undefined>) => {
      const sentAt = Date.now();
      const delivery = await send();
      if (!delivery) throw new Error('the Lever emulator sent no webhook');
      const first = delivery.attempts[0];
      if (first) ackLatencies.push(first.at - sentAt);
      return delivery;
    };
    const firsts = await Promise.all(
      burst.map(async (opp, i) => {
        await sleep((i * spreadMs) / candidates);
        return timed(async () => (await lever.moveToStage(opp.id, trigger))[0]);
      }),
    );
    const again = await Promise.all(
      firsts.slice(0, redeliveries).map((d) => timed(() => lever.redeliver(d.id))),
    );
    const deliveries = [...firsts, ...again];
    const firstTry2xx = deliveries.filter((d) => {
      const status = d.attempts[0]?.status ?? null;
      return status !== null && status >= 200 && status < 300;
    }).length;
    const acknowledged = deliveries.filter((d) => d.delivered).length;
    const queued = Number(
      (
        await pool.query<{ n: string }>(
          'SELECT count(*) AS n FROM webhook_inbox WHERE connection_id = $1 AND processed_at IS NULL',
          [conn.id],
        )
      ).rows[0]?.n,
    );
    say(
      `- sent ${deliveries.length} deliveries (${candidates} + ${redeliveries} redeliveries) while Temporal was down`,
    );
    await sleep(Math.max(0, stoppedAt + outageMs - Date.now()));

    const restartAt = Date.now();
    await temporalServer.start();
    const upMs = Date.now() - restartAt;
    const drainedMs = await until(
      'the inbox relay to drain the queue',
      async () => {
        const left = await pool.query<{ n: string }>(
          'SELECT count(*) AS n FROM webhook_inbox WHERE connection_id = $1 AND processed_at IS NULL',
          [conn.id],
        );
        return Number(left.rows[0]?.n) === 0 ? Date.now() - restartAt : undefined;
      },
      300_000,
    );
    const allPendingMs = await until(
      'CERTN - Pending on every candidate',
      () => (burst.every((o) => pending(o.id)) ? Date.now() - restartAt : undefined),
      300_000,
    );

    // Count what happened: Temporal executions per candidate, Certn cases per candidate, inbox rows.
    temporal = new Client({ connection: await Connection.connect({ address: temporalServer.address }) });
    const runsPerWorkflow = new Map<string, number>();
    for await (const execution of temporal.workflow.list({ query: `BgcConnection = '${conn.id}'` })) {
      runsPerWorkflow.set(execution.workflowId, (runsPerWorkflow.get(execution.workflowId) ?? 0) + 1);
    }
    const runs = burst.map((o) => runsPerWorkflow.get(`check:${conn.id}:${o.id}`) ?? 0);
    const cases = burst.map((o) => certn.cases().filter((c) => c.email_address === o.emails[0]).length);
    const inbox = (
      await pool.query<{ rows: string; started: string; failures: string; max_attempts: number | null }>(
        `SELECT count(*) AS rows, count(*) FILTER (WHERE outcome = 'started') AS started,
                sum(attempts) AS failures, max(attempts) AS max_attempts
         FROM webhook_inbox WHERE connection_id = $1 AND data->>'opportunityId' <> $2`,
        [conn.id, warmUp.id],
      )
    ).rows[0];
    const lost = runs.filter((n) => n === 0).length;
    const duplicateRuns = runs.filter((n) => n > 1).length;
    const duplicateCases = cases.filter((n) => n > 1).length;

    say('');
    say('Figures');
    say(
      `  deliveries sent            ${deliveries.length} (${candidates} candidates, ${redeliveries} redelivered)`,
    );
    say(`  acknowledged (2xx)         ${acknowledged}, ${firstTry2xx} on the first attempt`);
    say(
      `  ack time while down        p50 ${percentile(ackLatencies, 50)} ms, p95 ${percentile(ackLatencies, 95)} ms, max ${Math.max(...ackLatencies)} ms`,
    );
    say(`  inbox rows queued          ${queued} (one per token; redeliveries add none)`);
    say(
      `  start failures recorded    ${inbox?.failures ?? 0} (max ${inbox?.max_attempts ?? 0} on one delivery)`,
    );
    say(`  Temporal back up after     ${seconds(upMs)} (from the restart command)`);
    say(`  queue drained after        ${seconds(drainedMs)} (every inbox row processed)`);
    say(`  all CERTN - Pending after  ${seconds(allPendingMs)}`);
    say(
      `  checks started             ${runs.filter((n) => n > 0).length} of ${candidates} (inbox: ${inbox?.started})`,
    );
    say(`  candidates without check   ${lost}`);
    say(`  duplicate workflow runs    ${duplicateRuns}`);
    say(`  duplicate Certn orders     ${duplicateCases}`);
    const ok =
      acknowledged === deliveries.length && lost === 0 && duplicateRuns === 0 && duplicateCases === 0;
    say(ok ? 'Nothing lost, nothing twice.' : 'FAILED: see the figures above.');
    return ok ? 0 : 1;
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
