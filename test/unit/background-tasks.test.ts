import { BackgroundTasks, Batcher } from '../../src/api/background-tasks';
import { createLogger } from '../../src/logger';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('writes an item alone at once, and everything added meanwhile together in the next write', async () => {
    const writes: number[][] = [];
    let release: () => void = () => undefined;
    const batcher = new Batcher<number>(async (items) => {
      writes.push(items);
      await new Promise<void>((resolve) => (release = resolve));
    });
    const first = batcher.add(1);
    await tick();
    expect(writes).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => batcher.add(n));
    await tick();
    expect(writes).toEqual([[1]]); // waiting for the first write
    release();
    await first;
    await tick();
    expect(writes).toEqual([[1], [2, 3, 4]]);
    release();
    await Promise.all(rest);
  });

  it('rejects the items of a failed write, and writes the next ones', async () => {
    let fail = true;
    const batcher = new Batcher<number>((items) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error(`lost ${items.join(',')}`));
      }
      return Promise.resolve();
    });
    await expect(batcher.add(1)).rejects.toThrow('lost 1');
    await expect(batcher.add(2)).resolves.toBeUndefined();
  });
});

describe('BackgroundTasks', () => {
  it('runs at most `concurrency` tasks at once, the others in order, and survives a failing task', async () => {
    const tasks = new BackgroundTasks(createLogger('silent', 'test'), 2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    for (let i = 0; i < 6; i++) {
      tasks.run(async () => {
        running += 1;
        most = Math.max(most, running);
        order.push(i);
        await tick();
        running -= 1;
        if (i === 1) throw new Error('a failing task');
      });
    }
    expect(tasks.pending).toBe(6);
    await tasks.drained();
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(tasks.pending).toBe(0);
  });

  it('drops a task when `maxWaiting` tasks wait already, and says so', async () => {
    const tasks = new BackgroundTasks(createLogger('silent', 'test'), 1, 2);
    let release: () => void = () => undefined;
    const ran: number[] = [];
    const task = (n: number) => async () => {
      ran.push(n);
      if (n === 0) await new Promise<void>((resolve) => (release = resolve));
    };
    expect(tasks.run(task(0))).toBe(true); // runs
    expect(tasks.run(task(1))).toBe(true); // waits
    expect(tasks.run(task(2))).toBe(true); // waits
    expect(tasks.run(task(3))).toBe(false); // dropped
    release();
    await tasks.drained();
    expect(ran).toEqual([0, 1, 2]);
  });
});
