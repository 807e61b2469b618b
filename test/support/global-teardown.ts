import { rmSync } from 'node:fs';
import { RUN_MARK_VARIABLE, describeProcess, endLeftovers } from './processes';

/**
 * Stops the run's Temporal server, then fails the run if any process it started still runs (API, worker, dev
 * server, flood client, … and what they started, orphans included: all inherit the run's mark). A check here sees
 * every test file of the run, in any order, after each has had its afterAll; a test that ran last could not.
 */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__TEMPORAL_TEST_ENV__?.teardown();
  await globalThis.__TEMPORAL_TEST_SERVER__?.dispose();
  if (process.env.BGC_TEST_WORKFLOW_BUNDLE) rmSync(process.env.BGC_TEST_WORKFLOW_BUNDLE, { force: true });
  const mark = process.env[RUN_MARK_VARIABLE];
  if (mark === undefined) return;
  const left = await endLeftovers(mark);
  if (left.length > 0) {
    throw new Error(
      `${left.length} process(es) started by this test run still ran at its end (now killed):\n` +
        left.map((p) => `  ${describeProcess(p)}`).join('\n'),
    );
  }
}
