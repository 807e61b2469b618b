/**
 * test/chaos/production-shape.test.ts at any size, printing its figures: the Temporal server on PostgreSQL, 2 API
 * processes behind a load balancer, 2 workers, `--customers` Lever accounts with Certn, `--checks` candidates moved
 * at once, and while they run `--worker-kills` worker SIGKILLs, 1 Temporal server restart and 1 API SIGKILL and
 * restart (test/support/production-crash.ts proves each).
 *
 *   npx tsx scripts/faults/production-crash.ts [--checks 1000] [--customers 10] [--worker-kills 10]
 *     [--certn-step-ms 1000] [--timeout-s 1800]
 *
 * Needs PostgreSQL (FAULTS_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bgc_production_crash,
 * recreated) and the Temporal server (`bash scripts/install-temporal-server.sh`). Exit code 1 unless every check
 * completed once: one run, one vendor order, no note or status tag written twice.
 */
import { parseArgs } from 'node:util';
import { localRuntimeDatabaseUrl } from '../../src/db/local-runtime-role';
import { recreateDatabase } from '../../test/support/database';
import { stopOnInterrupt } from '../../test/support/interrupt';
import { useFreshKeys } from '../../test/support/keys';
import { runProductionCrash } from '../../test/support/production-crash';

const { values: args } = parseArgs({
  options: {
    checks: { type: 'string', default: '1000' },
    customers: { type: 'string', default: '10' },
    'worker-kills': { type: 'string', default: '10' },
    'certn-step-ms': { type: 'string', default: '1000' },
    'timeout-s': { type: 'string', default: '1800' },
  },
});

function num(name: keyof typeof args): number {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
  return value;
}

async function main(): Promise<number> {
  process.env.MIGRATION_DATABASE_URL = await recreateDatabase(
    process.env.FAULTS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc_production_crash',
  );
  // The service's processes connect as the runtime role, as in production.
  process.env.DATABASE_URL = await localRuntimeDatabaseUrl(process.env.MIGRATION_DATABASE_URL);
  useFreshKeys(); // the service's processes read them
  process.env.ALLOW_HTTP_URLS = 'true'; // the emulators serve plain http
  const started = Date.now();
  const log = (line: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const figures = await runProductionCrash({
    checks: num('checks'),
    customers: num('customers'),
    workerKills: num('worker-kills'),
    certnStepMs: num('certn-step-ms'),
    timeoutMs: num('timeout-s') * 1000,
    log,
    onStop: (stop) => stopOnInterrupt(stop),
  });
  const rows: [string, string][] = [
    ['checks (customers)', `${figures.checks} (${figures.customers})`],
    [
      'faults',
      `${figures.workerKills} worker kills, ${figures.temporalRestarts} Temporal restart, ${figures.apiRestarts} API restart`,
    ],
    ['completed checks when each fault hit', figures.faultsAt.join(' ')],
    ['CERTN - Complete', `${figures.complete} / ${figures.checks}`],
    [
      'runs closed Completed',
      `${figures.closedCompleted}; checks with several runs: ${figures.checksWithSeveralRuns}`,
    ],
    ['vendor orders (duplicates)', `${figures.vendorOrders} (${figures.duplicateOrders})`],
    ['notes (written twice)', `${figures.notes} (${figures.duplicateNotes})`],
    ['status tags written again', String(figures.duplicateTags)],
    ['requests per API (none available)', `${figures.perApi.join(' / ')} (${figures.unavailable})`],
    ['Lever 429 answers', String(figures.lever429)],
    ['moves → all complete', `${figures.seconds} s`],
  ];
  for (const [name, value] of rows) console.log(`${name.padEnd(38)} ${value}`);
  const ok =
    figures.complete === figures.checks &&
    figures.closedCompleted === figures.checks &&
    figures.checksWithSeveralRuns === 0 &&
    figures.duplicateOrders === 0 &&
    figures.vendorOrders === figures.checks &&
    figures.duplicateNotes === 0 &&
    figures.duplicateTags === 0;
  console.log(ok ? 'OK' : 'FAILED');
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
