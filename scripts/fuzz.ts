/**
 * The long fuzzing run: the properties of test/fuzz/endpoints.test.ts with more runs, against the same stack
 * (Temporal dev server, a freshly created PostgreSQL database, the API over HTTP, the worker and every emulator),
 * then the figures: requests and statuses per endpoint, and every failing property with its seed.
 *
 *   npx tsx scripts/fuzz.ts [--seed N] [--runs N | --factor F] [--only <text in the property name>]
 *
 * Service logs go to .data/logs/fuzz-<seed>.log. The database is TEST_DATABASE_URL, by default
 * postgres://postgres@127.0.0.1:5432/bgc_fuzz (dropped and recreated). Exit code 1 when a property failed.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { startStack } from '../test/support/stack';
import { fuzzProperties } from '../test/fuzz/families';
import { FUZZ_PUBLIC_LIMITS, setUpFuzz, type Figures } from '../test/fuzz/harness';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    runs: { type: 'string' },
    factor: { type: 'string', default: '10' },
    only: { type: 'string' },
  },
});

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return n;
}

/**
 * Like jest: the global setup (Temporal dev server, database, workflow bundle) in this process, the fuzzing in a
 * child process that gets them through the environment (the Temporal runtime is one per process).
 */
async function main(): Promise<number> {
  if (process.env.BGC_FUZZ_CHILD === '1') return fuzz();
  process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/bgc_fuzz';
  await globalSetup();
  try {
    const child = spawn(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
      env: { ...process.env, BGC_FUZZ_CHILD: '1' },
      stdio: 'inherit',
    });
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await globalTeardown();
  }
}

async function fuzz(): Promise<number> {
  const seed = Math.trunc(positive('seed', args.seed) ?? 1);
  const runs = positive('runs', args.runs);
  const factor = positive('factor', args.factor) ?? 10;
  console.log(`fuzz: seed ${seed}, ${runs === undefined ? `runs ×${factor}` : `${runs} runs`} per property`);
  const started = Date.now();
  // The service's and the worker's warnings and errors (a 5xx's stack) go to a file, not between the figures.
  const logFile = path.resolve(__dirname, '..', '.data', 'logs', `fuzz-${seed}.log`);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile);
  console.log(`service logs: ${logFile}`);
  const stack = await startStack({ logDestination: log, logLevel: 'warn', publicLimits: FUZZ_PUBLIC_LIMITS });
  const failures: { name: string; seed: number; report: string }[] = [];
  let figures: Figures | undefined;
  try {
    const ctx = await setUpFuzz(stack);
    figures = ctx.figures;
    const properties = fuzzProperties(ctx);
    for (const [index, property] of properties.entries()) {
      if (args.only !== undefined && !`${property.endpoint} ${property.name}`.includes(args.only)) continue;
      const numRuns = Math.max(1, Math.round(runs ?? property.runs * factor));
      const propertySeed = seed + index;
      const before = ctx.figures.total;
      const t0 = Date.now();
      const result = await property.run({ seed: propertySeed, numRuns });
      const line = `${property.endpoint}: ${property.name}`;
      console.log(
        `${result.failed ? 'FAIL' : 'ok  '} ${line} — ${numRuns} runs, ${ctx.figures.total - before} requests, ` +
          `${((Date.now() - t0) / 1000).toFixed(1)} s (seed ${propertySeed})`,
      );
      if (result.failed) failures.push({ name: line, seed: propertySeed, report: result.report });
    }
    const health = await fetch(`${stack.api.url}/healthz`);
    console.log(`\n/healthz after the run: ${health.status}`);
    if (health.status !== 200) failures.push({ name: '/healthz', seed, report: `answered ${health.status}` });
  } finally {
    await stack.stop();
    log.end();
  }

  console.log('\nrequests per endpoint (status: count)');
  for (const [endpoint, entry] of [...(figures?.endpoints ?? new Map())].sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const statuses = [...entry.statuses]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    console.log(`  ${endpoint.padEnd(48)} ${String(entry.requests).padStart(6)}   ${statuses}`);
  }
  const all = new Map<number, number>();
  for (const entry of figures?.endpoints.values() ?? []) {
    for (const [status, count] of entry.statuses) all.set(status, (all.get(status) ?? 0) + count);
  }
  const fiveXX = [...all].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
  console.log(
    `  ${'total'.padEnd(48)} ${String(figures?.total ?? 0).padStart(6)}   5xx: ${fiveXX}, ` +
      `2xx: ${[...all].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0)}, ` +
      `4xx: ${[...all].filter(([s]) => s >= 400 && s < 500).reduce((n, [, c]) => n + c, 0)}`,
  );
  console.log(
    `\n${failures.length} failing propert${failures.length === 1 ? 'y' : 'ies'}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  for (const failure of failures)
    console.log(`\n--- ${failure.name} (seed ${failure.seed})\n${failure.report}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
