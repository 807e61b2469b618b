import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { clone, emulatorApp, errorHandler, param, startEmulator } from './kit';
import type { Running } from './kit';

/**
 * Emulator of Ashby's side of the assessment partner API. It answers `POST /assessment.update` like
 * Ashby (HTTP Basic with an organization's API key, RPC envelope `{ success, results | errors }`), and it
 * plays Ashby calling a partner (our service, one connection): `assessment.list`, `assessment.start`,
 * `assessment.cancel` with `Authorization: Bearer <partner secret>`. Assessments become known to the
 * emulator only when a partner answered a start with an `assessment_id`; updates for any other id are
 * refused with `assessment_not_found`. Control endpoints (no auth) live under `/_sandbox/*`.
 */

export interface AshbyEmulatorOptions {
  port?: number;
  /**
   * Answer errors the way much of Ashby's RPC API does: HTTP 200 with `{ success: false, errors }`.
   * Default false: 400/401/404 with the same body.
   */
  errorsWithStatus200?: boolean;
  /** Timeout of each call to a partner. Default 10 s. */
  partnerTimeoutMs?: number;
}

/** One `{ identifier, label, type, value, description? }` value as Ashby accepts it. */
export interface AshbyAssessmentField {
  identifier: string;
  label: string;
  type: string;
  value: unknown;
  description?: string;
}

/** An accepted `assessment.update` body, as validated. */
export interface AshbyAssessmentUpdate {
  assessment_id: string;
  timestamp: number;
  assessment_status?: AshbyAssessmentField;
  assessment_result?: AshbyAssessmentField;
  assessment_profile_url?: AshbyAssessmentField;
  cancelled_reason?: AshbyAssessmentField;
  metadata?: AshbyAssessmentField[];
}

export interface AshbyCandidate {
  ashby_id: string;
  first_name: string;
  last_name: string;
  email?: string | null;
  ashby_profile_url: string;
}

export interface AshbyJob {
  ashby_id: string;
  name: string;
}

export interface AshbyApplication {
  ashby_id: string;
  status: string;
}

/** Ashby's view of one assessment. */
export interface AshbyAssessmentState {
  id: string;
  partner: string;
  candidate: AshbyCandidate;
  application: AshbyApplication;
  job: AshbyJob;
  assessmentTypeId: string;
  /** The value of the latest `assessment_status` (e.g. `Received`), or null before the first one. */
  status: string | null;
  statusField: AshbyAssessmentField | null;
  /** Timestamp of the first update whose status was `Started`. */
  startedAt: number | null;
  /** The `assessment_result` field once one was sent (the assessment is then complete). */
  result: AshbyAssessmentField | null;
  completed: boolean;
  /** The value of the latest `assessment_profile_url`. */
  profileUrl: string | null;
  /** True after a partner `cancelled_reason` or a successful `assessment.cancel` call. */
  cancelled: boolean;
  cancelledReason: string | null;
  /** Latest metadata values by identifier. */
  metadata: AshbyAssessmentField[];
  /** Timestamp of the update the current status comes from. */
  lastUpdateTimestamp: number | null;
}

export interface RegisterPartnerInput {
  /** Unique name of the partner in the emulator (e.g. `justifacts-<connectionId>`). */
  name: string;
  /** e.g. `http://127.0.0.1:8080/ashby/<connectionId>`; methods are appended as `/assessment.start`. */
  baseUrl: string;
  /** Shared secret sent as `Authorization: Bearer <secret>`. */
  secret: string;
  /** The Ashby API key the partner uses for `assessment.update`; its organization owns the assessments. */
  apiKey: string;
}

export interface StartAssessmentInput {
  assessmentTypeId: string;
  candidate: { firstName: string; lastName: string; email?: string | null };
  job: { name: string };
  /** Reuse an Ashby candidate id (start twice for the same candidate); a new uuid otherwise. */
  candidateAshbyId?: string;
  applicationAshbyId?: string;
  jobAshbyId?: string;
}

/** The body Ashby posts to `assessment.start`. */
export interface AshbyStartRequestBody {
  assessment_type_id: string;
  candidate: AshbyCandidate;
  application: AshbyApplication;
  job: AshbyJob;
}

