import { AsyncLocalStorage } from 'node:async_hooks';
import { unsafeUrlReason } from './url-policy';

/**
 * The HTTP client below every ATS and vendor client: `requestJson` (the URL policy, a request timeout, a response
 * size limit, JSON in and out) and the errors it raises, classified once for the activities' retry decisions
 * (`ExternalApiError`: access denied, permanent, rate limited, transient).
 */

/** A non-2xx answer (or no answer) from an external API, classified for retry decisions. */
export class ExternalApiError extends Error {
  override readonly name = 'ExternalApiError';
  constructor(
    readonly service: string,
    readonly status: number | null,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** 401/403: the customer revoked our access or the key is wrong; retrying cannot help. */
  get accessDenied(): boolean {
    return this.status === 401 || this.status === 403;
  }

  /**
   * Client errors other than 408/429 are permanent: the same request will fail the same way. So is a redirect,
   * which is never followed: the connection's base URL is not the API's.
   */
  get permanent(): boolean {
    return (
      this.status !== null &&
      this.status >= 300 &&
      this.status < 500 &&
      this.status !== 408 &&
      this.status !== 429
    );
  }
}

/**
 * A URL the service may not call or write (src/integrations/url-policy.ts): nothing was sent, and the same URL is
 * refused again, so it is permanent.
 */
export class RefusedUrlError extends ExternalApiError {
  constructor(service: string, message: string) {
    super(service, null, message);
  }

  override get permanent(): boolean {
    return true;
  }
}

/** Parses a Retry-After header (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Timeout of one request when neither the caller nor its `HttpLimits` (VENDOR_REQUEST_TIMEOUT_MS) say otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** Largest response body read when the `HttpLimits` (VENDOR_RESPONSE_LIMIT_BYTES) do not say otherwise. */
export const DEFAULT_RESPONSE_LIMIT_BYTES = 5 * 1024 * 1024;

/**
 * The configured limits of every request to an ATS or vendor API (src/config.ts, validated at start), passed in
 * by whoever builds a client (src/main.ts, src/worker.ts); each one left out is its default.
 */
export interface HttpLimits {
  /** VENDOR_REQUEST_TIMEOUT_MS: the timeout of a request whose caller sets none; default 15 s. */
  requestTimeoutMs?: number;
  /** VENDOR_RESPONSE_LIMIT_BYTES: the longest response body read; default 5 MiB. */
  responseLimitBytes?: number;
}

/** The limits of the configuration (VENDOR_REQUEST_TIMEOUT_MS, VENDOR_RESPONSE_LIMIT_BYTES) as `HttpLimits`. */
export function httpLimitsOf(config: {
  VENDOR_REQUEST_TIMEOUT_MS: number;
  VENDOR_RESPONSE_LIMIT_BYTES: number;
}): HttpLimits {
  return {
    requestTimeoutMs: config.VENDOR_REQUEST_TIMEOUT_MS,
    responseLimitBytes: config.VENDOR_RESPONSE_LIMIT_BYTES,
  };
}

/** What the surrounding unit of work (an activity attempt) allows its requests: an end time and a cancel signal. */
export interface RequestBudget {
  /** Epoch ms by which every request must be over (answered or abandoned). */
  deadline?: number;
  signal?: AbortSignal;
}

const budgets = new AsyncLocalStorage<RequestBudget>();

/**
 * Runs `fn` with a request budget: every `requestJson` inside gives up by `deadline` (and on `signal`), so an
 * activity attempt ends by itself before Temporal's start-to-close timeout would start a second attempt while
 * this one still runs.
 */
export function withRequestBudget<T>(budget: RequestBudget, fn: () => Promise<T>): Promise<T> {
  return budgets.run(budget, fn);
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
  /** Tries in all when a failure is safe and quick to repeat here (see `repeatable`); 1 turns that off. */
  tries?: number;
  /** Called before every try, the first included (e.g. to take a rate-limit token). */
  beforeTry?: () => Promise<void>;
  /** Called with every failure, including the ones retried here (e.g. to slow a rate limiter down). */
  onFailure?: (err: ExternalApiError) => void;
  /** The configured default timeout (when `timeoutMs` is not given) and response limit. */
  limits?: HttpLimits;
}

/** Tries per request by default: the first and two quick retries of a failure that is safe to repeat. */
export const DEFAULT_REQUEST_TRIES = 3;

/** Backoff between quick retries: 250 ms, then 750 ms (×3), each with up to 50% jitter. */
const QUICK_RETRY_BASE_MS = 250;

/**
 * Longest wait (Retry-After included) for a quick retry inside one request. A longer wait is left to the
 * activity's retry policy, which waits on a durable timer instead of holding a worker slot.
 */
export const MAX_QUICK_RETRY_WAIT_MS = 5_000;

/**
 * Whether a failed request may be sent again at once, inside the same activity attempt: a 429 (the server did
 * not process it), or a read (GET/HEAD) that got no answer, a 408 or a 5xx. A write that got no answer or a 5xx
 * may have taken effect; it is left to the activity retry, whose code finds what was already written (and whose
 * vendor orders carry the idempotency key).
 */
export function repeatable(method: string, err: ExternalApiError): boolean {
  if (err.permanent) return false;
  if (err.status === 429) return true;
  if (method !== 'GET' && method !== 'HEAD') return false;
  return err.status === null || err.status === 408 || err.status >= 500;
}

/** Waits `ms`; false when `signal` aborted first (or already had). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Sends a JSON request and returns the parsed body; throws ExternalApiError on any failure. A failure without an
 * answer (refused or reset connection, timeout, body cut off) has status null: retryable. A failure that is safe
 * to repeat (`repeatable`) is tried again after a short backoff, or after its Retry-After when that is short,
 * as long as the request budget leaves time; every other failure goes to the caller (the activity retry).
 */
export async function requestJson(service: string, url: string, init: RequestInit = {}): Promise<unknown> {
  const method = init.method ?? 'GET';
  const tries = Math.max(1, init.tries ?? DEFAULT_REQUEST_TRIES);
  const budget = budgets.getStore();
  for (let tryNumber = 1; ; tryNumber += 1) {
    await init.beforeTry?.();
    try {
      return await requestOnce(service, url, init);
    } catch (err) {
      if (!(err instanceof ExternalApiError)) throw err;
      init.onFailure?.(err);
      if (tryNumber >= tries || !repeatable(method, err)) throw err;
      const backoff = QUICK_RETRY_BASE_MS * 3 ** (tryNumber - 1) * (1 + Math.random() / 2);
      const wait = err.retryAfterMs ?? backoff;
      if (wait > MAX_QUICK_RETRY_WAIT_MS) throw err;
      // The retry must still have time for an answer before the attempt's deadline.
      if (budget?.deadline !== undefined && Date.now() + wait + 1_000 > budget.deadline) throw err;
      if (!(await pause(wait, budget?.signal))) throw err; // the activity was cancelled
    }
  }
}

async function requestOnce(service: string, url: string, init: RequestInit): Promise<unknown> {
  const budget = budgets.getStore();
  let timeoutMs = init.timeoutMs ?? init.limits?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (budget?.deadline !== undefined) {
    const left = budget.deadline - Date.now();
    if (left <= 0) {
      throw new ExternalApiError(service, null, `${service} was not called: this attempt ran out of time`);
    }
    timeoutMs = Math.min(timeoutMs, left);
  }
  const { response, text } = await exchange(service, url, {
    method: init.method ?? 'GET',
    headers: {
      Accept: 'application/json',
      ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    timeoutMs,
    responseLimitBytes: init.limits?.responseLimitBytes,
    signal: budget?.signal,
  });
  if (!response.ok) {
    throw new ExternalApiError(
      service,
      response.status,
      `${service} answered ${response.status}: ${summarizeError(text)}`,
      parseRetryAfter(response.headers.get('retry-after')),
    );
  }
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ExternalApiError(service, response.status, `${service} answered with a body that is not JSON`);
  }
}

export interface ExchangeInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** The longest body read (VENDOR_RESPONSE_LIMIT_BYTES); default 5 MiB. */
  responseLimitBytes?: number;
  /** Ends the exchange early (an activity's cancellation). */
  signal?: AbortSignal;
}

