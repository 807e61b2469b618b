/**
 * test/e2e/flood.test.ts at a larger scale: a flood of bad-signature requests (forged Lever deliveries to a real
 * connection's webhook URL, made-up connection ids, forged Certn callbacks) from several source addresses
 * (127.0.0.2, 127.0.0.3, …: each reaches the API on 127.0.0.1 as a client of its own), while the Lever emulator
 * moves candidates into the trigger stage; then the figures: statuses per kind, time, requests/s, how the real
 * deliveries were acknowledged, the API's database reads of connections, and whether each check started once.
 * The service runs with its default limits, cache and pool timeout (src/config.ts, PUBLIC_LIMIT_DEFAULTS).
 *
 *   npx tsx scripts/faults/webhook-flood.ts [--requests 50000] [--concurrency 400] [--sources 4]
 *     [--candidates 60] [--timeout-s 300]
 *
 * Needs PostgreSQL (FAULTS_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bgc_webhook_flood, recreated)
 * and the Temporal CLI (`npm run temporal:install`); starts its own Temporal dev server. Exit code 1 unless every
 * real delivery was acknowledged and never refused, every check started exactly once, and the flood got only
 * 401 (unknown ids and wrong signatures look the same) and 429.
 */
import { parseArgs } from 'node:util';
import { temporalServerInTempDir } from '../../src/temporal/server-process';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { recreateDatabase } from '../../test/support/database';
import { describeLeverFlood, floodWhileLeverDelivers } from '../../test/support/flood';
import { stopOnInterrupt } from '../../test/support/interrupt';
import { useFreshKeys } from '../../test/support/keys';
import { startStack } from '../../test/support/stack';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '400' },
    sources: { type: 'string', default: '4' },
    candidates: { type: 'string', default: '60' },
    'timeout-s': { type: 'string', default: '300' },
  },
});

function num(name: keyof typeof args, min = 1): number {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<number> {
  const sourceCount = num('sources');
  if (sourceCount > 250) throw new Error('--sources must be at most 250');
  const options = {
    requests: num('requests'),
    concurrency: num('concurrency'),
    sources: Array.from({ length: sourceCount }, (_, i) => `127.0.0.${i + 2}`),
    candidates: num('candidates'),
  };
  process.env.DATABASE_URL = await recreateDatabase(
    process.env.FAULTS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc_webhook_flood',
  );
  useFreshKeys(); // the stack reads them, as the service's processes do
  process.env.TEST_SDK_LOG_LEVEL ??= 'ERROR';
  process.env.ALLOW_HTTP_URLS = 'true'; // the emulators serve plain http
  const temporal = await temporalServerInTempDir('bgc-webhook-flood-');
  // The stack runs in this process; the dev server is the child that would outlive an interrupted run.
  const stop = stopOnInterrupt(() => temporal.dispose());
  try {
    await temporal.start();
    process.env.TEMPORAL_ADDRESS = temporal.address;
    const stack = await startStack();
    try {
      const result = await floodWhileLeverDelivers(stack, options);
      console.log(describeLeverFlood(result, options));

      // Each real delivery's check, once it has its first status tag: started exactly once, one Certn case.
      const deadline = Date.now() + num('timeout-s') * 1000;
      const pending = (id: string) => stack.lever.opportunity(id).tags.includes('CERTN - Pending');
      while (!result.opportunities.every(pending) && Date.now() < deadline) await sleep(250);
      let duplicated = 0;
      let missing = 0;
      for (const id of result.opportunities) {
        const workflowId = checkWorkflowId(result.connection.id, id);
        const { count } = await stack.temporal.workflow.count(`WorkflowId = '${workflowId}'`);
        const email = stack.lever.opportunity(id).emails[0];
        const cases = stack.certn.cases().filter((c) => c.email_address === email).length;
        if (count > 1 || cases > 1) duplicated += 1;
        if (count === 0 || cases === 0 || !pending(id)) missing += 1;
      }
      console.log(
        `checks: ${result.opportunities.length - missing - duplicated} started exactly once, ` +
          `${missing} missing, ${duplicated} started twice`,
      );

      const refused = result.real.filter(
        (d) =>
          !d.delivered || d.attempts.some((a) => a.status !== null && (a.status < 200 || a.status >= 300)),
      ).length;
      const floodStatuses = result.figures.statuses
        .map(([status]) => status)
        .filter((s) => ![401, 429].includes(s));
      const ok = refused === 0 && missing === 0 && duplicated === 0 && floodStatuses.length === 0;
      if (refused > 0) console.log(`${refused} real deliveries refused or never acknowledged`);
      if (floodStatuses.length > 0)
        console.log(`flood statuses other than 401/429: ${floodStatuses.join(', ')}`);
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
