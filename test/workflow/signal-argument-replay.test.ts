import { readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter';

/**
 * Signals must now carry their argument (SIGNAL_ARGUMENT_REQUIRED_PATCH, src/workflows/definitions.ts). Before,
 * Ashby's cancel sent `cancelCheck` and an admin's DELETE `stopOnboarding` without one, and the workflows acted on
 * them. These histories were recorded then (payloads decoded, so no key is needed): a worker of today replays them
 * as they ran, so checks in flight across the upgrade do not fail with a non-determinism error.
 */
describe('histories recorded before signals carried their argument', () => {
  it.each([
    ['cancel-check-without-argument.json', 'a check cancelled by a bare cancelCheck (Ashby)'],
    ['stop-onboarding-without-argument.json', 'an onboarding stopped by a bare stopOnboarding (admin)'],
  ])('%s: %s replays without a non-determinism error', async (file) => {
    const history = temporal.api.history.v1.History.fromObject(
      JSON.parse(readFileSync(path.join(__dirname, 'fixtures', file), 'utf8')) as Record<string, unknown>,
    );
    const codePath = process.env.BGC_TEST_WORKFLOW_BUNDLE;
    if (!codePath) throw new Error('global setup did not bundle the workflows (BGC_TEST_NO_TEMPORAL?)');
    await Worker.runReplayHistory(
      { workflowBundle: { codePath }, dataConverter: { failureConverterPath: FAILURE_CONVERTER_PATH } },
      history,
    );
  });
});
