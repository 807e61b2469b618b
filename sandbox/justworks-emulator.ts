import { randomUUID } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { baseUrlOf, bearerOf, clone, emulatorApp, errorHandler, now, param, startEmulator } from './kit';
import type { Running } from './kit';
import { linkBaseRoutes } from './link-base';

/**
 * Emulator of the Justworks pending-hire API defined in docs/vendors/justworks.md (Justworks has no public
 * API to create a member). Companies with Bearer API keys, `POST /v1/pending_hires` validated strictly (no
 * files, only the two types of earnings) and idempotent per Idempotency-Key and per external_id, the review
 * page an admin opens from the notification e-mail, and every POST recorded (refused ones included) so
 * tests can assert what was — and was not — sent. A real HTTP server; control endpoints under `/_sandbox/*`.
 */

export const JUSTWORKS_TYPES_OF_EARNINGS = ['hour (wage)', 'year (salary)'] as const;
/** Top-level body fields that carry files; any of them answers 400 files_not_accepted. */
export const JUSTWORKS_FILE_FIELDS = [
  'files',
  'file',
  'resume',
  'resumes',
  'attachments',
  'attachment',
  'documents',
  'cv',
] as const;

export type JustworksPendingHireStatus = 'pending' | 'invited';

export interface JustworksPendingHireBody {
  external_id: string;
  member_type: 'employee' | 'contractor' | null;
  first_name: string;
  last_name: string;
  home_email: string;
  title: string | null;
  department: string | null;
  office: string | null;
  manager: string | null;
  start_date: string | null;
  compensation: { amount: number; currency: string; type_of_earnings: string } | null;
  exemption_status: 'exempt' | 'non-exempt' | null;
}

/** A pending hire as the API returns it. */
export interface JustworksPendingHire extends JustworksPendingHireBody {
  id: string;
  status: JustworksPendingHireStatus;
  review_url: string;
  created_at: string;
}

export interface JustworksAdminRecord {
  email: string;
  name: string | null;
  permissions: string[];
}

export interface JustworksCompanyRecord {
  id: string;
  name: string;
  apiKey: string;
  revoked: boolean;
  admins: JustworksAdminRecord[];
}

export interface AdminInput {
  email: string;
  name?: string | null;
  /** Default: `['manage_employees']`. */
  permissions?: string[];
}

export interface AddCompanyInput {
  apiKey: string;
  name?: string;
  /** Default: one admin, `admin@justworks-sandbox.test`, with `manage_employees`. */
  admins?: AdminInput[];
}

/** One `POST /v1/pending_hires` as received, with the answer given. */
export interface JustworksRequestRecord {
  id: string;
  at: string;
  method: 'POST';
  path: string;
  /** The Bearer token sent (null when none); recorded even when it was refused. */
  apiKey: string | null;
  idempotencyKey: string | null;
  contentType: string | null;
  /** The parsed JSON body, or the raw text (first 10,000 characters) when it was not JSON. */
  body: unknown;
  status: number;
  /** The `error` code answered, null on success. */
  error: string | null;
  pendingHireId: string | null;
  replayed: boolean;
}

/** An API answer: HTTP status and JSON body. */
export interface JustworksAnswer {
  status: number;
  body: unknown;
  replayed: boolean;
}

