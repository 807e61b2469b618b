import type { QueryDefinition, WorkflowHandle } from '@temporalio/client';
import type { CheckStatus } from '../../src/domain/status';
import { checkStateQuery, checkWorkflowId, type CheckState } from '../../src/workflows/definitions';
import { lastPolls } from './pollers';
import type { Stack } from './stack';

/**
 * The one set of wait helpers the tests share: each polls until what it waits for is there, and fails with what it
 * was waiting for after its timeout.
 */

/** Polls every `intervalMs` until `probe` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  what = 'condition',
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** Polls a synchronous `condition` every 10 ms (an in-process emulator's state) until it holds; fails after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The handle of a workflow once Temporal has it: a trigger is answered as soon as it is recorded, and its workflow
 * starts right after (src/ats/lever/webhooks.ts), so right after a delivery it may not exist yet.
 */
export async function startedHandle<H extends { describe(): Promise<unknown> }>(
  handle: H,
  timeoutMs = 15_000,
): Promise<H> {
  await eventually(() => handle.describe(), timeoutMs, 'the workflow to start');
  return handle;
}

/** Waits until the workflow's state `query` answers `status`; resolves with that state. */
export function waitForState<S extends { status: unknown }>(
  handle: Pick<WorkflowHandle, 'query'>,
  query: QueryDefinition<S>,
  status: NonNullable<S['status']> & string,
  timeoutMs = 30_000,
  what = `status ${status}`,
): Promise<S> {
  return eventually(
    async () => {
      const state = await handle.query(query);
      return state.status === status ? state : undefined;
    },
    timeoutMs,
    what,
  );
}

/** Waits until the check of `subjectId` on the connection answers `status` to its state query; resolves with it. */
export function waitForCheckStatus(
  stack: Pick<Stack, 'temporal'>,
  connectionId: string,
  subjectId: string,
  status: CheckStatus,
): Promise<CheckState> {
  const handle = stack.temporal.workflow.getHandle(checkWorkflowId(connectionId, subjectId));
  return waitForState(handle, checkStateQuery, status);
}

/** Waits until the tags `read` returns (an opportunity's, usually one vendor's) include `tag`. */
export function waitForTag(read: () => readonly string[], tag: string, timeoutMs = 30_000): Promise<true> {
  return eventually(() => (read().includes(tag) ? true : undefined), timeoutMs, `tag ${tag}`);
}

/**
 * Waits until the tags `read` returns are exactly `tag` (Lever has no atomic replace: the old status tag goes right
 * after the new one is on); resolves with them.
 */
export function waitForOnlyTag(
  read: () => readonly string[],
  tag: string,
  timeoutMs = 30_000,
): Promise<readonly string[]> {
  return eventually(
    () => {
      const tags = read();
      return tags.length === 1 && tags[0] === tag ? tags : undefined;
    },
    timeoutMs,
    `only the tag ${tag}`,
  );
}

/** Waits for a secret note on the opportunity that contains `fragment`; resolves with the note's text. */
export function waitForNote(
  stack: Pick<Stack, 'lever'>,
  opportunityId: string,
  fragment: string,
  timeoutMs = 30_000,
): Promise<string> {
  return eventually(
    () =>
      stack.lever
        .notes(opportunityId)
        .filter((n) => n.secret)
        .map((n) => n.value)
        .find((n) => n.includes(fragment)),
    timeoutMs,
    `a secret note with "${fragment}"`,
  );
}

/** Waits for the first Justifacts order whose reference is `reference` (an opportunity or an assessment). */
export function waitForJustifactsOrder(stack: Pick<Stack, 'justifacts'>, reference: string) {
  return eventually(
    () => stack.justifacts.orders().find((o) => o.reference === reference),
    30_000,
    'the Justifacts order',
  );
}

/**
 * Waits until Temporal lists `identity` among the task queue's pollers (every 200 ms: each look is a connection of
 * its own); returns the last polls as listed then. Errors meanwhile (e.g. the server is still starting) are retried.
 */
export function waitForPoller(
  address: string,
  taskQueue: string,
  identity: string,
  timeoutMs = 90_000,
): Promise<Map<string, number>> {
  return eventually(
    async () => {
      const polls = await lastPolls(address, taskQueue);
      return polls.has(identity) ? polls : undefined;
    },
    timeoutMs,
    `Temporal to list ${identity} polling ${taskQueue}`,
    200,
  );
}

/**
 * Waits until every Lever delivery recorded for the opportunity on the connection (its inbox rows) is processed;
 * resolves with their outcomes, oldest first.
 */
export function waitForInboxOutcomes(
  stack: Pick<Stack, 'pool'>,
  connectionId: string,
  opportunityId: string,
): Promise<string[]> {
  return eventually(
    async () => {
      const rows = await stack.pool.query<{ outcome: string; processed: boolean }>(
        `SELECT outcome, processed_at IS NOT NULL AS processed FROM webhook_inbox
         WHERE connection_id = $1 AND data->>'opportunityId' = $2 ORDER BY id`,
        [connectionId, opportunityId],
      );
      return rows.rows.every((r) => r.processed) ? rows.rows.map((r) => r.outcome) : undefined;
    },
    30_000,
    'every delivery of the opportunity processed',
  );
}
