import { z } from 'zod';
import {
  hexSignatureMatches,
  hmacSha256Hex,
  signedJsonEvent,
  type SignedEventVerdict,
} from '../../integrations/signature';
import { ExternalApiError, requestJson, type HttpLimits } from '../../integrations/http-client';
import { offeredLinkSchema } from '../../integrations/url-policy';

/**
 * Typed client of the Justifacts order API as defined in docs/vendors/justifacts.md (Justifacts has no
 * public API; that document is the contract, implemented by sandbox/justifacts-emulator.ts).
 * Every non-2xx answer is an `ExternalApiError` (service `Justifacts`) thrown by `requestJson`.
 */

const SERVICE = 'Justifacts';

export const JUSTIFACTS_ORDER_STATUSES = [
  'INVITED',
  'APPLICANT_STARTED',
  'APPLICANT_COMPLETED',
  'COMPLETED',
  'CANCELLED',
] as const;
export type JustifactsOrderStatus = (typeof JUSTIFACTS_ORDER_STATUSES)[number];

/** The header carrying a callback's signature: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const JUSTIFACTS_SIGNATURE_HEADER = 'x-justifacts-signature';

export interface JustifactsOrderRequest {
  package: { code: string; id: string };
  applicant: { firstName: string; lastName: string; email: string };
  /** Our reference for the order (the check id); echoed back, never interpreted by Justifacts. */
  reference: string;
}

const packageRefSchema = z.object({ code: z.string().min(1), id: z.string().min(1) });

export const justifactsOrderSchema = z.object({
  orderId: z.string().min(1),
  status: z.enum(JUSTIFACTS_ORDER_STATUSES),
  /** Refused (dropped) when it is not a URL we may write: the results go on without it. */
  resultUrl: offeredLinkSchema.nullable().default(null),
  reference: z.string(),
  package: packageRefSchema,
});
export type JustifactsOrder = z.infer<typeof justifactsOrderSchema>;

export const justifactsPackageSchema = z.object({
  code: z.string().min(1),
  id: z.string().min(1),
  name: z.string(),
  description: z.string().default(''),
});
export type JustifactsPackage = z.infer<typeof justifactsPackageSchema>;

const packageListSchema = z.object({ packages: z.array(justifactsPackageSchema) });

export const justifactsCallbackEventSchema = z.object({
  eventId: z.string().min(1).max(200),
  orderId: z.string().min(1).max(200),
  status: z.enum(JUSTIFACTS_ORDER_STATUSES),
  occurredAt: z.string().min(1).max(100),
});
export type JustifactsCallbackEvent = z.infer<typeof justifactsCallbackEventSchema>;

export type JustifactsCallbackVerdict = SignedEventVerdict<JustifactsCallbackEvent>;

/** The `X-Justifacts-Signature` value for a raw callback body: `sha256=<hex>`. */
export function justifactsSignature(secret: string, rawBody: string | Buffer): string {
  return `sha256=${hmacSha256Hex(secret, rawBody)}`;
}

/**
 * Authenticates a callback against its raw body (constant-time) and parses it. 401 when the signature is
 * missing or wrong, 400 when a correctly signed body is not a Justifacts callback event.
 */
export function verifyJustifactsCallback(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secret: string,
): JustifactsCallbackVerdict {
  const given = /^sha256=([0-9a-fA-F]+)$/.exec(signatureHeader?.trim() ?? '')?.[1];
  const signed = given !== undefined && hexSignatureMatches(hmacSha256Hex(secret, rawBody), given);
  return signedJsonEvent(rawBody, signed, justifactsCallbackEventSchema, {
    header: 'X-Justifacts-Signature',
    what: 'a Justifacts callback event',
  });
}

export class JustifactsClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #limits: HttpLimits | undefined;

  /**
   * `baseUrl` without the `/api/v1` suffix, e.g. the emulator's `apiBaseUrl`; `apiKey` is the JWeb credential;
   * `limits`: the configured request timeout and response limit.
   */
  constructor(baseUrl: string, apiKey: string, opts: { limits?: HttpLimits } = {}) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#apiKey = apiKey;
    this.#limits = opts.limits;
  }

  /** Orders a check (Justifacts emails the invitation). Replays with the same key return the same order. */
  async createOrder(body: JustifactsOrderRequest, idempotencyKey: string): Promise<JustifactsOrder> {
    const json = await this.#call('/orders', 'POST', body, { 'Idempotency-Key': idempotencyKey });
    return parse(justifactsOrderSchema, json);
  }

  async getOrder(orderId: string): Promise<JustifactsOrder> {
    return parse(justifactsOrderSchema, await this.#call(`/orders/${encodeURIComponent(orderId)}`));
  }

  /** Cancels an order; cancelling a cancelled order is a no-op, a completed one is a 409. */
  async cancelOrder(orderId: string): Promise<JustifactsOrder> {
    const json = await this.#call(`/orders/${encodeURIComponent(orderId)}/cancel`, 'POST', {});
    return parse(justifactsOrderSchema, json);
  }

  async listPackages(): Promise<JustifactsPackage[]> {
    return parse(packageListSchema, await this.#call('/packages')).packages;
  }

  #call(
    path: string,
    method = 'GET',
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    return requestJson(SERVICE, `${this.#baseUrl}/api/v1${path}`, {
      method,
      body,
      headers: { Authorization: `Bearer ${this.#apiKey}`, ...headers },
      limits: this.#limits,
    });
  }
}

/** Validates a 2xx body; a body that breaks the contract is an ExternalApiError naming only the fields. */
function parse<S extends z.ZodType>(schema: S, json: unknown): z.infer<S> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const fields = [...new Set(result.error.issues.map((i) => i.path.map(String).join('.') || '(root)'))];
  throw new ExternalApiError(
    SERVICE,
    null,
    `${SERVICE} answered with an unexpected body (${fields.join(', ')})`,
  );
}
