import { readFileSync, readdirSync } from 'node:fs';

/**
 * The processes of this machine as Linux shows them in /proc: what the tests and scripts use to prove that a process
 * they stopped or killed is really gone, and that nothing they started is left running.
 */

/** One process: its pid and its start time (clock ticks after boot), so that a reused pid is not mistaken for it. */
export interface ProcessRef {
  pid: number;
  start: number;
}

export interface ProcessInfo extends ProcessRef {
  ppid: number;
  pgid: number;
  /** `R`, `S`, `D`, … or `Z` (exited, not yet reaped: it no longer runs). */
  state: string;
  /** The command line's arguments. */
  argv: string[];
}

/** The process, or undefined when it no longer exists. */
export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) is in parentheses and may contain spaces: the other fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return {
      pid,
      state: fields[0] ?? '',
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      start: Number(fields[19]),
      argv,
    };
  } catch {
    return undefined;
  }
}

/** Every process of the machine (that this user may read). */
export function listProcesses(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => processInfo(Number(entry)))
    .filter((p): p is ProcessInfo => p !== undefined);
}

/**
 * Whether the process still runs: it exists, is the same process (start time) and has not exited. An orphan's
 * exit leaves a zombie here (PID 1 of these machines does not reap): a zombie counts as gone.
 */
export function isRunning(ref: ProcessRef): boolean {
  const info = processInfo(ref.pid);
  return info !== undefined && info.start === ref.start && info.state !== 'Z' && info.state !== 'X';
}

/** The running processes below `pid` (children, their children, …), not `pid` itself. */
export function descendants(pid: number, processes = listProcesses()): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  const parents = [pid];
  for (let parent = parents.pop(); parent !== undefined; parent = parents.pop()) {
    for (const p of processes) {
      if (p.ppid === parent && isRunning(p)) {
        found.push(p);
        parents.push(p.pid);
      }
    }
  }
  return found;
}

/** The running processes of a process group. */
export function groupMembers(pgid: number, processes = listProcesses()): ProcessInfo[] {
  return processes.filter((p) => p.pgid === pgid && isRunning(p));
}

/** `4711 node src/worker.ts` */
export function describeProcess(p: ProcessInfo): string {
  return `${p.pid} ${p.argv.join(' ').slice(0, 160)}`;
}

/**
 * The environment variable that marks every process of a test run: the global setup sets it to a value of its own,
 * and every process the run starts inherits it (children and their children, orphans included).
 */
export const RUN_MARK_VARIABLE = 'BGC_TEST_RUN';

/** The running processes whose environment has `RUN_MARK_VARIABLE=<mark>`, except this one. */
export function markedProcesses(mark: string): ProcessInfo[] {
  const needle = `${RUN_MARK_VARIABLE}=${mark}`;
  return listProcesses().filter((p) => {
    if (p.pid === process.pid || !isRunning(p)) return false;
    try {
      return readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0').includes(needle);
    } catch {
      return false; // ended meanwhile, or another user's
    }
  });
}

/**
 * What a run marked `mark` left running: the marked processes that have not ended within `graceMs` (a process
 * that is exiting gets the time to finish). Killed (SIGKILL) before they are returned, so that nothing lingers.
 */
export async function endLeftovers(mark: string, graceMs = 10_000): Promise<ProcessInfo[]> {
  const deadline = Date.now() + graceMs;
  let left = markedProcesses(mark);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = markedProcesses(mark);
  }
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
  return left;
}
