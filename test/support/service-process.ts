import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import {
  descendants,
  describeProcess,
  groupMembers,
  isRunning,
  listProcesses,
  processInfo,
  type ProcessInfo,
} from './processes';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one of the service's entry points (`src/main.ts`, `src/worker.ts`) as its own process, as in production.
 * A variable set to `undefined` in `env` is removed from the inherited environment. `captureStderr`: readable
 * as `child.stderr` (e.g. the message of a process that refuses to start); `logFile`: stdout and stderr are
 * appended to it; `compiled`: node runs the compiled entry point (`dist/src/…js`, from `npm run build`) directly,
 * as the image does, instead of tsx.
 */
export function startServiceProcess(
  entry: 'src/main.ts' | 'src/worker.ts',
  env: NodeJS.ProcessEnv,
  options: { captureStderr?: boolean; logFile?: string; compiled?: boolean } = {},
): ChildProcess {
  const log = options.logFile === undefined ? undefined : openSync(options.logFile, 'a');
  const stderr =
    log ?? (options.captureStderr ? 'pipe' : process.env.TEST_SERVICE_STDERR === '1' ? 'inherit' : 'ignore');
  try {
    const [command, args] = options.compiled
      ? [process.execPath, [path.join(ROOT, 'dist', entry.replace(/\.ts$/, '.js'))]]
      : [TSX, [entry]];
    return spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', log ?? 'ignore', stderr],
      // Its own process group: tsx runs the entry point in a child process, which a SIGKILL to tsx alone orphans.
      detached: true,
    });
  } finally {
    if (log !== undefined) closeSync(log); // the child has its own copy
  }
}

/**
 * The node process that runs the entry point of a service process (tsx starts it as its child; a compiled one is
 * the process itself): the one that serves HTTP or polls Temporal, and whose pid names the worker in Temporal
 * (`<pid>@<host>`).
 */
export async function entryProcess(child: ChildProcess, timeoutMs = 30_000): Promise<ProcessInfo> {
  const entry = child.spawnargs.at(-1);
  const deadline = Date.now() + timeoutMs;
  while (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const self = child.spawnfile === process.execPath ? processInfo(child.pid) : undefined;
    if (self !== undefined && self.argv.at(-1) === entry) return self;
    const found = descendants(child.pid).find((p) => p.argv.at(-1) === entry);
    if (found) return found;
    if (Date.now() > deadline) break;
    await sleep(20);
  }
  throw new Error(`no process runs ${entry} below ${child.pid ?? 'a process that did not start'}`);
}

/**
 * Sends `signal` to the process's group (tsx and the node process running the entry point) and waits until the
 * launcher has exited and nothing of the group or below the launcher runs any more: then the entry point has
 * really stopped. What still runs `timeoutMs` after the signal is killed (SIGKILL) and the promise rejects naming
 * it. Works for any child started with `detached: true` (its own group).
 */
export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = signal === 'SIGKILL' ? 5_000 : 20_000,
): Promise<void> {
  const group = child.pid;
  if (group === undefined) return;
  const processes = listProcesses();
  // Below the launcher and in its group: a child that left the group is still found, and so is an orphan.
  const watched = [...descendants(group, processes), ...groupMembers(group, processes)];
  const launcherExited = () => child.exitCode !== null || child.signalCode !== null;
  const survivors = () => {
    const running = new Map([...watched, ...groupMembers(group)].filter(isRunning).map((p) => [p.pid, p]));
    return [...running.values()];
  };
  if (launcherExited() && survivors().length === 0) return;
  signalGroup(group, signal);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (launcherExited() && survivors().length === 0) return;
    await sleep(20);
  }
  const left = survivors();
  signalGroup(group, 'SIGKILL');
  for (const p of left) signalProcess(p.pid, 'SIGKILL');
  throw new Error(
    `${signal} did not stop process group ${group} within ${timeoutMs} ms; killed what still ran: ` +
      (left.map(describeProcess).join('; ') || `the launcher ${group}`),
  );
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  signalProcess(-group, signal);
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    // Nothing left to signal: it has ended meanwhile.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
