import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { untilReady } from './until-ready';
import { SQLITE_PRAGMA_ARGS, TEMPORAL_CLI_PATH, searchAttributeArgs } from './dev-server';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });
}

/**
 * A headless Temporal dev server (the pinned CLI) on a fixed port and SQLite file, which can be stopped and
 * started again on both: for outage tests and fault scripts. Its output is discarded.
 */
export class DevServerProcess {
  readonly kind = 'dev';
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dbFile: string,
  ) {}

  /**
   * A server on a free port whose SQLite file lives in a new temporary directory (`prefix` names it);
   * `dispose()` stops the server and removes the directory.
   */
  static async inTempDir(prefix: string): Promise<DevServerProcess> {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    const server = new DevServerProcess(await freePort(), path.join(dir, 'temporal.db'));
    server.tempDir = dir;
    return server;
  }

  private tempDir: string | undefined;

  /** Stops the server and removes its temporary directory (servers from `inTempDir`). */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.tempDir !== undefined) rmSync(this.tempDir, { recursive: true, force: true });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs (benchmarks read its memory). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Bytes of the SQLite file and its write-ahead log. */
  storageBytes(): Promise<number> {
    const size = (file: string) => {
      try {
        return statSync(file).size;
      } catch {
        return 0;
      }
    };
    return Promise.resolve(size(this.dbFile) + size(`${this.dbFile}-wal`));
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server and resolves once it answers (GetSystemInfo). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.child) throw new Error('the dev server is already running');
    const child = spawn(
      TEMPORAL_CLI_PATH,
      [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--headless',
        '--db-filename',
        this.dbFile,
        ...SQLITE_PRAGMA_ARGS,
        ...searchAttributeArgs(),
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const result = await untilReady(
      child,
      async () => {
        // A subchannel of its own: grpc-js shares them between connections with the same settings, and one that
        // backed off while the server was down would only try again after its backoff (up to 2 minutes).
        const connection = await Connection.connect({
          address: this.address,
          connectTimeout: 1000,
          channelArgs: { 'grpc.use_local_subchannel_pool': 1 },
        });
        try {
          await connection.workflowService.getSystemInfo({});
        } finally {
          await connection.close();
        }
      },
      { timeoutMs, intervalMs: 100 },
    );
    if (result.ready) return;
    await this.stop();
    throw new Error(
      result.exited
        ? `the Temporal dev server exited at start (port ${this.port} taken?)`
        : `the Temporal dev server did not answer within ${timeoutMs} ms`,
    );
  }

  /** SIGTERM, then waits for the process to exit (SIGKILL after `killAfterMs`). */
  async stop(killAfterMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    if (this.child === child) this.child = undefined;
  }
}
