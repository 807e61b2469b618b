import { z } from 'zod';
import {
  hexSignatureMatches,
  hmacSha256Hex,
  signedJsonEvent,
  type SignedEventVerdict,
} from '../../integrations/signature';
import {
  exchange,
  ExternalApiError,
  parseRetryAfter,
  requestJson,
  type HttpLimits,
} from '../../integrations/http-client';
import { offeredLinkSchema } from '../../integrations/url-policy';

/**
 * Typed client of VICTIG's order API (contract: docs/vendors/victig.md). Every response is validated;
 * failures surface as ExternalApiError, except an order VICTIG refuses (422), which is a VictigRefusal.
 */

const SERVICE = 'VICTIG';
const TIMEOUT_MS = 15_000;

export const VICTIG_STATUSES = ['PENDING', 'IN_PROGRESS', 'COMPLETE', 'CANCELLED'] as const;
export type VictigStatus = (typeof VICTIG_STATUSES)[number];

/** The header carrying hex(HMAC-SHA256(callback secret, raw body)) on callbacks. */
export const VICTIG_SIGNATURE_HEADER = 'x-victig-signature';

export const victigCatalogSchema = z.object({
  products: z.array(z.object({ name: z.string() })),
  subClients: z.array(z.object({ code: z.string(), name: z.string(), city: z.string() })),
});
export type VictigCatalog = z.infer<typeof victigCatalogSchema>;

export const victigCreateOrderResponseSchema = z.object({
  orderId: z.string().min(1),
  status: z.enum(VICTIG_STATUSES),
  quickAppSent: z.boolean(),
});
export type VictigCreateOrderResponse = z.infer<typeof victigCreateOrderResponseSchema>;

export const victigResultsSchema = z.object({
  summary: z.string(),
  flagged: z.boolean(),
  decision: z.string(),
  /** Refused (dropped) when it is not a URL we may write: the results go on without it. */
  reportUrl: offeredLinkSchema,
});
export type VictigResults = z.infer<typeof victigResultsSchema>;

export const victigOrderSchema = z.object({
  orderId: z.string().min(1),
  externalId: z.string().optional(),
  status: z.enum(VICTIG_STATUSES),
  results: victigResultsSchema.nullable(),
});
export type VictigOrder = z.infer<typeof victigOrderSchema>;

export const victigErrorBodySchema = z.object({
  error: z.object({ code: z.string().min(1), description: z.string() }),
});

export const victigCallbackSchema = z.object({
  eventId: z.string().min(1).max(200),
  orderId: z.string().min(1).max(200),
  status: z.enum(VICTIG_STATUSES),
  occurredAt: z.string().max(100),
});
export type VictigCallbackEvent = z.infer<typeof victigCallbackSchema>;

/** The body of `POST /api/v1/orders`. */
export interface VictigOrderRequest {
  product: string;
  subClientCode: string | null;
  reference: string | null;
  applicant: { firstName: string; lastName: string; email: string; phone: string | null };
  position: { title: string | null; department: string | null; location: string | null };
  tags: string[];
  /** Our id for the order (the check id); echoed back by `GET /orders/:id`. */
  externalId: string;
}

/** VICTIG refused the order (422): the candidate's data or the requested product/sub-client is not acceptable. */
export class VictigRefusal extends Error {
  override readonly name = 'VictigRefusal';
  constructor(
    readonly code: string,
    readonly description: string,
  ) {
    super(`VICTIG refused the order (${code}): ${description}`);
  }
}

export function victigSignature(secret: string, rawBody: string | Buffer): string {
  return hmacSha256Hex(secret, rawBody);
}

/** Authenticates a callback (constant time) and parses its body. */
export function verifyVictigCallback(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secret: string,
): SignedEventVerdict<VictigCallbackEvent> {
  const signed =
    signatureHeader !== undefined &&
    signatureHeader !== '' &&
    hexSignatureMatches(victigSignature(secret, rawBody), signatureHeader.trim());
  return signedJsonEvent(rawBody, signed, victigCallbackSchema, {
    header: 'X-Victig-Signature',
    what: 'a VICTIG callback',
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function invalidResponse(what: string, error: z.ZodError): ExternalApiError {
  const first = error.issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.map(String).join('.')}` : '';
  return new ExternalApiError(SERVICE, null, `VICTIG answered ${what} with an unexpected body${where}`);
}

export class VictigClient {
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly responseLimitBytes: number | undefined;

  /** `limits`: the configured response limit (VENDOR_RESPONSE_LIMIT_BYTES); every request's timeout is 15 s. */
  constructor(baseUrl: string, accountId: string, apiKey: string, opts: { limits?: HttpLimits } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${accountId}:${apiKey}`).toString('base64')}`;
    this.responseLimitBytes = opts.limits?.responseLimitBytes;
  }

  private async get<T extends z.ZodType>(path: string, schema: T, what: string): Promise<z.infer<T>> {
    const raw = await requestJson(SERVICE, `${this.baseUrl}/api/v1${path}`, {
      headers: { Authorization: this.authorization },
      timeoutMs: TIMEOUT_MS,
      limits: { responseLimitBytes: this.responseLimitBytes },
    });
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw invalidResponse(what, parsed.error);
    return parsed.data;
  }

  /** The account's products and sub-clients. */
  catalog(): Promise<VictigCatalog> {
    return this.get('/catalog', victigCatalogSchema, 'the catalog');
  }

  getOrder(orderId: string): Promise<VictigOrder> {
    return this.get(`/orders/${encodeURIComponent(orderId)}`, victigOrderSchema, 'the order');
  }

  /**
   * Orders a check; VICTIG sends the applicant a QuickApp. The same key and body return the same order.
   * Throws VictigRefusal on 422, ExternalApiError on any other failure (409: key reused with another body).
   *
   * Not through requestJson: it drops error bodies, and a refusal's code and description are needed here.
   */
  async createOrder(body: VictigOrderRequest, idempotencyKey: string): Promise<VictigCreateOrderResponse> {
    const { response, text } = await exchange(SERVICE, `${this.baseUrl}/api/v1/orders`, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        Authorization: this.authorization,
        'Idempotency-Key': idempotencyKey,
      },
      body: JSON.stringify(body),
      timeoutMs: TIMEOUT_MS,
      responseLimitBytes: this.responseLimitBytes,
    });
    const json = parseJson(text);
    if (!response.ok) {
      const error = victigErrorBodySchema.safeParse(json);
      if (response.status === 422 && error.success) {
        throw new VictigRefusal(error.data.error.code, error.data.error.description);
      }
      const message = error.success ? error.data.error.description.slice(0, 300) : 'no error message';
      throw new ExternalApiError(
        SERVICE,
        response.status,
        `${SERVICE} answered ${response.status}: ${message}`,
        parseRetryAfter(response.headers.get('retry-after')),
      );
    }
    const parsed = victigCreateOrderResponseSchema.safeParse(json);
    if (!parsed.success) throw invalidResponse('the order', parsed.error);
    return parsed.data;
  }
}