/** An error answered as `{ error, message, details? }` with this status. */
export class JustworksEmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'JustworksEmulatorError';
  }

  toBody(): { error: string; message: string; details?: { path: string; message: string }[] } {
    return {
      error: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

const DEFAULT_ADMIN: JustworksAdminRecord = {
  email: 'admin@justworks-sandbox.test',
  name: 'Sandbox Admin',
  permissions: ['manage_employees'],
};
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const MAX_RECORDED_TEXT = 10_000;

// ---------------------------------------------------------------------------------------------------
// Request bodies (the emulator's own reading of the contract, independent of the service's client)

const text = (max: number) => z.string().trim().min(1).max(max);

const pendingHireBodySchema = z
  .object({
    external_id: text(200),
    member_type: z.enum(['employee', 'contractor']).nullable(),
    first_name: text(100),
    last_name: text(100),
    home_email: z.email(),
    title: text(200).nullable(),
    department: text(200).nullable(),
    office: text(200).nullable(),
    manager: text(200).nullable(),
    start_date: z.iso.date().nullable(),
    compensation: z
      .object({
        amount: z.number().positive(),
        currency: z.string().regex(/^[A-Z]{3}$/, 'Expected an ISO 4217 currency code such as USD'),
        // Any string passes the shape check; values other than the two allowed answer 422 afterwards.
        type_of_earnings: z.string(),
      })
      .strict()
      .nullable(),
    exemption_status: z.enum(['exempt', 'non-exempt']).nullable(),
  })
  .strict();

const adminsSchema = z.array(
  z.object({
    email: z.email(),
    name: z.string().nullable().optional(),
    permissions: z.array(z.string().min(1)).optional(),
  }),
);

const addCompanySchema = z.object({
  apiKey: z.string().min(1),
  name: z.string().min(1).optional(),
  admins: adminsSchema.optional(),
});

const adminRecords = (admins: z.infer<typeof adminsSchema>): JustworksAdminRecord[] =>
  admins.map((a) => ({
    email: a.email,
    name: a.name ?? null,
    permissions: [...(a.permissions ?? ['manage_employees'])],
  }));

function details(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({
    path: i.path.length > 0 ? i.path.map(String).join('.') : '(body)',
    message: i.message,
  }));
}

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

// ---------------------------------------------------------------------------------------------------
// The emulator

interface HireEntry {
  companyId: string;
  data: JustworksPendingHire;
}

export class JustworksEmulator {
  /** Absolute base URL used in review_url; falls back to the request's Host header when null. */
  publicUrl: string | null = null;

  #companies = new Map<string, JustworksCompanyRecord>();
  #hires = new Map<string, HireEntry>();
  #byIdempotencyKey = new Map<string, string>();
  #byExternalId = new Map<string, string>();
  #requests: JustworksRequestRecord[] = [];

  // ----- control

  addCompany(input: AddCompanyInput): JustworksCompanyRecord {
    const parsed = addCompanySchema.safeParse(input);
    if (!parsed.success) {
      throw new JustworksEmulatorError(400, 'invalid_request', 'invalid company', details(parsed.error));
    }
    const c = parsed.data;
    if (this.#companies.has(c.apiKey)) {
      throw new JustworksEmulatorError(409, 'conflict', 'a company already uses this API key');
    }
    const company: JustworksCompanyRecord = {
      id: randomUUID(),
      name: c.name ?? 'Sandbox Company',
      apiKey: c.apiKey,
      revoked: false,
      admins: adminRecords(c.admins ?? [DEFAULT_ADMIN]),
    };
    this.#companies.set(company.apiKey, company);
    return clone(company);
  }

  /**
   * Replaces the company's admins and their permissions, as when someone changes them in Justworks: the next
   * `GET /v1/admins` reports the new list. Returns it.
   */
  setAdmins(apiKey: string, admins: AdminInput[]): JustworksAdminRecord[] {
    const company = this.#companies.get(apiKey);
    if (!company) throw new JustworksEmulatorError(404, 'not_found', 'no company with this API key');
    const parsed = adminsSchema.safeParse(admins);
    if (!parsed.success) {
      throw new JustworksEmulatorError(400, 'invalid_request', 'invalid admins', details(parsed.error));
    }
    company.admins = adminRecords(parsed.data);
    return clone(company.admins);
  }

  /** The key stops working (401); the company's pending hires stay. */
  revokeApiKey(apiKey: string): void {
    const company = this.#companies.get(apiKey);
    if (!company) throw new JustworksEmulatorError(404, 'not_found', `no company with API key ${apiKey}`);
    company.revoked = true;
  }

  /** The company behind a valid API key, or null (missing, unknown, revoked). */
  authenticate(apiKey: string | null | undefined): JustworksCompanyRecord | null {
    if (!apiKey) return null;
    const company = this.#companies.get(apiKey);
    return company && !company.revoked ? clone(company) : null;
  }

  /** Every pending hire, or those of the company behind `apiKey`; oldest first. */
  pendingHires(apiKey?: string): JustworksPendingHire[] {
    const companyId = apiKey === undefined ? undefined : this.#companies.get(apiKey)?.id;
    if (apiKey !== undefined && companyId === undefined) return [];
    return [...this.#hires.values()]
      .filter((e) => companyId === undefined || e.companyId === companyId)
      .map((e) => clone(e.data));
  }

  pendingHire(id: string): JustworksPendingHire {
    const entry = this.#hires.get(id);
    if (!entry) throw new JustworksEmulatorError(404, 'not_found', 'No such pending hire.');
    return clone(entry.data);
  }

  /** The company a pending hire belongs to. */
  companyOf(hireId: string): JustworksCompanyRecord {
    const entry = this.#hires.get(hireId);
    const company = [...this.#companies.values()].find((c) => c.id === entry?.companyId);
    if (!company) throw new JustworksEmulatorError(404, 'not_found', 'No such pending hire.');
    return clone(company);
  }

  /** The admin clicks "Invite New Member": the pending hire becomes `invited`. */
  invite(id: string): JustworksPendingHire {
    const entry = this.#hires.get(id);
    if (!entry) throw new JustworksEmulatorError(404, 'not_found', 'No such pending hire.');
    entry.data.status = 'invited';
    return clone(entry.data);
  }

  /** Every POST /v1/pending_hires received, refused ones included, oldest first. */
  requests(): JustworksRequestRecord[] {
    return clone(this.#requests);
  }

  // ----- public API (used by the HTTP routes)

  /** Handles and records one POST /v1/pending_hires; never throws. */
  receivePendingHire(input: {
    apiKey: string | null;
    idempotencyKey: string | null;
    contentType: string | null;
    rawBody: string;
    baseUrl: string;
  }): JustworksAnswer {
    let recorded: unknown = input.rawBody.slice(0, MAX_RECORDED_TEXT);
    try {
      recorded = JSON.parse(input.rawBody) as unknown;
    } catch {
      // not JSON: record the text
    }
    let answer: JustworksAnswer;
    let hireId: string | null = null;
    try {
      const result = this.#createPendingHire(input);
      hireId = result.hire.id;
      answer = { status: result.replayed ? 200 : 201, body: result.hire, replayed: result.replayed };
    } catch (err) {
      const e =
        err instanceof JustworksEmulatorError
          ? err
          : new JustworksEmulatorError(500, 'internal_error', err instanceof Error ? err.message : 'error');
      answer = { status: e.status, body: e.toBody(), replayed: false };
    }
    this.#requests.push({
      id: randomUUID(),
      at: now(),
      method: 'POST',
      path: '/v1/pending_hires',
      apiKey: input.apiKey,
      idempotencyKey: input.idempotencyKey,
      contentType: input.contentType,
      body: clone(recorded),
      status: answer.status,
      error: answer.status >= 400 ? ((answer.body as { error?: string }).error ?? null) : null,
      pendingHireId: hireId,
      replayed: answer.replayed,
    });
    return answer;
  }

  /** The pending hire if it belongs to the company behind `apiKey`; 404 otherwise. */
  companyPendingHire(apiKey: string, id: string): JustworksPendingHire {
    const company = this.#activeCompany(apiKey);
    const entry = this.#hires.get(id);
    if (!entry || entry.companyId !== company.id) {
      throw new JustworksEmulatorError(404, 'not_found', 'No such pending hire.');
    }
    return clone(entry.data);
  }

  listPendingHires(apiKey: string, filter: { externalId?: string; status?: string }): JustworksPendingHire[] {
    this.#activeCompany(apiKey);
    return this.pendingHires(apiKey).filter(
      (h) =>
        (filter.externalId === undefined || h.external_id === filter.externalId) &&
        (filter.status === undefined || h.status === filter.status),
    );
  }

  admins(apiKey: string, permission?: string): JustworksAdminRecord[] {
    const company = this.#activeCompany(apiKey);
    return clone(
      company.admins.filter((a) => permission === undefined || a.permissions.includes(permission)),
    );
  }

  // ----- internals

  #activeCompany(apiKey: string): JustworksCompanyRecord {
    const company = this.#companies.get(apiKey);
    if (!company || company.revoked) {
      throw new JustworksEmulatorError(401, 'unauthorized', 'Missing, unknown or revoked API key.');
    }
    return company;
  }

  #createPendingHire(input: {
    apiKey: string | null;
    idempotencyKey: string | null;
    contentType: string | null;
    rawBody: string;
    baseUrl: string;
  }): { hire: JustworksPendingHire; replayed: boolean } {
    const company = this.#activeCompany(input.apiKey ?? '');

    const mediaType = (input.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (mediaType.startsWith('multipart/')) {
      throw new JustworksEmulatorError(
        400,
        'files_not_accepted',
        'Justworks does not accept files or resumes.',
      );
    }
    if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) {
      throw new JustworksEmulatorError(415, 'unsupported_media_type', 'Send the body as application/json.');
    }

    let raw: unknown;
    try {
      raw = JSON.parse(input.rawBody) as unknown;
    } catch {
      throw new JustworksEmulatorError(400, 'invalid_json', 'The body is not valid JSON.');
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new JustworksEmulatorError(400, 'invalid_json', 'The body must be a JSON object.');
    }
    const fileFields = Object.keys(raw).filter((k) =>
      (JUSTWORKS_FILE_FIELDS as readonly string[]).includes(k.toLowerCase()),
    );
    if (fileFields.length > 0) {
      throw new JustworksEmulatorError(
        400,
        'files_not_accepted',
        `Justworks does not accept files or resumes (field ${fileFields.join(', ')}).`,
      );
    }

    const parsed = pendingHireBodySchema.safeParse(raw);
    if (!parsed.success) {
      throw new JustworksEmulatorError(
        400,
        'invalid_request',
        'The pending hire is invalid.',
        details(parsed.error),
      );
    }
    const body = parsed.data;

    const key = input.idempotencyKey;
    if (key === null || !IDEMPOTENCY_KEY.test(key)) {
      throw new JustworksEmulatorError(
        400,
        'idempotency_key_required',
        'Send an Idempotency-Key header of 1 to 255 visible ASCII characters.',
      );
    }

    const earnings = body.compensation?.type_of_earnings;
    if (earnings !== undefined && !(JUSTWORKS_TYPES_OF_EARNINGS as readonly string[]).includes(earnings)) {
      throw new JustworksEmulatorError(
        422,
        'invalid_type_of_earnings',
        `Type of earnings must be "hour (wage)" or "year (salary)", not "${earnings}".`,
      );
    }

    const keyRef = `${company.id}\n${key}`;
    const externalRef = `${company.id}\n${body.external_id}`;
    const existingId = this.#byIdempotencyKey.get(keyRef) ?? this.#byExternalId.get(externalRef);
    const existing = existingId === undefined ? undefined : this.#hires.get(existingId);
    if (existing) {
      this.#byIdempotencyKey.set(keyRef, existing.data.id);
      return { hire: clone(existing.data), replayed: true };
    }

    const id = randomUUID();
    const base = (this.publicUrl ?? input.baseUrl).replace(/\/+$/, '');
    const hire: JustworksPendingHire = {
      id,
      status: 'pending',
      review_url: `${base}/manage/employees/pending/${id}`,
      created_at: now(),
      ...body,
    };
    this.#hires.set(id, { companyId: company.id, data: hire });
    this.#byIdempotencyKey.set(keyRef, id);
    this.#byExternalId.set(externalRef, id);
    return { hire: clone(hire), replayed: false };
  }
}

