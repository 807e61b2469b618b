/**
 * The fault test (test/e2e/faults.test.ts) at a larger scale: N Lever → Certn checks of one connection while the
 * Lever and Certn emulators inject faults, then the figures: faults injected per kind, checks completed,
 * duplicates (orders, cases, status tags, notes, links), activity retries.
 *
 *   npx tsx scripts/faults/vendor-faults.ts [--checks 100] [--error-rate 0.1] [--rate-limit-rate 0.1]
 *     [--slow-rate 0.1] [--slow-ms 300] [--drop-rate 0.3] [--retry-after-share 0.5] [--seed 1]
 *     [--timeout-s 600] [--auto-advance-ms 400] [--poll-ms 1000] [--max-attempts 30] [--lever-per-second 10]
 *
 * `--lever-per-second` is the Lever emulator's limit per API key (burst twice that) and, 10% lower, the worker's
 * Lever limiter: Lever's real 10/s makes the bulk move itself take a while (about 16 Lever calls per check).
 *
 * Needs PostgreSQL (FAULTS_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bgc_faults, recreated) and
 * the Temporal CLI (`npm run temporal:install`); starts its own Temporal dev server. Exit code 1 unless every
 * check completed without duplicates.
 */
import { parseArgs } from 'node:util';
import { temporalServerInTempDir } from '../../src/temporal/server-process';
import { recreateDatabase } from '../../test/support/database';
import { runFaultScenario, summaryLines } from '../../test/support/fault-scenario';
import { stopOnInterrupt } from '../../test/support/interrupt';
import { useFreshKeys } from '../../test/support/keys';
import { startStack } from '../../test/support/stack';

const { values: args } = parseArgs({
  options: {
    checks: { type: 'string', default: '100' },
    'error-rate': { type: 'string', default: '0.1' },
    'rate-limit-rate': { type: 'string', default: '0.1' },
    'retry-after-share': { type: 'string', default: '0.5' },
    'slow-rate': { type: 'string', default: '0.1' },
    'slow-ms': { type: 'string', default: '300' },
    'drop-rate': { type: 'string', default: '0.3' },
    seed: { type: 'string', default: '1' },
    'timeout-s': { type: 'string', default: '600' },
    'auto-advance-ms': { type: 'string', default: '400' },
    'poll-ms': { type: 'string', default: '1000' },
    'max-attempts': { type: 'string', default: '30' },
    'lever-per-second': { type: 'string', default: '10' },
  },
});

function num(name: keyof typeof args): number {
  const value = Number(args[name]);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number`);
  return value;
}

async function main(): Promise<number> {
  process.env.DATABASE_URL = await recreateDatabase(
    process.env.FAULTS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc_faults',
  );
  useFreshKeys(); // the stack reads them, as the service's processes do
  process.env.TEST_SDK_LOG_LEVEL ??= 'ERROR'; // not a warning per failed activity attempt: they are the point
  process.env.ALLOW_HTTP_URLS = 'true'; // the emulators serve plain http
  // A Temporal dev server of this run, on a SQLite file of its own that goes when the run ends.
  const temporal = await temporalServerInTempDir('bgc-vendor-faults-');
  // The stack runs in this process; the dev server is the child that would outlive an interrupted run.
  const stop = stopOnInterrupt(() => temporal.dispose());
  try {
    await temporal.start();
    process.env.TEMPORAL_ADDRESS = temporal.address;
    const leverPerSecond = num('lever-per-second');
    const stack = await startStack({
      vendorAutoAdvanceMs: num('auto-advance-ms'),
      pollIntervalMs: num('poll-ms'),
      maxAttempts: num('max-attempts'),
      ...(leverPerSecond === 10
        ? {}
        : {
            leverRateLimit: { perSecond: leverPerSecond, burst: 2 * leverPerSecond },
            leverLimiter: { perSecond: 0.9 * leverPerSecond, burst: 1.5 * leverPerSecond },
          }),
    });
    try {
      const faults = {
        errorRate: num('error-rate'),
        rateLimitRate: num('rate-limit-rate'),
        retryAfterShare: num('retry-after-share'),
        retryAfterSeconds: 1,
        slowRate: num('slow-rate'),
        slowMs: num('slow-ms'),
        dropCallbackRate: num('drop-rate'),
        seed: num('seed'),
      };
      console.log(`faults on Lever and Certn: ${JSON.stringify(faults)}`);
      const figures = await runFaultScenario(stack, {
        checks: num('checks'),
        faults,
        timeoutMs: num('timeout-s') * 1000,
        progress: (line) => console.log(line),
      });
      for (const line of summaryLines(figures)) console.log(line);
      const slowest = [...figures.outcomes].sort((a, b) => b.retries - a.retries).slice(0, 3);
      console.log(
        `  most retried checks: ${slowest.map((o) => `${o.retries} retries (${o.status})`).join(', ')}`,
      );
      const d = figures.duplicates;
      const ok =
        figures.completed === figures.checks && d.orders + d.cases + d.statusTags + d.notes + d.links === 0;
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
