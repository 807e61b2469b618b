import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import createError, { isHttpError } from 'http-errors';
import type { Logger } from '../logger';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

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

/** Every error becomes problem+json; 4xx explain themselves, 5xx are logged and say nothing internal. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (isHttpError(err) && err.status < 500) {
      const detail =
        err.type === 'entity.too.large'
          ? 'The request body is larger than this endpoint accepts.'
          : err.type === 'entity.parse.failed'
            ? 'The request body is not valid JSON.'
            : err.expose
              ? err.message
              : 'The request was not accepted.';
      return sendProblem(res, err.status, detail);
    }
    logger.error(
      { err, method: req.method, path: (req.route as { path?: string } | undefined)?.path ?? 'unmatched' },
      'request failed',
    );
    if (res.headersSent) return;
    sendProblem(res, 500, 'The server failed to handle the request; it has been logged.');
  };
}
