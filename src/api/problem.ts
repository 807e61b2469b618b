import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, Express, RequestHandler, Response } from 'express';
import createError, { isHttpError } from 'http-errors';
import { DatabaseError } from 'pg';
import { isDatabaseUnavailable } from '../db/pool';
import type { Logger } from '../logger';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Seconds a client should wait before retrying a request that found no database connection. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Sends an RFC 9457 problem document. */
export function sendProblem(
  res: Response,
  status: number,
  detail: string,
  extra: Record<string, unknown> = {},
) {
  res
    .status(status)
    .type(PROBLEM_CONTENT_TYPE)
    .json({ type: 'about:blank', title: createError(status).message, status, detail, ...extra });
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, 404, `No route for ${req.method} ${req.path}.`);
};

/**
 * The 4xx status of an error the request caused: http-errors' (body parsing) and the router's own, which only
 * sets `status` (a path parameter whose percent-encoding does not decode).
 */
function clientErrorStatus(err: unknown): number | undefined {
  if (isHttpError(err)) return err.status < 500 ? err.status : undefined;
  const status = err instanceof Error ? (err as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/**
 * PostgreSQL refusing a value the request carried (SQLSTATE class 22, "data exception"): a NUL character in
 * text, or a NUL / an unpaired surrogate in JSON. Nothing was written: the statement failed as a whole.
 */
export const isUnstorableValue = (err: unknown) =>
  err instanceof DatabaseError && err.code?.startsWith('22') === true;

/** Every error becomes problem+json; 4xx explain themselves, 5xx are logged and say nothing internal. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const status = clientErrorStatus(err);
    if (status !== undefined) {
      const type: unknown = isHttpError(err) ? err.type : undefined;
      const detail =
        type === 'entity.too.large'
          ? 'The request body is larger than this endpoint accepts.'
          : type === 'entity.parse.failed'
            ? 'The request body is not valid JSON.'
            : isHttpError(err) && err.expose
              ? err.message
              : 'The request was not accepted.';
      return sendProblem(res, status, detail);
    }
    if (isUnstorableValue(err) && !res.headersSent) {
      return sendProblem(
        res,
        400,
        'The request carries a value that cannot be stored (e.g. a NUL character or an unpaired surrogate).',
      );
    }
    if (isDatabaseUnavailable(err) && !res.headersSent) {
      // Answered at once rather than queued: Lever and the vendors deliver again later.
      logger.warn({ err, method: req.method }, 'no database connection for the request');
      res.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      return sendProblem(res, 503, 'The service is busy; please retry the request later.');
    }
    logger.error(
      { err, method: req.method, path: (req.route as { path?: string } | undefined)?.path ?? 'unmatched' },
      'request failed',
    );
    if (res.headersSent) return;
    sendProblem(res, 500, 'The server failed to handle the request; it has been logged.');
  };
}

/** What Node itself answers when it cannot parse a request, by its error code; 400 otherwise. */
const PARSER_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/**
 * Node answers requests its HTTP parser rejects (oversized headers, control characters in a header, an unknown
 * method, contradictory framing) by itself, with an empty body, before Express sees them. This answers them with
 * the same status as problem+json, on every server `app.listen` creates.
 */
export function answerParserErrorsWithProblems(app: Express): void {
  const listen = app.listen.bind(app) as (...args: unknown[]) => Server;
  app.listen = ((...args: unknown[]) =>
    listen(...args).on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
      const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
        socket.destroy(err);
        return;
      }
      const status = PARSER_ERROR_STATUS[err.code ?? ''] ?? 400;
      const title = STATUS_CODES[status] ?? 'Bad Request';
      const body = JSON.stringify({
        type: 'about:blank',
        title,
        status,
        detail: 'The request is not valid HTTP (e.g. headers too large or with control characters).',
      });
      socket.end(
        `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    })) as Express['listen'];
}
