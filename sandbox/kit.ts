import type { Server } from 'node:http';
import express from 'express';
import type { ErrorRequestHandler, Express, Request, Response } from 'express';
import type { z } from 'zod';

/**
 * The emulators' shared HTTP shell: the app, listening, the error handler's ladder, starting an emulator as a
 * running server, and the small request and value helpers each of them needs. What an emulator answers (its
 * error bodies, its routes) stays in its own file.
 */

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

/** An express app as every emulator starts one: no `X-Powered-By`, no ETags. */
export function emulatorApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  return app;
}

/** An emulator listening over HTTP: the emulator itself, where it listens, and `close`. */
export type Running<E> = E & {
  /** Base URL of the server, e.g. http://127.0.0.1:54321. */
  readonly url: string;
  /** Base URL for the service's client of this emulator (= url). */
  readonly apiBaseUrl: string;
  /** Stops the emulator (timers, calls in flight) and closes the server. */
  close(): Promise<void>;
};

/**
 * Serves `emulator` with the app `createApp` makes, on `port` (0: a free one). An emulator with a `publicUrl`
 * (what its links start with) gets the server's URL there; one with `stop()` is stopped before the server closes.
 */
export async function startEmulator<E extends object & { stop?(): void; publicUrl?: string | null }>(
  emulator: E,
  createApp: (emulator: E) => Express,
  port = 0,
): Promise<Running<E>> {
  const server = await listen(createApp(emulator), port);
  if ('publicUrl' in emulator) emulator.publicUrl = server.url;
  return Object.assign(emulator, {
    url: server.url,
    apiBaseUrl: server.url,
    close: async (): Promise<void> => {
      emulator.stop?.();
      await server.close();
    },
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

/** How one emulator words each kind of error the shared handler tells apart. */
export interface ErrorAnswers {
  /** The emulator's own errors: answers and returns true, or returns false for the ladder below. */
  own(err: unknown, res: Response): boolean;
  /** A body that is not JSON (body-parser's `entity.parse.failed`). */
  parseFailed(res: Response, message: string): void;
  /** A body over the limit (`entity.too.large`); without it, a client error like any other. */
  tooLarge?(res: Response, message: string): void;
  /** Any other error that carries a 4xx status. */
  clientError(res: Response, status: number, message: string): void;
  /** Anything else: a 500 (`message` is the error's, when it is an Error). */
  internal(res: Response, message: string | undefined): void;
}

/** The last middleware of an emulator's app: its own errors, then bad JSON, too large, other 4xx, 500. */
export function errorHandler(answers: ErrorAnswers): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (answers.own(err, res)) return;
    if (isHttpError(err) && err.type === 'entity.parse.failed') {
      answers.parseFailed(res, err.message);
    } else if (isHttpError(err) && err.type === 'entity.too.large' && answers.tooLarge) {
      answers.tooLarge(res, err.message);
    } else if (isHttpError(err) && err.status >= 400 && err.status < 500) {
      answers.clientError(res, err.status, err.message);
    } else {
      answers.internal(res, err instanceof Error ? err.message : undefined);
    }
  };
}

/** An emulator error that carries the status and the code of its answer. */
export interface CodedError<C extends string> {
  status: number;
  code: C;
  message: string;
}

/**
 * The end of an app whose error answers all go through `send(res, status, code, message)`: a 404 `codes.notFound`
 * for any other route, then `errorHandler` with the emulator's own errors (`own` returns them, else null) as they
 * are, bad JSON and other 4xx as `codes.invalid`, a body over the limit as `codes.tooLarge`, the rest a 500.
 */
export function codedErrorRoutes<C extends string>(
  app: Express,
  send: (res: Response, status: number, code: C, message: string) => void,
  own: (err: unknown) => CodedError<C> | null,
  codes: { notFound: C; invalid: C; tooLarge: { code: C; message: string }; internal: C },
): void {
  app.use((_req: Request, res: Response) => {
    send(res, 404, codes.notFound, 'Not found.');
  });
  app.use(
    errorHandler({
      own: (err, res) => {
        const coded = own(err);
        if (!coded) return false;
        send(res, coded.status, coded.code, coded.message);
        return true;
      },
      parseFailed: (res, message) => send(res, 400, codes.invalid, `The body is not valid JSON: ${message}`),
      tooLarge: (res) => send(res, 413, codes.tooLarge.code, codes.tooLarge.message),
      clientError: (res, status, message) => send(res, status, codes.invalid, message),
      internal: (res, message) => send(res, 500, codes.internal, message ?? 'Internal server error.'),
    }),
  );
}

/** A parser of request bodies with a schema (a missing body is `{}`) that throws the emulator's own 400. */
export function bodyParser(invalid: (error: z.ZodError) => Error) {
  return <S extends z.ZodType>(schema: S, body: unknown): z.infer<S> => {
    const result = schema.safeParse(body ?? {});
    if (!result.success) throw invalid(result.error);
    return result.data;
  };
}

/** A route parameter as a string ('' when missing). */
export function param(req: Request, name: string): string {
  const value: unknown = req.params[name];
  return typeof value === 'string' ? value : '';
}

/** `<protocol>://<host>` of the request: what the emulator's links start with unless a public URL is set. */
export function baseUrlOf(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerOf(req: Request): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  return match?.[1] ?? null;
}

export function now(): string {
  return new Date().toISOString();
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** JSON with object keys sorted at every level: the same value gives the same text (idempotency keys). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Text for HTML: `&`, `<`, `>`, `"` and `'` as numeric character references. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A vendor's result or report page: `title` as its title and heading, then `rows` as a definition list. */
export function definitionListPage(title: string, rows: [string, string][]): string {
  return [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${title}</title></head><body>`,
    `<h1>${title}</h1>`,
    '<dl>',
    ...rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`),
    '</dl>',
    '</body></html>',
  ].join('\n');
}