export type AshbyPartnerMethod = 'assessment.list' | 'assessment.start' | 'assessment.cancel';

export interface PartnerCallResult {
  status: number;
  /** Parsed JSON, the raw text when not JSON, or null when empty. */
  body: unknown;
}

export interface StartAssessmentResult extends PartnerCallResult {
  /** What was sent. */
  request: AshbyStartRequestBody;
  /** The assessment now known to the emulator, or null when the partner did not accept the start. */
  assessmentId: string | null;
}

/** One call the emulator made to a partner. */
export interface AshbyPartnerCall {
  at: string;
  partner: string;
  method: AshbyPartnerMethod;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  status: number | null;
  responseBody: unknown;
  error: string | null;
}

/** An `assessment.update` request the emulator refused. */
export interface AshbyRejectedUpdate {
  at: string;
  status: number;
  errors: string[];
  body: unknown;
}

/** An error with the HTTP status the control endpoints answer with. */
export class AshbyEmulatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AshbyEmulatorError';
  }
}

interface Organization {
  apiKey: string;
  revoked: boolean;
}

interface Partner {
  name: string;
  baseUrl: string;
  secret: string;
  apiKey: string;
}

interface AssessmentEntry {
  apiKey: string;
  state: AshbyAssessmentState;
  updates: AshbyAssessmentUpdate[];
}

const DEFAULT_PARTNER_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------------
// assessment.update validation (Ashby's rules)

const fieldSchema = z
  .object({
    identifier: z.string({ error: 'identifier must be a string' }).min(1, { error: 'identifier is empty' }),
    label: z.string({ error: 'label must be a string' }),
    type: z.string({ error: 'type must be a string' }).min(1, { error: 'type is empty' }),
    value: z.unknown(),
    description: z.string().optional(),
  })
  .refine((f) => f.value !== undefined, { error: 'value is required', path: ['value'] });

function isAbsoluteHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const updateSchema = z
  .object({
    assessment_id: z
      .string({ error: 'assessment_id is required' })
      .min(1, { error: 'assessment_id is empty' }),
    timestamp: z
      .number({ error: 'timestamp (ms since the epoch) is required' })
      .int({ error: 'timestamp must be an integer' })
      .nonnegative({ error: 'timestamp must not be negative' }),
    assessment_status: fieldSchema.optional(),
    assessment_result: fieldSchema.optional(),
    assessment_profile_url: fieldSchema.optional(),
    cancelled_reason: fieldSchema.optional(),
    metadata: z.array(fieldSchema).optional(),
  })
  .superRefine((u, ctx) => {
    if (!u.assessment_status && !u.assessment_result && !u.cancelled_reason) {
      ctx.addIssue({
        code: 'custom',
        message: 'one of assessment_status, assessment_result or cancelled_reason is required',
      });
    }
    if (u.assessment_result && !u.assessment_profile_url) {
      ctx.addIssue({
        code: 'custom',
        path: ['assessment_profile_url'],
        message: 'assessment_profile_url is required with assessment_result',
      });
    }
    if (u.assessment_profile_url) {
      if (u.assessment_profile_url.type !== 'url') {
        ctx.addIssue({
          code: 'custom',
          path: ['assessment_profile_url', 'type'],
          message: "assessment_profile_url must be of type 'url'",
        });
      }
      if (!isAbsoluteHttpUrl(u.assessment_profile_url.value)) {
        ctx.addIssue({
          code: 'custom',
          path: ['assessment_profile_url', 'value'],
          message: 'assessment_profile_url value must be an absolute URL',
        });
      }
    }
    const seen = new Set<string>();
    for (const [i, field] of (u.metadata ?? []).entries()) {
      if (seen.has(field.identifier)) {
        ctx.addIssue({
          code: 'custom',
          path: ['metadata', i, 'identifier'],
          message: `duplicate metadata identifier ${field.identifier}`,
        });
      }
      seen.add(field.identifier);
    }
  });

function issueMessages(error: z.ZodError): string[] {
  return error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message,
  );
}

/** A refused `assessment.update`: HTTP status and Ashby error codes/messages. */
class UpdateRefused extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '));
  }
}

// ---------------------------------------------------------------------------------------------------
// Control input schemas

