import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/**
 * Runs one of the service's entry points (`src/main.ts`, `src/worker.ts`) as its own process, as in production.
 * A variable set to `undefined` in `env` is removed from the inherited environment. `captureStderr`: readable
 * as `child.stderr` (e.g. the message of a process that refuses to start).
 */
export function startServiceProcess(
  entry: 'src/main.ts' | 'src/worker.ts',
  env: NodeJS.ProcessEnv,
  options: { captureStderr?: boolean } = {},
): ChildProcess {
  const stderr = options.captureStderr
    ? 'pipe'
    : process.env.TEST_SERVICE_STDERR === '1'
      ? 'inherit'
      : 'ignore';
  return spawn(TSX, [entry], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', stderr],
    // Its own process group: tsx runs the entry point in a child process, which a SIGKILL to tsx alone orphans.
    detached: true,
  });
}

/** Sends `signal` to the process and the entry point tsx runs for it, and waits until it has exited. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  const group = -child.pid;
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    process.kill(group, signal);
  });
}
