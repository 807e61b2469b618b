import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { exchange, ExternalApiError, parseRetryAfter, type HttpLimits } from '../../integrations/http-client';
import { safeUrlSchema } from '../../integrations/url-policy';

/**
 * Ashby as seen by its assessment partner (us, for one connection):
 * - we call Ashby's `POST /assessment.update` (HTTP Basic, Ashby API key as username, empty password);
 * - Ashby calls our `assessment.list`, `assessment.start` and `assessment.cancel` (bodies validated by the
 *   schemas below, authenticated with `Authorization: Bearer <partner secret>`, see docs/ashby-partner.md).
 */

const SERVICE = 'Ashby';
const DEFAULT_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------------
// assessment.update (we call Ashby)

/** Ashby's "assessment data value": one displayable field. `identifier` is unique per assessment. */
export interface AssessmentField {
  identifier: string;
  label: string;
  /** `string`, `url`, ... (`assessment_profile_url` must be `url`). */
  type: string;
  value: unknown;
  description?: string;
}
/** Short name used in the brief and the docs. */
export type Field = AssessmentField;

/** Body of `POST /assessment.update`. At least one of status, result, cancelled_reason. */
export interface AssessmentUpdate {
  assessment_id: string;
  /** When the update occurred, ms since the epoch. */
  timestamp: number;
  assessment_status?: AssessmentField;
  /** Marks the assessment complete; needs `assessment_profile_url`. */
  assessment_result?: AssessmentField;
  assessment_profile_url?: AssessmentField;
  /** Marks the assessment cancelled. */
  cancelled_reason?: AssessmentField;
  metadata?: AssessmentField[];
}

/** The status values the Justifacts integration shows in Ashby (seed 003's words), in the order they happen. */
export const ASHBY_STATUS_LABELS = [
  'Justifacts Received',
  'Started',
  'In Process Justifacts',
  'Complete',
] as const;
export type AshbyStatusLabel = (typeof ASHBY_STATUS_LABELS)[number];

/** `{ identifier: 'status', label: 'Status', type: 'string', value: label }`. */
export function statusField(label: string): AssessmentField {
  return { identifier: 'status', label: 'Status', type: 'string', value: label };
}

/** `{ identifier: 'result', label: 'Result', type: 'string', value }`. */
export function resultField(value: string): AssessmentField {
  return { identifier: 'result', label: 'Result', type: 'string', value };
}

/**
 * `{ identifier: 'profile_url', label: 'Background check report', type: 'url', value: url }`; url must be a URL we
 * may write (src/integrations/url-policy.ts).
 */
export function profileUrlField(url: string): AssessmentField {
  if (!safeUrlSchema.safeParse(url).success) {
    throw new TypeError('assessment_profile_url must be an absolute https:// URL');
  }
  return { identifier: 'profile_url', label: 'Background check report', type: 'url', value: url };
}

/** `{ identifier: 'cancelled_reason', label: 'Cancelled reason', type: 'string', value: reason }`. */
export function cancelledReasonField(reason: string): AssessmentField {
  return { identifier: 'cancelled_reason', label: 'Cancelled reason', type: 'string', value: reason };
}

/** A progress update: only `assessment_status`. */
export function statusUpdate(
  assessmentId: string,
  label: string,
  timestamp: number,
  metadata?: AssessmentField[],
): AssessmentUpdate {
  return {
    assessment_id: assessmentId,
    timestamp,
    assessment_status: statusField(label),
    ...(metadata && metadata.length > 0 ? { metadata } : {}),
  };
}

/**
 * The completion update: status `Complete`, `assessment_result` (default value `Complete`) and the result
 * URL as `assessment_profile_url` (type `url`).
 */
export function resultUpdate(input: {
  assessmentId: string;
  resultUrl: string;
  timestamp: number;
  result?: string;
  metadata?: AssessmentField[];
}): AssessmentUpdate {
  return {
    assessment_id: input.assessmentId,
    timestamp: input.timestamp,
    assessment_status: statusField('Complete'),
    assessment_result: resultField(input.result ?? 'Complete'),
    assessment_profile_url: profileUrlField(input.resultUrl),
    ...(input.metadata && input.metadata.length > 0 ? { metadata: input.metadata } : {}),
  };
}

/** Tells Ashby the assessment was cancelled on our side. */
export function cancelledUpdate(assessmentId: string, reason: string, timestamp: number): AssessmentUpdate {
  return { assessment_id: assessmentId, timestamp, cancelled_reason: cancelledReasonField(reason) };
}

/** Ashby's RPC envelope: `{ success: true, results }` or `{ success: false, errors: [...] }`. */
const ashbyEnvelopeSchema = z.looseObject({
  success: z.boolean(),
  results: z.unknown().optional(),
  errors: z.array(z.unknown()).optional(),
});

/** Error codes Ashby may answer with HTTP 200 + `success: false`, mapped to the HTTP status they mean. */
const ERROR_CODE_STATUS: Record<string, number> = {
  invalid_api_key: 401,
  unauthorized: 401,
  forbidden: 403,
  missing_permission: 403,
  assessment_not_found: 404,
  not_found: 404,
  rate_limit_exceeded: 429,
};

