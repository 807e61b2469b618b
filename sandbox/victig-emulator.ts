import { randomUUID } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { hexSignatureMatches, hmacSha256Hex } from '../src/integrations/signature';
import {
  baseUrlOf,
  bodyParser,
  canonicalJson,
  clone,
  codedErrorRoutes,
  definitionListPage,
  emulatorApp,
  escapeHtml,
  now,
  param,
  startEmulator,
} from './kit';
import type { Running } from './kit';
import { CallbackEmulator, callbackControlRoutes, type CallbackEmulatorOptions } from './vendor-emulator';
import type { DeliveryAttempt, DeliveryRecord } from './webhook-sender';

/**
 * Emulator of VICTIG's order API as defined in docs/vendors/victig.md (VICTIG publishes no API, so that
 * document is the contract): HTTP Basic accounts with products and sub-clients, idempotent order creation
 * that sends the applicant a QuickApp or refuses the order (422), order progress driven by hand
 * (`advance`/`setStatus`) or by a timer, signed status callbacks with retries, signed report pages, and
 * injected failures (`failNext`). A real HTTP server; control endpoints live under `/_sandbox/*`.
 */

export const VICTIG_ORDER_STATUSES = ['PENDING', 'IN_PROGRESS', 'COMPLETE', 'CANCELLED'] as const;
export type VictigOrderStatus = (typeof VICTIG_ORDER_STATUSES)[number];

export const VICTIG_REFUSAL_CODES = [
  'missing_name',
  'missing_email',
  'invalid_email',
  'unknown_product',
  'unknown_sub_client',
] as const;
export type VictigRefusalCode = (typeof VICTIG_REFUSAL_CODES)[number];

export interface VictigProduct {
  name: string;
}

export interface VictigSubClient {
  code: string;
  name: string;
  city: string;
}

export interface VictigResults {
  summary: string;
  flagged: boolean;
  decision: string;
  reportUrl: string;
}

/** An order as `GET /api/v1/orders/:id` returns it. */
export interface VictigOrderView {
  orderId: string;
  externalId: string;
  status: VictigOrderStatus;
  results: VictigResults | null;
}

export interface VictigEmulatorOptions extends CallbackEmulatorOptions {
  port?: number;
}

export interface AddVictigAccountInput {
  accountId: string;
  apiKey: string;
  callbackUrl?: string;
  callbackSecret?: string;
  products?: VictigProduct[];
  subClients?: VictigSubClient[];
}

export interface VictigResultsInput {
  flagged?: boolean;
  decision?: string;
  summary?: string;
}

