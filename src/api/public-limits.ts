import { Router, type Request, type RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Options, type RateLimitInfo } from 'express-rate-limit';
import type { Logger } from '../logger';
import type { ConnectionReader } from './connection-cache';
import { sendProblem } from './problem';

export interface PublicLimitSettings {
  /** Window of every count (ms); a limited client is told to come back when its window ends. */
  windowMs: number;
  /** Refused requests per source, and per source and connection, in a window. */
  sourceRefused: number;
  /** Accepted requests per connection in a window. */
  connectionAccepted: number;
}

export interface PublicLimitDeps {
  settings: PublicLimitSettings;
  /** The public routes' connection reads (cached): tell a known connection from an unknown id. */
  connections: ConnectionReader;
  logger: Logger;
}

/** The public routes that name a connection. */
const CONNECTION_PATHS = [
  '/webhooks/lever/:connectionId',
  '/callbacks/:vendor/:connectionId',
  '/ashby/:connectionId',
  '/reports/:connectionId',
];
/** Everything else under the public prefixes (wrong paths, unknown vendors) and the codec endpoint. */
const OTHER_PUBLIC_PATHS = ['/webhooks', '/callbacks', '/ashby', '/reports', '/codec'];

/** The answer once a limit is reached: 429 problem+json, with Retry-After the seconds left of the window. */
function tooManyRequests(detail: string): Options['handler'] {
  return (req, res, _next, options) => {
    const info = (req as unknown as Record<string, RateLimitInfo | undefined>)[options.requestPropertyName];
    const resetAt = info?.resetTime?.getTime() ?? Date.now() + options.windowMs;
    res.set('Retry-After', String(Math.max(1, Math.ceil((resetAt - Date.now()) / 1000))));
    sendProblem(res, 429, detail);
  };
}

/**
 * Rate limits of the public routes, checked before a body is read (README, Security: floods and rate limits).
 * A request is refused when it fails (4xx/5xx: a wrong signature, token or id) and accepted otherwise. Refused
 * requests are counted per source: against the connection named in the path when it exists, so that one
 * customer's misconfigured webhook cannot lock out others sharing Lever's or a vendor's addresses, and against
 * the source alone otherwise (unknown ids, wrong paths, `/codec`), before the id is even looked up. Accepted
 * requests are counted per connection, whatever their source. So a flood of bad signatures is cut off at its
 * sources while the real deliveries to the same URL go on; a replayed signed delivery is bounded per connection.
 */
export function publicRouteLimits({ settings, connections, logger }: PublicLimitDeps): Router {
  const source = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');
  const connectionId = (req: Request) => {
    const id: unknown = req.params.connectionId;
    return typeof id === 'string' ? id : undefined;
  };
  /** Requests whose path names an existing connection, found by `resolveConnection`. */
  const known = new WeakSet<Request>();
  const common = {
    windowMs: settings.windowMs,
    standardHeaders: false,
    legacyHeaders: false,
    logger,
  } as const;

  const sourceLimit = rateLimit({
    ...common,
    limit: settings.sourceRefused,
    requestPropertyName: 'sourceLimit',
    skipSuccessfulRequests: true,
    // Refusals of a known connection are counted per source and connection instead.
    requestWasSuccessful: (req, res) => res.statusCode < 400 || known.has(req),
    keyGenerator: source,
    handler: tooManyRequests('Too many refused requests from this address; retry after Retry-After seconds.'),
  });
  const resolveConnection: RequestHandler = async (req, _res, next) => {
    const id = connectionId(req);
    if (id !== undefined && (await connections.findSummary(id)) !== undefined) known.add(req);
    next();
  };
  /** A limit on the requests to a known connection's URL that it counts (refused or accepted ones), by `key`. */
  const knownConnectionLimit = (
    name: string,
    counts: 'refused' | 'accepted',
    limit: number,
    key: (req: Request) => string,
    message: string,
  ) =>
    rateLimit({
      ...common,
      limit,
      requestPropertyName: name,
      skip: (req) => !known.has(req),
      ...(counts === 'refused' ? { skipSuccessfulRequests: true } : { skipFailedRequests: true }),
      keyGenerator: key,
      handler: tooManyRequests(message),
    });
  const sourceConnectionLimit = knownConnectionLimit(
    'sourceConnectionLimit',
    'refused',
    settings.sourceRefused,
    (req) => `${source(req)} ${connectionId(req)}`,
    'Too many refused requests from this address to this URL; retry after Retry-After seconds.',
  );
  const connectionLimit = knownConnectionLimit(
    'connectionLimit',
    'accepted',
    settings.connectionAccepted,
    (req) => String(connectionId(req)),
    'Too many requests to this URL; retry after Retry-After seconds.',
  );

  const router = Router();
  router.use([...CONNECTION_PATHS, ...OTHER_PUBLIC_PATHS], sourceLimit);
  router.use(CONNECTION_PATHS, resolveConnection, sourceConnectionLimit, connectionLimit);
  return router;
}
