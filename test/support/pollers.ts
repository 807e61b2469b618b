import { hostname } from 'node:os';
import { Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

/** The identity the Temporal SDK gives a worker by default, as the service's worker has: `<pid>@<host>`. */
export function workerIdentity(pid: number): string {
  return `${pid}@${hostname()}`;
}

/**
 * When Temporal last saw each worker poll the task queue (any of its partitions), for workflow or activity tasks (ms
 * since the epoch), by worker identity. Temporal lists a poller for a few minutes after its last poll, and forgets it on a restart.
 */
export async function lastPolls(
  address: string,
  taskQueue: string,
  namespace = 'default',
): Promise<Map<string, number>> {
  // A subchannel of its own: a shared one that backed off while the server was restarted may wait minutes.
  const connection = await Connection.connect({
    address,
    connectTimeout: 5_000,
    channelArgs: { 'grpc.use_local_subchannel_pool': 1 },
  });
  try {
    const polls = new Map<string, number>();
    // A task queue is served in partitions (the server's default `matching.numTaskqueueReadPartitions`: 4), each
    // listing only the pollers whose polls reached it: a worker can be missing from the first one for minutes.
    const partitions = [taskQueue, ...[1, 2, 3].map((n) => `/_sys/${taskQueue}/${n}`)];
    for (const name of partitions) {
      for (const taskQueueType of [
        temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      ]) {
        const { pollers } = await connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType,
        });
        for (const poller of pollers ?? []) {
          const identity = poller.identity ?? '';
          polls.set(identity, Math.max(polls.get(identity) ?? 0, tsToMs(poller.lastAccessTime)));
        }
      }
    }
    return polls;
  } finally {
    await connection.close();
  }
}
