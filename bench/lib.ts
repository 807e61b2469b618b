import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { temporalServerInTempDir, type TemporalServerProcess } from '../src/temporal/server-process';
import { localRuntimeDatabaseUrl } from '../src/db/local-runtime-role';
import { recreateDatabase } from '../test/support/database';
import { stopOnInterrupt } from '../test/support/interrupt';
import { useFreshKeys } from '../test/support/keys';

/**
 * What every benchmark shares: its arguments (`--tiny` for CI's smoke run, `--json <file>` for comparing runs), the
 * environment it starts (a fresh database, fresh keys, its own Temporal dev server), statistics and the report.
 * A benchmark measures a floor in the same run on the same machine and prints the ratio to it: absolute times on
 * these shared machines vary from run to run, ratios much less.
 */

export type Sizes = Record<string, number>;

export interface BenchOptions<S extends Sizes> {
  /** The sizes of a full run, each a `--name N` argument. */
  sizes: S;
  /** The sizes of a `--tiny` run (CI: it only has to run through, not to measure). */
  tiny: S;
}

export interface BenchArgs<S extends Sizes> {
  sizes: S;
  tiny: boolean;
  /** Where `--json` writes the report, if given. */
  json: string | undefined;
}

/** `--tiny`, `--json <file>` and one `--<size> N` per size (a number ≥ 0). */
export function benchArgs<S extends Sizes>(
  options: BenchOptions<S>,
  argv = process.argv.slice(2),
): BenchArgs<S> {
  const sizeOptions = Object.fromEntries(
    Object.keys(options.sizes).map((name) => [name, { type: 'string' as const }]),
  );
  const { values } = parseArgs({
    args: argv,
    options: { tiny: { type: 'boolean', default: false }, json: { type: 'string' }, ...sizeOptions },
    strict: true,
  });
  const tiny = values.tiny === true;
  const base = tiny ? options.tiny : options.sizes;
  const sizes = { ...base };
  for (const name of Object.keys(options.sizes)) {
    const given = (values as Record<string, unknown>)[name];
    if (typeof given !== 'string') continue;
    const value = Number(given);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0`);
    (sizes as Sizes)[name] = value;
  }
  return { sizes, tiny, json: typeof values.json === 'string' ? values.json : undefined };
}

/** Runs `count` tasks (`task(i)`), at most `concurrency` at once, in order; returns the wall time (ms). */
export async function inPool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const begun = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) await task(i);
    }),
  );
  return performance.now() - begun;
}

/** The p-th percentile (0–100) of the values, nearest rank; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface Latencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function latencies(values: readonly number[]): Latencies {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

/** One line of a report: a measure, its value and, when it has one, the floor measured in the same run. */
export interface Row {
  measure: string;
  value: number;
  unit: string;
  floor?: number;
  /** Printed as `value ÷ floor` unless given: e.g. a latency is better below its floor, a rate above. */
  ratio?: number;
}

export interface Report {
  benchmark: string;
  parameters: Record<string, string | number | boolean>;
  rows: Row[];
  /** Whatever else the benchmark wants in the JSON (distributions, counts). */
  details?: Record<string, unknown>;
}

const formatNumber = (n: number) =>
  Number.isNaN(n) ? '—' : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);

/** Prints the parameters and a table of the rows, ratios first. */
export function printReport(report: Report): void {
  const parameters = Object.entries(report.parameters)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`\n${report.benchmark}: ${parameters}`);
  const lines = report.rows.map((r) => {
    const ratio = r.ratio ?? (r.floor === undefined || r.floor === 0 ? Number.NaN : r.value / r.floor);
    return [
      Number.isNaN(ratio) ? '' : `${formatNumber(ratio)}×`,
      r.measure,
      `${formatNumber(r.value)} ${r.unit}`,
      r.floor === undefined ? '' : `floor ${formatNumber(r.floor)} ${r.unit}`,
    ];
  });
  const header = ['ratio', 'measure', 'value', 'floor'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const show = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(show(header));
  console.log(show(widths.map((w) => '-'.repeat(w))));
  for (const line of lines) console.log(show(line));
}

/** Prints the report, and writes it as JSON when `--json` was given. */
export function finishReport(report: Report, args: { json: string | undefined }): void {
  printReport(report);
  if (args.json !== undefined) {
    writeFileSync(args.json, `${JSON.stringify({ ...report, at: new Date().toISOString() }, null, 2)}\n`);
    console.log(`figures written to ${args.json}`);
  }
}

export interface BenchEnvironment {
  temporal: TemporalServerProcess;
  databaseUrl: string;
  dispose(): Promise<void>;
}

/**
 * A fresh database (`BENCH_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/bgc_bench_<name>`), fresh keys
 * in the environment (the stack and service processes read them), the emulators' plain http allowed, and a
 * Temporal server of its own: the dev server on a temporary SQLite file, or with `BGC_TEMPORAL=postgres` the
 * production server on two new PostgreSQL databases. `dispose` stops the server and removes what it stored.
 */
export async function benchEnvironment(name: string): Promise<BenchEnvironment> {
  const databaseUrl = await recreateDatabase(
    process.env.BENCH_DATABASE_URL ??
      `postgres://postgres@127.0.0.1:5432/bgc_bench_${name.replace(/\W/g, '_')}`,
  );
  // Migrated by its owner; the service connects as the runtime role, as in production.
  process.env.MIGRATION_DATABASE_URL = databaseUrl;
  process.env.DATABASE_URL = await localRuntimeDatabaseUrl(databaseUrl);
  useFreshKeys();
  process.env.ALLOW_HTTP_URLS = 'true';
  process.env.TEST_SDK_LOG_LEVEL ??= 'ERROR';
  const temporal = await temporalServerInTempDir(`bgc-bench-${name}-`);
  atExit(() => temporal.dispose());
  await temporal.start();
  process.env.TEMPORAL_ADDRESS = temporal.address;
  return { temporal, databaseUrl, dispose: () => temporal.dispose() };
}

/** Resident memory (bytes) of a process and every process below it, read from /proc (Linux). */
export function treeRss(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  let total = 0;
  const queue = [pid];
  for (let p = queue.pop(); p !== undefined; p = queue.pop()) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      total += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      continue;
    }
    queue.push(...(children.get(p) ?? []));
  }
  return total;
}

const exitTasks: (() => Promise<void> | void)[] = [];

/**
 * Registers what a benchmark started to be stopped when it ends, also on SIGINT/SIGTERM (`runBenchmark` runs them,
 * last registered first). Stopping twice must be harmless.
 */
export function atExit(stop: () => Promise<void> | void): void {
  exitTasks.push(stop);
}

async function runExitTasks(): Promise<void> {
  for (const stop of exitTasks.splice(0).reverse()) {
    try {
      await stop();
    } catch (err) {
      console.error('while stopping:', err);
    }
  }
}

/**
 * Runs a benchmark's main, stops everything registered with `atExit` (also when interrupted), and exits with
 * main's code; an error is printed and exits 1.
 */
export function runBenchmark(main: () => Promise<number>): void {
  const stop = stopOnInterrupt(runExitTasks);
  main().then(
    async (code) => {
      await stop();
      process.exit(code);
    },
    async (err: unknown) => {
      console.error(err);
      await stop();
      process.exit(1);
    },
  );
}
