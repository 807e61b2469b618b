import type { ChildProcess } from 'node:child_process';

/** How a server process's start ended: it answered, it exited, or the deadline passed (with the last error). */
export type StartResult = { ready: true } | { ready: false; exited: boolean; lastError: unknown };

/**
 * Tries `probe` every `intervalMs` until it resolves, the child exits or `timeoutMs` passes: the start of a server
 * process that is ready once it answers.
 */
export async function untilReady(
  child: ChildProcess,
  probe: () => Promise<void>,
  { timeoutMs, intervalMs }: { timeoutMs: number; intervalMs: number },
): Promise<StartResult> {
  let exited = child.exitCode !== null || child.signalCode !== null;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !exited) {
    try {
      await probe();
      return { ready: true };
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
  return { ready: false, exited, lastError };
}
