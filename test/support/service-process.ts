import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** Runs one of the service's entry points (`src/main.ts`, `src/worker.ts`) as its own process, as in production. */
export function startServiceProcess(
  entry: 'src/main.ts' | 'src/worker.ts',
  env: NodeJS.ProcessEnv,
): ChildProcess {
  return spawn(TSX, [entry], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', process.env.TEST_SERVICE_STDERR === '1' ? 'inherit' : 'ignore'],
  });
}

/** Sends `signal` and waits until the process has exited. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
