import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../src/temporal/dev-server-process';
import { workerIdentity } from '../support/pollers';
import {
  RUN_MARK_VARIABLE,
  descendants,
  groupMembers,
  isRunning,
  markedProcesses,
  processInfo,
  type ProcessInfo,
} from '../support/processes';
import { entryProcess, startServiceProcess, stopProcess } from '../support/service-process';
import { eventually, waitForPoller } from '../support/waits';

/**
 * The test support that runs the API and the worker as processes (test/support/service-process.ts): tsx runs each
 * entry point in a child node process, so stopping one means stopping that child too, and the run's global
 * teardown fails when a process it started is still running (test/support/global-teardown.ts).
 */
describe('service processes (test support)', () => {
  const temporalAddress = process.env.TEMPORAL_ADDRESS ?? '';
  const started: ChildProcess[] = [];
  let env: NodeJS.ProcessEnv;
  let apiUrl: string;

  beforeAll(async () => {
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    env = {
      TEMPORAL_TASK_QUEUE: `service-process-${randomBytes(4).toString('hex')}`,
      ADMIN_TOKEN: `service-process-${randomBytes(12).toString('hex')}`,
      API_PORT: String(apiPort),
      // Required by the worker; nothing is mailed here: nobody listens there.
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
    };
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((child) => stopProcess(child, 'SIGKILL')));
  });

  function start(entry: 'src/main.ts' | 'src/worker.ts'): ChildProcess {
    const child = startServiceProcess(entry, env);
    started.push(child);
    return child;
  }

  /** The worker's node process, once Temporal lists it polling the task queue. */
  async function pollingWorker(worker: ChildProcess): Promise<ProcessInfo> {
    const polling = await entryProcess(worker, 60_000);
    await waitForPoller(temporalAddress, env.TEMPORAL_TASK_QUEUE ?? '', workerIdentity(polling.pid));
    return polling;
  }

  it('stops the API (SIGTERM) and the worker (SIGKILL), the node process running each entry point included', async () => {
    const api = start('src/main.ts');
    const worker = start('src/worker.ts');
    await eventually(
      async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined),
      90_000,
      'the API',
    );
    const serving = await entryProcess(api);
    const polling = await pollingWorker(worker);
    // Each is tsx and, below it, node running the entry point, all in a process group of the launcher's pid.
    for (const [child, entry] of [
      [api, serving],
      [worker, polling],
    ] as const) {
      expect(entry.argv.at(-1)).toBe(child.spawnargs.at(-1));
      expect(entry.pid).not.toBe(child.pid);
      expect(entry.pgid).toBe(child.pid);
    }
    const tree = [api, worker].flatMap((child) => [
      processInfo(child.pid ?? 0)!,
      ...descendants(child.pid ?? 0),
    ]);

    await Promise.all([stopProcess(api, 'SIGTERM'), stopProcess(worker, 'SIGKILL')]);

    expect(tree.filter(isRunning)).toEqual([]);
    expect([...groupMembers(api.pid ?? 0), ...groupMembers(worker.pid ?? 0)]).toEqual([]);
    expect(api.exitCode ?? api.signalCode).not.toBeNull();
    expect(worker.signalCode).toBe('SIGKILL');
  }, 240_000);

  it('finds the worker a SIGKILL of tsx alone leaves running, and stopProcess ends it through its group', async () => {
    const worker = start('src/worker.ts');
    const polling = await pollingWorker(worker);

    // What the chaos test used to do: the launcher dies, the node process that polls Temporal does not.
    const launcherGone = new Promise((resolve) => worker.once('exit', resolve));
    process.kill(worker.pid ?? 0, 'SIGKILL');
    await launcherGone;
    expect(isRunning(polling)).toBe(true);
    // The global teardown would report it: the run's mark is in its environment.
    const mark = process.env[RUN_MARK_VARIABLE] ?? '';
    expect(mark).not.toBe('');
    expect(markedProcesses(mark).map((p) => p.pid)).toContain(polling.pid);

    await stopProcess(worker, 'SIGKILL');
    expect(isRunning(polling)).toBe(false);
    expect(markedProcesses(mark).map((p) => p.pid)).not.toContain(polling.pid);
  }, 240_000);
});