function errorCodes(body: unknown): string[] {
  const parsed = ashbyEnvelopeSchema.safeParse(body);
  if (!parsed.success || !parsed.data.errors) return [];
  return parsed.data.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).slice(0, 10);
}

/** The Ashby public API with the customer's API key (HTTP Basic, key as username, empty password). */
export class AshbyClient {
  private readonly authorization: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly responseLimitBytes: number | undefined;

  /** `limits`: the configured response limit (VENDOR_RESPONSE_LIMIT_BYTES); the timeout is `timeoutMs`, 15 s. */
  constructor(baseUrl: string, apiKey: string, opts: { timeoutMs?: number; limits?: HttpLimits } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.responseLimitBytes = opts.limits?.responseLimitBytes;
  }

  /**
   * `POST /assessment.update`. Resolves on `{ success: true }`; otherwise throws ExternalApiError:
   * the HTTP status when Ashby answers non-2xx, and for HTTP 200 with `success: false` the status the
   * error code means (401 invalid_api_key, 404 assessment_not_found, 429 rate limit, 400 otherwise).
   */
  async updateAssessment(update: AssessmentUpdate): Promise<void> {
    await this.call('assessment.update', update);
  }

  private async call(method: string, body: unknown): Promise<unknown> {
    const { response, text } = await exchange(SERVICE, `${this.baseUrl}/${method}`, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        Authorization: this.authorization,
      },
      body: JSON.stringify(body),
      timeoutMs: this.timeoutMs,
      responseLimitBytes: this.responseLimitBytes,
    });
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      parsed = undefined;
    }
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    if (!response.ok) {
      const codes = errorCodes(parsed);
      throw new ExternalApiError(
        SERVICE,
        response.status,
        `${SERVICE} ${method} answered ${response.status}: ${codes.length > 0 ? codes.join(', ') : 'no error code'}`,
        retryAfter,
      );
    }
    const envelope = ashbyEnvelopeSchema.safeParse(parsed);
    if (!envelope.success) {
      throw new ExternalApiError(
        SERVICE,
        response.status,
        `${SERVICE} ${method} answered ${response.status} without a { success } envelope`,
      );
    }
    if (!envelope.data.success) {
      const codes = errorCodes(parsed);
      const status = codes.map((c) => ERROR_CODE_STATUS[c]).find((s) => s !== undefined) ?? 400;
      throw new ExternalApiError(
        SERVICE,
        status,
        `${SERVICE} ${method} failed: ${codes.length > 0 ? codes.join(', ') : 'no error code'}`,
        retryAfter,
      );
    }
    return envelope.data.results;
  }
}

// ---------------------------------------------------------------------------------------------------
// What Ashby sends to the partner (our /ashby/:connectionId/assessment.* routes)

/** `Authorization: Bearer <partner secret>` of the connection, compared in constant time. */
export function ashbyPartnerAuthorized(
  authorizationHeader: string | null | undefined,
  secret: string,
): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorizationHeader ?? '');
  const given = match?.[1];
  if (given === undefined || secret === '') return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret));
}

const optionalText = z.string().nullish();

/** `POST assessment.list`: Ashby sends `{}` (or nothing); unknown keys are kept. */
export const assessmentListRequestSchema = z.looseObject({});
export type AssessmentListRequest = z.infer<typeof assessmentListRequestSchema>;

/**
 * `POST assessment.start`. `candidate.email` may be missing or empty: the schema accepts it so the route
 * can answer `422 { message }` (shown to the Ashby user) instead of a generic validation error.
 */
export const assessmentStartRequestSchema = z.looseObject({
  assessment_type_id: z.string().min(1),
  candidate: z.looseObject({
    ashby_id: z.string().min(1),
    first_name: z.string(),
    last_name: z.string(),
    email: optionalText,
    ashby_profile_url: optionalText,
  }),
  application: z
    .looseObject({
      ashby_id: z.string().min(1),
      status: optionalText,
    })
    .optional(),
  job: z
    .looseObject({
      ashby_id: z.string().min(1),
      name: z.string(),
    })
    .optional(),
});
export type AssessmentStartRequest = z.infer<typeof assessmentStartRequestSchema>;

/** `POST assessment.cancel`. */
export const assessmentCancelRequestSchema = z.looseObject({
  assessment_id: z.string().min(1),
});
export type AssessmentCancelRequest = z.infer<typeof assessmentCancelRequestSchema>;

/** What the partner answers (documented in docs/ashby-partner.md). */
export interface AssessmentType {
  assessment_type_id: string;
  name: string;
  description: string;
}
export interface AssessmentListResponse {
  results: AssessmentType[];
}
export interface AssessmentStartResponse {
  success: true;
  results: { assessment_id: string; update_request?: AssessmentUpdate };
}
export interface AssessmentCancelResponse {
  success: true;
}
/** Body of 401/404/409/422 answers to Ashby; `message` is shown to the Ashby user. */
export interface PartnerErrorResponse {
  message: string;
}