const addOrganizationSchema = z.object({ apiKey: z.string().min(1) });
const registerPartnerSchema = z.object({
  name: z.string().min(1),
  baseUrl: z.url({ protocol: /^https?$/ }),
  secret: z.string().min(1),
  apiKey: z.string().min(1),
});
const startInputSchema = z.object({
  assessmentTypeId: z.string().min(1),
  candidate: z.object({
    firstName: z.string(),
    lastName: z.string(),
    email: z.string().nullish(),
  }),
  job: z.object({ name: z.string() }),
  candidateAshbyId: z.string().min(1).optional(),
  applicationAshbyId: z.string().min(1).optional(),
  jobAshbyId: z.string().min(1).optional(),
});
const cancelInputSchema = z.object({ assessmentId: z.string().min(1) });
const failUpdatesSchema = z.object({
  count: z.number().int().nonnegative(),
  status: z.number().int().min(400).max(599).optional(),
});

function parseControl<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new AshbyEmulatorError(400, `invalid ${what}: ${issueMessages(parsed.error).join('; ')}`);
  }
  return parsed.data;
}

const startResponseSchema = z.looseObject({
  success: z.literal(true),
  results: z.looseObject({ assessment_id: z.string().min(1), update_request: z.unknown().optional() }),
});

// ---------------------------------------------------------------------------------------------------
// The emulator

export class AshbyEmulator {
  readonly errorsWithStatus200: boolean;
  readonly partnerTimeoutMs: number;

  #organizations = new Map<string, Organization>();
  #partners = new Map<string, Partner>();
  #assessments = new Map<string, AssessmentEntry>();
  #rejected: AshbyRejectedUpdate[] = [];
  #partnerCalls: AshbyPartnerCall[] = [];
  #failUpdates: { count: number; status: number } = { count: 0, status: 503 };
  #shutdown = new AbortController();

  constructor(opts: AshbyEmulatorOptions = {}) {
    this.errorsWithStatus200 = opts.errorsWithStatus200 ?? false;
    this.partnerTimeoutMs = opts.partnerTimeoutMs ?? DEFAULT_PARTNER_TIMEOUT_MS;
  }

  // ----- organizations and keys

  /** An organization whose API key is accepted by `assessment.update`. Re-adding a key un-revokes it. */
  addOrganization(input: { apiKey: string }): { apiKey: string } {
    const { apiKey } = parseControl(addOrganizationSchema, input, 'organization');
    this.#organizations.set(apiKey, { apiKey, revoked: false });
    return { apiKey };
  }

  /** The key stops working (401 `invalid_api_key`); assessments and records stay. */
  revokeApiKey(apiKey: string): void {
    const org = this.#organizations.get(apiKey);
    if (!org) throw new AshbyEmulatorError(404, 'unknown API key');
    org.revoked = true;
  }

  /** True when the key belongs to an organization and is not revoked. */
  authenticate(apiKey: string | null | undefined): boolean {
    if (!apiKey) return false;
    const org = this.#organizations.get(apiKey);
    return org !== undefined && !org.revoked;
  }

  // ----- partners

  /**
   * Registers (or replaces) a partner: our service for one connection. Adds the API key's organization
   * when it does not exist yet (a revoked key stays revoked).
   */
  registerPartner(input: RegisterPartnerInput): { name: string; baseUrl: string } {
    const p = parseControl(registerPartnerSchema, input, 'partner');
    if (!this.#organizations.has(p.apiKey)) this.addOrganization({ apiKey: p.apiKey });
    const baseUrl = p.baseUrl.replace(/\/+$/, '');
    this.#partners.set(p.name, { name: p.name, baseUrl, secret: p.secret, apiKey: p.apiKey });
    return { name: p.name, baseUrl };
  }

  partners(): { name: string; baseUrl: string }[] {
    return [...this.#partners.values()].map(({ name, baseUrl }) => ({ name, baseUrl }));
  }

  // ----- acting as Ashby, calling the partner

  /** Any partner method with any body; never throws for an HTTP answer (only when unreachable: 502). */
  async callPartner(
    partnerName: string,
    method: AshbyPartnerMethod,
    body: unknown,
  ): Promise<PartnerCallResult> {
    const partner = this.#partner(partnerName);
    const url = `${partner.baseUrl}/${method}`;
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      Authorization: `Bearer ${partner.secret}`,
    };
    const call: AshbyPartnerCall = {
      at: new Date().toISOString(),
      partner: partner.name,
      method,
      url,
      headers: clone(headers),
      body: clone(body),
      status: null,
      responseBody: null,
      error: null,
    };
    this.#partnerCalls.push(call);
    let response: globalThis.Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.any([this.#shutdown.signal, AbortSignal.timeout(this.partnerTimeoutMs)]),
      });
    } catch (err) {
      call.error = (err as Error).message;
      throw new AshbyEmulatorError(502, `partner ${partner.name} could not be reached: ${call.error}`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        parsed = text;
      }
    }
    call.status = response.status;
    call.responseBody = clone(parsed);
    return { status: response.status, body: parsed };
  }

