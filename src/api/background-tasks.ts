import type { Logger } from '../logger';

/**
 * Work an API process does after it has answered a request, at most `concurrency` tasks at once (the others wait
 * their turn, in order). A task's failure is logged, never thrown: what a task does must be durable without it
 * (the inbox relay starts a recorded delivery that no task started).
 */
export class BackgroundTasks {
  private running = 0;
  private readonly waiting: (() => Promise<void>)[] = [];
  private idle: (() => void)[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly concurrency: number,
    /** Tasks that may wait; more are dropped (e.g. while Temporal is unreachable: the relay does them later). */
    private readonly maxWaiting = 10_000,
  ) {}

  /**
   * Runs `task` now, or once fewer than `concurrency` tasks run; returns false when it was dropped because
   * `maxWaiting` tasks wait already.
   */
  run(task: () => Promise<void>): boolean {
    if (this.waiting.length >= this.maxWaiting) {
      this.logger.warn({ waiting: this.waiting.length }, 'background task dropped: too many waiting');
      return false;
    }
    this.waiting.push(task);
    this.next();
    return true;
  }

  /** Tasks running or waiting. */
  get pending(): number {
    return this.running + this.waiting.length;
  }

  /** Resolves once no task runs or waits. */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private next(): void {
    while (this.running < this.concurrency) {
      const task = this.waiting.shift();
      if (task === undefined) break;
      this.running += 1;
      void task()
        .catch((err: unknown) => this.logger.error({ err }, 'background task failed'))
        .finally(() => {
          this.running -= 1;
          this.next();
          if (this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
        });
    }
  }
}

/**
 * Collects items and hands them to `write` together: one write at a time, each with everything added while the
 * previous one ran (at most `maxBatch`). Under load many items share a statement; alone, an item is written at
 * once. `add` resolves once its item is written, and rejects with the write's error.
 */
export class Batcher<T> {
  private queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private writing = false;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxBatch = 500,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.write(batch.map((b) => b.item));
          for (const b of batch) b.resolve();
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
