/**
 * `npm run bench`: every benchmark in turn, each as a process of its own (it starts and stops what it needs).
 *
 *   npm run bench [-- --tiny] [-- --only ingest,economy] [-- --json-dir .data/bench]
 *
 * `--tiny` runs each at a size that only proves it still runs (CI); `--json-dir` has each write its figures as
 * `<name>.json` there. Exit code 1 if any benchmark failed.
 *
 * The topology, from the environment, the same for every benchmark (each prints it in its parameters):
 * `BGC_TEMPORAL=postgres` the production Temporal server on PostgreSQL instead of the dev server on SQLite;
 * `BENCH_APIS=N` API processes behind a round-robin load balancer (default 1, no load balancer);
 * `BENCH_WORKERS=N` workers on the same task queue (default 1).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildService, describeTopology } from './service';

/** The benchmarks, in the order they run: `bench/<name>.ts`. */
export const BENCHMARKS = ['ingest', 'end-to-end', 'open-checks', 'economy'] as const;

const { values } = parseArgs({
  options: {
    tiny: { type: 'boolean', default: false },
    only: { type: 'string' },
    'json-dir': { type: 'string' },
  },
});

const chosen = values.only === undefined ? [...BENCHMARKS] : values.only.split(',').map((s) => s.trim());
const unknown = chosen.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}
if (values['json-dir'] !== undefined) mkdirSync(values['json-dir'], { recursive: true });

// Before compiling: a wrong BGC_TEMPORAL, BENCH_APIS or BENCH_WORKERS fails here, not in every benchmark.
console.log(`topology: ${describeTopology()}`);
// Compiled once here for every benchmark (each would otherwise compile it again).
buildService();
const ROOT = path.join(__dirname, '..');

// Ctrl-C reaches the running benchmark as well (same process group), which stops what it started: this process
// waits for it to end, then runs no further benchmark. Each runs under `node --import tsx` rather than the tsx
// command, whose relay of the signal gives a busy child 30 ms to acknowledge it, then kills it (SIGKILL).
let interrupted: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (interrupted ??= signal));

async function main(): Promise<number> {
  const failed: string[] = [];
  for (const name of chosen) {
    if (interrupted !== undefined) break;
    const args = [
      path.join(__dirname, `${name}.ts`),
      ...(values.tiny ? ['--tiny'] : []),
      ...(values['json-dir'] === undefined ? [] : ['--json', path.join(values['json-dir'], `${name}.json`)]),
    ];
    console.log(`\n=== bench/${name}.ts ${args.slice(1).join(' ')}`);
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      stdio: 'inherit',
      env: process.env,
    });
    const status = await new Promise<number | null>((resolve) => {
      child.once('error', (err) => {
        console.error(err);
        resolve(null);
      });
      child.once('exit', (code) => resolve(code));
    });
    console.log(
      `=== ${name}: ${status === 0 ? 'done' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    if (status !== 0) failed.push(name);
  }
  if (failed.length > 0) console.error(`\nfailed: ${failed.join(', ')}`);
  if (interrupted !== undefined) return interrupted === 'SIGINT' ? 130 : 143;
  return failed.length > 0 ? 1 : 0;
}

void main().then((code) => process.exit(code));