const required =
  (invalid: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : invalid;

const nullableText = z.string({ error: 'must be a string or null' }).max(500).nullable();
/** Name and email parts VICTIG refuses with 422 (not 400) when blank, so null/absent are accepted here. */
const refusableText = z.string({ error: 'must be a string or null' }).max(500).nullable().optional();

export const victigOrderRequestSchema = z.object({
  product: z
    .string({ error: required('must be a string') })
    .min(1, { error: 'must not be empty' })
    .max(200),
  subClientCode: nullableText,
  reference: nullableText,
  applicant: z.object(
    {
      firstName: refusableText,
      lastName: refusableText,
      email: refusableText,
      phone: nullableText,
    },
    { error: required('must be an object') },
  ),
  position: z.object(
    { title: nullableText, department: nullableText, location: nullableText },
    { error: required('must be an object') },
  ),
  tags: z.array(z.string().max(500), { error: required('must be an array of strings') }).max(200),
  externalId: z
    .string({ error: required('must be a string') })
    .min(1, { error: 'must not be empty' })
    .max(200),
});
export type VictigOrderRequestBody = z.infer<typeof victigOrderRequestSchema>;

const resultsInputSchema = z.object({
  flagged: z.boolean().optional(),
  decision: z.string().min(1).max(200).optional(),
  summary: z.string().max(5000).optional(),
});

const productSchema = z.object({ name: z.string().min(1).max(200) });
const subClientSchema = z.object({
  code: z.string().min(1).max(100),
  name: z.string().min(1).max(200),
  city: z.string().max(200),
});

const addAccountSchema = z
  .object({
    accountId: z
      .string({ error: required('must be a string') })
      .min(1)
      .refine((s) => !s.includes(':'), { error: 'must not contain ":"' }),
    apiKey: z.string({ error: required('must be a string') }).min(1),
    callbackUrl: z.url().optional(),
    callbackSecret: z.string().min(1).optional(),
    products: z
      .array(productSchema)
      .min(1)
      .refine((p) => new Set(p.map((x) => x.name)).size === p.length, {
        error: 'product names must be unique',
      })
      .optional(),
    subClients: z
      .array(subClientSchema)
      .refine((s) => new Set(s.map((x) => x.code)).size === s.length, {
        error: 'sub-client codes must be unique',
      })
      .optional(),
  })
  .refine((a) => (a.callbackUrl === undefined) === (a.callbackSecret === undefined), {
    error: 'callbackUrl and callbackSecret go together',
  });

const setCallbackSchema = z.object({
  url: z.url({ error: required('must be a URL') }),
  secret: z.string({ error: required('must be a string') }).min(1),
});
const setStatusSchema = z.object({
  status: z.enum(VICTIG_ORDER_STATUSES, {
    error: required('must be one of ' + VICTIG_ORDER_STATUSES.join(', ')),
  }),
  results: resultsInputSchema.optional(),
});
const advanceSchema = z.object({ results: resultsInputSchema.optional() });
const failNextSchema = z.object({
  count: z.int().min(0).max(1000),
  status: z.int().min(400).max(599).optional(),
});

export interface VictigOrderRecord {
  orderId: string;
  accountId: string;
  externalId: string;
  idempotencyKey: string;
  status: VictigOrderStatus;
  results: VictigResults | null;
  createdAt: string;
  updatedAt: string;
  /** The request body as VICTIG stored it (parsed). */
  request: VictigOrderRequestBody;
}

export type VictigOrderOutcome = 'created' | 'replayed' | 'refused' | 'conflict' | 'invalid';

/** Every `POST /api/v1/orders` that got past authentication, whatever its outcome. */
export interface VictigOrderRequestRecord {
  id: string;
  at: string;
  accountId: string;
  idempotencyKey: string | null;
  body: unknown;
  outcome: VictigOrderOutcome;
  orderId: string | null;
  errorCode: string | null;
}

export interface VictigQuickAppRecord {
  orderId: string;
  accountId: string;
  email: string;
  /** Also sent by SMS when the applicant has a phone number. */
  phone: string | null;
  at: string;
}

export interface VictigCallbackEvent {
  eventId: string;
  orderId: string;
  status: VictigOrderStatus;
  occurredAt: string;
}

export type VictigDeliveryAttempt = DeliveryAttempt;

export interface VictigDelivery extends DeliveryRecord {
  orderId: string;
  event: VictigCallbackEvent;
  /** The X-Victig-Signature header value (hex). */
  signature: string;
}

/** An error answered as `{ error: { code, description } }` with its HTTP status. */
export class VictigEmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'VictigEmulatorError';
  }
}

interface Account {
  accountId: string;
  apiKey: string;
  callbackUrl: string | null;
  callbackSecret: string | null;
  products: VictigProduct[];
  subClients: VictigSubClient[];
  revoked: boolean;
}

