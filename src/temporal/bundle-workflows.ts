/**
 * Builds the worker's workflow bundle ahead of time, as the image does (`npm run build:workflows`):
 *
 *   node dist/src/temporal/bundle-workflows.js <out.js>     (or: npx tsx src/temporal/bundle-workflows.ts <out.js>)
 *
 * A worker given it (WORKFLOW_BUNDLE_PATH) starts without running webpack over the workflow code, which takes
 * seconds and a few hundred megabytes at every start. The bundle holds the workflow code and the failure
 * converter the data converter names, exactly as the worker would bundle them itself.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../worker-factory';
import { FAILURE_CONVERTER_PATH } from './data-converter';

const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

/** The workflow bundle's code, as the worker would build it at start. */
export async function bundleCheckWorkflows(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve(WORKFLOWS_PATH),
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: quiet,
  });
  return code;
}

if (require.main === module) {
  const out = process.argv[2];
  if (out === undefined) {
    console.error('usage: bundle-workflows <out.js>');
    process.exit(2);
  }
  bundleCheckWorkflows().then(
    (code) => {
      mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
      writeFileSync(out, code);
      console.log(`workflow bundle written to ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
