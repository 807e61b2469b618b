import type { Client } from '@temporalio/client';
import type { ConnectionRepository } from '../db/connections';
import type { Logger } from '../logger';
import { CONNECTION_KEY } from '../temporal/search-attributes';
import { PeriodicTask } from './periodic';

/** A workflow of a connection that is still running (a check, or a hire's onboarding). */
export interface RunningWorkflow {
  workflowId: string;
  runId: string;
  type: string;
}

/** The visibility query for a connection's running workflows (connection ids are `conn_<hex>`). */
function runningQuery(connectionId: string): string {
  return `${CONNECTION_KEY.name} = "${connectionId.replace(/["\\]/g, '')}" AND ExecutionStatus = "Running"`;
}

/** The connection's running workflows; fails within `timeoutMs` when Temporal cannot be asked. */
export async function runningWorkflows(
  temporal: Client,
  connectionId: string,
  timeoutMs = 5_000,
): Promise<RunningWorkflow[]> {
  return temporal.withDeadline(Date.now() + timeoutMs, async () => {
    const found: RunningWorkflow[] = [];
    for await (const execution of temporal.workflow.list({ query: runningQuery(connectionId) })) {
      found.push({ workflowId: execution.workflowId, runId: execution.runId, type: execution.type });
    }
    return found;
  });
}

export interface RetirementDeps {
  connections: ConnectionRepository;
  temporal: Client;
  logger: Logger;
  /** Pause between two passes (ms). */
  intervalMs: number;
  /** Only these connections (test stacks sharing one database); a production API handles every connection. */
  connectionIds?: ReadonlySet<string>;
}

/**
 * A deleted connection keeps its secrets while checks it started still run (they need them to finish); this
 * erases them once none runs any more. Every API process runs it; erasing is idempotent.
 */
export class ConnectionRetirement extends PeriodicTask<number> {
  constructor(private readonly deps: RetirementDeps) {
    super(deps.intervalMs, deps.logger, 'connection retirement');
  }

  /** Erases the secrets of every deleted connection without running workflows; returns how many. */
  async runOnce(): Promise<number> {
    const { connections, temporal, logger } = this.deps;
    const ids = await connections.awaitingErasure(this.deps.connectionIds && [...this.deps.connectionIds]);
    let erased = 0;
    for (const id of ids) {
      if (await hasRunningWorkflows(temporal, id)) continue;
      if (await eraseSecrets(connections, id)) {
        erased += 1;
        logger.info({ connectionId: id }, 'secrets of the deleted connection erased');
      }
    }
    return erased;
  }
}

/** Erases a deleted connection's secrets, recording that the service did it once no check needed them. */
export function eraseSecrets(connections: ConnectionRepository, connectionId: string): Promise<boolean> {
  return connections.eraseSecrets(connectionId, {
    actor: 'service',
    detail: { reason: 'the connection was deleted and none of its checks runs any more' },
  });
}

/** Whether the connection has any running workflow. */
export async function hasRunningWorkflows(temporal: Client, connectionId: string): Promise<boolean> {
  return (await temporal.workflow.count(runningQuery(connectionId))).count > 0;
}
