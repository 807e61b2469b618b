import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Connection } from '../domain/connection';
import { CONNECTION_KEY, VENDOR_KEY } from '../temporal/search-attributes';
import { checkWorkflowId } from '../workflows/definitions';
import type { backgroundCheck } from '../workflows';

export type StartOutcome =
  | { outcome: 'started'; workflowId: string; runId: string }
  | { outcome: 'already-running'; workflowId: string };

/**
 * Starts the check for one opportunity. The workflow ID is the business key, so a second start while a
 * check runs is refused by Temporal itself, and a new run after a finished one is allowed.
 */
export async function startCheck(
  temporal: Client,
  options: { taskQueue: string; pollIntervalMs: number },
  connection: Connection,
  opportunityId: string,
): Promise<StartOutcome> {
  const workflowId = checkWorkflowId(connection.id, opportunityId);
  try {
    const handle = await temporal.workflow.start<typeof backgroundCheck>('backgroundCheck', {
      taskQueue: options.taskQueue,
      workflowId,
      args: [{ connectionId: connection.id, opportunityId, pollIntervalMs: options.pollIntervalMs }],
      typedSearchAttributes: [
        { key: CONNECTION_KEY, value: connection.id },
        { key: VENDOR_KEY, value: connection.vendor },
      ],
    });
    return { outcome: 'started', workflowId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { outcome: 'already-running', workflowId };
    throw err;
  }
}
