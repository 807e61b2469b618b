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

  /** Client errors other than 408/429 are permanent: the same request will fail the same way. */
  get permanent(): boolean {
    return (
      this.status !== null &&
      this.status >= 400 &&
      this.status < 500 &&
      this.status !== 408 &&
      this.status !== 429
    );
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

/** Sends a JSON request and returns the parsed body; throws ExternalApiError on any failure. */
export async function requestJson(
  service: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number },
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        Accept: 'application/json',
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
    });
  } catch (err) {
    throw new ExternalApiError(service, null, `${service} could not be reached: ${(err as Error).message}`);
  }
  const text = await response.text();
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

/** The message part of an error body, without echoing anything else the body may hold. */
function summarizeError(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    // Vendors nest it differently: { message }, { detail }, { title }, or { error: { message | description } }.
    const nested =
      typeof body.error === 'object' && body.error !== null ? (body.error as Record<string, unknown>) : {};
    const message = body.message ?? body.detail ?? body.title ?? nested.message ?? nested.description;
    if (typeof message === 'string') return message.slice(0, 300);
  } catch {
    // not JSON: fall through
  }
  return 'no error message';
}