  /** `assessment.list` with `{}`; returns the response body. Throws 502 when the partner answers non-2xx. */
  async listAssessments(partnerName: string): Promise<unknown> {
    const res = await this.callPartner(partnerName, 'assessment.list', {});
    if (res.status < 200 || res.status >= 300) {
      throw new AshbyEmulatorError(502, `partner ${partnerName} answered assessment.list with ${res.status}`);
    }
    return res.body;
  }

  /**
   * `assessment.start` for a new (or, with `candidateAshbyId`, the same) candidate. A 2xx answer
   * `{ success: true, results: { assessment_id } }` makes the assessment known (later updates are
   * accepted); an `update_request` in the results is applied as a first update when valid.
   */
  async startAssessment(partnerName: string, input: StartAssessmentInput): Promise<StartAssessmentResult> {
    const partner = this.#partner(partnerName);
    const i = parseControl(startInputSchema, input, 'start input');
    const candidateId = i.candidateAshbyId ?? randomUUID();
    const candidate: AshbyCandidate = {
      ashby_id: candidateId,
      first_name: i.candidate.firstName,
      last_name: i.candidate.lastName,
      ...(i.candidate.email === undefined ? {} : { email: i.candidate.email }),
      ashby_profile_url: `https://app.ashbyhq.com/candidates/${candidateId}`,
    };
    const request: AshbyStartRequestBody = {
      assessment_type_id: i.assessmentTypeId,
      candidate,
      application: { ashby_id: i.applicationAshbyId ?? randomUUID(), status: 'Active' },
      job: { ashby_id: i.jobAshbyId ?? randomUUID(), name: i.job.name },
    };
    const res = await this.callPartner(partner.name, 'assessment.start', request);
    const accepted = res.status >= 200 && res.status < 300 ? startResponseSchema.safeParse(res.body) : null;
    if (!accepted?.success) return { ...res, request: clone(request), assessmentId: null };

    const assessmentId = accepted.data.results.assessment_id;
    if (!this.#assessments.has(assessmentId)) {
      this.#assessments.set(assessmentId, {
        apiKey: partner.apiKey,
        updates: [],
        state: {
          id: assessmentId,
          partner: partner.name,
          candidate: clone(candidate),
          application: clone(request.application),
          job: clone(request.job),
          assessmentTypeId: i.assessmentTypeId,
          status: null,
          statusField: null,
          startedAt: null,
          result: null,
          completed: false,
          profileUrl: null,
          cancelled: false,
          cancelledReason: null,
          metadata: [],
          lastUpdateTimestamp: null,
        },
      });
    }
    const updateRequest = accepted.data.results.update_request;
    if (typeof updateRequest === 'object' && updateRequest !== null && !Array.isArray(updateRequest)) {
      try {
        this.#applyUpdate(partner.apiKey, { assessment_id: assessmentId, ...updateRequest });
      } catch (err) {
        if (!(err instanceof UpdateRefused)) throw err;
      }
    }
    return { ...res, request: clone(request), assessmentId };
  }

  /** `assessment.cancel` with `{ assessment_id }`; a 2xx answer marks a known assessment cancelled. */
  async cancelAssessment(partnerName: string, assessmentId: string): Promise<PartnerCallResult> {
    const res = await this.callPartner(partnerName, 'assessment.cancel', { assessment_id: assessmentId });
    const entry = this.#assessments.get(assessmentId);
    if (entry && res.status >= 200 && res.status < 300) entry.state.cancelled = true;
    return res;
  }

  // ----- assessment.update (the partner calls Ashby)

  /**
   * Handles one `assessment.update` as Ashby would. Returns the HTTP status and body to answer with;
   * accepted updates are recorded per assessment, in arrival order.
   */
  handleUpdate(apiKey: string | null, body: unknown): { status: number; body: unknown } {
    try {
      if (!this.authenticate(apiKey)) throw new UpdateRefused(401, ['invalid_api_key']);
      if (this.#failUpdates.count > 0) {
        this.#failUpdates.count -= 1;
        throw new UpdateRefused(this.#failUpdates.status, ['service_unavailable']);
      }
      this.#applyUpdate(apiKey ?? '', body);
      return { status: 200, body: { success: true, results: {} } };
    } catch (err) {
      if (!(err instanceof UpdateRefused)) throw err;
      this.#rejected.push({
        at: new Date().toISOString(),
        status: err.status,
        errors: err.errors,
        body: clone(body),
      });
      const status = this.errorsWithStatus200 && err.status < 500 ? 200 : err.status;
      return { status, body: { success: false, errors: err.errors } };
    }
  }

  /** The next `count` updates fail with `status` (default 503) before any other check but the API key. */
  failUpdates(count: number, status = 503): void {
    const p = parseControl(failUpdatesSchema, { count, status }, 'failUpdates');
    this.#failUpdates = { count: p.count, status: p.status ?? 503 };
  }

  // ----- inspection

  /** Accepted updates of one assessment, in the order they arrived ([] when unknown). */
  updates(assessmentId: string): AshbyAssessmentUpdate[] {
    return clone(this.#assessments.get(assessmentId)?.updates ?? []);
  }

  assessment(assessmentId: string): AshbyAssessmentState {
    const entry = this.#assessments.get(assessmentId);
    if (!entry) throw new AshbyEmulatorError(404, `unknown assessment ${assessmentId}`);
    return clone(entry.state);
  }

  assessments(): AshbyAssessmentState[] {
    return [...this.#assessments.values()].map((e) => clone(e.state));
  }

  rejectedUpdates(): AshbyRejectedUpdate[] {
    return clone(this.#rejected);
  }

  partnerCalls(): AshbyPartnerCall[] {
    return clone(this.#partnerCalls);
  }

  /** Aborts partner calls in flight. */
  stop(): void {
    this.#shutdown.abort();
  }

  // ----- internals

  #partner(name: string): Partner {
    const partner = this.#partners.get(name);
    if (!partner) throw new AshbyEmulatorError(404, `unknown partner ${name}`);
    return partner;
  }

  #applyUpdate(apiKey: string, body: unknown): void {
    const parsed = updateSchema.safeParse(body);
    if (!parsed.success) throw new UpdateRefused(400, issueMessages(parsed.error));
    const update: AshbyAssessmentUpdate = parsed.data;
    const entry = this.#assessments.get(update.assessment_id);
    // Assessments of another organization are invisible to this key.
    if (!entry || entry.apiKey !== apiKey) throw new UpdateRefused(404, ['assessment_not_found']);

    entry.updates.push(clone(update));
    const state = entry.state;
    // The status shown is the one of the most recent update by timestamp (ties: the later arrival).
    const latest = state.lastUpdateTimestamp === null || update.timestamp >= state.lastUpdateTimestamp;
    if (update.assessment_status) {
      if (update.assessment_status.value === 'Started' && state.startedAt === null) {
        state.startedAt = update.timestamp;
      }
      if (latest) {
        state.statusField = clone(update.assessment_status);
        const value = update.assessment_status.value;
        state.status = typeof value === 'string' ? value : JSON.stringify(value);
      }
    }
    if (latest) state.lastUpdateTimestamp = update.timestamp;
    if (update.assessment_result) {
      state.result = clone(update.assessment_result);
      state.completed = true;
    }
    if (update.assessment_profile_url) state.profileUrl = String(update.assessment_profile_url.value);
    if (update.cancelled_reason) {
      state.cancelled = true;
      const value = update.cancelled_reason.value;
      state.cancelledReason = typeof value === 'string' ? value : JSON.stringify(value);
    }
    for (const field of update.metadata ?? []) {
      const at = state.metadata.findIndex((m) => m.identifier === field.identifier);
      if (at >= 0) state.metadata[at] = clone(field);
      else state.metadata.push(clone(field));
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP

/** The API key from `Authorization: Basic base64(key:)` (the password is ignored). */
function basicApiKey(req: Request): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.get('authorization') ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon >= 0 ? decoded.slice(0, colon) : decoded;
  return key === '' ? null : key;
}

export function createAshbyEmulatorApp(emulator: AshbyEmulator): express.Express {
  const app = emulatorApp();
  app.use(express.json({ limit: '1mb' }));

  // ----- Ashby's API

  app.post('/assessment.update', (req, res) => {
    const answer = emulator.handleUpdate(basicApiKey(req), req.body as unknown);
    res.status(answer.status).json(answer.body);
  });

  // ----- sandbox control (no auth)

  const sandbox = express.Router();
  sandbox.post('/organizations', (req, res) => {
    res.status(201).json(emulator.addOrganization(req.body as { apiKey: string }));
  });
  sandbox.delete('/organizations/:apiKey', (req, res) => {
    emulator.revokeApiKey(param(req, 'apiKey'));
    res.status(204).end();
  });
  sandbox.get('/partners', (_req, res) => {
    res.json(emulator.partners());
  });
  sandbox.post('/partners', (req, res) => {
    res.status(201).json(emulator.registerPartner(req.body as RegisterPartnerInput));
  });
  sandbox.post('/partners/:name/list', async (req, res) => {
    res.json(await emulator.listAssessments(param(req, 'name')));
  });
  sandbox.post('/partners/:name/start', async (req, res) => {
    res.json(await emulator.startAssessment(param(req, 'name'), req.body as StartAssessmentInput));
  });
  sandbox.post('/partners/:name/cancel', async (req, res) => {
    const { assessmentId } = parseControl(cancelInputSchema, req.body as unknown, 'cancel input');
    res.json(await emulator.cancelAssessment(param(req, 'name'), assessmentId));
  });
  sandbox.get('/partner-calls', (_req, res) => {
    res.json(emulator.partnerCalls());
  });
  sandbox.get('/assessments', (_req, res) => {
    res.json(emulator.assessments());
  });
  sandbox.get('/assessments/:id', (req, res) => {
    res.json(emulator.assessment(param(req, 'id')));
  });
  sandbox.get('/assessments/:id/updates', (req, res) => {
    res.json(emulator.updates(param(req, 'id')));
  });
  sandbox.get('/rejected-updates', (_req, res) => {
    res.json(emulator.rejectedUpdates());
  });
  sandbox.post('/fail-updates', (req, res) => {
    const body = parseControl(failUpdatesSchema, req.body as unknown, 'failUpdates');
    emulator.failUpdates(body.count, body.status);
    res.json({ ok: true });
  });
  app.use('/_sandbox', sandbox);

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ success: false, errors: ['not_found'] });
  });

  app.use(
    errorHandler({
      own: (err, res) => {
        if (!(err instanceof AshbyEmulatorError)) return false;
        res.status(err.status).json({ success: false, errors: [err.message] });
        return true;
      },
      parseFailed: (res) => res.status(400).json({ success: false, errors: ['invalid_json'] }),
      clientError: (res, status, message) => res.status(status).json({ success: false, errors: [message] }),
      internal: (res, message) =>
        res.status(500).json({ success: false, errors: [message ?? 'internal_error'] }),
    }),
  );
  return app;
}

/** Listening: `apiBaseUrl` (= url) is the base URL of AshbyClient (methods are `/assessment.update`); `close` also aborts partner calls in flight. */
export type RunningAshbyEmulator = Running<AshbyEmulator>;

export async function startAshbyEmulator(opts: AshbyEmulatorOptions = {}): Promise<RunningAshbyEmulator> {
  return startEmulator(new AshbyEmulator(opts), createAshbyEmulatorApp, opts.port ?? 0);
}
