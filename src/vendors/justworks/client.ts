import { z } from 'zod';
import { ExternalApiError, requestJson, type HttpLimits } from '../../integrations/http-client';
import { offeredLinkSchema } from '../../integrations/url-policy';

/**
 * Client of the Justworks pending-hire API (contract: docs/vendors/justworks.md). Justworks has no public
 * API to create a member: the integration creates a pending hire that an admin reviews and invites.
 */

export const JUSTWORKS_SERVICE = 'Justworks';

/** The only "Type of earnings" values Justworks accepts (spec §5, seed 002). */
export const TYPES_OF_EARNINGS = ['hour (wage)', 'year (salary)'] as const;
export type TypeOfEarnings = (typeof TYPES_OF_EARNINGS)[number];

export const MEMBER_TYPES = ['employee', 'contractor'] as const;
export type MemberType = (typeof MEMBER_TYPES)[number];

export const EXEMPTION_STATUSES = ['exempt', 'non-exempt'] as const;
export type ExemptionStatus = (typeof EXEMPTION_STATUSES)[number];

export const PENDING_HIRE_STATUSES = ['pending', 'invited'] as const;
export type PendingHireStatus = (typeof PENDING_HIRE_STATUSES)[number];

/** The permission an admin needs to receive the hire notification. */
export const MANAGE_EMPLOYEES_PERMISSION = 'manage_employees';

const text = (max: number) => z.string().trim().min(1).max(max);

/** The compensation object of a pending hire (exactly these fields). */
export const compensationSchema = z
  .object({
    amount: z.number().positive(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD'),
    type_of_earnings: z.enum(TYPES_OF_EARNINGS),
  })
  .strict();

/**
 * The body of `POST /v1/pending_hires`, exactly: every field required (null where allowed), no other field.
 * In particular there is no field for files or resumes; they are never sent. Only the opportunity id, the
 * names and the home email cannot be null: everything else may be left out, for the admin to complete in
 * Review & Invite (seed 002: a hire is synced whether or not its offer is signed).
 */
export const pendingHireSchema = z
  .object({
    external_id: text(200),
    member_type: z.enum(MEMBER_TYPES).nullable(),
    first_name: text(100),
    last_name: text(100),
    home_email: z.email(),
    title: text(200).nullable(),
    department: text(200).nullable(),
    office: text(200).nullable(),
    manager: text(200).nullable(),
    start_date: z.iso.date().nullable(),
    compensation: compensationSchema.nullable(),
    exemption_status: z.enum(EXEMPTION_STATUSES).nullable(),
  })
  .strict();
/** The request body of a pending hire. */
export type PendingHire = z.infer<typeof pendingHireSchema>;

/** A pending hire as the API returns it: the request fields plus id, status, review link and creation time. */
export const pendingHireRecordSchema = z.object({
  ...pendingHireSchema.shape,
  compensation: z.object(compensationSchema.shape).nullable(),
  id: z.string().min(1),
  status: z.enum(PENDING_HIRE_STATUSES),
  /** Refused (dropped) when it is not a URL we may write: the e-mail and the note go without it. */
  review_url: offeredLinkSchema,
  created_at: z.string().min(1),
});
export type PendingHireRecord = z.infer<typeof pendingHireRecordSchema>;

export const justworksAdminSchema = z.object({
  email: z.email(),
  name: z.string().nullable(),
  permissions: z.array(z.string()),
});
export type JustworksAdmin = z.infer<typeof justworksAdminSchema>;

export const justworksCompanySchema = z.object({ id: z.string().min(1), name: z.string() });
export type JustworksCompany = z.infer<typeof justworksCompanySchema>;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * A pending hire refused before any byte was sent (it does not match `pendingHireSchema`, e.g. an unknown
 * field or a type of earnings Justworks does not accept). Status 422, so it is permanent: not retried.
 */
export class JustworksInvalidPendingHireError extends ExternalApiError {
  constructor(readonly issues: string[]) {
    super(JUSTWORKS_SERVICE, 422, `Justworks pending hire not sent, it is invalid: ${issues.join('; ')}`);
  }
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map(
    (i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(body)'}: ${i.message}`,
  );
}

function parseResponse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new ExternalApiError(
      JUSTWORKS_SERVICE,
      null,
      `Justworks answered with an unexpected ${what}: ${issuesOf(result.error).slice(0, 5).join('; ')}`,
    );
  }
  return result.data;
}

export class JustworksClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number | undefined;
  readonly #limits: HttpLimits | undefined;

  /** `limits`: the configured request timeout (when `timeoutMs` is not given) and response limit. */
  constructor(baseUrl: string, apiKey: string, opts: { timeoutMs?: number; limits?: HttpLimits } = {}) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#apiKey = apiKey;
    this.#timeoutMs = opts.timeoutMs;
    this.#limits = opts.limits;
  }

  #call(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    return requestJson(JUSTWORKS_SERVICE, `${this.#baseUrl}${path}`, {
      method: init.method ?? 'GET',
      body: init.body,
      headers: { Authorization: `Bearer ${this.#apiKey}`, ...init.headers },
      timeoutMs: this.#timeoutMs,
      limits: this.#limits,
    });
  }

  /**
   * Creates the pending hire, or returns the existing one for the same idempotency key or external_id
   * (retries never create a second). The body is checked against `pendingHireSchema` first: only those
   * fields are ever sent.
   */
  async createPendingHire(body: PendingHire, idempotencyKey: string): Promise<PendingHireRecord> {
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new JustworksInvalidPendingHireError(['Idempotency-Key: 1 to 255 visible ASCII characters']);
    }
    const parsed = pendingHireSchema.safeParse(body);
    if (!parsed.success) throw new JustworksInvalidPendingHireError(issuesOf(parsed.error));
    const answer = await this.#call('/v1/pending_hires', {
      method: 'POST',
      body: parsed.data,
      headers: { 'Idempotency-Key': idempotencyKey },
    });
    return parseResponse(pendingHireRecordSchema, answer, 'pending hire');
  }

  async getPendingHire(id: string): Promise<PendingHireRecord> {
    const answer = await this.#call(`/v1/pending_hires/${encodeURIComponent(id)}`);
    return parseResponse(pendingHireRecordSchema, answer, 'pending hire');
  }

  async listPendingHires(
    filter: { externalId?: string; status?: PendingHireStatus } = {},
  ): Promise<PendingHireRecord[]> {
    const query = new URLSearchParams();
    if (filter.externalId !== undefined) query.set('external_id', filter.externalId);
    if (filter.status !== undefined) query.set('status', filter.status);
    const qs = query.toString() === '' ? '' : `?${query.toString()}`;
    const answer = await this.#call(`/v1/pending_hires${qs}`);
    return parseResponse(z.object({ data: z.array(pendingHireRecordSchema) }), answer, 'pending hire list')
      .data;
  }

  /** The company behind the API key (verifies the credentials). */
  async getCompany(): Promise<JustworksCompany> {
    return parseResponse(justworksCompanySchema, await this.#call('/v1/company'), 'company');
  }

  /** Admins holding `permission` (default: those who must get the hire notification). */
  async listAdmins(permission: string = MANAGE_EMPLOYEES_PERMISSION): Promise<JustworksAdmin[]> {
    const answer = await this.#call(`/v1/admins?permission=${encodeURIComponent(permission)}`);
    return parseResponse(z.object({ data: z.array(justworksAdminSchema) }), answer, 'admin list').data;
  }
}