// ---------------------------------------------------------------------------------------------------
// HTML (Manage > Employees > Pending hire)

function reviewPage(hire: JustworksPendingHire, companyName: string): string {
  const row = (label: string, value: string | number | null): string =>
    `<tr><th>${escapeHtml(label)}</th><td>${value === null ? '—' : escapeHtml(String(value))}</td></tr>`;
  const name = `${hire.first_name} ${hire.last_name}`;
  const action =
    hire.status === 'pending'
      ? `<form method="post" action="/manage/employees/pending/${encodeURIComponent(hire.id)}/invite">` +
        '<button type="submit">Invite New Member</button></form>'
      : '<p>Invited.</p>';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Pending hire: ${escapeHtml(name)} · Justworks (sandbox)</title></head>
<body>
<nav>Manage &gt; Employees &gt; Pending hire</nav>
<h1>Review &amp; Invite: ${escapeHtml(name)}</h1>
<p>${escapeHtml(companyName)} · status: <strong>${escapeHtml(hire.status)}</strong></p>
<table>
${row('Member type', hire.member_type)}
${row('First name', hire.first_name)}
${row('Last name', hire.last_name)}
${row('Home email', hire.home_email)}
${row('Title', hire.title)}
${row('Department', hire.department)}
${row('Office', hire.office)}
${row('Manager', hire.manager)}
${row('Start date', hire.start_date)}
${row('Compensation', hire.compensation && `${hire.compensation.amount} ${hire.compensation.currency}`)}
${row('Type of earnings', hire.compensation?.type_of_earnings ?? null)}
${row('Exemption status', hire.exemption_status)}
${row('Lever opportunity', hire.external_id)}
</table>
${action}
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------------
// HTTP

function queryString(req: Request, name: string): string | undefined {
  const value: unknown = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

export function createJustworksEmulatorApp(emulator: JustworksEmulator): express.Express {
  const app = emulatorApp();

  // ----- public API

  const api = express.Router();
  // Raw bytes, so every POST is recorded as received (even when it is not JSON).
  api.post('/pending_hires', express.raw({ type: () => true, limit: '1mb' }), (req, res) => {
    const answer = emulator.receivePendingHire({
      apiKey: bearerOf(req),
      idempotencyKey: req.get('idempotency-key')?.trim() || null,
      contentType: req.get('content-type') ?? null,
      rawBody: Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '',
      baseUrl: baseUrlOf(req),
    });
    if (answer.replayed) res.set('Idempotent-Replayed', 'true');
    res.status(answer.status).json(answer.body);
  });
  api.use((req: Request, _res: Response, next: NextFunction) => {
    if (!emulator.authenticate(bearerOf(req))) {
      throw new JustworksEmulatorError(401, 'unauthorized', 'Missing, unknown or revoked API key.');
    }
    next();
  });
  const key = (req: Request): string => bearerOf(req) ?? '';
  api.get('/pending_hires', (req, res) => {
    const data = emulator.listPendingHires(key(req), {
      externalId: queryString(req, 'external_id'),
      status: queryString(req, 'status'),
    });
    res.json({ data });
  });
  api.get('/pending_hires/:id', (req, res) => {
    res.json(emulator.companyPendingHire(key(req), param(req, 'id')));
  });
  api.get('/company', (req, res) => {
    const company = emulator.authenticate(key(req));
    res.json({ id: company?.id ?? '', name: company?.name ?? '' });
  });
  api.get('/admins', (req, res) => {
    res.json({ data: emulator.admins(key(req), queryString(req, 'permission')) });
  });
  app.use('/v1', api);

  // ----- the review page an admin opens from the notification e-mail (no login in the sandbox)

  app.get('/manage/employees/pending/:id', (req, res) => {
    const id = param(req, 'id');
    let hire: JustworksPendingHire;
    let company: JustworksCompanyRecord;
    try {
      hire = emulator.pendingHire(id);
      company = emulator.companyOf(id);
    } catch {
      res
        .status(404)
        .type('html')
        .send('<!doctype html><title>Not found</title><h1>No such pending hire</h1>');
      return;
    }
    res.status(200).type('html').send(reviewPage(hire, company.name));
  });
  app.post('/manage/employees/pending/:id/invite', (req, res) => {
    const hire = emulator.invite(param(req, 'id'));
    res.redirect(303, `/manage/employees/pending/${encodeURIComponent(hire.id)}`);
  });

  // ----- sandbox control (no auth)

  const sandbox = express.Router();
  sandbox.use(express.json({ limit: '1mb' }));
  sandbox.post('/companies', (req, res) => {
    res.status(201).json(emulator.addCompany(req.body as AddCompanyInput));
  });
  sandbox.put('/companies/:apiKey/admins', (req, res) => {
    const body = z.object({ admins: z.array(z.unknown()) }).safeParse(req.body);
    if (!body.success) {
      throw new JustworksEmulatorError(400, 'invalid_request', 'send { admins: [...] }', details(body.error));
    }
    res.json({ admins: emulator.setAdmins(param(req, 'apiKey'), body.data.admins as AdminInput[]) });
  });
  sandbox.delete('/companies/:apiKey', (req, res) => {
    emulator.revokeApiKey(param(req, 'apiKey'));
    res.status(204).end();
  });
  sandbox.get('/pending_hires', (req, res) => {
    res.json(emulator.pendingHires(queryString(req, 'apiKey')));
  });
  sandbox.post('/pending_hires/:id/invite', (req, res) => {
    res.json(emulator.invite(param(req, 'id')));
  });
  sandbox.get('/requests', (_req, res) => {
    res.json(emulator.requests());
  });
  sandbox.use('/link-base', linkBaseRoutes(emulator));
  app.use('/_sandbox', sandbox);

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', message: 'Not found.' });
  });

  app.use(
    errorHandler({
      own: (err, res) => {
        if (!(err instanceof JustworksEmulatorError)) return false;
        res.status(err.status).json(err.toBody());
        return true;
      },
      parseFailed: (res) =>
        res.status(400).json({ error: 'invalid_json', message: 'The body is not valid JSON.' }),
      tooLarge: (res) =>
        res.status(413).json({ error: 'payload_too_large', message: 'The body is larger than 1 MB.' }),
      clientError: (res, status, message) => res.status(status).json({ error: 'invalid_request', message }),
      internal: (res, message) =>
        res.status(500).json({ error: 'internal_error', message: message ?? 'Internal server error.' }),
    }),
  );
  return app;
}

/**
 * Listening: review pages live under `url`; `apiBaseUrl` (= url) is the base URL of the service's Justworks client,
 * API paths start with /v1.
 */
export type RunningJustworksEmulator = Running<JustworksEmulator>;

export async function startJustworksEmulator(
  opts: { port?: number } = {},
): Promise<RunningJustworksEmulator> {
  return startEmulator(new JustworksEmulator(), createJustworksEmulatorApp, opts.port ?? 0);
}