const DEFAULT_PRODUCTS: VictigProduct[] = [
  { name: 'Criminal Package 1' },
  { name: 'Criminal Package 2' },
  { name: 'Employment Package' },
];
const DEFAULT_SUB_CLIENTS: VictigSubClient[] = [
  { code: 'NYC01', name: 'Acme New York', city: 'New York' },
  { code: 'SF02', name: 'Acme San Francisco', city: 'San Francisco' },
];
const DEFAULT_RESULTS = { flagged: false, decision: 'Eligible', summary: 'No records found.' };

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const FAILURE_CODES: Record<number, string> = {
  429: 'rate_limited',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

/** JSON with object keys sorted, so two bodies that differ only in key order compare equal. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')} ${i.message}` : i.message))
    .join('; ');
}

const parseBody = bodyParser(
  (error) => new VictigEmulatorError(400, 'invalid_request', describeIssues(error)),
);

function blank(value: string | null | undefined): boolean {
  return value === null || value === undefined || value.trim() === '';
}

// ---------------------------------------------------------------------------------------------------
// The emulator

/**
 * Faults (`FaultyEmulator`): a dropped callback is never sent nor retried; only polling sees that change.
 * `publicUrl` is what the report links start with.
 */
export class VictigEmulator extends CallbackEmulator<VictigDelivery> {
  #accounts = new Map<string, Account>();
  #orders = new Map<string, VictigOrderRecord>();
  #requests: VictigOrderRequestRecord[] = [];
  #quickApps: VictigQuickAppRecord[] = [];
  #idempotency = new Map<string, { fingerprint: string; orderId: string }>();
  #failures: { remaining: number; status: number } = { remaining: 0, status: 503 };
  readonly #signingSecret = randomUUID();

  constructor(opts: VictigEmulatorOptions = {}) {
    super(opts, {
      signatureHeader: 'X-Victig-Signature',
      userAgent: 'VICTIG-Callbacks/1.0',
      redirect: 'manual',
    });
  }

  // ----- accounts

  /** Adds (or replaces) an account; returns its catalog. */
  addAccount(input: AddVictigAccountInput): { products: VictigProduct[]; subClients: VictigSubClient[] } {
    const parsed = addAccountSchema.safeParse(input);
    if (!parsed.success) {
      throw new VictigEmulatorError(
        400,
        'invalid_request',
        `invalid account: ${describeIssues(parsed.error)}`,
      );
    }
    const a = parsed.data;
    const account: Account = {
      accountId: a.accountId,
      apiKey: a.apiKey,
      callbackUrl: a.callbackUrl ?? null,
      callbackSecret: a.callbackSecret ?? null,
      products: clone(a.products ?? DEFAULT_PRODUCTS),
      subClients: clone(a.subClients ?? DEFAULT_SUB_CLIENTS),
      revoked: false,
    };
    this.#accounts.set(account.accountId, account);
    return { products: clone(account.products), subClients: clone(account.subClients) };
  }

  setCallback(accountId: string, callback: { url: string; secret: string }): void {
    const account = this.#account(accountId);
    const parsed = setCallbackSchema.safeParse(callback);
    if (!parsed.success) {
      throw new VictigEmulatorError(
        400,
        'invalid_request',
        `invalid callback: ${describeIssues(parsed.error)}`,
      );
    }
    account.callbackUrl = parsed.data.url;
    account.callbackSecret = parsed.data.secret;
  }

  /** The key stops working (401); the account's orders and callbacks go on. */
  revokeApiKey(accountId: string): void {
    this.#account(accountId).revoked = true;
  }

  /** The account id behind a valid `Authorization: Basic` value, or null. */
  authenticate(authorization: string | null | undefined): string | null {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) return null;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return null;
    const account = this.#accounts.get(decoded.slice(0, colon));
    if (!account || account.revoked) return null;
    const given = decoded.slice(colon + 1);
    const ok = hexSignatureMatches(
      hmacSha256Hex(this.#signingSecret, account.apiKey),
      hmacSha256Hex(this.#signingSecret, given),
    );
    return ok ? account.accountId : null;
  }

  /**
   * The next `count` calls to `/api/v1/*` answer `status` (default 503) with an error body, before
   * authentication and without side effects. `failNext(0)` clears it.
   */
  failNext(count: number, status = 503): void {
    const parsed = failNextSchema.safeParse({ count, status });
    if (!parsed.success) throw new VictigEmulatorError(400, 'invalid_request', describeIssues(parsed.error));
    this.#failures = { remaining: parsed.data.count, status: parsed.data.status ?? 503 };
  }

  /** Consumes one injected failure, if any: the status and body to answer with. */
  takeFailure(): { status: number; code: string; description: string } | null {
    if (this.#failures.remaining <= 0) return null;
    this.#failures.remaining -= 1;
    const status = this.#failures.status;
    return { status, code: FAILURE_CODES[status] ?? 'error', description: `Injected failure (${status}).` };
  }

  // ----- inspection

  order(orderId: string): VictigOrderRecord {
    return clone(this.#order(orderId));
  }

  orders(): VictigOrderRecord[] {
    return [...this.#orders.values()].map(clone);
  }

  orderRequests(): VictigOrderRequestRecord[] {
    return clone(this.#requests);
  }

  quickApps(): VictigQuickAppRecord[] {
    return clone(this.#quickApps);
  }

  // ----- progress

  /**
   * One step: PENDING → IN_PROGRESS (the applicant completed the QuickApp) → COMPLETE with `results`
   * (defaults: not flagged, decision 'Eligible'). Resolves after the first attempt of the callback.
   * 409 from COMPLETE or CANCELLED.
   */
  override async advance(orderId: string, results?: VictigResultsInput): Promise<VictigOrderRecord> {
    const order = this.#order(orderId);
    const next = this.#nextStatus(order.status);
    if (next === null) {
      throw new VictigEmulatorError(
        409,
        'conflict',
        `order ${orderId} is ${order.status}: nothing to advance`,
      );
    }
    await this.#change(order, next, results);
    this.scheduleAuto(orderId);
    return clone(order);
  }

  /** Sets any status (COMPLETE with `results`); no callback when it does not change. Resolves like advance(). */
  async setStatus(
    orderId: string,
    status: VictigOrderStatus,
    results?: VictigResultsInput,
  ): Promise<VictigOrderRecord> {
    const parsed = setStatusSchema.safeParse({ status, results });
    if (!parsed.success) throw new VictigEmulatorError(400, 'invalid_request', describeIssues(parsed.error));
    const order = this.#order(orderId);
    await this.#change(order, parsed.data.status, parsed.data.results);
    this.scheduleAuto(orderId);
    return clone(order);
  }

  protected override deliveryNotFound(deliveryId: string): Error {
    return new VictigEmulatorError(404, 'not_found', `no delivery ${deliveryId}`);
  }

  // ----- public API operations (account-scoped; used by the HTTP routes)

  catalog(accountId: string): { products: VictigProduct[]; subClients: VictigSubClient[] } {
    const account = this.#activeAccount(accountId);
    return { products: clone(account.products), subClients: clone(account.subClients) };
  }

  /**
   * Creates an order (sending the QuickApp) or replays the one created with the same Idempotency-Key.
   * Throws VictigEmulatorError: 400 invalid body or key, 409 key reused with another body, 422 refusal.
   */
  createOrder(
    accountId: string,
    rawBody: unknown,
    idempotencyKey: string | null,
  ): { order: VictigOrderRecord; replayed: boolean } {
    const account = this.#activeAccount(accountId);
    const record = (
      outcome: VictigOrderOutcome,
      orderId: string | null,
      errorCode: string | null = null,
    ): void => {
      this.#requests.push({
        id: randomUUID(),
        at: now(),
        accountId,
        idempotencyKey,
        body: clone(rawBody),
        outcome,
        orderId,
        errorCode,
      });
    };
    const fail = (outcome: VictigOrderOutcome, error: VictigEmulatorError): never => {
      record(outcome, null, error.code);
      throw error;
    };

    if (idempotencyKey === null || idempotencyKey.length > 255) {
      return fail(
        'invalid',
        new VictigEmulatorError(
          400,
          'invalid_request',
          'The Idempotency-Key header is required (1 to 255 characters).',
        ),
      );
    }
    const parsed = victigOrderRequestSchema.safeParse(rawBody ?? {});
    if (!parsed.success) {
      return fail('invalid', new VictigEmulatorError(400, 'invalid_request', describeIssues(parsed.error)));
    }
    const body = parsed.data;

    const idemKey = `${accountId}\n${idempotencyKey}`;
    const fingerprint = canonicalJson(rawBody);
    const previous = this.#idempotency.get(idemKey);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        return fail(
          'conflict',
          new VictigEmulatorError(
            409,
            'idempotency_conflict',
            'The Idempotency-Key has already been used with a different request body.',
          ),
        );
      }
      record('replayed', previous.orderId);
      return { order: this.order(previous.orderId), replayed: true };
    }

    const refusal = this.#refusal(account, body);
    if (refusal) return fail('refused', refusal);

    const at = now();
    const order: VictigOrderRecord = {
      orderId: randomUUID(),
      accountId,
      externalId: body.externalId,
      idempotencyKey,
      status: 'PENDING',
      results: null,
      createdAt: at,
      updatedAt: at,
      request: clone(body),
    };
    this.#orders.set(order.orderId, order);
    this.#idempotency.set(idemKey, { fingerprint, orderId: order.orderId });
    record('created', order.orderId);
    this.#quickApps.push({
      orderId: order.orderId,
      accountId,
      email: (body.applicant.email ?? '').trim(),
      phone: blank(body.applicant.phone) ? null : (body.applicant.phone ?? null),
      at,
    });
    this.scheduleAuto(order.orderId);
    return { order: clone(order), replayed: false };
  }

  /** The order as the public API shows it, if it belongs to the account; 404 otherwise. */
  accountOrder(accountId: string, orderId: string, baseUrl: string): VictigOrderView {
    this.#activeAccount(accountId);
    const order = this.#orders.get(orderId);
    if (!order || order.accountId !== accountId) {
      throw new VictigEmulatorError(404, 'not_found', 'Order not found.');
    }
    return this.view(order.orderId, baseUrl);
  }

  /** The public view of an order; `baseUrl` is used for the report link when `publicUrl` is not set. */
  view(orderId: string, baseUrl = 'http://localhost'): VictigOrderView {
    const order = this.#order(orderId);
    return {
      orderId: order.orderId,
      externalId: order.externalId,
      status: order.status,
      results: order.results ? { ...order.results, reportUrl: this.reportUrl(order.orderId, baseUrl) } : null,
    };
  }

  /** The absolute, signed link to an order's report page. It does not expire. */
  reportUrl(orderId: string, baseUrl = 'http://localhost'): string {
    const base = (this.publicUrl ?? baseUrl).replace(/\/+$/, '');
    return `${base}/reports/${encodeURIComponent(orderId)}?token=${this.#reportToken(orderId)}`;
  }

  /** The report page; 403 for a missing or wrong token, 404 when the order has no results. */
  reportHtml(orderId: string, token: string | undefined): string {
    if (!hexSignatureMatches(this.#reportToken(orderId), token)) {
      throw new VictigEmulatorError(403, 'forbidden', 'The report link is invalid.');
    }
    const order = this.#orders.get(orderId);
    if (!order?.results) throw new VictigEmulatorError(404, 'not_found', 'No report for this order.');
    const { applicant } = order.request;
    const rows: [string, string][] = [
      ['Order', order.orderId],
      ['Applicant', [applicant.firstName, applicant.lastName].filter((s) => !blank(s)).join(' ')],
      ['Product', order.request.product],
      ['Decision', order.results.decision],
      ['Flagged', order.results.flagged ? 'Yes' : 'No'],
      ['Summary', order.results.summary],
    ];
    return definitionListPage('VICTIG background check report', rows);
  }

  // ----- internals

  #reportToken(orderId: string): string {
    return hmacSha256Hex(this.#signingSecret, `report:${orderId}`);
  }

  #account(accountId: string): Account {
    const account = this.#accounts.get(accountId);
    if (!account) throw new VictigEmulatorError(404, 'not_found', `no account ${accountId}`);
    return account;
  }

  #activeAccount(accountId: string): Account {
    const account = this.#accounts.get(accountId);
    if (!account || account.revoked) {
      throw new VictigEmulatorError(401, 'unauthorized', 'Invalid account id or API key.');
    }
    return account;
  }

  #order(orderId: string): VictigOrderRecord {
    const order = this.#orders.get(orderId);
    if (!order) throw new VictigEmulatorError(404, 'not_found', `no order ${orderId}`);
    return order;
  }

  /** The first reason VICTIG refuses this order, checked in the order of the contract. */
  #refusal(account: Account, body: VictigOrderRequestBody): VictigEmulatorError | null {
    const { applicant } = body;
    const refuse = (code: VictigRefusalCode, description: string) =>
      new VictigEmulatorError(422, code, description);
    if (blank(applicant.firstName) && blank(applicant.lastName)) {
      return refuse('missing_name', 'The applicant has no name.');
    }
    if (blank(applicant.email)) return refuse('missing_email', 'The applicant has no email address.');
    const email = (applicant.email ?? '').trim();
    if (!EMAIL_PATTERN.test(email)) {
      return refuse('invalid_email', `The applicant's email address "${email}" is not valid.`);
    }
    if (!account.products.some((p) => p.name === body.product)) {
      return refuse('unknown_product', `The product "${body.product}" does not exist on this account.`);
    }
    if (body.subClientCode !== null && !account.subClients.some((s) => s.code === body.subClientCode)) {
      return refuse(
        'unknown_sub_client',
        `The sub-client "${body.subClientCode}" does not exist on this account.`,
      );
    }
    return null;
  }

  #nextStatus(status: VictigOrderStatus): VictigOrderStatus | null {
    switch (status) {
      case 'PENDING':
        return 'IN_PROGRESS';
      case 'IN_PROGRESS':
        return 'COMPLETE';
      default:
        return null;
    }
  }

  /** Applies a status, then sends its callback. Resolves after the first delivery attempt. */
  async #change(
    order: VictigOrderRecord,
    status: VictigOrderStatus,
    results?: VictigResultsInput,
  ): Promise<void> {
    const before = order.status;
    order.status = status;
    if (status === 'COMPLETE') {
      const input = results ?? {};
      order.results = {
        summary: input.summary ?? DEFAULT_RESULTS.summary,
        flagged: input.flagged ?? DEFAULT_RESULTS.flagged,
        decision: input.decision ?? DEFAULT_RESULTS.decision,
        reportUrl: this.reportUrl(order.orderId),
      };
    } else {
      order.results = null;
    }
    if (before === status) return;
    order.updatedAt = now();
    const account = this.#accounts.get(order.accountId);
    if (!account?.callbackUrl || !account.callbackSecret) return;
    const event: VictigCallbackEvent = {
      eventId: randomUUID(),
      orderId: order.orderId,
      status,
      occurredAt: order.updatedAt,
    };
    const body = JSON.stringify(event);
    await this.webhooks.send({
      id: randomUUID(),
      orderId: order.orderId,
      url: account.callbackUrl,
      event,
      body,
      signature: hmacSha256Hex(account.callbackSecret, body),
      attempts: [],
      status: 'pending',
    });
  }

  protected override hasNextStep(orderId: string): boolean {
    const order = this.#orders.get(orderId);
    return order !== undefined && this.#nextStatus(order.status) !== null;
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP

function sendError(res: Response, status: number, code: string, description: string): void {
  res.status(status).json({ error: { code, description } });
}

export function createVictigEmulatorApp(emulator: VictigEmulator): express.Express {
  const app = emulatorApp();

  // ----- public API

  const api = express.Router();
  api.use((req: Request, res: Response, next: NextFunction) => {
    const failure = emulator.takeFailure();
    if (failure) {
      sendError(res, failure.status, failure.code, failure.description);
      return;
    }
    const accountId = emulator.authenticate(req.get('authorization'));
    if (accountId === null) {
      res.set('WWW-Authenticate', 'Basic realm="VICTIG"');
      sendError(res, 401, 'unauthorized', 'Invalid account id or API key.');
      return;
    }
    res.locals.accountId = accountId;
    next();
  });
  api.use(express.json({ limit: '1mb' }));
  api.use(
    emulator.faultInjector.middleware((status) => ({
      error: { code: FAILURE_CODES[status] ?? 'error', description: `Injected fault (${status}).` },
    })),
  );
  const accountOf = (res: Response): string => String(res.locals.accountId);

  api.get('/catalog', (_req, res) => {
    res.json(emulator.catalog(accountOf(res)));
  });
  api.post('/orders', (req, res) => {
    const key = req.get('idempotency-key')?.trim() || null;
    const { order, replayed } = emulator.createOrder(accountOf(res), req.body as unknown, key);
    res
      .status(replayed ? 200 : 201)
      .json({ orderId: order.orderId, status: order.status, quickAppSent: true });
  });
  api.get('/orders/:id', (req, res) => {
    res.json(emulator.accountOrder(accountOf(res), param(req, 'id'), baseUrlOf(req)));
  });
  app.use('/api/v1', api);

  // ----- report pages (signed link, no credentials)

  app.get('/reports/:id', (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    try {
      res
        .status(200)
        .type('text/html')
        .send(emulator.reportHtml(param(req, 'id'), token));
    } catch (err) {
      if (!(err instanceof VictigEmulatorError)) throw err;
      res
        .status(err.status)
        .type('text/html')
        .send(`<!doctype html><p>${escapeHtml(err.message)}</p>`);
    }
  });

  // ----- sandbox control (no auth)

  const sandbox = express.Router();
  sandbox.use(express.json({ limit: '1mb' }));
  sandbox.post('/accounts', (req, res) => {
    const body = parseBody(addAccountSchema, req.body as unknown);
    res.status(201).json(emulator.addAccount(body));
  });
  sandbox.post('/accounts/:accountId/callback', (req, res) => {
    const body = parseBody(setCallbackSchema, req.body as unknown);
    emulator.setCallback(param(req, 'accountId'), body);
    res.json({ ok: true });
  });
  sandbox.delete('/accounts/:accountId', (req, res) => {
    emulator.revokeApiKey(param(req, 'accountId'));
    res.status(204).end();
  });
  sandbox.get('/orders', (_req, res) => {
    res.json(emulator.orders());
  });
  sandbox.get('/orders/:id', (req, res) => {
    res.json(emulator.order(param(req, 'id')));
  });
  sandbox.post('/orders/:id/advance', async (req, res) => {
    const body = parseBody(advanceSchema, req.body as unknown);
    res.json(await emulator.advance(param(req, 'id'), body.results));
  });
  sandbox.post('/orders/:id/status', async (req, res) => {
    const body = parseBody(setStatusSchema, req.body as unknown);
    res.json(await emulator.setStatus(param(req, 'id'), body.status, body.results));
  });
  sandbox.get('/order-requests', (_req, res) => {
    res.json(emulator.orderRequests());
  });
  sandbox.get('/quick-apps', (_req, res) => {
    res.json(emulator.quickApps());
  });
  sandbox.post('/fail-next', (req, res) => {
    const body = parseBody(failNextSchema, req.body as unknown);
    emulator.failNext(body.count, body.status);
    res.json({ ok: true });
  });
  sandbox.use(callbackControlRoutes(emulator));
  app.use('/_sandbox', sandbox);

  codedErrorRoutes(app, sendError, (err) => (err instanceof VictigEmulatorError ? err : null), {
    notFound: 'not_found',
    invalid: 'invalid_request',
    tooLarge: { code: 'invalid_request', message: 'The body is too large.' },
    internal: 'internal_error',
  });
  return app;
}

/** Listening: `apiBaseUrl` (= url) is the base URL of the VICTIG client; API paths start with /api/v1. */
export type RunningVictigEmulator = Running<VictigEmulator>;

export async function startVictigEmulator(opts: VictigEmulatorOptions = {}): Promise<RunningVictigEmulator> {
  return startEmulator(new VictigEmulator(opts), createVictigEmulatorApp, opts.port ?? 0);
}
