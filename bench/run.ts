/**
 * `npm run bench`: every benchmark in turn, each as a process of its own (it starts and stops what it needs).
 *
 *   npm run bench [-- --tiny] [-- --only ingest,economy] [-- --json-dir .data/bench]
 *
 * `--tiny` runs each at a size that only proves it still runs (CI); `--json-dir` has each write its figures as
 * `<name>.json` there. Exit code 1 if any benchmark failed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildService } from './service';

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

// Compiled once here for every benchmark (each would otherwise compile it again).
buildService();
const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const failed: string[] = [];
for (const name of chosen) {
  const args = [
    path.join(__dirname, `${name}.ts`),
    ...(values.tiny ? ['--tiny'] : []),
    ...(values['json-dir'] === undefined ? [] : ['--json', path.join(values['json-dir'], `${name}.json`)]),
  ];
  console.log(`\n=== bench/${name}.ts ${args.slice(1).join(' ')}`);
  const started = Date.now();
  const run = spawnSync(tsx, args, { stdio: 'inherit', env: process.env });
  console.log(
    `=== ${name}: ${run.status === 0 ? 'done' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  if (run.status !== 0) failed.push(name);
}
if (failed.length > 0) console.error(`\nfailed: ${failed.join(', ')}`);
process.exit(failed.length > 0 ? 1 : 0);
