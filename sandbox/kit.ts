import type { Server } from 'node:http';
import type { Express } from 'express';

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (port 0 picks a free one) and resolves once the server accepts connections. */
export function listen(app: Express, port = 0, host = '127.0.0.1'): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(port, host, (err?: Error) => {
      if (err) return reject(err);
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no TCP address'));
      resolve({
        url: `http://${host}:${address.port}`,
        port: address.port,
        close: () =>
          new Promise<void>((res, rej) => {
            server.closeAllConnections();
            server.close((e) => (e ? rej(e) : res()));
          }),
      });
    });
    server.on('error', reject);
  });
}

/** An error express or body-parser raised with an HTTP status (`type` e.g. `entity.parse.failed`). */
export function isHttpError(err: unknown): err is { status: number; type?: string; message: string } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { status?: unknown }).status === 'number' &&
    typeof (err as { message?: unknown }).message === 'string'
  );
}