/**
 * One HTTP request to an ATS or vendor API, the way every client sends it: only to a URL the URL policy allows
 * (else RefusedUrlError, nothing sent), without following redirects (a 3xx is returned as the answer, and
 * `ExternalApiError.permanent`), and reading at most `responseLimitBytes` (VENDOR_RESPONSE_LIMIT_BYTES) of the body: a longer one is
 * abandoned as it arrives (ExternalApiError with the answer's status). Returns the answer whatever its status;
 * throws ExternalApiError with status null when there was no complete answer (refused or reset connection, timeout,
 * body cut off).
 */
export async function exchange(
  service: string,
  url: string,
  init: ExchangeInit,
): Promise<{ response: Response; text: string }> {
  const refused = unsafeUrlReason(url);
  if (refused !== undefined) {
    throw new RefusedUrlError(
      service,
      `${service} was not called: the connection's ${service} URL ${refused}`,
    );
  }
  const timeout = AbortSignal.timeout(init.timeoutMs);
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      redirect: 'manual',
      signal: init.signal === undefined ? timeout : AbortSignal.any([timeout, init.signal]),
    });
    // Inside the try: a connection reset or the timeout while the body arrives is "no answer" too.
    return {
      response,
      text: await readLimited(service, response, init.responseLimitBytes ?? DEFAULT_RESPONSE_LIMIT_BYTES),
    };
  } catch (err) {
    if (err instanceof ExternalApiError) throw err;
    const reason = timeout.aborted
      ? `did not answer within ${init.timeoutMs} ms`
      : `could not be reached: ${networkErrorText(err)}`;
    throw new ExternalApiError(service, null, `${service} ${reason}`);
  }
}

/** The body as text, read chunk by chunk and abandoned (the connection closed) as soon as it passes `limit`. */
async function readLimited(service: string, response: Response, limit: number): Promise<string> {
  const tooLarge = () =>
    new ExternalApiError(service, response.status, `${service} answered with a body over ${limit} bytes`);
  const declared = Number(response.headers.get('content-length') ?? '');
  if (response.body === null) return '';
  if (Number.isFinite(declared) && declared > limit) {
    await response.body.cancel();
    throw tooLarge();
  }
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** fetch's "fetch failed" plus the code of its cause (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET…). */
function networkErrorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause: unknown = err.cause;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  return code === undefined ? err.message : `${err.message} (${code})`;
}

/** Email addresses in an error message (a vendor may quote the candidate's); replaced before anyone logs it. */
const EMAIL_PATTERN = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g;

/**
 * The message part of an error body, without echoing anything else the body may hold, and with any email
 * address in it replaced by `[email]`: the message goes into logs, Temporal failures and notes.
 */
function summarizeError(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    // Vendors nest it differently: { message }, { detail }, { title }, or { error: { message | description } }.
    const nested =
      typeof body.error === 'object' && body.error !== null ? (body.error as Record<string, unknown>) : {};
    const message = body.message ?? body.detail ?? body.title ?? nested.message ?? nested.description;
    if (typeof message === 'string') return message.replace(EMAIL_PATTERN, '[email]').slice(0, 300);
  } catch {
    // not JSON: fall through
  }
  return 'no error message';
}
