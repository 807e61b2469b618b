import express from 'express';
import type { Request, Response } from 'express';
import { listen, type RunningServer } from '../../sandbox/kit';

/**
 * A callback (webhook) receiver for the emulator tests: each POST to `path` is recorded as `record` makes it from
 * the raw body; `answer` may answer a request itself (e.g. a bad signature: true when it did). The others: the
 * first `failFirst` get a 500, then a 204.
 */
export async function startCallbackReceiver<R>(
  path: string,
  failFirst: number,
  record: (raw: Buffer, req: Request) => R,
  answer?: (received: R, res: Response) => boolean,
): Promise<RunningServer & { received: R[] }> {
  const received: R[] = [];
  let failuresLeft = failFirst;
  const app = express();
  app.post(path, express.raw({ type: () => true }), (req, res) => {
    const entry = record(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req);
    received.push(entry);
    if (answer?.(entry, res)) return;
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      res.status(500).send('boom');
      return;
    }
    res.status(204).end();
  });
  const server = await listen(app);
  return Object.assign(server, { received });
}
