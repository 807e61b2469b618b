import {
  WorkflowExecutionAlreadyStartedError,
  isGrpcCancelledError,
  isGrpcDeadlineError,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import type { Connection } from '../ats/connection';
import type { IntegrationDefinition } from '../vendors/types';
import { WORKFLOW_KINDS, type KindStartOptions } from '../workflows/kinds';

export type StartOutcome =
  | { outcome: 'started'; workflowId: string; runId: string }
  | { outcome: 'already-running'; workflowId: string };

export interface StartOptions extends KindStartOptions {
  taskQueue: string;
}

/**
 * Starts the integration's kind of workflow (src/workflows/kinds.ts) for one ATS object. The workflow ID is the
 * business key, so a second start while one runs is refused by Temporal itself; the kind's ID reuse policy says
 * whether it may run again once closed (a check may, a hire may not).
 */
export async function startWorkflow(
  temporal: Client,
  options: StartOptions,
  integration: IntegrationDefinition,
  connection: Connection,
  subjectId: string,
): Promise<StartOutcome> {
  const kind = WORKFLOW_KINDS[integration.workflow];
  const workflowId = kind.workflowId(connection.id, subjectId);
  try {
    const handle = await temporal.workflow.start(kind.workflowType, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [kind.input(connection, subjectId, options)],
      workflowIdReusePolicy: kind.idReusePolicy,
      typedSearchAttributes: kind.startAttributes(connection),
    });
    return { outcome: 'started', workflowId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { outcome: 'already-running', workflowId: err.workflowId };
    }
    throw err;
  }
}

/** How long a webhook request or the inbox relay waits for Temporal to accept a start (ms). */
export const DEFAULT_START_TIMEOUT_MS = 3000;

/** The start attempt did not finish within its deadline (the client was still backing off between retries). */
export class StartTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Temporal did not accept the start within ${timeoutMs} ms`);
    this.name = 'StartTimeoutError';
  }
}

/**
 * `startWorkflow` under a deadline: when Temporal is unreachable the client keeps retrying the call; the gRPC
 * deadline ends those retries, and since the client's backoff between two retries (up to 5 s) does not look at
 * the deadline, a timer caps the wait too. Either way it fails within about `timeoutMs`, and
 * `isTemporalUnavailable` says so.
 */
export async function startWorkflowWithin(
  timeoutMs: number,
  ...start: Parameters<typeof startWorkflow>
): Promise<StartOutcome> {
  const [temporal] = start;
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StartTimeoutError(timeoutMs)), timeoutMs + 200);
  });
  try {
    return await Promise.race([
      temporal.withDeadline(Date.now() + timeoutMs, () => startWorkflow(...start)),
      cap,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** gRPC status codes meaning "the server could not be reached or did not answer in time". */
const UNREACHABLE_CODES = new Set([
  1, // CANCELLED (an abort signal)
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED (rate limited)
  14, // UNAVAILABLE (connection refused or lost)
]);

/**
 * Whether a start failed because Temporal was unreachable (connection refused or lost, deadline passed, rate
 * limited) rather than refusing this start: the same start can simply be tried again later.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  if (err instanceof StartTimeoutError) return true;
  if (isGrpcDeadlineError(err) || isGrpcCancelledError(err)) return true;
  const grpc = isGrpcServiceError(err)
    ? err
    : err instanceof Error && isGrpcServiceError(err.cause)
      ? err.cause
      : undefined;
  return grpc !== undefined && UNREACHABLE_CODES.has(grpc.code);
}
