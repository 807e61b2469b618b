import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Connection } from '../domain/connection';
import { CONNECTION_KEY, VENDOR_KEY } from '../temporal/search-attributes';
import type { IntegrationDefinition } from '../vendors/types';
import { checkWorkflowId, type BackgroundCheckInput } from '../workflows/definitions';
import { hireWorkflowId, type OnboardHireInput } from '../workflows/onboarding-definitions';

export type StartOutcome =
  | { outcome: 'started'; workflowId: string; runId: string }
  | { outcome: 'already-running'; workflowId: string };

export interface StartOptions {
  taskQueue: string;
  pollIntervalMs: number;
  maxAttempts?: number;
}

/**
 * Starts the integration's workflow for one ATS object. The workflow ID is the business key, so a second start
 * while one runs is refused by Temporal itself; a check may run again after it finished, a hire only once.
 */
export async function startWorkflow(
  temporal: Client,
  options: StartOptions,
  integration: IntegrationDefinition,
  connection: Connection,
  subjectId: string,
): Promise<StartOutcome> {
  const common = {
    taskQueue: options.taskQueue,
    typedSearchAttributes: [
      { key: CONNECTION_KEY, value: connection.id },
      { key: VENDOR_KEY, value: connection.vendor },
    ],
  };
  try {
    if (integration.workflow === 'onboardHire') {
      const workflowId = hireWorkflowId(connection.id, subjectId);
      const args: [OnboardHireInput] = [
        { connectionId: connection.id, opportunityId: subjectId, maxAttempts: options.maxAttempts },
      ];
      const handle = await temporal.workflow.start('onboardHire', {
        ...common,
        workflowId,
        args,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      return { outcome: 'started', workflowId, runId: handle.firstExecutionRunId };
    }
    const workflowId = checkWorkflowId(connection.id, subjectId);
    const args: [BackgroundCheckInput] = [
      {
        connectionId: connection.id,
        subjectId,
        pollIntervalMs: options.pollIntervalMs,
        maxAttempts: options.maxAttempts,
      },
    ];
    const handle = await temporal.workflow.start('backgroundCheck', { ...common, workflowId, args });
    return { outcome: 'started', workflowId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { outcome: 'already-running', workflowId: err.workflowId };
    }
    throw err;
  }
}
