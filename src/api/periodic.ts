import type { Logger } from '../logger';

/**
 * Runs a pass now and then every `intervalMs` after the previous pass ended, until stopped; a pass that throws
 * is reported and the next one still comes. `stop` waits for a pass in progress.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<unknown> | undefined;
  private running = false;

  constructor(
    private readonly runPass: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const pass = this.runPass().catch(this.onError);
      this.pass = pass;
      void pass.finally(() => {
        if (this.pass === pass) this.pass = undefined;
        this.schedule(this.intervalMs);
      });
    }, delayMs);
  }
}

/** A background task of an API process: `runOnce` at `start` and then every `intervalMs` until `stop` (Periodic). */
export abstract class PeriodicTask<T> {
  private readonly periodic: Periodic;

  protected constructor(intervalMs: number, logger: Pick<Logger, 'error'>, name: string) {
    this.periodic = new Periodic(
      () => this.runOnce(),
      intervalMs,
      (err) => logger.error({ err }, `${name} pass failed`),
    );
  }

  start(): void {
    this.periodic.start();
  }

  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass. */
  abstract runOnce(): Promise<T>;
}
