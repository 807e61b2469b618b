import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__TEMPORAL_TEST_ENV__?.teardown();
  if (process.env.BGC_TEST_WORKFLOW_BUNDLE) rmSync(process.env.BGC_TEST_WORKFLOW_BUNDLE, { force: true });
}
